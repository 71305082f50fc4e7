#include "storyline/cluster_job.hpp"

#include <tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <span>
#include <unordered_map>

#include "detail/cluster_steps.hpp"
#include "detail/corpus.hpp"
#include "detail/json_out.hpp"
#include "detail/term_store.hpp"
#include "detail/time_blocks.hpp"
#include "storyline/dedup.hpp"
#include "storyline/error.hpp"
#include "storyline/language.hpp"
#include "storyline/metrics.hpp"
#include "storyline/report.hpp"

namespace storyline {
namespace {

using detail::RowMatrix;
using Names = detail::TermNameMap;

}  // namespace

// The run's figures for the report: input, rejects by reason, what was found, languages, phases, and
// with gold labels the scores of stories and threads.
// The gold labels of the report's scores: stories, then threads; read before the run so that a bad
// gold file stops it before the work, not after.
using GoldLabels = std::vector<std::pair<std::string, LabeledIds>>;
GoldLabels read_gold(const ClusterJobOptions& options) {
  GoldLabels gold;
  if (options.report_path.empty() || options.gold_path.empty()) return gold;
  gold.emplace_back("stories against gold \"" + options.gold_story_field + "\"",
                    read_labels(options.gold_path, "id", options.gold_story_field));
  gold.emplace_back("threads against gold \"" + options.gold_thread_field + "\"",
                    read_labels(options.gold_path, "id", options.gold_thread_field));
  return gold;
}

void report_figures(ReportData& data, const ClusterJobReport& report, const GoldLabels& gold_labels,
                    const std::vector<std::string>& input_names, const std::vector<std::string>& ids,
                    const std::vector<std::uint32_t>& story, const std::vector<std::uint32_t>& thread,
                    const std::vector<DocIndex>& rep_index) {
  auto& f = data.figures;
  data.summary = group_digits(report.ingest.documents) + " documents (" + group_digits(report.duplicates) +
                 " near-duplicates folded) in " + group_digits(report.stories) + " stories and " +
                 group_digits(report.threads) + " threads";
  std::string inputs;
  for (const std::string& name : input_names) inputs += (inputs.empty() ? "" : ", ") + name;
  f.emplace_back("input", inputs);
  f.emplace_back("lines read", group_digits(report.ingest.lines));
  f.emplace_back("documents", group_digits(report.ingest.documents));
  f.emplace_back("megabytes read", std::to_string(report.ingest.bytes / 1000000));
  f.emplace_back("rejected lines", group_digits(report.ingest.rejected()));
  for (std::size_t i = 0; i < report.ingest.issues.size(); ++i) {
    if (report.ingest.issues[i] == 0) continue;
    const Issue issue = static_cast<Issue>(i);
    f.emplace_back(
        std::string(is_rejecting(issue) ? "  rejected: " : "  repaired: ") + std::string(issue_name(issue)),
        group_digits(report.ingest.issues[i]));
  }
  f.emplace_back("near-duplicates folded", group_digits(report.duplicates));
  f.emplace_back("duplicate groups", group_digits(data.total_duplicate_groups));
  f.emplace_back("stories", group_digits(report.stories));
  f.emplace_back("threads", group_digits(report.threads));
  for (const ClusterJobReport::LanguageCount& l : report.languages) {
    f.emplace_back("language " + std::string(language_name(l.language)),
                   group_digits(l.documents) + " documents, " + group_digits(l.threads) + " threads");
  }
  f.emplace_back("threads in two or more languages", group_digits(report.cross_language_threads));
  for (const auto& [phase, seconds] : report.phases) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f s", seconds);
    f.emplace_back("time: " + phase, text);
  }
  if (gold_labels.empty()) return;
  std::unordered_map<std::string_view, std::size_t> index;
  for (std::size_t d = 0; d < ids.size(); ++d) index.emplace(ids[d], d);
  for (std::size_t level = 0; level < gold_labels.size(); ++level) {
    const LabeledIds& labels = gold_labels[level].second;
    std::unordered_map<std::string, std::uint32_t> dense;
    std::vector<std::uint32_t> gold, pred;
    for (std::size_t i = 0; i < labels.ids.size(); ++i) {
      const auto it = index.find(labels.ids[i]);
      if (it == index.end()) continue;
      gold.push_back(dense.emplace(labels.labels[i], static_cast<std::uint32_t>(dense.size())).first->second);
      const std::uint32_t s = story[rep_index[it->second]];
      pred.push_back(level == 0 ? s : thread[s]);
    }
    if (gold.empty()) continue;
    const ClusteringScores scores = score_clustering(gold, pred);
    char text[160];
    std::snprintf(text, sizeof text,
                  "B-cubed P %.4f R %.4f F1 %.4f; pairwise P %.4f R %.4f F1 %.4f (%zu documents)",
                  scores.bcubed_precision, scores.bcubed_recall, scores.bcubed_f1, scores.pairwise_precision,
                  scores.pairwise_recall, scores.pairwise_f1, gold.size());
    f.emplace_back(gold_labels[level].first, text);
  }
}

