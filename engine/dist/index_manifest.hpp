// An index saved by a distributed dedup job: one ordinary index file per rank (detail/index_file.hpp)
// and a manifest that names them and says where each rank's documents sit in the global order, so that
// the next job on the same number of ranks numbers every document as one process would. Free of MPI.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace storyline::dist {

/// A run of consecutive global document numbers held by one rank, in its local order.
struct Segment {
  std::uint64_t begin = 0;  ///< first global document
  std::uint64_t count = 0;
};

/// On disk (little-endian, checksummed like every storyline binary file): the 8 bytes "STLNDMAN", u32
/// version, u32 ranks, u64 documents, then per rank its file name (beside the manifest), u64 documents,
/// u32 segments and each segment's u64 begin and count.
struct IndexManifest {
  static constexpr std::uint32_t kFormatVersion = 1;

  struct Part {
    std::string file;               ///< name of the rank's index file, in the manifest's directory
    std::uint64_t documents = 0;    ///< documents in it
    std::vector<Segment> segments;  ///< where they go, in file order
  };
  std::uint64_t documents = 0;
  std::vector<Part> parts;  ///< one per rank

  /// Writes atomically (a temporary file renamed over path). Throws IoError.
  void save(const std::string& path) const;
  /// Reads and checks a manifest: the parts' segments cover [0, documents) once. Throws IoError when it
  /// cannot be opened and CorruptIndex when it is not a manifest or does not add up.
  static IndexManifest load(const std::string& path);
  /// Path of a part's file for the manifest at manifest_path.
  static std::string part_path(const std::string& manifest_path, const std::string& file);
};

/// Appends segment s to list, merging it with the last one when they are consecutive.
void append_segment(std::vector<Segment>& list, Segment s);

}  // namespace storyline::dist
