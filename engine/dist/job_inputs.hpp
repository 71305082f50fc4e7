// The inputs of a distributed job divided between its ranks, each part knowing the line its first byte
// is on, so that every rank names a bad line by its file and line as one process would.
#pragma once

#include <string>
#include <vector>

#include "dist/step.hpp"
#include "storyline/ingest.hpp"

namespace storyline::dist {

/// Every rank's parts of inputs (split_inputs), with first_line set: each rank counts the newlines of
/// its byte ranges, and a part starts after those of the earlier parts of its file (collective).
/// Fails the job (JobFailed) when a rank cannot read an input.
std::vector<std::vector<InputPart>> split_and_number(Comm& comm, Steps& steps,
                                                     const std::vector<std::string>& inputs);

}  // namespace storyline::dist
