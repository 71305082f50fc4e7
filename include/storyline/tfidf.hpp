// Document vectors for story clustering: terms and named entities, weighted by TF-IDF, in an Eigen
// row-major sparse matrix with L2-normalised rows.
#pragma once

#include <Eigen/SparseCore>
#include <cstdint>
#include <span>
#include <vector>

#include "storyline/terms.hpp"

namespace storyline {

/// TF-IDF rows of a collection.
struct TfidfMatrix {
  Eigen::SparseMatrix<float, Eigen::RowMajor> rows;  ///< document x term, rows L2-normalised
  std::vector<std::uint64_t> term_hash;              ///< column -> term hash
  std::vector<std::uint32_t> df;                     ///< column -> document frequency
};

/// Weighs term counts: sublinear tf (1 + ln count), smoothed idf (ln((1 + N) / (1 + df)) + 1), entity
/// features times entity_weight, rows L2-normalised. Terms seen in one document only, or in more than
/// max_df_ratio of them, get no column. Columns are in hash order, so the result does not depend on the
/// thread count. Uses oneTBB.
TfidfMatrix build_tfidf(std::span<const TermCounts> docs, const TfidfParams& params);

}  // namespace storyline
