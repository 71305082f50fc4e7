// Clustering quality against gold labels: pairwise, B-cubed, ARI, NMI and V-measure, all computed from
// one contingency table, so millions of documents cost one hash-map pass.
#pragma once

#include <cstdint>
#include <span>

namespace storyline {

/// Scores of a predicted clustering against a gold one.
struct ClusteringScores {
  std::uint64_t documents = 0;      ///< documents scored
  std::uint64_t gold_clusters = 0;  ///< distinct gold labels
  std::uint64_t pred_clusters = 0;  ///< distinct predicted labels
  double pairwise_precision = 0.0;  ///< same-cluster pairs that are gold pairs (1 when none predicted)
  double pairwise_recall = 0.0;     ///< gold pairs that are predicted pairs (1 when no gold pairs)
  double pairwise_f1 = 0.0;
  double bcubed_precision = 0.0;  ///< mean over documents of |pred n gold| / |pred| (Amigo et al. 2009)
  double bcubed_recall = 0.0;     ///< mean over documents of |pred n gold| / |gold|
  double bcubed_f1 = 0.0;
  double ari = 0.0;          ///< adjusted Rand index (Hubert and Arabie 1985)
  double nmi = 0.0;          ///< mutual information over the arithmetic mean of the entropies
  double homogeneity = 0.0;  ///< Rosenberg and Hirschberg 2007
  double completeness = 0.0;
  double v_measure = 0.0;
};

/// Scores pred against gold. Labels are dense or sparse 32-bit integers; document i has gold[i] and
/// pred[i]. Throws InvalidArgument when the sizes differ. Empty input gives all scores 1. Thread-safe.
ClusteringScores score_clustering(std::span<const std::uint32_t> gold, std::span<const std::uint32_t> pred);

/// F1 of a precision and a recall (0 when both are 0).
double f1_score(double precision, double recall);

}  // namespace storyline

#include <string>
#include <string_view>
#include <vector>

namespace storyline {

/// Ids and labels read from a JSONL file.
struct LabeledIds {
  std::vector<std::string> ids;      ///< records that have a label, in file order
  std::vector<std::string> labels;   ///< their labels: strings as is, numbers and booleans as JSON text
  std::vector<std::uint64_t> lines;  ///< their 1-based line numbers, for messages
  std::uint64_t unlabeled = 0;       ///< records whose label is missing or null
};

/// Reads id_field and label_field of every record of a JSONL file (.gz/.zst detected). A record without
/// an id is named "LINE". Throws IoError, and ParseError naming file and line for a malformed record:
/// scores over a broken file would mislead.
LabeledIds read_labels(const std::string& path, std::string_view id_field, std::string_view label_field);

}  // namespace storyline
