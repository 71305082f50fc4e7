#include "storyline/ingest.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <vector>

#include "storyline/error.hpp"

namespace storyline {
namespace {

constexpr std::size_t kBatchBytes = std::size_t{8} << 20;
constexpr std::size_t kBatchLines = 16384;

// Lines of one batch, stored back to back.
struct LineBatch {
  std::string bytes;
  std::vector<std::size_t> offsets;  // offsets[i]..offsets[i + 1] is line i
  std::vector<std::uint64_t> numbers;
  std::vector<LineStatus> status;

  void clear() {
    bytes.clear();
    offsets.assign(1, 0);
    numbers.clear();
    status.clear();
  }
  std::size_t size() const { return numbers.size(); }
  std::string_view line(std::size_t i) const {
    return std::string_view(bytes).substr(offsets[i], offsets[i + 1] - offsets[i]);
  }
  void add(std::string_view line, std::uint64_t number, LineStatus s) {
    bytes.append(line);
    offsets.push_back(bytes.size());
    numbers.push_back(number);
    status.push_back(s);
  }
};

bool is_blank_line(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

class Ingester {
 public:
  Ingester(std::span<const std::string> paths, std::span<const std::string> names, const IngestParams& params,
           IngestSink& sink)
      : paths_(paths), names_(names), params_(params), sink_(sink), parsers_([&] {
          return RecordParser(params);
        }) {}

  IngestStats run(std::span<const InputPart> parts) {
    for (const InputPart& part : parts) read_part(part);
    return stats_;
  }

 private:
  void read_part(const InputPart& part) {
    const std::uint32_t file = part.file;
    LineReader reader = part.whole() ? LineReader(paths_[file], params_.max_line_bytes)
                                     : LineReader(paths_[file], params_.max_line_bytes, part.begin, part.end,
                                                  part.first_line);
    std::string line;
    const std::uint64_t bytes_before = stats_.bytes, raw_before = stats_.raw_bytes;
    for (;;) {
      batch_.clear();
      bool end = false;
      while (batch_.bytes.size() < kBatchBytes && batch_.size() < kBatchLines) {
        const LineStatus s = reader.next(line);
        if (s == LineStatus::kEnd) {
          end = true;
          break;
        }
        ++stats_.lines;
        if (s == LineStatus::kLine && is_blank_line(line)) continue;
        batch_.add(line, reader.line_number(), s);
      }
      stats_.bytes = bytes_before + reader.bytes_read();
      stats_.raw_bytes = raw_before + reader.raw_bytes_read();
      process_batch(file);
      sink_.on_progress(stats_);
      if (end) break;
    }
  }

  void report(std::uint32_t file, std::size_t i, Issue issue, std::string_view detail) {
    ++stats_.issues[static_cast<std::size_t>(issue)];
    if (params_.strict) {
      throw ParseError(names_[file] + ":" + std::to_string(batch_.numbers[i]) + ": " +
                       std::string(issue_name(issue)) + ": " + std::string(detail));
    }
    sink_.on_issue(IssueReport{file, names_[file], batch_.numbers[i], issue, detail, batch_.line(i)});
  }

  void process_batch(std::uint32_t file) {
    const std::size_t n = batch_.size();
    records_.resize(n);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n), [&](const auto& range) {
      RecordParser& parser = parsers_.local();
      for (std::size_t i = range.begin(); i < range.end(); ++i) {
        if (batch_.status[i] == LineStatus::kLine) parser.parse(batch_.line(i), records_[i]);
      }
    });
    // Serial, in order: report problems, name documents without id, number the accepted ones.
    accepted_.clear();
    for (std::size_t i = 0; i < n; ++i) {
      ParsedRecord& r = records_[i];
      if (batch_.status[i] == LineStatus::kTooLong) {
        report(file, i, Issue::kLineTooLong,
               "line longer than " + std::to_string(params_.max_line_bytes) + " bytes");
        continue;
      }
      if (batch_.status[i] == LineStatus::kTruncated) {
        report(file, i, Issue::kTruncatedInput,
               "the input ends abruptly (truncated or corrupt compressed file)");
        continue;
      }
      for (unsigned issue = static_cast<unsigned>(Issue::kInvalidUtf8);
           issue < static_cast<unsigned>(Issue::kCount); ++issue) {
        if ((r.repairs & (1u << issue)) == 0 || r.rejected) continue;
        const auto kind = static_cast<Issue>(issue);
        report(file, i, kind,
               kind == Issue::kInvalidUtf8 ? "invalid UTF-8 replaced by U+FFFD"
               : kind == Issue::kBadDate   ? "date is not ISO 8601; the document is kept without a date"
                                           : "no id; named FILE:LINE");
      }
      if (r.rejected) {
        report(file, i, r.reason, r.detail);
        continue;
      }
      if (r.doc.id.empty()) r.doc.id = names_[file] + ":" + std::to_string(batch_.numbers[i]);
      accepted_.push_back(i);
    }
    if (accepted_.empty()) return;
    const auto first = static_cast<DocIndex>(stats_.documents);
    STORYLINE_CHECK_ARG(stats_.documents + accepted_.size() < DocIndex(-1),
                        "too many documents for 32-bit indexes");
    sink_.reserve(first, accepted_.size());
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, accepted_.size()), [&](const auto& range) {
      for (std::size_t j = range.begin(); j < range.end(); ++j) {
        const std::size_t i = accepted_[j];
        sink_.process(records_[i].doc, first + static_cast<DocIndex>(j), SourceLine{file, batch_.numbers[i]});
      }
    });
    stats_.documents += accepted_.size();
  }

  std::span<const std::string> paths_;
  std::span<const std::string> names_;
  const IngestParams& params_;
  IngestSink& sink_;
  tbb::enumerable_thread_specific<RecordParser> parsers_;
  LineBatch batch_;
  std::vector<ParsedRecord> records_;
  std::vector<std::size_t> accepted_;
  IngestStats stats_;
};

}  // namespace

