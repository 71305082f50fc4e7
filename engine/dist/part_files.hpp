// The outputs of a distributed job: each rank writes its part to a file of its own beside the output;
// then the parts become one file, each rank copying its part to its offset (an exclusive scan of the
// sizes), under a temporary name that rank 0 renames only when every rank succeeded.
#pragma once

#include <string>
#include <vector>

#include "dist/step.hpp"

namespace storyline::dist {

struct PartFile {
  std::string path;  ///< final path, "-" for stdout, "" when not asked for
  std::string part;  ///< this rank's part
  std::string temp;  ///< the assembled file before its rename
};

/// The names for output path on this rank. Parts go beside the output (a shared file system for a job
/// across hosts); stdout's in the working directory.
PartFile part_file(const std::string& path, int rank);

/// Removes this rank's part, and on rank 0 the assembled temporary file.
void remove_part_files(const PartFile& file, int rank);

/// Puts the ranks' parts of one output together (collective): rank 0's part, at offset 0, becomes the
/// temporary file at its full size and the others copy theirs in with pwrite; for stdout rank 0 writes
/// them in rank order. The rename is the caller's.
void assemble(Comm& comm, Steps& steps, const PartFile& file);

/// Renames the temporary file over the output (rank 0; a step). Throws IoError.
void publish(const PartFile& file);

}  // namespace storyline::dist
