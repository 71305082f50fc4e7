// The durable feed: replay after reopening, conflicts, removal, concurrency, and files that are not a
// storyline state.
#include "storyline/feed_service.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include "detail/feed_store.hpp"
#include "storyline/error.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

using test::TempDir;

Document news(const std::string& id, unsigned seed, const char* date = "2024-05-01") {
  Document d;
  d.id = id;
  d.title = "report " + std::to_string(seed % 7);
  d.text = test::random_text(seed, 120);
  d.date = *parse_date(date);
  return d;
}

// Merging and relinking off: the threads of the state stay those answered, which the tests of
// durability compare.
FeedParams as_answered() {
  FeedParams p;
  p.thread_merge_threshold = 0.0f;
  p.thread_relink = 0;
  return p;
}

FeedServiceOptions fast() {
  FeedServiceOptions options;
  options.sync_full = false;
  return options;
}

TEST(FeedService, ReopeningGivesEveryDocumentItsAssignment) {
  TempDir dir;
  const std::string db = dir.path("state.db");
  std::vector<Assignment> before;
  {
    FeedService s(db, as_answered(), fast());
    std::vector<Document> docs;
    for (unsigned i = 0; i < 40; ++i) docs.push_back(news("d" + std::to_string(i), i % 13));
    for (const AddOutcome& o : s.add(docs)) before.push_back(o.assignment);
    EXPECT_EQ(s.counts().documents, 40u);
    EXPECT_GT(s.counts().duplicates, 0u);  // seeds repeat: exact copies
  }
  FeedService s(db, std::nullopt, fast());
  EXPECT_EQ(s.replayed(), 40u);
  for (const Assignment& a : before) {
    const auto got = s.get(a.id);
    ASSERT_TRUE(got) << a.id;
    EXPECT_EQ(got->assignment.story, a.story);
    EXPECT_EQ(got->assignment.thread, a.thread);
    EXPECT_EQ(got->assignment.dup_group, a.dup_group);
    EXPECT_EQ(got->assignment.dup_of, a.dup_of);
    EXPECT_FLOAT_EQ(static_cast<float>(got->assignment.story_similarity),
                    static_cast<float>(a.story_similarity));
    EXPECT_EQ(got->title, "report " + std::to_string(std::stoi(a.id.substr(1)) % 13 % 7));
  }
}

// Document frequencies per language: each row keeps its document's language, so a state rebuilt from
// its rows alone weighs the next document as the state that went on does (with the language lost,
// its Spanish words would count as a language of their own and weigh differently).
TEST(FeedService, AStateRebuiltFromItsRowsCountsTermsInTheirLanguage) {
  TempDir dir;
  const std::string db = dir.path("state.db");
  const auto report = [](const std::string& id, const std::string& text) {
    Document d;
    d.id = id;
    d.text = text;
    d.date = *parse_date("2011-03-01");
    return d;
  };
  std::vector<Document> docs;
  const char* places[] = {"Sana", "Adén", "Taiz", "Hodeida", "Marib", "Ibb"};
  for (int i = 0; i < 6; ++i) {
    docs.push_back(report("en" + std::to_string(i),
                          "Officials said on Tuesday that the railway in district " + std::to_string(i) +
                              " would reopen after the storm, and that the "
                              "county paid for the repairs."));
    docs.push_back(report("es" + std::to_string(i), std::string("Según los testigos, las protestas en ") +
                                                        places[i] +
                                                        " continuarán durante la semana, y los "
                                                        "manifestantes piden la salida del presidente "
                                                        "Saleh."));
  }
  FeedParams p = as_answered();
  ASSERT_TRUE(p.idf_by_language);
  p.dedup.containment = 0.0;
  p.dedup.threshold = 0.95;
  { FeedService(db, p, fast()).add(docs); }
  const std::string copy = dir.path("copy.db");  // the rows without the snapshot
  test::write_file(copy, test::read_file(db));
  FeedService from_rows(copy, std::nullopt, fast());
  EXPECT_EQ(from_rows.replayed_rows(), docs.size());
  FeedService from_snapshot(db, std::nullopt, fast());
  const Document next = report("es-next",
                               "Según los testigos, las protestas en Sana y en Taiz continuarán, y los "
                               "manifestantes piden la salida del presidente Saleh.");
  const Assignment a = from_snapshot.add({next}).front().assignment,
                   b = from_rows.add({next}).front().assignment;
  EXPECT_FALSE(a.new_story);  // it joins the Spanish story, at a cosine its terms' weights decide
  EXPECT_EQ(b.story, a.story);
  EXPECT_FLOAT_EQ(static_cast<float>(b.story_similarity), static_cast<float>(a.story_similarity));
}

