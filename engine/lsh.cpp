#include "storyline/lsh.hpp"

#include <tbb/parallel_for.h>
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <tuple>

#include "detail/mix.hpp"
#include "storyline/error.hpp"

namespace storyline {
namespace {

constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;
constexpr std::uint32_t kTombstone = 0xFFFFFFFEu;

// Trapezoidal rule with enough steps that the choice of (b, r) is stable to the third decimal.
template <typename F>
double integrate(F f, double lo, double hi) {
  constexpr int kSteps = 400;
  const double step = (hi - lo) / kSteps;
  double area = 0.5 * (f(lo) + f(hi));
  for (int i = 1; i < kSteps; ++i) area += f(lo + i * step);
  return area * step;
}

}  // namespace

double lsh_candidate_probability(double s, LshBands lsh) {
  return 1.0 - std::pow(1.0 - std::pow(s, lsh.rows), lsh.bands);
}

LshBands optimal_lsh_bands(double threshold, std::uint32_t num_hashes, double fp_weight, double fn_weight) {
  STORYLINE_CHECK_ARG(threshold > 0.0 && threshold < 1.0, "threshold must be in (0, 1)");
  STORYLINE_CHECK_ARG(fp_weight >= 0.0 && fn_weight >= 0.0, "weights must be non-negative");
  STORYLINE_CHECK_ARG(num_hashes >= 1, "num_hashes must be positive");
  // The search costs about a million pow() calls at k = 128 (tens of milliseconds), and every scheme,
  // index and engine built from the same parameters asks again: answers are kept.
  using Question = std::tuple<double, std::uint32_t, double, double>;
  static std::mutex mutex;
  static std::map<Question, LshBands> answers;
  const Question question{threshold, num_hashes, fp_weight, fn_weight};
  {
    std::lock_guard lock(mutex);
    if (const auto it = answers.find(question); it != answers.end()) return it->second;
  }
  LshBands best{1, num_hashes};
  double best_error = std::numeric_limits<double>::infinity();
  for (std::uint32_t b = 1; b <= num_hashes; ++b) {
    for (std::uint32_t r = 1; b * r <= num_hashes; ++r) {
      const LshBands lsh{b, r};
      const double fp =
          integrate([&](double s) { return lsh_candidate_probability(s, lsh); }, 0.0, threshold);
      const double fn =
          integrate([&](double s) { return 1.0 - lsh_candidate_probability(s, lsh); }, threshold, 1.0);
      const double error = fp_weight * fp + fn_weight * fn;
      if (error < best_error) best_error = error, best = lsh;
    }
  }
  std::lock_guard lock(mutex);
  answers.emplace(question, best);
  return best;
}

void minhash_band_keys(std::span<const std::uint32_t> sig, LshBands lsh, std::span<std::uint64_t> keys) {
  STORYLINE_CHECK_ARG(keys.size() == lsh.bands && sig.size() >= std::size_t{lsh.bands} * lsh.rows,
                      "band keys need bands * rows signature values");
  for (std::uint32_t band = 0; band < lsh.bands; ++band) {
    keys[band] = XXH3_64bits_withSeed(sig.data() + std::size_t{band} * lsh.rows,
                                      lsh.rows * sizeof(std::uint32_t), band);
  }
}

void simhash_block_keys(std::uint64_t fingerprint, std::uint32_t max_hamming, std::span<std::uint64_t> keys) {
  STORYLINE_CHECK_ARG(max_hamming <= 15 && keys.size() == max_hamming + 1,
                      "simhash blocks need max_hamming in [0, 15] and max_hamming + 1 keys");
  const std::uint32_t blocks = max_hamming + 1;
  std::uint32_t begin = 0;
  for (std::uint32_t block = 0; block < blocks; ++block) {
    // Block widths differ by at most one bit: 64 = blocks * w + rest.
    const std::uint32_t width = 64 / blocks + (block < 64 % blocks ? 1 : 0);
    const std::uint64_t mask = width == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << width) - 1);
    const std::uint64_t bits = (fingerprint >> begin) & mask;
    keys[block] = detail::mix64(bits ^ (static_cast<std::uint64_t>(block) << 58));
    begin += width;
  }
}

// ---------------------------------------------------------------------------------------------------
// LshIndex: per table, an open-addressing multimap from the key's upper 32 bits (the tag) to documents;
// the slot position comes from the lower bits, so equal keys probe the same run of slots.

LshIndex::LshIndex(std::uint32_t tables, std::uint32_t max_bucket)
    : tables_(tables), max_bucket_(max_bucket) {
  STORYLINE_CHECK_ARG(tables >= 1, "an LSH index needs at least one table");
  STORYLINE_CHECK_ARG(max_bucket >= 1, "max_bucket must be positive");
}

void LshIndex::grow(Table& table) { rehash(table, std::max<std::size_t>(16, table.slots.size() * 2)); }