namespace {

// What a run leaves per document, for the annotations: each document's representative and row, the
// stories of the rows, the threads of the stories, the languages.
struct Placed {
  const detail::CorpusSink& docs;
  const DuplicateGroups& groups;
  std::span<const DocIndex> rep_index;
  std::span<const std::uint32_t> story;
  std::span<const std::uint32_t> thread;
  std::span<const Language> languages;
};

// Where a run's documents come from and where its answers go: files (read twice: once to cluster,
// once to annotate each line), or memory.
struct ClusterIo {
  std::vector<std::string> names;  // what the report calls the inputs
  std::function<IngestStats(detail::CorpusSink&)> read;
  std::function<void(const Placed&)> annotate;  // empty: no annotations
  detail::LineSink story_line, thread_line;     // empty: not written
};

ClusterJobReport cluster_run(const ClusterJobOptions& options, JobObserver* observer, ClusterIo& io) {
  const auto start = std::chrono::steady_clock::now();
  ClusterJobReport report;
  detail::PhaseClock clock(report.phases, &report.phase_peak_mb);
  const FingerprintScheme scheme(options.dedup);
  const GoldLabels gold = read_gold(options);
  detail::RejectsWriter rejects(options.rejects_path);
  detail::CorpusSink docs(scheme, 0, rejects, observer);
  const bool encoding = options.cluster.encoder != nullptr && options.cluster.encoder_weight > 0.0f;
  detail::ClusterDocs extra(options.cluster.tfidf, encoding ? options.cluster.encoder_max_words : 0);
  extra.attach(docs);
  report.ingest = io.read(docs);
  rejects.close();
  const Names names = extra.names();

  clock.lap("read");

  // Near-duplicates enter clustering once, through their representative.
  if (observer != nullptr) observer->progress("dedup", report.ingest);
  const DuplicateGroups groups = find_duplicate_groups(scheme, docs.dedup_input(0));
  std::vector<std::uint32_t>().swap(docs.fingerprints);  // what grouping needed
  std::vector<std::vector<std::uint64_t>>().swap(docs.sets);
  const std::size_t n = docs.ids.size();
  std::vector<DocIndex> rep_index(n, 0);  // document -> row of its representative
  std::vector<std::int32_t> rep_dates;
  std::vector<DocIndex> rep_doc;
  for (std::size_t d = 0; d < n; ++d) {
    if (groups.representative[d] != d) continue;
    rep_index[d] = static_cast<DocIndex>(rep_doc.size());
    rep_doc.push_back(static_cast<DocIndex>(d));
    rep_dates.push_back(docs.info[d].date);
  }
  for (std::size_t d = 0; d < n; ++d) rep_index[d] = rep_index[groups.representative[d]];
  report.duplicates = n - rep_doc.size();
  extra.terms.keep(rep_doc);  // slot r: the terms of representative r
  clock.lap("dedup");
  detail::ShortVectors short_vectors;
  if (encoding) {
    if (observer != nullptr) observer->progress("encoder", report.ingest);
    short_vectors = detail::encode_short_documents(*options.cluster.encoder, rep_doc, extra.short_texts);
    report.encoded = short_vectors.count();
    clock.lap("encoder");
  }

  if (observer != nullptr) observer->progress("stories", report.ingest);
  // Stories are events told in one language's words: their rows leave the bridge out (its translations
  // and name keys blur events that names keep apart: on ecbplus they cost 0.013 B-cubed); threads use it.
  // Rows are built from the stored terms where they are needed: a time block's for its stories, a block
  // of stories' for their centroids.
  const auto rep_terms = [&](std::size_t r, TermCounts& out) { extra.terms.get(r, out); };
  TfidfShape shape;
  shape.max_row_terms = options.cluster.max_row_terms;
  shape.without_bridge = true;
  const std::vector<std::pair<std::uint64_t, std::uint32_t>> df =
      document_frequencies(rep_doc.size(), rep_terms);
  const TfidfColumns story_columns = tfidf_columns(rep_doc.size(), df, options.cluster.tfidf, shape);
  const detail::TimeBlocks blocks = detail::time_blocks(rep_dates, options.time_block_documents,
                                                        options.cluster.story_neighbors.window_days);
  report.time_blocks = blocks.rows.size();
  std::vector<std::vector<std::uint32_t>> block_story(blocks.rows.size());
  std::size_t reported_block = 0;  // rows of the block whose backgrounds the report gives
  for (std::size_t b = 0; b < blocks.rows.size(); ++b) {
    const std::vector<std::uint32_t>& block = blocks.rows[b];
    TfidfMatrix block_vectors = tfidf_rows(story_columns, block, rep_terms);
    detail::blend_short_vectors(block_vectors.rows, block, short_vectors, options.cluster.encoder_weight);
    // One block: the terms wait on disk while the graph and the linkage need the memory. Blocks need
    // them again, and bound that memory by a block instead.
    if (blocks.rows.size() == 1 &&
        (extra.terms.bytes() > options.spill_terms_above || options.spill_terms_above == 0))
      extra.terms.spill();
    clock.lap("story vectors");
    std::vector<std::int32_t> dates(block.size());
    std::vector<Language> languages(block.size());
    for (std::size_t k = 0; k < block.size(); ++k)
      dates[k] = rep_dates[block[k]], languages[k] = extra.languages[rep_doc[block[k]]];
    detail::BlockStories found =
        detail::block_stories(block_vectors.rows, dates, languages, options.cluster, clock);
    report.edges += found.edges;
    if (block.size() > reported_block) {
      reported_block = block.size();
      report.background = found.background;
      report.language_backgrounds = std::move(found.language_backgrounds);
    }
    block_story[b] = std::move(found.labels);
  }
  const std::vector<std::uint32_t> story = detail::stitch_blocks(blocks, block_story);
  std::vector<std::vector<std::uint32_t>>().swap(block_story);
  const std::size_t stories = rep_doc.empty() ? 0 : *std::max_element(story.begin(), story.end()) + 1;
  shape.without_bridge = false;
  shape.max_row_terms = 0;  // threads are linked from every term of their stories (see ClusterParams)
  const TfidfColumns columns = tfidf_columns(rep_doc.size(), df, options.cluster.tfidf, shape);
  report.terms = columns.term_hash.size();
  // Each story's member closest to its centroid, its representative (for the summaries).
  const bool want_representatives = io.story_line || !options.report_path.empty();
  detail::StoryVectors vectors = detail::story_vectors(
      columns, story, stories, rep_terms, options.cluster.max_story_terms, options.centroid_block_documents,
      want_representatives, [&] { extra.terms.clear(); });
  std::vector<DocIndex> story_rep(vectors.closest.size());
  for (std::size_t s = 0; s < story_rep.size(); ++s) story_rep[s] = rep_doc[vectors.closest[s]];
  RowMatrix& story_rows = vectors.rows;
  clock.lap("thread vectors");

  if (observer != nullptr) observer->progress("threads", report.ingest);
  std::vector<detail::LanguageCounts> story_languages(stories, detail::LanguageCounts{});
  for (std::size_t d = 0; d < n; ++d)
    ++story_languages[story[rep_index[d]]][static_cast<std::size_t>(extra.languages[d])];
  detail::Threads linked =
      detail::link_threads(vectors, story_languages, options.cluster, options.spill_terms_above);
  report.language_joins = linked.language_joins;
  const std::vector<std::uint32_t>& thread = linked.thread;
  const std::size_t threads = linked.count;
  const RowMatrix& thread_rows = linked.rows;
  report.stories = stories;
  report.threads = threads;
  clock.lap("threads");

  // Summaries: sizes and spans.
  std::vector<detail::Summary> story_summary(stories), thread_summary(threads);
  std::vector<detail::LanguageCounts> thread_languages(threads, detail::LanguageCounts{});
  for (std::size_t s = 0; s < stories; ++s)
    for (std::size_t l = 0; l < kLanguageCount; ++l) thread_languages[thread[s]][l] += story_languages[s][l];
  detail::count_languages(thread_languages, report);
  for (std::size_t d = 0; d < n; ++d) {
    const std::uint32_t s = story[rep_index[d]];
    story_summary[s].add_date(docs.info[d].date);
    ++story_summary[s].size;
    thread_summary[thread[s]].add_date(docs.info[d].date);
    ++thread_summary[thread[s]].size;
  }
  const auto story_id = [](std::size_t k) { return detail::story_label(k); };
  const auto thread_id = [](std::size_t k) { return detail::thread_label(k); };

  if (observer != nullptr) observer->progress("write", report.ingest);
  if (io.annotate) io.annotate(Placed{docs, groups, rep_index, story, thread, extra.languages});
  if (io.story_line) {
    detail::write_stories(
        io.story_line, story_summary, thread, story_rows, vectors.term_hash, names,
        [&](std::size_t s) -> std::string_view { return docs.ids[story_rep[s]]; },
        [&](std::size_t s) -> std::string_view { return extra.titles[story_rep[s]]; });
  }
  if (io.thread_line) {
    detail::write_threads(io.thread_line, story_summary, thread_summary, thread, thread_rows,
                          vectors.term_hash, names);
  }
  clock.lap("write");

  if (!options.report_path.empty()) {
    ReportData data;
    data.title = "storyline report: " + (io.names.empty() ? std::string("input") : io.names.front());
    const ReportLimits limits;
    std::vector<std::vector<std::uint32_t>> members(threads);
    for (std::size_t s = 0; s < stories; ++s) members[thread[s]].push_back(static_cast<std::uint32_t>(s));
    std::vector<std::uint32_t> order(threads);
    for (std::uint32_t t = 0; t < threads; ++t) order[t] = t;
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return thread_summary[a].size > thread_summary[b].size;
    });
    order.resize(std::min(order.size(), limits.threads));
    // Stories shown: per thread its largest, then in date order; -1 marks a story not shown.
    std::vector<std::int64_t> shown(stories, -1);
    std::vector<ReportStory> story_view;
    for (const std::uint32_t t : order) {
      auto list = members[t];
      std::stable_sort(list.begin(), list.end(), [&](std::uint32_t a, std::uint32_t b) {
        return story_summary[a].size > story_summary[b].size;
      });
      if (list.size() > limits.stories_per_thread) {
        // The largest, and the earliest and the latest, so the thread's span shows.
        const auto date_key = [&](std::uint32_t x, bool last) {
          const std::int32_t d = last ? story_summary[x].last : story_summary[x].first;
          return d == kNoDate ? (last ? INT32_MIN : INT32_MAX) : d;
        };
        const auto earliest = *std::min_element(list.begin(), list.end(), [&](auto a, auto b) {
          return date_key(a, false) < date_key(b, false);
        });
        const auto latest = *std::max_element(
            list.begin(), list.end(), [&](auto a, auto b) { return date_key(a, true) < date_key(b, true); });
        list.resize(limits.stories_per_thread - 2);
        for (const std::uint32_t end : {earliest, latest})
          if (std::find(list.begin(), list.end(), end) == list.end()) list.push_back(end);
      }
      for (const std::uint32_t s : list) {
        shown[s] = static_cast<std::int64_t>(story_view.size());
        ReportStory view;
        view.id = story_id(s);
        view.size = story_summary[s].size;
        view.first = story_summary[s].first, view.last = story_summary[s].last;
        view.headline = detail::utf8_prefix(extra.titles[story_rep[s]], 160);
        auto top = detail::top_terms(story_rows, static_cast<Eigen::Index>(s), vectors.term_hash, names);
        view.terms = std::move(top.terms), view.entities = std::move(top.entities);
        story_view.push_back(std::move(view));
      }
    }
    const auto document_view = [&](std::size_t d) {
      return ReportDocument{docs.ids[d], detail::utf8_prefix(extra.titles[d], 160), docs.info[d].date,
                            groups.similarity[d]};
    };
    for (std::size_t d = 0; d < n; ++d) {
      const std::int64_t v = shown[story[rep_index[d]]];
      if (v >= 0 && story_view[v].documents.size() < limits.documents_per_story)
        story_view[v].documents.push_back(document_view(d));
    }
    const auto by_date = [](const auto& a, const auto& b) {
      return (a.first == kNoDate ? INT32_MAX : a.first) < (b.first == kNoDate ? INT32_MAX : b.first);
    };
    for (ReportStory& v : story_view) {
      std::stable_sort(v.documents.begin(), v.documents.end(), [](const auto& a, const auto& b) {
        return (a.date == kNoDate ? INT32_MAX : a.date) < (b.date == kNoDate ? INT32_MAX : b.date);
      });
    }
    for (const std::uint32_t t : order) {
      ReportThread view;
      view.id = thread_id(t);
      view.size = thread_summary[t].size;
      view.total_stories = members[t].size();
      view.first = thread_summary[t].first, view.last = thread_summary[t].last;
      auto top = detail::top_terms(thread_rows, static_cast<Eigen::Index>(t), vectors.term_hash, names);
      view.terms = std::move(top.terms), view.entities = std::move(top.entities);
      for (const std::uint32_t s : members[t])
        if (shown[s] >= 0) view.stories.push_back(std::move(story_view[shown[s]]));
      std::stable_sort(view.stories.begin(), view.stories.end(), by_date);
      data.threads.push_back(std::move(view));
    }
    // Duplicate groups, largest first.
    std::vector<std::uint32_t> group_size(n, 0);
    for (std::size_t d = 0; d < n; ++d) ++group_size[groups.representative[d]];
    std::vector<DocIndex> reps;
    for (std::size_t d = 0; d < n; ++d)
      if (group_size[d] > 1) reps.push_back(static_cast<DocIndex>(d));
    data.total_duplicate_groups = reps.size();
    std::stable_sort(reps.begin(), reps.end(),
                     [&](DocIndex a, DocIndex b) { return group_size[a] > group_size[b]; });
    reps.resize(std::min(reps.size(), limits.duplicate_groups));
    std::unordered_map<DocIndex, std::size_t> group_of;
    for (const DocIndex r : reps) {
      group_of.emplace(r, data.duplicates.size());
      data.duplicates.push_back({document_view(r), group_size[r], {}});
    }
    for (std::size_t d = 0; d < n; ++d) {
      const auto it =
          groups.representative[d] != d ? group_of.find(groups.representative[d]) : group_of.end();
      if (it != group_of.end()) data.duplicates[it->second].copies.push_back(document_view(d));
    }
    for (ReportDuplicateGroup& g : data.duplicates) {
      std::stable_sort(g.copies.begin(), g.copies.end(),
                       [](const auto& a, const auto& b) { return a.similarity > b.similarity; });
      g.copies.resize(std::min(g.copies.size(), limits.copies_per_group));
    }
    data.total_threads = threads;
    data.total_stories = stories;
    report_figures(data, report, gold, io.names, docs.ids, story, thread, rep_index);
    const std::string html = render_html_report(data);
    detail::OutputFile out(options.report_path);
    out.write(html);
    out.close();
    report.report_bytes = html.size();
    clock.lap("report");
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace

ClusterJobReport run_cluster_job(const ClusterJobOptions& options, JobObserver* observer) {
  const detail::NamedOutput outputs[] = {{"--output", options.annotated_path},
                                         {"--stories", options.stories_path},
                                         {"--threads", options.threads_path},
                                         {"--rejects", options.rejects_path}};
  const detail::PreparedInputs inputs(options.inputs, outputs);
  ClusterIo io;
  io.names = inputs.names;
  io.read = [&](detail::CorpusSink& docs) {
    IngestParams params = options.ingest;
    params.require_text = false;
    return ingest(inputs.paths, params, docs, inputs.names);
  };
  if (!options.annotated_path.empty()) {
    io.annotate = [&](const Placed& p) {
      detail::OutputFile out(options.annotated_path);
      std::string line_out, fields;
      detail::for_each_document_line(inputs.paths, options.ingest.max_line_bytes, p.docs.where,
                                     [&](std::size_t d, const std::string& line) {
                                       const DocIndex rep = p.groups.representative[d];
                                       const std::uint32_t s = p.story[p.rep_index[d]];
                                       fields.clear();
                                       detail::append_dup_fields(fields, p.docs.ids, d, rep);
                                       detail::append_cluster_fields(fields, s, p.thread[s], p.languages[d]);
                                       line_out.clear();
                                       detail::append_annotated(line_out, line, fields);
                                       out.write(line_out);
                                     });
      out.close();
    };
  }
  // The summaries' files, opened when first written (after the work, as before).
  std::optional<detail::OutputFile> stories, threads;
  const auto to_file = [](std::optional<detail::OutputFile>& file, const std::string& path) {
    return [&file, &path](std::string_view line) {
      if (!file) file.emplace(path);
      file->write(line);
    };
  };
  if (!options.stories_path.empty()) io.story_line = to_file(stories, options.stories_path);
  if (!options.threads_path.empty()) io.thread_line = to_file(threads, options.threads_path);
  ClusterJobReport report = cluster_run(options, observer, io);
  // No story at all still makes the files asked for (empty).
  for (auto [file, path] :
       {std::pair{&stories, &options.stories_path}, std::pair{&threads, &options.threads_path}}) {
    if (path->empty()) continue;
    if (!*file) file->emplace(*path);
    (*file)->close();
  }
  return report;
}

ClusterJobReport cluster_records(DocumentBatches& source, const ClusterJobOptions& options,
                                 ClusterAssignments& out, JobObserver* observer) {
  ClusterIo io;
  io.names = {"<records>"};
  io.read = [&](detail::CorpusSink& docs) { return ingest_documents(source, docs); };
  io.annotate = [&](const Placed& p) {
    const std::size_t n = p.docs.ids.size();
    out.ids = p.docs.ids;
    out.representative = p.groups.representative;
    out.similarity = p.groups.similarity;
    out.story.resize(n);
    out.thread.resize(n);
    out.language.assign(p.languages.begin(), p.languages.begin() + static_cast<std::ptrdiff_t>(n));
    for (std::size_t d = 0; d < n; ++d) {
      out.story[d] = p.story[p.rep_index[d]];
      out.thread[d] = p.thread[out.story[d]];
    }
  };
  const auto collect = [](std::vector<std::string>& lines) {
    return [&lines](std::string_view line) {
      if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
      lines.emplace_back(line);
    };
  };
  out.stories.clear();
  out.threads.clear();
  io.story_line = collect(out.stories);
  io.thread_line = collect(out.threads);
  return cluster_run(options, observer, io);
}

}  // namespace storyline
