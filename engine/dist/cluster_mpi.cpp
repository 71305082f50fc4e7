#include "dist/cluster_mpi.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <unordered_map>

#include "detail/cluster_steps.hpp"
#include "detail/corpus.hpp"
#include "detail/time_blocks.hpp"
#include "dist/comm.hpp"
#include "dist/dist_groups.hpp"
#include "dist/job_inputs.hpp"
#include "dist/layout.hpp"
#include "dist/part_files.hpp"
#include "storyline/error.hpp"

namespace storyline::dist {
namespace {

using detail::LanguageCounts;
using detail::RowMatrix;
using detail::Summary;
using DocFrequencies = std::vector<std::pair<std::uint64_t, std::uint32_t>>;

// Rows whose terms a rank sends per round (about 40 MB at 1.2 KB a row), and centroid entries a rank
// sends rank 0 per round (16 MB): what a rank holds for an exchange stays bounded. (At 1M documents on
// 4 ranks, 2^18 rows a round put 300-600 MB of buffers on each rank.)
constexpr std::size_t kRowsPerRound = std::size_t{1} << 15;
constexpr std::size_t kEntriesPerRound = std::size_t{1} << 21;
// Ranks share a dated corpus's stories in blocks of at least this many dated documents (unless
// --time-block asks for smaller ones). A block boundary changes the stories of the documents near it
// (their halo sees part of their neighbours): on timeline17, 4,650 documents cut in two agree with one
// block at B-cubed 0.994 (stories) and 0.988 (threads), bench/README.md. A block this small takes about
// 200 MB and 10 s, so dividing it further saves nothing worth that.
constexpr std::uint64_t kMinRankBlock = 100000;

void put_terms(Packer& p, const TermCounts& t) {
  p.put(static_cast<std::uint32_t>(t.terms.size()));
  for (const auto& [hash, count] : t.terms) p.put(hash), p.put(count);
}

void get_terms(Unpacker& in, TermCounts& t) {
  t.terms.resize(in.get<std::uint32_t>());
  for (auto& [hash, count] : t.terms) hash = in.get<std::uint64_t>(), count = in.get<float>();
}

// A row that came to this rank with its terms (in a TermStore slot).
struct Arrived {
  std::uint32_t row;
  std::uint32_t slot;
  std::int32_t date;
  Language language;
  std::uint32_t tag;  // the story of a member, sent to its story's rank
};

// Story centroids gathered on rank 0.
struct StoryCentroids {
  detail::StoryVectors vectors;        // rank 0: every story's centroid, numbered as one process
  std::vector<std::uint32_t> closest;  // rank 0: per story, the row of its representative
};
struct StoryFigures {                     // rank 0's, of every story
  std::vector<LanguageCounts> languages;  // documents per language
  std::vector<Summary> summary;           // size, first and last date
};
class Job {
 public:
  Job(Comm& comm, const ClusterJobOptions& options, JobObserver* observer)
      : comm_(comm),
        opt_(options),
        observer_(comm.rank() == 0 ? observer : nullptr),
        ranks_(static_cast<std::size_t>(comm.size())),
        rank_(static_cast<std::size_t>(comm.rank())),
        steps_(comm,
               [this] {
                 for (const PartFile& f : outputs_) remove_part_files(f, comm_.rank());
               }),
        scheme_(options.dedup) {}

  DistClusterReport run() {
    const auto start = std::chrono::steady_clock::now();
    DistClusterReport out;
    out.ranks = comm_.size();
    ClusterJobReport& report = out.job;
    detail::PhaseClock clock(report.phases, &report.phase_peak_mb);
    prepare_outputs();
    parts_ = split_and_number(comm_, steps_, opt_.inputs);
    read(out);
    clock.lap("read");
    if (observer_ != nullptr) observer_->progress("dedup", report.ingest);
    find_duplicates();
    clock.lap("dedup");

    if (observer_ != nullptr) observer_->progress("stories", report.ingest);
    // Stories leave the bridge out, threads use it (as in one process: cluster_job.cpp).
    const auto rep_terms = [&](std::size_t r, TermCounts& t) { extra_->terms.get(r, t); };
    const DocFrequencies df = document_frequencies_of_all(document_frequencies(rep_local_.size(), rep_terms));
    TfidfShape shape;
    shape.max_row_terms = opt_.cluster.max_row_terms;
    shape.without_bridge = true;
    const TfidfColumns story_columns = tfidf_columns(total_rows_, df, opt_.cluster.tfidf, shape);
    shape.without_bridge = false;
    shape.max_row_terms = 0;  // threads are linked from every term of their stories (see ClusterParams)
    const TfidfColumns columns = tfidf_columns(total_rows_, df, opt_.cluster.tfidf, shape);
    report.terms = columns.term_hash.size();
    const std::vector<std::uint32_t> row_story = stories_in_blocks(story_columns, report, out, clock);
    const std::size_t stories =
        comm_.max(row_story.empty() ? 0 : *std::max_element(row_story.begin(), row_story.end()) + 1);
    // Each document's story: its representative's, asked of the representative's rank.
    const std::vector<std::uint32_t> doc_story = groups_->ask<std::uint32_t>(
        groups_->rep(), 1, [&](std::size_t local, std::uint32_t* o) { *o = row_story[local_row_[local]]; });
    StoryCentroids centroids = story_centroids(columns, row_story, stories, !opt_.stories_path.empty());
    clock.lap("thread vectors");

    if (observer_ != nullptr) observer_->progress("threads", report.ingest);
    StoryFigures figures = story_figures(doc_story, stories);
    detail::Threads linked;
    if (rank_ == 0) {
      linked =
          detail::link_threads(centroids.vectors, figures.languages, opt_.cluster, opt_.spill_terms_above);
      report.language_joins = linked.language_joins;
    }
    linked.thread = broadcast(linked.thread);
    linked.count =
        linked.thread.empty() ? 0 : *std::max_element(linked.thread.begin(), linked.thread.end()) + 1;
    clock.lap("threads");

    if (observer_ != nullptr) observer_->progress("write", report.ingest);
    write(doc_story, centroids, figures, linked, report);
    clock.lap("write");
    report.stories = stories;
    report.threads = linked.count;
    add_up(out, rep_local_.size());
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
  }

