#include "storyline/jsonl.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "storyline/error.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

using test::TempDir;

std::vector<std::pair<LineStatus, std::string>> read_all(const std::string& path, std::size_t max = 1 << 20) {
  LineReader reader(path, max);
  std::vector<std::pair<LineStatus, std::string>> out;
  std::string line;
  for (LineStatus s; (s = reader.next(line)) != LineStatus::kEnd;) out.emplace_back(s, line);
  return out;
}

TEST(LineReader, ReadsPlainGzipAndZstdAlike) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 5000; ++i)
    text += "{\"id\":" + std::to_string(i) + ",\"text\":\"line " + std::to_string(i) + "\"}\n";
  test::write_file(dir.path("a.jsonl"), text);
  test::write_gzip(dir.path("a.jsonl.gz"), text);
  test::write_zstd(dir.path("a.jsonl.zst"), text);
  const auto plain = read_all(dir.path("a.jsonl"));
  ASSERT_EQ(plain.size(), 5000u);
  EXPECT_EQ(plain[4999].second, "{\"id\":4999,\"text\":\"line 4999\"}");
  EXPECT_EQ(read_all(dir.path("a.jsonl.gz")), plain);
  EXPECT_EQ(read_all(dir.path("a.jsonl.zst")), plain);
}

TEST(LineReader, DetectsCompressionByContentNotName) {
  TempDir dir;
  test::write_gzip(dir.path("no_extension"), "{\"a\":1}\n");
  const auto lines = read_all(dir.path("no_extension"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].second, "{\"a\":1}");
}

TEST(LineReader, KeepsLastLineWithoutNewlineAndCarriageReturns) {
  TempDir dir;
  test::write_file(dir.path("a"), "one\r\ntwo\n\nthree");
  const auto lines = read_all(dir.path("a"));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].second, "one\r");  // bytes kept as they are; JSON treats \r as space
  EXPECT_EQ(lines[2].second, "");
  EXPECT_EQ(lines[3].second, "three");
  EXPECT_EQ(lines[3].first, LineStatus::kLine);
}

TEST(LineReader, SkipsOverlongLinesAndCountsThem) {
  TempDir dir;
  const std::string long_line(10000, 'x');
  test::write_file(dir.path("a"), "short\n" + long_line + "\nafter\n" + long_line);
  LineReader reader(dir.path("a"), 100);
  std::string line;
  EXPECT_EQ(reader.next(line), LineStatus::kLine);
  EXPECT_EQ(reader.next(line), LineStatus::kTooLong);
  EXPECT_EQ(reader.line_number(), 2u);
  EXPECT_EQ(reader.next(line), LineStatus::kLine);
  EXPECT_EQ(line, "after");
  EXPECT_EQ(reader.line_number(), 3u);
  EXPECT_EQ(reader.next(line), LineStatus::kTooLong);
  EXPECT_EQ(reader.next(line), LineStatus::kEnd);
}

TEST(LineReader, ReportsTruncatedGzipAndZstd) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "{\"id\":" + std::to_string(i) + ",\"text\":\"some text here\"}\n";
  for (const bool zstd : {false, true}) {
    const std::string full = dir.path(zstd ? "f.zst" : "f.gz");
    zstd ? test::write_zstd(full, text) : test::write_gzip(full, text);
    const std::string bytes = test::read_file(full);
    test::write_file(dir.path("cut"), bytes.substr(0, bytes.size() / 2));
    const auto lines = read_all(dir.path("cut"));
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back().first, LineStatus::kTruncated) << (zstd ? "zstd" : "gzip");
    EXPECT_LT(lines.size(), 20000u);
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) ASSERT_EQ(lines[i].first, LineStatus::kLine);
  }
}

