// The DedupIndex file format without the LSH tables, record by record: DedupIndex saves and loads
// through it, and so do engines that keep the documents in their own arrays (the distributed dedup).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "storyline/dedup.hpp"
#include "storyline/fingerprint.hpp"

namespace storyline {
class Boilerplate;
}

namespace storyline::detail {

class BinaryWriter;
class BinaryReader;

/// Longest id an index file may hold.
constexpr std::size_t kMaxIndexIdBytes = std::size_t{1} << 20;

/// The scheme's parameters as an index file stores them (after magic and version): version 2 adds
/// containment, min_contained_shingles and the boilerplate shingles (u64 count, then the hashes).
void write_index_params(BinaryWriter& out, const FingerprintScheme& scheme);
/// Reads them back (a version 1 file has containment 0 and no boilerplate); fails the reader
/// (CorruptIndex) on unknown or invalid values.
DedupParams read_index_params(BinaryReader& in, std::uint32_t version,
                              std::vector<std::uint64_t>* boilerplate);

/// Writes an index file of exactly `count` documents (DedupIndex's format, see dedup_index.hpp).
class IndexFileWriter {
 public:
  IndexFileWriter(const std::string& path, const FingerprintScheme& scheme, std::uint64_t count);
  ~IndexFileWriter();
  void add(std::string_view id, const DocInfo& info, std::span<const std::uint32_t> fingerprint);
  /// Checks the count, appends the checksum and moves the file into place. Throws IoError.
  void finish();

 private:
  std::unique_ptr<BinaryWriter> out_;
  std::uint64_t count_, added_ = 0;
};

/// Reads an index file record by record. Throws IoError when it cannot be opened and CorruptIndex when
/// it is not an index file, is of another version, is truncated or fails its checksum.
class IndexFileReader {
 public:
  explicit IndexFileReader(const std::string& path);
  ~IndexFileReader();
  IndexFileReader(IndexFileReader&&) noexcept;
  IndexFileReader& operator=(IndexFileReader&&) noexcept;
  const DedupParams& params() const { return params_; }
  /// The boilerplate the documents were fingerprinted without (null: none).
  const std::shared_ptr<const Boilerplate>& boilerplate() const { return boilerplate_; }
  std::uint64_t count() const { return count_; }
  /// The next of count() records; fingerprint must hold the scheme's words.
  void next(std::string& id, DocInfo& info, std::span<std::uint32_t> fingerprint);
  /// Checks that every record was read and the checksum.
  void finish();
  [[noreturn]] void fail(const std::string& what) const;

 private:
  std::unique_ptr<BinaryReader> in_;
  DedupParams params_;
  std::shared_ptr<const Boilerplate> boilerplate_;
  std::uint32_t words_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace storyline::detail
