// eval's label reader on any bytes (malformed records are a ParseError naming the line), and the
// clustering scores over what it read: every score within [0, 1].
#include <cstdlib>
#include <unordered_map>

#include "fuzz_util.hpp"
#include "storyline/error.hpp"
#include "storyline/metrics.hpp"

using namespace storyline;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::MemFile file(data, size);
  try {
    const LabeledIds labels = read_labels(file.path(), "id", "label");
    if (labels.ids.size() != labels.labels.size() || labels.ids.size() != labels.lines.size()) std::abort();
    std::unordered_map<std::string, std::uint32_t> dense;
    std::vector<std::uint32_t> gold, pred;
    for (std::size_t i = 0; i < labels.ids.size(); ++i) {
      gold.push_back(
          dense.try_emplace(labels.labels[i], static_cast<std::uint32_t>(dense.size())).first->second);
      pred.push_back(static_cast<std::uint32_t>(labels.ids[i].size() % 3));
    }
    if (gold.empty()) return 0;
    const ClusteringScores s = score_clustering(gold, pred);
    for (const double v : {s.pairwise_precision, s.pairwise_recall, s.bcubed_precision, s.bcubed_recall}) {
      if (!(v >= 0.0 && v <= 1.0)) std::abort();
    }
  } catch (const Error&) {
  }
  return 0;
}