 private:
  // Pass 1 over this rank's parts: what grouping and clustering keep of each document.
  void read(DistClusterReport& out) {
    steps_.run([&] {
      rejects_.emplace(outputs_[3].part);
      docs_.emplace(scheme_, 0, *rejects_, observer_);
      extra_.emplace(opt_.cluster.tfidf);
      extra_->attach(*docs_);
      IngestParams params = opt_.ingest;
      params.require_text = false;
      out.job.ingest = ingest_parts(opt_.inputs, parts_[rank_], params, *docs_, names_);
      rejects_->close();
    });
    out.documents = comm_.all(docs_->ids.size());
    layout_ = Layout({}, out.documents);
    STORYLINE_CHECK_ARG(layout_.total() < DocIndex(-1), "too many documents for 32-bit indexes");
    global_ = layout_.globals(rank_);
  }

  // Near-duplicates enter clustering once, through their representative: rows are the
  // representatives in document order, as in one process; this rank's are a run of them.
  void find_duplicates() {
    groups_.emplace(comm_, layout_, scheme_, *docs_, global_);
    GroupCounts counts;
    groups_->group(counts, {});
    groups_->choose_representatives(counts);
    std::vector<std::uint32_t>().swap(docs_->fingerprints);
    std::vector<std::vector<std::uint64_t>>().swap(docs_->sets);
    const std::size_t n = docs_->ids.size();
    local_row_.assign(n, UINT32_MAX);
    for (std::size_t k = 0; k < n; ++k) {
      if (groups_->rep()[k] != global_[k]) continue;
      local_row_[k] = static_cast<std::uint32_t>(rep_local_.size());
      rep_local_.push_back(static_cast<std::uint32_t>(k));
    }
    rows_of_rank_ = comm_.all(rep_local_.size());
    row_begin_ = comm_.exclusive_sum(rep_local_.size());
    total_rows_ = comm_.sum(rep_local_.size());
    STORYLINE_CHECK_ARG(total_rows_ < UINT32_MAX, "too many documents for 32-bit rows");
    rep_dates_.resize(rep_local_.size());
    for (std::size_t r = 0; r < rep_local_.size(); ++r) rep_dates_[r] = docs_->info[rep_local_[r]].date;
    extra_->terms.keep(rep_local_);  // slot r: the terms of local row r
  }

  // Pass 2: the annotated lines of this rank's parts; rank 0 writes the summaries whole (the other
  // ranks' parts of them are empty). Then the parts become the outputs.
  void write(std::span<const std::uint32_t> doc_story, const StoryCentroids& centroids,
             const StoryFigures& figures, const detail::Threads& linked, ClusterJobReport& report) {
    const detail::TermNameMap names = gather_names();
    const std::vector<std::pair<std::string, std::string>> rep_text = representatives(centroids.closest);
    const std::vector<std::uint32_t>& thread = linked.thread;
    steps_.run([&] {
      write_annotated(doc_story, thread);
      std::vector<Summary> thread_summary(linked.count);
      for (std::size_t s = 0; s < figures.summary.size(); ++s)
        thread_summary[thread[s]].add(figures.summary[s]);
      for (const std::size_t k : {1, 2}) {
        if (outputs_[k].part.empty()) continue;
        if (rank_ != 0) {
          detail::OutputFile(outputs_[k].part).close();
        } else if (k == 1) {
          detail::write_lines(outputs_[1].part, [&](const detail::LineSink& emit) {
            detail::write_stories(
                emit, figures.summary, thread, centroids.vectors.rows, centroids.vectors.term_hash, names,
                [&](std::size_t s) -> std::string_view { return rep_text[s].first; },
                [&](std::size_t s) -> std::string_view { return rep_text[s].second; });
          });
        } else {
          detail::write_lines(outputs_[2].part, [&](const detail::LineSink& emit) {
            detail::write_threads(emit, figures.summary, thread_summary, thread, linked.rows,
                                  centroids.vectors.term_hash, names);
          });
        }
      }
      if (rank_ == 0) {
        std::vector<LanguageCounts> thread_languages(linked.count, LanguageCounts{});
        for (std::size_t s = 0; s < thread.size(); ++s)
          for (std::size_t l = 0; l < kLanguageCount; ++l)
            thread_languages[thread[s]][l] += figures.languages[s][l];
        detail::count_languages(thread_languages, report);
      }
    });
    for (const PartFile& f : outputs_) assemble(comm_, steps_, f);
    steps_.run([&] {
      if (rank_ != 0) return;
      for (const PartFile& f : outputs_) publish(f);
    });
  }

