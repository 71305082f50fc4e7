// `storyline serve` end to end, over loopback HTTP: every endpoint, every error status, many clients,
// SIGKILL in the middle of a load, SIGTERM, and a file that is not a state.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "server_process.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

using test::TempDir;

using test::ServerProcess;

std::string doc_json(const std::string& id, unsigned seed, const std::string& date = "2024-05-01") {
  return test::record(id, test::random_text(seed, 150), date);
}

// Field value of a flat JSON answer ("s1", 0.5, true): enough for these tests.
std::string field(const std::string& json, const std::string& key) {
  const auto at = json.find("\"" + key + "\":");
  if (at == std::string::npos) return "";
  std::size_t begin = at + key.size() + 3;
  if (json[begin] == '"') {
    const auto end = json.find('"', begin + 1);
    return json.substr(begin + 1, end - begin - 1);
  }
  const auto end = json.find_first_of(",}]", begin);
  return json.substr(begin, end - begin);
}

TEST(Serve, EveryEndpoint) {
  TempDir dir;
  ServerProcess server(dir.path("state.db"), dir.path("log"));
  ASSERT_GT(server.port(), 0) << test::read_file(dir.path("log"));
  auto c = server.client();

  auto r = c.Post("/v1/documents", doc_json("a", 1, "2024-05-01"), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(field(r->body, "status"), "added");
  EXPECT_EQ(field(r->body, "story_id"), "s1");
  EXPECT_EQ(field(r->body, "thread_id"), "t1");
  EXPECT_EQ(field(r->body, "new_story"), "true");
  EXPECT_EQ(field(r->body, "date"), "2024-05-01");

  // Sent again: the stored answer, 200.
  r = c.Post("/v1/documents", doc_json("a", 1, "2024-05-01"), "application/json");
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(field(r->body, "status"), "existing");

  // An array: a copy of "a" and a new document.
  r = c.Post("/v1/documents",
             "[" + doc_json("a-copy", 1, "2024-05-02") + "," + doc_json("b", 2, "2024-05-02") + "]",
             "application/json");
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->status, 201) << r->body;
  ASSERT_EQ(r->body.front(), '[');
  EXPECT_EQ(field(r->body, "dup_of"), "a");
  EXPECT_EQ(field(r->body, "dup_group"), "a");
  EXPECT_EQ(field(r->body, "story_id"), "s1");

  r = c.Get("/v1/documents/a-copy");
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(field(r->body, "dup_of"), "a");
  EXPECT_EQ(field(r->body, "story_id"), "s1");

  r = c.Get("/v1/stories/s1");
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(field(r->body, "documents"), "2");
  EXPECT_NE(r->body.find("\"document_ids\":[\"a\",\"a-copy\"]"), std::string::npos) << r->body;
  EXPECT_EQ(field(r->body, "first_date"), "2024-05-01");
  EXPECT_EQ(field(r->body, "last_date"), "2024-05-02");

  r = c.Get("/v1/stories?since=2024-05-02");
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("\"id\":\"s1\""), std::string::npos);
  r = c.Get("/v1/stories?since=2030-01-01");
  EXPECT_EQ(r->body, "{\"stories\":[]}\n");

  r = c.Get("/v1/threads/t1");
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("\"story_ids\":[\"s1\""), std::string::npos) << r->body;

  r = c.Get("/healthz");
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(field(r->body, "documents"), "3");

  r = c.Get("/metrics");
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("storyline_documents 3\n"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("storyline_duplicates 1\n"), std::string::npos);
  EXPECT_NE(r->body.find("storyline_http_request_duration_seconds_bucket{le=\"+Inf\"}"), std::string::npos);
  EXPECT_NE(r->body.find("storyline_http_requests_total{code=\"201\"} 2"), std::string::npos);

  r = c.Delete("/v1/documents/b");
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(c.Get("/v1/documents/b")->status, 404);
  EXPECT_EQ(c.Delete("/v1/documents/b")->status, 404);
  EXPECT_EQ(c.Get("/v1/stories/s99")->status, 404);
  EXPECT_EQ(c.Get("/v1/threads/t99")->status, 404);
  EXPECT_EQ(c.Get("/v1/nothing")->status, 404);
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

