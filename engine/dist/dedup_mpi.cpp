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
#include "dist/input_split.hpp"
#include "storyline/error.hpp"
#include "storyline/text.hpp"

namespace storyline::dist {
namespace {

constexpr std::size_t kMaxLeaders = 64;  // as in find_duplicate_groups
// Fingerprints fetched per batch (64 MB at 128 hashes).
constexpr std::size_t kBatchPrints = std::size_t{1} << 17;

std::uint64_t peak_rss_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

// A failure another rank reports (the same on every rank).
struct Quiet {};

// One output of the job: written by each rank to its own part file, then assembled.
struct Output {
  std::string path;  // final path, "-" for stdout, "" when not asked for
  std::string part;  // this rank's part
  std::string temp;  // the assembled file before its rename
};

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
        scheme_(options.dedup),
        ranks_(static_cast<std::size_t>(comm.size())) {}

  DistDedupReport run() {
    const auto start = std::chrono::steady_clock::now();
    DistDedupReport out;
    out.ranks = comm_.size();
    detail::PhaseClock clock(out.job.phases);
    prepare_outputs();
    std::optional<detail::RejectsWriter> rejects;
    std::optional<detail::CorpusSink> docs;
    std::vector<InputPart> mine;
    local_step([&] {
      parts_ = split_inputs(opt_.inputs, static_cast<unsigned>(ranks_));
      mine = parts_[static_cast<std::size_t>(comm_.rank())];
    });
    // Line numbers: each rank counts the newlines of its byte ranges; a part starts after those of the
    // earlier parts of its file.
    std::vector<std::uint64_t> part_lines;
    for (const auto& rank_parts : parts_) part_lines.resize(part_lines.size() + rank_parts.size(), 0);
    local_step([&] {
      std::size_t at = 0;
      for (int r = 0; r < comm_.rank(); ++r) at += parts_[static_cast<std::size_t>(r)].size();
      for (const InputPart& p : mine) {
        if (!p.whole()) part_lines[at] = count_newlines(opt_.inputs[p.file], p.begin, p.end);
        ++at;
      }
    });
    comm_.sum(part_lines);
    {
      std::size_t at = 0;
      std::vector<std::uint64_t> before(opt_.inputs.size(), 0);
      for (std::size_t r = 0; r < ranks_; ++r) {
        for (InputPart& p : parts_[r]) {
          p.first_line = before[p.file] + 1;
          before[p.file] += part_lines[at++];
        }
      }
      mine = parts_[static_cast<std::size_t>(comm_.rank())];
    }
    local_step([&] {
      rejects.emplace(outputs_[3].part);
      docs.emplace(scheme_, 0, *rejects, observer_);
      out.job.ingest = ingest_parts(opt_.inputs, mine, opt_.ingest, *docs, names_);
      rejects->close();
    });
    docs_ = &*docs;
    n_ = docs_->ids.size();
    const auto counts = comm_.all(n_);
    first_.assign(ranks_ + 1, 0);
    for (std::size_t r = 0; r < ranks_; ++r) first_[r + 1] = first_[r] + counts[r];
    STORYLINE_CHECK_ARG(first_[ranks_] < DocIndex(-1), "too many documents for 32-bit indexes");
    g0_ = first_[static_cast<std::size_t>(comm_.rank())];
    out.documents = counts;
    clock.lap("read");

    if (observer_ != nullptr) observer_->progress("group", out.job.ingest);
    group(out);
    choose_representatives(out);
    clock.lap("group");

    if (observer_ != nullptr) observer_->progress("write", out.job.ingest);
    local_step([&] { write_parts(mine); });
    for (std::size_t o = 0; o < outputs_.size(); ++o) assemble(outputs_[o]);
    local_step([&] {
      if (comm_.rank() != 0) return;
      for (const Output& o : outputs_) {
        if (o.path.empty() || o.path == "-") continue;
        if (std::rename(o.temp.c_str(), o.path.c_str()) != 0) {
          throw IoError("cannot rename '" + o.temp + "' to '" + o.path + "': " + std::strerror(errno));
        }
      }
    });
    clock.lap("write");

    // Totals over the ranks.
    IngestStats& s = out.job.ingest;
    std::vector<std::uint64_t> sums{s.lines,
                                    s.documents,
                                    s.bytes,
                                    s.raw_bytes,
                                    out.job.groups,
                                    out.job.removed,
                                    out.job.candidate_pairs,
                                    out.job.verified_pairs};
    sums.insert(sums.end(), s.issues.begin(), s.issues.end());
    comm_.sum(sums);
    s.lines = sums[0], s.documents = sums[1], s.bytes = sums[2], s.raw_bytes = sums[3];
    out.job.groups = sums[4], out.job.removed = sums[5];
    out.job.candidate_pairs = sums[6], out.job.verified_pairs = sums[7];
    std::copy(sums.begin() + 8, sums.end(), s.issues.begin());
    out.job.params = scheme_.params();
    out.job.bands = scheme_.bands();
    out.bytes_exchanged = comm_.sum(comm_.bytes_sent());
    out.peak_rss_kb = comm_.all(peak_rss_kb());
    out.job.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
  }

