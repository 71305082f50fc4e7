// Document vectors for story clustering: terms and named entities, weighted by TF-IDF, in an Eigen
// row-major sparse matrix with L2-normalised rows.
#pragma once

#include <Eigen/SparseCore>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "storyline/terms.hpp"

namespace storyline {

/// term_hash of a row's own columns, which hold the weight of its terms no other row has: words, entities.
inline constexpr std::uint64_t kOwnWords = ~std::uint64_t{0} >> 1;
inline constexpr std::uint64_t kOwnEntities = ~std::uint64_t{0};

/// TF-IDF rows of a collection.
struct TfidfMatrix {
  Eigen::SparseMatrix<float, Eigen::RowMajor> rows;  ///< document x column, rows L2-normalised
  std::vector<std::uint64_t> term_hash;              ///< column -> term hash (kOwnWords, kOwnEntities)
  std::vector<std::uint32_t> df;                     ///< column -> document frequency
  std::size_t shared_columns = 0;                    ///< columns of terms in several rows, in hash order
};

/// Weighs term counts: sublinear tf (1 + ln count), smoothed idf (ln((1 + N) / (1 + df)) + 1), entity
/// features times entity_weight, rows L2-normalised. Terms in more than max_df_ratio of the documents are
/// dropped. Terms in two or more get a shared column each, in hash order, so the result does not depend
/// on the thread count. Terms of one document alone add their weight to at most two columns of that row
/// (kOwnWords, kOwnEntities, after the shared ones; the Euclidean norm of those terms' weights): they
/// take no part in any dot product but keep the row the unit vector of all its terms, so two rows that
/// share one word of many are not alike however small the collection, and sums of rows and entity
/// boosts weigh them as a column per term would. Uses oneTBB.
TfidfMatrix build_tfidf(std::span<const TermCounts> docs, const TfidfParams& params);

/// What build_tfidf leaves out, to hold less.
struct TfidfShape {
  /// Leave the bridge's features (is_bridge_term) out of the columns, the counts and the norms: the
  /// rows of the same corpus without the bridge.
  bool without_bridge = false;
  /// A row keeps at most this many shared columns, its heaviest (ties: the smaller column); the weight
  /// of the others joins its own columns (as the Euclidean norm), so its norm, and its cosine with any
  /// row on the columns kept, are what they were. 0: every column.
  std::uint32_t max_row_terms = 0;
};

/// build_tfidf over n documents whose terms terms_of(i, out) writes (sorted by hash; called several
/// times per document, from several threads at once), shaped as asked.
TfidfMatrix build_tfidf(std::size_t n, const std::function<void(std::size_t, TermCounts&)>& terms_of,
                        const TfidfParams& params, TfidfShape shape = {});

}  // namespace storyline
