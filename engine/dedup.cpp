#include "storyline/dedup.hpp"

#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>

#include <algorithm>

#include "storyline/error.hpp"
#include "storyline/text.hpp"
#include "storyline/union_find.hpp"

namespace storyline {
namespace {

constexpr std::size_t kMaxLeaders = 64;

struct KeyedDoc {
  std::uint64_t key;
  DocIndex doc;
  bool operator<(const KeyedDoc& o) const { return key != o.key ? key < o.key : doc < o.doc; }
};

struct Edge {
  DocIndex a, b;
};

class Grouper {
 public:
  Grouper(const FingerprintScheme& scheme, const DedupInput& input)
      : scheme_(scheme), in_(input), n_(input.info.size()), words_(scheme.words()), uf_(n_) {
    if (in_.prior > 0) {
      prior_doc_.assign(n_, kNone);
      for (std::size_t d = 0; d < in_.prior; ++d) prior_doc_[d] = static_cast<DocIndex>(d);
    }
  }

  DuplicateGroups run() {
    DuplicateGroups out;
    if (n_ == 0) return out;
    const std::uint32_t tables = scheme_.key_count();
    std::vector<std::uint64_t> keys(n_ * tables);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n_), [&](const auto& range) {
      for (std::size_t i = range.begin(); i < range.end(); ++i) {
        scheme_.keys(fingerprint(static_cast<DocIndex>(i)), std::span(keys).subspan(i * tables, tables));
      }
    });
    std::vector<KeyedDoc> column(n_);
    for (std::uint32_t t = 0; t < tables; ++t) {
      tbb::parallel_for(std::size_t{0}, n_, [&](std::size_t i) {
        column[i] = KeyedDoc{keys[i * tables + t], static_cast<DocIndex>(i)};
      });
      tbb::parallel_sort(column.begin(), column.end());
      link_buckets(column, out);
    }
    choose_representatives(out);
    return out;
  }

 private:
  std::span<const std::uint32_t> fingerprint(DocIndex d) const {
    return in_.fingerprints.subspan(std::size_t{d} * words_, words_);
  }

  bool verify(DocIndex a, DocIndex b) const {
    if (scheme_.params().verify == Verify::kExact && !in_.sets[a].empty() && !in_.sets[b].empty()) {
      return scheme_.sets_match(in_.sets[a], in_.sets[b], fingerprint(a), fingerprint(b));
    }
    return scheme_.matches(fingerprint(a), fingerprint(b));
  }

  double similarity(DocIndex a, DocIndex b) const {
    if (scheme_.params().verify == Verify::kExact && !in_.sets[a].empty() && !in_.sets[b].empty()) {
      return jaccard(in_.sets[a], in_.sets[b]);
    }
    return scheme_.similarity(fingerprint(a), fingerprint(b));
  }