 private:
  // Runs a step that touches only this rank's data. Then every rank learns whether any failed: all
  // remove their temporary files and throw JobFailed, the failing ones with their cause.
  template <class F>
  void local_step(F&& step) {
    bool ok = true;
    std::string cause;
    try {
      step();
    } catch (const Quiet&) {
      ok = false;
    } catch (const std::exception& e) {
      ok = false;
      cause = e.what();
    }
    const std::uint64_t failed = comm_.sum(ok ? 0 : 1);
    if (failed == 0) return;
    for (const Output& o : outputs_) {
      if (!o.part.empty()) std::remove(o.part.c_str());
      if (comm_.rank() == 0 && !o.temp.empty()) std::remove(o.temp.c_str());
    }
    throw JobFailed{failed, cause};
  }

  void prepare_outputs() {
    const std::string rank = std::to_string(comm_.rank());
    const std::string* paths[] = {&opt_.kept_path, &opt_.annotated_path, &opt_.groups_path,
                                  &opt_.rejects_path};
    for (const std::string* p : paths) {
      Output o;
      o.path = *p;
      if (!o.path.empty()) {
        // Parts beside the output (a shared file system for a job across hosts); stdout's in the
        // working directory.
        const std::string base = o.path == "-" ? std::string("storyline-stdout") : o.path;
        o.part = base + ".part" + rank + ".storyline-tmp";
        if (o.path != "-") o.temp = o.path + ".storyline-tmp";
      }
      outputs_.push_back(std::move(o));
    }
    local_step([&] {
      // Every rank reaches the same verdict: only rank 0 says it.
      const auto refuse = [&](const char* why) {
        if (comm_.rank() == 0) throw InvalidArgument(why);
        throw Quiet{};
      };
      if (!opt_.index_path.empty() || !opt_.save_index_path.empty()) {
        refuse("--index and --save-index are not distributed yet: run them without mpirun");
      }
      for (const std::string& in : opt_.inputs) {
        if (in == "-") refuse("stdin cannot be split between ranks: name the input files");
      }
      const detail::NamedOutput named[] = {{"--output", opt_.kept_path},
                                           {"--annotate", opt_.annotated_path},
                                           {"--groups", opt_.groups_path},
                                           {"--rejects", opt_.rejects_path}};
      const detail::PreparedInputs check(opt_.inputs, named);
      names_ = check.names;
    });
  }

  int home(std::uint64_t doc) const {
    return static_cast<int>(std::upper_bound(first_.begin(), first_.end(), doc) - first_.begin()) - 1;
  }

  std::span<const std::uint32_t> fingerprint(std::size_t local) const {
    return std::span<const std::uint32_t>(docs_->fingerprints)
        .subspan(local * scheme_.words(), scheme_.words());
  }

