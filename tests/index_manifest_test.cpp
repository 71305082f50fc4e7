// The manifest of an index saved by a distributed dedup job (engine/dist/index_manifest): what it
// stores comes back; one that does not place every document exactly once, or is damaged, is refused.
#include "dist/index_manifest.hpp"

#include <gtest/gtest.h>

#include "storyline/dedup_index.hpp"
#include "storyline/error.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

using dist::IndexManifest;
using dist::Segment;
using test::TempDir;

IndexManifest two_ranks() {
  IndexManifest m;
  m.documents = 10;
  m.parts.push_back({"i.rank0", 6, {{0, 3}, {6, 3}}});
  m.parts.push_back({"i.rank1", 4, {{3, 3}, {9, 1}}});
  return m;
}

TEST(IndexManifest, RoundTripsAndNamesPartsBesideIt) {
  TempDir dir;
  two_ranks().save(dir.path("i"));
  const IndexManifest m = IndexManifest::load(dir.path("i"));
  ASSERT_EQ(m.parts.size(), 2u);
  EXPECT_EQ(m.documents, 10u);
  EXPECT_EQ(m.parts[1].file, "i.rank1");
  EXPECT_EQ(m.parts[1].documents, 4u);
  ASSERT_EQ(m.parts[0].segments.size(), 2u);
  EXPECT_EQ(m.parts[0].segments[1].begin, 6u);
  EXPECT_EQ(m.parts[0].segments[1].count, 3u);
  EXPECT_EQ(IndexManifest::part_path("/data/idx/today", "today.rank3"), "/data/idx/today.rank3");
  EXPECT_EQ(IndexManifest::part_path("today", "today.rank3"), "today.rank3");
}

TEST(IndexManifest, RefusesSegmentsThatDoNotPlaceEveryDocumentOnce) {
  TempDir dir;
  IndexManifest gap = two_ranks();
  gap.parts[1].segments = {{3, 2}, {9, 2}};  // 5 is nowhere, 10 is past the end
  gap.save(dir.path("gap"));
  EXPECT_THROW(IndexManifest::load(dir.path("gap")), CorruptIndex);
  IndexManifest overlap = two_ranks();
  overlap.parts[1].segments = {{2, 4}};  // 2 twice
  overlap.save(dir.path("overlap"));
  EXPECT_THROW(IndexManifest::load(dir.path("overlap")), CorruptIndex);
  IndexManifest miscounted = two_ranks();
  miscounted.parts[0].documents = 5;
  miscounted.save(dir.path("miscounted"));
  EXPECT_THROW(IndexManifest::load(dir.path("miscounted")), CorruptIndex);
}

TEST(IndexManifest, DamagedOrOtherFilesAreRefusedWithTheirName) {
  TempDir dir;
  two_ranks().save(dir.path("i"));
  std::string bytes = test::read_file(dir.path("i"));
  bytes[20] ^= 1;
  test::write_file(dir.path("flipped"), bytes);
  EXPECT_THROW(IndexManifest::load(dir.path("flipped")), CorruptIndex);
  test::write_file(dir.path("cut"), test::read_file(dir.path("i")).substr(0, 30));
  EXPECT_THROW(IndexManifest::load(dir.path("cut")), CorruptIndex);
  DedupIndex(DedupParams{}).save(dir.path("single"));
  try {
    IndexManifest::load(dir.path("single"));
    FAIL() << "a single process's index is not a manifest";
  } catch (const CorruptIndex& e) {
    EXPECT_NE(std::string(e.what()).find("without mpirun"), std::string::npos) << e.what();
  }
  // And the other way: one process given a manifest says how to load it.
  try {
    DedupIndex::load(dir.path("i"));
    FAIL() << "a manifest is not a single index";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("mpirun -np 2"), std::string::npos) << e.what();
  }
}

TEST(IndexManifest, ConsecutiveSegmentsMerge) {
  std::vector<Segment> list;
  dist::append_segment(list, {0, 3});
  dist::append_segment(list, {3, 2});
  dist::append_segment(list, {7, 0});  // empty: dropped
  dist::append_segment(list, {9, 1});
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].count, 5u);
  EXPECT_EQ(list[1].begin, 9u);
}

}  // namespace
}  // namespace storyline
