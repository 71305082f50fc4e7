// The incremental engine: copies, stories, threads, windows, lookup, removal and replay.
#include "storyline/feed.hpp"

#include <gtest/gtest.h>

#include <set>

#include "storyline/error.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

Document doc(std::string id, std::string title, std::string text, const char* date = "") {
  Document d;
  d.id = std::move(id);
  d.title = std::move(title);
  d.text = std::move(text);
  if (*date) d.date = *parse_date(date);
  return d;
}

// Three events: two reports of a flood, two of an election, one of a transfer, plus a copy.
std::vector<Document> corpus() {
  return {
      doc("flood-1", "Floods hit Valencia",
          "Heavy rain flooded Valencia on Tuesday, cutting roads and rail lines "
          "across the region as rescuers searched for missing residents in Paiporta.",
          "2024-10-30"),
      doc("vote-1", "Ghana votes for president",
          "Voters in Ghana queued to elect a president as John Mahama "
          "faced Mahamudu Bawumia in a race dominated by the economy and inflation.",
          "2024-10-30"),
      doc("flood-2", "Valencia floods: rescuers search",
          "Rescuers in Valencia searched flooded homes in Paiporta "
          "after heavy rain cut roads and rail lines; residents are still missing.",
          "2024-10-31"),
      doc("vote-2", "Mahama wins Ghana election",
          "John Mahama won the Ghana presidential election, defeating "
          "Mahamudu Bawumia after a campaign about the economy and inflation.",
          "2024-10-31"),
      doc("flood-1-copy", "Floods hit Valencia",
          "Heavy rain flooded Valencia on Tuesday, cutting roads and rail "
          "lines across the region as rescuers searched for missing residents in Paiporta today.",
          "2024-10-31"),
      doc("transfer", "Striker joins Napoli",
          "The Nigerian striker signed a five year contract with Napoli, the "
          "club said, after a medical in Rome.",
          "2024-10-31"),
  };
}

std::vector<FeedRecord> feed_all(FeedEngine& e, const std::vector<Document>& docs) {
  std::vector<FeedRecord> out;
  for (const Document& d : docs) out.push_back(e.add(e.prepare(d)));
  return out;
}

// Replays a whole history in one chunk.
void replay_all(FeedEngine& e, const std::vector<FeedEngine::ReplayOp>& history) {
  bool given = false;
  e.replay([&](std::vector<FeedEngine::ReplayOp>& chunk) {
    if (given) return false;
    chunk = history;
    given = true;
    return true;
  });
}

// A feed's engine rebuilt from its records two ways: one record at a time, and from a snapshot taken
// after the first `split` records with the rest restored after it.
struct Rebuilt {
  FeedEngine replayed, loaded;
};
Rebuilt rebuild(const FeedParams& p, const std::vector<FeedRecord>& records, std::size_t split) {
  FeedEngine replayed{p};
  for (const FeedRecord& r : records) replayed.restore(r);
  test::TempDir dir;
  FeedEngine half{p};
  for (std::size_t i = 0; i < split; ++i) half.restore(records[i]);
  half.save_snapshot(dir.path("snap"), {1, split, 0});
  FeedEngine loaded{p};
  loaded.load_snapshot(dir.path("snap"));
  for (std::size_t i = split; i < records.size(); ++i) loaded.restore(records[i]);
  return {std::move(replayed), std::move(loaded)};
}

TEST(Feed, CopiesJoinTheirOriginalAndReportsOfOneEventShareAStory) {
  FeedEngine e{FeedParams{}};
  const auto r = feed_all(e, corpus());
  const Assignment &flood1 = r[0].assignment, &vote1 = r[1].assignment, &flood2 = r[2].assignment,
                   &vote2 = r[3].assignment, &copy = r[4].assignment, &transfer = r[5].assignment;
  EXPECT_TRUE(flood1.new_story);
  EXPECT_TRUE(flood1.new_thread);
  EXPECT_EQ(flood2.story, flood1.story);
  EXPECT_FALSE(flood2.new_story);
  EXPECT_EQ(vote2.story, vote1.story);
  EXPECT_NE(vote1.story, flood1.story);
  EXPECT_NE(transfer.story, flood1.story);
  EXPECT_NE(transfer.story, vote1.story);
  EXPECT_EQ(copy.dup_of, "flood-1");
  EXPECT_EQ(copy.dup_group, "flood-1");
  EXPECT_GT(copy.dup_similarity, 0.45);
  EXPECT_EQ(copy.story, flood1.story);
  EXPECT_EQ(flood2.dup_of, "");
  EXPECT_EQ(flood2.dup_group, "flood-2");
  EXPECT_EQ(e.documents(), 6u);
  EXPECT_EQ(e.duplicates(), 1u);
  EXPECT_EQ(e.stories(), 3u);
  // Story numbers count from 1 in order of creation.
  EXPECT_EQ(flood1.story, 1u);
  EXPECT_EQ(vote1.story, 2u);
  EXPECT_EQ(transfer.story, 3u);
}

