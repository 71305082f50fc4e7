// The on-disk formats users keep, pinned by small files checked in under datasets/golden/ (made from
// datasets/golden/corpus.jsonl by `storyline dedup corpus.jsonl -o /dev/null --save-index index.bin` and
// `storyline stream --sync-normal --db state.db < corpus.jsonl`), loaded and compared field by field with
// literal values. A failure here means the format changed: bump its version (kFormatVersion in
// dedup_index.cpp, kSchemaVersion in feed_store.cpp, the snapshot's in feed.cpp) so that old files are
// refused with a clear message, then regenerate the files with the commands above.
#include <gtest/gtest.h>

#include <filesystem>

#include "storyline/dedup_index.hpp"
#include "storyline/feed_service.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

const std::string kGolden = std::string(STORYLINE_SOURCE_DIR) + "/datasets/golden/";

TEST(GoldenFiles, IndexRecordsLoadFieldByField) {
  const DedupIndex index = DedupIndex::load(kGolden + "index.bin");
  ASSERT_EQ(index.slots(), 3u) << "the index format changed";
  struct Expected {
    const char* id;
    std::int32_t date;
    std::uint32_t length;
    std::uint32_t fp0, fp1, fp2, fp3, last;
  };
  const Expected expected[] = {
      {"g1", 17723, 178, 3187932483u, 1220000390u, 1220000390u, 4084842690u, 2816902961u},
      {"g2", 17724, 189, 3187932483u, 1271467754u, 1220000390u, 4084842690u, 2816902961u},
      {"g3", 20211, 115, 607960582u, 524054223u, 271222340u, 1527735105u, 1476805776u},
  };
  for (DocIndex d = 0; d < 3; ++d) {
    const Expected& e = expected[d];
    EXPECT_EQ(index.id(d), e.id) << "the index format changed";
    EXPECT_EQ(index.info(d).date, e.date) << e.id << ": the index format changed";
    EXPECT_EQ(index.info(d).length, e.length) << e.id << ": the index format changed";
    const auto fp = index.fingerprint(d);
    ASSERT_EQ(fp.size(), 128u);
    EXPECT_EQ((std::vector<std::uint32_t>{fp[0], fp[1], fp[2], fp[3], fp[127]}),
              (std::vector<std::uint32_t>{e.fp0, e.fp1, e.fp2, e.fp3, e.last}))
        << e.id << ": the index format or the MinHash changed";
  }
  EXPECT_EQ(index.scheme().params().num_hashes, 128u);
  EXPECT_DOUBLE_EQ(index.scheme().params().threshold, 0.45);
}

// The state, read twice: from its snapshot, and from its rows alone (the snapshot moved away).
TEST(GoldenFiles, StateLoadsFromItsSnapshotAndFromItsRows) {
  for (const bool with_snapshot : {true, false}) {
    test::TempDir dir;
    const std::string db = dir.path("state.db");
    std::filesystem::copy_file(kGolden + "state.db", db);
    if (with_snapshot) std::filesystem::copy_file(kGolden + "state.db.snapshot", db + ".snapshot");
    FeedServiceOptions options;
    options.sync_full = false;
    const FeedService feed(db, std::nullopt, options);
    const char* from = with_snapshot ? "snapshot" : "rows";
    EXPECT_EQ(feed.replayed_rows(), with_snapshot ? 0u : 3u) << from;
    EXPECT_EQ(feed.snapshot_problem(), "") << from;
    const auto c = feed.counts();
    EXPECT_EQ(c.documents, 3u) << from;
    EXPECT_EQ(c.duplicates, 1u) << from;
    EXPECT_EQ(c.stories, 2u) << from;
    EXPECT_EQ(c.threads, 2u) << from;
    const auto g2 = feed.get("g2");
    ASSERT_TRUE(g2) << from;
    EXPECT_EQ(g2->title, "Central bank lifts rate") << from;
    EXPECT_EQ(g2->assignment.date, *parse_date("2018-07-12")) << from;
    EXPECT_EQ(g2->assignment.dup_of, "g1") << from;
    EXPECT_EQ(g2->assignment.dup_group, "g1") << from;
    EXPECT_DOUBLE_EQ(g2->assignment.dup_similarity, 0.953125) << from;
    EXPECT_EQ(g2->assignment.story, 1u) << from;
    EXPECT_EQ(g2->assignment.thread, 1u) << from;
    const auto g3 = feed.get("g3");
    ASSERT_TRUE(g3) << from;
    EXPECT_EQ(g3->assignment.date, *parse_date("2025-05-03")) << from;
    EXPECT_EQ(g3->assignment.dup_of, "") << from;
    EXPECT_EQ(g3->assignment.story, 2u) << from;
    EXPECT_EQ(g3->assignment.thread, 2u) << from;
    const auto story = feed.story(1);
    ASSERT_TRUE(story) << from;
    EXPECT_EQ(story->documents, 2u) << from;
    EXPECT_EQ(story->first, *parse_date("2018-07-11")) << from;
    EXPECT_EQ(story->last, *parse_date("2018-07-12")) << from;
  }
}

}  // namespace
}  // namespace storyline