// Relinking moves stories after their answer; a state rebuilt from its rows alone (they keep each
// document's term counts and language) or from its snapshot relinks where the feed did.
TEST(FeedService, ARelinkedStateRebuiltFromItsRowsHasTheSameThreads) {
  TempDir dir;
  const std::string db = dir.path("state.db");
  FeedParams p;
  p.thread_relink = 2;
  p.thread_threshold = 1.0f;  // online, every story opens a thread: only relinking joins them
  p.dedup.containment = 0.0;
  std::map<std::string, std::uint32_t> answered;
  {
    FeedService s(db, p, fast());
    std::vector<Document> docs;
    for (unsigned i = 0; i < 60; ++i) {  // a week apart: a story each
      const unsigned month = i / 4 % 12 + 1, day = 1 + 7 * (i % 4);
      const std::string date = std::to_string(2023 + i / 48) + (month < 10 ? "-0" : "-") +
                               std::to_string(month) + (day < 10 ? "-0" : "-") + std::to_string(day);
      docs.push_back(news("d" + std::to_string(i), 100 + i, date.c_str()));
    }
    for (const AddOutcome& o : s.add(docs)) answered[o.assignment.id] = o.assignment.thread;
    ASSERT_EQ(s.counts().stories, 60u);  // relinks at 16, 32 and 48 stories, and when it closes
  }
  const std::string copy = dir.path("copy.db");  // the rows without the snapshot
  test::write_file(copy, test::read_file(db));
  FeedService from_rows(copy, std::nullopt, fast());
  EXPECT_EQ(from_rows.replayed_rows(), 61u);  // 60 documents and the closing relink
  FeedService from_snapshot(db, std::nullopt, fast());
  std::size_t moved = 0;
  for (const auto& [id, thread] : answered) {
    const std::uint32_t now = from_snapshot.get(id)->assignment.thread;
    EXPECT_EQ(from_rows.get(id)->assignment.thread, now) << id;
    moved += now != thread;
  }
  EXPECT_GT(moved, 0u);
}

// With relinking on, the stories that came after the last relink by count are relinked when the feed
// goes quiet and when it closes; both relinks are stored, so a state rebuilt from its rows alone has
// the threads the feed ended with.
TEST(FeedService, RelinksWhenTheFeedGoesQuietAndWhenItClosesAndARestartDoesToo) {
  TempDir dir;
  const std::string db = dir.path("state.db");
  FeedParams p;
  p.thread_relink = 1;        // by count at 16 and 32 stories only
  p.thread_threshold = 1.0f;  // online, every story opens a thread
  p.dedup.containment = 0.0;
  FeedServiceOptions options = fast();
  options.quiet_relink_seconds = 0.5;
  const auto report = [](unsigned i) {  // a week apart: a story each
    const unsigned month = i / 4 % 12 + 1, day = 1 + 7 * (i % 4);
    const std::string date = std::to_string(2023 + i / 48) + (month < 10 ? "-0" : "-") +
                             std::to_string(month) + (day < 10 ? "-0" : "-") + std::to_string(day);
    return news("d" + std::to_string(i), 100 + i, date.c_str());
  };
  std::map<std::string, std::uint32_t> answered, now;
  const auto moved = [&](unsigned from, unsigned to) {
    std::size_t n = 0;
    for (unsigned i = from; i < to; ++i)
      n += now["d" + std::to_string(i)] != answered["d" + std::to_string(i)];
    return n;
  };
  {
    FeedService s(db, p, options);
    std::vector<Document> docs;
    for (unsigned i = 0; i < 44; ++i) docs.push_back(report(i));
    for (const AddOutcome& o : s.add(docs)) answered[o.assignment.id] = o.assignment.thread;
    ASSERT_EQ(s.counts().stories, 44u);
    // Quiet: within seconds the twelve stories after the relink at 32 are relinked too.
    const auto look = [&] {
      for (unsigned i = 32; i < 44; ++i)
        now["d" + std::to_string(i)] = s.get("d" + std::to_string(i))->assignment.thread;
    };
    look();
    EXPECT_EQ(moved(32, 44), 0u);  // nothing relinked them yet
    for (int wait = 0; wait < 200 && moved(32, 44) == 0; ++wait) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      look();
    }
    EXPECT_GT(moved(32, 44), 0u);
  }  // nothing joined since: closing does not relink
  {
    options.quiet_relink_seconds = 0;  // when it closes only
    FeedService s(db, std::nullopt, options);
    std::vector<Document> more;
    for (unsigned i = 44; i < 56; ++i) more.push_back(report(i));
    for (const AddOutcome& o : s.add(more)) answered[o.assignment.id] = o.assignment.thread;
  }                                              // closing relinks the last twelve
  const std::string copy = dir.path("copy.db");  // the rows without the snapshot
  test::write_file(copy, test::read_file(db));
  FeedService from_rows(copy, std::nullopt, fast());
  EXPECT_EQ(from_rows.replayed_rows(), 58u);  // 56 documents and two relinks
  FeedService from_snapshot(db, std::nullopt, fast());
  EXPECT_EQ(from_snapshot.replayed_rows(), 0u);
  for (const auto& [id, thread] : answered) {
    now[id] = from_snapshot.get(id)->assignment.thread;
    EXPECT_EQ(from_rows.get(id)->assignment.thread, now[id]) << id;
  }
  EXPECT_GT(moved(44, 56), 0u);
}

