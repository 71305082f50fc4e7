#include "storyline/jsonl.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "detail/byte_source.hpp"
#include "storyline/error.hpp"

namespace storyline {

std::string_view issue_name(Issue issue) {
  switch (issue) {
    case Issue::kMalformedJson:
      return "malformed_json";
    case Issue::kNotAnObject:
      return "not_an_object";
    case Issue::kMissingText:
      return "missing_text";
    case Issue::kEmptyText:
      return "empty_text";
    case Issue::kWrongType:
      return "wrong_type";
    case Issue::kLineTooLong:
      return "line_too_long";
    case Issue::kIdTooLong:
      return "id_too_long";
    case Issue::kTruncatedInput:
      return "truncated_input";
    case Issue::kInvalidUtf8:
      return "invalid_utf8";
    case Issue::kBadDate:
      return "bad_date";
    case Issue::kMissingId:
      return "missing_id";
    case Issue::kCount:
      break;
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------------
// LineReader

namespace {
constexpr std::size_t kReadChunk = std::size_t{4} << 20;
}

LineReader::LineReader(const std::string& path, std::size_t max_line_bytes)
    : path_(path), max_line_bytes_(max_line_bytes), source_(open_byte_source(path)) {
  STORYLINE_CHECK_ARG(max_line_bytes > 0, "max_line_bytes must be positive");
  buffer_.resize(kReadChunk);
}

LineReader::LineReader(const std::string& path, std::size_t max_line_bytes, std::uint64_t begin,
                       std::uint64_t end, std::uint64_t first_line)
    : path_(path),
      max_line_bytes_(max_line_bytes),
      source_(open_byte_range(path, begin, end)),
      line_number_(first_line - 1) {
  STORYLINE_CHECK_ARG(max_line_bytes > 0, "max_line_bytes must be positive");
  STORYLINE_CHECK_ARG(first_line > 0, "line numbers start at 1");
  buffer_.resize(kReadChunk);
}

LineReader::~LineReader() = default;

std::uint64_t LineReader::raw_bytes_read() const { return source_->raw_bytes(); }

bool LineReader::fill() {
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buffer_.size() - end_ < kReadChunk / 2) buffer_.resize(end_ + kReadChunk);
  const std::size_t n = source_->read(buffer_.data() + end_, buffer_.size() - end_);
  if (n == 0) {
    eof_ = true;
    truncated_ = source_->truncated();
    return false;
  }
  end_ += n;
  bytes_read_ += n;
  return true;
}

LineStatus LineReader::next(std::string& line) {
  constexpr std::size_t kReportHead = 256;  // bytes of an over-long line kept for the report
  std::size_t scanned = 0;                  // bytes after begin_ known to hold no newline
  for (;;) {
    const char* start = buffer_.data() + begin_;
    const std::size_t avail = end_ - begin_;
    const void* nl = std::memchr(start + scanned, '\n', avail - scanned);
    if (nl != nullptr) {
      std::size_t len = static_cast<std::size_t>(static_cast<const char*>(nl) - start);
      begin_ += len + 1;
      ++line_number_;
      if (len > max_line_bytes_) {
        line.assign(start, std::min(len, kReportHead));
        return LineStatus::kTooLong;
      }
      line.assign(start, len);
      return LineStatus::kLine;
    }
    scanned = avail;
    if (avail > max_line_bytes_) {
      // Keep the head of the line for the report and drop the rest up to the next newline.
      line.assign(start, kReportHead);
      ++line_number_;
      for (;;) {
        begin_ = end_;
        if (eof_ || !fill()) return truncated_ ? LineStatus::kTruncated : LineStatus::kTooLong;
        const void* tail = std::memchr(buffer_.data(), '\n', end_);
        if (tail != nullptr) {
          begin_ = static_cast<std::size_t>(static_cast<const char*>(tail) - buffer_.data()) + 1;
          return LineStatus::kTooLong;
        }
      }
    }
    if (!eof_ && fill()) continue;  // fill() keeps [begin_, end_) and appends; scanned stays valid
    if (begin_ < end_) {
      line.assign(buffer_.data() + begin_, end_ - begin_);
      begin_ = end_;
      ++line_number_;
      if (truncated_) {
        truncated_ = false;
        return LineStatus::kTruncated;
      }
      return LineStatus::kLine;  // a last line without a newline is fine
    }
    if (truncated_) {
      truncated_ = false;  // a cut at a line boundary is reported once
      line.clear();
      ++line_number_;
      return LineStatus::kTruncated;
    }
    return LineStatus::kEnd;
  }
}

// ---------------------------------------------------------------------------------------------------
// UTF-8 repair

std::size_t repair_utf8(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size() + 16);
  std::size_t replaced = 0;
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    // Table 3-7 of the Unicode standard: well-formed byte sequences.
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    std::size_t good = len == 0 ? 0 : 1;
    while (good > 0 && good < len && i + good < n) {
      const unsigned char t = s[i + good];
      const unsigned char l = good == 1 ? lo : 0x80, h = good == 1 ? hi : 0xBF;
      if (t < l || t > h) break;
      ++good;
    }
    if (len != 0 && good == len) {
      out.append(text.data() + i, len);
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");  // U+FFFD for the maximal ill-formed subpart
      ++replaced;
      i += good == 0 ? 1 : good;
    }
  }
  return replaced;
}

