// The compact store of a batch job's term counts (engine/detail/term_store.hpp) and the shaped TF-IDF
// built from it: what it gives back is what it was given, from many threads, in fewer bytes.
#include "detail/term_store.hpp"

#include <gtest/gtest.h>
#include <tbb/parallel_for.h>

#include <cmath>
#include <random>

#include "storyline/cluster.hpp"
#include "storyline/cluster_job.hpp"
#include "storyline/tfidf.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

using RowMatrix = Eigen::SparseMatrix<float, Eigen::RowMajor>;

// Documents of random terms drawn from a vocabulary of `vocabulary` hashes (all bits used, the entity
// bit and the bridge's tag included), with counts in quarters and some that are not.
std::vector<TermCounts> random_documents(std::size_t n, std::size_t vocabulary, std::uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> hashes(vocabulary);
  for (auto& h : hashes) h = rng();
  hashes[0] = 0;  // a hash of zero is a hash like any other
  const float odd[] = {0.3f, 64.0f, 1000.5f, 1e-7f, 0.1f};
  std::vector<TermCounts> docs(n);
  for (auto& d : docs) {
    const std::size_t terms = rng() % 200;  // 0 included: an empty document
    for (std::size_t t = 0; t < terms; ++t) {
      const float count = rng() % 10 == 0 ? odd[rng() % 5] : static_cast<float>(1 + rng() % 255) / 4.0f;
      d.terms.emplace_back(hashes[rng() % vocabulary], count);
    }
    std::sort(d.terms.begin(), d.terms.end());
    d.terms.erase(std::unique(d.terms.begin(), d.terms.end(),
                              [](const auto& a, const auto& b) { return a.first == b.first; }),
                  d.terms.end());
  }
  return docs;
}

TEST(TermStore, GivesBackWhatItWasGivenFromManyThreadsInAQuarterOfTheBytes) {
  const auto docs = random_documents(20000, 5000, 11);
  detail::TermStore store;
  store.resize(docs.size());
  tbb::parallel_for(std::size_t{0}, docs.size(), [&](std::size_t i) { store.put(i, docs[i]); });
  std::size_t terms = 0;
  TermCounts back;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    store.get(i, back);
    ASSERT_EQ(back.terms, docs[i].terms) << "document " << i;  // hashes and counts exactly
    terms += docs[i].terms.size();
  }
  EXPECT_EQ(store.terms(), 5000u);
  // 16 bytes a term as TermCounts; the store with its table and blocks: under a quarter of that here.
  EXPECT_LT(store.bytes(), terms * 4);
  // Keeping some documents renumbers them in the order given.
  const std::vector<std::uint32_t> kept = {19999, 7, 0, 7};
  store.keep(kept);
  ASSERT_EQ(store.size(), kept.size());
  for (std::size_t k = 0; k < kept.size(); ++k) {
    store.get(k, back);
    EXPECT_EQ(back.terms, docs[kept[k]].terms) << "kept " << k;
  }
  // Spilled to a temporary file, it reads the same, from many threads at once.
  const std::size_t held = store.bytes();
  store.spill();
  EXPECT_LT(store.bytes(), held);
  tbb::parallel_for(std::size_t{0}, std::size_t{400}, [&](std::size_t i) {
    TermCounts read;
    store.get(i % kept.size(), read);
    EXPECT_EQ(read.terms, docs[kept[i % kept.size()]].terms);
  });
  store.clear();
  EXPECT_EQ(store.size(), 0u);
}

TEST(TermStore, ASlotNeverStoredHasNoTerms) {
  detail::TermStore store;
  store.resize(3);
  TermCounts one;
  one.terms = {{7, 1.0f}};
  store.put(1, one);
  TermCounts back;
  back.terms = {{1, 1.0f}};
  store.get(0, back);
  EXPECT_TRUE(back.terms.empty());
  store.get(1, back);
  EXPECT_EQ(back.terms, one.terms);
}

TfidfMatrix shaped(const std::vector<TermCounts>& docs, TfidfShape shape) {
  return build_tfidf(
      docs.size(), [&](std::size_t i, TermCounts& out) { out = docs[i]; }, TfidfParams{}, shape);
}