TEST(FeedService, ResendingIsIdempotentAndAClashAddsNothing) {
  TempDir dir;
  FeedService s(dir.path("state.db"), FeedParams{}, fast());
  const auto first = s.add({news("a", 1)});
  EXPECT_EQ(first[0].status, AddOutcome::Status::kAdded);
  const auto again = s.add({news("a", 1)});
  EXPECT_EQ(again[0].status, AddOutcome::Status::kExisting);
  EXPECT_EQ(again[0].assignment.story, first[0].assignment.story);
  // A clash anywhere in the call adds none of it.
  const auto clash = s.add({news("b", 2), news("a", 3)});
  EXPECT_EQ(clash[1].status, AddOutcome::Status::kConflict);
  EXPECT_FALSE(s.get("b"));
  // Two versions of one id inside a call clash too.
  const auto twice = s.add({news("c", 4), news("c", 5)});
  EXPECT_EQ(twice[1].status, AddOutcome::Status::kConflict);
  EXPECT_FALSE(s.get("c"));
  EXPECT_EQ(s.counts().documents, 1u);
}

TEST(FeedService, RemovalIsDurableAndTheIdCanReturn) {
  TempDir dir;
  const std::string db = dir.path("state.db");
  {
    FeedService s(db, FeedParams{}, fast());
    s.add({news("a", 1), news("b", 2)});
    EXPECT_TRUE(s.remove("a"));
    EXPECT_FALSE(s.remove("a"));
    EXPECT_FALSE(s.remove("nobody"));
  }
  {
    FeedService s(db, std::nullopt, fast());
    EXPECT_FALSE(s.get("a"));
    EXPECT_TRUE(s.get("b"));
    EXPECT_EQ(s.add({news("a", 9)})[0].status, AddOutcome::Status::kAdded);
  }
  FeedService s(db, std::nullopt, fast());
  EXPECT_EQ(s.counts().documents, 2u);
  EXPECT_EQ(s.title("a"), "report 2");  // the new version's
}

TEST(FeedService, TheSnapshotAndTheRowsRebuildTheSameEngine) {
  TempDir dir;
  const std::string db = dir.path("state.db");
  FeedParams relinking;  // with its relinks by count and when it closes
  relinking.thread_relink = 2;
  {
    FeedService s(db, relinking, fast());
    std::vector<Document> docs;
    for (unsigned i = 0; i < 60; ++i) docs.push_back(news("d" + std::to_string(i), i % 17));
    s.add(docs);
    s.remove("d3");
    s.add({news("d3", 99)});
  }
  const std::string copy = dir.path("copy.db");
  test::write_file(copy, test::read_file(db));  // the same state, without its snapshot
  std::vector<Document> next;
  for (unsigned i = 0; i < 20; ++i) next.push_back(news("n" + std::to_string(i), 200 + i % 5));
  FeedService from_snapshot(db, std::nullopt, fast());
  FeedService from_rows(copy, std::nullopt, fast());
  EXPECT_EQ(from_snapshot.replayed_rows(), 0u);
  EXPECT_EQ(from_rows.replayed_rows(), 63u);  // 61 adds, a removal and the closing relink
  EXPECT_EQ(from_rows.snapshot_problem(), "");
  const auto a = from_snapshot.add(next), b = from_rows.add(next);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].assignment.story, b[i].assignment.story);
    EXPECT_EQ(a[i].assignment.thread, b[i].assignment.thread);
    EXPECT_EQ(a[i].assignment.dup_group, b[i].assignment.dup_group);
    EXPECT_DOUBLE_EQ(a[i].assignment.story_similarity, b[i].assignment.story_similarity);
  }
  // Another state's snapshot beside a state is not used.
  const std::string other = dir.path("other.db");
  { FeedService s(other, relinking, fast()); }
  test::write_file(other + ".snapshot", test::read_file(db + ".snapshot"));
  FeedService s(other, std::nullopt, fast());
  EXPECT_NE(s.snapshot_problem().find("another state"), std::string::npos) << s.snapshot_problem();
  EXPECT_EQ(s.counts().documents, 0u);
}