// A thread merged into another (the feed's merging, on by default) answers where its stories went.
// The documents of Feed.AThreadThatGrowsLikeAnotherTakesItInAndReplaysTheSame.
TEST(Serve, AThreadMergedAwaySaysWhichThreadTookIt) {
  TempDir dir;
  ServerProcess server(dir.path("state.db"), dir.path("log"));
  ASSERT_GT(server.port(), 0) << test::read_file(dir.path("log"));
  auto c = server.client();
  const auto post = [&](const std::string& id, const std::string& title, const std::string& text,
                        const std::string& date) {
    const std::string body = "{\"id\":\"" + id + "\",\"title\":\"" + title + "\",\"text\":\"" + text +
                             "\",\"date\":\"" + date + "\"}";
    const auto r = c.Post("/v1/documents", body, "application/json");
    return r ? field(r->body, "thread_id") : std::string("no answer");
  };
  EXPECT_EQ(post("a", "Valencia floods: Carlos Mazon visits Paiporta",
                 "Carlos Mazon visited Paiporta, where the flood in Valencia killed dozens. Mazon promised "
                 "Paiporta and Valencia help.",
                 "2025-01-05"),
            "t1");
  EXPECT_EQ(post("b", "Volunteers clear mud from garages",
                 "Volunteers cleared mud from garages and tunnels while insurance claims piled up. The "
                 "volunteers said the mud and the claims keep growing.",
                 "2025-02-05"),
            "t2");
  auto r = c.Get("/v1/threads/t2");
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->body.find("merged_into"), std::string::npos) << r->body;  // live: points nowhere
  post("c", "Valencia volunteers clear mud from garages",
       "In Valencia and Paiporta volunteers cleared mud from garages and tunnels while insurance claims "
       "piled up; Carlos Mazon said the claims for the mud will be paid.",
       "2025-03-05");
  post("d", "Paiporta volunteers: mud, garages and claims",
       "Volunteers in Paiporta cleared mud from garages and tunnels; insurance claims piled up, and Carlos "
       "Mazon visited Valencia and Paiporta.",
       "2025-04-05");
  r = c.Get("/v1/threads/t2");
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(field(r->body, "documents"), "0");
  EXPECT_EQ(field(r->body, "merged_into"), "t1") << r->body;
  EXPECT_EQ(field(c.Get("/v1/documents/b")->body, "thread_id"), "t1");
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(Serve, EveryErrorStatus) {
  TempDir dir;
  test::write_file(dir.path("token"), "s3cret\n");
  ServerProcess server(dir.path("state.db"), dir.path("log"),
                       "--max-body-bytes 4000 --token-file '" + dir.path("token") + "'");
  ASSERT_GT(server.port(), 0) << test::read_file(dir.path("log"));
  auto c = server.client();
  const httplib::Headers auth = {{"Authorization", "Bearer s3cret"}};
  auto post = [&](const std::string& body) {
    return c.Post("/v1/documents", auth, body, "application/json");
  };

  auto r = c.Post("/v1/documents", doc_json("a", 1), "application/json");
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(field(r->body, "error"), "unauthorized");
  EXPECT_EQ(c.Delete("/v1/documents/a")->status, 401);
  EXPECT_EQ(c.Post("/v1/documents", {{"Authorization", "Bearer wrong"}}, doc_json("a", 1), "application/json")
                ->status,
            401);

  EXPECT_EQ(post(doc_json("a", 1))->status, 201);
  EXPECT_EQ(c.Get("/v1/documents/a")->status, 200);  // reads need no token

  r = post("{\"id\": \"x\", \"text\": ");
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(field(r->body, "error"), "malformed_json");
  EXPECT_EQ(post("42")->status, 400);
  EXPECT_EQ(post("[]")->status, 400);
  r = post("{\"id\": \"x\"}");
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->status, 422);
  EXPECT_EQ(field(r->body, "error"), "missing_text");
  r = post("{\"id\": \"x\", \"text\": \"   \"}");
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->status, 422);
  EXPECT_EQ(field(r->body, "error"), "empty_text");
  r = post("{\"text\": \"no id here at all\"}");
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->status, 422);
  EXPECT_EQ(field(r->body, "error"), "missing_id");
  r = post("[" + doc_json("y", 5) + ", {\"id\": \"z\", \"text\": 7}]");
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->status, 422);
  EXPECT_NE(field(r->body, "detail").find("document 1"), std::string::npos) << r->body;
  EXPECT_EQ(c.Get("/v1/documents/y")->status, 404);  // nothing of a refused array is added

  r = post(doc_json("a", 2));
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(field(r->body, "error"), "conflict");

  r = post(doc_json("big", 3) + std::string(5000, ' '));
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(field(r->body, "error"), "payload_too_large");

  EXPECT_EQ(c.Get("/v1/stories")->status, 400);
  EXPECT_EQ(c.Get("/v1/stories?since=yesterday")->status, 400);
  EXPECT_EQ(c.Get("/v1/stories?since=2024-01-01&limit=0")->status, 400);
  EXPECT_EQ(c.Get("/healthz")->status, 200);
}

