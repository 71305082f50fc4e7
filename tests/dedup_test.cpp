#include "storyline/dedup.hpp"

#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <random>

#include "storyline/error.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

// Replaces `edits` words of text, deterministically from seed.
std::string edit(const std::string& text, unsigned seed, int edits) {
  std::vector<std::string> words;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find(' ', start)) != std::string::npos; start = end + 1) {
    words.push_back(text.substr(start, end - start));
  }
  words.push_back(text.substr(start));
  std::mt19937 rng(seed);
  for (int i = 0; i < edits; ++i) words[rng() % words.size()] = "edit" + std::to_string(rng() % 1000);
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

struct Corpus {
  std::vector<std::string> ids, texts;
  std::vector<DocInfo> info;
  void add(std::string id, std::string text, std::int32_t date = kNoDate) {
    info.push_back(DocInfo{date, static_cast<std::uint32_t>(text.size())});
    ids.push_back(std::move(id));
    texts.push_back(std::move(text));
  }
};

struct Fingerprints {
  std::vector<std::uint32_t> values;
  std::vector<std::vector<std::uint64_t>> sets;
};

Fingerprints fingerprint_all(const FingerprintScheme& scheme, const Corpus& c) {
  Fingerprints f;
  f.values.resize(c.texts.size() * scheme.words());
  f.sets.resize(c.texts.size());
  Fingerprinter fp(scheme);
  for (std::size_t i = 0; i < c.texts.size(); ++i) {
    fp.fingerprint(c.texts[i], std::span(f.values).subspan(i * scheme.words(), scheme.words()), &f.sets[i]);
  }
  return f;
}

DuplicateGroups group(const FingerprintScheme& scheme, const Corpus& c, std::size_t prior = 0) {
  const Fingerprints f = fingerprint_all(scheme, c);
  DedupInput in;
  in.fingerprints = f.values;
  in.info = c.info;
  in.ids = c.ids;
  in.sets = f.sets;
  in.prior = prior;
  return find_duplicate_groups(scheme, in);
}

Corpus three_stories() {
  Corpus c;
  const std::string a = test::random_text(1, 300), b = test::random_text(2, 300),
                    d = test::random_text(3, 300);
  c.add("a", a, 1);  // the originals are the earliest
  c.add("b", b, 1);
  c.add("a-copy", edit(a, 10, 3), 2);
  c.add("c", d, 1);
  c.add("b-copy", edit(b, 11, 2), 2);
  c.add("b-copy2", edit(b, 12, 4), 2);
  return c;
}

TEST(Dedup, GroupsPlantedCopiesAndNothingElse) {
  for (const auto method : {DedupMethod::kMinHash, DedupMethod::kSimHash}) {
    DedupParams p;
    p.method = method;
    p.max_hamming = 8;
    const FingerprintScheme scheme(p);
    const auto g = group(scheme, three_stories());
    EXPECT_EQ(g.representative, (std::vector<DocIndex>{0, 1, 0, 3, 1, 1})) << static_cast<int>(method);
    EXPECT_EQ(g.groups, 2u);
    EXPECT_FLOAT_EQ(g.similarity[0], 1.0f);
    EXPECT_GT(g.similarity[2], 0.7f);
  }
}

TEST(Dedup, ExactVerificationUsesShingleSets) {
  DedupParams p;
  p.verify = Verify::kExact;
  const FingerprintScheme scheme(p);
  const auto g = group(scheme, three_stories());
  EXPECT_EQ(g.representative, (std::vector<DocIndex>{0, 1, 0, 3, 1, 1}));
  // Exact similarity of a 3-word edit of 300 words with 5-shingles: at least (296 - 15) / (296 + 15).
  EXPECT_GT(g.similarity[2], 0.9f);
}

TEST(Dedup, RepresentativeIsEarliestThenLongestThenSmallestId) {
  const std::string text = test::random_text(5, 200);
  const FingerprintScheme scheme{DedupParams{}};
  Corpus c;
  c.add("late", text, 100);
  c.add("early", text, 50);
  c.add("undated", text);
  EXPECT_EQ(group(scheme, c).representative, (std::vector<DocIndex>{1, 1, 1}));
  Corpus d;
  d.add("short", text, 7);
  d.add("long", text + " extra words", 7);
  EXPECT_EQ(group(scheme, d).representative, (std::vector<DocIndex>{1, 1}));
  Corpus e;
  e.add("zz", text);
  e.add("aa", text);
  EXPECT_EQ(group(scheme, e).representative, (std::vector<DocIndex>{1, 1}));
}

