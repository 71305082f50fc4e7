#include "storyline/metrics.hpp"

#include <cmath>
#include <unordered_map>

#include "storyline/error.hpp"

namespace storyline {
namespace {

double pairs(double n) { return n * (n - 1) / 2.0; }

double entropy(const std::unordered_map<std::uint32_t, std::uint64_t>& sizes, double n) {
  double h = 0.0;
  for (const auto& [label, size] : sizes) {
    const double p = static_cast<double>(size) / n;
    h -= p * std::log(p);
  }
  return h;
}

}  // namespace

double f1_score(double precision, double recall) {
  return precision + recall > 0.0 ? 2.0 * precision * recall / (precision + recall) : 0.0;
}

ClusteringScores score_clustering(std::span<const std::uint32_t> gold, std::span<const std::uint32_t> pred) {
  STORYLINE_CHECK_ARG(gold.size() == pred.size(), "gold and pred must label the same documents");
  ClusteringScores s;
  s.documents = gold.size();
  if (gold.empty()) {
    s.pairwise_precision = s.pairwise_recall = s.pairwise_f1 = 1.0;
    s.bcubed_precision = s.bcubed_recall = s.bcubed_f1 = 1.0;
    s.ari = s.nmi = s.homogeneity = s.completeness = s.v_measure = 1.0;
    return s;
  }
  std::unordered_map<std::uint32_t, std::uint64_t> gold_sizes, pred_sizes;
  std::unordered_map<std::uint64_t, std::uint64_t> cells;  // (gold << 32 | pred) -> count
  for (std::size_t i = 0; i < gold.size(); ++i) {
    ++gold_sizes[gold[i]];
    ++pred_sizes[pred[i]];
    ++cells[std::uint64_t{gold[i]} << 32 | pred[i]];
  }
  s.gold_clusters = gold_sizes.size();
  s.pred_clusters = pred_sizes.size();
  const double n = static_cast<double>(gold.size());

  double same_both = 0.0, bc_precision = 0.0, bc_recall = 0.0, mutual = 0.0;
  for (const auto& [key, count] : cells) {
    const double c = static_cast<double>(count);
    const double a = static_cast<double>(gold_sizes[static_cast<std::uint32_t>(key >> 32)]);
    const double b = static_cast<double>(pred_sizes[static_cast<std::uint32_t>(key)]);
    same_both += pairs(c);
    bc_precision += c * c / b;
    bc_recall += c * c / a;
    mutual += c / n * std::log(n * c / (a * b));
  }
  double same_gold = 0.0, same_pred = 0.0;
  for (const auto& [label, size] : gold_sizes) same_gold += pairs(static_cast<double>(size));
  for (const auto& [label, size] : pred_sizes) same_pred += pairs(static_cast<double>(size));

  s.pairwise_precision = same_pred > 0.0 ? same_both / same_pred : 1.0;
  s.pairwise_recall = same_gold > 0.0 ? same_both / same_gold : 1.0;
  s.pairwise_f1 = f1_score(s.pairwise_precision, s.pairwise_recall);
  s.bcubed_precision = bc_precision / n;
  s.bcubed_recall = bc_recall / n;
  s.bcubed_f1 = f1_score(s.bcubed_precision, s.bcubed_recall);

  const double expected = same_gold * same_pred / pairs(n);
  const double max_index = 0.5 * (same_gold + same_pred);
  s.ari = max_index - expected != 0.0 ? (same_both - expected) / (max_index - expected) : 1.0;

  const double h_gold = entropy(gold_sizes, n), h_pred = entropy(pred_sizes, n);
  s.homogeneity = h_gold > 0.0 ? mutual / h_gold : 1.0;
  s.completeness = h_pred > 0.0 ? mutual / h_pred : 1.0;
  s.v_measure = f1_score(s.homogeneity, s.completeness);
  s.nmi = h_gold + h_pred > 0.0 ? mutual / (0.5 * (h_gold + h_pred)) : 1.0;
  return s;
}

}  // namespace storyline
