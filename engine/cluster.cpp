#include "storyline/cluster.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <queue>

#include "storyline/error.hpp"

namespace storyline {
namespace {

using RowMatrix = Eigen::SparseMatrix<float, Eigen::RowMajor>;

// Neighbours a cluster scores again at its next merge, at most (see average_linkage).
constexpr std::size_t kMaxLinkNeighbours = 64;

struct Posting {
  DocIndex row;
  float weight;
  std::int32_t date;  // the row's, so that the time window is checked without a random read
};

// Per-thread scratch of the neighbour search: a dense accumulator and the rows it touched.
struct Scratch {
  std::vector<float> score;
  std::vector<DocIndex> touched;
  std::vector<std::pair<float, DocIndex>> ranked;
  std::vector<float> dense;  // the probing row, scattered
};

// dot(row a, row b) with row a scattered into `dense` (zero elsewhere): one pass over b's entries,
// without the branches of merging two sorted lists. The products are added in column order, as a merge
// would add them, so the result is the same float.
float scattered_dot(const RowMatrix& m, Eigen::Index b, const std::vector<float>& dense) {
  float dot = 0.0f;
  for (RowMatrix::InnerIterator y(m, b); y; ++y)
    dot += dense[static_cast<std::size_t>(y.index())] * y.value();
  return dot;
}

// The row's top terms by weight, as (column, weight).
void top_terms(const RowMatrix& m, Eigen::Index row, std::uint32_t count,
               std::vector<std::pair<int, float>>& out) {
  out.clear();
  for (RowMatrix::InnerIterator it(m, row); it; ++it)
    out.emplace_back(static_cast<int>(it.index()), it.value());
  const auto by_weight = [](const auto& x, const auto& y) {
    return x.second != y.second ? x.second > y.second : x.first < y.first;
  };
  if (out.size() > count) {
    std::partial_sort(out.begin(), out.begin() + count, out.end(), by_weight);
    out.resize(count);
  }
}

}  // namespace

std::vector<Edge> neighbor_graph(const RowMatrix& rows, std::span<const std::int32_t> dates,
                                 const NeighborParams& params, std::uint32_t rank,
                                 std::vector<float>* rank_similarity) {
  const auto n = static_cast<std::size_t>(rows.rows());
  STORYLINE_CHECK_ARG(dates.empty() || dates.size() == n, "one date per row");
  STORYLINE_CHECK_ARG(rank_similarity == nullptr || (rank >= 1 && rank <= params.rerank),
                      "rank must be between 1 and rerank");
  if (rank_similarity != nullptr) rank_similarity->assign(n, 0.0f);
  STORYLINE_CHECK_ARG(params.k >= 1 && params.candidate_terms >= 1, "k and candidate_terms must be positive");
  // Inverted index over each row's top terms (CSR: offsets per column).
  std::vector<std::vector<std::pair<int, float>>> tops(n);
  tbb::parallel_for(std::size_t{0}, n, [&](std::size_t i) {
    top_terms(rows, static_cast<Eigen::Index>(i), params.candidate_terms, tops[i]);
  });
  std::vector<std::size_t> offsets(static_cast<std::size_t>(rows.cols()) + 1, 0);
  for (const auto& t : tops) {
    for (const auto& [col, w] : t) ++offsets[static_cast<std::size_t>(col) + 1];
  }
  for (std::size_t c = 1; c < offsets.size(); ++c) offsets[c] += offsets[c - 1];
  const bool windowed = params.window_days >= 0 && !dates.empty();
  std::vector<Posting> postings(offsets.back());
  {
    std::vector<std::size_t> fill(offsets.begin(), offsets.end() - 1);
    for (std::size_t i = 0; i < n; ++i) {
      const std::int32_t date = windowed ? dates[i] : kNoDate;
      for (const auto& [col, w] : tops[i])
        postings[fill[static_cast<std::size_t>(col)]++] = {static_cast<DocIndex>(i), w, date};
    }
  }
  // Each posting list by weight, heaviest first: a probe reads at most max_postings of them, the rows
  // for which the term matters most, so a common term costs a bounded amount however large n grows.
  tbb::parallel_for(std::size_t{0}, offsets.size() - 1, [&](std::size_t c) {
    std::sort(postings.begin() + static_cast<std::ptrdiff_t>(offsets[c]),
              postings.begin() + static_cast<std::ptrdiff_t>(offsets[c + 1]),
              [](const Posting& x, const Posting& y) {
                return x.weight != y.weight ? x.weight > y.weight : x.row < y.row;
              });
  });
  // Undated rows (and every row without a window) carry kNoDate and pair with any row.
  const auto within_window = [&](std::int32_t a, std::int32_t b) {
    return a == kNoDate || b == kNoDate || std::abs(static_cast<std::int64_t>(a) - b) <= params.window_days;
  };

  std::vector<std::vector<Edge>> found(n);
  tbb::enumerable_thread_specific<Scratch> scratch([&] {
    Scratch s;
    s.score.assign(n, 0.0f);
    s.dense.assign(static_cast<std::size_t>(rows.cols()), 0.0f);
    return s;
  });
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n), [&](const auto& range) {
    Scratch& s = scratch.local();
    for (std::size_t i = range.begin(); i < range.end(); ++i) {
      s.touched.clear();
      const std::int32_t date = windowed ? dates[i] : kNoDate;
      for (const auto& [col, w] : tops[i]) {
        const std::size_t begin = offsets[static_cast<std::size_t>(col)];
        const std::size_t end =
            std::min(offsets[static_cast<std::size_t>(col) + 1], begin + params.max_postings);
        for (std::size_t p = begin; p < end; ++p) {
          const DocIndex j = postings[p].row;
          if (j == i || !within_window(date, postings[p].date)) continue;
          if (s.score[j] == 0.0f) s.touched.push_back(j);
          s.score[j] += w * postings[p].weight;
        }
      }
      s.ranked.clear();
      for (const DocIndex j : s.touched) {
        s.ranked.emplace_back(s.score[j], j);
        s.score[j] = 0.0f;
      }
      const auto better = [](const auto& x, const auto& y) {
        return x.first != y.first ? x.first > y.first : x.second < y.second;
      };
      if (s.ranked.size() > params.rerank) {
        std::partial_sort(s.ranked.begin(), s.ranked.begin() + params.rerank, s.ranked.end(), better);
        s.ranked.resize(params.rerank);
      }
      const auto row = static_cast<Eigen::Index>(i);
      for (RowMatrix::InnerIterator x(rows, row); x; ++x)
        s.dense[static_cast<std::size_t>(x.index())] = x.value();
      for (auto& [score, j] : s.ranked) score = scattered_dot(rows, j, s.dense);
      for (RowMatrix::InnerIterator x(rows, row); x; ++x) s.dense[static_cast<std::size_t>(x.index())] = 0.0f;
      std::sort(s.ranked.begin(), s.ranked.end(), better);
      if (rank_similarity != nullptr && s.ranked.size() >= rank)
        (*rank_similarity)[i] = s.ranked[rank - 1].first;
      for (std::size_t r = 0; r < s.ranked.size() && r < params.k; ++r) {
        const auto [sim, j] = s.ranked[r];
        if (sim < params.min_similarity) break;
        found[i].push_back(
            Edge{std::min(static_cast<DocIndex>(i), j), std::max(static_cast<DocIndex>(i), j), sim});
      }
    }
  });
  std::vector<Edge> edges;
  for (auto& f : found) edges.insert(edges.end(), f.begin(), f.end());
  std::sort(edges.begin(), edges.end(),
            [](const Edge& x, const Edge& y) { return x.a != y.a ? x.a < y.a : x.b < y.b; });
  edges.erase(std::unique(edges.begin(), edges.end(),
                          [](const Edge& x, const Edge& y) { return x.a == y.a && x.b == y.b; }),
              edges.end());
  return edges;
}

