#include "storyline/cluster.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>

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
  std::vector<float> dense;                // the probing row, scattered
  std::vector<std::pair<int, float>> top;  // the probing row's top terms
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
  // Inverted index over each row's top terms (CSR: offsets per column). A row's top terms are found
  // again where they are needed rather than kept (at 10M rows they would be 2 GB).
  tbb::enumerable_thread_specific<std::vector<std::pair<int, float>>> top_buffers;
  tbb::enumerable_thread_specific<std::vector<std::size_t>> local_counts(
      [&] { return std::vector<std::size_t>(static_cast<std::size_t>(rows.cols()) + 1, 0); });
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n), [&](const auto& range) {
    auto& top = top_buffers.local();
    auto& counts = local_counts.local();
    for (std::size_t i = range.begin(); i < range.end(); ++i) {
      top_terms(rows, static_cast<Eigen::Index>(i), params.candidate_terms, top);
      for (const auto& [col, w] : top) ++counts[static_cast<std::size_t>(col) + 1];
    }
  });
  std::vector<std::size_t> offsets(static_cast<std::size_t>(rows.cols()) + 1, 0);
  for (auto& counts : local_counts) {
    for (std::size_t c = 0; c < offsets.size(); ++c) offsets[c] += counts[c];
    std::vector<std::size_t>().swap(counts);
  }
  for (std::size_t c = 1; c < offsets.size(); ++c) offsets[c] += offsets[c - 1];
  const bool windowed = params.window_days >= 0 && !dates.empty();
  std::vector<Posting> postings(offsets.back());
  {
    std::vector<std::size_t> fill(offsets.begin(), offsets.end() - 1);
    auto& top = top_buffers.local();
    for (std::size_t i = 0; i < n; ++i) {
      const std::int32_t date = windowed ? dates[i] : kNoDate;
      top_terms(rows, static_cast<Eigen::Index>(i), params.candidate_terms, top);
      for (const auto& [col, w] : top)
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

  // Each row's edges in its own k slots of one array (no vector per row), compacted in place after.
  const std::size_t k = params.k;
  std::vector<Edge> found(n * k);
  std::vector<std::uint32_t> found_count(n, 0);
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
      top_terms(rows, static_cast<Eigen::Index>(i), params.candidate_terms, s.top);
      for (const auto& [col, w] : s.top) {
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
        found[i * k + found_count[i]++] =
            Edge{std::min(static_cast<DocIndex>(i), j), std::max(static_cast<DocIndex>(i), j), sim};
      }
    }
  });
  std::size_t kept = 0;  // (kept <= i * k + e: a slot is read before it is overwritten)
  for (std::size_t i = 0; i < n; ++i) {
    for (std::uint32_t e = 0; e < found_count[i]; ++e) found[kept++] = found[i * k + e];
  }
  found.resize(kept);
  std::sort(found.begin(), found.end(),
            [](const Edge& x, const Edge& y) { return x.a != y.a ? x.a < y.a : x.b < y.b; });
  found.erase(std::unique(found.begin(), found.end(),
                          [](const Edge& x, const Edge& y) { return x.a == y.a && x.b == y.b; }),
              found.end());
  return found;
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

// A cluster's sum of member rows, sorted by column: owned by a cluster of two or more rows; a single
// row's is a view of the row itself, so that the linkage holds no second copy of the matrix.
struct SumVector {
  std::vector<int> col;
  std::vector<float> value;
};
struct SumView {
  const int* col;
  const float* value;
  std::size_t size;
};
SumView view(const SumVector& v) { return {v.col.data(), v.value.data(), v.col.size()}; }

double dot(SumView x, SumView y) {
  if (x.size > 8 * y.size) return dot(y, x);
  if (y.size > 8 * x.size) {
    // A small cluster against a large one: look each of the few entries up instead of walking both.
    double d = 0.0;
    const int* from = y.col;
    const int* const end = y.col + y.size;
    for (std::size_t i = 0; i < x.size; ++i) {
      from = std::lower_bound(from, end, x.col[i]);
      if (from == end) break;
      if (*from == x.col[i]) d += static_cast<double>(x.value[i]) * y.value[from - y.col];
    }
    return d;
  }
  double d = 0.0;
  std::size_t i = 0, j = 0;
  while (i < x.size && j < y.size) {
    if (x.col[i] < y.col[j]) {
      ++i;
    } else if (y.col[j] < x.col[i]) {
      ++j;
    } else {
      d += static_cast<double>(x.value[i++]) * y.value[j++];
    }
  }
  return d;
}