  void prepare_outputs() {
    for (const std::string* p :
         {&opt_.annotated_path, &opt_.stories_path, &opt_.threads_path, &opt_.rejects_path})
      outputs_.push_back(part_file(*p, comm_.rank()));
    steps_.run([&] {
      for (const std::string& in : opt_.inputs) {
        if (in == "-") steps_.refuse("stdin cannot be split between ranks: name the input files");
      }
      if (!opt_.report_path.empty())
        steps_.refuse("--report is made by one process: run `storyline cluster --report` without mpirun");
      const detail::NamedOutput named[] = {{"--output", opt_.annotated_path},
                                           {"--stories", opt_.stories_path},
                                           {"--threads", opt_.threads_path},
                                           {"--rejects", opt_.rejects_path}};
      const detail::PreparedInputs check(opt_.inputs, named);
      names_ = check.names;
    });
  }

  // The rank that holds global row `row` (its representative's home).
  std::size_t home_of_row(std::uint64_t row) const {
    std::uint64_t end = 0;
    for (std::size_t r = 0; r < ranks_; ++r) {
      end += rows_of_rank_[r];
      if (row < end) return r;
    }
    return ranks_ - 1;
  }

  // Every rank's buffer `data` to every rank: the concatenation in rank order.
  std::vector<std::string> to_all(const std::string& data) {
    return comm_.exchange(std::vector<std::string>(ranks_, data));
  }

  // Rank 0's values on every rank.
  std::vector<std::uint32_t> broadcast(const std::vector<std::uint32_t>& values) {
    std::string data;
    if (rank_ == 0) Packer(data).put_span(values.data(), values.size());
    const std::string got = std::move(to_all(data)[0]);
    std::vector<std::uint32_t> out(got.size() / sizeof(std::uint32_t));
    Unpacker(got).get_span(out.data(), out.size());
    return out;
  }

  // Every rank's (key, value) pairs on every rank, sorted by key, the values of a key summed.
  template <class K, class V>
  std::vector<std::pair<K, V>> all_pairs(const std::vector<std::pair<K, V>>& mine) {
    std::string local;
    Packer p(local);
    for (const auto& [key, value] : mine) p.put(key), p.put(value);
    std::vector<std::pair<K, V>> all;
    for (const std::string& part : to_all(local)) {
      Unpacker in(part);
      while (!in.done()) {
        const auto key = in.get<K>();
        all.emplace_back(key, in.get<V>());
      }
    }
    std::sort(all.begin(), all.end());
    std::vector<std::pair<K, V>> merged;
    for (const auto& [key, value] : all) {
      if (merged.empty() || merged.back().first != key) merged.emplace_back(key, V{0});
      merged.back().second += value;
    }
    return merged;
  }

  // The document frequencies of the whole corpus from each rank's: every term's counts summed on the
  // rank that owns it, then the terms of two or more documents (the only ones a column can take) on
  // every rank.
  DocFrequencies document_frequencies_of_all(const DocFrequencies& local) {
    std::vector<std::string> to_owner(ranks_);
    for (const auto& [term, count] : local) {
      Packer p(to_owner[term % ranks_]);
      p.put(term), p.put(count);
    }
    DocFrequencies owned;
    for (const std::string& part : comm_.exchange(std::move(to_owner))) {
      Unpacker in(part);
      while (!in.done()) {
        const auto term = in.get<std::uint64_t>();
        owned.emplace_back(term, in.get<std::uint32_t>());
      }
    }
    std::sort(owned.begin(), owned.end());
    DocFrequencies summed;
    for (std::size_t i = 0; i < owned.size();) {
      std::uint32_t sum = 0;
      std::size_t j = i;
      for (; j < owned.size() && owned[j].first == owned[i].first; ++j) sum += owned[j].second;
      if (sum >= 2) summed.emplace_back(owned[i].first, sum);
      i = j;
    }
    DocFrequencies().swap(owned);
    return all_pairs(summed);
  }

