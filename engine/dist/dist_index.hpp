// --index and --save-index of a distributed dedup job: an index saved by N ranks is one ordinary index
// file per rank plus a manifest (dist/index_manifest.hpp), and loads on N ranks, each rank reading its
// own file, with every document numbered as one process would number it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "detail/index_file.hpp"
#include "dist/index_manifest.hpp"
#include "dist/layout.hpp"
#include "dist/step.hpp"

namespace storyline::detail {
class CorpusSink;
}

namespace storyline::dist {

/// An index opened by every rank: the manifest and this rank's file, its records not read yet.
struct OpenedIndex {
  std::optional<IndexManifest> manifest;
  std::optional<detail::IndexFileReader> file;
  std::size_t documents = 0;                       ///< in this rank's file
  DedupParams params;                              ///< the index's (every rank's file agrees on them)
  std::shared_ptr<const Boilerplate> boilerplate;  ///< what its documents were signed without
};

/// Opens the index at path (collective). Refuses one saved by another number of ranks, or by one
/// process; a rank whose file is missing, damaged or disagrees with its manifest fails the job.
OpenedIndex open_index(Comm& comm, Steps& steps, const std::string& path);

/// Reads this rank's documents into docs, before any new one (a new copy of an old document then
/// points at the old one, as in one process). exact: give each an empty shingle set.
void read_index(OpenedIndex& index, detail::CorpusSink& docs, bool exact);

/// Saves every document the ranks hold, but those whose id a smaller document has (as one process
/// does), to path (collective): one file per rank, named for this save so that the index at path stays
/// whole until the new manifest replaces it; rank 0 then removes the files of the one replaced.
/// global: the global number of each local document. Returns the documents left out on this rank.
std::uint64_t save_index(Comm& comm, Steps& steps, const std::string& path, const FingerprintScheme& scheme,
                         const Layout& layout, const detail::CorpusSink& docs,
                         std::span<const std::uint64_t> global);

}  // namespace storyline::dist