  // Verifies the buckets of one sorted table against the union-find state left by earlier tables
  // (read-only here, so chunks run in parallel and the outcome does not depend on the chunking), then
  // applies the new links.
  void link_buckets(const std::vector<KeyedDoc>& column, DuplicateGroups& out) {
    const std::size_t chunks = std::max<std::size_t>(1, std::min<std::size_t>(64, n_ / 4096));
    std::vector<std::size_t> bounds(chunks + 1, n_);
    for (std::size_t c = 0; c < chunks; ++c) {
      std::size_t b = c * n_ / chunks;
      while (b > 0 && b < n_ && column[b].key == column[b - 1].key) ++b;  // start at a bucket start
      bounds[c] = b;
    }
    std::vector<std::vector<Edge>> edges(chunks);
    std::vector<std::uint64_t> checked(chunks, 0);
    tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t c) {
      std::vector<DocIndex> leaders;
      for (std::size_t i = bounds[c]; i < std::max(bounds[c], bounds[c + 1]);) {
        std::size_t j = i + 1;
        while (j < n_ && column[j].key == column[i].key) ++j;
        if (j - i >= 2) {
          leaders.clear();
          for (std::size_t m = i; m < j; ++m) {
            const DocIndex doc = column[m].doc;
            bool linked = false;
            for (const DocIndex leader : leaders) {
              if (doc < in_.prior && leader < in_.prior) continue;
              if (uf_.find_const(doc) == uf_.find_const(leader)) {
                linked = true;
                break;
              }
              ++checked[c];
              if (verify(doc, leader)) {
                edges[c].push_back(Edge{leader, doc});
                linked = true;
                break;
              }
            }
            if (!linked && leaders.size() < kMaxLeaders) leaders.push_back(doc);
          }
        }
        i = j;
      }
    });
    for (std::size_t c = 0; c < chunks; ++c) {
      out.candidate_pairs += checked[c];
      out.verified_pairs += edges[c].size();
    }
    if (in_.prior == 0) {
      for (const auto& chunk : edges) {
        for (const Edge& e : chunk) uf_.unite(e.a, e.b);
      }
      return;
    }
    // Two prior documents stay apart even when linked through new ones. The rule does not depend on the
    // order of the links, so the distributed engine applies it too: first the links between groups
    // without a prior document; then each such group joins the prior document it links to with the
    // smallest index; links between two groups with prior documents are dropped.
    for (const auto& chunk : edges) {
      for (const Edge& e : chunk) {
        const DocIndex ra = uf_.find(e.a), rb = uf_.find(e.b);
        if (ra != rb && prior_of(ra) == kNone && prior_of(rb) == kNone) merge(ra, rb);
      }
    }
    std::vector<std::pair<DocIndex, DocIndex>> joins;  // (group without a prior document, prior document)
    for (const auto& chunk : edges) {
      for (const Edge& e : chunk) {
        const DocIndex ra = uf_.find(e.a), rb = uf_.find(e.b);
        const DocIndex pa = prior_of(ra), pb = prior_of(rb);
        if ((pa == kNone) != (pb == kNone)) joins.emplace_back(pa == kNone ? ra : rb, pa == kNone ? pb : pa);
      }
    }
    std::sort(joins.begin(), joins.end());  // by group, then its smallest prior document first
    for (std::size_t i = 0; i < joins.size(); ++i) {
      if (i == 0 || joins[i].first != joins[i - 1].first) merge(joins[i].first, joins[i].second);
    }
  }

  static constexpr DocIndex kNone = DocIndex(-1);

  // The prior document of root's group (at most one), or kNone.
  DocIndex prior_of(DocIndex root) const { return prior_doc_[root]; }

  void merge(DocIndex ra, DocIndex rb) {
    const DocIndex prior = std::min(prior_of(uf_.find(ra)), prior_of(uf_.find(rb)));
    uf_.unite(ra, rb);
    prior_doc_[uf_.find(ra)] = prior;
  }

  bool better(DocIndex a, DocIndex b) const {
    const bool pa = a < in_.prior, pb = b < in_.prior;
    if (pa != pb) return pa;
    return better_representative(in_.info[a], in_.ids[a], in_.info[b], in_.ids[b]);
  }

  void choose_representatives(DuplicateGroups& out) {
    std::vector<DocIndex> best(n_, DocIndex(-1));
    std::vector<std::uint32_t> members(n_, 0);
    for (std::size_t i = 0; i < n_; ++i) {
      const DocIndex root = uf_.find(static_cast<DocIndex>(i));
      ++members[root];
      if (best[root] == DocIndex(-1) || better(static_cast<DocIndex>(i), best[root])) {
        best[root] = static_cast<DocIndex>(i);
      }
    }
    out.representative.resize(n_);
    out.similarity.assign(n_, 1.0f);
    for (std::size_t i = 0; i < n_; ++i) {
      const DocIndex root = uf_.find_const(static_cast<DocIndex>(i));
      out.representative[i] = best[root];
      if (members[root] >= 2 && best[root] == i) ++out.groups;
    }
    tbb::parallel_for(std::size_t{0}, n_, [&](std::size_t i) {
      const DocIndex rep = out.representative[i];
      if (rep != i) out.similarity[i] = static_cast<float>(similarity(static_cast<DocIndex>(i), rep));
    });
  }

  const FingerprintScheme& scheme_;
  const DedupInput& in_;
  std::size_t n_;
  std::uint32_t words_;
  UnionFind uf_;
  std::vector<DocIndex> prior_doc_;  // per root, when there are prior documents
};

}  // namespace

bool better_representative(const DocInfo& a, const std::string& id_a, const DocInfo& b,
                           const std::string& id_b) {
  if (a.length != b.length) return a.length > b.length;
  // kNoDate is INT32_MIN: map it past every real date.
  const auto key = [](std::int32_t d) { return d == kNoDate ? INT64_MAX : std::int64_t{d}; };
  if (key(a.date) != key(b.date)) return key(a.date) < key(b.date);
  return id_a < id_b;
}

DuplicateGroups find_duplicate_groups(const FingerprintScheme& scheme, const DedupInput& input) {
  const std::size_t n = input.info.size();
  STORYLINE_CHECK_ARG(input.fingerprints.size() == n * scheme.words(), "one fingerprint per document");
  STORYLINE_CHECK_ARG(input.ids.size() == n, "one id per document");
  STORYLINE_CHECK_ARG(input.prior <= n, "prior cannot exceed the document count");
  STORYLINE_CHECK_ARG(scheme.params().verify != Verify::kExact || input.sets.size() == n,
                      "exact verification needs one shingle set per document");
  STORYLINE_CHECK_ARG(n < DocIndex(-1), "too many documents for 32-bit indexes");
  return Grouper(scheme, input).run();
}

}  // namespace storyline
