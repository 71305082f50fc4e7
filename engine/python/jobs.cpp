// storyline.dedup, storyline.cluster and storyline.minhash: the batch jobs on Python records.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include "python/module.hpp"
#include "python/records.hpp"
#include "storyline/cluster_job.hpp"
#include "storyline/dedup_job.hpp"
#include "storyline/language.hpp"
#include "storyline/text.hpp"

namespace storyline::python {
namespace {

constexpr std::size_t kDefaultBatch = 8192;

template <typename T>
py::array_t<T> numpy_of(std::size_t n, const std::function<T(std::size_t)>& value) {
  py::array_t<T> out(static_cast<py::ssize_t>(n));
  auto view = out.template mutable_unchecked<1>();
  for (std::size_t i = 0; i < n; ++i) view(static_cast<py::ssize_t>(i)) = value(i);
  return out;
}

py::list strings(const std::vector<std::string>& values) {
  py::list out(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) out[i] = py::str(values[i]);
  return out;
}

py::object dedup(py::handle records, unsigned jobs, std::size_t batch_size, const py::kwargs& kwargs) {
  DedupJobOptions options;
  Knobs knobs;
  add_field_knobs(knobs, options.ingest);
  add_dedup_knobs(knobs, options.dedup);
  knobs.add("boilerplate_df", options.boilerplate.df).add("boilerplate_sample", options.boilerplate.sample);
  knobs.apply(kwargs, "dedup");
  PyRecords source(records, options.ingest, batch_size);
  DedupRecordsResult found;
  run_released(&source, jobs, [&] { found = dedup_records(source, options); });

  const DuplicateGroups& g = found.groups;
  const std::size_t n = g.representative.size();
  DedupResult result;
  result.ids = strings(found.ids);
  result.groups = numpy_of<std::int64_t>(n, [&](std::size_t i) { return std::int64_t{g.representative[i]}; });
  result.keep = numpy_of<bool>(n, [&](std::size_t i) { return g.representative[i] == i; });
  result.similarity = numpy_of<float>(n, [&](std::size_t i) { return g.similarity[i]; });
  result.num_groups = g.groups;
  result.num_duplicates = found.report.removed;
  result.candidate_pairs = g.candidate_pairs;
  result.verified_pairs = g.verified_pairs;
  result.boilerplate = found.report.boilerplate;
  result.seconds = found.report.seconds;
  return py::cast(std::move(result));
}

py::object cluster(py::handle records, unsigned jobs, std::size_t batch_size, const std::string& lexicon,
                   const py::kwargs& kwargs) {
  ClusterJobOptions options;
  options.ingest.require_text = false;  // a headline alone is a document, as in `storyline cluster`
  ClusterParams& p = options.cluster;
  Knobs knobs;
  add_field_knobs(knobs, options.ingest);
  add_dedup_knobs(knobs, options.dedup, "dedup_threshold");
  knobs.add("story_threshold", p.story_threshold).add("dated_story_threshold", p.dated_story_threshold);
  knobs.add("background_rank", p.background_rank).add("background_by_language", p.background_per_language);
  knobs.add("thread_threshold", p.thread_threshold).add("window_days", p.story_neighbors.window_days);
  knobs.add("neighbors", p.story_neighbors.k).add("thread_entity_boost", p.thread_entity_boost);
  knobs.add("thread_pivot_boost", p.thread_pivot_boost).add("thread_name_boost", p.thread_name_boost);
  knobs.add("thread_name_share", p.thread_name_share);
  knobs.add("thread_language_threshold", p.thread_language_threshold);
  knobs.add("thread_min_stories", p.thread_min_stories).add("thread_join_threshold", p.thread_join_threshold);
  knobs.add("thread_refine_rounds", p.thread_refine_rounds);
  knobs.add("max_row_terms", p.max_row_terms).add("max_story_terms", p.max_story_terms);
  knobs.add("time_block", options.time_block_documents).add("bigrams", p.tfidf.bigrams);
  knobs.add("title_weight", p.tfidf.title_weight).add("entity_weight", p.tfidf.entity_weight);
  knobs.add("own_term_weight", p.tfidf.own_term_weight).add("stem", p.tfidf.stem_language);
  knobs.add("bridge_weight", p.tfidf.bridge_weight).add("name_key_weight", p.tfidf.name_key_weight);
  knobs.add("report", options.report_path).add("gold", options.gold_path);
  knobs.add("gold_story_field", options.gold_story_field).add("gold_thread_field", options.gold_thread_field);
  knobs.apply(kwargs, "cluster");
  p.tfidf.lexicon = load_lexicon(lexicon, p.tfidf);

  PyRecords source(records, options.ingest, batch_size);
  ClusterAssignments found;
  ClusterJobReport report;
  run_released(&source, jobs, [&] { report = cluster_records(source, options, found); });

  const std::size_t n = found.ids.size();
  ClusterResult result;
  result.ids = strings(found.ids);
  py::list dup_group(n), dup_of(n), story(n), thread(n), language(n);
  for (std::size_t d = 0; d < n; ++d) {
    const DocIndex rep = found.representative[d];
    dup_group[d] = result.ids[rep];
    dup_of[d] = rep == d ? py::object(py::none()) : py::object(result.ids[rep]);
    story[d] = py::str("s" + std::to_string(found.story[d]));
    thread[d] = py::str("t" + std::to_string(found.thread[d]));
    language[d] = py::str(std::string(language_name(found.language[d])));
  }
  result.dup_group = dup_group, result.dup_of = dup_of, result.story = story, result.thread = thread;
  result.language = language;
  result.similarity = numpy_of<float>(n, [&](std::size_t i) { return found.similarity[i]; });
  const py::object loads = py::module_::import("json").attr("loads");
  py::list stories, threads;
  for (const std::string& line : found.stories) stories.append(loads(line));
  for (const std::string& line : found.threads) threads.append(loads(line));
  result.stories = stories, result.threads = threads;
  result.num_duplicates = report.duplicates;
  result.time_blocks = report.time_blocks;
  result.seconds = report.seconds;
  return py::cast(std::move(result));
}

py::array_t<std::uint32_t> minhash(py::handle texts, std::uint32_t num_perm, std::uint64_t seed,
                                   const std::string& shingle, std::uint32_t ngram, unsigned jobs) {
  ShingleParams shingles;
  shingles.size = ngram;
  if (shingle == "char") {
    shingles.kind = ShingleKind::kChar;
  } else if (shingle != "word") {
    throw py::value_error("shingle must be word or char, not '" + shingle + "'");
  }
  const MinHasher hasher(MinHashParams{num_perm, seed});
  const Shingler valid(shingles);  // bad parameters are refused before any text is read
  std::vector<std::string> all;
  for (const py::handle text : texts) {
    all.emplace_back();
    if (!utf8_of(text, all.back()))
      throw py::type_error("text " + std::to_string(all.size() - 1) + ": a str or bytes is expected");
  }
  py::array_t<std::uint32_t> out({static_cast<py::ssize_t>(all.size()), static_cast<py::ssize_t>(num_perm)});
  std::uint32_t* data = out.mutable_data();
  run_released(nullptr, jobs, [&] {
    tbb::enumerable_thread_specific<Shingler> shinglers([&] { return Shingler(shingles); });
    tbb::enumerable_thread_specific<std::vector<std::uint64_t>> scratch;
    tbb::parallel_for(std::size_t{0}, all.size(), [&](std::size_t i) {
      std::vector<std::uint64_t>& features = scratch.local();
      shinglers.local().shingle(all[i], features);
      hasher.sign(features, std::span(data + i * num_perm, num_perm));
    });
  });
  return out;
}

}  // namespace

void add_jobs(py::module_& m) {
  py::class_<DedupResult>(m, "DedupResult", "What storyline.dedup found, one entry per input record.")
      .def_readonly("ids", &DedupResult::ids, "each record's id (its position as text when it had none)")
      .def_readonly("groups", &DedupResult::groups,
                    "numpy int64: each record's group, the position of the group's representative (equal "
                    "values: one group; a record alone is its own)")
      .def_readonly("keep", &DedupResult::keep, "numpy bool: True for each group's representative")
      .def_readonly("similarity", &DedupResult::similarity,
                    "numpy float32: fingerprint similarity to the representative (1 for it)")
      .def_readonly("num_groups", &DedupResult::num_groups, "groups of two or more records")
      .def_readonly("num_duplicates", &DedupResult::num_duplicates, "records that are not kept")
      .def_readonly("candidate_pairs", &DedupResult::candidate_pairs, "pairs verified")
      .def_readonly("verified_pairs", &DedupResult::verified_pairs, "pairs that passed")
      .def_readonly("boilerplate", &DedupResult::boilerplate, "boilerplate shingles left out")
      .def_readonly("seconds", &DedupResult::seconds, "wall time of the work")
      .def("__len__", [](const DedupResult& r) { return py::len(r.ids); })
      .def("__repr__", [](const DedupResult& r) {
        return "<storyline.DedupResult: " + std::to_string(py::len(r.ids)) + " records, " +
               std::to_string(r.num_groups) + " groups, " + std::to_string(r.num_duplicates) + " duplicates>";
      });
  py::class_<ClusterResult>(m, "ClusterResult", "What storyline.cluster found, one entry per input record.")
      .def_readonly("ids", &ClusterResult::ids, "each record's id")
      .def_readonly("dup_group", &ClusterResult::dup_group, "the id of its duplicate group's representative")
      .def_readonly("dup_of", &ClusterResult::dup_of, "that id when it is another record's, else None")
      .def_readonly("similarity", &ClusterResult::similarity, "numpy float32: similarity to dup_group")
      .def_readonly("story", &ClusterResult::story, "story id ('s12'), as --output writes story_id")
      .def_readonly("thread", &ClusterResult::thread, "thread id ('t3'), as --output writes thread_id")
      .def_readonly("language", &ClusterResult::language, "language guessed ('en', 'es', ...)")
      .def_readonly("stories", &ClusterResult::stories, "one dict per story, as --stories writes them")
      .def_readonly("threads", &ClusterResult::threads, "one dict per thread, as --threads writes them")
      .def_readonly("num_duplicates", &ClusterResult::num_duplicates, "records folded into another's group")
      .def_readonly("time_blocks", &ClusterResult::time_blocks, "time blocks the stories were found in")
      .def_readonly("seconds", &ClusterResult::seconds, "wall time of the work")
      .def("__len__", [](const ClusterResult& r) { return py::len(r.ids); })
      .def("__repr__", [](const ClusterResult& r) {
        return "<storyline.ClusterResult: " + std::to_string(py::len(r.ids)) + " records, " +
               std::to_string(py::len(r.stories)) + " stories, " + std::to_string(py::len(r.threads)) +
               " threads>";
      });

  m.def("dedup", &dedup, py::arg("records"), py::kw_only(), py::arg("jobs") = 0u,
        py::arg("batch_size") = kDefaultBatch, doc::kDedup);
  m.def("cluster", &cluster, py::arg("records"), py::kw_only(), py::arg("jobs") = 0u,
        py::arg("batch_size") = kDefaultBatch, py::arg("lexicon") = "auto", doc::kCluster);
  m.def("minhash", &minhash, py::arg("texts"), py::kw_only(), py::arg("num_perm") = 128u,
        py::arg("seed") = std::uint64_t{1}, py::arg("shingle") = "word", py::arg("ngram") = 5u,
        py::arg("jobs") = 0u, doc::kMinhash);
}

}  // namespace storyline::python
