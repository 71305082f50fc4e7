// The term counts of a batch job's documents, held compactly until TF-IDF is built: each term hash is
// interned once (a 32-bit id), and a document's terms are its ids in increasing order as variable-length
// gaps, each with its count in one byte (counts in quarters up to 63.75, which is every count the
// default weights make; any other count is kept whole as a float after an escape byte). About 3 bytes a
// term instead of the 16 of a TermCounts entry: at 10M documents of 170 terms, 5 GB instead of 27.
#pragma once

#include <tbb/enumerable_thread_specific.h>

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "detail/flat_map.hpp"
#include "detail/scratch_file.hpp"
#include "storyline/terms.hpp"

namespace storyline::detail {

class TermStore {
 public:
  TermStore();
  ~TermStore();
  TermStore(const TermStore&) = delete;
  TermStore& operator=(const TermStore&) = delete;

  /// Room for documents [0, count): slots not yet stored read as no terms.
  void resize(std::size_t count);
  /// Stores the terms of document slot (sorted by hash or not). Safe from many threads at once for
  /// different slots; a slot is stored once.
  void put(std::size_t slot, const TermCounts& terms);
  /// The terms of document slot, sorted by hash, with the counts given to put.
  void get(std::size_t slot, TermCounts& out) const;

  /// Keeps only the documents of the given slots, renumbered in that order (slot k is then slots[k]'s):
  /// what a job keeps once near-duplicates are folded. Holds both copies for a moment.
  void keep(std::span<const std::uint32_t> slots);
  /// Moves the encoded documents to an unnamed temporary file (in $TMPDIR, else /tmp) and frees their
  /// memory; get() then reads each from the file (the page cache keeps it close while memory allows).
  /// For the phases that need the memory more than the terms. Throws IoError.
  void spill();
  /// Frees everything held (the store is then empty).
  void clear();

  std::size_t size() const { return slots_.size(); }
  std::size_t terms() const;  ///< distinct terms interned
  /// Memory held: the encoded documents (in memory; the last block's unused tail not counted), the
  /// slots, the term table and the threads' caches of it.
  std::size_t bytes() const;

 private:
  static constexpr unsigned kShardBits = 6;
  struct Shard {
    std::mutex lock;
    FlatHashMap<std::uint32_t> ids;  // hash -> id + 1
    std::vector<std::uint64_t> hashes;
  };
  struct Slot {
    std::uint64_t at = 0;      // where the bytes are: their address, or their offset in the file
    std::uint32_t length = 0;  // 0: never stored
  };
  // One thread's encoded documents, in blocks that never move; and its cache of ids.
  struct Arena {
    std::vector<std::unique_ptr<std::uint8_t[]>> blocks;
    std::size_t used = 0;  // in the last block
    std::size_t bytes = 0;
    FlatHashMap<std::uint32_t> cache;  // hash -> id + 1
    std::vector<std::uint8_t> scratch;
    std::vector<std::pair<std::uint32_t, float>> ids;
  };

  std::uint32_t intern(Arena& arena, std::uint64_t hash);
  std::uint64_t hash_of(std::uint32_t id) const;

  std::array<Shard, std::size_t{1} << kShardBits> shards_;
  std::vector<Slot> slots_;
  tbb::enumerable_thread_specific<Arena> arenas_;
  std::unique_ptr<ScratchFile> file_;  // after spill()
};

}  // namespace storyline::detail
