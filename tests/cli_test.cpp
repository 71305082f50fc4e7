// End-to-end tests of the storyline binary.
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace storyline {
namespace {

using test::run_cli;
using test::TempDir;

// Three originals and two copies of the first, with dates so the representative is known.
std::string small_corpus() {
  const std::string a = test::random_text(1, 300);
  return test::record("a", a, "2020-01-02") + "\n" +
         test::record("b", test::random_text(2, 300), "2020-01-01") + "\n" +
         test::record("a-early", a + " plus a tail", "2019-12-31") + "\n" +
         test::record("c", test::random_text(3, 300)) + "\n" + test::record("a-late", a, "2021-01-01") + "\n";
}

TEST(Cli, DedupWritesKeptAnnotatedAndGroups) {
  TempDir dir;
  test::write_file(dir.path("in.jsonl"), small_corpus());
  const auto r = run_cli("dedup " + dir.path("in.jsonl") + " -o " + dir.path("kept.jsonl") + " --annotate " +
                         dir.path("ann.jsonl") + " --groups " + dir.path("groups.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto input = test::read_lines(dir.path("in.jsonl"));
  const auto kept = test::read_lines(dir.path("kept.jsonl"));
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0], input[1]);  // byte for byte, input order
  EXPECT_EQ(kept[1], input[2]);
  EXPECT_EQ(kept[2], input[3]);
  const auto annotated = test::read_lines(dir.path("ann.jsonl"));
  ASSERT_EQ(annotated.size(), 5u);
  EXPECT_NE(annotated[0].find("\"dup_group\":\"a-early\",\"dup_of\":\"a-early\"}"), std::string::npos)
      << annotated[0];
  EXPECT_NE(annotated[2].find("\"dup_group\":\"a-early\",\"dup_of\":null}"), std::string::npos);
  const auto groups = test::read_lines(dir.path("groups.jsonl"));
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].rfind(
                "{\"group\":\"a-early\",\"size\":3,\"members\":[{\"id\":\"a-early\",\"similarity\":1}", 0),
            0u)
      << groups[0];
  EXPECT_NE(r.err.find("5 documents"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("documents/s"), std::string::npos);
}

TEST(Cli, BadLinesAreCountedAndWrittenToRejectsOrStopStrictMode) {
  TempDir dir;
  test::write_file(dir.path("in.jsonl"), small_corpus() + "{\"id\":\"x\",\"text\":\n{\"id\":\"y\"}\n" +
                                             "{\"id\":\"z\",\"text\":\"caf\xE9 text\"}\n");
  const auto r = run_cli("dedup " + dir.path("in.jsonl") + " -o " + dir.path("kept.jsonl") + " --rejects " +
                         dir.path("rejects.jsonl") + " --annotate " + dir.path("ann.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rejects = test::read_lines(dir.path("rejects.jsonl"));
  ASSERT_EQ(rejects.size(), 3u);
  EXPECT_NE(rejects[0].find("\"line\":6,\"reason\":\"malformed_json\",\"action\":\"skipped\""),
            std::string::npos)
      << rejects[0];
  EXPECT_NE(rejects[1].find("\"line\":7,\"reason\":\"missing_text\""), std::string::npos);
  EXPECT_NE(rejects[2].find("\"reason\":\"invalid_utf8\",\"action\":\"repaired\""), std::string::npos);
  EXPECT_EQ(test::read_lines(dir.path("ann.jsonl")).size(), 6u);  // 5 + the repaired one
  EXPECT_NE(r.err.find("2 rejected"), std::string::npos) << r.err;

  const auto strict = run_cli("dedup --strict " + dir.path("in.jsonl") + " -o " + dir.path("k2.jsonl"));
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_NE(strict.err.find("in.jsonl:6: malformed_json"), std::string::npos) << strict.err;
}

TEST(Cli, ReadsStdinAndCompressedFilesAlike) {
  TempDir dir;
  const std::string corpus = small_corpus();
  test::write_file(dir.path("in.jsonl"), corpus);
  test::write_gzip(dir.path("in.jsonl.gz"), corpus);
  test::write_zstd(dir.path("in.jsonl.zst"), corpus);
  const auto plain = run_cli("dedup " + dir.path("in.jsonl") + " -o -");
  const auto gz = run_cli("dedup " + dir.path("in.jsonl.gz") + " -o -");
  const auto zst = run_cli("dedup " + dir.path("in.jsonl.zst") + " -o -");
  const auto piped = run_cli("dedup - -o -", dir.path("in.jsonl.gz"));
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  // What -o - writes is what -o FILE writes: the three kept lines.
  const auto to_file = run_cli("dedup " + dir.path("in.jsonl") + " -o " + dir.path("kept.jsonl"));
  ASSERT_EQ(to_file.exit_code, 0) << to_file.err;
  EXPECT_EQ(plain.out, test::read_file(dir.path("kept.jsonl")));
  EXPECT_EQ(test::read_lines(dir.path("kept.jsonl")).size(), 3u);
  EXPECT_EQ(gz.out, plain.out);
  EXPECT_EQ(zst.out, plain.out);
  EXPECT_EQ(piped.out, plain.out) << piped.err;
}

TEST(Cli, TruncatedCompressedInputIsReportedNotFatal) {
  TempDir dir;
  std::string corpus;
  for (int i = 0; i < 20000; ++i)
    corpus += test::record("d" + std::to_string(i), test::random_text(i, 30)) + "\n";
  test::write_zstd(dir.path("full.zst"), corpus);
  const std::string bytes = test::read_file(dir.path("full.zst"));
  test::write_file(dir.path("cut.zst"), bytes.substr(0, bytes.size() / 2));
  const auto r = run_cli("dedup " + dir.path("cut.zst") + " -o " + dir.path("k.jsonl") + " --rejects " +
                         dir.path("rej.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("truncated_input"), std::string::npos) << r.err;
  EXPECT_NE(test::read_file(dir.path("rej.jsonl")).find("truncated_input"), std::string::npos);
  const auto strict = run_cli("dedup --strict " + dir.path("cut.zst") + " -o " + dir.path("k.jsonl"));
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_NE(strict.err.find("cut.zst:"), std::string::npos) << strict.err;
}

TEST(Cli, OutputIsIdenticalAtOneAndTwoJobs) {
  TempDir dir;
  ASSERT_EQ(run_cli("generate -n 4000 --seed 5 -o " + dir.path("gen.jsonl")).exit_code, 0);
  for (const char* method : {"minhash", "simhash"}) {
    const std::string common = "dedup " + dir.path("gen.jsonl") + " --method " + method + " -o ";
    ASSERT_EQ(run_cli(common + dir.path("k1") + " --annotate " + dir.path("a1") + " --groups " +
                      dir.path("g1") + " --jobs 1")
                  .exit_code,
              0);
    ASSERT_EQ(run_cli(common + dir.path("k2") + " --annotate " + dir.path("a2") + " --groups " +
                      dir.path("g2") + " --jobs 2")
                  .exit_code,
              0);
    EXPECT_EQ(test::read_file(dir.path("k1")), test::read_file(dir.path("k2"))) << method;
    EXPECT_EQ(test::read_file(dir.path("a1")), test::read_file(dir.path("a2"))) << method;
    EXPECT_EQ(test::read_file(dir.path("g1")), test::read_file(dir.path("g2"))) << method;
    EXPECT_FALSE(test::read_file(dir.path("g1")).empty());
  }
}

TEST(Cli, PlantedCopiesAreFoundWithHighF1) {
  TempDir dir;
  ASSERT_EQ(run_cli("generate -n 3000 --seed 9 --min-jaccard 0.8 -o " + dir.path("gen.jsonl")).exit_code, 0);
  ASSERT_EQ(
      run_cli("dedup " + dir.path("gen.jsonl") + " -o " + dir.path("k") + " --annotate " + dir.path("a"))
          .exit_code,
      0);
  const auto r = run_cli("eval --json --gold " + dir.path("gen.jsonl") + " --pred " + dir.path("a"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto at = r.out.find("\"pairwise\":{\"precision\":");
  ASSERT_NE(at, std::string::npos) << r.out;
  const auto f1_at = r.out.find("\"f1\":", at);
  EXPECT_GE(std::stod(r.out.substr(f1_at + 5)), 0.95) << r.out;
}

TEST(Cli, IndexDeduplicatesANewCrawlAgainstAnOldOne) {
  TempDir dir;
  const std::string a = test::random_text(1, 300), b = test::random_text(2, 300);
  test::write_file(dir.path("day1.jsonl"), test::record("a", a) + "\n" + test::record("b", b) + "\n");
  test::write_file(dir.path("day2.jsonl"),
                   test::record("a-again", a) + "\n" + test::record("new", test::random_text(3, 300)) + "\n");
  ASSERT_EQ(run_cli("dedup " + dir.path("day1.jsonl") + " -o " + dir.path("k1") + " --save-index " +
                    dir.path("idx"))
                .exit_code,
            0);
  const auto r =
      run_cli("dedup " + dir.path("day2.jsonl") + " -o " + dir.path("k2") + " --annotate " + dir.path("a2") +
              " --index " + dir.path("idx") + " --save-index " + dir.path("idx2"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto kept = test::read_lines(dir.path("k2"));
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_NE(kept[0].find("\"new\""), std::string::npos);
  EXPECT_NE(test::read_file(dir.path("a2")).find("\"dup_group\":\"a\",\"dup_of\":\"a\""), std::string::npos);
  EXPECT_NE(r.err.find("2 documents loaded, 1 new documents duplicate them"), std::string::npos) << r.err;
  // The saved index now holds all four documents.
  const auto again =
      run_cli("dedup " + dir.path("day2.jsonl") + " -o " + dir.path("k3") + " --index " + dir.path("idx2"));
  EXPECT_NE(again.err.find("4 documents loaded"), std::string::npos) << again.err;

  test::write_file(dir.path("bad-index"), "not an index at all, just text");
  const auto bad = run_cli("dedup " + dir.path("day2.jsonl") + " -o " + dir.path("k4") + " --index " +
                           dir.path("bad-index"));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("not a valid storyline index"), std::string::npos) << bad.err;
}

TEST(Cli, EvalPrintsTheTableAndScoresPairs) {
  TempDir dir;
  test::write_file(dir.path("gold.jsonl"),
                   "{\"id\":\"a\",\"label\":1}\n{\"id\":\"b\",\"label\":1}\n{\"id\":\"c\",\"label\":2}\n");
  test::write_file(dir.path("pred.jsonl"),
                   "{\"id\":\"a\",\"dup_group\":\"a\"}\n{\"id\":\"b\",\"dup_group\":\"a\"}\n{\"id\":\"c\","
                   "\"dup_group\":\"c\"}\n");
  const auto r = run_cli("eval --gold " + dir.path("gold.jsonl") + " --pred " + dir.path("pred.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("pairwise      1.0000    1.0000    1.0000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("b-cubed       1.0000    1.0000    1.0000"), std::string::npos) << r.out;
  test::write_file(dir.path("pairs.jsonl"),
                   "{\"id1\":\"a\",\"id2\":\"b\",\"label\":1,\"category\":\"cut\"}\n"
                   "{\"id1\":\"a\",\"id2\":\"c\",\"label\":0,\"category\":\"non\"}\n");
  const auto p = run_cli("eval --pairs " + dir.path("pairs.jsonl") + " --pred " + dir.path("pred.jsonl"));
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(p.out.find("cut             1      1    1.000"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("precision 1.0000 recall 1.0000"), std::string::npos) << p.out;
  // With the documents, each category also gets its exact Jaccard: a and b are identical, c unrelated.
  const std::string text = test::random_text(4, 50);
  test::write_file(dir.path("docs.jsonl"), test::record("a", text) + "\n" + test::record("b", text) + "\n" +
                                               test::record("c", test::random_text(5, 50)) + "\n");
  const auto j = run_cli("eval --pairs " + dir.path("pairs.jsonl") + " --pred " + dir.path("pred.jsonl") +
                         " --docs " + dir.path("docs.jsonl"));
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_NE(j.out.find("cut             1      1    1.000     1.000     1.000     1.000        1.000"),
            std::string::npos)
      << j.out;
}

TEST(Cli, UsageErrorsExitWithTwoAndIoErrorsWithOne) {
  EXPECT_EQ(run_cli("").exit_code, 2);
  EXPECT_EQ(run_cli("dedup").exit_code, 2);
  EXPECT_EQ(run_cli("dedup x.jsonl -o out --method nope").exit_code, 2);
  EXPECT_EQ(run_cli("dedup x.jsonl -o out --bands 30 --rows 30").exit_code, 2);
  const auto missing = run_cli("dedup /nonexistent.jsonl -o /tmp/storyline-never-written");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/nonexistent.jsonl"), std::string::npos);
}

TEST(Cli, SeedsDemoKeepsBothArticles) {
  TempDir dir;
  const auto r =
      run_cli("dedup " + std::string(STORYLINE_SOURCE_DIR) + "/datasets/seeds.jsonl -o " + dir.path("k"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::read_lines(dir.path("k")).size(), 2u);  // one thread, but not duplicates
}

}  // namespace
}  // namespace storyline