// Boilerplate learnt midway through its sample comes back from the rows (which keep the shingles
// counted) as from the snapshot (which keeps the counts).
TEST(FeedService, BoilerplateLearntSoFarComesBackFromRowsAndSnapshot) {
  TempDir dir;
  const std::string db = dir.path("state.db");
  FeedParams params;
  params.boilerplate.sample = 40;
  params.boilerplate.min_documents = 8;
  const auto pages = [](unsigned from, unsigned to) {
    std::vector<Document> docs;
    for (unsigned i = from; i < to; ++i) {
      Document d = news("p" + std::to_string(i), 300 + i);
      d.text = (i % 2 ? "From the Evening Post newsroom, follow us for breaking news and share this story. "
                      : "Share this story on Facebook and on X, or send it by email to a friend today. ") +
               d.text + " Sign up for our morning briefing and get the top stories in your inbox every day.";
      docs.push_back(std::move(d));
    }
    return docs;
  };
  std::size_t learnt = 0;
  {
    FeedService s(db, params, fast());
    s.add(pages(0, 30));
    learnt = s.counts().boilerplate;
    EXPECT_GT(learnt, 20u);
    EXPECT_EQ(s.counts().boilerplate_counted, 30u);
  }
  const std::string copy = dir.path("copy.db");
  test::write_file(copy, test::read_file(db));
  FeedService from_snapshot(db, std::nullopt, fast());
  FeedService from_rows(copy, std::nullopt, fast());
  EXPECT_EQ(from_rows.replayed_rows(), 30u);
  EXPECT_EQ(from_snapshot.counts().boilerplate, learnt);
  EXPECT_EQ(from_rows.counts().boilerplate, learnt);
  from_snapshot.add(pages(30, 50));
  from_rows.add(pages(30, 50));
  EXPECT_EQ(from_rows.counts().boilerplate, from_snapshot.counts().boilerplate);
  EXPECT_EQ(from_rows.counts().boilerplate_counted, 40u);
}

// The stored parameters round-trip, and a state's text from before titles, the first block and the
// learnt boilerplate (containment only) reads back with all three off: its fingerprints keep their
// layout of 128 + 16 + 1 words; from before thread centroids of their own size, with 128 terms; and
// from before merging, relinking and counts per language, without them.
TEST(FeedService, StoredParametersKeepAnOlderStatesRule) {
  const FeedParams now;
  const std::string text = detail::params_text(now);
  EXPECT_EQ(detail::params_text(detail::parse_params_text(text)), text);
  EXPECT_EQ(FingerprintScheme(detail::parse_params_text(text).dedup).words(), 128u + kLeadHashes + 3);
  std::string older;
  for (std::size_t at = 0, nl; at < text.size(); at = nl + 1) {
    nl = text.find('\n', at);
    const std::string line = text.substr(at, nl - at);
    if (line.rfind("dedup.min_titled", 0) != 0 && line.rfind("dedup.first_block", 0) != 0 &&
        line.rfind("boilerplate.", 0) != 0 && line.rfind("thread_centroid_terms", 0) != 0 &&
        line.rfind("thread_merge_threshold", 0) != 0 && line.rfind("idf_by_language", 0) != 0)
      older += line + "\n";
  }
  const FeedParams old = detail::parse_params_text(older);
  EXPECT_EQ(old.dedup.min_titled_shingles, 0u);
  EXPECT_EQ(old.dedup.first_block_share, 0.0);
  EXPECT_EQ(old.boilerplate.df, 0.0);
  EXPECT_DOUBLE_EQ(old.dedup.containment, now.dedup.containment);
  EXPECT_EQ(FingerprintScheme(old.dedup).words(), 128u + kLeadHashes + 1);
  // Threads of as many terms as stories, as before; the text reads back as it was.
  EXPECT_NE(now.thread_centroid_terms, now.centroid_terms);
  EXPECT_EQ(old.thread_centroid_terms, old.centroid_terms);
  EXPECT_EQ(detail::params_text(old), older);
  // Merging and relinking: off in a state from before them; relinking by count unless the state says
  // otherwise.
  EXPECT_GT(now.thread_merge_threshold, 0.0f);
  EXPECT_FLOAT_EQ(detail::parse_params_text(text).thread_merge_threshold, now.thread_merge_threshold);
  EXPECT_EQ(old.thread_merge_threshold, 0.0f);
  EXPECT_EQ(old.thread_relink, 0u);
  // Document frequencies: per language in a new state, one count in a state from before.
  EXPECT_TRUE(now.idf_by_language);
  EXPECT_TRUE(detail::parse_params_text(text).idf_by_language);
  EXPECT_FALSE(old.idf_by_language);
  FeedParams relinking;
  relinking.thread_relink = 2;
  EXPECT_TRUE(detail::parse_params_text(detail::params_text(relinking)).thread_relink_by_count);
  relinking.thread_relink_by_count = false;
  const FeedParams quiet_only = detail::parse_params_text(detail::params_text(relinking));
  EXPECT_EQ(quiet_only.thread_relink, 2u);
  EXPECT_FALSE(quiet_only.thread_relink_by_count);
}

