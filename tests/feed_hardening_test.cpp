// Regression tests for the hardening findings about the feed's state (#1, #17, #18, #19), named after
// them, and the crash property of the feed: after SIGKILL at any point the state holds exactly what was
// acknowledged (documents in flight may or may not be there).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "storyline/error.hpp"
#include "storyline/feed_service.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

using test::TempDir;

Document news(const std::string& id, unsigned seed) {
  Document d;
  d.id = id;
  d.title = "report " + std::to_string(seed % 7);
  d.text = test::random_text(seed, 120);
  d.date = *parse_date("2024-05-01");
  return d;
}

FeedServiceOptions fast() {
  FeedServiceOptions options;
  options.sync_full = false;
  return options;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// `storyline stream --db DB` as a child with pipes on its standard input and output.
class StreamProcess {
 public:
  StreamProcess(const std::string& db, const std::string& log) {
    int in[2], out[2];
    EXPECT_EQ(pipe(in), 0);
    EXPECT_EQ(pipe(out), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(err, 2);
      close(in[1]);
      close(out[0]);
      execl(STORYLINE_CLI, STORYLINE_CLI, "stream", "--sync-normal", "--db", db.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    in_ = in[1];
    out_ = out[0];
  }
  ~StreamProcess() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    close(in_);
    close(out_);
  }
  /// Sends one line and returns its answer line ("" when none came within 20 s).
  std::string send(const std::string& line) {
    const std::string with_newline = line + "\n";
    if (write(in_, with_newline.data(), with_newline.size()) != static_cast<ssize_t>(with_newline.size())) {
      return "";
    }
    std::string answer;
    while (answer.find('\n') == std::string::npos) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 20000) != 1) return "";
      char c;
      if (read(out_, &c, 1) != 1) return "";
      answer.push_back(c);
    }
    return answer;
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
};

TEST(Hardening1, ASecondWriterOnOneStateIsRefusedNamingTheHolder) {
  TempDir dir;
  const std::string db = dir.path("state.db");
  FeedService first(db, FeedParams{}, fast());
  first.add({news("a", 1)});
  const std::string refused = message_of([&] { FeedService second(db, std::nullopt, fast()); });
  EXPECT_NE(refused.find("in use by another storyline process (pid " + std::to_string(getpid())),
            std::string::npos)
      << refused;
  test::write_file(dir.path("in.jsonl"), test::record("b", test::random_text(2, 100)) + "\n");
  const auto stream = test::run_cli("stream -q --db " + db, dir.path("in.jsonl"));
  EXPECT_EQ(stream.exit_code, 1);
  EXPECT_NE(stream.err.find("in use by another storyline process"), std::string::npos) << stream.err;
  EXPECT_EQ(first.counts().documents, 1u);
}

TEST(Hardening1, TheLockGoesWithItsHolderEvenAfterSigkill) {
  TempDir dir;
  const std::string db = dir.path("state.db");
  {
    StreamProcess stream(db, dir.path("log"));
    EXPECT_NE(stream.send(test::record("a", test::random_text(1, 100))).find("story_id"), std::string::npos);
  }  // SIGKILL
  FeedService reopened(db, std::nullopt, fast());
  EXPECT_EQ(reopened.counts().documents, 1u);
}

TEST(Hardening17, AnEmptiedOrMissingDatabaseBesideASnapshotIsRefused) {
  TempDir dir;
  const std::string db = dir.path("state.db"), snapshot = db + ".snapshot";
  {
    FeedService s(db, FeedParams{}, fast());
    for (unsigned i = 0; i < 5; ++i) s.add({news("d" + std::to_string(i), i)});
  }
  const std::string saved = test::read_file(snapshot);
  ASSERT_FALSE(saved.empty());
  test::write_file(db, "");
  std::string refused = message_of([&] { FeedService s(db, FeedParams{}, fast()); });
  EXPECT_NE(refused.find("is empty but " + snapshot + " holds a state"), std::string::npos) << refused;
  ::unlink(db.c_str());
  refused = message_of([&] { FeedService s(db, FeedParams{}, fast()); });
  EXPECT_NE(refused.find("is missing but"), std::string::npos) << refused;
  EXPECT_EQ(test::read_file(snapshot), saved);
}