TEST(Serve, ManyClientsAtOnce) {
  TempDir dir;
  ServerProcess server(dir.path("state.db"), dir.path("log"));
  ASSERT_GT(server.port(), 0);
  constexpr int kClients = 8, kEach = 25;
  std::atomic<int> created{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t] {
      auto c = server.client();
      for (int i = 0; i < kEach; ++i) {
        const auto r = c.Post(
            "/v1/documents", doc_json("c" + std::to_string(t) + "-" + std::to_string(i), 100 + t * kEach + i),
            "application/json");
        if (r && r->status == 201) ++created;
      }
    });
  }
  for (auto& th : clients) th.join();
  EXPECT_EQ(created.load(), kClients * kEach);
  EXPECT_EQ(field(server.client().Get("/healthz")->body, "documents"), std::to_string(kClients * kEach));
}

TEST(Serve, EveryAcknowledgedDocumentSurvivesSigkill) {
  TempDir dir;
  const std::string db = dir.path("state.db");
  std::mutex mutex;
  std::map<std::string, std::string> acknowledged;  // id -> "story thread dup_group"
  {
    // Background snapshots every 50 documents: the restart replays only the rows after the last one.
    // Merging off: the threads of the state stay those answered, which this test compares (a merge
    // after an answer moves its thread, as a relink does; Feed.AThreadThatGrowsLikeAnother... checks
    // that a replay merges where the feed did).
    ServerProcess server(db, dir.path("log"), "--snapshot-every 50 --thread-merge-threshold 0");
    ASSERT_GT(server.port(), 0);
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
      clients.emplace_back([&, t] {
        auto c = server.client();
        for (int i = 0; !stop; ++i) {
          // Every fifth document copies an earlier one of this client.
          const unsigned seed = 5000 + t * 100000 + (i % 5 == 4 ? i - 1 : i);
          const std::string id = "k" + std::to_string(t) + "-" + std::to_string(i);
          const auto r = c.Post("/v1/documents", doc_json(id, seed), "application/json");
          if (!r) break;  // the server is gone
          if (r->status != 201) continue;
          std::lock_guard lock(mutex);
          acknowledged[id] = field(r->body, "story_id") + " " + field(r->body, "thread_id") + " " +
                             field(r->body, "dup_group");
        }
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    bool enough = false;
    while (!enough && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      std::lock_guard lock(mutex);
      enough = acknowledged.size() >= 150;
    }
    const int status = server.stop(SIGKILL);
    EXPECT_TRUE(WIFSIGNALED(status));
    stop = true;
    for (auto& th : clients) th.join();
    ASSERT_TRUE(enough) << acknowledged.size() << " documents acknowledged in 120 s";
  }
  ServerProcess again(db, dir.path("log2"));
  ASSERT_GT(again.port(), 0) << test::read_file(dir.path("log2"));
  {
    // "N documents replayed in S s, R of them from rows after the snapshot": R < N.
    const std::string log = test::read_file(dir.path("log2"));
    const auto at = log.find(" documents replayed in ");
    ASSERT_NE(at, std::string::npos) << log;
    const auto total = std::stoul(log.substr(log.rfind(' ', at - 1) + 1));
    const auto rows = std::stoul(log.substr(log.find(", ", at) + 2));
    EXPECT_GE(total, acknowledged.size());
    EXPECT_LT(rows, total) << log;
  }
  auto c = again.client();
  for (const auto& [id, expected] : acknowledged) {
    const auto r = c.Get("/v1/documents/" + id);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << id;
    EXPECT_EQ(
        field(r->body, "story_id") + " " + field(r->body, "thread_id") + " " + field(r->body, "dup_group"),
        expected)
        << id;
  }
  // The restarted server goes on from the same state.
  const auto r = c.Post("/v1/documents", doc_json("after", 5000), "application/json");
  ASSERT_TRUE(r) << "no answer: the connection dropped";
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(field(r->body, "dup_group"), "k0-0");
  // A clean stop writes a snapshot; a crash after more documents replays the snapshot and the rows.
  EXPECT_EQ(again.stop(SIGTERM), 0);
  std::string after_snapshot;
  {
    ServerProcess third(db, dir.path("log3"));
    ASSERT_GT(third.port(), 0);
    EXPECT_NE(test::read_file(dir.path("log3")).find(", 0 of them from rows"), std::string::npos);
    const auto more = third.client().Post("/v1/documents", doc_json("later", 77), "application/json");
    ASSERT_EQ(more->status, 201);
    after_snapshot = field(more->body, "story_id");
    EXPECT_EQ(third.client().Delete("/v1/documents/k0-1")->status, 200);
    third.stop(SIGKILL);
  }
  ServerProcess fourth(db, dir.path("log4"));
  ASSERT_GT(fourth.port(), 0);
  EXPECT_NE(test::read_file(dir.path("log4")).find(", 2 of them from rows"), std::string::npos)
      << test::read_file(dir.path("log4"));
  auto c4 = fourth.client();
  EXPECT_EQ(field(c4.Get("/v1/documents/later")->body, "story_id"), after_snapshot);
  EXPECT_EQ(c4.Get("/v1/documents/k0-1")->status, 404);
  EXPECT_EQ(c4.Get("/v1/documents/k0-2")->status, 200);
}

TEST(Serve, SigtermShutsDownCleanly) {
  TempDir dir;
  const std::string db = dir.path("state.db");
  {
    ServerProcess server(db, dir.path("log"));
    ASSERT_GT(server.port(), 0);
    EXPECT_EQ(server.client().Post("/v1/documents", doc_json("a", 1), "application/json")->status, 201);
    EXPECT_EQ(server.stop(SIGTERM), 0);
    EXPECT_NE(test::read_file(dir.path("log")).find("stopped"), std::string::npos);
  }
  ServerProcess again(db, dir.path("log2"));
  ASSERT_GT(again.port(), 0);
  EXPECT_EQ(again.client().Get("/v1/documents/a")->status, 200);
}

TEST(Serve, AFileThatIsNotAStateIsRefused) {
  TempDir dir;
  const std::string path = dir.path("notes.db");
  test::write_file(path, "these are my notes, not a database\n");
  const auto r = test::run_cli("serve --port 0 --db '" + path + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not a storyline state"), std::string::npos) << r.err;
  EXPECT_EQ(test::read_file(path), "these are my notes, not a database\n");
}

}  // namespace
}  // namespace storyline
