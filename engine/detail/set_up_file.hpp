// Where the files the set-up command builds beside the binary are found (the lexicon, the encoder).
#pragma once

#include <string>

namespace storyline::detail {

/// The environment variable env when set and not empty; else the file name beside the running binary
/// when it exists; else empty.
std::string set_up_file(const char* env, const char* name);

}  // namespace storyline::detail
