// A persistent near-duplicate index: every document seen so far, its fingerprint, and LSH tables over
// them. Deduplicating today's crawl against everything seen before is: load, query, add, save.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "storyline/dedup.hpp"
#include "storyline/fingerprint.hpp"
#include "storyline/lsh.hpp"

namespace storyline {

namespace detail {
class BinaryWriter;
class BinaryReader;
}  // namespace detail

/// A verified match returned by DedupIndex::query.
struct IndexMatch {
  DocIndex doc = 0;         ///< the indexed document
  double similarity = 0.0;  ///< fingerprint similarity (estimated Jaccard, or 1 - Hamming / 64)
};

/// Documents with fingerprints and LSH tables. Const members may run concurrently; add and remove need
/// exclusive access.
///
/// On disk (version 2, little-endian; version 1 files still load, with containment off): the 8 bytes
/// "STLNDDUP", u32 version, the DedupParams fields, the boilerplate shingles (u64 count, hashes), u32
/// words per fingerprint, u64 document count, then per document u32 id length, id bytes, i32 date, u32
/// length, fingerprint words; last the XXH3-64 of all preceding bytes. Removed documents are not saved.
/// The LSH tables are rebuilt on load.
class DedupIndex {
 public:
  static constexpr std::uint32_t kFormatVersion = 3;

  /// An empty index. Throws InvalidArgument for invalid params.
  explicit DedupIndex(const DedupParams& params, std::shared_ptr<const Boilerplate> boilerplate = nullptr);

  /// Adds a document and returns its index. Throws InvalidArgument when the id is present already or
  /// the fingerprint has the wrong size.
  DocIndex add(std::string id, DocInfo info, std::span<const std::uint32_t> fingerprint);

  /// Makes room for documents in all (an expected total, not a limit).
  void reserve(std::size_t documents);

  /// Verified matches of a fingerprint (similarity passing the scheme's test), best first, ties by
  /// smaller index. Thread-safe against other const calls.
  std::vector<IndexMatch> query(std::span<const std::uint32_t> fingerprint) const;

  /// Removes the document with this id; returns false if there is none.
  bool remove(std::string_view id);

  /// Index of a live document by id.
  std::optional<DocIndex> find(std::string_view id) const;

  /// Live documents.
  std::size_t size() const { return ids_by_name_.size(); }
  /// Documents ever added (live or removed): valid DocIndex values are below this.
  std::size_t slots() const { return ids_.size(); }
  bool alive(DocIndex doc) const { return alive_[doc] != 0; }
  const std::string& id(DocIndex doc) const { return ids_[doc]; }
  const DocInfo& info(DocIndex doc) const { return info_[doc]; }
  std::span<const std::uint32_t> fingerprint(DocIndex doc) const {
    return std::span(fingerprints_).subspan(std::size_t{doc} * scheme_.words(), scheme_.words());
  }
  const FingerprintScheme& scheme() const { return scheme_; }

  /// Writes the index atomically (to path.tmp, then renamed). Throws IoError.
  void save(const std::string& path) const;
  /// Reads an index. Throws IoError when the file cannot be opened and CorruptIndex when it is not an
  /// index, is of another version, is truncated or fails its checksum.
  static DedupIndex load(const std::string& path);

  /// Every slot, removed ones included, so that DocIndex values survive: for snapshots that hold other
  /// per-document state by index. write_slots appends to an open file; read_slots (@pre an empty index
  /// of the same parameters) reads them; index_slots then builds the id map and the LSH tables (in
  /// parallel), which the caller may run while it reads on. Until then, find and query miss the slots.
  /// Both throw CorruptIndex.
  void write_slots(detail::BinaryWriter& out) const;
  void read_slots(detail::BinaryReader& in);
  void index_slots();

 private:
  FingerprintScheme scheme_;
  LshIndex lsh_;
  std::vector<std::string> ids_;
  std::vector<DocInfo> info_;
  std::vector<std::uint32_t> fingerprints_;
  std::vector<std::uint8_t> alive_;
  std::unordered_map<std::string, DocIndex> ids_by_name_;
};

}  // namespace storyline
