#include "dist/dedup_mpi.hpp"

#include <fcntl.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <optional>
#include <unordered_map>

#include "detail/corpus.hpp"
#include "detail/json_out.hpp"
#include "dist/comm.hpp"
#include "dist/dist_index.hpp"
#include "dist/input_split.hpp"
#include "dist/layout.hpp"
#include "dist/part_files.hpp"
#include "storyline/error.hpp"
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

class Job {
 public:
  Job(Comm& comm, const DedupJobOptions& options, JobObserver* observer)
      : comm_(comm),
        opt_(options),
        observer_(comm.rank() == 0 ? observer : nullptr),
        ranks_(static_cast<std::size_t>(comm.size())),
        steps_(comm, [this] {
          for (const PartFile& f : outputs_) remove_part_files(f, comm_.rank());
        }) {}

  DistDedupReport run() {
    const auto start = std::chrono::steady_clock::now();
    DistDedupReport out;
    out.ranks = comm_.size();
    detail::PhaseClock clock(out.job.phases);
    prepare_outputs();
    steps_.run([&] { parts_ = split_inputs(opt_.inputs, static_cast<unsigned>(ranks_)); });
    number_lines();
    const std::vector<InputPart>& mine = parts_[static_cast<std::size_t>(comm_.rank())];
    DedupParams params = opt_.dedup;
    OpenedIndex index;
    if (!opt_.index_path.empty()) {
      index = open_index(comm_, steps_, opt_.index_path);
      params = index.params;
      params.verify = opt_.dedup.verify;  // a run-time choice, not part of the index
    }
    // Boilerplate: the index's, or learnt by every rank alike from the first documents of the input.
    std::shared_ptr<const Boilerplate> boilerplate = index.boilerplate;
    if (opt_.index_path.empty()) {
      steps_.run([&] { boilerplate = find_boilerplate(opt_.inputs, opt_, out.job); });
      if (out.job.boilerplate_sampled > 0) clock.lap("boilerplate");
    }
    scheme_.emplace(params, boilerplate);
    out.job.boilerplate = boilerplate ? boilerplate->size() : 0;
    std::optional<detail::RejectsWriter> rejects;
    std::optional<detail::CorpusSink> docs;
    steps_.run([&] {
      rejects.emplace(outputs_[3].part);
      docs.emplace(*scheme_, index.documents, *rejects, observer_);
      read_index(index, *docs, exact());
      out.job.ingest = ingest_parts(opt_.inputs, mine, opt_.ingest, *docs, names_);
      rejects->close();
    });
    docs_ = &*docs;
    n_ = docs_->ids.size();
    prior_local_ = index.documents;
    out.documents = comm_.all(n_ - prior_local_);
    std::vector<std::vector<Segment>> index_segments;
    if (index.manifest) {
      for (const IndexManifest::Part& part : index.manifest->parts) index_segments.push_back(part.segments);
    }
    layout_ = Layout(index_segments, out.documents);
    STORYLINE_CHECK_ARG(layout_.total() < DocIndex(-1), "too many documents for 32-bit indexes");
    global_ = layout_.globals(static_cast<std::size_t>(comm_.rank()));
    out.job.prior_documents = layout_.prior();
    clock.lap("read");

    if (observer_ != nullptr) observer_->progress("group", out.job.ingest);
    group(out);
    choose_representatives(out);
    clock.lap("group");

    if (observer_ != nullptr) observer_->progress("write", out.job.ingest);
    steps_.run([&] { write_parts(mine); });
    for (const PartFile& f : outputs_) assemble(comm_, steps_, f);
    steps_.run([&] {
      if (comm_.rank() != 0) return;
      for (const PartFile& f : outputs_) publish(f);
    });
    clock.lap("write");
    if (!opt_.save_index_path.empty()) {
      out.job.index_skipped_ids =
          save_index(comm_, steps_, opt_.save_index_path, *scheme_, layout_, *docs_, global_);
      clock.lap("save index");
    }
    add_up(out);
    out.job.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
  }