TEST(Feed, TheTimeWindowSeparatesTheSameWordsMonthsApart) {
  FeedEngine e{FeedParams{}};
  const auto a = e.add(e.prepare(corpus()[0]));
  Document later = corpus()[2];
  later.date = *parse_date("2025-03-01");
  const auto b = e.add(e.prepare(later));
  EXPECT_NE(a.assignment.story, b.assignment.story);
  // Same thread: the storyline is the same.
  EXPECT_EQ(a.assignment.thread, b.assignment.thread);
  // An undated document matches stories of any date (here both are alike; either may take it).
  Document undated = corpus()[2];
  undated.id = "undated";
  undated.date = kNoDate;
  const std::uint32_t story = e.add(e.prepare(undated)).assignment.story;
  EXPECT_TRUE(story == a.assignment.story || story == b.assignment.story) << story;
  EXPECT_EQ(e.stories(), 2u);
}

TEST(Feed, LookupAddsNothing) {
  FeedEngine e{FeedParams{}};
  const auto docs = corpus();
  e.add(e.prepare(docs[0]));
  const Assignment looked = e.lookup(e.prepare(docs[2]));
  EXPECT_EQ(looked.story, 1u);
  EXPECT_EQ(e.documents(), 1u);
  const Assignment fresh = e.lookup(e.prepare(docs[5]));
  EXPECT_TRUE(fresh.new_story);
  EXPECT_EQ(fresh.story, 0u);
  EXPECT_EQ(e.stories(), 1u);
  EXPECT_EQ(e.add(e.prepare(docs[2])).assignment.story, looked.story);
}

TEST(Feed, AddingAPresentIdThrows) {
  FeedEngine e{FeedParams{}};
  e.add(e.prepare(corpus()[0]));
  EXPECT_THROW(e.add(e.prepare(corpus()[0])), InvalidArgument);
}

TEST(Feed, RemovedDocumentsLeaveTheIndexAndTheCentroid) {
  FeedEngine e{FeedParams{}};
  const auto docs = corpus();
  const FeedRecord added = e.add(e.prepare(docs[0]));
  EXPECT_TRUE(e.remove("flood-1", added.vector));
  EXPECT_FALSE(e.remove("flood-1", added.vector));
  EXPECT_FALSE(e.find("flood-1"));
  // The copy no longer finds its original, and the story is empty so a new one opens.
  const auto copy = e.add(e.prepare(docs[4]));
  EXPECT_EQ(copy.assignment.dup_of, "");
  EXPECT_NE(copy.assignment.story, 1u);
  EXPECT_EQ(e.story(1)->size, 0u);
  // The id may be used again.
  EXPECT_NO_THROW(e.add(e.prepare(docs[0])));
}

TEST(Feed, ReplayRebuildsTheSameEngine) {
  const auto docs = corpus();
  FeedEngine a{FeedParams{}};
  auto records = feed_all(a, {docs.begin(), docs.end() - 1});
  FeedEngine b{FeedParams{}};
  for (const FeedRecord& r : records) b.restore(r);
  for (const Document& d : docs) {
    if (const auto found = a.find(d.id)) {
      const auto other = b.find(d.id);
      ASSERT_TRUE(other);
      EXPECT_EQ(other->first.story, found->first.story);
      EXPECT_EQ(other->first.thread, found->first.thread);
      EXPECT_EQ(other->first.dup_group, found->first.dup_group);
      EXPECT_EQ(other->second, found->second);
    }
  }
  // The next document lands in the same place in both.
  const Assignment next_a = a.add(a.prepare(docs.back())).assignment;
  const Assignment next_b = b.add(b.prepare(docs.back())).assignment;
  EXPECT_EQ(next_a.story, next_b.story);
  EXPECT_EQ(next_a.thread, next_b.thread);
  EXPECT_DOUBLE_EQ(next_a.story_similarity, next_b.story_similarity);
  EXPECT_EQ(a.story(1)->top_terms, b.story(1)->top_terms);
}

TEST(Feed, TheBatchReplayEqualsOneByOne) {
  const auto docs = corpus();
  FeedEngine a{FeedParams{}};
  auto records = feed_all(a, docs);
  a.remove("vote-1", records[1].vector);
  std::vector<FeedEngine::ReplayOp> ops;
  for (const FeedRecord& r : records) ops.push_back({r, false});
  ops.push_back({records[1], true});
  FeedEngine b{FeedParams{}};
  replay_all(b, ops);
  EXPECT_EQ(b.documents(), a.documents());
  EXPECT_FALSE(b.find("vote-1"));
  for (std::uint32_t s = 1; s <= a.stories(); ++s) {
    EXPECT_EQ(a.story(s)->size, b.story(s)->size);
    EXPECT_EQ(a.story(s)->top_terms, b.story(s)->top_terms);
  }
  const Document next = doc("vote-3", "Ghana: Mahama sworn in",
                            "John Mahama was sworn in as president of Ghana after "
                            "winning the election against Mahamudu Bawumia.",
                            "2024-11-01");
  const Assignment x = a.add(a.prepare(next)).assignment, y = b.add(b.prepare(next)).assignment;
  EXPECT_EQ(x.story, y.story);
  EXPECT_DOUBLE_EQ(x.story_similarity, y.story_similarity);
}

