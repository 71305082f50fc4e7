// Story clustering in time blocks (engine/detail/time_blocks.hpp): blocks of whole days whose halos hold
// every pair the story window allows, stitched back into stories of the whole; and the job's centroid
// blocks, which give the centroids of the whole exactly.
#include "detail/time_blocks.hpp"

#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "storyline/cluster_job.hpp"
#include "storyline/document.hpp"
#include "storyline/metrics.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

using detail::kNoBlock;

TEST(TimeBlocks, OneBlockOfEveryRowWhenThereIsNoWindowOrFewDatedRows) {
  const std::vector<std::int32_t> dates = {5, kNoDate, 3, 9, 9};
  for (const auto& [block_rows, window] : {std::pair<std::size_t, int>{0, 3}, {2, -1}, {4, 3}, {100, 0}}) {
    const detail::TimeBlocks blocks = detail::time_blocks(dates, block_rows, window);
    ASSERT_EQ(blocks.rows.size(), 1u) << block_rows << " " << window;
    EXPECT_EQ(blocks.rows[0], (std::vector<std::uint32_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(blocks.owner, (std::vector<std::uint32_t>(5, 0)));
  }
}

TEST(TimeBlocks, CoresAreWholeDaysAndHalosHoldEveryRowWithinTheWindow) {
  // 60 days, 3 to 7 rows a day in shuffled row order, and undated rows among them.
  std::vector<std::int32_t> dates;
  for (std::int32_t day = 0; day < 60; ++day)
    for (int k = 0; k < 3 + day % 5; ++k) dates.push_back(1000 + (day * 37) % 60);
  for (std::size_t r = 0; r < dates.size(); r += 11) dates[r] = kNoDate;
  const std::int32_t window = 3;
  const detail::TimeBlocks blocks = detail::time_blocks(dates, 40, window);
  ASSERT_GT(blocks.rows.size(), 4u);
  std::map<std::int32_t, std::set<std::uint32_t>> owners_of_day;
  for (std::size_t r = 0; r < dates.size(); ++r) {
    if (dates[r] == kNoDate) {
      EXPECT_EQ(blocks.owner[r], kNoBlock);
      continue;
    }
    ASSERT_LT(blocks.owner[r], blocks.rows.size());
    owners_of_day[dates[r]].insert(blocks.owner[r]);
  }
  for (const auto& [day, owners] : owners_of_day) EXPECT_EQ(owners.size(), 1u) << "day " << day << " split";
  for (std::size_t b = 0; b < blocks.rows.size(); ++b) {
    const auto& rows = blocks.rows[b];
    EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end()));
    const std::set<std::uint32_t> in(rows.begin(), rows.end());
    std::size_t core = 0;
    for (std::size_t r = 0; r < dates.size(); ++r) {
      if (blocks.owner[r] != b) continue;
      ++core;
      // Every row a core row may pair with (within the window, or undated) is in the block.
      for (std::size_t s = 0; s < dates.size(); ++s) {
        if (dates[s] == kNoDate || std::abs(dates[s] - dates[r]) <= window) {
          EXPECT_TRUE(in.contains(static_cast<std::uint32_t>(s))) << "block " << b << " lacks " << s;
        }
      }
    }
    EXPECT_GE(core, 40u / 2) << "block " << b;  // about block_rows (no small last block)
  }
}

TEST(StitchBlocks, OneBlockGivesItsLabels) {
  detail::TimeBlocks blocks;
  blocks.rows = {{0, 1, 2, 3}};
  blocks.owner = {0, 0, 0, 0};
  EXPECT_EQ(detail::stitch_blocks(blocks, {{0, 1, 0, 2}}), (std::vector<std::uint32_t>{0, 1, 0, 2}));
}

TEST(StitchBlocks, StoriesSharingARowAreOneAndAnUndatedRowTakesItsLargestStory) {
  // Rows 0-2 are block 0's core, 3-5 block 1's; 2 and 3 are in both blocks' halos; 6 is undated.
  detail::TimeBlocks blocks;
  blocks.rows = {{0, 1, 2, 3, 6}, {2, 3, 4, 5, 6}};
  blocks.owner = {0, 0, 0, 1, 1, 1, kNoBlock};
  // Block 0: {0}, {1, 2, 3}, {6}. Block 1: {2}, {3, 4}, {5, 6}: 3 joins block 0's story of 1 and 2
  // through row 3 (owned by block 1, where it is with 4), and row 2 brings block 1's {2} in too.
  const std::vector<std::vector<std::uint32_t>> labels = {{0, 1, 1, 1, 2}, {0, 1, 1, 2, 2}};
  const std::vector<std::uint32_t> story = detail::stitch_blocks(blocks, labels);
  EXPECT_EQ(story, (std::vector<std::uint32_t>{0, 1, 1, 1, 1, 2, 2}));
}

