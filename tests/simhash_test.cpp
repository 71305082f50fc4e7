#include "storyline/simhash.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace storyline {
namespace {

TEST(SimHash, KnownAnswers) {
  EXPECT_EQ(simhash({}), 0u);
  const std::vector<std::uint64_t> one{42};
  const std::vector<std::uint64_t> twice{42, 42};
  EXPECT_EQ(simhash(one), simhash(twice));  // a single feature's fingerprint is its own mixed hash
  EXPECT_EQ(hamming_distance(0, ~std::uint64_t{0}), 64);
  EXPECT_EQ(hamming_distance(0b1011, 0b0001), 2);
}

TEST(SimHash, GoldenVector) {
  // If this fails, the SimHash format changed: saved indexes are invalid.
  const std::vector<std::uint64_t> features{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10};
  EXPECT_EQ(simhash(features), 1683788933738136952u) << "SimHash golden vector changed";
}

TEST(SimHash, TermFrequencyWeighsFeatures) {
  std::vector<std::uint64_t> features{11, 22};
  const std::uint64_t base = simhash(std::vector<std::uint64_t>{11});
  for (int i = 0; i < 10; ++i) features.push_back(11);  // 11 dominates
  EXPECT_LE(hamming_distance(simhash(features), base), 4);
}

TEST(SimHash, SmallEditsGiveSmallDistancesAndUnrelatedSetsLargeOnes) {
  std::mt19937_64 rng(5);
  double near = 0.0, far = 0.0;
  const int trials = 50;
  for (int t = 0; t < trials; ++t) {
    std::vector<std::uint64_t> a(400), b, c(400);
    for (auto& x : a) x = rng();
    for (auto& x : c) x = rng();
    b = a;
    for (int i = 0; i < 8; ++i) b[rng() % b.size()] = rng();  // 2% of the features changed
    near += hamming_distance(simhash(a), simhash(b));
    far += hamming_distance(simhash(a), simhash(c));
  }
  EXPECT_LT(near / trials, 6.0);
  EXPECT_NEAR(far / trials, 32.0, 3.0);
}

}  // namespace
}  // namespace storyline
