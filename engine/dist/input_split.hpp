// How a distributed job divides its inputs between ranks: byte ranges of plain files cut at line
// starts, whole files for gzip and zstd, so that each rank reads about 1/N of the bytes and the ranks'
// parts, taken in rank order, are the inputs in order. Free of MPI: every rank computes the same split.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storyline/ingest.hpp"

namespace storyline::dist {

/// The parts of each of `ranks` ranks (first_line is 1 in every part: see count_lines_before). Paths
/// must be regular files ("-" is refused: stdin cannot be split). A compressed file goes whole to the
/// rank whose share holds most of it. Throws IoError when a file cannot be read, InvalidArgument for
/// stdin or ranks == 0.
std::vector<std::vector<InputPart>> split_inputs(const std::vector<std::string>& paths, unsigned ranks);

/// Newlines in bytes [begin, end) of a plain file (the lines before a part that starts at end, when
/// begin is 0). Throws IoError.
std::uint64_t count_newlines(const std::string& path, std::uint64_t begin, std::uint64_t end);

}  // namespace storyline::dist
