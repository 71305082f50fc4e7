#include "storyline/minhash.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "storyline/error.hpp"

namespace storyline {
namespace {

// Two sets with |A n B| = common and |A \ B| = |B \ A| = only, so J = common / (common + 2 only).
void make_pair(std::mt19937_64& rng, std::size_t common, std::size_t only, std::vector<std::uint64_t>& a,
               std::vector<std::uint64_t>& b) {
  a.clear();
  b.clear();
  for (std::size_t i = 0; i < common; ++i) {
    const std::uint64_t x = rng();
    a.push_back(x);
    b.push_back(x);
  }
  for (std::size_t i = 0; i < only; ++i) a.push_back(rng()), b.push_back(rng());
}

std::vector<std::uint32_t> sign(const MinHasher& h, const std::vector<std::uint64_t>& features) {
  std::vector<std::uint32_t> sig(h.num_hashes());
  h.sign(features, sig);
  return sig;
}

TEST(MinHash, IdenticalSetsEstimateOne) {
  const MinHasher h;
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> a(500);
  for (auto& x : a) x = rng();
  std::vector<std::uint64_t> shuffled = a;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  shuffled.insert(shuffled.end(), a.begin(), a.begin() + 50);  // repeats do not matter
  EXPECT_DOUBLE_EQ(estimate_jaccard(sign(h, a), sign(h, shuffled)), 1.0);
}

TEST(MinHash, DisjointSetsEstimateNearZero) {
  const MinHasher h;
  std::mt19937_64 rng(8);
  std::vector<std::uint64_t> a, b;
  make_pair(rng, 0, 1000, a, b);
  EXPECT_LE(estimate_jaccard(sign(h, a), sign(h, b)), 3.0 / 128);
}

// The stated tolerance of the brief: |estimate - J| <= 3 sqrt(J (1 - J) / k), seed fixed.
TEST(MinHash, EstimateWithinThreeSigmaForJFromPointOneToPointNine) {
  for (const std::uint32_t k : {64u, 128u, 256u}) {
    const MinHasher h(MinHashParams{k, 1});
    std::mt19937_64 rng(2024);
    for (int tenths = 1; tenths <= 9; ++tenths) {
      const double j = tenths / 10.0;
      // Union of 2,000 features: common = 2000 J, each side alone (2000 - common) / 2.
      const auto common = static_cast<std::size_t>(2000 * j);
      const std::size_t only = (2000 - common) / 2;
      std::vector<std::uint64_t> a, b;
      make_pair(rng, common, only, a, b);
      const double exact = static_cast<double>(common) / static_cast<double>(common + 2 * only);
      const double estimate = estimate_jaccard(sign(h, a), sign(h, b));
      EXPECT_LE(std::abs(estimate - exact), 3.0 * std::sqrt(exact * (1 - exact) / k))
          << "k=" << k << " J=" << exact << " estimate=" << estimate;
    }
  }
}

// With fewer features than bins most bins are empty and filled by densification; the estimator must
// stay unbiased (Shrivastava 2017). Mean of 400 pairs, tolerance 0.02 (about 4 standard errors).
TEST(MinHash, DensifiedSparseSetsStayUnbiased) {
  const MinHasher h(MinHashParams{128, 3});
  std::mt19937_64 rng(99);
  for (const double j : {0.2, 0.5, 0.8}) {
    double sum = 0.0;
    const int trials = 400;
    const auto common = static_cast<std::size_t>(std::lround(40 * j));
    const std::size_t only = (40 - common) / 2;
    const double exact = static_cast<double>(common) / static_cast<double>(common + 2 * only);
    std::vector<std::uint64_t> a, b;
    for (int t = 0; t < trials; ++t) {
      make_pair(rng, common, only, a, b);
      sum += estimate_jaccard(sign(h, a), sign(h, b));
    }
    EXPECT_NEAR(sum / trials, exact, 0.02) << "J=" << exact;
  }
}

TEST(MinHash, EmptySetGivesEmptyMarkers) {
  const MinHasher h(MinHashParams{16, 1});
  const auto sig = sign(h, {});
  for (const auto v : sig) EXPECT_EQ(v, 0xFFFFFFFFu);
}

TEST(MinHash, GoldenVector) {
  // If this fails, the MinHash format changed: saved indexes and published signatures are invalid.
  const MinHasher h(MinHashParams{8, 1});
  const auto sig = sign(h, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  const std::vector<std::uint32_t> golden{0,          1914458558, 975901834, 975901834,
                                          2145213143, 1951803668, 975901834, 1951803668};
  EXPECT_EQ(sig, golden) << "MinHash golden vector changed";
}

TEST(MinHash, RejectsBadParameters) {
  EXPECT_THROW(MinHasher(MinHashParams{0, 1}), InvalidArgument);
  const MinHasher h(MinHashParams{8, 1});
  std::vector<std::uint32_t> wrong(7);
  EXPECT_THROW(h.sign(std::vector<std::uint64_t>{1}, wrong), InvalidArgument);
  EXPECT_THROW(estimate_jaccard(std::vector<std::uint32_t>{1}, std::vector<std::uint32_t>{1, 2}),
               InvalidArgument);
}

}  // namespace
}  // namespace storyline
