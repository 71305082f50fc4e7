// Story and thread clustering: a sparse k-nearest-neighbour graph found through an inverted index, and
// average-linkage agglomeration on it.
#pragma once

#include <Eigen/SparseCore>
#include <cstdint>
#include <span>
#include <vector>

#include "storyline/document.hpp"
#include "storyline/tfidf.hpp"

namespace storyline {

/// An undirected weighted edge, a < b.
struct Edge {
  DocIndex a = 0;
  DocIndex b = 0;
  float similarity = 0.0f;  ///< cosine of the two rows
};

/// How neighbours are found.
struct NeighborParams {
  std::uint32_t k = 10;                ///< neighbours kept per row
  std::uint32_t candidate_terms = 24;  ///< top-weighted terms per row that are indexed and probed
  std::uint32_t max_postings = 1000;   ///< a probe reads at most this many rows per term, heaviest first
  std::uint32_t rerank = 64;           ///< best candidates (by partial score) whose exact cosine is computed
  float min_similarity = 0.05f;        ///< edges below this cosine are dropped
  std::int32_t window_days = -1;       ///< pairs further apart in time are skipped (-1: no window;
                                       ///< undated rows pair with everything)
};

/// Edges from each row to its k most similar rows (cosine of L2-normalised rows), sorted by (a, b),
/// each pair once. Candidates come from an inverted index over every row's top candidate_terms terms
/// (a pruned form of all-pairs similarity search, Bayardo, Ma and Srikant 2007: a pair sharing none of
/// its top terms is not found); candidates are ranked by their partial dot product and the best `rerank`
/// scored exactly. Deterministic; parallel over rows (oneTBB). dates has one entry per row (or is empty).
///
/// rank_similarity (optional): receives, per row, the cosine of its `rank`-th most similar candidate
/// (1 = the nearest; 0 when it has fewer candidates), @pre rank <= params.rerank. Among the candidates
/// the pruned search finds, so it is at most the exact rank-th cosine. See background_similarity.
std::vector<Edge> neighbor_graph(const Eigen::SparseMatrix<float, Eigen::RowMajor>& rows,
                                 std::span<const std::int32_t> dates, const NeighborParams& params,
                                 std::uint32_t rank = 0, std::vector<float>* rank_similarity = nullptr);

/// A corpus's background similarity: the median, over the rows flagged in `use` (all rows when use is
/// empty), of each row's rank_similarity from neighbor_graph. A row's rank-th neighbour (rank beyond the
/// size of most events) is a document on a related subject, not the same event, so the median says how
/// similar unrelated-but-near documents are in this corpus: higher in a large corpus of one beat (many
/// stages of one storyline) than in a small one. Returns 0 when no row is flagged.
float background_similarity(std::span<const float> rank_similarity, std::span<const std::uint8_t> use = {});

/// Average-linkage agglomerative clustering of the rows: repeatedly merges the two clusters with the
/// highest mean cosine over all their cross pairs while it is at least threshold. The mean is exact
/// (for unit rows it equals dot(sum A, sum B) / (|A| |B|), kept per cluster); the graph only limits
/// which cluster pairs are scored to those joined by an edge. Because the mean runs over every member,
/// a cluster grows only with items that match its whole core, not just its newest member (no
/// single-link chaining, no drift). Returns a label per row, dense, numbered in order of each cluster's
/// first row. Deterministic (ties by row index). @pre rows are L2-normalised.
///
/// dated (empty, or one flag per row) and dated_threshold: two clusters whose members all carry a date
/// merge at dated_threshold instead. With a time window on the edges, closeness in time is evidence of
/// its own (Miranda et al. 2018 score it with Gaussian time features), so dated items may join on less
/// word overlap than undated ones.
///
/// row_threshold (empty, or one per row) replaces threshold: two clusters not both dated merge when
/// their mean cosine reaches the mean of their rows' thresholds (a threshold per language, say; for
/// clusters of one language, that language's).
///
/// Work per merge is bounded: a merged cluster scores its neighbours (at most twice
/// kMaxLinkNeighbours, 64) and keeps the 64 most similar for its next merge; every neighbour above the
/// threshold stays a candidate until then. scored_pairs, when given, receives the number of cluster
/// pairs scored (edges included): at most edges + 2 * 64 per merge.
std::vector<std::uint32_t> average_linkage(const Eigen::SparseMatrix<float, Eigen::RowMajor>& rows,
                                           std::span<const Edge> edges, float threshold,
                                           std::span<const std::uint8_t> dated = {},
                                           float dated_threshold = 0.0f,
                                           std::span<const float> row_threshold = {},
                                           std::size_t* scored_pairs = nullptr);

/// The join-or-new pass that follows average linkage (after Miranda et al. 2018): each cluster of fewer
/// than min_members rows joins the cluster of at least min_members rows whose centroid is most similar
/// to its own, when that cosine reaches threshold (pairs found by neighbor_graph on the centroids with
/// search, its min_similarity replaced by threshold). Larger clusters never move, so one pass settles
/// it. labels (dense) are rewritten, dense again, numbered in order of each cluster's first row.
/// Deterministic. min_members <= 1 changes nothing.
void join_small_clusters(const Eigen::SparseMatrix<float, Eigen::RowMajor>& rows,
                         std::vector<std::uint32_t>& labels, std::uint32_t min_members, float threshold,
                         NeighborParams search = {});

/// Refinement after agglomeration: spherical k-means steps that start from the given clusters. In each
/// of at most `rounds` rounds, every row of a cluster of two or more rows moves to the cluster whose
/// centroid is most similar to it (cosine with the sum of the cluster's rows), its own cluster counted
/// without the row itself, so that a row is not held by its own weight. The clusters compared are the
/// row's own and those of its neighbours in edges, which keeps a round linear in the edges. All rows
/// move at once, so the result does not depend on the order or thread count; it stops early when no row
/// moves. Single rows stay (the join pass is their remedy). labels (dense) are rewritten, dense again,
/// numbered in order of each cluster's first row. @pre rows are L2-normalised.
void refine_clusters(const Eigen::SparseMatrix<float, Eigen::RowMajor>& rows, std::span<const Edge> edges,
                     std::vector<std::uint32_t>& labels, std::uint32_t rounds);

/// Joins clusters told in different languages: the same storyline reported in Spanish and in English
/// forms a thread in each, since their words differ; their names agree (the bridge's name features:
/// Siria and Syria, Asad and Assad, as one). name_rows holds, per row (story), only those features.
/// Each cluster's name centroid (the normalised sum of its rows') is compared with the others' through
/// neighbor_graph (search, its min_similarity replaced by threshold); pairs at or above threshold join
/// in order of similarity (ties: smaller indexes), a pair only when its two clusters are in different
/// languages and the groups they belong to share no language (one cluster per language in a group, so
/// that two storylines of one language are never joined through a third). A cluster's language is the
/// one most of its rows' weight has (row_language, row_weight: one per row). labels (dense) are
/// rewritten, dense again, numbered in order of each cluster's first row. Returns the joins made.
std::size_t join_across_languages(const Eigen::SparseMatrix<float, Eigen::RowMajor>& name_rows,
                                  std::span<const std::uint8_t> row_language,
                                  std::span<const std::uint32_t> row_weight,
                                  std::vector<std::uint32_t>& labels, float threshold,
                                  NeighborParams search = {});

/// Scales each row to unit length (rows of norm 0 stay as they are).
void normalize_rows(Eigen::SparseMatrix<float, Eigen::RowMajor>& rows);

/// Sum of the rows of each cluster, L2-normalised: one row per cluster (labels dense from 0). With
/// max_terms > 0, each sum keeps only its max_terms heaviest entries before it is normalised (a story of
/// many documents sums thousands of terms; its heaviest say what it is about). Parallel (oneTBB);
/// the result does not depend on the thread count.
Eigen::SparseMatrix<float, Eigen::RowMajor> centroids(const Eigen::SparseMatrix<float, Eigen::RowMajor>& rows,
                                                      std::span<const std::uint32_t> labels,
                                                      std::size_t clusters, std::uint32_t max_terms = 0);

}  // namespace storyline
