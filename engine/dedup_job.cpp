#include "storyline/dedup_job.hpp"

#include <simdjson.h>
#include <tbb/enumerable_thread_specific.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>

#include "detail/json_out.hpp"
#include "storyline/dedup.hpp"
#include "storyline/dedup_index.hpp"
#include "storyline/error.hpp"

namespace storyline {
namespace {

/// Writes one rejects line per issue.
class RejectsWriter {
 public:
  explicit RejectsWriter(const std::string& path) {
    if (!path.empty()) file_.emplace(path);
  }
  void write(const IssueReport& report) {
    if (!file_) return;
    constexpr std::size_t kMaxContent = 1000;
    line_.clear();
    line_ += "{\"file\":";
    detail::append_json_string(line_, report.file);
    line_ += ",\"line\":" + std::to_string(report.line) + ",\"reason\":";
    detail::append_json_string(line_, issue_name(report.issue));
    line_ += is_rejecting(report.issue) ? ",\"action\":\"skipped\"" : ",\"action\":\"repaired\"";
    line_ += ",\"detail\":";
    detail::append_json_string(line_, report.detail);
    line_ += ",\"content\":";
    detail::append_json_string(line_, report.content.substr(0, kMaxContent));
    line_ += "}\n";
    file_->write(line_);
  }
  void close() {
    if (file_) file_->close();
  }

 private:
  std::optional<detail::OutputFile> file_;
  std::string line_;
};

/// Pass 1: stores what grouping and writing need of each document.
class DedupSink final : public IngestSink {
 public:
  DedupSink(const FingerprintScheme& scheme, std::size_t prior, RejectsWriter& rejects, JobObserver* observer)
      : scheme_(scheme), prior_(prior), rejects_(rejects), observer_(observer), fingerprinters_([&] {
          return Fingerprinter(scheme);
        }) {}

  void reserve(DocIndex first, std::size_t count) override {
    const std::size_t end = prior_ + first + count;
    ids.resize(end);
    info.resize(end);
    fingerprints.resize(end * scheme_.words());
    where.resize(end - prior_);
    if (scheme_.params().verify == Verify::kExact) sets.resize(end);
  }

  void process(const Document& doc, DocIndex index, SourceLine source) override {
    const std::size_t slot = prior_ + index;
    ids[slot] = doc.id;
    info[slot] =
        DocInfo{doc.date, static_cast<std::uint32_t>(std::min<std::size_t>(doc.text.size(), UINT32_MAX))};
    where[index] = source;
    auto fp = std::span(fingerprints).subspan(slot * scheme_.words(), scheme_.words());
    fingerprinters_.local().fingerprint(doc.text, fp, sets.empty() ? nullptr : &sets[slot]);
  }

  void on_issue(const IssueReport& report) override { rejects_.write(report); }

  void on_progress(const IngestStats& stats) override {
    if (observer_ != nullptr) observer_->progress("read", stats);
  }

  std::vector<std::string> ids;
  std::vector<DocInfo> info;
  std::vector<std::uint32_t> fingerprints;
  std::vector<std::vector<std::uint64_t>> sets;
  std::vector<SourceLine> where;  // new documents only

