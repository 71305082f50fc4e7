// Parallel ingest: lines are read in order, parsed and processed in parallel batches, and every problem
// is reported in input order. Memory holds one batch of lines at a time.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "storyline/document.hpp"
#include "storyline/jsonl.hpp"

namespace storyline {

/// Where a document came from: index into the input list, and 1-based line number.
struct SourceLine {
  std::uint32_t file = 0;
  std::uint64_t line = 0;
};

/// One problem with one line.
struct IssueReport {
  std::uint32_t file_index;  ///< index into the input list
  const std::string& file;   ///< input name as given
  std::uint64_t line;        ///< 1-based line number
  Issue issue;               ///< what is wrong; is_rejecting(issue) tells whether the line was dropped
  std::string_view detail;   ///< human explanation
  std::string_view content;  ///< the line (or its head), possibly invalid UTF-8
};

/// Counts of one ingest run.
struct IngestStats {
  std::uint64_t lines = 0;      ///< lines read, blank ones included
  std::uint64_t documents = 0;  ///< lines accepted as documents
  std::uint64_t bytes = 0;      ///< uncompressed bytes read
  std::uint64_t raw_bytes = 0;  ///< on-disk bytes read
  std::array<std::uint64_t, static_cast<std::size_t>(Issue::kCount)> issues{};  ///< per Issue
  /// Lines dropped for a rejecting issue.
  std::uint64_t rejected() const;
};

/// Receives the documents. reserve, on_issue and on_progress are called from the calling thread in input
/// order; process is called concurrently from oneTBB workers.
class IngestSink {
 public:
  virtual ~IngestSink() = default;
  /// Documents [first, first + count) follow; make room for them.
  virtual void reserve(DocIndex first, std::size_t count) = 0;
  /// Handles one document. Runs concurrently: touch only what belongs to index.
  virtual void process(const Document& doc, DocIndex index, SourceLine where) = 0;
  /// A line was rejected or repaired.
  virtual void on_issue(const IssueReport& report) { (void)report; }
  /// Called after each batch.
  virtual void on_progress(const IngestStats& stats) { (void)stats; }
};

/// A slice of one input to read: the whole file, or bytes [begin, end) of a plain file cut at line
/// starts, whose first line is number first_line (so reports and generated ids name the file's line).
struct InputPart {
  static constexpr std::uint64_t kWholeFile = ~std::uint64_t{0};
  std::uint32_t file = 0;          ///< index into the input list
  std::uint64_t begin = 0;         ///< first byte
  std::uint64_t end = kWholeFile;  ///< one past the last byte; kWholeFile: the whole file, any format
  std::uint64_t first_line = 1;    ///< number of the line at begin
  bool whole() const { return end == kWholeFile; }
};

/// Reads every path in order ("-" is stdin; gzip and zstd are detected), skipping blank lines. A
/// missing id becomes "NAME:LINE". In strict mode the first issue throws ParseError "NAME:LINE: reason";
/// otherwise issues are counted and reported to the sink. names (same size as paths, or empty for the
/// paths themselves) are what messages and generated ids call each input. Throws IoError when a file
/// cannot be read.
IngestStats ingest(std::span<const std::string> paths, const IngestParams& params, IngestSink& sink,
                   std::span<const std::string> names = {});

/// As ingest, reading only the given parts of the paths, in order (a rank of a distributed job).
IngestStats ingest_parts(std::span<const std::string> paths, std::span<const InputPart> parts,
                         const IngestParams& params, IngestSink& sink,
                         std::span<const std::string> names = {});

/// Documents held in memory, in batches: an input of the batch jobs in place of files (the Python
/// module's records). Whoever makes the documents checks them (check_record in jsonl.hpp).
class DocumentBatches {
 public:
  virtual ~DocumentBatches() = default;
  /// The next documents, empty at the end; valid until the next call. Called on the calling thread.
  virtual std::span<const Document> next() = 0;
};

/// As ingest, from documents in memory: each batch is reserved and processed in parallel, document k
/// (from 0) with SourceLine{0, k + 1}. The stats count every document as a line and its title and text
/// as its bytes; on_progress follows each batch.
IngestStats ingest_documents(DocumentBatches& source, IngestSink& sink);

}  // namespace storyline