TEST(FeedService, ACleanStopRewritesTheSnapshotOnlyWhenItIsBehind) {
  TempDir dir;
  const std::string db = dir.path("state.db"), snapshot = db + ".snapshot";
  const auto inode = [&] {
    struct stat st {};
    EXPECT_EQ(::stat(snapshot.c_str(), &st), 0);
    return st.st_ino;
  };
  {
    FeedService s(db, FeedParams{}, fast());
    for (unsigned i = 0; i < 5; ++i) s.add({news("d" + std::to_string(i), i)});
  }
  const auto written = inode();
  { FeedService s(db, std::nullopt, fast()); }  // nothing new: the snapshot on disk is current
  EXPECT_EQ(inode(), written);
  {
    FeedService s(db, std::nullopt, fast());
    EXPECT_EQ(s.replayed_rows(), 0u);
    s.add({news("d5", 5)});
  }
  EXPECT_NE(inode(), written);  // written anew (to a temporary file, then renamed over)
  FeedService s(db, std::nullopt, fast());
  EXPECT_EQ(s.replayed_rows(), 0u);
  EXPECT_EQ(s.counts().documents, 6u);
}

TEST(FeedService, ACleanStopLeavesACurrentSnapshotWhileBackgroundWritersRun) {
  // A snapshot after every commit: the stop usually finds a writer under way, which ends with the
  // committer thread; what it would have covered must still be written by the stop itself.
  TempDir dir;
  const std::string db = dir.path("state.db");
  FeedServiceOptions options = fast();
  options.snapshot_every = 1;
  for (unsigned round = 0; round < 3; ++round) {
    {
      FeedService s(db, FeedParams{}, options);
      for (unsigned i = 0; i < 20; ++i)
        s.add({news("r" + std::to_string(round) + "d" + std::to_string(i), i)});
    }
    FeedService reopened(db, std::nullopt, fast());
    EXPECT_EQ(reopened.replayed_rows(), 0u) << "round " << round;
    EXPECT_EQ(reopened.counts().documents, 20u * (round + 1));
  }
}

TEST(FeedService, BackgroundSnapshotsBoundTheReplayAfterACrash) {
  TempDir dir;
  const std::string db = dir.path("state.db");
  FeedServiceOptions options = fast();
  options.snapshot_every = 10;
  FeedService s(db, FeedParams{}, options);
  std::vector<Assignment> added;
  for (unsigned i = 0; i < 25; ++i)
    added.push_back(s.add({news("d" + std::to_string(i), i % 9)})[0].assignment);
  // A forked child writes the snapshot (to a temporary name, renamed when complete): poll for it, up to
  // 10 s. Nothing else writes meanwhile, so what is copied below is what a crash would leave.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (::access((db + ".snapshot").c_str(), F_OK) != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(::access((db + ".snapshot").c_str(), F_OK), 0) << "no background snapshot within 10 s";
  // What a crash now would leave: the database, its WAL and the snapshot, copied while idle.
  const std::string crash = dir.path("crash.db");
  for (const char* suffix : {"", "-wal", ".snapshot"}) {
    if (::access((db + suffix).c_str(), F_OK) == 0)
      test::write_file(crash + suffix, test::read_file(db + suffix));
  }
  FeedService restarted(crash, std::nullopt, fast());
  EXPECT_EQ(restarted.snapshot_problem(), "");
  EXPECT_EQ(restarted.replayed(), 25u);
  EXPECT_LT(restarted.replayed_rows(), 25u);
  for (const Assignment& a : added) {
    const auto got = restarted.get(a.id);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->assignment.story, a.story);
    EXPECT_EQ(got->assignment.thread, a.thread);
  }
}

