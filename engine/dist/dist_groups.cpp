#include "dist/dist_groups.hpp"

#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>
#include <xxhash.h>

#include <algorithm>

#include "detail/corpus.hpp"
#include "storyline/dedup.hpp"
#include "storyline/text.hpp"

namespace storyline::dist {
namespace {

constexpr std::size_t kMaxLeaders = 64;  // as in find_duplicate_groups
// Fingerprints fetched per batch (64 MB at 128 hashes).
constexpr std::size_t kBatchPrints = std::size_t{1} << 17;

// A document of a group, as its root's home rank sees it.
struct Member {
  std::uint64_t doc;
  DocInfo info;
  std::string id;
};

}  // namespace

DistGroups::DistGroups(Comm& comm, const Layout& layout, const FingerprintScheme& scheme,
                       const detail::CorpusSink& docs, const std::vector<std::uint64_t>& global)
    : comm_(comm),
      layout_(layout),
      scheme_(&scheme),
      docs_(&docs),
      global_(global),
      ranks_(static_cast<std::size_t>(comm.size())),
      n_(global.size()) {}

std::span<const std::uint32_t> DistGroups::fingerprint(std::size_t local) const {
  return std::span<const std::uint32_t>(docs_->fingerprints)
      .subspan(local * scheme_->words(), scheme_->words());
}

// Shingle sets, for --verify exact.
std::vector<std::vector<std::uint64_t>> DistGroups::sets_of(const std::vector<std::uint64_t>& docs) {
  std::vector<std::vector<std::uint64_t>> out(docs.size());
  ask_each(
      docs,
      [&](std::size_t local, Packer& reply) {
        const auto& set = docs_->sets[local];
        reply.put(static_cast<std::uint64_t>(set.size()));
        reply.put_span(set.data(), set.size());
      },
      [&](std::size_t i, Unpacker& in) {
        out[i].resize(in.get<std::uint64_t>());
        in.get_span(out[i].data(), out[i].size());
      });
  return out;
}

bool DistGroups::exact() const { return scheme_->params().verify == Verify::kExact; }

// Similarity as find_duplicate_groups measures it (shingle sets when verifying exactly and both have
// one, else the fingerprints' estimate), and whether two documents are duplicates as it decides.
double DistGroups::similarity(std::span<const std::uint32_t> print_a, std::span<const std::uint32_t> print_b,
                              const std::vector<std::uint64_t>* set_a,
                              const std::vector<std::uint64_t>* set_b) const {
  if (exact() && !set_a->empty() && !set_b->empty()) return jaccard(*set_a, *set_b);
  return scheme_->similarity(print_a, print_b);
}
bool DistGroups::duplicate(std::span<const std::uint32_t> print_a, std::span<const std::uint32_t> print_b,
                           const std::vector<std::uint64_t>* set_a,
                           const std::vector<std::uint64_t>* set_b) const {
  if (exact() && !set_a->empty() && !set_b->empty())
    return scheme_->sets_match(*set_a, *set_b, print_a, print_b);
  return scheme_->matches(print_a, print_b);
}

std::vector<std::uint32_t> DistGroups::fingerprints_of(const std::vector<std::uint64_t>& docs) {
  return ask<std::uint32_t>(docs, scheme_->words(), [&](std::size_t local, std::uint32_t* o) {
    std::ranges::copy(fingerprint(local), o);
  });
}

std::vector<std::uint64_t> DistGroups::labels_of(const std::vector<std::uint64_t>& docs) {
  return ask<std::uint64_t>(docs, 1, [&](std::size_t local, std::uint64_t* out) { *out = label_[local]; });
}

// LSH table by table, as find_duplicate_groups: each (key, document) goes to the rank that owns the
// key; there a bucket's documents are verified against its first leaders, unless the components
// found by the earlier tables already join them; the new links merge components before the next table.
void DistGroups::group(GroupCounts& counts, const std::function<void()>& progress) {
  const std::uint32_t tables = scheme_->key_count();
  label_ = global_;
  std::vector<std::uint64_t> keys(n_ * tables);
  tbb::parallel_for(std::size_t{0}, n_, [&](std::size_t i) {
    scheme_->keys(fingerprint(i), std::span(keys).subspan(i * tables, tables));
  });
  const std::size_t words = scheme_->words();
  for (std::uint32_t t = 0; t < tables; ++t) {
    std::vector<std::string> to_owner(ranks_);
    for (std::size_t i = 0; i < n_; ++i) {
      const std::uint64_t key = keys[i * tables + t];
      Packer p(to_owner[XXH3_64bits(&key, sizeof key) % ranks_]);
      p.put(key);
      p.put(global_[i]);
    }
    std::vector<std::pair<std::uint64_t, std::uint64_t>> column;  // (key, document), sorted
    for (const std::string& part : comm_.exchange(std::move(to_owner))) {
      Unpacker in(part);
      while (!in.done()) {
        const auto key = in.get<std::uint64_t>();
        column.emplace_back(key, in.get<std::uint64_t>());
      }
    }
    tbb::parallel_sort(column.begin(), column.end());
    // Buckets of two or more; the components of their documents; fingerprints where those differ.
    std::vector<std::pair<std::size_t, std::size_t>> buckets;
    std::vector<std::uint64_t> members;
    for (std::size_t i = 0; i < column.size();) {
      std::size_t j = i + 1;
      while (j < column.size() && column[j].first == column[i].first) ++j;
      if (j - i >= 2) {
        buckets.emplace_back(members.size(), members.size() + (j - i));
        for (std::size_t m = i; m < j; ++m) members.push_back(column[m].second);
      }
      i = j;
    }
    column = {};
    const std::vector<std::uint64_t> member_label = labels_of(members);
    // Buckets whose documents are not all in one component need verifying. Their fingerprints come
    // in batches of at most kBatchPrints, so what a rank holds stays bounded; every rank takes part
    // in as many batches as the rank with the most.
    const std::size_t batch_limit = exact() ? kBatchPrints / 16 : kBatchPrints;  // sets are larger
    std::vector<std::size_t> mixed;
    std::vector<std::size_t> batch_end;  // mixed[batch_end[k - 1] .. batch_end[k]) is batch k
    std::size_t in_batch = 0;
    for (std::size_t k = 0; k < buckets.size(); ++k) {
      const auto [b, e] = buckets[k];
      bool differ = false;
      for (std::size_t m = b + 1; m < e && !differ; ++m) differ = member_label[m] != member_label[b];
      if (!differ) continue;
      if (in_batch > 0 && in_batch + (e - b) > batch_limit) batch_end.push_back(mixed.size()), in_batch = 0;
      mixed.push_back(k);
      in_batch += e - b;
    }
    if (in_batch > 0) batch_end.push_back(mixed.size());
    const std::uint64_t batches = comm_.max(batch_end.size());
    std::vector<std::pair<std::uint64_t, std::uint64_t>> links;  // between components
    std::vector<std::size_t> leaders;
    for (std::uint64_t batch = 0; batch < batches; ++batch) {
      const auto end_of = [&](std::uint64_t k) { return k < batch_end.size() ? batch_end[k] : mixed.size(); };
      const std::size_t lo = batch == 0 ? 0 : end_of(batch - 1), hi = end_of(batch);
      std::vector<std::uint64_t> need;
      for (std::size_t k = lo; k < hi; ++k) {
        const auto [b, e] = buckets[mixed[k]];
        need.insert(need.end(), members.begin() + static_cast<std::ptrdiff_t>(b),
                    members.begin() + static_cast<std::ptrdiff_t>(e));
      }
      std::sort(need.begin(), need.end());
      need.erase(std::unique(need.begin(), need.end()), need.end());
      const std::vector<std::uint32_t> prints = fingerprints_of(need);
      const std::vector<std::vector<std::uint64_t>> sets =
          exact() ? sets_of(need) : std::vector<std::vector<std::uint64_t>>{};
      const auto is_duplicate = [&](std::uint64_t a, std::uint64_t b) {
        const auto i = static_cast<std::size_t>(std::lower_bound(need.begin(), need.end(), a) - need.begin());
        const auto j = static_cast<std::size_t>(std::lower_bound(need.begin(), need.end(), b) - need.begin());
        return duplicate(std::span<const std::uint32_t>(prints).subspan(i * words, words),
                         std::span<const std::uint32_t>(prints).subspan(j * words, words),
                         exact() ? &sets[i] : nullptr, exact() ? &sets[j] : nullptr);
      };
      for (std::size_t k = lo; k < hi; ++k) {
        const auto [b, e] = buckets[mixed[k]];
        leaders.clear();
        for (std::size_t m = b; m < e; ++m) {
          bool linked = false;
          for (const std::size_t leader : leaders) {
            if (layout_.prior(members[m]) && layout_.prior(members[leader])) continue;
            if (member_label[m] == member_label[leader]) {
              linked = true;
              break;
            }
            ++counts.candidate_pairs;
            if (is_duplicate(members[m], members[leader])) {
              ++counts.verified_pairs;
              links.emplace_back(member_label[leader], member_label[m]);
              linked = true;
              break;
            }
          }
          if (!linked && leaders.size() < kMaxLeaders) leaders.push_back(m);
        }
      }
    }
    counts.component_rounds += link(std::move(links));
    if (progress) progress();
  }
}

// Joins the components that a table's links connect, by the rule of find_duplicate_groups: two
// components with index documents stay apart; first the components without one merge, then each of
// those joins the index document it links to with the smallest number. (A component's root is its
// smallest document, so the root of one with an index document is that document.) Then every
// document names its final root. Returns the rounds of hooking it took.
std::uint64_t DistGroups::link(std::vector<std::pair<std::uint64_t, std::uint64_t>> links) {
  std::vector<std::size_t> hooked;  // local roots that got a parent in this table
  std::vector<std::pair<std::uint64_t, std::uint64_t>> to_prior;  // (component, index document)
  if (layout_.prior() > 0) {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> fresh;
    for (const auto& [a, b] : links) {
      if (!layout_.prior(a) && !layout_.prior(b)) fresh.emplace_back(a, b);
      if (layout_.prior(a) != layout_.prior(b)) {
        to_prior.emplace_back(layout_.prior(a) ? b : a, layout_.prior(a) ? a : b);
      }
    }
    links = std::move(fresh);
  }
  const std::uint64_t rounds = merge_components(std::move(links), hooked);
  if (layout_.prior() > 0) join_prior(std::move(to_prior), hooked);
  if (comm_.sum(hooked.size()) == 0) return rounds;
  // Documents whose root was hooked follow it.
  std::vector<std::uint64_t> roots;
  std::vector<std::size_t> who;
  for (std::size_t i = 0; i < n_; ++i) {
    if (label_[i] != global_[i]) roots.push_back(label_[i]), who.push_back(i);
  }
  const std::vector<std::uint64_t> final_root = labels_of(roots);
  for (std::size_t k = 0; k < who.size(); ++k) label_[who[k]] = final_root[k];
  return rounds;
}

// Hooks the larger root under the smaller, jumps pointers until every hooked root names its root,
// and repeats with the links between the new roots until none is left on any rank.
std::uint64_t DistGroups::merge_components(std::vector<std::pair<std::uint64_t, std::uint64_t>> links,
                                           std::vector<std::size_t>& hooked) {
  std::uint64_t rounds = 0;
  for (;;) {
    std::vector<std::uint64_t> ends;
    for (const auto& [a, b] : links) ends.push_back(a), ends.push_back(b);
    const std::vector<std::uint64_t> root = labels_of(ends);
    std::vector<std::pair<std::uint64_t, std::uint64_t>> next;
    for (std::size_t i = 0; i < links.size(); ++i) {
      const std::uint64_t a = root[2 * i], b = root[2 * i + 1];
      if (a != b) next.emplace_back(std::min(a, b), std::max(a, b));
    }
    std::sort(next.begin(), next.end());
    next.erase(std::unique(next.begin(), next.end()), next.end());
    links = std::move(next);
    if (comm_.sum(links.size()) == 0) break;
    ++rounds;
    std::vector<std::string> hooks(ranks_);
    for (const auto& [low, high] : links) {
      Packer p(hooks[static_cast<std::size_t>(layout_.home(high))]);
      p.put(high);
      p.put(low);
    }
    for (const std::string& part : comm_.exchange(std::move(hooks))) {
      Unpacker in(part);
      while (!in.done()) {
        const auto local = layout_.local_of(in.get<std::uint64_t>());
        const auto low = in.get<std::uint64_t>();
        if (low < label_[local]) {
          if (label_[local] == global_[local]) hooked.push_back(local);
          label_[local] = low;
        }
      }
    }
    DistGroups::jump(hooked);
  }
  return rounds;
}

// Each component linked to index documents hooks under the smallest of them (a root: components
// with index documents are never hooked).
void DistGroups::join_prior(std::vector<std::pair<std::uint64_t, std::uint64_t>> to_prior,
                            std::vector<std::size_t>& hooked) {
  std::vector<std::uint64_t> ends;
  for (const auto& link : to_prior) ends.push_back(link.first);
  const std::vector<std::uint64_t> root = labels_of(ends);
  std::vector<std::string> hooks(ranks_);
  for (std::size_t i = 0; i < to_prior.size(); ++i) {
    Packer p(hooks[static_cast<std::size_t>(layout_.home(root[i]))]);
    p.put(root[i]);
    p.put(to_prior[i].second);
  }
  std::vector<std::pair<std::size_t, std::uint64_t>> joins;  // (local root, index document)
  for (const std::string& part : comm_.exchange(std::move(hooks))) {
    Unpacker in(part);
    while (!in.done()) {
      const auto local = layout_.local_of(in.get<std::uint64_t>());
      joins.emplace_back(local, in.get<std::uint64_t>());
    }
  }
  std::sort(joins.begin(), joins.end());
  for (std::size_t i = 0; i < joins.size(); ++i) {
    if (i > 0 && joins[i].first == joins[i - 1].first) continue;
    label_[joins[i].first] = joins[i].second;
    hooked.push_back(joins[i].first);
  }
  jump(hooked);
}

// Pointer jumping over the hooked roots until each names its root.
void DistGroups::jump(const std::vector<std::size_t>& hooked) {
  for (;;) {
    std::vector<std::uint64_t> parents;
    for (const std::size_t local : hooked) parents.push_back(label_[local]);
    const std::vector<std::uint64_t> grand = labels_of(parents);
    std::uint64_t changed = 0;
    for (std::size_t i = 0; i < hooked.size(); ++i) {
      if (grand[i] != label_[hooked[i]]) label_[hooked[i]] = grand[i], ++changed;
    }
    if (comm_.sum(changed) == 0) break;
  }
}

// The representative of each component (its index document, else the longest complete text, the
// earliest date, the smallest id), chosen by the home rank of its root; then every member's similarity to
// it.
std::vector<std::size_t> DistGroups::choose_representatives(GroupCounts& counts) {
  rep_ = global_;
  similarity_.assign(n_, 1.0f);
  std::vector<std::string> to_root(ranks_);
  for (std::size_t i = 0; i < n_; ++i) {
    if (label_[i] == global_[i]) continue;
    Packer p(to_root[static_cast<std::size_t>(layout_.home(label_[i]))]);
    p.put(label_[i]);
    p.put(global_[i]);
    p.put(docs_->info[i]);
    p.put_string(docs_->ids[i]);
  }
  std::unordered_map<std::uint64_t, std::vector<Member>> groups;  // root -> members
  for (const std::string& part : comm_.exchange(std::move(to_root))) {
    Unpacker in(part);
    while (!in.done()) {
      const auto root = in.get<std::uint64_t>();
      Member m;
      m.doc = in.get<std::uint64_t>();
      m.info = in.get<DocInfo>();
      m.id = std::string(in.get_string());
      groups[root].push_back(std::move(m));
    }
  }
  std::vector<std::string> to_member(ranks_);
  for (auto& [root, members] : groups) {
    const auto local = layout_.local_of(root);
    members.push_back(Member{root, docs_->info[local], docs_->ids[local]});
    // In document order, replaced only by a strictly better one: the single-process choice, ties too.
    std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) { return a.doc < b.doc; });
    const Member* best = &members.front();  // the index document, if the group has one
    for (const Member& m : members) {
      if (!layout_.prior(root) && better_representative(m.info, m.id, best->info, best->id)) best = &m;
    }
    for (const Member& m : members) {
      Packer p(to_member[static_cast<std::size_t>(layout_.home(m.doc))]);
      p.put(m.doc);
      p.put(best->doc);
      p.put_string(best->id);
    }
    ++counts.groups;
  }
  groups.clear();
  std::vector<std::size_t> grouped;
  for (const std::string& part : comm_.exchange(std::move(to_member))) {
    Unpacker in(part);
    while (!in.done()) {
      const auto local = layout_.local_of(in.get<std::uint64_t>());
      rep_[local] = in.get<std::uint64_t>();
      rep_ids_.emplace(rep_[local], std::string(in.get_string()));
      grouped.push_back(local);
    }
  }
  std::sort(grouped.begin(), grouped.end());
  // Similarity to the representative: its fingerprint, fetched once per representative, in batches.
  std::vector<std::uint64_t> reps;
  for (const std::size_t local : grouped) reps.push_back(rep_[local]);
  std::sort(reps.begin(), reps.end());
  reps.erase(std::unique(reps.begin(), reps.end()), reps.end());
  const std::size_t words = scheme_->words();
  const std::size_t limit = exact() ? kBatchPrints / 16 : kBatchPrints;
  const std::uint64_t batches = comm_.max((reps.size() + limit - 1) / limit);
  for (std::uint64_t batch = 0; batch < batches; ++batch) {
    const std::size_t lo = std::min(reps.size(), batch * limit);
    const std::size_t hi = std::min(reps.size(), lo + limit);
    const std::vector<std::uint64_t> need(reps.begin() + static_cast<std::ptrdiff_t>(lo),
                                          reps.begin() + static_cast<std::ptrdiff_t>(hi));
    const std::vector<std::uint32_t> prints = fingerprints_of(need);
    const std::vector<std::vector<std::uint64_t>> sets =
        exact() ? sets_of(need) : std::vector<std::vector<std::uint64_t>>{};
    for (const std::size_t local : grouped) {
      const auto it = std::lower_bound(need.begin(), need.end(), rep_[local]);
      if (it == need.end() || *it != rep_[local] || rep_[local] == global_[local]) continue;
      const auto at = static_cast<std::size_t>(it - need.begin());
      similarity_[local] = static_cast<float>(
          similarity(fingerprint(local), std::span<const std::uint32_t>(prints).subspan(at * words, words),
                     exact() ? &docs_->sets[local] : nullptr, exact() ? &sets[at] : nullptr));
    }
  }
  return grouped;
}

}  // namespace storyline::dist
