// Locality-sensitive hashing: MinHash banding, SimHash block tables, and the index that holds either.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "storyline/document.hpp"

namespace storyline {

/// b bands of r rows over a MinHash signature (b * r <= k).
struct LshBands {
  std::uint32_t bands = 0;  ///< b, number of hash tables
  std::uint32_t rows = 0;   ///< r, signature values per band
};

/// Probability that a pair of Jaccard similarity s shares at least one band: 1 - (1 - s^r)^b.
double lsh_candidate_probability(double s, LshBands lsh);

/// The (b, r) with b * r <= num_hashes that minimises
///   fp_weight * integral_0^t P(s) ds + fn_weight * integral_t^1 (1 - P(s)) ds,
/// the area of false positives below the threshold t plus false negatives above it, integrated
/// numerically (the rule datasketch uses). Throws InvalidArgument for t outside (0, 1) or weights < 0.
LshBands optimal_lsh_bands(double threshold, std::uint32_t num_hashes, double fp_weight = 0.5,
                           double fn_weight = 0.5);

/// Writes one 64-bit key per band of sig: XXH3 of the band's r values, seeded by the band number.
/// @pre keys.size() == lsh.bands, sig.size() >= lsh.bands * lsh.rows. Thread-safe.
void minhash_band_keys(std::span<const std::uint32_t> sig, LshBands lsh, std::span<std::uint64_t> keys);

/// Splits a 64-bit SimHash into max_hamming + 1 blocks and writes one key per block (the block's bits,
/// tagged with its number). By the pigeonhole principle two fingerprints within Hamming distance
/// max_hamming agree exactly on at least one block (Manku, Jain, Das Sarma, WWW 2007), so these keys
/// find every such pair. @pre keys.size() == max_hamming + 1, max_hamming in [0, 15].
void simhash_block_keys(std::uint64_t fingerprint, std::uint32_t max_hamming, std::span<std::uint64_t> keys);

/// Hash tables from band (or block) keys to documents: table t maps key t of each document to the
/// document. Supports incremental insert, query and remove. Keys are stored as 32-bit tags, so a query
/// may return a rare false candidate; callers verify candidates anyway.
///
/// A bucket holds at most max_bucket documents: a key shared by more documents than that (thousands of
/// copies of one page) stops taking new ones, which bounds insert and query cost; the documents left
/// out still share their other keys. Reads (query) may run concurrently; writes need exclusive access.
class LshIndex {
 public:
  /// Throws InvalidArgument when tables is 0 or max_bucket is 0.
  explicit LshIndex(std::uint32_t tables, std::uint32_t max_bucket = 64);

  /// Adds doc under keys (one per table). @pre keys.size() == tables().
  void insert(DocIndex doc, std::span<const std::uint64_t> keys);

  /// Adds documents first..first+n-1, document first+i with keys[i * tables() .. (i + 1) * tables()),
  /// building the tables in parallel (one task per table). The result equals n inserts in order.
  void build(std::span<const std::uint64_t> keys, std::size_t n, DocIndex first = 0);

  /// Sizes every table for `more` entries beyond those it holds, at once rather than by doubling.
  void reserve(std::size_t more);

  /// Removes doc from the buckets of keys (the keys it was inserted with). Returns false if it was in none.
  bool remove(DocIndex doc, std::span<const std::uint64_t> keys);

  /// Appends to out the documents sharing at least one key with keys, sorted and without repeats
  /// (out is cleared first).
  void query(std::span<const std::uint64_t> keys, std::vector<DocIndex>& out) const;

  std::uint32_t tables() const { return static_cast<std::uint32_t>(tables_.size()); }
  /// Bytes held by the tables.
  std::size_t memory_bytes() const;

 private:
  struct Slot {
    std::uint32_t tag;
    std::uint32_t doc;
  };
  struct Table {
    std::vector<Slot> slots;  // open addressing, linear probing, power-of-two size
    std::size_t used = 0;     // live entries plus tombstones
  };
  static void insert_into(Table& table, std::uint64_t key, DocIndex doc, std::uint32_t max_bucket);
  static void grow(Table& table);
  static void rehash(Table& table, std::size_t capacity);
  std::vector<Table> tables_;
  std::uint32_t max_bucket_;
};

}  // namespace storyline