TEST(Dedup, PriorDocumentsArePreferredAndNeverLinkedToEachOther) {
  const std::string text = test::random_text(6, 200);
  const FingerprintScheme scheme{DedupParams{}};
  Corpus c;
  c.add("old1", text, 500);
  c.add("old2", text, 600);
  c.add("new", text, 10);  // earlier date, but the old ones were seen first
  const auto g = group(scheme, c, 2);
  EXPECT_EQ(g.representative[0], 0u);
  EXPECT_EQ(g.representative[1], 1u);
  EXPECT_LT(g.representative[2], 2u);
}

// New copies that link to two prior documents join one of them, together, and the prior ones stay
// apart, whichever comes first in the index.
TEST(Dedup, NewCopiesOfTwoPriorDocumentsJoinOneOfThem) {
  const std::string base = test::random_text(9, 300);
  const FingerprintScheme scheme{DedupParams{}};
  for (const bool swapped : {false, true}) {
    Corpus c;
    const std::string a = edit(base, 20, 6), b = edit(base, 21, 6);
    c.add("old-a", swapped ? b : a, 100);
    c.add("old-b", swapped ? a : b, 100);
    c.add("new1", edit(base, 22, 2), 1);
    c.add("new2", edit(base, 23, 2), 1);
    const auto g = group(scheme, c, 2);
    EXPECT_EQ(g.representative[0], 0u);
    EXPECT_EQ(g.representative[1], 1u);
    EXPECT_LT(g.representative[2], 2u) << "swapped " << swapped;
    EXPECT_EQ(g.representative[3], g.representative[2]) << "swapped " << swapped;
  }
}

TEST(Dedup, ChainsOfDuplicatesFormOneGroup) {
  // Each step edits a few more words: neighbours pass the threshold, the ends may not.
  const std::string base = test::random_text(8, 400);
  const FingerprintScheme scheme{DedupParams{}};
  Corpus c;
  std::string text = base;
  for (int i = 0; i < 6; ++i) {
    c.add("step" + std::to_string(i), text);
    text = edit(text, 100 + i, 4);
  }
  const auto g = group(scheme, c);
  for (const DocIndex r : g.representative) EXPECT_EQ(r, g.representative[0]);
}

TEST(Dedup, SameResultAtOneAndTwoThreads) {
  Corpus c;
  std::mt19937 rng(77);
  for (int i = 0; i < 3000; ++i) {
    if (i > 10 && rng() % 3 == 0) {
      const std::size_t source = rng() % c.texts.size();
      c.add("d" + std::to_string(i), edit(c.texts[source], rng(), static_cast<int>(rng() % 12)),
            static_cast<std::int32_t>(rng() % 100));
    } else {
      c.add("d" + std::to_string(i), test::random_text(rng(), 150 + static_cast<int>(rng() % 200)),
            static_cast<std::int32_t>(rng() % 100));
    }
  }
  const FingerprintScheme scheme{DedupParams{}};
  DuplicateGroups one, two;
  {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 1);
    one = group(scheme, c);
  }
  {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 2);
    two = group(scheme, c);
  }
  EXPECT_EQ(one.representative, two.representative);
  EXPECT_EQ(one.similarity, two.similarity);
  EXPECT_EQ(one.candidate_pairs, two.candidate_pairs);
  EXPECT_GT(one.groups, 100u);
}

TEST(Dedup, EmptyInputAndBadSpans) {
  const FingerprintScheme scheme{DedupParams{}};
  EXPECT_TRUE(group(scheme, Corpus{}).representative.empty());
  DedupInput bad;
  std::vector<DocInfo> info(2);
  bad.info = info;
  EXPECT_THROW(find_duplicate_groups(scheme, bad), InvalidArgument);
}

TEST(FingerprintScheme, ValidatesParameters) {
  DedupParams p;
  p.bands = 20;
  p.rows = 10;  // 200 > 128
  EXPECT_THROW(FingerprintScheme{p}, InvalidArgument);
  p.rows = 0;
  EXPECT_THROW(FingerprintScheme{p}, InvalidArgument);
  DedupParams q;
  q.threshold = 0.0;
  EXPECT_THROW(FingerprintScheme{q}, InvalidArgument);
  DedupParams s;
  s.method = DedupMethod::kSimHash;
  s.max_hamming = 16;
  EXPECT_THROW(FingerprintScheme{s}, InvalidArgument);
}

}  // namespace
}  // namespace storyline
