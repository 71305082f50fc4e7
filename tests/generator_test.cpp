#include "storyline/generator.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "storyline/document.hpp"
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

TEST(Generator, PlantsStoriesAndThreadsWhoseArticlesShareDaysAndCopiesShareTheStory) {
  test::TempDir dir;
  GeneratorParams p;
  p.documents = 2000;
  p.event_size = 6;
  const GeneratorReport r = generate_corpus(p, dir.path("g.jsonl"));
  const LabeledIds story = read_labels(dir.path("g.jsonl"), "id", "story");
  const LabeledIds label = read_labels(dir.path("g.jsonl"), "id", "label");
  const LabeledIds date = read_labels(dir.path("g.jsonl"), "id", "date");
  ASSERT_EQ(story.ids.size(), 2000u);
  ASSERT_EQ(date.ids.size(), 2000u);
  // originals per story: mean near event_size (geometric law; 1,400 originals give ~230 events)
  EXPECT_NEAR(static_cast<double>(r.originals) / static_cast<double>(r.events), 6.0, 1.0);
  std::map<std::string, std::pair<std::string, std::string>> span;  // story -> first, last date
  std::map<std::string, std::string> story_of_original;
  for (std::size_t i = 0; i < story.ids.size(); ++i) {
    auto [it, fresh] = span.try_emplace(story.labels[i], date.labels[i], date.labels[i]);
    it->second.first = std::min(it->second.first, date.labels[i]);
    it->second.second = std::max(it->second.second, date.labels[i]);
    if (label.labels[i] == label.ids[i]) story_of_original[label.ids[i]] = story.labels[i];
  }
  EXPECT_EQ(span.size(), r.events);
  for (const auto& [s, d] : span) {  // originals within 3 days of the start, copies 2 days after those
    EXPECT_LE(*parse_date(d.second) - *parse_date(d.first), 4) << s;
  }
  for (std::size_t i = 0; i < label.ids.size(); ++i)
    EXPECT_EQ(story.labels[i], story_of_original[label.labels[i]]);
  // every story lies in one thread, and threads (2000 / 400 -> at least 8 topics) gather several stories
  const LabeledIds thread = read_labels(dir.path("g.jsonl"), "id", "thread");
  ASSERT_EQ(thread.ids.size(), 2000u);
  std::map<std::string, std::string> thread_of_story;
  for (std::size_t i = 0; i < thread.ids.size(); ++i) {
    EXPECT_EQ(thread_of_story.try_emplace(story.labels[i], thread.labels[i]).first->second, thread.labels[i]);
  }
  std::set<std::string> threads(thread.labels.begin(), thread.labels.end());
  EXPECT_EQ(threads.size(), 8u);
  // without event_size no story field is written
  p.event_size = 0;
  generate_corpus(p, dir.path("plain.jsonl"));
  EXPECT_EQ(test::read_file(dir.path("plain.jsonl")).find("\"story\""), std::string::npos);
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
