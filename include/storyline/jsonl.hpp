// Streaming JSONL input: lines from plain, gzip or zstd files (or stdin), and records parsed from them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storyline/document.hpp"

namespace storyline {

class ByteSource;

/// How a line is read and which JSON fields hold the document.
struct IngestParams {
  std::string id_field = "id";        ///< field holding the id (string or number); missing: "FILE:LINE"
  std::string text_field = "text";    ///< field holding the body; required, a non-empty string
  std::string title_field = "title";  ///< optional string field
  std::string date_field = "date";    ///< optional ISO 8601 string field; empty: no dates are read
  std::size_t max_line_bytes = std::size_t{64} << 20;  ///< longer lines are rejected, in bytes
  /// Longer ids are rejected (id_too_long), in bytes; 0: no limit. The feed sets kMaxFeedIdBytes, so that
  /// every id it holds fits in a URL path (serve's GET and DELETE).
  std::size_t max_id_bytes = 0;
  bool strict = false;  ///< the CLI stops at the first rejected line instead of counting it
  /// When false, a record with an empty or missing text is accepted if its title is not empty (headline
  /// feeds); the title then stands for the text.
  bool require_text = true;
};

/// What can be wrong with a line. The first group rejects the line; the rest are repaired and counted.
enum class Issue : std::uint8_t {
  kMalformedJson,   ///< not valid JSON
  kNotAnObject,     ///< valid JSON but not an object
  kMissingText,     ///< the text field is absent or null
  kEmptyText,       ///< the text field is an empty or all-space string
  kWrongType,       ///< a known field holds the wrong JSON type (an object as the id, a number as text)
  kLineTooLong,     ///< the line exceeds IngestParams::max_line_bytes
  kIdTooLong,       ///< the id exceeds IngestParams::max_id_bytes
  kTruncatedInput,  ///< the file ends inside a compressed stream, or without a final newline in it
  kInvalidUtf8,     ///< repaired: invalid bytes replaced by U+FFFD
  kBadDate,         ///< repaired: the date was not ISO 8601 and is dropped
  kMissingId,       ///< repaired: the id is set to "FILE:LINE"
  kCount
};

/// The feed's limit on an id's length, in bytes: percent-encoded (3 bytes a byte at most) it stays
/// well inside an 8 KB request line.
inline constexpr std::size_t kMaxFeedIdBytes = 1024;

/// True for issues that reject the line; false for those that repair it.
constexpr bool is_rejecting(Issue issue) { return issue < Issue::kInvalidUtf8; }

/// Stable snake_case name of an issue ("malformed_json", ...), used in reports and rejects files.
std::string_view issue_name(Issue issue);

/// Status of one LineReader::next call.
enum class LineStatus : std::uint8_t {
  kLine,       ///< a complete line
  kTooLong,    ///< a line longer than the limit; `line` holds its first bytes, the rest is skipped
  kTruncated,  ///< the input ended abruptly (corrupt or cut compressed stream); `line` holds what came
  kEnd         ///< no more input
};

/// Reads lines from one file, decompressing gzip or zstd (detected by magic bytes, not by name); "-"
/// reads standard input. Never holds more than one line and one read buffer in memory.
/// Not thread-safe: one reader per thread.
class LineReader {
 public:
  /// Opens path. Throws IoError if it cannot be opened.
  LineReader(const std::string& path, std::size_t max_line_bytes);
  /// Reads bytes [begin, end) of a plain file, whose first line is number first_line (begin is a line
  /// start; end is one too, or the file's end). Throws IoError.
  LineReader(const std::string& path, std::size_t max_line_bytes, std::uint64_t begin, std::uint64_t end,
             std::uint64_t first_line);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  /// Reads the next line, without its '\n', into line (a '\r' before it is kept: the bytes stay as
  /// they are, and JSON reads it as white space). Throws IoError on a read error.
  LineStatus next(std::string& line);
  /// 1-based number of the line last returned.
  std::uint64_t line_number() const { return line_number_; }
  /// Uncompressed bytes consumed so far.
  std::uint64_t bytes_read() const { return bytes_read_; }
  /// Compressed (on-disk) bytes consumed so far; equal to bytes_read() for plain files.
  std::uint64_t raw_bytes_read() const;
  const std::string& path() const { return path_; }

 private:
  bool fill();
  std::string path_;
  std::size_t max_line_bytes_;
  std::unique_ptr<ByteSource> source_;
  std::string buffer_;
  std::size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  bool truncated_ = false;
  std::uint64_t line_number_ = 0;
  std::uint64_t bytes_read_ = 0;
};

/// Result of parsing one line.
struct ParsedRecord {
  Document doc;                  ///< valid when !rejected
  bool rejected = false;         ///< true when `reason` rejects the line
  Issue reason = Issue::kCount;  ///< the rejecting issue, when rejected
  std::uint32_t repairs = 0;     ///< bit (1 << Issue) set for each repairing issue
  std::string detail;            ///< a short human explanation of the rejection, or ""
};

/// Parses JSONL records with simdjson. Keeps a reusable parser and buffer: make one per thread.
class RecordParser {
 public:
  explicit RecordParser(IngestParams params = {});
  ~RecordParser();
  RecordParser(RecordParser&&) noexcept;
  RecordParser& operator=(RecordParser&&) noexcept;

  /// Parses one line into out (reusing its strings). Never throws on bad input: problems are reported
  /// in out.rejected / out.reason / out.repairs. A missing id is left empty with kMissingId set; the
  /// caller names it after the file and line.
  void parse(std::string_view line, ParsedRecord& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The checks and repairs every reader applies once it has a record's fields (a JSON line, a Python
/// dict): out.doc holds the id, title and text read; have_text and have_id say whether those fields were
/// present (and not null); date_text is the date field's text ("" when absent). Rejects a missing or
/// blank text (or takes the title for it when params.require_text is false), marks a missing id, rejects
/// an id over params.max_id_bytes, parses the date (a bad one is dropped and marked).
void check_record(const IngestParams& params, bool have_text, bool have_id, std::string_view date_text,
                  ParsedRecord& out);

/// The details of a field of the wrong type, as readers report them.
std::string not_a_string_detail(std::string_view field);
std::string not_an_integer_detail(std::string_view field);

/// Replaces every invalid UTF-8 sequence of text with U+FFFD (maximal subparts, as Unicode recommends).
/// Returns the number of replacements. Thread-safe.
std::size_t repair_utf8(std::string_view text, std::string& out);

}  // namespace storyline