std::uint64_t IngestStats::rejected() const {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < issues.size(); ++i) {
    if (is_rejecting(static_cast<Issue>(i))) total += issues[i];
  }
  return total;
}

IngestStats ingest(std::span<const std::string> paths, const IngestParams& params, IngestSink& sink,
                   std::span<const std::string> names) {
  STORYLINE_CHECK_ARG(!paths.empty(), "no input files");
  STORYLINE_CHECK_ARG(names.empty() || names.size() == paths.size(), "one name per input");
  std::vector<InputPart> parts(paths.size());
  for (std::size_t f = 0; f < paths.size(); ++f) parts[f].file = static_cast<std::uint32_t>(f);
  return Ingester(paths, names.empty() ? paths : names, params, sink).run(parts);
}

IngestStats ingest_parts(std::span<const std::string> paths, std::span<const InputPart> parts,
                         const IngestParams& params, IngestSink& sink, std::span<const std::string> names) {
  STORYLINE_CHECK_ARG(names.empty() || names.size() == paths.size(), "one name per input");
  for (const InputPart& part : parts) STORYLINE_CHECK_ARG(part.file < paths.size(), "a part of no input");
  return Ingester(paths, names.empty() ? paths : names, params, sink).run(parts);
}

IngestStats ingest_documents(DocumentBatches& source, IngestSink& sink) {
  IngestStats stats;
  for (std::span<const Document> batch = source.next(); !batch.empty(); batch = source.next()) {
    const auto first = static_cast<DocIndex>(stats.documents);
    STORYLINE_CHECK_ARG(stats.documents + batch.size() < DocIndex(-1),
                        "too many documents for 32-bit indexes");
    sink.reserve(first, batch.size());
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, batch.size()), [&](const auto& range) {
      for (std::size_t j = range.begin(); j < range.end(); ++j)
        sink.process(batch[j], first + static_cast<DocIndex>(j), SourceLine{0, first + j + 1});
    });
    for (const Document& doc : batch) stats.bytes += doc.title.size() + doc.text.size();
    stats.raw_bytes = stats.bytes;
    stats.lines += batch.size();
    stats.documents += batch.size();
    sink.on_progress(stats);
  }
  return stats;
}

}  // namespace storyline