  // Time blocks cut from the corpus's day histogram, one per rank down to blocks of kMinRankBlock
  // dated documents (at most time_block_documents each); block b is clustered on rank
  // b * ranks / blocks.
  std::vector<detail::DayRange> cut_blocks(std::span<const std::int32_t> rep_dates) {
    std::vector<std::int32_t> dated;
    for (const std::int32_t d : rep_dates)
      if (d != kNoDate) dated.push_back(d);
    std::sort(dated.begin(), dated.end());
    std::vector<std::pair<std::int32_t, std::uint64_t>> days;  // this rank's, then the corpus's
    for (const std::int32_t d : dated) {
      if (days.empty() || days.back().first != d) days.emplace_back(d, 0);
      ++days.back().second;
    }
    days = all_pairs(days);
    std::uint64_t total = 0;
    for (const auto& day : days) total += day.second;
    std::size_t block_rows = opt_.time_block_documents;
    if (block_rows > 0) {
      const std::uint64_t share = std::max<std::uint64_t>((total + ranks_ - 1) / ranks_, kMinRankBlock);
      block_rows = static_cast<std::size_t>(std::min<std::uint64_t>(block_rows, share));
    }
    return detail::block_cores(days, block_rows, opt_.cluster.story_neighbors.window_days);
  }

  // The blocks a row of date d belongs to: the one whose core holds it and those whose halo does;
  // every block for an undated row.
  template <class F>
  static void for_each_block(std::span<const detail::DayRange> cores, std::int32_t window, std::int32_t d,
                             F&& f) {
    if (cores.empty()) return f(std::size_t{0}, true);
    for (std::size_t b = 0; b < cores.size(); ++b) {
      if (d == kNoDate) {
        f(b, false);
      } else if (std::int64_t{d} >= std::int64_t{cores[b].first} - window &&
                 std::int64_t{d} <= std::int64_t{cores[b].last} + window) {
        f(b, d >= cores[b].first && d <= cores[b].last);
      }
    }
  }

  // Sends each local row's terms (with its date and language) to the ranks that want(row) names, in
  // rounds; returns the rows that came here, by row, their terms in store.
  template <class Want>
  std::vector<Arrived> ship_rows(std::span<const std::uint32_t> tags, Want&& want, detail::TermStore& store) {
    const std::size_t rows = rep_local_.size();
    const std::uint64_t rounds = comm_.max((rows + kRowsPerRound - 1) / kRowsPerRound);
    std::vector<Arrived> arrived;
    TermCounts terms;
    std::vector<std::size_t> to;
    for (std::uint64_t round = 0; round < rounds; ++round) {
      std::vector<std::string> send(ranks_);
      const std::size_t lo = std::min(rows, round * kRowsPerRound), hi = std::min(rows, lo + kRowsPerRound);
      for (std::size_t r = lo; r < hi; ++r) {
        to.clear();
        want(r, to);
        if (to.empty()) continue;
        extra_->terms.get(r, terms);
        for (const std::size_t dest : to) {
          Packer p(send[dest]);
          p.put(static_cast<std::uint32_t>(row_begin_ + r));
          p.put(rep_dates_[r]);
          p.put(extra_->languages[rep_local_[r]]);
          p.put(tags.empty() ? 0u : tags[r]);
          put_terms(p, terms);
        }
      }
      for (const std::string& part : comm_.exchange(std::move(send))) {
        Unpacker in(part);
        while (!in.done()) {
          Arrived a;
          a.row = in.get<std::uint32_t>();
          a.date = in.get<std::int32_t>();
          a.language = in.get<Language>();
          a.tag = in.get<std::uint32_t>();
          get_terms(in, terms);
          a.slot = static_cast<std::uint32_t>(arrived.size());
          store.resize(arrived.size() + 1);
          store.put(a.slot, terms);
          arrived.push_back(a);
        }
      }
    }
    std::sort(arrived.begin(), arrived.end(),
              [](const Arrived& a, const Arrived& b) { return a.row < b.row; });
    return arrived;
  }