// ---------------------------------------------------------------------------------------------------
// RecordParser

struct RecordParser::Impl {
  IngestParams params;
  // The DOM parser dispatches at run time to the best SIMD kernel of the CPU; the on-demand front end
  // would be fixed at compile time to the baseline (scalar) kernel of a portable build.
  simdjson::dom::parser parser;
  std::string padded;
  std::string repaired;
};

RecordParser::RecordParser(IngestParams params) : impl_(std::make_unique<Impl>()) {
  impl_->params = std::move(params);
}
RecordParser::~RecordParser() = default;
RecordParser::RecordParser(RecordParser&&) noexcept = default;
RecordParser& RecordParser::operator=(RecordParser&&) noexcept = default;

namespace {

void reject(ParsedRecord& out, Issue issue, std::string detail) {
  out.rejected = true;
  out.reason = issue;
  out.detail = std::move(detail);
}

bool is_blank(std::string_view text) {
  for (const char c : text) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

// Reads a string field into target; false (with the record rejected) when it has another type.
bool read_string(simdjson::dom::element value, std::string_view name, std::string& target, ParsedRecord& out,
                 bool* is_null) {
  if (value.is_null()) {
    if (is_null != nullptr) *is_null = true;
    return true;
  }
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    reject(out, Issue::kWrongType, not_a_string_detail(name));
    return false;
  }
  target.assign(text);
  return true;
}

// An integer id becomes its decimal text (1 and "1" are the same id); a number with a fraction or an
// exponent is refused, since 1.0, 1 and 1e0 would otherwise meet as one id.
bool read_number_id(simdjson::dom::element value, std::string_view name, std::string& target,
                    ParsedRecord& out) {
  std::int64_t i = 0;
  std::uint64_t u = 0;
  if (value.get_int64().get(i) == simdjson::SUCCESS) {
    target = std::to_string(i);
  } else if (value.get_uint64().get(u) == simdjson::SUCCESS) {
    target = std::to_string(u);
  } else {
    reject(out, Issue::kWrongType, not_an_integer_detail(name));
    return false;
  }
  return true;
}

// True when a JSON number token is well formed but does not fit simdjson's 64-bit integers or a
// finite double (18446744073709551616, -9223372036854775809, 1e309).
bool is_unreadable_number(std::string_view token) {
  const char* end = token.data() + token.size();
  if (token.find_first_of(".eE") != std::string_view::npos) {
    double d = 0;
    const auto r = std::from_chars(token.data(), end, d);
    return r.ptr == end && r.ec == std::errc::result_out_of_range;
  }
  std::int64_t i = 0;
  std::uint64_t u = 0;
  const auto r = std::from_chars(token.data(), end, i);
  return r.ptr == end && r.ec == std::errc::result_out_of_range &&
         std::from_chars(token.data(), end, u).ec != std::errc();
}

// Hardening #12: a field the engine does not read must not reject its line. simdjson refuses a whole
// document over one number it cannot represent, so each such number (outside strings) is overwritten
// by an empty array padded with spaces, the same length: offsets stay, and a field that is read (an id)
// then fails as a wrong type instead of taking a made-up value. Returns the numbers replaced.
std::size_t neutralize_unreadable_numbers(char* json, std::size_t size) {
  std::size_t replaced = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < size; ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c != '-' && (c < '0' || c > '9')) continue;
    std::size_t end = i;
    while (end < size && std::strchr("0123456789+-.eE", json[end]) != nullptr && json[end] != '\0') ++end;
    if (end - i >= 2 && is_unreadable_number(std::string_view(json + i, end - i))) {
      json[i] = '[';
      json[i + 1] = ']';
      std::memset(json + i + 2, ' ', end - i - 2);
      ++replaced;
    }
    i = end - 1;
  }
  return replaced;
}

}  // namespace

