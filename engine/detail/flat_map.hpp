// An open-addressing hash map from 64-bit hashes (already well mixed: XXH3 term hashes) to small
// values: one probe sequence over two flat arrays, no node per entry. std::unordered_map spends most of
// the feed's replay in allocation and pointer chasing; this does not.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace storyline::detail {

template <typename V>
class FlatHashMap {
 public:
  /// The value of key, or nullptr.
  const V* find(std::uint64_t key) const {
    if (key == 0) return has_zero_ ? &zero_value_ : nullptr;
    if (keys_.empty()) return nullptr;
    for (std::size_t i = slot(key);; i = (i + 1) & mask_) {
      if (keys_[i] == key) return &values_[i];
      if (keys_[i] == 0) return nullptr;
    }
  }

  /// The value of key, default-constructed when new.
  V& operator[](std::uint64_t key) {
    if (key == 0) {
      if (!has_zero_) ++size_;
      has_zero_ = true;
      return zero_value_;
    }
    if ((used_ + 1) * 10 > keys_.size() * 7) grow();
    for (std::size_t i = slot(key);; i = (i + 1) & mask_) {
      if (keys_[i] == key) return values_[i];
      if (keys_[i] == 0) {
        keys_[i] = key;
        ++used_;
        ++size_;
        return values_[i];
      }
    }
  }

  std::size_t size() const { return size_; }

  /// Room for n entries without growing.
  void reserve(std::size_t n) {
    while ((n + 1) * 10 > keys_.size() * 7) grow();
  }

  /// Starts fetching the slot of key into the cache: for loops over many keys of a large map, a few
  /// keys ahead of the one used.
  void prefetch(std::uint64_t key) const {
    if (keys_.empty()) return;
    const std::size_t i = slot(key);
    __builtin_prefetch(&keys_[i]);
    __builtin_prefetch(&values_[i]);
  }

  /// Removes every entry and keeps the capacity (for a map refilled per document).
  void clear() {
    if (keys_.size() > 65536) {  // after one huge document, do not pay its size for every next one
      keys_ = std::vector<std::uint64_t>();
      values_ = std::vector<V>();
      mask_ = 0;
      shift_ = 64;
    } else if (used_ > 0) {
      std::fill(keys_.begin(), keys_.end(), 0);
      std::fill(values_.begin(), values_.end(), V{});
    }
    used_ = size_ = 0;
    has_zero_ = false;
    zero_value_ = V{};
  }

  /// Calls f(key, value) for every entry, in slot order.
  template <typename F>
  void for_each(F&& f) const {
    if (has_zero_) f(std::uint64_t{0}, zero_value_);
    for (std::size_t i = 0; i < keys_.size(); ++i) {
      if (keys_[i] != 0) f(keys_[i], values_[i]);
    }
  }

 private:
  std::size_t slot(std::uint64_t key) const {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }

  void grow() {
    const std::size_t capacity = keys_.empty() ? 1024 : keys_.size() * 2;
    std::vector<std::uint64_t> old_keys(capacity, 0);
    std::vector<V> old_values(capacity);
    old_keys.swap(keys_);
    old_values.swap(values_);
    mask_ = capacity - 1;
    shift_ = 64;
    for (std::size_t c = capacity; c > 1; c >>= 1) --shift_;
    for (std::size_t i = 0; i < old_keys.size(); ++i) {
      if (old_keys[i] == 0) continue;
      std::size_t j = slot(old_keys[i]);
      while (keys_[j] != 0) j = (j + 1) & mask_;
      keys_[j] = old_keys[i];
      values_[j] = std::move(old_values[i]);
    }
  }

  std::vector<std::uint64_t> keys_;
  std::vector<V> values_;
  std::size_t mask_ = 0, used_ = 0, size_ = 0;
  int shift_ = 64;
  bool has_zero_ = false;
  V zero_value_{};
};

}  // namespace storyline::detail