TEST(Feed, ASnapshotRestoresTheEngine) {
  test::TempDir dir;
  const auto docs = corpus();
  FeedEngine a{FeedParams{}};
  auto records = feed_all(a, {docs.begin(), docs.end() - 1});
  a.remove("vote-1", records[1].vector);
  a.save_snapshot(dir.path("snap"), {7, 5, 1});
  FeedEngine b{FeedParams{}};
  const auto mark = b.load_snapshot(dir.path("snap"));
  EXPECT_EQ(mark.state_id, 7u);
  EXPECT_EQ(mark.documents, 5u);
  EXPECT_EQ(mark.removals, 1u);
  EXPECT_EQ(b.documents(), a.documents());
  EXPECT_EQ(b.duplicates(), a.duplicates());
  EXPECT_EQ(b.find("flood-1-copy")->first.dup_group, "flood-1");
  EXPECT_EQ(b.story(1)->top_entities, a.story(1)->top_entities);
  const Assignment x = a.add(a.prepare(docs.back())).assignment, y = b.add(b.prepare(docs.back())).assignment;
  EXPECT_EQ(x.story, y.story);
  EXPECT_EQ(x.thread, y.thread);
  // Other parameters, a damaged file: refused.
  FeedParams other;
  other.story_threshold = 0.9f;
  FeedEngine c{other};
  EXPECT_THROW(c.load_snapshot(dir.path("snap")), CorruptIndex);
  std::string bytes = test::read_file(dir.path("snap"));
  bytes[bytes.size() / 2] ^= 0x40;
  test::write_file(dir.path("snap"), bytes);
  FeedEngine d{FeedParams{}};
  EXPECT_THROW(d.load_snapshot(dir.path("snap")), CorruptIndex);
}

TEST(Feed, ReplayRefusesRecordsOutOfOrder) {
  FeedEngine a{FeedParams{}};
  auto records = feed_all(a, corpus());
  FeedEngine b{FeedParams{}};
  EXPECT_THROW(b.restore(records[1]), InvalidArgument);  // names story 2 before story 1 exists
}

TEST(Feed, SummariesNameTermsEntitiesAndDates) {
  FeedEngine e{FeedParams{}};
  feed_all(e, corpus());
  const auto story = e.story(1);
  ASSERT_TRUE(story);
  EXPECT_EQ(story->representative, "flood-1");
  EXPECT_EQ(story->size, 3u);
  EXPECT_EQ(format_date(story->first), "2024-10-30");
  EXPECT_EQ(format_date(story->last), "2024-10-31");
  EXPECT_NE(std::find(story->top_entities.begin(), story->top_entities.end(), "Valencia"),
            story->top_entities.end());
  EXPECT_FALSE(story->top_terms.empty());
  const auto thread = e.thread(story->thread);
  ASSERT_TRUE(thread);
  EXPECT_NE(std::find(thread->stories.begin(), thread->stories.end(), 1u), thread->stories.end());
  EXPECT_FALSE(e.story(99));
  EXPECT_FALSE(e.thread(0));
  const auto recent = e.stories_since(*parse_date("2024-10-31"), 10);
  ASSERT_EQ(recent.size(), 3u);
  EXPECT_TRUE(e.stories_since(*parse_date("2025-01-01"), 10).empty());
}

TEST(Feed, EveryLanguageAndScriptGetsAStory) {
  FeedEngine e{FeedParams{}};
  const std::vector<Document> docs = {
      doc("de-1", "Hochwasser in Bayern",
          "Das Hochwasser in Bayern zwang tausende Menschen in Passau und Regensburg, ihre Häuser zu "
          "verlassen.",
          "2024-06-02"),
      doc("de-2", "Bayern: Hochwasser steigt",
          "In Passau und Regensburg stieg das Hochwasser weiter, tausende Menschen verließen ihre Häuser.",
          "2024-06-03"),
      doc("ja-1", "東京で地震", "東京で強い地震があり、電車が止まりました。", "2024-06-02"),
  };
  const auto r = feed_all(e, docs);
  EXPECT_EQ(r[0].assignment.story, r[1].assignment.story);
  EXPECT_NE(r[2].assignment.story, r[0].assignment.story);
}

// Two sites' page furniture, for boilerplate learnt as documents arrive.
const char* const kFrames[2][2] = {
    {"Share this story on Facebook and on X, or send it by email to a friend today.",
     "Sign up for our morning briefing and get the top stories delivered to your inbox every day."},
    {"From the Evening Post newsroom. Follow us for breaking news and share this story with your friends.",
     "Copyright The Evening Post. All rights reserved. This material may not be published or "
     "redistributed."}};