SumVector add(SumView x, SumView y) {
  // Allocated to the exact size of the union: the documents of one story share most of their terms,
  // so x.size + y.size would hold up to twice what the linkage needs.
  std::size_t size = 0;
  for (std::size_t i = 0, j = 0; i < x.size || j < y.size; ++size) {
    if (j == y.size || (i < x.size && x.col[i] < y.col[j])) {
      ++i;
    } else if (i == x.size || y.col[j] < x.col[i]) {
      ++j;
    } else {
      ++i, ++j;
    }
  }
  SumVector out;
  out.col.reserve(size);
  out.value.reserve(size);
  std::size_t i = 0, j = 0;
  while (i < x.size || j < y.size) {
    if (j == y.size || (i < x.size && x.col[i] < y.col[j])) {
      out.col.push_back(x.col[i]), out.value.push_back(x.value[i++]);
    } else if (i == x.size || y.col[j] < x.col[i]) {
      out.col.push_back(y.col[j]), out.value.push_back(y.value[j++]);
    } else {
      out.col.push_back(x.col[i]), out.value.push_back(x.value[i++] + y.value[j++]);
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
  RowMatrix compressed;  // (the rows' arrays are read directly, so they must be compressed)
  if (!rows.isCompressed()) compressed = rows, compressed.makeCompressed();
  const RowMatrix& m = rows.isCompressed() ? rows : compressed;
  std::vector<SumVector> sums(n);  // of clusters of two or more rows
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
  const auto sum_of = [&](DocIndex c) {
    if (size[c] > 1) return view(sums[c]);
    const int begin = m.outerIndexPtr()[c];
    return SumView{m.innerIndexPtr() + begin, m.valuePtr() + begin,
                   static_cast<std::size_t>(m.outerIndexPtr()[c + 1] - begin)};
  };
  struct Candidate {
    double mean;
    DocIndex a, b;
    std::uint32_t version_a, version_b;
    bool operator<(const Candidate& o) const {  // max-heap: highest mean, then smallest (a, b)
      if (mean != o.mean) return mean < o.mean;
      return a != o.a ? a > o.a : b > o.b;
    }
  };
  // A max-heap of candidates; merges leave stale ones behind (skipped when they come up), so it is
  // rebuilt without them whenever it has doubled since the last rebuild: the same pops, less memory.
  std::vector<Candidate> heap;
  std::size_t rebuild_at = std::size_t{1} << 20;
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
    if (mean >= bar) {
      heap.push_back({mean, a, b, version[a], version[b]});
      std::push_heap(heap.begin(), heap.end());
    }
  };
  // A merged cluster is scored against all its neighbours at once: its sum scattered into a dense row,
  // each neighbour then costs its own size (walking the merged sum again per neighbour made large
  // clusters quadratic). The products and their order are dot()'s, so the scores are the same.
  std::vector<float> dense(static_cast<std::size_t>(rows.cols()), 0.0f);
  std::vector<double> products;
  std::size_t scored = edges.size();
  const auto push_all = [&](DocIndex keep, std::vector<DocIndex>& neighbours) {
    const SumView k = sum_of(keep);
    for (std::size_t e = 0; e < k.size; ++e) dense[static_cast<std::size_t>(k.col[e])] = k.value[e];
    products.resize(neighbours.size());
    for (std::size_t i = 0; i < neighbours.size(); ++i) {
      const SumView y = sum_of(neighbours[i]);
      if (y.size > 8 * k.size) {  // a small merged cluster against a large one: dot() looks up
        products[i] = dot(k, y);
        continue;
      }
      double d = 0.0;
      for (std::size_t e = 0; e < y.size; ++e) {
        const float x = dense[static_cast<std::size_t>(y.col[e])];
        if (x != 0.0f) d += static_cast<double>(x) * y.value[e];
      }
      products[i] = d;
    }
    for (std::size_t e = 0; e < k.size; ++e) dense[static_cast<std::size_t>(k.col[e])] = 0.0f;
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
                      [&](std::size_t e) { first[e] = dot(sum_of(edges[e].a), sum_of(edges[e].b)); });
    for (std::size_t e = 0; e < edges.size(); ++e) push_scored(edges[e].a, edges[e].b, first[e]);
  }
  const auto stale = [&](const Candidate& c) {
    return parent[c.a] != c.a || parent[c.b] != c.b || version[c.a] != c.version_a ||
           version[c.b] != c.version_b;
  };
  while (!heap.empty()) {
    if (heap.size() >= rebuild_at) {
      std::erase_if(heap, stale);
      std::make_heap(heap.begin(), heap.end());
      heap.shrink_to_fit();
      rebuild_at = std::max(rebuild_at, 2 * heap.size());
    }
    std::pop_heap(heap.begin(), heap.end());
    const Candidate top = heap.back();
    heap.pop_back();
    if (parent[top.a] != top.a || parent[top.b] != top.b) continue;                    // merged away
    if (version[top.a] != top.version_a || version[top.b] != top.version_b) continue;  // stale score
    // Keep the larger cluster's slot (ties: the smaller index).
    DocIndex keep = top.a, gone = top.b;
    if (size[gone] > size[keep] || (size[gone] == size[keep] && gone < keep)) std::swap(keep, gone);
    parent[gone] = keep;
    SumVector merged = add(sum_of(keep), sum_of(gone));
    size[keep] += size[gone];
    undated[keep] += undated[gone];
    if (!threshold_sum.empty()) threshold_sum[keep] += threshold_sum[gone];
    ++version[keep];
    sums[keep] = std::move(merged);
    sums[gone] = SumVector();
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

// The sum of the rows of each cluster: one row per cluster, each summed in row order (as a product
// of a membership matrix and the rows would), in two passes (count, then fill) so that no copy of the
// result is held; with max_terms > 0, each sum keeps only its max_terms heaviest entries (ties: the
// smaller column). Parallel over clusters (oneTBB).
RowMatrix cluster_sums(const RowMatrix& rows, std::span<const std::uint32_t> labels, std::size_t clusters,
                       std::uint32_t max_terms = 0) {
  STORYLINE_CHECK_ARG(labels.size() == static_cast<std::size_t>(rows.rows()), "one label per row");
  std::vector<std::size_t> offsets(clusters + 1, 0);
  for (const std::uint32_t c : labels) {
    STORYLINE_CHECK_ARG(c < clusters, "label out of range");
    ++offsets[c + 1];
  }
  for (std::size_t c = 1; c <= clusters; ++c) offsets[c] += offsets[c - 1];
  std::vector<DocIndex> members(labels.size());
  {
    std::vector<std::size_t> fill(offsets.begin(), offsets.end() - 1);
    for (std::size_t r = 0; r < labels.size(); ++r) members[fill[labels[r]]++] = static_cast<DocIndex>(r);
  }
  struct Sum {
    std::vector<float> dense;
    std::vector<int> touched;
    std::vector<std::pair<int, float>> entries;
  };
  tbb::enumerable_thread_specific<Sum> scratch([&] {
    return Sum{std::vector<float>(static_cast<std::size_t>(rows.cols()), 0.0f), {}, {}};
  });
  // Sums cluster c into scratch's entries (sorted by column, capped), leaving the dense row clear.
  const auto sum = [&](std::size_t c, Sum& s) {
    s.touched.clear();
    for (std::size_t m = offsets[c]; m < offsets[c + 1]; ++m) {
      for (RowMatrix::InnerIterator it(rows, members[m]); it; ++it) {
        float& x = s.dense[static_cast<std::size_t>(it.index())];
        if (x == 0.0f) s.touched.push_back(static_cast<int>(it.index()));
        x += it.value();
      }
    }
    s.entries.clear();
    for (const int col : s.touched) {
      float& x = s.dense[static_cast<std::size_t>(col)];
      if (x != 0.0f) s.entries.emplace_back(col, x);
      x = 0.0f;
    }
    if (max_terms > 0 && s.entries.size() > max_terms) {
      std::nth_element(s.entries.begin(), s.entries.begin() + max_terms, s.entries.end(),
                       [](const auto& x, const auto& y) {
                         return x.second != y.second ? x.second > y.second : x.first < y.first;
                       });
      s.entries.resize(max_terms);
    }
    std::sort(s.entries.begin(), s.entries.end());
  };
  std::vector<std::int64_t> outer(clusters + 1, 0);
  tbb::parallel_for(std::size_t{0}, clusters, [&](std::size_t c) {
    Sum& s = scratch.local();
    sum(c, s);
    outer[c + 1] = static_cast<std::int64_t>(s.entries.size());
  });
  for (std::size_t c = 0; c < clusters; ++c) outer[c + 1] += outer[c];
  STORYLINE_CHECK_ARG(outer[clusters] <= INT32_MAX, "more than 2^31 centroid entries");
  RowMatrix out(static_cast<Eigen::Index>(clusters), rows.cols());
  out.makeCompressed();
  out.resizeNonZeros(static_cast<Eigen::Index>(outer[clusters]));
  std::transform(outer.begin(), outer.end(), out.outerIndexPtr(),
                 [](std::int64_t k) { return static_cast<int>(k); });
  tbb::parallel_for(std::size_t{0}, clusters, [&](std::size_t c) {
    Sum& s = scratch.local();
    sum(c, s);
    auto at = static_cast<std::size_t>(outer[c]);
    for (const auto& [col, value] : s.entries) {
      out.innerIndexPtr()[at] = col;
      out.valuePtr()[at++] = value;
    }
  });
  return out;
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

RowMatrix centroids(const RowMatrix& rows, std::span<const std::uint32_t> labels, std::size_t clusters,
                    std::uint32_t max_terms) {
  RowMatrix sums = cluster_sums(rows, labels, clusters, max_terms);
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