void RecordParser::parse(std::string_view line, ParsedRecord& out) {
  Impl& m = *impl_;
  const IngestParams& p = m.params;
  out.rejected = false;
  out.reason = Issue::kCount;
  out.repairs = 0;
  out.detail.clear();
  out.doc.id.clear();
  out.doc.title.clear();
  out.doc.text.clear();
  out.doc.date = kNoDate;

  if (!simdjson::validate_utf8(line.data(), line.size())) {
    repair_utf8(line, m.repaired);
    line = m.repaired;
    out.repairs |= 1u << static_cast<unsigned>(Issue::kInvalidUtf8);
  }
  m.padded.assign(line);
  m.padded.resize(line.size() + simdjson::SIMDJSON_PADDING, '\0');

  simdjson::dom::element doc;
  auto error = m.parser.parse(m.padded.data(), line.size(), false).get(doc);
  if (error == simdjson::NUMBER_ERROR && neutralize_unreadable_numbers(m.padded.data(), line.size()) > 0) {
    error = m.parser.parse(m.padded.data(), line.size(), false).get(doc);
  }
  if (error != simdjson::SUCCESS) {
    return reject(out, Issue::kMalformedJson,
                  std::string("not valid JSON: ") + simdjson::error_message(error));
  }
  simdjson::dom::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS) {
    return reject(out, Issue::kNotAnObject, "the line is JSON but not an object");
  }
  bool have_text = false, have_id = false, have_title = false, have_date = false;
  std::string date_text;
  for (const auto field : object) {
    const std::string_view key = field.key;
    if (key == p.text_field && !have_text) {
      bool null = false;
      if (!read_string(field.value, key, out.doc.text, out, &null)) return;
      have_text = !null;
      if (key == p.title_field && !have_title) {  // --text-field title: a headline, text and title
        out.doc.title = out.doc.text;
        have_title = true;
      }
    } else if (key == p.id_field && !have_id) {
      if (field.value.is_number()) {
        if (!read_number_id(field.value, key, out.doc.id, out)) return;
        have_id = true;
      } else {
        bool null = false;
        if (!read_string(field.value, key, out.doc.id, out, &null)) return;
        have_id = !null && !out.doc.id.empty();
      }
    } else if (key == p.title_field && !have_title) {
      if (!read_string(field.value, key, out.doc.title, out, nullptr)) return;
      have_title = true;
    } else if (!p.date_field.empty() && key == p.date_field && !have_date) {
      if (!read_string(field.value, key, date_text, out, nullptr)) return;
      have_date = true;
    }
  }
  check_record(p, have_text, have_id, date_text, out);
}

std::string not_a_string_detail(std::string_view field) {
  return "field '" + std::string(field) + "' is not a string";
}

std::string not_an_integer_detail(std::string_view field) {
  return "field '" + std::string(field) +
         "' is a number that is not an integer (ids are strings or integers)";
}

void check_record(const IngestParams& p, bool have_text, bool have_id, std::string_view date_text,
                  ParsedRecord& out) {
  if (!p.require_text && (!have_text || is_blank(out.doc.text)) && !is_blank(out.doc.title)) {
    out.doc.text = out.doc.title;
    have_text = true;
  }
  if (!have_text) return reject(out, Issue::kMissingText, "no '" + p.text_field + "' field");
  if (is_blank(out.doc.text)) return reject(out, Issue::kEmptyText, "the text is empty");
  if (!have_id) out.repairs |= 1u << static_cast<unsigned>(Issue::kMissingId);
  if (p.max_id_bytes > 0 && out.doc.id.size() > p.max_id_bytes) {
    return reject(out, Issue::kIdTooLong,
                  "the id has " + std::to_string(out.doc.id.size()) + " bytes; at most " +
                      std::to_string(p.max_id_bytes) + " are accepted");
  }
  if (!date_text.empty()) {
    if (const auto days = parse_date(date_text)) {
      out.doc.date = *days;
    } else {
      out.repairs |= 1u << static_cast<unsigned>(Issue::kBadDate);
    }
  }
}

}  // namespace storyline