 private:
  const FingerprintScheme& scheme_;
  std::size_t prior_;
  RejectsWriter& rejects_;
  JobObserver* observer_;
  tbb::enumerable_thread_specific<Fingerprinter> fingerprinters_;
};

// Copies standard input to a temporary file so that pass 2 can read it again.
std::string spool_stdin() {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/storyline-stdin-XXXXXX";
  const int fd = ::mkstemp(path.data());
  if (fd < 0) throw IoError("cannot create a temporary file for standard input");
  ::close(fd);
  detail::OutputFile out(path);
  std::vector<char> buffer(std::size_t{1} << 20);
  for (;;) {  // raw bytes: the reader detects compression and truncation itself
    const ssize_t n = ::read(0, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError("cannot read standard input");
    if (n == 0) break;
    out.write(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
  }
  out.close();
  return path;
}

struct TempFiles {
  std::vector<std::string> paths;
  ~TempFiles() {
    for (const auto& p : paths) std::remove(p.c_str());
  }
};

// Pass 2: reads the inputs again and writes each output line of the accepted documents.
class OutputWriter {
 public:
  OutputWriter(const DedupJobOptions& options, const DedupSink& docs, const DuplicateGroups& groups,
               std::size_t prior)
      : options_(options), docs_(docs), groups_(groups), prior_(prior) {
    if (!options.kept_path.empty()) kept_.emplace(options.kept_path);
    if (!options.annotated_path.empty()) annotated_.emplace(options.annotated_path);
  }

  void write(const std::vector<std::string>& paths) {
    std::size_t cursor = 0;  // next new document, in (file, line) order
    std::string line, out, repaired;
    for (std::uint32_t f = 0; f < paths.size(); ++f) {
      LineReader reader(paths[f], options_.ingest.max_line_bytes);
      for (LineStatus s; (s = reader.next(line)) != LineStatus::kEnd;) {
        if (cursor >= docs_.where.size()) break;
        const SourceLine& at = docs_.where[cursor];
        if (s != LineStatus::kLine || at.file != f || at.line != reader.line_number()) continue;
        write_document(prior_ + cursor, line, out, repaired);
        ++cursor;
      }
    }
    if (cursor != docs_.where.size()) throw IoError("an input file changed between the two passes");
    if (kept_) kept_->close();
    if (annotated_) annotated_->close();
  }

 private:
  void write_document(std::size_t doc, const std::string& line, std::string& out, std::string& repaired) {
    const DocIndex rep = groups_.representative[doc];
    if (kept_ && rep == doc) {
      out.assign(line);
      out.push_back('\n');
      kept_->write(out);
    }
    if (!annotated_) return;
    fields_.assign(",\"dup_group\":");
    detail::append_json_string(fields_, docs_.ids[rep]);
    fields_ += ",\"dup_of\":";
    if (rep == doc) {
      fields_ += "null";
    } else {
      detail::append_json_string(fields_, docs_.ids[rep]);
    }
    std::string_view record = line;
    if (!simdjson::validate_utf8(line.data(), line.size())) {
      repair_utf8(line, repaired);
      record = repaired;
    }
    out.clear();
    detail::append_fields_to_object(out, record, fields_);
    out.push_back('\n');
    annotated_->write(out);
  }

  const DedupJobOptions& options_;
  const DedupSink& docs_;
  const DuplicateGroups& groups_;
  std::size_t prior_;
  std::optional<detail::OutputFile> kept_, annotated_;
  std::string fields_;
};

// One line per group of two or more that holds a new document: the representative first.
void write_groups(const std::string& path, const DedupSink& docs, const DuplicateGroups& groups,
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

DedupJobReport run_dedup_job(const DedupJobOptions& options, JobObserver* observer) {
  const auto start = std::chrono::steady_clock::now();
  STORYLINE_CHECK_ARG(!options.inputs.empty(), "no input files");
  DedupJobReport report;

  std::optional<DedupIndex> loaded;
  if (!options.index_path.empty()) loaded.emplace(DedupIndex::load(options.index_path));
  report.params = loaded ? loaded->scheme().params() : options.dedup;
  if (loaded) report.params.verify = options.dedup.verify;  // a run-time choice, not part of the index
  const FingerprintScheme scheme(report.params);
  report.bands = scheme.bands();

  TempFiles temp;
  std::vector<std::string> paths = options.inputs, names = options.inputs;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (paths[i] != "-") continue;
    paths[i] = spool_stdin();
    temp.paths.push_back(paths[i]);
    names[i] = "<stdin>";
  }

  RejectsWriter rejects(options.rejects_path);
  const std::size_t prior = loaded ? loaded->size() : 0;
  DedupSink docs(scheme, prior, rejects, observer);
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
  report.ingest = ingest(paths, options.ingest, docs, names);
  rejects.close();

  if (observer != nullptr) observer->progress("group", report.ingest);
  DedupInput input;
  input.fingerprints = docs.fingerprints;
  input.info = docs.info;
  input.ids = docs.ids;
  input.sets = docs.sets;
  input.prior = prior;
  const DuplicateGroups groups = find_duplicate_groups(scheme, input);
  report.candidate_pairs = groups.candidate_pairs;
  report.verified_pairs = groups.verified_pairs;
  for (std::size_t d = prior; d < groups.representative.size(); ++d) {
    const DocIndex rep = groups.representative[d];
    if (rep == d) continue;
    ++report.removed;
    if (rep < prior) ++report.duplicates_of_prior;
  }

  if (observer != nullptr) observer->progress("write", report.ingest);
  OutputWriter(options, docs, groups, prior).write(paths);
  if (!options.groups_path.empty()) write_groups(options.groups_path, docs, groups, prior);
  {
    std::vector<std::uint8_t> counted(groups.representative.size(), 0);
    for (std::size_t d = prior; d < groups.representative.size(); ++d) {
      const DocIndex rep = groups.representative[d];
      if (rep != d && !counted[rep]) counted[rep] = 1, ++report.groups;
    }
  }

  if (!options.save_index_path.empty()) {
    DedupIndex index(report.params);
    for (std::size_t d = 0; d < docs.ids.size(); ++d) {
      if (index.find(docs.ids[d])) {
        ++report.index_skipped_ids;
        continue;
      }
      index.add(
          docs.ids[d], docs.info[d],
          std::span<const std::uint32_t>(docs.fingerprints).subspan(d * scheme.words(), scheme.words()));
    }
    index.save(options.save_index_path);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace storyline
