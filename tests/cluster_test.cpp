#include "storyline/cluster.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "storyline/error.hpp"
#include "storyline/tfidf.hpp"

namespace storyline {
namespace {

using RowMatrix = Eigen::SparseMatrix<float, Eigen::RowMajor>;

std::vector<std::string> entity_names(const std::string& title, const std::string& text) {
  TermExtractor extractor{TfidfParams{}};
  TermCounts counts;
  TermNames names;
  Document doc;
  doc.title = title;
  doc.text = text;
  extractor.extract(doc, counts, &names);
  std::size_t named = 0;  // the bridge's features (names' keys) are not shown, so have no name
  for (const auto& [hash, weight] : counts.terms) named += is_bridge_term(hash) ? 0 : 1;
  EXPECT_EQ(names.size(), named);  // one name per term
  std::vector<std::string> out;
  for (const auto& [hash, weight] : counts.terms) {
    if (is_entity_term(hash) && !is_bridge_term(hash)) out.emplace_back(names.find(hash).substr(1));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(TermExtractor, FindsNamesAndTheirLastWords) {
  const auto e =
      entity_names("", "Israeli officials said Benjamin Netanyahu met Vladimir Putin in Moscow on Monday.");
  for (const char* name : {"Benjamin Netanyahu", "Netanyahu", "Vladimir Putin", "Putin", "Moscow"}) {
    EXPECT_NE(std::find(e.begin(), e.end(), name), e.end()) << name;
  }
  EXPECT_EQ(std::find(e.begin(), e.end(), "Monday"), e.end()) << "weekdays are stop words";
}

TEST(TermExtractor, SkipsSentenceOpenersTitleCaseAndPossessives) {
  // "Political" opens a sentence and never appears inside one: not a name. "Syria's" is "Syria".
  const auto e = entity_names(
      "", "Political sources revealed the plan. The talks with Syria's leader Ahmed al-Sharaa went on.");
  EXPECT_EQ(std::find(e.begin(), e.end(), "Political"), e.end());
  EXPECT_NE(std::find(e.begin(), e.end(), "Syria"), e.end());
  EXPECT_NE(std::find(e.begin(), e.end(), "Ahmed al-Sharaa"), e.end());
  EXPECT_NE(std::find(e.begin(), e.end(), "al-Sharaa"), e.end());
  // A title-case headline gives no entities; its words still count as terms.
  EXPECT_TRUE(entity_names("Where Is The Outrage Over Collusion", "the text").empty());
}

TEST(TermExtractor, DropsStopWordsOfFiveLanguagesAndStems) {
  TfidfParams params;
  params.stem_language = "english";
  TermExtractor extractor(params);
  TermCounts counts;
  TermNames names;
  Document doc;
  doc.text = "the talks and los der le il negotiations talking";
  extractor.extract(doc, counts, &names);
  std::vector<std::string> words;
  for (const auto& [hash, weight] : counts.terms) words.emplace_back(names.find(hash));
  std::sort(words.begin(), words.end());
  EXPECT_EQ(words, (std::vector<std::string>{"negoti", "talk"}));
  EXPECT_THROW(TermExtractor(TfidfParams{2.0f, 0.5f, true, "klingon", 0.5}), InvalidArgument);
}

TfidfMatrix matrix_of(const std::vector<std::string>& texts,
                      float own_term_weight = TfidfParams{}.own_term_weight) {
  TfidfParams params;
  params.own_term_weight = own_term_weight;
  TermExtractor extractor{params};
  std::vector<TermCounts> counts(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    Document doc;
    doc.text = texts[i];
    extractor.extract(doc, counts[i], nullptr);
  }
  return build_tfidf(counts, params);
}

TEST(Tfidf, RareTermsGetAColumnOfTheirRowAlone) {
  const auto m = matrix_of(
      {"quake tsunami coast", "quake tsunami warning", "election ballot vote", "election vote unique"}, 1.0f);
  ASSERT_EQ(m.rows.rows(), 4);
  // Shared columns: quake, tsunami, election, vote (each in two documents); coast, warning, ballot and
  // unique, once each, go to one own column per row.
  ASSERT_EQ(m.shared_columns, 4u);
  ASSERT_EQ(m.term_hash.size(), 8u);
  for (std::size_t c = 0; c < 4; ++c) EXPECT_EQ(m.df[c], 2u);
  for (std::size_t c = 4; c < 8; ++c) EXPECT_EQ(m.term_hash[c], kOwnWords);
  // Each row is the unit vector of its three terms, with smoothed idf ln((1 + 4) / (1 + df)) + 1: the
  // two rows about the quake share 2 shared^2 / (2 shared^2 + own^2) of it.
  const double shared = std::log(5.0 / 3.0) + 1.0, own = std::log(5.0 / 2.0) + 1.0;
  for (Eigen::Index r = 0; r < 4; ++r) {
    EXPECT_NEAR(m.rows.row(r).norm(), 1.0, 1e-6);
    EXPECT_NEAR(m.rows.coeff(r, 4 + r), own / std::sqrt(2 * shared * shared + own * own), 1e-6);
  }
  EXPECT_NEAR(m.rows.row(0).dot(m.rows.row(1)), 2 * shared * shared / (2 * shared * shared + own * own),
              1e-6);
  EXPECT_NEAR(m.rows.row(0).dot(m.rows.row(2)), 0.0, 1e-6);
}

// Finding 6 of issue 23: in a collection of two, the words the two share are the only shared columns.
// If only those counted, two documents sharing one word of many would have cosine 1.
TEST(Tfidf, TwoDocumentsSharingOneWordOfManyAreNotAlike) {
  const auto m = matrix_of({"bank rate inflation governor sterling mortgage lender minister",
                            "cup final header trophy captain goalkeeper penalty minister"});
  ASSERT_EQ(m.shared_columns, 1u);  // minister
  const double shared = std::log(3.0 / 3.0) + 1.0,
               own = (std::log(3.0 / 2.0) + 1.0) * TfidfParams{}.own_term_weight;
  // 1 shared term and 7 of its own in each row (the stemmer keeps them apart).
  EXPECT_NEAR(m.rows.row(0).dot(m.rows.row(1)), shared * shared / (shared * shared + 7 * own * own), 1e-6);
  EXPECT_LT(m.rows.row(0).dot(m.rows.row(1)), 0.5);
  // The weight of one-off terms: 0 is the old rule, under which one shared word made them alike.
  const auto without = matrix_of({"bank rate inflation governor sterling mortgage lender minister",
                                  "cup final header trophy captain goalkeeper penalty minister"},
                                 0.0f);
  EXPECT_NEAR(without.rows.row(0).dot(without.rows.row(1)), 1.0, 1e-6);
}

// Sums of rows keep the weight of the terms each row has alone: a cluster's centroid is the normalised
// sum of its unit rows, whatever columns they have.
TEST(Tfidf, OwnColumnsKeepCentroidsExact) {
  const auto m = matrix_of({"quake tsunami coast harbour", "tsunami warning siren",
                            "relief for Mayor Smith after quake", "election ballot vote"});
  ASSERT_EQ(m.shared_columns, 2u);  // quake, tsunami
  const RowMatrix c = centroids(m.rows, std::vector<std::uint32_t>{0, 0, 0, 1}, 2);
  // The centroid of three unit rows is their sum over its norm, and the sum's own part does not vanish.
  const Eigen::SparseVector<float> sum = m.rows.row(0) + m.rows.row(1) + m.rows.row(2);
  EXPECT_NEAR(c.row(0).dot(m.rows.row(2)), sum.dot(m.rows.row(2)) / sum.norm(), 1e-6);
  EXPECT_LT(c.row(0).coeff(0), 0.9f);  // the shared words are not all of it
  int entity_columns = 0;
  for (std::size_t k = m.shared_columns; k < m.term_hash.size(); ++k)
    entity_columns += m.term_hash[k] == kOwnEntities;
  EXPECT_EQ(entity_columns, 1);  // Mayor Smith
}

// Three rows about one topic, two about another, one alone.
RowMatrix toy_rows() {
  std::vector<Eigen::Triplet<float>> t;
  const float a = 1.0f / std::sqrt(2.0f);
  for (int r : {0, 1, 2}) t.emplace_back(r, 0, a), t.emplace_back(r, r + 1, a);  // share column 0
  for (int r : {3, 4}) t.emplace_back(r, 5, a), t.emplace_back(r, r + 3, a);     // share column 5
  t.emplace_back(5, 9, 1.0f);
  RowMatrix m(6, 10);
  m.setFromTriplets(t.begin(), t.end());
  return m;
}

TEST(NeighborGraph, LinksRowsThatShareTermsAndRespectsTheWindow) {
  const RowMatrix m = toy_rows();
  const auto edges = neighbor_graph(m, {}, NeighborParams{});
  std::vector<std::pair<DocIndex, DocIndex>> pairs;
  for (const Edge& e : edges) {
    pairs.emplace_back(e.a, e.b);
    EXPECT_NEAR(e.similarity, 0.5f, 1e-6);
  }
  EXPECT_EQ(pairs, (std::vector<std::pair<DocIndex, DocIndex>>{{0, 1}, {0, 2}, {1, 2}, {3, 4}}));
  NeighborParams windowed;
  windowed.window_days = 3;
  const std::vector<std::int32_t> dates{0, 1, 10, kNoDate, 500, 0};
  const auto near = neighbor_graph(m, dates, windowed);
  pairs.clear();
  for (const Edge& e : near) pairs.emplace_back(e.a, e.b);
  // 0-2 and 1-2 are 9-10 days apart; 3 is undated so it pairs with anything.
  EXPECT_EQ(pairs, (std::vector<std::pair<DocIndex, DocIndex>>{{0, 1}, {3, 4}}));
}

TEST(NeighborGraph, ReportsTheCosineOfEachRowsRankthCandidate) {
  // Row 0 has cosine 0.9, 0.6 and 0.3 with rows 1, 2 and 3 (they share column 0); row 4 shares nothing.
  std::vector<Eigen::Triplet<float>> t;
  t.emplace_back(0, 0, 1.0f);
  const float lead[] = {0.9f, 0.6f, 0.3f};
  for (int r = 1; r <= 3; ++r) {
    t.emplace_back(r, 0, lead[r - 1]);
    t.emplace_back(r, r, std::sqrt(1.0f - lead[r - 1] * lead[r - 1]));
  }
  t.emplace_back(4, 4, 1.0f);
  RowMatrix m(5, 5);
  m.setFromTriplets(t.begin(), t.end());
  std::vector<float> second, third;
  neighbor_graph(m, {}, NeighborParams{}, 2, &second);
  neighbor_graph(m, {}, NeighborParams{}, 3, &third);
  ASSERT_EQ(second.size(), 5u);
  EXPECT_NEAR(second[0], 0.6f, 1e-6);
  EXPECT_NEAR(third[0], 0.3f, 1e-6);
  EXPECT_NEAR(second[1], 0.9f * 0.6f, 1e-6);  // row 1: 0.9 with row 0, 0.54 with row 2, 0.27 with row 3
  EXPECT_EQ(second[4], 0.0f) << "no candidates";
  EXPECT_THROW(neighbor_graph(m, {}, NeighborParams{}, 0, &second), InvalidArgument);
  EXPECT_THROW(neighbor_graph(m, {}, NeighborParams{}, NeighborParams{}.rerank + 1, &second),
               InvalidArgument);
}

TEST(BackgroundSimilarity, IsTheMedianOfTheFlaggedRows) {
  const std::vector<float> values{0.9f, 0.1f, 0.5f, 0.3f, 0.7f};
  EXPECT_FLOAT_EQ(background_similarity(values), 0.5f);
  EXPECT_FLOAT_EQ(background_similarity(values, std::vector<std::uint8_t>{1, 1, 0, 1, 0}), 0.3f);
  EXPECT_FLOAT_EQ(background_similarity(values, std::vector<std::uint8_t>{0, 0, 0, 0, 0}), 0.0f);
  EXPECT_FLOAT_EQ(background_similarity({}), 0.0f);
  EXPECT_THROW(background_similarity(values, std::vector<std::uint8_t>{1}), InvalidArgument);
}

TEST(AverageLinkage, MergesByExactMeanSimilarity) {
  const RowMatrix m = toy_rows();
  const auto edges = neighbor_graph(m, {}, NeighborParams{});
  EXPECT_EQ(average_linkage(m, edges, 0.4f), (std::vector<std::uint32_t>{0, 0, 0, 1, 1, 2}));
  EXPECT_EQ(average_linkage(m, edges, 0.6f), (std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(average_linkage(m, {}, 0.0f), (std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5}));
}

TEST(AverageLinkage, TakesAThresholdPerRow) {
  // Every linked pair has cosine 0.5: rows 0-2 (bar 0.4) merge, rows 3 and 4 (bar 0.6) do not; a pair
  // whose rows' bars average 0.45 (0.3 and 0.6) merges, whatever the scalar threshold.
  const RowMatrix m = toy_rows();
  const auto edges = neighbor_graph(m, {}, NeighborParams{});
  const std::vector<float> bars{0.4f, 0.4f, 0.4f, 0.6f, 0.6f, 0.0f};
  EXPECT_EQ(average_linkage(m, edges, 0.0f, {}, 0.0f, bars), (std::vector<std::uint32_t>{0, 0, 0, 1, 2, 3}));
  const std::vector<float> mixed{0.4f, 0.4f, 0.4f, 0.3f, 0.6f, 0.0f};
  EXPECT_EQ(average_linkage(m, edges, 0.9f, {}, 0.0f, mixed), (std::vector<std::uint32_t>{0, 0, 0, 1, 1, 2}));
  EXPECT_THROW(average_linkage(m, edges, 0.0f, {}, 0.0f, std::vector<float>{0.5f}), InvalidArgument);
}

// Hardening #11: a cluster that absorbs thousands of documents does not rescore all its neighbours at
// every merge. 4,000 rows share one term (and each has one of its own), each linked to 20 rows drawn at
// random: one cluster takes them all, its neighbours are soon every row left, and each of its merges
// rescored them all (801,072 scores here without the bound, which allows 591,977).
TEST(AverageLinkage, Hardening11WorkPerMergeIsBounded) {
  constexpr int kRows = 4000, kLinks = 20;
  std::vector<Eigen::Triplet<float>> entries;
  for (int i = 0; i < kRows; ++i) {
    entries.emplace_back(i, 0, 0.8f);
    entries.emplace_back(i, 1 + i, 0.6f);
  }
  RowMatrix m(kRows, kRows + 1);
  m.setFromTriplets(entries.begin(), entries.end());
  std::vector<Edge> edges;
  std::mt19937 rng(5);
  for (int i = 0; i < kRows; ++i) {
    for (int l = 0; l < kLinks; ++l) {
      const auto j = static_cast<DocIndex>(rng() % kRows);
      if (j != static_cast<DocIndex>(i)) edges.push_back(Edge{static_cast<DocIndex>(i), j});
    }
  }
  std::size_t scored = 0;
  const auto labels = average_linkage(m, edges, 0.3f, {}, 0.0f, {}, &scored);
  EXPECT_EQ(*std::max_element(labels.begin(), labels.end()), 0u);  // one cluster: every mean is 0.64
  EXPECT_LE(scored, edges.size() + std::size_t{kRows} * 2 * 64) << "per-merge work is not bounded";
}

TEST(AverageLinkage, DoesNotChainThroughOneMember) {
  // cos(0,1) = 1, cos(0,2) = cos(1,2) = 0.32, cos(2,3) = 0.95, cos(0,3) = 0. Single link at 0.3 would
  // chain all four; the mean between {0,1} and {2,3} is 0.16, so they stay apart.
  std::vector<Eigen::Triplet<float>> t;
  for (int r : {0, 1, 2}) t.emplace_back(r, 0, 1.0f);
  RowMatrix m(4, 3);
  t.back() = Eigen::Triplet<float>(2, 0, std::sqrt(0.1f));
  t.emplace_back(2, 1, std::sqrt(0.9f));
  t.emplace_back(3, 1, 1.0f);
  m.setFromTriplets(t.begin(), t.end());
  const auto edges = neighbor_graph(m, {}, NeighborParams{});
  const auto labels = average_linkage(m, edges, 0.3f);
  EXPECT_EQ(labels[0], labels[1]);
  EXPECT_NE(labels[3], labels[0]);
}

TEST(AverageLinkage, DatedClustersMergeAtTheirOwnThreshold) {
  const RowMatrix m = toy_rows();  // rows 0-2 pairwise 0.5, rows 3-4 0.5
  const auto edges = neighbor_graph(m, {}, NeighborParams{});
  const std::vector<std::uint8_t> all_dated{1, 1, 1, 1, 1, 1};
  EXPECT_EQ(average_linkage(m, edges, 0.6f, all_dated, 0.4f), (std::vector<std::uint32_t>{0, 0, 0, 1, 1, 2}));
  // Row 2 undated: the pairs with it use the undated threshold, so it stays out.
  const std::vector<std::uint8_t> one_undated{1, 1, 0, 1, 1, 1};
  EXPECT_EQ(average_linkage(m, edges, 0.6f, one_undated, 0.4f),
            (std::vector<std::uint32_t>{0, 0, 1, 2, 2, 3}));
  EXPECT_THROW(average_linkage(m, edges, 0.6f, std::vector<std::uint8_t>{1}, 0.4f), InvalidArgument);
}

TEST(JoinSmallClusters, JoinsTheMostSimilarLargeClusterAboveTheThreshold) {
  // Clusters: {0,1,2} on term 0; {3} = 0.8 term 0 + 0.6 term 5; {4} and {7} on term 9; {5,6} on term 5.
  std::vector<Eigen::Triplet<float>> t;
  for (int r : {0, 1, 2}) t.emplace_back(r, 0, 1.0f);
  t.emplace_back(3, 0, 0.8f), t.emplace_back(3, 5, 0.6f);
  for (int r : {4, 7}) t.emplace_back(r, 9, 1.0f);
  for (int r : {5, 6}) t.emplace_back(r, 5, 1.0f);
  RowMatrix m(8, 10);
  m.setFromTriplets(t.begin(), t.end());
  const std::vector<std::uint32_t> clusters{0, 0, 0, 1, 2, 3, 3, 4};
  auto labels = clusters;
  join_small_clusters(m, labels, 2, 0.5f);
  // {3} joins {0,1,2} (cosine 0.8, above {5,6}'s 0.6); {4} and {7} are both small, so they stay apart.
  EXPECT_EQ(labels, (std::vector<std::uint32_t>{0, 0, 0, 0, 1, 2, 2, 3}));
  labels = clusters;
  join_small_clusters(m, labels, 2, 0.9f);  // nothing reaches 0.9
  EXPECT_EQ(labels, clusters);
  labels = clusters;
  join_small_clusters(m, labels, 1, 0.0f);  // no cluster is smaller than 1
  EXPECT_EQ(labels, clusters);
  std::vector<std::uint32_t> none;
  join_small_clusters(RowMatrix(0, 10), none, 2, 0.5f);
  EXPECT_TRUE(none.empty());
  labels = {0, 1};
  EXPECT_THROW(join_small_clusters(m, labels, 2, 0.5f), InvalidArgument);
}

TEST(JoinAcrossLanguages, JoinsOneClusterPerLanguageByItsNames) {
  // Names (columns): 0 Syria, 1 Assad, 2 Libya, 3 Gaddafi. Clusters: 0 Spanish Syria, 1 Spanish Libya,
  // 2 English Syria (rows 2, 3), 3 English Libya, 4 a second English Syria thread, 5 Spanish, no names.
  std::vector<Eigen::Triplet<float>> t;
  t.emplace_back(0, 0, 0.8f), t.emplace_back(0, 1, 0.6f);
  t.emplace_back(1, 2, 0.6f), t.emplace_back(1, 3, 0.8f);
  t.emplace_back(2, 0, 1.0f), t.emplace_back(3, 0, 0.6f), t.emplace_back(3, 1, 0.8f);
  t.emplace_back(4, 2, 0.8f), t.emplace_back(4, 3, 0.6f);
  t.emplace_back(5, 0, 0.7f), t.emplace_back(5, 1, 0.7f);
  RowMatrix names(7, 4);
  names.setFromTriplets(t.begin(), t.end());
  const std::vector<std::uint8_t> language{3, 3, 1, 1, 1, 1, 3};  // es, es, en, en, en, en, es
  const std::vector<std::uint32_t> weight{5, 4, 3, 3, 6, 2, 1};
  const std::vector<std::uint32_t> clusters{0, 1, 2, 2, 3, 4, 5};
  auto labels = clusters;
  EXPECT_EQ(join_across_languages(names, language, weight, labels, 0.5f), 2u);
  // Spanish Syria joins the English Syria thread most like it (row 5's, cosine 0.99, before rows 2-3's
  // 0.98); that group has English now, so the other English Syria thread stays out. Libya joins Libya.
  EXPECT_EQ(labels, (std::vector<std::uint32_t>{0, 1, 2, 2, 1, 0, 3}));
  labels = clusters;
  EXPECT_EQ(join_across_languages(names, language, weight, labels, 0.999f), 0u);
  EXPECT_EQ(labels, clusters);
  // One language: nothing joins, however alike the names.
  labels = clusters;
  EXPECT_EQ(join_across_languages(names, std::vector<std::uint8_t>(7, 1), weight, labels, 0.1f), 0u);
  EXPECT_EQ(labels, clusters);
  labels = {0, 1};
  EXPECT_THROW(join_across_languages(names, language, weight, labels, 0.5f), InvalidArgument);
}

TEST(RefineClusters, MovesARowToTheClusterItMatchesWithoutItsOwnWeight) {
  // Rows 0, 1 on term 0; row 2 = 0.6 term 0 + 0.8 term 5; rows 3, 4 on term 5. With row 2 in the first
  // cluster, that cluster's centroid without row 2 has cosine 0.6 with it, the second cluster's 0.8
  // (with its own weight counted the first would score 0.81 and keep it).
  std::vector<Eigen::Triplet<float>> t;
  for (int r : {0, 1}) t.emplace_back(r, 0, 1.0f);
  t.emplace_back(2, 0, 0.6f), t.emplace_back(2, 5, 0.8f);
  for (int r : {3, 4}) t.emplace_back(r, 5, 1.0f);
  RowMatrix m(5, 6);
  m.setFromTriplets(t.begin(), t.end());
  const auto edges = neighbor_graph(m, {}, NeighborParams{});
  std::vector<std::uint32_t> labels{0, 0, 0, 1, 1};
  refine_clusters(m, edges, labels, 5);
  EXPECT_EQ(labels, (std::vector<std::uint32_t>{0, 0, 1, 1, 1}));
  labels = {0, 0, 0, 1, 1};
  refine_clusters(m, edges, labels, 0);  // no rounds: unchanged
  EXPECT_EQ(labels, (std::vector<std::uint32_t>{0, 0, 0, 1, 1}));
  labels = {0, 0, 1, 2, 2};  // row 2 alone: single rows stay
  refine_clusters(m, edges, labels, 5);
  EXPECT_EQ(labels, (std::vector<std::uint32_t>{0, 0, 1, 2, 2}));
  labels = {1, 1, 0, 0, 0};  // renumbered in order of first row
  refine_clusters(m, edges, labels, 5);
  EXPECT_EQ(labels, (std::vector<std::uint32_t>{0, 0, 1, 1, 1}));
  labels = {0, 0, 0, 1, 1};
  refine_clusters(m, {}, labels, 5);  // no edges: no other cluster to compare with, nothing moves
  EXPECT_EQ(labels, (std::vector<std::uint32_t>{0, 0, 0, 1, 1}));
  labels = {0, 1};
  EXPECT_THROW(refine_clusters(m, edges, labels, 1), InvalidArgument);
}

TEST(Centroids, AreNormalisedSums) {
  const RowMatrix m = toy_rows();
  const std::vector<std::uint32_t> labels{0, 0, 0, 1, 1, 2};
  const RowMatrix c = centroids(m, labels, 3);
  ASSERT_EQ(c.rows(), 3);
  for (Eigen::Index r = 0; r < 3; ++r) EXPECT_NEAR(c.row(r).norm(), 1.0, 1e-6);
  EXPECT_GT(c.coeff(0, 0), c.coeff(0, 1));  // the shared term dominates the centroid
  EXPECT_THROW(centroids(m, std::vector<std::uint32_t>{0, 0, 0, 1, 1, 3}, 3), InvalidArgument);
}

}  // namespace
}  // namespace storyline
