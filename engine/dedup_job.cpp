#include "storyline/dedup_job.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>
#include <unordered_set>

#include "detail/corpus.hpp"
#include "detail/index_file.hpp"
#include "detail/json_out.hpp"
#include "storyline/dedup.hpp"
#include "storyline/dedup_index.hpp"
#include "storyline/error.hpp"

namespace storyline {
namespace {

// Pass 2: the kept lines byte for byte, and every line annotated with its group.
void write_outputs(const DedupJobOptions& options, const std::vector<std::string>& paths,
                   const detail::CorpusSink& docs, const DuplicateGroups& groups, std::size_t prior) {
  std::optional<detail::OutputFile> kept, annotated;
  if (!options.kept_path.empty()) kept.emplace(options.kept_path);
  if (!options.annotated_path.empty()) annotated.emplace(options.annotated_path);
  std::string out, fields;
  detail::for_each_document_line(paths, options.ingest.max_line_bytes, docs.where,
                                 [&](std::size_t k, const std::string& line) {
                                   const std::size_t doc = prior + k;
                                   const DocIndex rep = groups.representative[doc];
                                   if (kept && rep == doc) {
                                     out.assign(line);
                                     out.push_back('\n');
                                     kept->write(out);
                                   }
                                   if (!annotated) return;
                                   fields.clear();
                                   detail::append_dup_fields(fields, docs.ids, doc, rep);
                                   out.clear();
                                   detail::append_annotated(out, line, fields);
                                   annotated->write(out);
                                 });
  if (kept) kept->close();
  if (annotated) annotated->close();
}

// One line per group of two or more that holds a new document: the representative first.
void write_groups(const std::string& path, const detail::CorpusSink& docs, const DuplicateGroups& groups,
                  std::size_t prior) {
  const std::size_t n = groups.representative.size();
  std::vector<DocIndex> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<DocIndex>(i);
  std::stable_sort(order.begin(), order.end(), [&](DocIndex a, DocIndex b) {
    return groups.representative[a] < groups.representative[b];
  });
  detail::OutputFile out(path);
  std::string line;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    bool has_new = false;
    const DocIndex rep = groups.representative[order[i]];
    while (j < n && groups.representative[order[j]] == rep) has_new |= order[j++] >= prior;
    if (j - i >= 2 && has_new) {
      line.assign("{\"group\":");
      detail::append_json_string(line, docs.ids[rep]);
      line += ",\"size\":" + std::to_string(j - i) + ",\"members\":[";
      // Representative first, then the others in input order.
      std::stable_partition(order.begin() + static_cast<std::ptrdiff_t>(i),
                            order.begin() + static_cast<std::ptrdiff_t>(j),
                            [&](DocIndex d) { return d == rep; });
      for (std::size_t m = i; m < j; ++m) {
        const DocIndex d = order[m];
        line += m == i ? "{\"id\":" : ",{\"id\":";
        detail::append_json_string(line, docs.ids[d]);
        line += ",\"similarity\":";
        detail::append_json_number(line, groups.similarity[d]);
        if (d < prior) line += ",\"from_index\":true";
        line += "}";
      }
      line += "]}\n";
      out.write(line);
    }
    i = j;
  }
  out.close();
}

}  // namespace

std::shared_ptr<const Boilerplate> find_boilerplate(const std::vector<std::string>& paths,
                                                    const DedupJobOptions& options, DedupJobReport& report) {
  if (options.boilerplate.df <= 0.0) return nullptr;
  LearnedBoilerplate learned =
      learn_boilerplate(sample_texts(paths, options.ingest, options.boilerplate.sample),
                        options.dedup.shingle, options.boilerplate, options.show_boilerplate);
  report.boilerplate_sampled = learned.sampled;
  report.boilerplate_min_documents = learned.min_documents;
  report.boilerplate_top = std::move(learned.top);
  return std::make_shared<const Boilerplate>(std::move(learned.set));
}