float background_similarity(std::span<const float> rank_similarity, std::span<const std::uint8_t> use) {
  STORYLINE_CHECK_ARG(use.empty() || use.size() == rank_similarity.size(), "one flag per row");
  std::vector<float> values;
  for (std::size_t r = 0; r < rank_similarity.size(); ++r) {
    if (use.empty() || use[r] != 0) values.push_back(rank_similarity[r]);
  }
  if (values.empty()) return 0.0f;
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

namespace {

// A cluster's sum of member rows, sorted by column.
using SumVector = std::vector<std::pair<int, float>>;

double dot(const SumVector& x, const SumVector& y) {
  if (x.size() > 8 * y.size()) return dot(y, x);
  if (y.size() > 8 * x.size()) {
    // A small cluster against a large one: look each of the few entries up instead of walking both.
    double d = 0.0;
    auto from = y.begin();
    for (const auto& [col, value] : x) {
      from = std::lower_bound(from, y.end(), col, [](const auto& e, int c) { return e.first < c; });
      if (from == y.end()) break;
      if (from->first == col) d += static_cast<double>(value) * from->second;
    }
    return d;
  }
  double d = 0.0;
  std::size_t i = 0, j = 0;
  while (i < x.size() && j < y.size()) {
    if (x[i].first < y[j].first) {
      ++i;
    } else if (y[j].first < x[i].first) {
      ++j;
    } else {
      d += static_cast<double>(x[i++].second) * y[j++].second;
    }
  }
  return d;
}

SumVector add(const SumVector& x, const SumVector& y) {
  SumVector out;
  out.reserve(x.size() + y.size());
  std::size_t i = 0, j = 0;
  while (i < x.size() || j < y.size()) {
    if (j == y.size() || (i < x.size() && x[i].first < y[j].first)) {
      out.push_back(x[i++]);
    } else if (i == x.size() || y[j].first < x[i].first) {
      out.push_back(y[j++]);
    } else {
      out.emplace_back(x[i].first, x[i].second + y[j].second);
      ++i, ++j;
    }
  }
  return out;
}

}  // namespace

std::vector<std::uint32_t> average_linkage(const RowMatrix& rows, std::span<const Edge> edges,
                                           float threshold, std::span<const std::uint8_t> dated,
                                           float dated_threshold, std::span<const float> row_threshold,
                                           std::size_t* scored_pairs) {
  const auto n = static_cast<std::size_t>(rows.rows());
  STORYLINE_CHECK_ARG(row_threshold.empty() || row_threshold.size() == n, "one threshold per row");
  std::vector<double> threshold_sum(row_threshold.begin(), row_threshold.end());  // per cluster
  // The mean cosine over all cross pairs of unit rows equals dot(sum A, sum B) / (|A| |B|), so each
  // cluster keeps the sum of its rows and every score is exact; the graph only says which pairs of
  // clusters are worth scoring (those joined by at least one edge).
  std::vector<SumVector> sums(n);
  tbb::parallel_for(std::size_t{0}, n, [&](std::size_t i) {
    const auto row = static_cast<Eigen::Index>(i);
    sums[i].reserve(static_cast<std::size_t>(rows.outerIndexPtr()[row + 1] - rows.outerIndexPtr()[row]));
    for (RowMatrix::InnerIterator it(rows, row); it; ++it)
      sums[i].emplace_back(static_cast<int>(it.index()), it.value());
  });
  std::vector<std::vector<DocIndex>> adjacent(n);
  for (const Edge& e : edges) {
    STORYLINE_CHECK_ARG(e.a < n && e.b < n && e.a != e.b, "edge out of range");
    adjacent[e.a].push_back(e.b);
    adjacent[e.b].push_back(e.a);
  }
  STORYLINE_CHECK_ARG(dated.empty() || dated.size() == n, "one dated flag per row");
  std::vector<std::uint32_t> size(n, 1), version(n, 0), undated(n, 0);
  for (std::size_t i = 0; i < dated.size(); ++i) undated[i] = dated[i] ? 0 : 1;
  std::vector<DocIndex> parent(n);
  for (std::size_t i = 0; i < n; ++i) parent[i] = static_cast<DocIndex>(i);
  struct Candidate {
    double mean;
    DocIndex a, b;
    std::uint32_t version_a, version_b;
    bool operator<(const Candidate& o) const {  // max-heap: highest mean, then smallest (a, b)
      if (mean != o.mean) return mean < o.mean;
      return a != o.a ? a > o.a : b > o.b;
    }
  };
  std::priority_queue<Candidate> heap;
  const auto find_root = [&](DocIndex x) {  // with path halving
    while (parent[x] != x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  // Pushes the pair when its mean (from dot, the dot product of the two sums) passes the threshold.
  const auto push_scored = [&](DocIndex x, DocIndex y, double dot_product) {
    const DocIndex a = std::min(x, y), b = std::max(x, y);
    const double mean = dot_product / (static_cast<double>(size[a]) * static_cast<double>(size[b]));
    const bool both_dated = !dated.empty() && undated[a] == 0 && undated[b] == 0;
    const double bar = both_dated              ? dated_threshold
                       : threshold_sum.empty() ? threshold
                                               : (threshold_sum[a] + threshold_sum[b]) / (size[a] + size[b]);
    if (mean >= bar) heap.push({mean, a, b, version[a], version[b]});
  };
  // A merged cluster is scored against all its neighbours at once: its sum scattered into a dense row,
  // each neighbour then costs its own size (walking the merged sum again per neighbour made large
  // clusters quadratic). The products and their order are dot()'s, so the scores are the same.
  std::vector<float> dense(static_cast<std::size_t>(rows.cols()), 0.0f);
  std::vector<double> products;
  std::size_t scored = edges.size();
  const auto push_all = [&](DocIndex keep, std::vector<DocIndex>& neighbours) {
    const SumVector& k = sums[keep];
    for (const auto& [col, value] : k) dense[static_cast<std::size_t>(col)] = value;
    products.resize(neighbours.size());
    for (std::size_t i = 0; i < neighbours.size(); ++i) {
      const SumVector& y = sums[neighbours[i]];
      if (y.size() > 8 * k.size()) {  // a small merged cluster against a large one: dot() looks up
        products[i] = dot(k, y);
        continue;
      }
      double d = 0.0;
      for (const auto& [col, value] : y) {
        const float x = dense[static_cast<std::size_t>(col)];
        if (x != 0.0f) d += static_cast<double>(x) * value;
      }
      products[i] = d;
    }
    for (const auto& [col, value] : k) dense[static_cast<std::size_t>(col)] = 0.0f;
    for (std::size_t i = 0; i < neighbours.size(); ++i) push_scored(keep, neighbours[i], products[i]);
    scored += neighbours.size();
    if (neighbours.size() <= kMaxLinkNeighbours) return;
    // Hardening #11: the work of a merge is bounded. A cluster remembers only its kMaxLinkNeighbours
    // most similar neighbours (mean cosine; ties: smaller index) to score again at its next merge;
    // every neighbour above the threshold was pushed above and stays a candidate until then. Without
    // the bound, a few hundred stories that absorb 200k tiny documents rescored thousands of
    // neighbours per merge, quadratic in the corpus.
    std::vector<std::pair<double, DocIndex>> ranked(neighbours.size());
    for (std::size_t i = 0; i < neighbours.size(); ++i) {
      ranked[i] = {products[i] / static_cast<double>(size[neighbours[i]]), neighbours[i]};
    }
    std::nth_element(ranked.begin(), ranked.begin() + kMaxLinkNeighbours, ranked.end(),
                     [](const auto& x, const auto& y) {
                       return x.first != y.first ? x.first > y.first : x.second < y.second;
                     });
    neighbours.resize(kMaxLinkNeighbours);
    for (std::size_t i = 0; i < kMaxLinkNeighbours; ++i) neighbours[i] = ranked[i].second;
    std::sort(neighbours.begin(), neighbours.end());
  };
  {  // the edges' first scores in parallel (the same dot() per pair), pushed in edge order
    std::vector<double> first(edges.size());
    tbb::parallel_for(std::size_t{0}, edges.size(),
                      [&](std::size_t e) { first[e] = dot(sums[edges[e].a], sums[edges[e].b]); });
    for (std::size_t e = 0; e < edges.size(); ++e) push_scored(edges[e].a, edges[e].b, first[e]);
  }
  while (!heap.empty()) {
    const Candidate top = heap.top();
    heap.pop();
    if (parent[top.a] != top.a || parent[top.b] != top.b) continue;                    // merged away
    if (version[top.a] != top.version_a || version[top.b] != top.version_b) continue;  // stale score
    // Keep the larger cluster's slot (ties: the smaller index).
    DocIndex keep = top.a, gone = top.b;
    if (size[gone] > size[keep] || (size[gone] == size[keep] && gone < keep)) std::swap(keep, gone);
    parent[gone] = keep;
    size[keep] += size[gone];
    undated[keep] += undated[gone];
    if (!threshold_sum.empty()) threshold_sum[keep] += threshold_sum[gone];
    ++version[keep];
    sums[keep] = add(sums[keep], sums[gone]);
    SumVector().swap(sums[gone]);
    // Neighbours of the merged cluster: the roots adjacent to either side.
    std::vector<DocIndex> next;
    for (const DocIndex side : {keep, gone}) {
      for (const DocIndex c : adjacent[side]) {
        const DocIndex root = find_root(c);
        if (root != keep) next.push_back(root);
      }
    }
    std::sort(next.begin(), next.end());
    next.erase(std::unique(next.begin(), next.end()), next.end());
    std::vector<DocIndex>().swap(adjacent[gone]);
    push_all(keep, next);
    adjacent[keep] = std::move(next);
  }
  if (scored_pairs != nullptr) *scored_pairs = scored;
  // Dense labels in order of first node.
  std::vector<std::uint32_t> label(n), root_label(n, UINT32_MAX);
  std::uint32_t next_label = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const DocIndex r = find_root(static_cast<DocIndex>(i));
    if (root_label[r] == UINT32_MAX) root_label[r] = next_label++;
    label[i] = root_label[r];
  }
  return label;
}

namespace {

// The sum of the rows of each cluster: one row per cluster.
RowMatrix cluster_sums(const RowMatrix& rows, std::span<const std::uint32_t> labels, std::size_t clusters) {
  STORYLINE_CHECK_ARG(labels.size() == static_cast<std::size_t>(rows.rows()), "one label per row");
  using Triplet = Eigen::Triplet<float>;
  std::vector<Triplet> assign;
  assign.reserve(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    STORYLINE_CHECK_ARG(labels[i] < clusters, "label out of range");
    assign.emplace_back(static_cast<int>(labels[i]), static_cast<int>(i), 1.0f);
  }
  RowMatrix membership(static_cast<Eigen::Index>(clusters), rows.rows());
  membership.setFromTriplets(assign.begin(), assign.end());
  RowMatrix sums = membership * rows;
  sums.makeCompressed();
  return sums;
}

}  // namespace

void normalize_rows(RowMatrix& rows) {
  for (Eigen::Index r = 0; r < rows.rows(); ++r) {
    double norm = 0.0;
    for (RowMatrix::InnerIterator it(rows, r); it; ++it) norm += static_cast<double>(it.value()) * it.value();
    if (norm <= 0.0) continue;
    const auto scale = static_cast<float>(1.0 / std::sqrt(norm));
    for (RowMatrix::InnerIterator it(rows, r); it; ++it) it.valueRef() *= scale;
  }
}

RowMatrix centroids(const RowMatrix& rows, std::span<const std::uint32_t> labels, std::size_t clusters) {
  RowMatrix sums = cluster_sums(rows, labels, clusters);
  normalize_rows(sums);
  return sums;
}

namespace {

// Dense labels in order of each label's first appearance.
void renumber(std::vector<std::uint32_t>& labels, std::size_t count) {
  std::vector<std::uint32_t> relabel(count, UINT32_MAX);
  std::uint32_t next = 0;
  for (std::uint32_t& c : labels) {
    if (relabel[c] == UINT32_MAX) relabel[c] = next++;
    c = relabel[c];
  }
}

// dot(row r of a, row c of b), looking each entry of a's row up in b's (sorted) row.
double sparse_dot(const RowMatrix& a, Eigen::Index r, const RowMatrix& b, Eigen::Index c) {
  const Eigen::Index begin = b.outerIndexPtr()[c];
  const Eigen::Index end = b.outerIndexPtr()[c + 1];
  const int* index = b.innerIndexPtr();
  double dot = 0.0;
  for (RowMatrix::InnerIterator it(a, r); it; ++it) {
    const int* found = std::lower_bound(index + begin, index + end, static_cast<int>(it.index()));
    if (found != index + end && *found == it.index()) dot += double(it.value()) * b.valuePtr()[found - index];
  }
  return dot;
}

}  // namespace

void join_small_clusters(const RowMatrix& rows, std::vector<std::uint32_t>& labels, std::uint32_t min_members,
                         float threshold, NeighborParams search) {
  STORYLINE_CHECK_ARG(labels.size() == static_cast<std::size_t>(rows.rows()), "one label per row");
  if (labels.empty() || min_members <= 1) return;
  const std::size_t count = *std::max_element(labels.begin(), labels.end()) + 1;
  std::vector<std::uint32_t> members(count, 0);
  for (const std::uint32_t c : labels) ++members[c];
  search.min_similarity = threshold;
  std::vector<std::uint32_t> target(count);
  std::vector<float> best(count, -1.0f);
  for (std::uint32_t c = 0; c < count; ++c) target[c] = c;
  for (const Edge& e : neighbor_graph(centroids(rows, labels, count), {}, search)) {
    for (const auto& [from, to] : {std::pair{e.a, e.b}, std::pair{e.b, e.a}}) {
      if (members[from] >= min_members || members[to] < min_members) continue;
      if (e.similarity > best[from]) best[from] = e.similarity, target[from] = to;
    }
  }
  for (std::uint32_t& c : labels) c = target[c];
  renumber(labels, count);
}

std::size_t join_across_languages(const RowMatrix& name_rows, std::span<const std::uint8_t> row_language,
                                  std::span<const std::uint32_t> row_weight,
                                  std::vector<std::uint32_t>& labels, float threshold,
                                  NeighborParams search) {
  const std::size_t n = labels.size();
  STORYLINE_CHECK_ARG(
      static_cast<std::size_t>(name_rows.rows()) == n && row_language.size() == n && row_weight.size() == n,
      "one name row, language and weight per label");
  if (n == 0) return 0;
  const std::size_t count = *std::max_element(labels.begin(), labels.end()) + 1;
  // Each cluster's language: the one with the most row weight (ties: the smaller code).
  constexpr std::size_t kLanguages = 64;
  std::vector<std::array<std::uint64_t, kLanguages>> weight(count, std::array<std::uint64_t, kLanguages>{});
  for (std::size_t r = 0; r < n; ++r) {
    STORYLINE_CHECK_ARG(row_language[r] < kLanguages, "language code out of range");
    weight[labels[r]][row_language[r]] += row_weight[r];
  }
  std::vector<std::uint64_t> language(count);  // as a bit
  for (std::size_t c = 0; c < count; ++c) {
    const auto top = std::max_element(weight[c].begin(), weight[c].end()) - weight[c].begin();
    language[c] = std::uint64_t{1} << top;
  }
  search.min_similarity = threshold;
  std::vector<Edge> edges = neighbor_graph(centroids(name_rows, labels, count), {}, search);
  std::sort(edges.begin(), edges.end(), [](const Edge& x, const Edge& y) {
    if (x.similarity != y.similarity) return x.similarity > y.similarity;
    return x.a != y.a ? x.a < y.a : x.b < y.b;
  });
  std::vector<DocIndex> parent(count);
  for (std::size_t c = 0; c < count; ++c) parent[c] = static_cast<DocIndex>(c);
  std::vector<std::uint64_t> languages(language);  // per root: the languages of its group
  const auto root = [&](DocIndex x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  std::size_t joins = 0;
  for (const Edge& e : edges) {
    if (language[e.a] == language[e.b]) continue;
    DocIndex a = root(e.a), b = root(e.b);
    if (a == b || (languages[a] & languages[b]) != 0) continue;
    if (b < a) std::swap(a, b);
    parent[b] = a;
    languages[a] |= languages[b];
    ++joins;
  }
  for (std::uint32_t& c : labels) c = root(c);
  renumber(labels, count);
  return joins;
}

void refine_clusters(const RowMatrix& rows, std::span<const Edge> edges, std::vector<std::uint32_t>& labels,
                     std::uint32_t rounds) {
  STORYLINE_CHECK_ARG(labels.size() == static_cast<std::size_t>(rows.rows()), "one label per row");
  if (labels.empty()) return;
  const std::size_t n = labels.size();
  std::vector<std::size_t> first(n + 1, 0);  // neighbours of row r: near[first[r] .. first[r + 1])
  for (const Edge& e : edges) ++first[e.a + 1], ++first[e.b + 1];
  for (std::size_t r = 1; r <= n; ++r) first[r] += first[r - 1];
  std::vector<DocIndex> near(first[n]);
  {
    std::vector<std::size_t> fill(first.begin(), first.end() - 1);
    for (const Edge& e : edges) near[fill[e.a]++] = e.b, near[fill[e.b]++] = e.a;
  }
  for (std::uint32_t round = 0; round < rounds; ++round) {
    const std::size_t count = *std::max_element(labels.begin(), labels.end()) + 1;
    std::vector<std::uint32_t> size(count, 0);
    for (const std::uint32_t c : labels) ++size[c];
    const RowMatrix sums = cluster_sums(rows, labels, count);
    std::vector<double> sum_norm2(count, 0.0);
    for (Eigen::Index c = 0; c < sums.rows(); ++c) {
      for (RowMatrix::InnerIterator it(sums, c); it; ++it) sum_norm2[c] += double(it.value()) * it.value();
    }
    std::vector<std::uint32_t> next(labels);
    tbb::enumerable_thread_specific<std::vector<std::uint32_t>> candidate_lists;
    tbb::parallel_for(std::size_t{0}, n, [&](std::size_t r) {
      const std::uint32_t own = labels[r];
      if (size[own] < 2) return;
      const auto row = static_cast<Eigen::Index>(r);
      double self = 0.0;
      for (RowMatrix::InnerIterator it(rows, row); it; ++it) self += double(it.value()) * it.value();
      // Own cluster without this row: sum - row, whose squared norm is |sum|^2 - 2 dot + |row|^2.
      const double own_dot = sparse_dot(rows, row, sums, own);
      const double rest = sum_norm2[own] - 2.0 * own_dot + self;
      double best = rest > 1e-12 ? (own_dot - self) / std::sqrt(rest) : 0.0;
      std::vector<std::uint32_t>& candidates = candidate_lists.local();
      candidates.clear();
      for (std::size_t k = first[r]; k < first[r + 1]; ++k) candidates.push_back(labels[near[k]]);
      std::sort(candidates.begin(), candidates.end());
      candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
      for (const std::uint32_t c : candidates) {
        if (c == own || sum_norm2[c] <= 0.0) continue;
        const double sim = sparse_dot(rows, row, sums, c) / std::sqrt(sum_norm2[c]);
        if (sim > best) best = sim, next[r] = c;
      }
    });
    const bool moved = next != labels;
    labels.swap(next);
    renumber(labels, count);
    if (!moved) break;
  }
}

}  // namespace storyline