 private:
  // Totals over the ranks.
  void add_up(DistDedupReport& out) {
    IngestStats& s = out.job.ingest;
    std::vector<std::uint64_t> sums{s.lines,
                                    s.documents,
                                    s.bytes,
                                    s.raw_bytes,
                                    out.job.groups,
                                    out.job.removed,
                                    out.job.candidate_pairs,
                                    out.job.verified_pairs,
                                    out.job.duplicates_of_prior,
                                    out.job.index_skipped_ids};
    sums.insert(sums.end(), s.issues.begin(), s.issues.end());
    comm_.sum(sums);
    s.lines = sums[0], s.documents = sums[1], s.bytes = sums[2], s.raw_bytes = sums[3];
    out.job.groups = sums[4], out.job.removed = sums[5];
    out.job.candidate_pairs = sums[6], out.job.verified_pairs = sums[7];
    out.job.duplicates_of_prior = sums[8], out.job.index_skipped_ids = sums[9];
    std::copy(sums.begin() + 10, sums.end(), s.issues.begin());
    out.job.params = scheme_->params();
    out.job.bands = scheme_->bands();
    out.bytes_exchanged = comm_.sum(comm_.bytes_sent());
    out.peak_rss_kb = comm_.all(detail::peak_rss_kb());
  }

  void prepare_outputs() {
    for (const std::string* p :
         {&opt_.kept_path, &opt_.annotated_path, &opt_.groups_path, &opt_.rejects_path}) {
      outputs_.push_back(part_file(*p, comm_.rank()));
    }
    steps_.run([&] {
      for (const std::string& in : opt_.inputs) {
        if (in == "-") steps_.refuse("stdin cannot be split between ranks: name the input files");
      }
      const detail::NamedOutput named[] = {{"--output", opt_.kept_path},
                                           {"--annotate", opt_.annotated_path},
                                           {"--groups", opt_.groups_path},
                                           {"--rejects", opt_.rejects_path},
                                           {"--save-index", opt_.save_index_path}};
      const detail::PreparedInputs check(opt_.inputs, named);
      names_ = check.names;
    });
  }

  // Line numbers: each rank counts the newlines of its byte ranges; a part starts after those of the
  // earlier parts of its file.
  void number_lines() {
    std::vector<std::uint64_t> part_lines;
    for (const auto& rank_parts : parts_) part_lines.resize(part_lines.size() + rank_parts.size(), 0);
    steps_.run([&] {
      std::size_t at = 0;
      for (int r = 0; r < comm_.rank(); ++r) at += parts_[static_cast<std::size_t>(r)].size();
      for (const InputPart& p : parts_[static_cast<std::size_t>(comm_.rank())]) {
        if (!p.whole()) part_lines[at] = count_newlines(opt_.inputs[p.file], p.begin, p.end);
        ++at;
      }
    });
    comm_.sum(part_lines);
    std::size_t at = 0;
    std::vector<std::uint64_t> before(opt_.inputs.size(), 0);
    for (std::size_t r = 0; r < ranks_; ++r) {
      for (InputPart& p : parts_[r]) {
        p.first_line = before[p.file] + 1;
        before[p.file] += part_lines[at++];
      }
    }
  }

  std::span<const std::uint32_t> fingerprint(std::size_t local) const {
    return std::span<const std::uint32_t>(docs_->fingerprints)
        .subspan(local * scheme_->words(), scheme_->words());
  }

  // Asks the home rank of each document for `width` values of T about it (answer(local index, out)).
  // Asks the home rank of each document about it: answer(local index, Packer&) writes the reply there,
  // read(i, Unpacker&) takes the reply to docs[i] here.
  template <class Answer, class Read>
  void ask_each(const std::vector<std::uint64_t>& docs, Answer&& answer, Read&& read) {
    std::vector<std::string> requests(ranks_);
    std::vector<std::vector<std::size_t>> order(ranks_);
    for (std::size_t i = 0; i < docs.size(); ++i) {
      const auto r = static_cast<std::size_t>(layout_.home(docs[i]));
      Packer(requests[r]).put(docs[i]);
      order[r].push_back(i);
    }
    const auto asked = comm_.exchange(std::move(requests));
    std::vector<std::string> replies(ranks_);
    for (std::size_t r = 0; r < ranks_; ++r) {
      Unpacker in(asked[r]);
      Packer reply(replies[r]);
      while (!in.done()) answer(layout_.local_of(in.get<std::uint64_t>()), reply);
    }
    const auto answered = comm_.exchange(std::move(replies));
    for (std::size_t r = 0; r < ranks_; ++r) {
      Unpacker in(answered[r]);
      for (const std::size_t i : order[r]) read(i, in);
    }
  }

  // The same with `width` values of T per document.
  template <class T, class Answer>
  std::vector<T> ask(const std::vector<std::uint64_t>& docs, std::size_t width, Answer&& answer) {
    std::vector<T> value(width), out(docs.size() * width);
    ask_each(
        docs,
        [&](std::size_t local, Packer& reply) {
          answer(local, value.data());
          reply.put_span(value.data(), width);
        },
        [&](std::size_t i, Unpacker& in) { in.get_span(out.data() + i * width, width); });
    return out;
  }

