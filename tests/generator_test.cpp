#include "storyline/generator.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <set>

#include "storyline/document.hpp"
#include "storyline/jsonl.hpp"
#include "storyline/metrics.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

// Jaccard of the word 5-gram sets of two texts, words being runs of ASCII letters and digits, lowercased:
// written here, apart from the library's shingler, so that the generator is not checked by itself.
double five_gram_jaccard(const std::string& a, const std::string& b) {
  const auto grams = [](const std::string& text) {
    std::vector<std::string> words;
    std::string word;
    for (const char c : text + " ") {
      if (std::isalnum(static_cast<unsigned char>(c))) {
        word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else if (!word.empty()) {
        words.push_back(word);
        word.clear();
      }
    }
    std::set<std::string> out;
    for (std::size_t i = 0; i + 5 <= words.size(); ++i) {
      out.insert(words[i] + " " + words[i + 1] + " " + words[i + 2] + " " + words[i + 3] + " " +
                 words[i + 4]);
    }
    return out;
  };
  const auto x = grams(a), y = grams(b);
  std::size_t common = 0;
  for (const auto& g : x) common += y.contains(g) ? 1 : 0;
  return static_cast<double>(common) / static_cast<double>(x.size() + y.size() - common);
}

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

  // The promise checked without trusting the generator's own measure: each copy against its original
  // (the record of its label without a "jaccard" field), word 5-gram sets computed here.
  std::map<std::string, std::string> text_of;
  RecordParser parser;
  ParsedRecord record;
  for (const auto& line : test::read_lines(dir.path("g.jsonl"))) {
    parser.parse(line, record);
    ASSERT_FALSE(record.rejected);
    text_of[record.doc.id] = record.doc.text;
  }
  std::map<std::string, std::string> original_of_label;
  const std::set<std::string> copies(jaccards.ids.begin(), jaccards.ids.end());
  for (std::size_t i = 0; i < labels.ids.size(); ++i) {
    if (!copies.contains(labels.ids[i])) original_of_label[labels.labels[i]] = labels.ids[i];
  }
  std::size_t checked = 0;
  for (std::size_t i = 0; i < labels.ids.size(); ++i) {
    if (!copies.contains(labels.ids[i])) continue;
    const auto original = original_of_label.find(labels.labels[i]);
    ASSERT_NE(original, original_of_label.end()) << labels.ids[i];
    const double j = five_gram_jaccard(text_of.at(labels.ids[i]), text_of.at(original->second));
    EXPECT_GE(j, 0.78) << labels.ids[i] << " copies " << original->second;
    ++checked;
  }
  EXPECT_EQ(checked, r.copies);
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
