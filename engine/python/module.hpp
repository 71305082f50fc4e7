// The Python module storyline._storyline: what its parts share.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <string>

#include "storyline/lexicon.hpp"
#include "storyline/terms.hpp"

namespace storyline::python {

namespace py = pybind11;

/// storyline.dedup's answer. Members are Python objects, made with the GIL.
struct DedupResult {
  py::list ids;
  py::object groups, keep, similarity;  // numpy arrays
  std::size_t num_groups = 0, num_duplicates = 0, boilerplate = 0;
  std::uint64_t candidate_pairs = 0, verified_pairs = 0;
  double seconds = 0.0;
};

/// storyline.cluster's answer.
struct ClusterResult {
  py::list ids, dup_group, dup_of, story, thread, language, stories, threads;
  py::object similarity;
  std::size_t num_duplicates = 0, time_blocks = 1;
  double seconds = 0.0;
};

/// The lexicon of the cross-language bridge: "auto" is $STORYLINE_LEXICON, else the one installed
/// beside the module (storyline-lexicon.tsv), else none (the bridge keeps only its name keys, as the CLI
/// without a lexicon); "off" is none; anything else is a path (IoError when missing). Loaded once per
/// path. Returns null when off or when the weights leave the bridge nothing to do.
std::shared_ptr<const Lexicon> load_lexicon(const std::string& value, const TfidfParams& params);

/// The parts of the module, registered by PYBIND11_MODULE: dedup, cluster, minhash and their results;
/// DedupIndex and Feed.
void add_jobs(py::module_& m);
void add_index(py::module_& m);

/// Docstrings of the functions (the .pyi repeats their signatures).
namespace doc {
extern const char* const kModule;
extern const char* const kDedup;
extern const char* const kCluster;
extern const char* const kMinhash;
extern const char* const kDedupIndex;
extern const char* const kFeed;
}  // namespace doc

}  // namespace storyline::python