  // Shingle sets, for --verify exact.
  std::vector<std::vector<std::uint64_t>> sets_of(const std::vector<std::uint64_t>& docs) {
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

  bool exact() const { return scheme_->params().verify == Verify::kExact; }

  // Similarity as find_duplicate_groups measures it (shingle sets when verifying exactly and both have
  // one, else the fingerprints' estimate), and whether two documents are duplicates as it decides.
  double similarity(std::span<const std::uint32_t> print_a, std::span<const std::uint32_t> print_b,
                    const std::vector<std::uint64_t>* set_a, const std::vector<std::uint64_t>* set_b) const {
    if (exact() && !set_a->empty() && !set_b->empty()) return jaccard(*set_a, *set_b);
    return scheme_->similarity(print_a, print_b);
  }
  bool duplicate(std::span<const std::uint32_t> print_a, std::span<const std::uint32_t> print_b,
                 const std::vector<std::uint64_t>* set_a, const std::vector<std::uint64_t>* set_b) const {
    if (exact() && !set_a->empty() && !set_b->empty())
      return scheme_->sets_match(*set_a, *set_b, print_a, print_b);
    return scheme_->matches(print_a, print_b);
  }

  std::vector<std::uint32_t> fingerprints_of(const std::vector<std::uint64_t>& docs) {
    return ask<std::uint32_t>(docs, scheme_->words(), [&](std::size_t local, std::uint32_t* o) {
      std::ranges::copy(fingerprint(local), o);
    });
  }

  std::vector<std::uint64_t> labels_of(const std::vector<std::uint64_t>& docs) {
    return ask<std::uint64_t>(docs, 1, [&](std::size_t local, std::uint64_t* out) { *out = label_[local]; });
  }

  // LSH table by table, as find_duplicate_groups: each (key, document) goes to the rank that owns the
  // key; there a bucket's documents are verified against its first leaders, unless the components
  // found by the earlier tables already join them; the new links merge components before the next table.
  void group(DistDedupReport& out) {
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
        const auto end_of = [&](std::uint64_t k) {
          return k < batch_end.size() ? batch_end[k] : mixed.size();
        };
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
          const auto i =
              static_cast<std::size_t>(std::lower_bound(need.begin(), need.end(), a) - need.begin());
          const auto j =
              static_cast<std::size_t>(std::lower_bound(need.begin(), need.end(), b) - need.begin());
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
              ++out.job.candidate_pairs;
              if (is_duplicate(members[m], members[leader])) {
                ++out.job.verified_pairs;
                links.emplace_back(member_label[leader], member_label[m]);
                linked = true;
                break;
              }
            }
            if (!linked && leaders.size() < kMaxLeaders) leaders.push_back(m);
          }
        }
      }
      out.component_rounds += link(std::move(links));
      if (observer_ != nullptr) observer_->progress("group", out.job.ingest);
    }
  }

  // Joins the components that a table's links connect, by the rule of find_duplicate_groups: two
  // components with index documents stay apart; first the components without one merge, then each of
  // those joins the index document it links to with the smallest number. (A component's root is its
  // smallest document, so the root of one with an index document is that document.) Then every
  // document names its final root. Returns the rounds of hooking it took.
  std::uint64_t link(std::vector<std::pair<std::uint64_t, std::uint64_t>> links) {
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
  std::uint64_t merge_components(std::vector<std::pair<std::uint64_t, std::uint64_t>> links,
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
      jump(hooked);
    }
    return rounds;
  }

  // Each component linked to index documents hooks under the smallest of them (a root: components
  // with index documents are never hooked).
  void join_prior(std::vector<std::pair<std::uint64_t, std::uint64_t>> to_prior,
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
  void jump(const std::vector<std::size_t>& hooked) {
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
  // it, and the lines of --groups.
  void choose_representatives(DistDedupReport& out) {
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
      std::sort(members.begin(), members.end(),
                [](const Member& a, const Member& b) { return a.doc < b.doc; });
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
      ++out.job.groups;
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
    std::vector<std::string> to_rep(ranks_);
    for (const std::size_t local : grouped) {
      if (rep_[local] != global_[local] && !layout_.prior(global_[local])) {
        ++out.job.removed;
        if (layout_.prior(rep_[local])) ++out.job.duplicates_of_prior;
      }
      if (opt_.groups_path.empty()) continue;
      // Each rank writes the groups of a run of representatives, so that the parts are in their order.
      Packer p(to_rep[static_cast<std::size_t>(
          std::min<std::uint64_t>(ranks_ - 1, rep_[local] * ranks_ / layout_.total()))]);
      p.put(rep_[local]);
      p.put(global_[local]);
      p.put(similarity_[local]);
      p.put_string(docs_->ids[local]);
    }
    if (opt_.groups_path.empty()) return;
    struct Line {
      std::uint64_t rep, doc;
      float similarity;
      std::string id;
    };
    std::vector<Line> lines;
    for (const std::string& part : comm_.exchange(std::move(to_rep))) {
      Unpacker in(part);
      while (!in.done()) {
        Line l;
        l.rep = in.get<std::uint64_t>();
        l.doc = in.get<std::uint64_t>();
        l.similarity = in.get<float>();
        l.id = std::string(in.get_string());
        lines.push_back(std::move(l));
      }
    }
    // By representative; in a group the representative first, then the others in input order.
    std::sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) {
      if (a.rep != b.rep) return a.rep < b.rep;
      if ((a.doc == a.rep) != (b.doc == b.rep)) return a.doc == a.rep;
      return a.doc < b.doc;
    });
    for (std::size_t i = 0; i < lines.size();) {
      std::size_t j = i;
      while (j < lines.size() && lines[j].rep == lines[i].rep) ++j;
      group_lines_ += "{\"group\":";
      detail::append_json_string(group_lines_, lines[i].id);
      group_lines_ += ",\"size\":" + std::to_string(j - i) + ",\"members\":[";
      for (std::size_t m = i; m < j; ++m) {
        group_lines_ += m == i ? "{\"id\":" : ",{\"id\":";
        detail::append_json_string(group_lines_, lines[m].id);
        group_lines_ += ",\"similarity\":";
        detail::append_json_number(group_lines_, lines[m].similarity);
        if (layout_.prior(lines[m].doc)) group_lines_ += ",\"from_index\":true";
        group_lines_ += "}";
      }
      group_lines_ += "]}\n";
      i = j;
    }
  }

  // Pass 2 over this rank's parts: kept lines and annotated lines into the part files.
  void write_parts(const std::vector<InputPart>& mine) {
    std::optional<detail::OutputFile> kept, annotated;
    if (!outputs_[0].part.empty()) kept.emplace(outputs_[0].part);
    if (!outputs_[1].part.empty()) annotated.emplace(outputs_[1].part);
    std::string line_out, fields;
    if (kept || annotated) {
      detail::for_each_document_line(
          opt_.inputs, opt_.ingest.max_line_bytes, docs_->where,
          [&](std::size_t k, const std::string& line) {
            k += prior_local_;  // the k-th new document
            const bool is_rep = rep_[k] == global_[k];
            if (kept && is_rep) {
              line_out.assign(line);
              line_out.push_back('\n');
              kept->write(line_out);
            }
            if (!annotated) return;
            fields.clear();
            detail::append_dup_fields(fields, is_rep ? std::string_view(docs_->ids[k]) : rep_ids_.at(rep_[k]),
                                      is_rep);
            line_out.clear();
            detail::append_annotated(line_out, line, fields);
            annotated->write(line_out);
          },
          mine);
    }
    if (kept) kept->close();
    if (annotated) annotated->close();
    if (!outputs_[2].part.empty()) {
      detail::OutputFile groups(outputs_[2].part);
      groups.write(group_lines_);
      groups.close();
    }
  }

  Comm& comm_;
  const DedupJobOptions& opt_;
  JobObserver* observer_;
  std::optional<FingerprintScheme> scheme_;  // once the index (if any) is open
  std::size_t ranks_;
  Steps steps_;
  std::vector<PartFile> outputs_;  // kept, annotated, groups, rejects
  std::vector<std::string> names_;
  std::vector<std::vector<InputPart>> parts_;
  detail::CorpusSink* docs_ = nullptr;
  std::size_t n_ = 0;            // documents of this rank
  std::size_t prior_local_ = 0;  // documents of this rank's index file
  Layout layout_;
  std::vector<std::uint64_t> global_;  // per local document, its global number
  std::vector<std::uint64_t> label_;   // per document, its component's root (a global document)
  std::vector<std::uint64_t> rep_;     // per document, its representative
  std::vector<float> similarity_;      // per document, to its representative
  std::unordered_map<std::uint64_t, std::string> rep_ids_;  // ids of the representatives named above
  std::string group_lines_;                                 // this rank's part of --groups
};

}  // namespace

DistDedupReport run_dedup_mpi(Comm& comm, const DedupJobOptions& options, JobObserver* observer) {
  return Job(comm, options, observer).run();
}

}  // namespace storyline::dist