std::string framed(int site, const std::string& text) {
  return std::string(kFrames[site][0]) + " " + text + " " + kFrames[site][1];
}

std::string first_words(const std::string& text, int words) {
  std::size_t at = 0;
  for (int w = 0; w < words && at != std::string::npos; ++w) at = text.find(' ', at + 1);
  return text.substr(0, at);
}

// 40 pages of unrelated texts, 20 in each site's frame.
std::vector<FeedRecord> feed_framed_pages(FeedEngine& e, int from, int to) {
  std::vector<FeedRecord> out;
  for (int i = from; i < to; ++i)
    out.push_back(e.add(
        e.prepare(doc("page" + std::to_string(i), "", framed(i % 2, test::random_text(100 + i, 120))))));
  return out;
}

FeedParams learning_params() {
  FeedParams p;
  p.boilerplate.sample = 40;
  p.boilerplate.min_documents = 8;
  return p;
}

TEST(Feed, BoilerplateIsLearntAsDocumentsArriveAndLeftOut) {
  // A teaser (its article's first 60 words) in another site's frame: 56 shingles of text among about
  // 33 of furniture, 63% contained in the article with the furniture, all without it.
  const std::string article = test::random_text(5, 300);
  const Document page = doc("article", "", framed(0, article));
  const Document teaser = doc("teaser", "", framed(1, first_words(article, 60)));
  for (const bool learn : {false, true}) {
    FeedParams p = learning_params();
    if (!learn) p.boilerplate.df = 0.0;
    FeedEngine e{p};
    const auto pages = feed_framed_pages(e, 0, 40);
    EXPECT_EQ(e.duplicates(), 0u) << "pages that share only furniture";
    EXPECT_EQ(e.boilerplate_counted(), learn ? 40u : 0u);
    if (learn) {
      EXPECT_GE(e.boilerplate(), 40u) << "both frames' shingles";
      EXPECT_FALSE(pages[0].shingles.empty()) << "a record counted carries its shingles, for replay";
    }
    e.add(e.prepare(page));
    const FeedRecord r = e.add(e.prepare(teaser));
    EXPECT_TRUE(r.shingles.empty()) << "past the sample, records carry no shingles";
    EXPECT_EQ(r.assignment.dup_of, learn ? "article" : "") << learn;
  }
}

TEST(Feed, LearntBoilerplateSurvivesReplayAndSnapshotMidway) {
  test::TempDir dir;
  FeedEngine a{learning_params()};
  const auto records = feed_framed_pages(a, 0, 40);
  // Replayed record by record.
  FeedEngine b{learning_params()};
  for (const FeedRecord& r : records) b.restore(r);
  EXPECT_EQ(b.boilerplate(), a.boilerplate());
  EXPECT_EQ(b.boilerplate_counted(), 40u);
  // A snapshot halfway through the sample, then the rest added: the same filter as without the stop.
  FeedEngine c{learning_params()};
  feed_framed_pages(c, 0, 25);
  c.save_snapshot(dir.path("snap"), {1, 25, 0});
  FeedEngine d{learning_params()};
  d.load_snapshot(dir.path("snap"));
  EXPECT_EQ(d.boilerplate_counted(), 25u);
  feed_framed_pages(d, 25, 40);
  EXPECT_EQ(d.boilerplate(), a.boilerplate());
  // And they all sign the next document alike.
  const Document next = doc("next", "", framed(1, test::random_text(999, 80)));
  const auto fa = a.add(a.prepare(next)).fingerprint;
  EXPECT_EQ(b.add(b.prepare(next)).fingerprint, fa);
  EXPECT_EQ(d.add(d.prepare(next)).fingerprint, fa);
}

// prepare() may run ahead on other threads with an older filter; add() signs such a document again, so
// the engine ends the same whether each document is prepared just before its add or all at once first.
TEST(Feed, DocumentsPreparedAheadOfANewerFilterAreSignedAgain) {
  std::vector<Document> docs;
  for (int i = 0; i < 40; ++i)
    docs.push_back(doc("page" + std::to_string(i), "", framed(i % 2, test::random_text(100 + i, 120))));
  const std::string article = test::random_text(5, 300);
  docs.push_back(doc("article", "", framed(0, article)));
  docs.push_back(doc("teaser", "", framed(1, first_words(article, 60))));
  FeedEngine one{learning_params()}, ahead{learning_params()};
  std::vector<FeedRecord> a, b;
  for (const Document& d : docs) a.push_back(one.add(one.prepare(d)));
  std::vector<PreparedDocument> prepared;
  for (const Document& d : docs) prepared.push_back(ahead.prepare(d));  // all with the empty filter
  for (PreparedDocument& p : prepared) b.push_back(ahead.add(std::move(p)));
  for (std::size_t i = 0; i < docs.size(); ++i) {
    EXPECT_EQ(a[i].fingerprint, b[i].fingerprint) << docs[i].id;
    EXPECT_EQ(a[i].assignment.dup_of, b[i].assignment.dup_of) << docs[i].id;
  }
  EXPECT_EQ(b.back().assignment.dup_of, "article");
}