  // Stories: each rank clusters its time blocks from the rows shipped to it; rank 0 stitches the blocks
  // and gives each rank the stories of its rows.
  std::vector<std::uint32_t> stories_in_blocks(const TfidfColumns& story_columns, ClusterJobReport& report,
                                               DistClusterReport& out, detail::PhaseClock& clock) {
    detail::ClusterDocs& extra = *extra_;
    const std::span<const std::int32_t> rep_dates = rep_dates_;
    const std::vector<detail::DayRange> cores = cut_blocks(rep_dates);
    const std::size_t blocks = std::max<std::size_t>(1, cores.size());
    const std::int32_t window = opt_.cluster.story_neighbors.window_days;
    const auto block_rank = [&](std::size_t b) { return b * ranks_ / blocks; };
    report.time_blocks = blocks;
    detail::TermStore store;
    const std::vector<Arrived> arrived = ship_rows(
        {},
        [&](std::size_t r, std::vector<std::size_t>& to) {
          for_each_block(cores, window, rep_dates[r], [&](std::size_t b, bool) {
            if (std::find(to.begin(), to.end(), block_rank(b)) == to.end()) to.push_back(block_rank(b));
          });
        },
        store);
    out.block_rows.assign(1, arrived.size());
    // The home rank's terms wait on disk until the centroids need them.
    if (extra.terms.bytes() > opt_.spill_terms_above || opt_.spill_terms_above == 0) extra.terms.spill();
    std::string to_root;
    Packer p(to_root);
    std::vector<std::size_t> my_blocks;
    for (std::size_t b = 0; b < blocks; ++b)
      if (block_rank(b) == rank_) my_blocks.push_back(b);
    for (std::size_t i = 0; i < my_blocks.size(); ++i) {
      const std::size_t b = my_blocks[i];
      std::vector<std::uint32_t> slots, rows;
      std::vector<std::int32_t> dates;
      std::vector<Language> languages;
      std::vector<std::uint8_t> core;
      for (const Arrived& a : arrived) {
        for_each_block(cores, window, a.date, [&](std::size_t in, bool is_core) {
          if (in != b) return;
          slots.push_back(a.slot), rows.push_back(a.row), dates.push_back(a.date);
          languages.push_back(a.language), core.push_back(is_core ? 1 : 0);
        });
      }
      TfidfMatrix vectors =
          tfidf_rows(story_columns, slots, [&](std::size_t slot, TermCounts& t) { store.get(slot, t); });
      if (i + 1 == my_blocks.size()) store.clear();
      clock.lap("story vectors");
      detail::BlockStories found = detail::block_stories(vectors.rows, dates, languages, opt_.cluster, clock);
      report.edges += found.edges;
      p.put(static_cast<std::uint64_t>(b));
      p.put(static_cast<std::uint64_t>(rows.size()));
      p.put_span(rows.data(), rows.size());
      p.put_span(found.labels.data(), found.labels.size());
      p.put_span(core.data(), core.size());
      p.put(found.background);
      p.put(static_cast<std::uint64_t>(found.language_backgrounds.size()));
      for (const auto& l : found.language_backgrounds) p.put(l);
    }
    if (my_blocks.empty()) store.clear();
    std::vector<std::string> send(ranks_);
    send[0] = std::move(to_root);
    const std::vector<std::string> got = comm_.exchange(std::move(send));
    std::vector<std::uint32_t> story;
    if (rank_ == 0) story = stitch(got, blocks, report);
    // Each rank the stories of its rows.
    std::vector<std::string> scatter(ranks_);
    if (rank_ == 0) {
      std::uint64_t at = 0;
      for (std::size_t r = 0; r < ranks_; ++r) {
        Packer(scatter[r]).put_span(story.data() + at, rows_of_rank_[r]);
        at += rows_of_rank_[r];
      }
    }
    const std::string mine = std::move(comm_.exchange(std::move(scatter))[0]);
    std::vector<std::uint32_t> row_story(rows_of_rank_[rank_]);
    Unpacker(mine).get_span(row_story.data(), row_story.size());
    return row_story;
  }

  // Rank 0: the blocks' labels stitched (detail::stitch_blocks); the report's background is the
  // largest block's.
  std::vector<std::uint32_t> stitch(const std::vector<std::string>& got, std::size_t blocks,
                                    ClusterJobReport& report) {
    detail::TimeBlocks tb;
    tb.rows.resize(blocks);
    tb.owner.assign(total_rows_, blocks == 1 ? 0 : detail::kNoBlock);
    std::vector<std::vector<std::uint32_t>> labels(blocks);
    std::size_t reported = 0;
    for (const std::string& part : got) {
      Unpacker in(part);
      while (!in.done()) {
        const auto b = in.get<std::uint64_t>();
        const auto count = in.get<std::uint64_t>();
        tb.rows[b].resize(count);
        labels[b].resize(count);
        std::vector<std::uint8_t> core(count);
        in.get_span(tb.rows[b].data(), count);
        in.get_span(labels[b].data(), count);
        in.get_span(core.data(), count);
        for (std::size_t k = 0; k < count; ++k)
          if (core[k] != 0) tb.owner[tb.rows[b][k]] = static_cast<std::uint32_t>(b);
        const auto background = in.get<float>();
        std::vector<ClusterJobReport::LanguageBackground> by_language(in.get<std::uint64_t>());
        for (auto& l : by_language) l = in.get<ClusterJobReport::LanguageBackground>();
        if (count > reported) {  // blocks arrive in order: the first of the largest, as in one process
          reported = count;
          report.background = background;
          report.language_backgrounds = std::move(by_language);
        }
      }
    }
    return detail::stitch_blocks(tb, labels);
  }