// Documents of real text, some with the bridge's features (names' keys).
std::vector<TermCounts> news() {
  const char* texts[] = {
      "Israeli officials said Benjamin Netanyahu met Vladimir Putin in Moscow on Syria talks.",
      "Putin and Netanyahu discussed Syria and Iran in Moscow, officials said.",
      "Syrian forces and Russian mediators: Damascus talks with Israel continue, Putin said.",
      "The central bank raised interest rates as inflation rose in Britain and Europe.",
      "Inflation in Europe: the bank held rates, the governor said in London.",
      "Flooding in Bangladesh displaced thousands as the monsoon rains went on."};
  TermExtractor extractor{TfidfParams{}};
  std::vector<TermCounts> docs(std::size(texts));
  for (std::size_t i = 0; i < docs.size(); ++i) {
    Document doc;
    doc.text = texts[i];
    extractor.extract(doc, docs[i], nullptr);
  }
  return docs;
}

TEST(TfidfShape, WithoutTheBridgeIsTheFullRowsWithTheBridgePrunedAndNormalisedAgain) {
  const auto docs = news();
  const TfidfMatrix full = shaped(docs, {});
  RowMatrix pruned = full.rows;
  bool any_bridge = false;
  pruned.prune([&](Eigen::Index, Eigen::Index c, float) {
    const bool bridge = is_bridge_term(full.term_hash[static_cast<std::size_t>(c)]);
    any_bridge |= bridge;
    return !bridge;
  });
  ASSERT_TRUE(any_bridge) << "the texts must carry names' keys for this test to say anything";
  normalize_rows(pruned);
  const TfidfMatrix without = shaped(docs, {true, 0});
  for (std::size_t c = 0; c < without.term_hash.size(); ++c)
    EXPECT_FALSE(is_bridge_term(without.term_hash[c]));
  // Same cosines between every pair (the columns are numbered apart, the vectors are the same).
  for (Eigen::Index a = 0; a < pruned.rows(); ++a) {
    for (Eigen::Index b = 0; b < pruned.rows(); ++b) {
      EXPECT_NEAR(without.rows.row(a).dot(without.rows.row(b)), pruned.row(a).dot(pruned.row(b)), 1e-6)
          << a << " " << b;
    }
  }
}

TEST(TfidfShape, ACappedRowKeepsItsHeaviestTermsAndItsNorm) {
  const auto docs = random_documents(400, 300, 5);
  const TfidfMatrix full = shaped(docs, {});
  const std::uint32_t cap = 20;
  const TfidfMatrix capped = shaped(docs, {false, cap});
  ASSERT_EQ(capped.shared_columns, full.shared_columns);  // the same terms, the same columns
  std::size_t rows_cut = 0;
  for (Eigen::Index r = 0; r < full.rows.rows(); ++r) {
    std::vector<std::pair<float, int>> shared;  // the full row's shared entries, heaviest first
    for (RowMatrix::InnerIterator it(full.rows, r); it; ++it) {
      if (static_cast<std::size_t>(it.index()) < full.shared_columns)
        shared.emplace_back(it.value(), it.index());
    }
    std::sort(shared.begin(), shared.end(),
              [](auto x, auto y) { return x.first != y.first ? x.first > y.first : x.second < y.second; });
    std::size_t kept = 0;
    for (RowMatrix::InnerIterator it(capped.rows, r); it; ++it) {
      if (static_cast<std::size_t>(it.index()) >= capped.shared_columns) continue;
      ASSERT_LT(kept, shared.size());
      ++kept;
      // Every kept entry is one of the full row's heaviest, at the same weight: the norm is unchanged.
      EXPECT_NEAR(it.value(), full.rows.coeff(r, it.index()), 1e-6);
      EXPECT_GE(it.value(), shared[std::min<std::size_t>(cap, shared.size()) - 1].first - 1e-6f);
    }
    EXPECT_EQ(kept, std::min<std::size_t>(cap, shared.size()));
    rows_cut += shared.size() > cap ? 1 : 0;
    if (full.rows.row(r).nonZeros() > 0) {
      EXPECT_NEAR(capped.rows.row(r).norm(), 1.0, 1e-5);
    }
  }
  EXPECT_GT(rows_cut, 100u) << "the cap must bite for this test to say anything";
}