TEST(Feed, InvalidParametersAreRefused) {
  FeedParams p;
  p.story_threshold = 0.0f;
  EXPECT_THROW(FeedEngine{p}, InvalidArgument);
  p = FeedParams{};
  p.rerank = 0;
  EXPECT_THROW(FeedEngine{p}, InvalidArgument);
  p = FeedParams{};
  p.thread_relink_threshold = 0.0f;
  EXPECT_THROW(FeedEngine{p}, InvalidArgument);
  p = FeedParams{};
  p.thread_merge_threshold = 1.5f;
  EXPECT_THROW(FeedEngine{p}, InvalidArgument);
}

// Two storylines of sixteen stories each, a month apart (so each report is a story of its own): the
// Valencia floods' aftermath and Ghana's election and government. Each story has its own words; the
// storyline's names and a few of its words recur.
std::vector<Document> storylines() {
  const char* valencia[] = {"bridges",  "insurance", "mud",      "schools", "volunteers", "railway",
                            "farmers",  "inquiry",   "funerals", "cars",    "levees",     "budget",
                            "orchards", "tunnels",   "pensions", "drains"};
  const char* ghana[] = {"ballots", "parliament", "cedi",      "cocoa", "inflation", "cabinet",
                         "gold",    "debt",       "teachers",  "fuel",  "courts",    "IMF",
                         "mining",  "roads",      "hospitals", "power"};
  std::vector<Document> out;
  for (int i = 0; i < 16; ++i) {
    const int m = i % 12 + 1;
    const std::string month =
        (i < 12 ? "2025-" : "2026-") + std::string(m < 10 ? "0" : "") + std::to_string(m);
    // Three words of the story's own, in sentences of their own: no two reports are copies.
    const auto own = [&](const char* const* words, int k) { return std::string(words[(i + 5 * k) % 16]); };
    out.push_back(doc("valencia-" + std::to_string(i), "Valencia flood aftermath: " + own(valencia, 0),
                      "The " + own(valencia, 0) + " of Valencia are the talk of the recovery this month. " +
                          "Carlos Mazon promised Paiporta help with " + own(valencia, 1) + " and " +
                          own(valencia, 2) + ". Residents of Paiporta said the " + own(valencia, 1) +
                          " came too late; in Valencia the flood still shapes the " + own(valencia, 2) + ".",
                      (month + "-05").c_str()));
    out.push_back(doc("ghana-" + std::to_string(i), "Ghana under Mahama: " + own(ghana, 0),
                      "John Mahama faced questions in Accra on " + own(ghana, 0) + " this month. " +
                          "Mahamudu Bawumia said the " + own(ghana, 1) + " and the " + own(ghana, 2) +
                          " show the Mahama government failing Ghana. Ministers in Accra defended the " +
                          own(ghana, 1) + " record of Ghana.",
                      (month + "-20").c_str()));
  }
  return out;
}

// Relinking: a feed whose online rule opens a thread for every story (a bar no story reaches) ends
// with one thread per storyline once it relinks, the same after a replay and after a snapshot.
TEST(Feed, RelinkingJoinsTheStoriesOfOneStorylineAndReplaysTheSame) {
  const auto docs = storylines();
  FeedParams online;
  online.thread_threshold = 1.0f;
  online.thread_language_threshold = 0.0f;
  online.thread_relink = 0;
  online.dedup.containment = 0.0;  // the reports share their storyline's sentences: no copies here
  online.dedup.threshold = 0.95;
  FeedParams relinking = online;
  relinking.thread_relink = 8;  // every 16 stories at this size: at 16 and at 32
  FeedEngine without{online}, with{relinking};
  feed_all(without, docs);
  const auto records = feed_all(with, docs);
  ASSERT_EQ(with.stories(), 32u);
  const auto thread_of = [](const FeedEngine& e, const std::string& id) { return e.find(id)->first.thread; };
  std::set<std::uint32_t> apart;
  for (const Document& d : docs) apart.insert(thread_of(without, d.id));
  EXPECT_EQ(apart.size(), 32u);  // without relinking: a thread per story
  for (int i = 1; i < 16; ++i) {
    EXPECT_EQ(thread_of(with, "valencia-" + std::to_string(i)), thread_of(with, "valencia-0")) << i;
    EXPECT_EQ(thread_of(with, "ghana-" + std::to_string(i)), thread_of(with, "ghana-0")) << i;
  }
  EXPECT_NE(thread_of(with, "valencia-0"), thread_of(with, "ghana-0"));
  const auto joined = with.thread(thread_of(with, "ghana-0"));
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->size, 16u);
  EXPECT_EQ(joined->documents, 16u);
  // Documents answered before a relink keep their answer: the first story's record says its own thread.
  EXPECT_EQ(records[0].assignment.thread, 1u);

  // A replay, one by one and from the first half's snapshot, relinks where the feed did.
  const auto [replayed, loaded] = rebuild(relinking, records, 17);
  for (const Document& d : docs) {
    EXPECT_EQ(thread_of(replayed, d.id), thread_of(with, d.id)) << d.id;
    EXPECT_EQ(thread_of(loaded, d.id), thread_of(with, d.id)) << d.id;
  }
  EXPECT_EQ(replayed.threads(), with.threads());
  EXPECT_EQ(loaded.thread(thread_of(with, "valencia-0"))->top_terms,
            with.thread(thread_of(with, "valencia-0"))->top_terms);
}