// Hardening #8: one flipped byte in the middle of a compressed file keeps every line before it.
TEST(LineReader, Hardening8AFlippedByteKeepsTheLinesBeforeTheDamage) {
  TempDir dir;
  std::string text;
  for (int i = 0; text.size() < (std::size_t{3} << 20); ++i) {
    text += test::record(std::to_string(i), test::random_text(static_cast<unsigned>(i), 60)) + "\n";
  }
  const std::size_t total = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  for (const bool zstd : {false, true}) {
    const std::string path = dir.path(zstd ? "f.zst" : "f.gz");
    zstd ? test::write_zstd(path, text) : test::write_gzip(path, text);
    std::string bytes = test::read_file(path);
    bytes[bytes.size() / 2] ^= 0x10;
    test::write_file(path, bytes);
    const auto lines = read_all(path);
    std::size_t good = 0;
    while (good < lines.size() && lines[good].first == LineStatus::kLine) ++good;
    EXPECT_GT(good, total * 2 / 5) << (zstd ? "zstd" : "gzip") << ": " << good << " of " << total;
    // The first two fifths of the lines (the damage sits in the middle) are kept byte for byte.
    // Neither format checksums a block before its frame's (zstd) or member's (gzip) end, so a flipped
    // byte may decode as garbage until the decoder notices; the file is then reported truncated (damaged)
    // at that line. The README says so.
    const std::size_t exact = total * 2 / 5;
    std::size_t at = 0;
    for (std::size_t i = 0; i < exact; ++i) {
      const std::size_t nl = text.find('\n', at);
      ASSERT_EQ(lines[i].second, text.substr(at, nl - at)) << (zstd ? "zstd" : "gzip") << " line " << i + 1;
      at = nl + 1;
    }
    ASSERT_LT(good, lines.size());
    EXPECT_EQ(lines[good].first, LineStatus::kTruncated) << (zstd ? "zstd" : "gzip");
  }
}

TEST(LineReader, MissingFileThrowsIoErrorNamingIt) {
  try {
    LineReader reader("/nonexistent/file.jsonl", 100);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/file.jsonl"), std::string::npos);
  }
}

ParsedRecord parse(std::string_view line, IngestParams params = {}) {
  RecordParser parser(params);
  ParsedRecord r;
  parser.parse(line, r);
  return r;
}

TEST(RecordParser, ReadsTheDocumentFields) {
  const auto r = parse(R"({"id":"a1","title":"T","text":"Body \u00e9","date":"2018-07-11","x":[1,{"y":2}]})");
  ASSERT_FALSE(r.rejected);
  EXPECT_EQ(r.doc.id, "a1");
  EXPECT_EQ(r.doc.title, "T");
  EXPECT_EQ(r.doc.text, "Body \xC3\xA9");
  EXPECT_EQ(r.doc.date, *parse_date("2018-07-11"));
  EXPECT_EQ(r.repairs, 0u);
}

TEST(RecordParser, HonoursConfiguredFieldNames) {
  IngestParams p;
  p.id_field = "uid";
  p.text_field = "body";
  p.date_field = "published";
  const auto r = parse(R"({"uid":7,"body":"hello","published":"2020-01-02","text":"not this"})", p);
  ASSERT_FALSE(r.rejected);
  EXPECT_EQ(r.doc.id, "7");
  EXPECT_EQ(r.doc.text, "hello");
  EXPECT_EQ(r.doc.date, *parse_date("2020-01-02"));
}

TEST(RecordParser, AnEmptyDateFieldReadsNoDate) {
  IngestParams p;
  p.date_field = "";
  const auto r = parse(R"({"id":"a","":"2020-01-02","date":"2020-01-03","text":"x"})", p);
  ASSERT_FALSE(r.rejected);
  EXPECT_EQ(r.doc.date, kNoDate);
  EXPECT_EQ(r.repairs, 0u);
}

TEST(RecordParser, RejectsEveryKindOfBadRecord) {
  struct Case {
    const char* line;
    Issue issue;
  };
  const Case cases[] = {
      {R"({"id":1,"text":"abc")", Issue::kMalformedJson},
      {R"({"id":1,"text":"abc"} trailing)", Issue::kMalformedJson},
      {R"(not json at all)", Issue::kMalformedJson},
      {R"([1,2,3])", Issue::kNotAnObject},
      {R"("just a string")", Issue::kNotAnObject},
      {R"({"id":1})", Issue::kMissingText},
      {R"({"id":1,"text":null})", Issue::kMissingText},
      {R"({"id":1,"text":""})", Issue::kEmptyText},
      {R"({"id":1,"text":"  \n "})", Issue::kEmptyText},
      {R"({"id":1,"text":42})", Issue::kWrongType},
      {R"({"id":{"a":1},"text":"x"})", Issue::kWrongType},
      {R"({"id":1,"text":"x","title":["a"]})", Issue::kWrongType},
      {R"({"id":1,"text":"x","date":20180711})", Issue::kWrongType},
  };
  for (const Case& c : cases) {
    const auto r = parse(c.line);
    EXPECT_TRUE(r.rejected) << c.line;
    EXPECT_EQ(r.reason, c.issue) << c.line << " gave " << issue_name(r.reason);
    EXPECT_FALSE(r.detail.empty());
  }
}