TEST(Centroids, ACappedCentroidKeepsItsHeaviestTermsAndTheUncappedIsTheSum) {
  const auto docs = random_documents(300, 200, 3);
  const TfidfMatrix m = shaped(docs, {});
  std::vector<std::uint32_t> labels(docs.size());
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::uint32_t>(i % 7);
  const RowMatrix whole = centroids(m.rows, labels, 7);
  // The uncapped centroid is the normalised sum of the rows.
  for (Eigen::Index c = 0; c < 7; ++c) {
    Eigen::SparseVector<float> sum(m.rows.cols());
    for (std::size_t i = 0; i < labels.size(); ++i)
      if (labels[i] == c) sum += m.rows.row(static_cast<Eigen::Index>(i)).transpose();
    sum /= sum.norm();
    EXPECT_NEAR((whole.row(c).transpose() - sum).norm(), 0.0, 1e-5);
  }
  const RowMatrix capped = centroids(m.rows, labels, 7, 30);
  for (Eigen::Index c = 0; c < 7; ++c) {
    ASSERT_EQ(capped.row(c).nonZeros(), 30);
    std::vector<float> weights;
    for (RowMatrix::InnerIterator it(whole, c); it; ++it) weights.push_back(it.value());
    std::sort(weights.rbegin(), weights.rend());
    float smallest_kept = 1.0f;
    for (RowMatrix::InnerIterator it(capped, c); it; ++it)
      smallest_kept = std::min(smallest_kept, whole.coeff(c, it.index()));
    EXPECT_FLOAT_EQ(smallest_kept, weights[29]);  // the 30 heaviest, no other
    EXPECT_NEAR(capped.row(c).norm(), 1.0, 1e-5);
  }
}

// The job with its terms spilled to a file writes what it writes with them in memory, and reports the
// peak memory after each phase.
TEST(ClusterJob, SpilledTermsGiveTheSameOutputAndEveryPhaseHasItsPeak) {
  test::TempDir dir;
  ASSERT_EQ(test::run_cli("generate -n 2000 --seed 9 -o " + dir.path("gen.jsonl")).exit_code, 0);
  std::string outputs[2];
  for (const std::size_t spill : {std::size_t{1} << 40, std::size_t{0}}) {
    ClusterJobOptions options;
    options.inputs = {dir.path("gen.jsonl")};
    options.annotated_path = dir.path("out");
    options.stories_path = dir.path("stories");
    options.spill_terms_above = spill;
    const ClusterJobReport report = run_cluster_job(options);
    outputs[spill == 0 ? 1 : 0] = test::read_file(dir.path("out")) + test::read_file(dir.path("stories"));
    ASSERT_EQ(report.phase_peak_mb.size(), report.phases.size());
    for (std::size_t p = 0; p < report.phases.size(); ++p) {
      EXPECT_EQ(report.phase_peak_mb[p].first, report.phases[p].first);
      EXPECT_GT(report.phase_peak_mb[p].second, 1.0) << report.phases[p].first;  // MB
    }
    EXPECT_GT(report.stories, 100u);
  }
  EXPECT_FALSE(outputs[0].empty());
  EXPECT_EQ(outputs[0], outputs[1]);
}

TEST(TfidfColumns, RowsOfAnyPartAreTheWholeCollectionsRows) {
  const auto docs = news();
  const auto terms_of = [&](std::size_t i, TermCounts& out) { out = docs[i]; };
  for (const TfidfShape shape : {TfidfShape{}, TfidfShape{true, 3}}) {
    const TfidfMatrix whole = build_tfidf(docs.size(), terms_of, TfidfParams{}, shape);
    const TfidfColumns columns = tfidf_columns(docs.size(), terms_of, TfidfParams{}, shape);
    const std::vector<std::uint32_t> part = {4, 0, 2};  // any order
    const TfidfMatrix rows = tfidf_rows(columns, part, terms_of);
    ASSERT_EQ(rows.rows.rows(), 3);
    EXPECT_EQ(rows.shared_columns, whole.shared_columns);
    for (std::size_t k = 0; k < part.size(); ++k) {
      // The same entries, bit for bit; own columns (after the shared ones) are numbered in the part.
      std::vector<std::pair<std::uint64_t, float>> a, b;
      for (RowMatrix::InnerIterator it(whole.rows, part[k]); it; ++it)
        a.emplace_back(whole.term_hash[static_cast<std::size_t>(it.index())], it.value());
      for (RowMatrix::InnerIterator it(rows.rows, static_cast<Eigen::Index>(k)); it; ++it)
        b.emplace_back(rows.term_hash[static_cast<std::size_t>(it.index())], it.value());
      EXPECT_EQ(a, b) << "row " << part[k];
      EXPECT_FALSE(a.empty());
    }
  }
}

}  // namespace
}  // namespace storyline