// Merging: a report the online rule cannot place (it shares no word with the Valencia thread) opens a
// thread; the next reports join the first thread, which grows like the second until the two are one.
// The answers given stay; lookups and the thread summaries see one thread; a replay, one by one and
// from a snapshot midway, merges where the feed did. Without merging the two stay apart.
TEST(Feed, AThreadThatGrowsLikeAnotherTakesItInAndReplaysTheSame) {
  const std::vector<Document> docs = {
      doc("a", "Valencia floods: Carlos Mazon visits Paiporta",
          "Carlos Mazon visited Paiporta, where the flood in Valencia killed dozens. Mazon promised Paiporta "
          "and Valencia help.",
          "2025-01-05"),
      doc("b", "Volunteers clear mud from garages",
          "Volunteers cleared mud from garages and tunnels while insurance claims piled up. The volunteers "
          "said the mud and the claims keep growing.",
          "2025-02-05"),
      doc("c", "Valencia volunteers clear mud from garages",
          "In Valencia and Paiporta volunteers cleared mud from garages and tunnels while insurance claims "
          "piled up; Carlos Mazon said the claims for the mud will be paid.",
          "2025-03-05"),
      doc("d", "Paiporta volunteers: mud, garages and claims",
          "Volunteers in Paiporta cleared mud from garages and tunnels; insurance claims piled up, and "
          "Carlos "
          "Mazon visited Valencia and Paiporta.",
          "2025-04-05"),
  };
  FeedParams merging;
  ASSERT_GT(merging.thread_merge_threshold, 0.0f);  // on by default
  FeedParams apart = merging;
  apart.thread_merge_threshold = 0.0f;
  FeedEngine with{merging}, without{apart};
  const auto records = feed_all(with, docs);
  const auto unmerged = feed_all(without, docs);
  const auto thread_of = [](const FeedEngine& e, const std::string& id) { return e.find(id)->first.thread; };
  // The answers at arrival are the same: "b" opened thread 2, the others went to thread 1.
  for (std::size_t i = 0; i < docs.size(); ++i) {
    EXPECT_EQ(records[i].assignment.thread, unmerged[i].assignment.thread) << docs[i].id;
    EXPECT_EQ(records[i].assignment.thread, docs[i].id == "b" ? 2u : 1u) << docs[i].id;
  }
  EXPECT_EQ(thread_of(without, "b"), 2u);
  EXPECT_EQ(without.thread(2)->documents, 1u);
  for (const Document& d : docs) EXPECT_EQ(thread_of(with, d.id), 1u) << d.id;
  EXPECT_EQ(with.thread(1)->documents, 4u);
  EXPECT_EQ(with.thread(1)->stories, (std::vector<std::uint32_t>{1, 2, 3, 4}));
  EXPECT_EQ(with.thread(2)->documents, 0u);  // the thread taken in stays, empty, and says where it went
  EXPECT_EQ(with.thread(2)->merged_into, 1u);
  EXPECT_EQ(with.thread(1)->merged_into, 0u);
  EXPECT_EQ(without.thread(2)->merged_into, 0u);
  // A later report of the storyline finds the merged thread.
  const Assignment next = with.lookup(
      with.prepare(doc("e", "Volunteers and insurance claims",
                       "Volunteers cleared mud from tunnels; insurance claims piled up.", "2025-05-05")));
  EXPECT_EQ(next.thread, 1u);

  const auto [replayed, loaded] = rebuild(merging, records, 2);
  for (const Document& d : docs) {
    EXPECT_EQ(thread_of(replayed, d.id), 1u) << d.id;
    EXPECT_EQ(thread_of(loaded, d.id), 1u) << d.id;
  }
  EXPECT_EQ(loaded.thread(1)->top_terms, with.thread(1)->top_terms);
  EXPECT_EQ(replayed.thread(2)->merged_into, 1u);
  EXPECT_EQ(loaded.thread(2)->merged_into, 1u);
  // A snapshot taken after the merge keeps where the thread went.
  const auto [unused, after] = rebuild(merging, records, records.size());
  EXPECT_EQ(after.thread(2)->documents, 0u);
  EXPECT_EQ(after.thread(2)->merged_into, 1u);
}

