#include "storyline/metrics.hpp"

#include <gtest/gtest.h>

#include "storyline/error.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

TEST(Metrics, PerfectClusteringScoresOne) {
  const std::vector<std::uint32_t> gold{0, 0, 1, 1, 2};
  const std::vector<std::uint32_t> pred{5, 5, 7, 7, 9};  // other names, same partition
  const auto s = score_clustering(gold, pred);
  EXPECT_DOUBLE_EQ(s.pairwise_f1, 1.0);
  EXPECT_DOUBLE_EQ(s.bcubed_f1, 1.0);
  EXPECT_NEAR(s.ari, 1.0, 1e-12);
  EXPECT_NEAR(s.nmi, 1.0, 1e-12);
  EXPECT_NEAR(s.v_measure, 1.0, 1e-12);
}

// Hand-computed: gold {a,b,c} {d,e}; pred {a,b} {c,d,e}.
TEST(Metrics, KnownValuesOnASmallExample) {
  const std::vector<std::uint32_t> gold{0, 0, 0, 1, 1};
  const std::vector<std::uint32_t> pred{0, 0, 1, 1, 1};
  const auto s = score_clustering(gold, pred);
  // Pairs: gold 3 + 1 = 4, pred 1 + 3 = 4, shared (a,b) and (d,e) = 2.
  EXPECT_DOUBLE_EQ(s.pairwise_precision, 0.5);
  EXPECT_DOUBLE_EQ(s.pairwise_recall, 0.5);
  // B-cubed precision: a,b 2/2; c 1/3; d,e 2/3 -> (1 + 1 + 1/3 + 2/3 + 2/3) / 5.
  EXPECT_NEAR(s.bcubed_precision, (3.0 + 2.0 / 3.0) / 5.0, 1e-12);
  // B-cubed recall: a,b 2/3; c 1/3; d,e 2/2 -> (2/3 + 2/3 + 1/3 + 1 + 1) / 5.
  EXPECT_NEAR(s.bcubed_recall, (11.0 / 3.0) / 5.0, 1e-12);
  // ARI: index 2, expected 4 * 4 / 10 = 1.6, max 4 -> (2 - 1.6) / (4 - 1.6).
  EXPECT_NEAR(s.ari, 0.4 / 2.4, 1e-12);
  // MI = 0.4 ln(10/6) + 0.2 ln(5/9) + 0.4 ln(10/6) = 0.29110; both entropies are
  // H(0.6, 0.4) = 0.67301, so NMI = homogeneity = completeness = V = 0.43254.
  EXPECT_NEAR(s.nmi, 0.4325380677663126, 1e-9);
  EXPECT_NEAR(s.homogeneity, 0.4325380677663126, 1e-9);
  EXPECT_NEAR(s.v_measure, 0.4325380677663126, 1e-9);
}

TEST(Metrics, AllSingletonsHavePerfectPrecisionAndNoRecall) {
  const std::vector<std::uint32_t> gold{0, 0, 1, 1};
  const std::vector<std::uint32_t> pred{0, 1, 2, 3};
  const auto s = score_clustering(gold, pred);
  EXPECT_DOUBLE_EQ(s.pairwise_precision, 1.0);
  EXPECT_DOUBLE_EQ(s.pairwise_recall, 0.0);
  EXPECT_DOUBLE_EQ(s.bcubed_precision, 1.0);
  EXPECT_DOUBLE_EQ(s.bcubed_recall, 0.5);
}

TEST(Metrics, MismatchedSizesThrow) {
  EXPECT_THROW(score_clustering(std::vector<std::uint32_t>{1}, std::vector<std::uint32_t>{}),
               InvalidArgument);
}

TEST(Labels, ReadsStringAndNumberLabelsAndNamesTheBadLine) {
  test::TempDir dir;
  test::write_file(dir.path("l.jsonl"),
                   "{\"id\":\"a\",\"label\":\"x\"}\n{\"id\":2,\"label\":7}\n{\"id\":\"c\"}\n");
  const LabeledIds l = read_labels(dir.path("l.jsonl"), "id", "label");
  EXPECT_EQ(l.ids, (std::vector<std::string>{"a", "2"}));
  EXPECT_EQ(l.labels, (std::vector<std::string>{"x", "7"}));
  EXPECT_EQ(l.unlabeled, 1u);
  test::write_file(dir.path("bad.jsonl"), "{\"id\":\"a\",\"label\":\"x\"}\n{\"id\":\"b\",\n");
  try {
    read_labels(dir.path("bad.jsonl"), "id", "label");
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace storyline
