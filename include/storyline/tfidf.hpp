// Document vectors for story clustering: terms and named entities, weighted by TF-IDF, in an Eigen
// row-major sparse matrix with L2-normalised rows.
#pragma once

#include <Eigen/SparseCore>
#include <cstdint>
#include <functional>
#include <span>
#include <utility>
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

/// The columns of a collection's TF-IDF rows: the terms that get a shared column and their idf, and
/// the terms too common to count, so that rows of any part of the collection can be built when they are
/// needed (tfidf_rows), each one the row build_tfidf gives that document.
struct TfidfColumns {
  std::vector<std::uint64_t> term_hash;  ///< shared column -> term hash, in hash order
  std::vector<std::uint32_t> df;         ///< shared column -> document frequency
  std::vector<float> idf;                ///< shared column -> idf (entity_weight included)
  std::vector<std::uint64_t> dropped;    ///< terms in more than max_df_ratio of the documents, sorted
  float own_idf = 0.0f;                  ///< idf of a term of one document (own_term_weight included)
  TfidfParams params;
  TfidfShape shape;
};

/// The columns of n documents whose terms terms_of(i, out) writes (sorted by hash; called from several
/// threads at once), shaped as asked: build_tfidf's first pass.
TfidfColumns tfidf_columns(std::size_t n, const std::function<void(std::size_t, TermCounts&)>& terms_of,
                           const TfidfParams& params, TfidfShape shape = {});

/// Each term of n documents (the bridge's too) and the number of documents holding it, by term: what
/// tfidf_columns counts, for a collection whose parts are counted apart and summed (an MPI job's).
std::vector<std::pair<std::uint64_t, std::uint32_t>> document_frequencies(
    std::size_t n, const std::function<void(std::size_t, TermCounts&)>& terms_of);

/// The columns of n documents from their document frequencies (sorted by term, as
/// document_frequencies gives them), shaped as asked. Throws InvalidArgument when df is not sorted.
TfidfColumns tfidf_columns(std::size_t n, std::span<const std::pair<std::uint64_t, std::uint32_t>> df,
                           const TfidfParams& params, TfidfShape shape = {});

/// The rows of documents docs (indexes into the collection of columns, ascending or not), in that
/// order: row k is build_tfidf's row of docs[k], its terms of one document in columns of its own after
/// the shared ones (numbered in row order, so a part's own columns are not the whole's).
TfidfMatrix tfidf_rows(const TfidfColumns& columns, std::span<const std::uint32_t> docs,
                       const std::function<void(std::size_t, TermCounts&)>& terms_of);

/// build_tfidf over n documents whose terms terms_of(i, out) writes (sorted by hash; called several
/// times per document, from several threads at once), shaped as asked.
TfidfMatrix build_tfidf(std::size_t n, const std::function<void(std::size_t, TermCounts&)>& terms_of,
                        const TfidfParams& params, TfidfShape shape = {});

}  // namespace storyline