// Document frequencies per language (FeedParams::idf_by_language): in a feed of English and Spanish,
// a Spanish document's vector is the one it gets in a feed of the Spanish documents alone, so the
// English documents (which lack every Spanish word) do not make Spanish words weigh as rare, and the
// names both languages use (Saleh, Yemen) are counted in each apart. And a
// state rebuilt from its records or from a snapshot weighs the next document the same.
TEST(Feed, EachLanguageIsWeighedAsInAFeedOfItsOwn) {
  const char* subjects[] = {"el gobierno", "la policía", "el ejército", "la oposición", "el parlamento"};
  const char* places[] = {"Sana", "Adén", "Taiz", "Hodeida", "Marib", "Ibb"};
  std::vector<Document> spanish, english, mixed;
  for (int i = 0; i < 6; ++i) {
    spanish.push_back(doc("es" + std::to_string(i), "",
                          std::string("Según los testigos, ") + subjects[i % 5] + " de Yemen dijo que las " +
                              "protestas en " + places[i] + " continuarán durante la semana, y que los " +
                              "manifestantes piden la salida del presidente Saleh.",
                          "2011-03-01"));
  }
  const char* topics[] = {"the harvest", "the railway", "the bridge", "the school", "the port"};
  for (int i = 0; i < 10; ++i) {
    english.push_back(doc("en" + std::to_string(i), "",
                          std::string("Officials said on Tuesday that ") + topics[i % 5] + " in district " +
                              std::to_string(i) + " would reopen after the storm, and that the repairs " +
                              "were paid for by the county and by Saleh of Yemen.",
                          "2011-03-01"));
  }
  for (int i = 0; i < 10; ++i) {
    mixed.push_back(english[i]);
    if (i < 6) mixed.push_back(spanish[i]);
  }
  FeedParams p;
  p.dedup.containment = 0.0;
  p.dedup.threshold = 0.95;
  ASSERT_TRUE(p.idf_by_language);  // on by default
  FeedParams one_count = p;
  one_count.idf_by_language = false;
  FeedEngine alone{p}, together{p}, together_one_count{one_count};
  const auto alone_records = feed_all(alone, spanish);
  const auto records = feed_all(together, mixed);
  const auto one_count_records = feed_all(together_one_count, mixed);
  const auto spanish_vector = [&](const std::vector<FeedRecord>& rs, const std::string& id) {
    for (const FeedRecord& r : rs) {
      if (r.assignment.id == id) return r.vector;
    }
    return SparseVector{};
  };
  std::size_t differ = 0;
  for (const FeedRecord& r : alone_records) {
    ASSERT_EQ(r.language, Language::kSpanish) << r.assignment.id;
    ASSERT_FALSE(r.vector.empty());
    EXPECT_EQ(spanish_vector(records, r.assignment.id), r.vector) << r.assignment.id;
    differ += spanish_vector(one_count_records, r.assignment.id) != r.vector;
  }
  EXPECT_GE(differ, 5u);  // with one count, every Spanish document after the first English ones

  // The next Spanish report, added to the feed and to states rebuilt from its records.
  const Document next = doc("es-next", "",
                            "Según los testigos, el gobierno de Yemen dijo que las protestas en Sana "
                            "continuarán, y que los manifestantes piden la salida del presidente Saleh.",
                            "2011-03-02");
  auto [replayed, loaded] = rebuild(p, records, 7);
  const SparseVector expected = together.add(together.prepare(next)).vector;
  EXPECT_EQ(alone.add(alone.prepare(next)).vector, expected);
  EXPECT_EQ(replayed.add(replayed.prepare(next)).vector, expected);
  EXPECT_EQ(loaded.add(loaded.prepare(next)).vector, expected);
}

// A document too short for its language to be told counts in every language, and is weighed in the
// language most documents are in: a feed of one language, most of it headlines, is weighed as with
// one count for all.
TEST(Feed, DocumentsTooShortToTellTheirLanguageCountInEveryLanguage) {
  std::vector<Document> docs;
  const char* heads[] = {"Valencia flood toll rises", "Mazon visits Paiporta", "Rail link reopens",
                         "Flood insurance claims pile up", "Paiporta mud clean-up goes on"};
  for (int i = 0; i < 10; ++i) {
    docs.push_back(doc("h" + std::to_string(i), heads[i % 5], "", "2024-11-01"));
    if (i % 3 == 0) {
      docs.push_back(doc("a" + std::to_string(i), "",
                         "Officials said on Tuesday that the flood in Valencia would cost the region "
                         "more than it had feared, and that the insurance claims were still being "
                         "counted in Paiporta " +
                             std::to_string(i) + ".",
                         "2024-11-01"));
    }
  }
  FeedParams p;
  p.dedup.containment = 0.0;
  p.dedup.threshold = 0.95;
  FeedParams one_count = p;
  one_count.idf_by_language = false;
  FeedEngine by_language{p}, as_one{one_count};
  const auto records = feed_all(by_language, docs), one_count_records = feed_all(as_one, docs);
  std::size_t unknown = 0;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    ASSERT_NE(records[i].language, Language::kSpanish);
    unknown += records[i].language == Language::kUnknown;
    EXPECT_EQ(records[i].vector, one_count_records[i].vector) << docs[i].id;
  }
  EXPECT_GE(unknown, 10u);  // the headlines
  EXPECT_LT(unknown, docs.size());
}

