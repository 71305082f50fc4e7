#include "storyline/generator.hpp"

#include <gtest/gtest.h>

#include "storyline/metrics.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

TEST(Generator, IsDeterministicFromTheSeed) {
  test::TempDir dir;
  GeneratorParams p;
  p.documents = 300;
  generate_corpus(p, dir.path("a.jsonl"));
  generate_corpus(p, dir.path("b.jsonl"));
  EXPECT_EQ(test::read_file(dir.path("a.jsonl")), test::read_file(dir.path("b.jsonl")));
  p.seed = 43;
  generate_corpus(p, dir.path("c.jsonl"));
  EXPECT_NE(test::read_file(dir.path("a.jsonl")), test::read_file(dir.path("c.jsonl")));
}

TEST(Generator, PlantsCopiesAboveTheMinimumJaccardWithLabels) {
  test::TempDir dir;
  GeneratorParams p;
  p.documents = 500;
  p.copy_fraction = 0.4;
  p.min_jaccard = 0.8;
  const GeneratorReport r = generate_corpus(p, dir.path("g.jsonl"));
  EXPECT_EQ(r.documents, 500u);
  EXPECT_EQ(r.originals + r.copies, 500u);
  EXPECT_NEAR(static_cast<double>(r.copies) / 500.0, 0.4, 0.08);
  EXPECT_GE(r.mean_copy_jaccard, 0.8);
  const LabeledIds labels = read_labels(dir.path("g.jsonl"), "id", "label");
  EXPECT_EQ(labels.ids.size(), 500u);
  const LabeledIds jaccards = read_labels(dir.path("g.jsonl"), "id", "jaccard");
  EXPECT_EQ(jaccards.ids.size(), r.copies);
  for (const auto& j : jaccards.labels) EXPECT_GE(std::stod(j), 0.8);
}

TEST(Generator, UsesRealArticlesAsOriginals) {
  test::TempDir dir;
  std::string source;
  for (int i = 0; i < 20; ++i) {
    source +=
        test::record("s" + std::to_string(i), test::random_text(i, 120) + ". Second sentence here.") + "\n";
  }
  test::write_file(dir.path("src.jsonl"), source);
  GeneratorParams p;
  p.documents = 30;
  p.source_path = dir.path("src.jsonl");
  p.min_jaccard = 0.0;
  const GeneratorReport r = generate_corpus(p, dir.path("g.jsonl"));
  EXPECT_EQ(r.documents, 30u);
  EXPECT_LE(r.originals, 20u);
  EXPECT_NE(test::read_file(dir.path("g.jsonl")).find(test::random_text(0, 120).substr(0, 50)),
            std::string::npos);
}

}  // namespace
}  // namespace storyline
