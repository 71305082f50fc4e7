#include "detail/term_store.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "storyline/error.hpp"

namespace storyline::detail {
namespace {

constexpr std::size_t kBlockBytes = std::size_t{16} << 20;
constexpr std::uint8_t kWholeCount = 0;  // escape: a float follows
constexpr unsigned kIdShift = 6;         // id = index in shard << 6 | shard

void put_varint(std::vector<std::uint8_t>& out, std::uint32_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}

std::uint32_t get_varint(const std::uint8_t*& p) {
  std::uint32_t v = 0;
  for (unsigned shift = 0;; shift += 7) {
    const std::uint8_t b = *p++;
    v |= static_cast<std::uint32_t>(b & 0x7F) << shift;
    if (b < 0x80) return v;
  }
}

}  // namespace

TermStore::TermStore() = default;

TermStore::~TermStore() = default;

void TermStore::resize(std::size_t count) { slots_.resize(count); }

std::uint32_t TermStore::intern(Arena& arena, std::uint64_t hash) {
  if (const std::uint32_t* id = arena.cache.find(hash)) return *id - 1;
  const std::size_t s = hash >> (64 - kShardBits);
  Shard& shard = shards_[s];
  std::uint32_t id;
  {
    std::lock_guard guard(shard.lock);
    std::uint32_t& entry = shard.ids[hash];
    if (entry == 0) {
      STORYLINE_CHECK_ARG(shard.hashes.size() < (std::size_t{1} << (32 - kIdShift)) - 1,
                          "too many distinct terms for the term store");
      shard.hashes.push_back(hash);
      entry = static_cast<std::uint32_t>((shard.hashes.size() - 1) << kIdShift | s) + 1;
    }
    id = entry - 1;
  }
  arena.cache[hash] = id + 1;
  return id;
}

std::uint64_t TermStore::hash_of(std::uint32_t id) const {
  return shards_[id & ((1u << kIdShift) - 1)].hashes[id >> kIdShift];
}

void TermStore::put(std::size_t slot, const TermCounts& terms) {
  Arena& arena = arenas_.local();
  arena.ids.clear();
  for (const auto& [hash, count] : terms.terms) arena.ids.emplace_back(intern(arena, hash), count);
  std::sort(arena.ids.begin(), arena.ids.end());
  std::vector<std::uint8_t>& out = arena.scratch;
  out.clear();
  put_varint(out, static_cast<std::uint32_t>(arena.ids.size()));
  std::uint32_t last = 0;
  for (const auto& [id, count] : arena.ids) {
    put_varint(out, id - last);
    last = id;
    const float quarters = count * 4.0f;
    if (quarters >= 1.0f && quarters <= 255.0f && quarters == std::floor(quarters)) {
      out.push_back(static_cast<std::uint8_t>(quarters));
    } else {
      out.push_back(kWholeCount);
      std::uint8_t bytes[sizeof(float)];
      std::memcpy(bytes, &count, sizeof bytes);
      out.insert(out.end(), bytes, bytes + sizeof bytes);
    }
  }
  if (arena.blocks.empty() || arena.used + out.size() > kBlockBytes) {
    arena.blocks.push_back(std::make_unique<std::uint8_t[]>(std::max(kBlockBytes, out.size())));
    arena.used = 0;
  }
  std::uint8_t* at = arena.blocks.back().get() + arena.used;
  std::memcpy(at, out.data(), out.size());
  arena.used += out.size();
  arena.bytes += out.size();
  slots_[slot] = Slot{reinterpret_cast<std::uintptr_t>(at), static_cast<std::uint32_t>(out.size())};
}

void TermStore::get(std::size_t slot, TermCounts& out) const {
  out.terms.clear();
  const Slot& s = slots_[slot];
  if (s.length == 0) return;
  const std::uint8_t* p = reinterpret_cast<const std::uint8_t*>(static_cast<std::uintptr_t>(s.at));
  if (file_) {
    thread_local std::vector<std::uint8_t> buffer;
    buffer.resize(s.length);
    file_->read(s.at, std::span<std::uint8_t>(buffer));
    p = buffer.data();
  }
  const std::uint32_t count = get_varint(p);
  out.terms.reserve(count);
  std::uint32_t id = 0;
  for (std::uint32_t k = 0; k < count; ++k) {
    id += get_varint(p);
    const std::uint8_t code = *p++;
    float c;
    if (code == kWholeCount) {
      std::memcpy(&c, p, sizeof c);
      p += sizeof c;
    } else {
      c = static_cast<float>(code) / 4.0f;
    }
    out.terms.emplace_back(hash_of(id), c);
  }
  std::sort(out.terms.begin(), out.terms.end());
}

void TermStore::keep(std::span<const std::uint32_t> slots) {
  STORYLINE_CHECK_ARG(!file_, "keep() before spill()");
  std::vector<Slot> kept(slots.size());
  Arena packed;
  for (std::size_t k = 0; k < slots.size(); ++k) {
    const Slot& from = slots_[slots[k]];
    if (from.length == 0) continue;
    if (packed.blocks.empty() || packed.used + from.length > kBlockBytes) {
      packed.blocks.push_back(
          std::make_unique<std::uint8_t[]>(std::max<std::size_t>(kBlockBytes, from.length)));
      packed.used = 0;
    }
    std::uint8_t* at = packed.blocks.back().get() + packed.used;
    std::memcpy(at, reinterpret_cast<const std::uint8_t*>(static_cast<std::uintptr_t>(from.at)), from.length);
    packed.used += from.length;
    packed.bytes += from.length;
    kept[k] = Slot{reinterpret_cast<std::uintptr_t>(at), from.length};
  }
  slots_ = std::move(kept);
  arenas_.clear();  // the old blocks and the threads' caches of ids
  arenas_.local() = std::move(packed);
}

void TermStore::spill() {
  STORYLINE_CHECK_ARG(!file_, "the term store is spilled once");
  file_ = std::make_unique<ScratchFile>("the term store");
  std::vector<std::uint8_t> buffer;
  std::uint64_t offset = 0;
  const auto flush = [&] {
    file_->append(std::span<const std::uint8_t>(buffer));
    buffer.clear();
  };
  for (Slot& s : slots_) {
    if (s.length == 0) continue;
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(static_cast<std::uintptr_t>(s.at));
    buffer.insert(buffer.end(), bytes, bytes + s.length);
    s.at = offset;
    offset += s.length;
    if (buffer.size() >= (std::size_t{1} << 22)) flush();
  }
  flush();
  arenas_.clear();
}

void TermStore::clear() {
  file_.reset();
  std::vector<Slot>().swap(slots_);
  arenas_.clear();
  for (Shard& s : shards_) {
    s.ids = FlatHashMap<std::uint32_t>();
    std::vector<std::uint64_t>().swap(s.hashes);
  }
}

std::size_t TermStore::terms() const {
  std::size_t n = 0;
  for (const Shard& s : shards_) n += s.hashes.size();
  return n;
}

std::size_t TermStore::bytes() const {
  std::size_t n = slots_.capacity() * sizeof(Slot);
  for (const Arena& a : arenas_) n += a.bytes + a.cache.size() * 12;
  for (const Shard& s : shards_) n += s.hashes.capacity() * 8 + s.ids.size() * 12;
  return n;
}

}  // namespace storyline::detail