void LshIndex::rehash(Table& table, std::size_t capacity) {
  std::vector<Slot> old = std::move(table.slots);
  table.slots.assign(capacity, Slot{0, kEmpty});
  table.used = 0;
  const std::size_t mask = table.slots.size() - 1;
  // Slots are taken in the old probe order, which keeps each bucket's members in insertion order.
  const std::size_t start = old.empty() ? 0 : std::find_if(old.begin(), old.end(), [](const Slot& s) {
                                                return s.doc == kEmpty;
                                              }) - old.begin();
  for (std::size_t k = 0; k < old.size(); ++k) {
    const Slot& slot = old[(start + k) & (old.size() - 1)];  // sizes are powers of two
    if (slot.doc >= kTombstone) continue;
    std::size_t pos = detail::mix64(slot.tag) & mask;
    while (table.slots[pos].doc != kEmpty) pos = (pos + 1) & mask;
    table.slots[pos] = slot;
    ++table.used;
  }
}

void LshIndex::insert_into(Table& table, std::uint64_t key, DocIndex doc, std::uint32_t max_bucket) {
  if ((table.used + 1) * 2 > table.slots.size()) grow(table);
  const auto tag = static_cast<std::uint32_t>(key >> 32);
  const std::size_t mask = table.slots.size() - 1;
  std::size_t pos = detail::mix64(tag) & mask;
  std::uint32_t same = 0;
  std::size_t free_pos = SIZE_MAX;
  while (table.slots[pos].doc != kEmpty) {
    const Slot& slot = table.slots[pos];
    if (slot.doc == kTombstone) {
      if (free_pos == SIZE_MAX) free_pos = pos;
    } else if (slot.tag == tag) {
      if (slot.doc == doc) return;
      if (++same >= max_bucket) return;  // full bucket: see the class comment
    }
    pos = (pos + 1) & mask;
  }
  if (free_pos == SIZE_MAX) {
    free_pos = pos;
    ++table.used;
  }
  table.slots[free_pos] = Slot{tag, doc};
}

void LshIndex::insert(DocIndex doc, std::span<const std::uint64_t> keys) {
  STORYLINE_CHECK_ARG(keys.size() == tables_.size(), "one key per table is required");
  STORYLINE_CHECK_ARG(doc < kTombstone, "document index out of range");
  for (std::size_t t = 0; t < tables_.size(); ++t) insert_into(tables_[t], keys[t], doc, max_bucket_);
}

void LshIndex::reserve(std::size_t more) {
  for (Table& table : tables_) {
    std::size_t capacity = 16;
    while (capacity < 2 * (table.used + more + 1)) capacity *= 2;
    if (capacity > table.slots.size()) rehash(table, capacity);
  }
}

void LshIndex::build(std::span<const std::uint64_t> keys, std::size_t n, DocIndex first) {
  const std::size_t count = tables_.size();
  STORYLINE_CHECK_ARG(keys.size() == n * count, "build needs n * tables keys");
  STORYLINE_CHECK_ARG(first + n < kTombstone, "too many documents for 32-bit indexes");
  reserve(n);
  tbb::parallel_for(std::size_t{0}, count, [&](std::size_t t) {
    Table& table = tables_[t];
    const std::size_t mask = table.slots.size() - 1;
    // The tables are far larger than the caches: the home slot of a document a few places ahead is
    // fetched while this one is inserted.
    constexpr std::size_t kAhead = 8;
    for (std::size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) {
        const auto tag = static_cast<std::uint32_t>(keys[(i + kAhead) * count + t] >> 32);
        __builtin_prefetch(&table.slots[detail::mix64(tag) & mask]);
      }
      insert_into(table, keys[i * count + t], static_cast<DocIndex>(first + i), max_bucket_);
    }
  });
}

bool LshIndex::remove(DocIndex doc, std::span<const std::uint64_t> keys) {
  STORYLINE_CHECK_ARG(keys.size() == tables_.size(), "one key per table is required");
  bool found = false;
  for (std::size_t t = 0; t < tables_.size(); ++t) {
    Table& table = tables_[t];
    if (table.slots.empty()) continue;
    const auto tag = static_cast<std::uint32_t>(keys[t] >> 32);
    const std::size_t mask = table.slots.size() - 1;
    for (std::size_t pos = detail::mix64(tag) & mask; table.slots[pos].doc != kEmpty;
         pos = (pos + 1) & mask) {
      if (table.slots[pos].doc == doc && table.slots[pos].tag == tag) {
        table.slots[pos].doc = kTombstone;
        found = true;
        break;
      }
    }
  }
  return found;
}

void LshIndex::query(std::span<const std::uint64_t> keys, std::vector<DocIndex>& out) const {
  STORYLINE_CHECK_ARG(keys.size() == tables_.size(), "one key per table is required");
  out.clear();
  for (std::size_t t = 0; t < tables_.size(); ++t) {
    const Table& table = tables_[t];
    if (table.slots.empty()) continue;
    const auto tag = static_cast<std::uint32_t>(keys[t] >> 32);
    const std::size_t mask = table.slots.size() - 1;
    std::uint32_t same = 0;
    for (std::size_t pos = detail::mix64(tag) & mask; table.slots[pos].doc != kEmpty;
         pos = (pos + 1) & mask) {
      const Slot& slot = table.slots[pos];
      if (slot.tag == tag && slot.doc < kTombstone) {
        out.push_back(slot.doc);
        if (++same >= max_bucket_) break;
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
}

std::size_t LshIndex::memory_bytes() const {
  std::size_t bytes = 0;
  for (const Table& table : tables_) bytes += table.slots.capacity() * sizeof(Slot);
  return bytes;
}

}  // namespace storyline