  // Each story's centroid summed on the rank that owns it (story s: rank s % ranks) from its members'
  // rows, in row order as one process sums them; then gathered on rank 0 in rounds, own columns
  // renumbered as one process numbers them.
  StoryCentroids story_centroids(const TfidfColumns& columns, std::span<const std::uint32_t> row_story,
                                 std::size_t stories, bool closest) {
    detail::TermStore store;
    const std::vector<Arrived> members = ship_rows(
        row_story, [&](std::size_t r, std::vector<std::size_t>& to) { to.push_back(row_story[r] % ranks_); },
        store);
    extra_->terms.clear();
    std::vector<std::uint32_t> member_story(members.size());
    for (std::size_t i = 0; i < members.size(); ++i)
      member_story[i] = members[i].tag / static_cast<std::uint32_t>(ranks_);
    const std::size_t owned = stories > rank_ ? (stories - rank_ - 1) / ranks_ + 1 : 0;
    detail::StoryVectors mine = detail::story_vectors(
        columns, member_story, owned, [&](std::size_t i, TermCounts& t) { store.get(members[i].slot, t); },
        opt_.cluster.max_story_terms, opt_.centroid_block_documents, closest, [&] { store.clear(); });
    const std::size_t shared = columns.term_hash.size();
    // The shape: each story's entries and representative; each member's own columns.
    std::vector<std::string> send(ranks_);
    {
      Packer p(send[0]);
      p.put(static_cast<std::uint64_t>(owned));
      for (std::size_t ls = 0; ls < owned; ++ls) {
        const auto row = static_cast<Eigen::Index>(ls);
        p.put(
            static_cast<std::uint32_t>(mine.rows.outerIndexPtr()[row + 1] - mine.rows.outerIndexPtr()[row]));
        p.put(closest ? members[mine.closest[ls]].row : 0u);
      }
      for (std::size_t i = 0; i < members.size(); ++i) {
        if (mine.own_kinds[i] != 0) p.put(members[i].row), p.put(mine.own_kinds[i]);
      }
    }
    const std::vector<std::string> shape = comm_.exchange(std::move(send));
    StoryCentroids out;
    std::vector<std::vector<int>> own_column(ranks_);  // per rank, its own columns as one process's
    if (rank_ == 0) {
      std::vector<std::uint8_t> kinds(total_rows_, 0);
      std::vector<std::vector<std::uint32_t>> own_rows(ranks_);
      std::vector<int> sizes(stories, 0);
      if (closest) out.closest.assign(stories, 0);
      for (std::size_t r = 0; r < ranks_; ++r) {
        Unpacker in(shape[r]);
        const auto count = in.get<std::uint64_t>();
        for (std::size_t ls = 0; ls < count; ++ls) {
          const std::size_t s = r + ls * ranks_;
          sizes[s] = static_cast<int>(in.get<std::uint32_t>());
          const auto representative = in.get<std::uint32_t>();
          if (closest) out.closest[s] = representative;
        }
        while (!in.done()) {
          const auto row = in.get<std::uint32_t>();
          kinds[row] = in.get<std::uint8_t>();
          own_rows[r].push_back(row);
        }
      }
      std::vector<std::uint32_t> own_at(total_rows_ + 1, 0);
      detail::StoryVectors& v = out.vectors;
      v.term_hash = columns.term_hash;
      for (std::size_t row = 0; row < total_rows_; ++row) {
        if ((kinds[row] & 1) != 0) v.term_hash.push_back(kOwnWords);
        if ((kinds[row] & 2) != 0) v.term_hash.push_back(kOwnEntities);
        own_at[row + 1] = own_at[row] + ((kinds[row] & 1) != 0 ? 1 : 0) + ((kinds[row] & 2) != 0 ? 1 : 0);
      }
      for (std::size_t r = 0; r < ranks_; ++r) {
        for (const std::uint32_t row : own_rows[r]) {
          for (std::uint32_t which = 0; which < (kinds[row] == 3 ? 2u : 1u); ++which)
            own_column[r].push_back(static_cast<int>(shared + own_at[row] + which));
        }
      }
      std::int64_t nonzeros = 0;
      for (const int k : sizes) nonzeros += k;
      STORYLINE_CHECK_ARG(nonzeros <= INT32_MAX,
                          "more than 2^31 story centroid entries: cap them (--max-story-terms)");
      detail::allocate_rows(v.rows, stories, v.term_hash.size(), nonzeros);
      int* const outer = v.rows.outerIndexPtr();
      outer[0] = 0;
      for (std::size_t s = 0; s < stories; ++s) outer[s + 1] = outer[s] + sizes[s];
    }
    // The entries, in rounds of at most kEntriesPerRound a rank (a story at least).
    std::vector<std::size_t> round_end;  // stories sent up to each round
    for (std::size_t ls = 0, in_round = 0; ls < owned; ++ls) {
      const auto size =
          static_cast<std::size_t>(mine.rows.outerIndexPtr()[ls + 1] - mine.rows.outerIndexPtr()[ls]);
      if (in_round > 0 && in_round + size > kEntriesPerRound) round_end.push_back(ls), in_round = 0;
      in_round += size;
    }
    round_end.push_back(owned);
    const std::uint64_t rounds = comm_.max(round_end.size());
    for (std::uint64_t round = 0; round < rounds; ++round) {
      std::vector<std::string> part(ranks_);
      const std::size_t lo =
          round == 0 ? 0 : round_end[std::min<std::size_t>(round - 1, round_end.size() - 1)];
      const std::size_t hi = round_end[std::min<std::size_t>(round, round_end.size() - 1)];
      if (round < round_end.size()) {
        const int* outer = mine.rows.outerIndexPtr();
        const std::size_t from = static_cast<std::size_t>(outer[lo]),
                          to = static_cast<std::size_t>(outer[hi]);
        Packer p(part[0]);
        p.put(static_cast<std::uint64_t>(lo)), p.put(static_cast<std::uint64_t>(hi));
        p.put_span(mine.rows.innerIndexPtr() + from, to - from);
        p.put_span(mine.rows.valuePtr() + from, to - from);
      }
      const std::vector<std::string> got = comm_.exchange(std::move(part));
      if (rank_ != 0) continue;
      RowMatrix& m = out.vectors.rows;
      for (std::size_t r = 0; r < ranks_; ++r) {
        if (got[r].empty()) continue;
        Unpacker in(got[r]);
        const auto first = in.get<std::uint64_t>(), last = in.get<std::uint64_t>();
        std::size_t total = 0;
        for (std::size_t ls = first; ls < last; ++ls) {
          const std::size_t s = r + ls * ranks_;
          total += static_cast<std::size_t>(m.outerIndexPtr()[s + 1] - m.outerIndexPtr()[s]);
        }
        std::vector<int> cols(total);
        std::vector<float> values(total);
        in.get_span(cols.data(), total);
        in.get_span(values.data(), total);
        std::size_t k = 0;
        for (std::size_t ls = first; ls < last; ++ls) {
          const std::size_t s = r + ls * ranks_;
          for (int at = m.outerIndexPtr()[s]; at < m.outerIndexPtr()[s + 1]; ++at, ++k) {
            const int c = cols[k];
            m.innerIndexPtr()[at] = static_cast<std::size_t>(c) < shared
                                        ? c
                                        : own_column[r][static_cast<std::size_t>(c) - shared];
            m.valuePtr()[at] = values[k];
          }
        }
      }
    }
    return out;
  }