TEST(FeedService, RemovalsAndBackgroundSnapshotsDoNotWaitForEachOther) {
  TempDir dir;
  FeedServiceOptions options = fast();
  options.snapshot_every = 1;  // try a snapshot after every commit
  FeedService s(dir.path("state.db"), FeedParams{}, options);
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (unsigned i = 0; i < 20; ++i) {
        const std::string id = "r" + std::to_string(t) + "-" + std::to_string(i);
        s.add({news(id, 3000 + t * 20 + i)});
        if (i % 2 == 0) {
          EXPECT_TRUE(s.remove(id));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(s.counts().documents, 40u);
}

TEST(FeedService, AStateKeepsItsParameters) {
  TempDir dir;
  const std::string db = dir.path("state.db");
  FeedParams p;
  p.story_threshold = 0.5f;
  p.window_days = 7;
  { FeedService s(db, p, fast()); }
  FeedService s(db, FeedParams{}, fast());
  EXPECT_FLOAT_EQ(s.params().story_threshold, 0.5f);
  EXPECT_EQ(s.params().window_days, 7);
  EXPECT_THROW(FeedService(dir.path("missing.db"), std::nullopt, fast()), InvalidArgument);
}

TEST(FeedService, ManyThreadsAddAtOnce) {
  TempDir dir;
  const std::string db = dir.path("state.db");
  constexpr unsigned kThreads = 8, kEach = 25;
  std::vector<std::vector<Assignment>> seen(kThreads);
  {
    FeedService s(db, as_answered(), fast());
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (unsigned i = 0; i < kEach; ++i) {
          const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
          seen[t].push_back(s.add({news(id, 1000 + t * kEach + i)})[0].assignment);
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(s.counts().documents, kThreads * kEach);
  }
  FeedService s(db, std::nullopt, fast());
  EXPECT_EQ(s.replayed(), kThreads * kEach);
  for (const auto& list : seen) {
    for (const Assignment& a : list) {
      const auto got = s.get(a.id);
      ASSERT_TRUE(got);
      EXPECT_EQ(got->assignment.story, a.story);
      EXPECT_EQ(got->assignment.thread, a.thread);
    }
  }
}

// Opening must fail with CorruptIndex and leave the file as it was, with no WAL files beside it.
void expect_refused(const std::string& path) {
  const std::string bytes = test::read_file(path);
  try {
    FeedService s(path, FeedParams{}, fast());
    ADD_FAILURE() << "opened " << path;
  } catch (const CorruptIndex& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_EQ(test::read_file(path), bytes);
  EXPECT_NE(::access((path + "-wal").c_str(), F_OK), 0);
}

TEST(FeedService, AFileThatIsNotAStateIsRefusedAndLeftAlone) {
  TempDir dir;
  const std::string garbage = dir.path("garbage.db");
  std::string bytes;
  for (int i = 0; i < 8192; ++i) bytes.push_back(static_cast<char>((i * 7919) & 0xFF));
  test::write_file(garbage, bytes);
  expect_refused(garbage);

  const std::string text = dir.path("notes.txt");
  test::write_file(text, "{\"id\": 1, \"text\": \"a JSONL file given by mistake\"}\n");
  expect_refused(text);

  // Another application's SQLite database.
  const std::string foreign = dir.path("foreign.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(foreign.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES(1);", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  expect_refused(foreign);
}

TEST(FeedService, ADamagedStateIsRefused) {
  TempDir dir;
  const std::string db = dir.path("state.db");
  {
    FeedService s(db, FeedParams{}, fast());
    std::vector<Document> docs;
    for (unsigned i = 0; i < 200; ++i) docs.push_back(news("d" + std::to_string(i), i));
    s.add(docs);
  }
  // Closed cleanly: the WAL is checkpointed into the file. Cut it in half.
  std::string bytes = test::read_file(db);
  ASSERT_GT(bytes.size(), 8192u);
  bytes.resize(bytes.size() / 2);
  test::write_file(db, bytes);
  expect_refused(db);
}

}  // namespace
}  // namespace storyline