  // Asks the home rank of each document for `width` values of T about it (answer(local index, out)).
  // Asks the home rank of each document about it: answer(local index, Packer&) writes the reply there,
  // read(i, Unpacker&) takes the reply to docs[i] here.
  template <class Answer, class Read>
  void ask_each(const std::vector<std::uint64_t>& docs, Answer&& answer, Read&& read) {
    std::vector<std::string> requests(ranks_);
    std::vector<std::vector<std::size_t>> order(ranks_);
    for (std::size_t i = 0; i < docs.size(); ++i) {
      const auto r = static_cast<std::size_t>(home(docs[i]));
      Packer(requests[r]).put(docs[i]);
      order[r].push_back(i);
    }
    const auto asked = comm_.exchange(std::move(requests));
    std::vector<std::string> replies(ranks_);
    for (std::size_t r = 0; r < ranks_; ++r) {
      Unpacker in(asked[r]);
      Packer reply(replies[r]);
      while (!in.done()) answer(static_cast<std::size_t>(in.get<std::uint64_t>() - g0_), reply);
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

  bool exact() const { return scheme_.params().verify == Verify::kExact; }

  // Similarity as find_duplicate_groups measures it: shingle sets when verifying exactly (and both
  // have one), else the fingerprints' estimate; and whether it makes a duplicate.
  double similarity(std::span<const std::uint32_t> print_a, std::span<const std::uint32_t> print_b,
                    const std::vector<std::uint64_t>* set_a, const std::vector<std::uint64_t>* set_b) const {
    if (exact() && !set_a->empty() && !set_b->empty()) return jaccard(*set_a, *set_b);
    return scheme_.similarity(print_a, print_b);
  }
  bool duplicate(double similarity, bool by_sets) const {
    return by_sets ? similarity >= scheme_.params().threshold : scheme_.is_duplicate(similarity);
  }

  std::vector<std::uint32_t> fingerprints_of(const std::vector<std::uint64_t>& docs) {
    return ask<std::uint32_t>(docs, scheme_.words(), [&](std::size_t local, std::uint32_t* o) {
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
    const std::uint32_t tables = scheme_.key_count();
    label_.resize(n_);
    std::iota(label_.begin(), label_.end(), g0_);
    std::vector<std::uint64_t> keys(n_ * tables);
    tbb::parallel_for(std::size_t{0}, n_, [&](std::size_t i) {
      scheme_.keys(fingerprint(i), std::span(keys).subspan(i * tables, tables));
    });
    const std::size_t words = scheme_.words();
    for (std::uint32_t t = 0; t < tables; ++t) {
      std::vector<std::string> to_owner(ranks_);
      for (std::size_t i = 0; i < n_; ++i) {
        const std::uint64_t key = keys[i * tables + t];
        Packer p(to_owner[XXH3_64bits(&key, sizeof key) % ranks_]);
        p.put(key);
        p.put(g0_ + i);
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
          const bool by_sets = exact() && !sets[i].empty() && !sets[j].empty();
          return duplicate(similarity(std::span<const std::uint32_t>(prints).subspan(i * words, words),
                                      std::span<const std::uint32_t>(prints).subspan(j * words, words),
                                      exact() ? &sets[i] : nullptr, exact() ? &sets[j] : nullptr),
                           by_sets);
        };
        for (std::size_t k = lo; k < hi; ++k) {
          const auto [b, e] = buckets[mixed[k]];
          leaders.clear();
          for (std::size_t m = b; m < e; ++m) {
            bool linked = false;
            for (const std::size_t leader : leaders) {
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
      out.component_rounds += merge_components(std::move(links));
      if (observer_ != nullptr) observer_->progress("group", out.job.ingest);
    }
  }

  // Joins the components that links connect: hook the larger root under the smaller, jump pointers
  // until every hooked root names its root, and repeat with the links between the new roots until none
  // is left on any rank. Then every document names its final root. Returns the rounds it took.
  std::uint64_t merge_components(std::vector<std::pair<std::uint64_t, std::uint64_t>> links) {
    std::vector<std::size_t> hooked;  // local roots that got a parent in this table
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
        Packer p(hooks[static_cast<std::size_t>(home(high))]);
        p.put(high);
        p.put(low);
      }
      for (const std::string& part : comm_.exchange(std::move(hooks))) {
        Unpacker in(part);
        while (!in.done()) {
          const auto local = static_cast<std::size_t>(in.get<std::uint64_t>() - g0_);
          const auto low = in.get<std::uint64_t>();
          if (low < label_[local]) {
            if (label_[local] == g0_ + local) hooked.push_back(local);
            label_[local] = low;
          }
        }
      }
      for (;;) {  // pointer jumping over the hooked roots
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
    if (comm_.sum(hooked.size()) == 0) return rounds;
    // Documents whose root was hooked follow it.
    std::vector<std::uint64_t> roots;
    std::vector<std::size_t> who;
    for (std::size_t i = 0; i < n_; ++i) {
      if (label_[i] != g0_ + i) roots.push_back(label_[i]), who.push_back(i);
    }
    const std::vector<std::uint64_t> final_root = labels_of(roots);
    for (std::size_t k = 0; k < who.size(); ++k) label_[who[k]] = final_root[k];
    return rounds;
  }

  // The representative of each component (earliest date, longest text, smallest id), chosen by the
  // home rank of its root; then every member's similarity to it, and the lines of --groups, which go to
  // the representative's home rank so that the ranks' parts are in representative order.
  void choose_representatives(DistDedupReport& out) {
    rep_.resize(n_);
    std::iota(rep_.begin(), rep_.end(), g0_);
    similarity_.assign(n_, 1.0f);
    std::vector<std::string> to_root(ranks_);
    for (std::size_t i = 0; i < n_; ++i) {
      if (label_[i] == g0_ + i) continue;
      Packer p(to_root[static_cast<std::size_t>(home(label_[i]))]);
      p.put(label_[i]);
      p.put(g0_ + i);
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
      const auto local = static_cast<std::size_t>(root - g0_);
      members.push_back(Member{root, docs_->info[local], docs_->ids[local]});
      // In document order, replaced only by a strictly better one: the single-process choice, ties too.
      std::sort(members.begin(), members.end(),
                [](const Member& a, const Member& b) { return a.doc < b.doc; });
      const Member* best = &members.front();
      for (const Member& m : members) {
        if (better_representative(m.info, m.id, best->info, best->id)) best = &m;
      }
      for (const Member& m : members) {
        Packer p(to_member[static_cast<std::size_t>(home(m.doc))]);
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
        const auto local = static_cast<std::size_t>(in.get<std::uint64_t>() - g0_);
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
    const std::size_t words = scheme_.words();
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
        if (it == need.end() || *it != rep_[local] || rep_[local] == g0_ + local) continue;
        const auto at = static_cast<std::size_t>(it - need.begin());
        similarity_[local] = static_cast<float>(
            similarity(fingerprint(local), std::span<const std::uint32_t>(prints).subspan(at * words, words),
                       exact() ? &docs_->sets[local] : nullptr, exact() ? &sets[at] : nullptr));
      }
    }
    std::vector<std::string> to_rep(ranks_);
    for (const std::size_t local : grouped) {
      if (rep_[local] != g0_ + local) ++out.job.removed;
      if (opt_.groups_path.empty()) continue;
      Packer p(to_rep[static_cast<std::size_t>(home(rep_[local]))]);
      p.put(rep_[local]);
      p.put(g0_ + local);
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
            const bool is_rep = rep_[k] == g0_ + k;
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

  // Puts the ranks' parts of one output together: each rank copies its part to its offset in one
  // file (rank 0 creates it at its full size); for stdout rank 0 writes them in rank order.
  void assemble(const Output& o) {
    if (o.path.empty()) return;
    std::uint64_t size = 0;
    local_step([&] {
      const int fd = ::open(o.part.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw IoError("cannot open '" + o.part + "': " + std::strerror(errno));
      size = static_cast<std::uint64_t>(::lseek(fd, 0, SEEK_END));
      ::close(fd);
    });
    if (o.path == "-") {
      local_step([&] {
        if (comm_.rank() != 0) {
          comm_.send(0, read_part(o.part));
        } else {
          detail::OutputFile stdout_file("-");
          stdout_file.write(read_part(o.part));
          for (int r = 1; r < comm_.size(); ++r) stdout_file.write(comm_.receive(r));
          stdout_file.close();
        }
        std::remove(o.part.c_str());
      });
      return;
    }
    const std::uint64_t offset = comm_.exclusive_sum(size);
    const std::uint64_t total = comm_.sum(size);
    local_step([&] {  // rank 0's part, at offset 0, becomes the file: only the others are copied
      if (comm_.rank() != 0) return;
      if (std::rename(o.part.c_str(), o.temp.c_str()) != 0) {
        throw IoError("cannot rename '" + o.part + "' to '" + o.temp + "': " + std::strerror(errno));
      }
      if (::truncate(o.temp.c_str(), static_cast<off_t>(total)) != 0) {
        throw IoError("cannot extend '" + o.temp + "': " + std::strerror(errno));
      }
    });
    local_step([&] {
      if (comm_.rank() == 0) return;
      copy_at(o.part, o.temp, offset, size);
      std::remove(o.part.c_str());
    });
  }

  static std::string read_part(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError("cannot open '" + path + "'");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  static void copy_at(const std::string& from, const std::string& to, std::uint64_t offset,
                      std::uint64_t size) {
    const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) throw IoError("cannot open '" + from + "': " + std::strerror(errno));
    const int out = ::open(to.c_str(), O_WRONLY | O_CLOEXEC);
    if (out < 0) {
      ::close(in);
      throw IoError("cannot open '" + to + "': " + std::strerror(errno));
    }
    std::vector<char> buffer(std::size_t{4} << 20);
    std::uint64_t done = 0;
    std::string error;
    while (done < size && error.empty()) {
      const ssize_t n = ::pread(in, buffer.data(), buffer.size(), static_cast<off_t>(done));
      if (n <= 0) {
        error = n == 0 ? "it is shorter than it was" : std::strerror(errno);
        break;
      }
      for (ssize_t w = 0; w < n;) {
        const ssize_t k = ::pwrite(out, buffer.data() + w, static_cast<std::size_t>(n - w),
                                   static_cast<off_t>(offset + done + static_cast<std::uint64_t>(w)));
        if (k < 0) {
          error = std::strerror(errno);
          break;
        }
        w += k;
      }
      done += static_cast<std::uint64_t>(n);
    }
    const bool closed = ::close(out) == 0;
    ::close(in);
    if (!error.empty()) throw IoError("cannot copy '" + from + "' into '" + to + "': " + error);
    if (!closed) throw IoError("cannot write '" + to + "': " + std::strerror(errno));
  }

  Comm& comm_;
  const DedupJobOptions& opt_;
  JobObserver* observer_;
  FingerprintScheme scheme_;
  std::size_t ranks_;
  std::vector<Output> outputs_;  // kept, annotated, groups, rejects
  std::vector<std::string> names_;
  std::vector<std::vector<InputPart>> parts_;
  detail::CorpusSink* docs_ = nullptr;
  std::size_t n_ = 0;                 // documents of this rank
  std::vector<std::uint64_t> first_;  // first global document of each rank, and the total
  std::uint64_t g0_ = 0;              // this rank's first global document
  std::vector<std::uint64_t> label_;  // per document, its component's root (a global document)
  std::vector<std::uint64_t> rep_;    // per document, its representative
  std::vector<float> similarity_;     // per document, to its representative
  std::unordered_map<std::uint64_t, std::string> rep_ids_;  // ids of the representatives named above
  std::string group_lines_;                                 // this rank's part of --groups
};

}  // namespace

DistDedupReport run_dedup_mpi(Comm& comm, const DedupJobOptions& options, JobObserver* observer) {
  return Job(comm, options, observer).run();
}

}  // namespace storyline::dist