// A relink asked for (the feed went quiet): owed only with relinking on and once documents came, it
// joins what the online rule left apart, and a replay of the history with the relink at its place
// makes it too.
TEST(Feed, ARelinkAskedForIsOwedOnceDocumentsCameAndReplaysAtItsPlace) {
  const auto all = storylines();
  const std::vector<Document> docs(all.begin(), all.begin() + 12);  // 12 stories: no relink by count
  FeedParams online;
  online.thread_threshold = 1.0f;
  online.thread_language_threshold = 0.0f;
  online.thread_relink = 0;
  online.dedup.containment = 0.0;
  online.dedup.threshold = 0.95;
  FeedEngine off{online};
  feed_all(off, docs);
  EXPECT_FALSE(off.relink_pending());  // relinking off: never owed
  off.relink();
  EXPECT_EQ(off.threads(), 12u);

  FeedParams relinking = online;
  relinking.thread_relink = 2;
  // Only when asked (quiet or closing): past 16 stories no relink by count.
  FeedParams quiet_only = relinking;
  quiet_only.thread_relink_by_count = false;
  FeedEngine asked{quiet_only};
  feed_all(asked, all);
  EXPECT_EQ(asked.threads(), all.size());
  EXPECT_TRUE(asked.relink_pending());
  asked.relink();
  EXPECT_EQ(asked.threads(), all.size());  // numbers are kept; two of them hold every story now
  EXPECT_EQ(asked.thread(asked.find("ghana-0")->first.thread)->size, 16u);
  EXPECT_EQ(asked.thread(asked.find("valencia-0")->first.thread)->size, 16u);

  FeedEngine with{relinking};
  EXPECT_FALSE(with.relink_pending());
  const auto records = feed_all(with, docs);
  EXPECT_TRUE(with.relink_pending());
  EXPECT_EQ(with.threads(), 12u);
  with.relink();
  EXPECT_FALSE(with.relink_pending());
  const auto thread_of = [](const FeedEngine& e, const std::string& id) { return e.find(id)->first.thread; };
  for (int i = 1; i < 6; ++i) {
    EXPECT_EQ(thread_of(with, "valencia-" + std::to_string(i)), thread_of(with, "valencia-0")) << i;
    EXPECT_EQ(thread_of(with, "ghana-" + std::to_string(i)), thread_of(with, "ghana-0")) << i;
  }
  EXPECT_NE(thread_of(with, "valencia-0"), thread_of(with, "ghana-0"));
  // Each thread the relink emptied points at the one that took its story; the two kept point nowhere.
  for (const Document& d : docs) {
    const std::uint32_t answered = records[&d - docs.data()].assignment.thread, now = thread_of(with, d.id);
    EXPECT_EQ(with.thread(answered)->merged_into, answered == now ? 0u : now) << d.id;
  }
  // In three steps (a service finds the threads without holding the engine): the same.
  FeedEngine stepwise{relinking};
  feed_all(stepwise, docs);
  EXPECT_EQ(FeedEngine{online}.plan_relink(), nullptr);
  const auto plan = stepwise.plan_relink();
  ASSERT_NE(plan, nullptr);
  FeedEngine::link_plan(*plan);
  stepwise.apply_relink(*plan);
  EXPECT_FALSE(stepwise.relink_pending());
  for (const Document& d : docs) EXPECT_EQ(thread_of(stepwise, d.id), thread_of(with, d.id)) << d.id;

  // The history, the twelve adds and the relink, replayed; and without the relink.
  std::vector<FeedEngine::ReplayOp> ops;
  for (std::size_t i = 0; i < records.size(); ++i) ops.push_back({records[i], false, false});
  FeedEngine::ReplayOp relink_op;
  relink_op.relink = true;
  ops.push_back(relink_op);
  FeedEngine replayed{relinking};
  replay_all(replayed, ops);
  EXPECT_FALSE(replayed.relink_pending());  // an opened state owes nothing
  for (const Document& d : docs) EXPECT_EQ(thread_of(replayed, d.id), thread_of(with, d.id)) << d.id;
  ops.pop_back();
  FeedEngine unrelinked{relinking};
  replay_all(unrelinked, ops);
  EXPECT_EQ(unrelinked.threads(), 12u);
  EXPECT_NE(thread_of(unrelinked, "valencia-1"), thread_of(unrelinked, "valencia-0"));
}

}  // namespace
}  // namespace storyline
