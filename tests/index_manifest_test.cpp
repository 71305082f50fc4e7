// The manifest of an index saved by a distributed dedup job (engine/dist/index_manifest): what it
// stores comes back; one that does not place every document exactly once, or is damaged, is refused.
// And the layout it gives the next job (engine/dist/layout).
#include "dist/index_manifest.hpp"

#include <gtest/gtest.h>

#include "dist/layout.hpp"
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

// Global numbers as one process gives them: the index's 10 documents where the manifest puts them, then
// each rank's new documents in rank order; locally, a rank's index documents come before its new ones.
TEST(Layout, PlacesIndexDocumentsThenNewOnesInRankOrder) {
  const IndexManifest m = two_ranks();
  const dist::Layout layout({m.parts[0].segments, m.parts[1].segments}, {5, 2});
  EXPECT_EQ(layout.prior(), 10u);
  EXPECT_EQ(layout.total(), 17u);
  EXPECT_EQ(layout.globals(0), (std::vector<std::uint64_t>{0, 1, 2, 6, 7, 8, 10, 11, 12, 13, 14}));
  EXPECT_EQ(layout.globals(1), (std::vector<std::uint64_t>{3, 4, 5, 9, 15, 16}));
  for (std::size_t rank : {0u, 1u}) {
    const auto globals = layout.globals(rank);
    for (std::size_t local = 0; local < globals.size(); ++local) {
      EXPECT_EQ(layout.home(globals[local]), static_cast<int>(rank));
      EXPECT_EQ(layout.local_of(globals[local]), local);
    }
  }
  EXPECT_TRUE(layout.prior(9));
  EXPECT_FALSE(layout.prior(10));
  // Without an index, and with a rank that read nothing.
  const dist::Layout plain({}, {3, 0, 2});
  EXPECT_EQ(plain.globals(2), (std::vector<std::uint64_t>{3, 4}));
  EXPECT_TRUE(plain.globals(1).empty());
  EXPECT_EQ(plain.home(3), 2);
}

}  // namespace
}  // namespace storyline