DedupJobReport run_dedup_job(const DedupJobOptions& options, JobObserver* observer) {
  const auto start = std::chrono::steady_clock::now();
  STORYLINE_CHECK_ARG(!options.inputs.empty(), "no input files");
  DedupJobReport report;
  detail::PhaseClock clock(report.phases);

  std::optional<DedupIndex> loaded;
  if (!options.index_path.empty()) loaded.emplace(DedupIndex::load(options.index_path));
  report.params = loaded ? loaded->scheme().params() : options.dedup;
  if (loaded) report.params.verify = options.dedup.verify;  // a run-time choice, not part of the index
  const FingerprintScheme valid(report.params);  // bad parameters are refused before any input is read

  const detail::NamedOutput outputs[] = {{"--output", options.kept_path},
                                         {"--annotate", options.annotated_path},
                                         {"--groups", options.groups_path},
                                         {"--rejects", options.rejects_path},
                                         {"--save-index", options.save_index_path}};
  const detail::PreparedInputs inputs(options.inputs, outputs);
  const FingerprintScheme scheme(report.params, loaded ? loaded->scheme().boilerplate()
                                                       : find_boilerplate(inputs.paths, options, report));
  report.boilerplate = scheme.boilerplate() ? scheme.boilerplate()->size() : 0;
  report.bands = scheme.bands();
  if (report.boilerplate_sampled > 0) clock.lap("boilerplate");
  detail::RejectsWriter rejects(options.rejects_path);
  const std::size_t prior = loaded ? loaded->size() : 0;
  detail::CorpusSink docs(scheme, prior, rejects, observer);
  if (loaded) {
    for (DocIndex d = 0; d < loaded->slots(); ++d) {
      if (!loaded->alive(d)) continue;
      docs.ids.push_back(loaded->id(d));
      docs.info.push_back(loaded->info(d));
      const auto fp = loaded->fingerprint(d);
      docs.fingerprints.insert(docs.fingerprints.end(), fp.begin(), fp.end());
      if (report.params.verify == Verify::kExact) docs.sets.emplace_back();
    }
    loaded.reset();  // its data now lives in docs
  }
  report.prior_documents = prior;
  report.ingest = ingest(inputs.paths, options.ingest, docs, inputs.names);
  rejects.close();
  clock.lap("read");

  if (observer != nullptr) observer->progress("group", report.ingest);
  const DuplicateGroups groups = find_duplicate_groups(scheme, docs.dedup_input(prior));
  report.candidate_pairs = groups.candidate_pairs;
  report.verified_pairs = groups.verified_pairs;
  for (std::size_t d = prior; d < groups.representative.size(); ++d) {
    const DocIndex rep = groups.representative[d];
    if (rep == d) continue;
    ++report.removed;
    if (rep < prior) ++report.duplicates_of_prior;
  }
  clock.lap("group");

  if (observer != nullptr) observer->progress("write", report.ingest);
  write_outputs(options, inputs.paths, docs, groups, prior);
  if (!options.groups_path.empty()) write_groups(options.groups_path, docs, groups, prior);
  {
    std::vector<std::uint8_t> counted(groups.representative.size(), 0);
    for (std::size_t d = prior; d < groups.representative.size(); ++d) {
      const DocIndex rep = groups.representative[d];
      if (rep != d && !counted[rep]) counted[rep] = 1, ++report.groups;
    }
  }
  clock.lap("write");

  if (!options.save_index_path.empty()) {
    // Every document but those whose id came earlier, written record by record (the index file needs
    // no LSH tables: they are built when it is loaded).
    std::vector<std::uint8_t> skip(docs.ids.size(), 0);
    {
      std::unordered_set<std::string_view> seen;
      seen.reserve(docs.ids.size());
      for (std::size_t d = 0; d < docs.ids.size(); ++d) skip[d] = seen.insert(docs.ids[d]).second ? 0 : 1;
    }
    report.index_skipped_ids = static_cast<std::size_t>(std::count(skip.begin(), skip.end(), 1));
    detail::IndexFileWriter out(options.save_index_path, scheme, docs.ids.size() - report.index_skipped_ids);
    const std::span<const std::uint32_t> prints(docs.fingerprints);
    for (std::size_t d = 0; d < docs.ids.size(); ++d) {
      if (skip[d] == 0)
        out.add(docs.ids[d], docs.info[d], prints.subspan(d * scheme.words(), scheme.words()));
    }
    out.finish();
    clock.lap("save index");
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

namespace {

// The held sample first, then the rest of the source.
class SampleThenRest final : public DocumentBatches {
 public:
  SampleThenRest(std::vector<Document> sample, DocumentBatches& rest)
      : sample_(std::move(sample)), rest_(rest) {}
  std::span<const Document> next() override {
    if (!sample_given_) {
      sample_given_ = true;
      if (!sample_.empty()) return sample_;
    }
    std::vector<Document>().swap(sample_);
    return rest_.next();
  }

 private:
  std::vector<Document> sample_;
  DocumentBatches& rest_;
  bool sample_given_ = false;
};

}  // namespace

DedupRecordsResult dedup_records(DocumentBatches& source, const DedupJobOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  DedupRecordsResult result;
  DedupJobReport& report = result.report;
  report.params = options.dedup;
  detail::PhaseClock clock(report.phases);
  const FingerprintScheme valid(report.params);  // bad parameters are refused before any record is read

  // The sample, as the file job's: the first documents' texts.
  std::vector<Document> held;
  const std::size_t sample = options.boilerplate.df > 0.0 ? options.boilerplate.sample : 0;
  while (held.size() < sample) {
    const std::span<const Document> batch = source.next();
    if (batch.empty()) break;
    held.insert(held.end(), batch.begin(), batch.end());
  }
  std::shared_ptr<const Boilerplate> boilerplate;
  if (options.boilerplate.df > 0.0) {
    std::vector<std::string> texts;
    texts.reserve(std::min(held.size(), sample));
    for (std::size_t i = 0; i < held.size() && i < sample; ++i) texts.push_back(held[i].text);
    LearnedBoilerplate learned =
        learn_boilerplate(texts, options.dedup.shingle, options.boilerplate, options.show_boilerplate);
    report.boilerplate_sampled = learned.sampled;
    report.boilerplate_min_documents = learned.min_documents;
    report.boilerplate_top = std::move(learned.top);
    boilerplate = std::make_shared<const Boilerplate>(std::move(learned.set));
  }
  const FingerprintScheme scheme(report.params, boilerplate);
  report.boilerplate = boilerplate ? boilerplate->size() : 0;
  report.bands = scheme.bands();
  if (report.boilerplate_sampled > 0) clock.lap("boilerplate");

  detail::RejectsWriter rejects("");
  detail::CorpusSink docs(scheme, 0, rejects, nullptr);
  SampleThenRest all(std::move(held), source);
  report.ingest = ingest_documents(all, docs);
  std::vector<SourceLine>().swap(docs.where);
  clock.lap("read");

  result.groups = find_duplicate_groups(scheme, docs.dedup_input(0));
  report.candidate_pairs = result.groups.candidate_pairs;
  report.verified_pairs = result.groups.verified_pairs;
  report.groups = result.groups.groups;
  for (std::size_t d = 0; d < result.groups.representative.size(); ++d)
    report.removed += result.groups.representative[d] != d ? 1 : 0;
  result.ids = std::move(docs.ids);
  clock.lap("group");
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace storyline
