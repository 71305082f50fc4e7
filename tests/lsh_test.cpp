#include "storyline/lsh.hpp"

#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <cmath>
#include <random>

#include "storyline/error.hpp"

namespace storyline {
namespace {

TEST(LshBands, CandidateProbabilityFollowsTheFormula) {
  const LshBands lsh{20, 5};
  EXPECT_DOUBLE_EQ(lsh_candidate_probability(0.0, lsh), 0.0);
  EXPECT_DOUBLE_EQ(lsh_candidate_probability(1.0, lsh), 1.0);
  EXPECT_NEAR(lsh_candidate_probability(0.5, lsh), 1.0 - std::pow(1.0 - std::pow(0.5, 5), 20), 1e-12);
}

TEST(LshBands, OptimalBandsFitTheBudgetAndMakeAnSCurveAroundTheThreshold) {
  for (const double t : {0.5, 0.7, 0.8, 0.9}) {
    const LshBands lsh = optimal_lsh_bands(t, 128);
    EXPECT_LE(lsh.bands * lsh.rows, 128u);
    EXPECT_GT(lsh_candidate_probability(std::min(1.0, t + 0.1), lsh), 0.8) << t;
    EXPECT_LT(lsh_candidate_probability(t - 0.3, lsh), 0.1) << t;
  }
  // More weight on false negatives moves the curve left (more bands or fewer rows).
  const LshBands balanced = optimal_lsh_bands(0.8, 128, 0.5, 0.5);
  const LshBands recall = optimal_lsh_bands(0.8, 128, 0.1, 0.9);
  EXPECT_GT(lsh_candidate_probability(0.7, recall), lsh_candidate_probability(0.7, balanced));
  EXPECT_THROW(optimal_lsh_bands(1.5, 128), InvalidArgument);
  EXPECT_THROW(optimal_lsh_bands(0.5, 128, -1, 1), InvalidArgument);
}

TEST(LshBands, BandKeysChangeOnlyWhereTheSignatureChanges) {
  std::vector<std::uint32_t> sig(128);
  for (std::uint32_t i = 0; i < sig.size(); ++i) sig[i] = i * 2654435761u;
  const LshBands lsh{16, 8};
  std::vector<std::uint64_t> a(16), b(16);
  minhash_band_keys(sig, lsh, a);
  sig[8 * 3 + 2] ^= 1;  // a value of band 3
  minhash_band_keys(sig, lsh, b);
  for (int band = 0; band < 16; ++band) EXPECT_EQ(a[band] == b[band], band != 3) << band;
  sig[8 * 3 + 2] ^= 1;
  // Every value counts, the first and the last row of each band included, and only in its own band.
  for (std::size_t at = 0; at < 16 * 8; ++at) {
    sig[at] ^= 0x80000000u;
    minhash_band_keys(sig, lsh, b);
    sig[at] ^= 0x80000000u;
    for (std::size_t band = 0; band < 16; ++band) ASSERT_EQ(a[band] == b[band], band != at / 8) << at;
  }
}

TEST(SimHashBlocks, EveryPairWithinTheDistanceSharesABlock) {
  std::mt19937_64 rng(11);
  for (const std::uint32_t k : {0u, 2u, 3u, 6u}) {
    std::vector<std::uint64_t> ka(k + 1), kb(k + 1);
    for (int trial = 0; trial < 2000; ++trial) {
      const std::uint64_t a = rng();
      std::uint64_t b = a;
      for (std::uint32_t flip = 0; flip < k; ++flip) b ^= std::uint64_t{1} << (rng() % 64);
      simhash_block_keys(a, k, ka);
      simhash_block_keys(b, k, kb);
      bool shared = false;
      for (std::uint32_t i = 0; i <= k; ++i) shared |= ka[i] == kb[i];
      ASSERT_TRUE(shared) << "k=" << k;
    }
  }
}

TEST(LshIndex, InsertQueryRemove) {
  LshIndex index(3);
  const std::vector<std::uint64_t> k1{10ull << 32, 20ull << 32, 30ull << 32};
  const std::vector<std::uint64_t> k2{10ull << 32, 21ull << 32, 31ull << 32};
  const std::vector<std::uint64_t> k3{11ull << 32, 22ull << 32, 32ull << 32};
  index.insert(1, k1);
  index.insert(2, k2);
  index.insert(3, k3);
  std::vector<DocIndex> out;
  index.query(k1, out);
  EXPECT_EQ(out, (std::vector<DocIndex>{1, 2}));
  index.query(k3, out);
  EXPECT_EQ(out, (std::vector<DocIndex>{3}));
  EXPECT_TRUE(index.remove(2, k2));
  EXPECT_FALSE(index.remove(2, k2));
  index.query(k1, out);
  EXPECT_EQ(out, (std::vector<DocIndex>{1}));
  index.insert(2, k2);  // reuses a tombstone
  index.query(k2, out);
  EXPECT_EQ(out, (std::vector<DocIndex>{1, 2}));
}

TEST(LshIndex, GrowsAndFindsEveryDocument) {
  LshIndex index(2);
  std::mt19937_64 rng(3);
  std::vector<std::uint64_t> keys(2 * 50000);
  for (auto& k : keys) k = rng();
  for (DocIndex d = 0; d < 50000; ++d) index.insert(d, std::span(keys).subspan(2 * d, 2));
  std::vector<DocIndex> out;
  for (DocIndex d = 0; d < 50000; d += 997) {
    index.query(std::span(keys).subspan(2 * d, 2), out);
    EXPECT_NE(std::find(out.begin(), out.end(), d), out.end());
  }
}

TEST(LshIndex, ParallelBuildEqualsSequentialInserts) {
  std::mt19937_64 rng(4);
  const std::size_t n = 20000;
  std::vector<std::uint64_t> keys(4 * n);
  for (auto& k : keys) k = rng() % 5000;  // many shared keys
  for (auto& k : keys) k = (k << 32) | k;
  LshIndex built(4, 16), inserted(4, 16);
  built.build(keys, n);
  for (DocIndex d = 0; d < n; ++d) inserted.insert(d, std::span(keys).subspan(4 * d, 4));
  std::vector<DocIndex> a, b;
  for (DocIndex d = 0; d < n; d += 101) {
    built.query(std::span(keys).subspan(4 * d, 4), a);
    inserted.query(std::span(keys).subspan(4 * d, 4), b);
    ASSERT_EQ(a, b);
  }
}

TEST(LshIndex, BlockBuildsOnTopOfInsertsEqualSequentialInserts) {
  // Inserted one by one, then built in blocks that start past zero, as a snapshot load does.
  std::mt19937_64 rng(5);
  const std::size_t n = 30000, head = 1000, block = 4096;
  std::vector<std::uint64_t> keys(3 * n);
  for (auto& k : keys) k = rng() % 7000;
  for (auto& k : keys) k = (k << 32) | k;
  LshIndex built(3, 8), inserted(3, 8);
  for (DocIndex d = 0; d < head; ++d) built.insert(d, std::span(keys).subspan(3 * d, 3));
  built.reserve(n - head);
  for (std::size_t start = head; start < n; start += block) {
    const std::size_t m = std::min(block, n - start);
    built.build(std::span(keys).subspan(3 * start, 3 * m), m, static_cast<DocIndex>(start));
  }
  for (DocIndex d = 0; d < n; ++d) inserted.insert(d, std::span(keys).subspan(3 * d, 3));
  std::vector<DocIndex> a, b;
  for (DocIndex d = 0; d < n; d += 37) {
    built.query(std::span(keys).subspan(3 * d, 3), a);
    inserted.query(std::span(keys).subspan(3 * d, 3), b);
    ASSERT_EQ(a, b) << d;
  }
}

TEST(LshIndex, CapsBucketsSoCopiesOfOnePageStayCheap) {
  LshIndex index(1, 8);
  const std::vector<std::uint64_t> key{7ull << 32};
  for (DocIndex d = 0; d < 1000; ++d) index.insert(d, key);
  std::vector<DocIndex> out;
  index.query(key, out);
  EXPECT_EQ(out.size(), 8u);
  EXPECT_EQ(out.front(), 0u);
}

}  // namespace
}  // namespace storyline
