// Regression tests for the findings of the adversarial review (issue "Hardening"), one or more per
// finding, named HardeningN after its number. Tests that need a running server are in serve_test.cpp
// and carry the same names.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "test_util.hpp"

namespace storyline {
namespace {

using test::run_cli;
using test::TempDir;

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Texts without a single word token, and one exact copy of the first.
std::string tokenless_corpus() {
  return test::record("bang", "!!! ???") + "\n" + test::record("emoji", "\xF0\x9F\x98\x80\xF0\x9F\x98\x80") +
         "\n" + test::record("spaces", "\xE2\x80\x83\xC2\xA0\xE2\x80\x8B .") + "\n" +
         test::record("dashes", "--- ... ***") + "\n" + test::record("bang-copy", "!!! ???") + "\n";
}

TEST(Hardening7, TextsWithoutTokensAreDuplicatesOnlyOfIdenticalTexts) {
  TempDir dir;
  test::write_file(dir.path("in.jsonl"), tokenless_corpus());
  for (const char* method : {"minhash", "simhash"}) {
    const auto r = run_cli(std::string("dedup --method ") + method + " " + dir.path("in.jsonl") + " -o " +
                           dir.path("kept.jsonl") + " --annotate " + dir.path("ann.jsonl"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(test::read_lines(dir.path("kept.jsonl")).size(), 4u) << method;
    const std::string ann = test::read_file(dir.path("ann.jsonl"));
    EXPECT_EQ(count_of(ann, "\"dup_of\":null"), 4u) << method << "\n" << ann;
    EXPECT_EQ(count_of(ann, "\"dup_of\":\"bang\""), 1u) << method << "\n" << ann;
  }
  const auto c = run_cli("cluster " + dir.path("in.jsonl") + " -o " + dir.path("clustered.jsonl"));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  const std::string clustered = test::read_file(dir.path("clustered.jsonl"));
  EXPECT_EQ(count_of(clustered, "\"dup_of\":null"), 4u) << clustered;

  const auto s = run_cli("stream -q --sync-normal --db " + dir.path("feed.db"), dir.path("in.jsonl"));
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(count_of(s.out, "\"dup_of\":null"), 4u) << s.out;
  EXPECT_EQ(count_of(s.out, "\"dup_of\":\"bang\""), 1u) << s.out;
}

TEST(Hardening10, StreamEnforcesMaxLineBytesOnEveryLine) {
  TempDir dir;
  const std::string long_line = test::record("long", test::random_text(5, 40000));  // ~222 KB
  const std::string short_line = test::record("short", "a short line of text");
  test::write_file(dir.path("in.jsonl"),
                   short_line + "\n" + long_line + "\n" + short_line + "x\n" + long_line);
  const auto r = run_cli("stream -q --sync-normal --max-line-bytes 100 --db " + dir.path("feed.db"),
                         dir.path("in.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_of(r.out, "\"error\":\"line_too_long\""), 2u) << r.out.substr(0, 2000);
  EXPECT_NE(r.out.find("{\"line\":2,\"error\":\"line_too_long\""), std::string::npos);
  EXPECT_NE(r.out.find("{\"line\":4,\"error\":\"line_too_long\""), std::string::npos);
  EXPECT_EQ(count_of(r.out, "\"story_id\""), 1u);  // the first short line; the third is malformed
}

TEST(Hardening2, AnOutputThatIsAnInputIsRefusedBeforeAnythingIsWritten) {
  TempDir dir;
  const std::string in = dir.path("in.jsonl");
  const std::string corpus =
      test::record("a", test::random_text(1, 50)) + "\n" + test::record("b", test::random_text(2, 50)) + "\n";
  test::write_file(in, corpus);
  ASSERT_EQ(::symlink(in.c_str(), dir.path("link.jsonl").c_str()), 0);
  const std::string other = " -o " + dir.path("kept.jsonl");
  const std::vector<std::string> commands = {
      "dedup " + in + " -o " + in,
      "dedup " + in + other + " --rejects " + in,
      "dedup " + in + other + " --annotate " + dir.path("link.jsonl"),
      "dedup " + in + other + " --groups " + dir.path("./in.jsonl"),
      "dedup " + in + other + " --save-index " + in,
      "dedup " + in + other + " --annotate " + dir.path("kept.jsonl"),
      "cluster " + in + " -o " + in,
      "cluster " + in + other + " --stories " + in,
      "cluster " + in + other + " --threads " + dir.path("link.jsonl"),
  };
  for (const auto& command : commands) {
    const auto r = run_cli(command);
    EXPECT_NE(r.exit_code, 0) << command;
    EXPECT_TRUE(r.err.find("would destroy the input") != std::string::npos ||
                r.err.find("name one file") != std::string::npos)
        << command << "\n"
        << r.err;
    EXPECT_EQ(test::read_file(in), corpus) << command;
  }
  // Reading standard input and writing a file is fine.
  const auto r = run_cli("dedup - -o " + dir.path("kept.jsonl"), in);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::read_lines(dir.path("kept.jsonl")).size(), 2u);
}

TEST(Hardening20, EvalRefusesNothingToScoreOddPairLabelsAndRepeatedPredictedIds) {
  TempDir dir;
  test::write_file(dir.path("empty.jsonl"), "");
  test::write_file(dir.path("gold.jsonl"), "{\"id\":\"a\",\"label\":1}\n{\"id\":\"b\",\"label\":1}\n");
  test::write_file(dir.path("pred.jsonl"),
                   "{\"id\":\"a\",\"dup_group\":\"a\"}\n{\"id\":\"b\",\"dup_group\":\"a\"}\n");
  test::write_file(dir.path("repeated.jsonl"),
                   "{\"id\":\"a\",\"dup_group\":\"a\"}\n{\"id\":\"a\",\"dup_group\":\"b\"}\n");
  const auto empty = run_cli("eval --gold " + dir.path("empty.jsonl") + " --pred " + dir.path("empty.jsonl"));
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_NE(empty.err.find("nothing to score"), std::string::npos) << empty.err;
  EXPECT_EQ(empty.out.find("1.0000"), std::string::npos) << empty.out;

  const auto repeated =
      run_cli("eval --gold " + dir.path("gold.jsonl") + " --pred " + dir.path("repeated.jsonl"));
  EXPECT_EQ(repeated.exit_code, 1);
  EXPECT_NE(repeated.err.find("repeated.jsonl:2: id 'a' was already labelled at line 1"), std::string::npos)
      << repeated.err;

  for (const char* label : {"7", "-1e300", "\"yes\""}) {
    test::write_file(dir.path("pairs.jsonl"), std::string("{\"id1\":\"a\",\"id2\":\"b\",\"label\":1}\n") +
                                                  "{\"id1\":\"a\",\"id2\":\"b\",\"label\":" + label + "}\n");
    const auto r = run_cli("eval --pairs " + dir.path("pairs.jsonl") + " --pred " + dir.path("pred.jsonl"));
    EXPECT_EQ(r.exit_code, 1) << label;
    EXPECT_NE(r.err.find("pairs.jsonl:2: label"), std::string::npos) << r.err;
  }
  test::write_file(dir.path("pairs.jsonl"), "{\"id1\":\"x\",\"id2\":\"y\",\"label\":1}\n");
  const auto unknown =
      run_cli("eval --pairs " + dir.path("pairs.jsonl") + " --pred " + dir.path("pred.jsonl"));
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("nothing to score"), std::string::npos) << unknown.err;
  // A sound evaluation still scores.
  const auto ok = run_cli("eval --gold " + dir.path("gold.jsonl") + " --pred " + dir.path("pred.jsonl"));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("b-cubed"), std::string::npos);
}

}  // namespace
}  // namespace storyline
