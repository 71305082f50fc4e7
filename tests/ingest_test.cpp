#include "storyline/ingest.hpp"

#include <gtest/gtest.h>

#include <mutex>

#include "storyline/error.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

class CollectingSink : public IngestSink {
 public:
  void reserve(DocIndex first, std::size_t count) override { docs.resize(first + count); }
  void process(const Document& doc, DocIndex index, SourceLine where) override {
    docs[index] = doc;
    std::lock_guard lock(mutex);
    lines.emplace_back(where.file, where.line);
  }
  void on_issue(const IssueReport& r) override {
    issues.emplace_back(r.file + ":" + std::to_string(r.line), r.issue);
  }
  std::vector<Document> docs;
  std::vector<std::pair<std::uint32_t, std::uint64_t>> lines;
  std::vector<std::pair<std::string, Issue>> issues;
  std::mutex mutex;
};

std::string bad_corpus() {
  return test::record("a", "first document") + "\n" + "{\"id\":\"b\",\"text\":\"broken\n" +  // 2 malformed
         "\n" +                                                    // 3 blank: skipped, not an issue
         "{\"id\":\"c\"}\n" +                                      // 4 missing text
         "{\"id\":\"d\",\"text\":\"\"}\n" +                        // 5 empty text
         "{\"id\":\"e\",\"text\":5}\n" +                           // 6 wrong type
         "{\"id\":\"f\",\"text\":\"bad \xFF byte\"}\n" +           // 7 invalid UTF-8: kept
         "{\"text\":\"no id here\",\"date\":\"someday\"}\n" +      // 8 missing id + bad date: kept
         std::string(3000, 'x') + "\n" +                           // 9 too long
         "[1]\n" +                                                 // 10 not an object
         test::record("g", "last document", "2020-05-06") + "\n";  // 11
}

TEST(Ingest, CountsEveryBadLineAndLosesNothing) {
  test::TempDir dir;
  test::write_file(dir.path("in.jsonl"), bad_corpus());
  IngestParams params;
  params.max_line_bytes = 1000;
  CollectingSink sink;
  const std::vector<std::string> paths{dir.path("in.jsonl")};
  const IngestStats stats = ingest(paths, params, sink);
  EXPECT_EQ(stats.lines, 11u);
  EXPECT_EQ(stats.documents, 4u);
  EXPECT_EQ(stats.rejected(), 6u);
  EXPECT_EQ(stats.documents + stats.rejected() + 1 /* blank */, stats.lines);
  const auto count = [&](Issue i) { return stats.issues[static_cast<std::size_t>(i)]; };
  EXPECT_EQ(count(Issue::kMalformedJson), 1u);
  EXPECT_EQ(count(Issue::kMissingText), 1u);
  EXPECT_EQ(count(Issue::kEmptyText), 1u);
  EXPECT_EQ(count(Issue::kWrongType), 1u);
  EXPECT_EQ(count(Issue::kLineTooLong), 1u);
  EXPECT_EQ(count(Issue::kNotAnObject), 1u);
  EXPECT_EQ(count(Issue::kInvalidUtf8), 1u);
  EXPECT_EQ(count(Issue::kBadDate), 1u);
  EXPECT_EQ(count(Issue::kMissingId), 1u);
  ASSERT_EQ(sink.docs.size(), 4u);
  EXPECT_EQ(sink.docs[0].id, "a");
  EXPECT_EQ(sink.docs[1].id, "f");
  EXPECT_EQ(sink.docs[2].id, paths[0] + ":8");
  EXPECT_EQ(sink.docs[3].date, *parse_date("2020-05-06"));
  // Issues arrive in input order, each with its line.
  ASSERT_EQ(sink.issues.size(), 9u);
  EXPECT_EQ(sink.issues[0].first, paths[0] + ":2");
  EXPECT_EQ(sink.issues.back().first, paths[0] + ":10");
}

TEST(Ingest, StrictModeStopsAtTheFirstBadLineNamingFileAndLine) {
  test::TempDir dir;
  test::write_file(dir.path("in.jsonl"), bad_corpus());
  IngestParams params;
  params.strict = true;
  CollectingSink sink;
  const std::vector<std::string> paths{dir.path("in.jsonl")};
  try {
    ingest(paths, params, sink);
    FAIL() << "strict mode accepted a malformed line";
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("in.jsonl:2: malformed_json"), std::string::npos) << e.what();
  }
}

TEST(Ingest, ReportsATruncatedCompressedFileAndKeepsWhatCameBefore) {
  test::TempDir dir;
  std::string text;
  for (int i = 0; i < 30000; ++i)
    text += test::record("d" + std::to_string(i), test::random_text(i, 20)) + "\n";
  test::write_gzip(dir.path("full.gz"), text);
  const std::string bytes = test::read_file(dir.path("full.gz"));
  test::write_file(dir.path("cut.gz"), bytes.substr(0, bytes.size() * 2 / 3));
  CollectingSink sink;
  const std::vector<std::string> paths{dir.path("cut.gz")};
  const IngestStats stats = ingest(paths, IngestParams{}, sink);
  EXPECT_EQ(stats.issues[static_cast<std::size_t>(Issue::kTruncatedInput)], 1u);
  EXPECT_GT(stats.documents, 10000u);
  EXPECT_LT(stats.documents, 30000u);
  EXPECT_EQ(stats.documents + stats.rejected(), stats.lines);
}

TEST(Ingest, ReadsSeveralFilesInOrderAndHugeDocuments) {
  test::TempDir dir;
  const std::string huge = test::random_text(1, 400000);  // about 3 MB in one line
  test::write_file(dir.path("a.jsonl"),
                   test::record("a", "alpha") + "\n" + test::record("huge", huge) + "\n");
  test::write_zstd(dir.path("b.jsonl.zst"), test::record("b", "beta") + "\n");
  CollectingSink sink;
  const std::vector<std::string> paths{dir.path("a.jsonl"), dir.path("b.jsonl.zst")};
  const IngestStats stats = ingest(paths, IngestParams{}, sink);
  ASSERT_EQ(stats.documents, 3u);
  EXPECT_EQ(sink.docs[1].text.size(), huge.size());
  EXPECT_EQ(sink.docs[2].id, "b");
  std::sort(sink.lines.begin(), sink.lines.end());
  EXPECT_EQ(sink.lines.back(), std::make_pair(std::uint32_t{1}, std::uint64_t{1}));
}

TEST(Ingest, EmptyFileGivesNoDocuments) {
  test::TempDir dir;
  test::write_file(dir.path("empty.jsonl"), "");
  CollectingSink sink;
  const std::vector<std::string> paths{dir.path("empty.jsonl")};
  const IngestStats stats = ingest(paths, IngestParams{}, sink);
  EXPECT_EQ(stats.documents, 0u);
  EXPECT_EQ(stats.lines, 0u);
}

}  // namespace
}  // namespace storyline