// The outputs of a generated corpus clustered with the given options changed.
std::string cluster_outputs(const std::string& input, const test::TempDir& dir,
                            const std::function<void(ClusterJobOptions&)>& change, ClusterJobReport* report) {
  ClusterJobOptions options;
  options.inputs = {input};
  options.annotated_path = dir.path("out");
  options.stories_path = dir.path("stories");
  options.threads_path = dir.path("threads");
  change(options);
  const ClusterJobReport r = run_cluster_job(options);
  if (report != nullptr) *report = r;
  return test::read_file(dir.path("out")) + test::read_file(dir.path("stories")) +
         test::read_file(dir.path("threads"));
}

TEST(ClusterJob, CentroidBlocksOfAnySizeGiveTheSameOutput) {
  test::TempDir dir;
  ASSERT_EQ(test::run_cli("generate -n 3000 --seed 5 -o " + dir.path("gen.jsonl")).exit_code, 0);
  const std::string whole = cluster_outputs(
      dir.path("gen.jsonl"), dir, [](ClusterJobOptions&) {}, nullptr);
  for (const std::size_t block : {std::size_t{1}, std::size_t{7}, std::size_t{500}}) {
    const std::string parts = cluster_outputs(
        dir.path("gen.jsonl"), dir,
        [&](ClusterJobOptions& o) {
          o.centroid_block_documents = block;
          o.spill_terms_above = 0;  // the centroids' copy through its file too
        },
        nullptr);
    EXPECT_TRUE(parts == whole) << "centroid blocks of " << block;
  }
}

// Story labels (by document, from the annotated output).
std::vector<std::uint32_t> story_labels(const std::string& annotated) {
  std::vector<std::uint32_t> labels;
  std::map<std::string, std::uint32_t> dense;
  for (std::size_t at = annotated.find("\"story_id\":\""); at != std::string::npos;
       at = annotated.find("\"story_id\":\"", at + 1)) {
    const std::size_t begin = at + 12;
    const std::string id = annotated.substr(begin, annotated.find('"', begin) - begin);
    labels.push_back(dense.emplace(id, static_cast<std::uint32_t>(dense.size())).first->second);
  }
  return labels;
}

TEST(ClusterJob, TimeBlocksAgreeWithOneBlockAndDoNotDependOnTheThreadCount) {
  test::TempDir dir;
  ASSERT_EQ(test::run_cli("generate -n 4000 --seed 11 -o " + dir.path("gen.jsonl")).exit_code, 0);
  ClusterJobReport report;
  cluster_outputs(
      dir.path("gen.jsonl"), dir, [](ClusterJobOptions&) {}, &report);
  EXPECT_EQ(report.time_blocks, 1u);
  const std::vector<std::uint32_t> one = story_labels(test::read_file(dir.path("out")));
  const auto blocked = [](ClusterJobOptions& o) { o.time_block_documents = 400; };
  const std::string outputs = cluster_outputs(dir.path("gen.jsonl"), dir, blocked, &report);
  EXPECT_GE(report.time_blocks, 5u);
  const std::vector<std::uint32_t> many = story_labels(test::read_file(dir.path("out")));
  ASSERT_EQ(many.size(), one.size());
  ASSERT_EQ(many.size(), 4000u);
  // Blocks see each story whole (the generator's events last days, the halo is the 3-day window);
  // what differs is the candidates a block's smaller posting lists let through (bench/README.md).
  const ClusteringScores agreement = score_clustering(one, many);
  EXPECT_GE(agreement.bcubed_f1, 0.99)
      << "B-cubed P " << agreement.bcubed_precision << " R " << agreement.bcubed_recall;
  {
    tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);
    EXPECT_TRUE(cluster_outputs(dir.path("gen.jsonl"), dir, blocked, nullptr) == outputs);
  }
}

}  // namespace
}  // namespace storyline
