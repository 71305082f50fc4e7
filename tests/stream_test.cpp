// `storyline stream`: one answer line per input line, at once, durable across runs.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.hpp"

namespace storyline {
namespace {

using test::TempDir;

TEST(Stream, OneAnswerPerLineWithErrorsInPlace) {
  TempDir dir;
  const std::string db = dir.path("state.db");
  const std::string a = test::record("a", test::random_text(1, 150), "2024-05-01");
  const std::string clash = test::record("a", test::random_text(2, 150), "2024-05-01");
  test::write_file(dir.path("in.jsonl"),
                   a + "\n{broken\n{\"id\":\"e\",\"text\":\"\"}\n{\"text\":\"no id\"}\n" + clash + "\n" +
                       test::record("b", test::random_text(1, 150), "2024-05-02"));
  const auto r = test::run_cli("stream -q --sync-normal --db " + db, dir.path("in.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines;
  for (std::size_t at = 0, nl; (nl = r.out.find('\n', at)) != std::string::npos; at = nl + 1) {
    lines.push_back(r.out.substr(at, nl - at));
  }
  ASSERT_EQ(lines.size(), 6u) << r.out;
  EXPECT_EQ(lines[0].rfind(a.substr(0, a.size() - 1), 0), 0u);  // the input record, fields added
  EXPECT_NE(lines[0].find("\"story_id\":\"s1\""), std::string::npos);
  EXPECT_NE(lines[1].find("{\"line\":2,\"error\":\"malformed_json\""), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("\"error\":\"empty_text\""), std::string::npos);
  EXPECT_NE(lines[3].find("\"error\":\"missing_id\""), std::string::npos);
  EXPECT_NE(lines[4].find("\"id\":\"a\",\"error\":\"conflict\""), std::string::npos) << lines[4];
  EXPECT_NE(lines[5].find("\"dup_of\":\"a\""), std::string::npos) << lines[5];  // last line, no newline

  // A second run continues the same state.
  test::write_file(dir.path("more.jsonl"),
                   a + "\n" + test::record("c", test::random_text(1, 150), "2024-05-02") + "\n");
  const auto again = test::run_cli("stream --sync-normal --db " + db, dir.path("more.jsonl"));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("2 documents replayed"), std::string::npos) << again.err;
  EXPECT_NE(again.out.find("\"existing\":true"), std::string::npos);
  EXPECT_NE(again.out.find("\"dup_group\":\"a\""), std::string::npos);

  // The state keeps its parameters; other ones given later are ignored, with a warning.
  const auto other =
      test::run_cli("stream --sync-normal --story-threshold 0.9 --db " + db, dir.path("more.jsonl"));
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_NE(other.err.find("keeps the parameters it was created with"), std::string::npos) << other.err;
  EXPECT_EQ(test::run_cli("stream --sync-normal --db " + db, dir.path("more.jsonl")).err.find("keeps the"),
            std::string::npos);
}

// A teaser (the first third of an article) joins the article whichever arrives first.
TEST(Stream, ATeaserJoinsItsArticleBeforeOrAfterIt) {
  TempDir dir;
  const std::string article = test::random_text(7, 300);
  const std::string teaser = article.substr(0, article.find(' ', article.size() / 3));
  const std::string a = test::record("article", article, "2024-05-01");
  const std::string t = test::record("teaser", teaser, "2024-05-01");
  test::write_file(dir.path("after.jsonl"), a + "\n" + t + "\n");
  test::write_file(dir.path("before.jsonl"), t + "\n" + a + "\n");
  const auto after =
      test::run_cli("stream -q --sync-normal --db " + dir.path("after.db"), dir.path("after.jsonl"));
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_NE(after.out.find("\"dup_of\":\"article\""), std::string::npos) << after.out;
  const auto before =
      test::run_cli("stream -q --sync-normal --db " + dir.path("before.db"), dir.path("before.jsonl"));
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_NE(before.out.find("\"dup_of\":\"teaser\""), std::string::npos) << before.out;
  // The article, coming second, takes over as its group's representative; a teaser after its article
  // takes nothing over.
  EXPECT_NE(before.out.find("\"replaces\":\"teaser\""), std::string::npos) << before.out;
  EXPECT_EQ(after.out.find("\"replaces\""), std::string::npos) << after.out;
  // A restarted state remembers it: a second teaser defers to the article.
  test::write_file(dir.path("again.jsonl"), test::record("teaser-2", teaser + " again", "2024-05-02") + "\n");
  const auto again =
      test::run_cli("stream -q --sync-normal --db " + dir.path("before.db"), dir.path("again.jsonl"));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out.find("\"replaces\""), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("\"dup_group\":\"teaser\""), std::string::npos) << again.out;
  // Without containment, they stay apart.
  const auto off = test::run_cli("stream -q --sync-normal --containment 0 --db " + dir.path("off.db"),
                                 dir.path("after.jsonl"));
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_EQ(off.out.find("\"dup_of\":\"article\""), std::string::npos) << off.out;
}

TEST(Stream, AnswersEachLineBeforeTheNextArrives) {
  TempDir dir;
  int in[2], out[2];
  ASSERT_EQ(pipe(in), 0);
  ASSERT_EQ(pipe(out), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[1]);
    close(out[0]);
    execl(STORYLINE_CLI, STORYLINE_CLI, "stream", "-q", "--db", dir.path("state.db").c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  std::string received;
  for (int i = 0; i < 3; ++i) {
    const std::string line = test::record("d" + std::to_string(i), test::random_text(10 + i, 100)) + "\n";
    ASSERT_EQ(write(in[1], line.data(), line.size()), static_cast<ssize_t>(line.size()));
    // stdin stays open: the answer must come anyway.
    std::string answer;
    while (answer.find('\n') == std::string::npos) {
      pollfd p{out[0], POLLIN, 0};
      ASSERT_EQ(poll(&p, 1, 20000), 1) << "no answer to line " << i;
      char buf[4096];
      const ssize_t n = read(out[0], buf, sizeof buf);
      ASSERT_GT(n, 0);
      answer.append(buf, static_cast<std::size_t>(n));
    }
    EXPECT_NE(answer.find("\"id\":\"d" + std::to_string(i) + "\""), std::string::npos) << answer;
  }
  close(in[1]);
  int status = 0;
  waitpid(pid, &status, 0);
  close(out[0]);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace storyline