TEST(Hardening17, ADatabaseOlderThanItsSnapshotIsRefused) {
  TempDir dir;
  const std::string db = dir.path("state.db"), snapshot = db + ".snapshot";
  {
    FeedService s(db, FeedParams{}, fast());
    s.add({news("a", 1)});
  }
  const std::string old_db = test::read_file(db);  // a clean stop leaves no WAL behind
  {
    FeedService s(db, std::nullopt, fast());
    s.add({news("b", 2), news("c", 3)});
  }
  const std::string saved = test::read_file(snapshot);
  test::write_file(db, old_db);
  const std::string refused = message_of([&] { FeedService s(db, std::nullopt, fast()); });
  EXPECT_NE(refused.find("lacks rows its snapshot"), std::string::npos) << refused;
  EXPECT_NE(refused.find("3 documents"), std::string::npos) << refused;
  EXPECT_EQ(test::read_file(snapshot), saved);
}

TEST(Hardening18, ADeletedWalIsRecoveredAndReportedAndNoAcknowledgedDocumentIsLost) {
  TempDir dir;
  const std::string db = dir.path("state.db"), log = dir.path("log");
  {
    StreamProcess stream(db, log);
    for (int i = 0; i < 10; ++i) {
      if (i == 5) {
        ASSERT_EQ(::unlink((db + "-wal").c_str()), 0);
      }
      const std::string id = "d" + std::to_string(i);
      const std::string answer = stream.send(test::record(id, test::random_text(40 + i, 100)));
      ASSERT_NE(answer.find("\"story_id\""), std::string::npos) << answer;  // acknowledged
    }
  }  // SIGKILL: no clean stop, no snapshot
  EXPECT_NE(test::read_file(log).find("WARNING: " + db + "-wal was deleted"), std::string::npos)
      << test::read_file(log);
  FeedService reopened(db, std::nullopt, fast());
  EXPECT_EQ(reopened.counts().documents, 10u);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(reopened.get("d" + std::to_string(i))) << i;
}

// Rewrites one stored parameter of a state in place.
void set_stored_parameter(const std::string& db, const std::string& from, const std::string& to) {
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &handle), SQLITE_OK);
  const std::string sql =
      "UPDATE meta SET value = replace(value, '" + from + "', '" + to + "') WHERE key = 'params'";
  EXPECT_EQ(sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_changes(handle), 1);
  sqlite3_close(handle);
}

TEST(Hardening19, InvalidStoredParametersFailWithTheFileAndTheValue) {
  TempDir dir;
  test::write_file(dir.path("in.jsonl"), test::record("a", test::random_text(1, 100)) + "\n");
  const struct {
    const char* from;
    const char* to;
  } cases[] = {{"dedup.num_hashes=128", "dedup.num_hashes=0"},
               {"dedup.threshold=0.", "dedup.threshold=nan\ndedup.x=0."},
               {"tfidf.stem_language=\n", "tfidf.stem_language=klingon\n"}};
  for (const auto& c : cases) {
    const std::string db = dir.path(std::string("state-") + c.to[7] + ".db");
    { FeedService s(db, FeedParams{}, fast()); }
    ::unlink((db + ".snapshot").c_str());
    set_stored_parameter(db, c.from, c.to);
    const auto r = test::run_cli("stream -q --db " + db, dir.path("in.jsonl"));
    EXPECT_EQ(r.exit_code, 1) << c.to << "\n" << r.err;
    EXPECT_NE(r.err.find(db + ": its stored parameters are invalid"), std::string::npos) << r.err;
    const std::string value = std::string(c.to).substr(0, std::string(c.to).find('\n'));
    EXPECT_NE(r.err.find(value), std::string::npos) << value << "\n" << r.err;
  }
}

}  // namespace
}  // namespace storyline