  // Rank 0: per story its documents per language and its summary (size, first and last date), from
  // every rank's documents.
  StoryFigures story_figures(std::span<const std::uint32_t> doc_story, std::size_t stories) {
    const std::vector<DocInfo>& info = docs_->info;
    const std::vector<Language>& languages = extra_->languages;
    std::vector<LanguageCounts> counts(stories, LanguageCounts{});
    std::vector<Summary> summary(stories);
    for (std::size_t k = 0; k < doc_story.size(); ++k) {
      ++counts[doc_story[k]][static_cast<std::size_t>(languages[k])];
      summary[doc_story[k]].add_date(info[k].date);
      ++summary[doc_story[k]].size;
    }
    std::vector<std::string> send(ranks_);
    Packer p(send[0]);
    for (std::size_t s = 0; s < stories; ++s) {
      if (summary[s].size == 0) continue;
      p.put(static_cast<std::uint32_t>(s));
      p.put(summary[s].first), p.put(summary[s].last), p.put(static_cast<std::uint64_t>(summary[s].size));
      p.put_span(counts[s].data(), counts[s].size());
    }
    std::vector<LanguageCounts>().swap(counts);
    std::vector<Summary>().swap(summary);
    const std::vector<std::string> got = comm_.exchange(std::move(send));
    StoryFigures out;
    if (rank_ != 0) return out;
    out.languages.assign(stories, LanguageCounts{});
    out.summary.assign(stories, Summary{});
    for (const std::string& part : got) {
      Unpacker in(part);
      while (!in.done()) {
        const auto s = in.get<std::uint32_t>();
        Summary one;
        one.first = in.get<std::int32_t>(), one.last = in.get<std::int32_t>();
        one.size = in.get<std::uint64_t>();
        out.summary[s].add(one);
        LanguageCounts c;
        in.get_span(c.data(), c.size());
        for (std::size_t l = 0; l < kLanguageCount; ++l) out.languages[s][l] += c[l];
      }
    }
    return out;
  }

  // Rank 0: every term's spelling from every rank (the smallest, as one process picks).
  detail::TermNameMap gather_names() {
    detail::TermNameMap names = extra_->names();
    if (opt_.stories_path.empty() && opt_.threads_path.empty()) return {};
    std::vector<std::string> send(ranks_);
    if (rank_ != 0) {
      Packer p(send[0]);
      for (const auto& [hash, name] : names) p.put(hash), p.put_string(name);
      detail::TermNameMap().swap(names);
    }
    for (const std::string& part : comm_.exchange(std::move(send))) {
      Unpacker in(part);
      while (!in.done()) {
        const auto hash = in.get<std::uint64_t>();
        const std::string_view name = in.get_string();
        auto [it, inserted] = names.emplace(hash, name);
        if (!inserted && name < it->second) it->second = name;
      }
    }
    return names;
  }