TEST(RecordParser, RepairsInvalidUtf8AndBadDatesAndMissingIds) {
  const auto r = parse("{\"text\":\"caf\xE9 ok\",\"date\":\"yesterday\"}");
  ASSERT_FALSE(r.rejected);
  EXPECT_EQ(r.doc.text, "caf\xEF\xBF\xBD ok");
  EXPECT_TRUE(r.repairs & (1u << static_cast<unsigned>(Issue::kInvalidUtf8)));
  EXPECT_TRUE(r.repairs & (1u << static_cast<unsigned>(Issue::kBadDate)));
  EXPECT_TRUE(r.repairs & (1u << static_cast<unsigned>(Issue::kMissingId)));
  EXPECT_EQ(r.doc.date, kNoDate);
}

// Hardening #12: numbers no 64-bit type holds, in fields the engine does not read.
TEST(RecordParser, Hardening12UnreadableNumbersInOtherFieldsKeepTheLine) {
  for (const char* big : {"18446744073709551616", "-9223372036854775809", "1e309", "-1e400"}) {
    const std::string line = std::string(R"({"id":"a","extra":)") + big + R"(,"n":[)" + big +
                             R"(],"text":"kept 12345678901234567890123"})";
    const auto r = parse(line);
    ASSERT_FALSE(r.rejected) << line << ": " << r.detail;
    EXPECT_EQ(r.doc.id, "a");
    EXPECT_EQ(r.doc.text, "kept 12345678901234567890123");  // digits inside strings are untouched
  }
  // A malformed number stays malformed, and an unreadable id is refused, not replaced.
  EXPECT_EQ(parse(R"({"id":"a","extra":01,"text":"x"})").reason, Issue::kMalformedJson);
  EXPECT_EQ(parse(R"({"id":18446744073709551616,"text":"x"})").reason, Issue::kWrongType);
}

// Hardening #14: what a numeric id becomes.
TEST(RecordParser, Hardening14IntegerIdsAreTheirDecimalTextOtherNumbersAreRefused) {
  EXPECT_EQ(parse(R"({"id":1,"text":"x"})").doc.id, "1");
  EXPECT_EQ(parse(R"({"id":-7,"text":"x"})").doc.id, "-7");
  EXPECT_EQ(parse(R"({"id":18446744073709551615,"text":"x"})").doc.id, "18446744073709551615");
  for (const char* id : {"1.0", "1.5e308", "1e0", "0.5"}) {
    const auto r = parse(std::string(R"({"id":)") + id + R"(,"text":"x"})");
    EXPECT_TRUE(r.rejected) << id;
    EXPECT_EQ(r.reason, Issue::kWrongType) << id;
    EXPECT_NE(r.detail.find("integer"), std::string::npos) << r.detail;
  }
}

TEST(RepairUtf8, ReplacesMaximalIllFormedSubparts) {
  std::string out;
  EXPECT_EQ(repair_utf8("plain", out), 0u);
  EXPECT_EQ(out, "plain");
  EXPECT_EQ(repair_utf8("a\xC3\xA9z", out), 0u);  // valid 2-byte
  EXPECT_EQ(repair_utf8("a\xFFz", out), 1u);      // invalid byte
  EXPECT_EQ(out, "a\xEF\xBF\xBDz");
  EXPECT_EQ(repair_utf8("a\xE2\x82z", out), 1u);  // truncated 3-byte sequence: one U+FFFD
  EXPECT_EQ(out, "a\xEF\xBF\xBDz");
  EXPECT_EQ(repair_utf8("\xED\xA0\x80", out), 3u);      // surrogate: each byte replaced
  EXPECT_EQ(repair_utf8("\xF0\x9F\x98\x80", out), 0u);  // emoji
  EXPECT_EQ(repair_utf8("\xC0\xAF", out), 2u);          // overlong
}

}  // namespace
}  // namespace storyline