  // Rank 0: the id and title of each story's representative (closest: its row), asked of its rank.
  std::vector<std::pair<std::string, std::string>> representatives(std::span<const std::uint32_t> closest) {
    std::vector<std::string> ask(ranks_);
    for (std::size_t s = 0; s < closest.size(); ++s) {
      Packer p(ask[home_of_row(closest[s])]);
      p.put(static_cast<std::uint32_t>(s)), p.put(closest[s]);
    }
    std::vector<std::string> reply(ranks_);
    {
      const std::string asked = std::move(comm_.exchange(std::move(ask))[0]);
      Unpacker in(asked);
      Packer p(reply[0]);
      while (!in.done()) {
        const auto s = in.get<std::uint32_t>();
        const std::uint32_t local = rep_local_[in.get<std::uint32_t>() - row_begin_];
        p.put(s), p.put_string(docs_->ids[local]), p.put_string(extra_->titles[local]);
      }
    }
    std::vector<std::pair<std::string, std::string>> out(closest.size());
    for (const std::string& part : comm_.exchange(std::move(reply))) {
      Unpacker in(part);
      while (!in.done()) {
        const auto s = in.get<std::uint32_t>();
        out[s].first = std::string(in.get_string());
        out[s].second = std::string(in.get_string());
      }
    }
    return out;
  }

  void write_annotated(std::span<const std::uint32_t> doc_story, std::span<const std::uint32_t> thread) {
    const detail::CorpusSink& docs = *docs_;
    const DistGroups& groups = *groups_;
    if (outputs_[0].part.empty()) return;
    detail::OutputFile annotated(outputs_[0].part);
    std::string line_out, fields;
    detail::for_each_document_line(
        opt_.inputs, opt_.ingest.max_line_bytes, docs.where,
        [&](std::size_t k, const std::string& line) {
          const std::uint64_t rep = groups.rep()[k];
          const bool is_rep = rep == global_[k];
          fields.clear();
          detail::append_dup_fields(fields, is_rep ? std::string_view(docs.ids[k]) : groups.rep_ids().at(rep),
                                    is_rep);
          detail::append_cluster_fields(fields, doc_story[k], thread[doc_story[k]], extra_->languages[k]);
          line_out.clear();
          detail::append_annotated(line_out, line, fields);
          annotated.write(line_out);
        },
        parts_[rank_]);
    annotated.close();
  }

  // Totals over the ranks.
  void add_up(DistClusterReport& out, std::size_t rows) {
    ClusterJobReport& job = out.job;
    IngestStats& s = job.ingest;
    std::vector<std::uint64_t> sums{s.lines, s.documents, s.bytes, s.raw_bytes, rows, job.edges};
    sums.insert(sums.end(), s.issues.begin(), s.issues.end());
    comm_.sum(sums);
    s.lines = sums[0], s.documents = sums[1], s.bytes = sums[2], s.raw_bytes = sums[3];
    job.duplicates = s.documents - sums[4];
    job.edges = sums[5];
    std::copy(sums.begin() + 6, sums.end(), s.issues.begin());
    out.bytes_exchanged = comm_.sum(comm_.bytes_sent());
    out.peak_rss_kb = comm_.all(detail::peak_rss_kb());
    out.block_rows = comm_.all(out.block_rows.empty() ? 0 : out.block_rows[0]);
  }

  Comm& comm_;
  const ClusterJobOptions& opt_;
  JobObserver* observer_;
  std::size_t ranks_, rank_;
  Steps steps_;
  std::vector<PartFile> outputs_;  // annotated, stories, threads, rejects
  std::vector<std::string> names_;
  std::vector<std::vector<InputPart>> parts_;  // every rank's parts of the inputs
  FingerprintScheme scheme_;
  std::optional<detail::RejectsWriter> rejects_;
  std::optional<detail::CorpusSink> docs_;    // this rank's documents
  std::optional<detail::ClusterDocs> extra_;  // their terms (then their rows'), titles, languages
  std::optional<DistGroups> groups_;
  std::vector<std::uint32_t> rep_local_;  // local row -> local document (its representatives)
  std::vector<std::uint32_t> local_row_;  // local document -> local row (UINT32_MAX: not one)
  std::vector<std::int32_t> rep_dates_;   // local row -> date
  Layout layout_;
  std::vector<std::uint64_t> global_;        // per local document, its global number
  std::vector<std::uint64_t> rows_of_rank_;  // representatives (rows) per rank
  std::uint64_t row_begin_ = 0;              // this rank's first row
  std::uint64_t total_rows_ = 0;
};

}  // namespace

DistClusterReport run_cluster_mpi(Comm& comm, const ClusterJobOptions& options, JobObserver* observer) {
  return Job(comm, options, observer).run();
}

}  // namespace storyline::dist
