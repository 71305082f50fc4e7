// Micro benchmarks of the clustering hot paths: term extraction, the TF-IDF build, the neighbour graph,
// average linkage and refinement, on a synthetic news-like corpus with planted events (documents of one event
// share its vocabulary and names). Inputs are built outside the timed loops; each reports items/s
// (documents) and bytes/s (of the documents' title and text). Part of storyline_bench.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "storyline/cluster.hpp"
#include "storyline/terms.hpp"
#include "storyline/tfidf.hpp"

namespace storyline {
namespace {

// n documents of ~2 KB: event (i / 8) gives each of its 8 documents 40 of its 60 event words and two
// of its three names; the rest is drawn from a 5,000-word background vocabulary.
std::vector<Document> event_corpus(std::size_t n) {
  std::mt19937 rng(11);
  std::vector<Document> docs(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t event = i / 8;
    std::string text;
    std::mt19937 event_rng(static_cast<unsigned>(event * 7919 + 1));
    std::vector<std::string> words(60), names(3);
    for (auto& w : words) w.append("ev").append(std::to_string(event_rng() % 200000));
    for (auto& nm : names) nm.append("Name").append(std::to_string(event_rng() % 50000));
    while (text.size() < 2000) {
      if (rng() % 4 == 0) {
        text += words[rng() % 40 + (i % 8 < 4 ? 0 : 20)];
      } else {
        text += 'w';
        text += std::to_string(rng() % 5000);
      }
      if (rng() % 15 == 0) {  // appends: GCC 12 warns falsely (-Wrestrict) on ". " + std::string
        text += ". ";
        text += names[rng() % 3];
        text += " said ";
      } else {
        text += ' ';
      }
    }
    docs[i].id = std::to_string(i);
    docs[i].title.append(names[i % 3]).append(" ").append(words[i % 40]);
    docs[i].text = std::move(text);
    docs[i].date = static_cast<std::int32_t>(19000 + event / 10);
  }
  return docs;
}

std::vector<TermCounts> counts_of(const std::vector<Document>& docs) {
  TermExtractor extractor{TfidfParams{}};
  std::vector<TermCounts> out(docs.size());
  for (std::size_t i = 0; i < docs.size(); ++i) extractor.extract(docs[i], out[i], nullptr);
  return out;
}

// Bytes of title and text: what a run over the corpus reads, for bytes/s.
std::int64_t bytes_of(const std::vector<Document>& docs) {
  std::int64_t n = 0;
  for (const Document& d : docs) n += static_cast<std::int64_t>(d.title.size() + d.text.size());
  return n;
}

std::vector<std::int32_t> dates_of(const std::vector<Document>& docs) {
  std::vector<std::int32_t> out;
  for (const Document& d : docs) out.push_back(d.date);
  return out;
}

void BM_TermExtraction(benchmark::State& state) {
  const auto docs = event_corpus(256);
  TermExtractor extractor{TfidfParams{}};
  TermCounts counts;
  TermNames names;
  std::size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const Document& d = docs[i++ % docs.size()];
    extractor.extract(d, counts, state.range(0) != 0 ? &names : nullptr);
    benchmark::DoNotOptimize(counts.terms.data());
    bytes += d.title.size() + d.text.size();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TermExtraction)->Arg(0)->Arg(1)->ArgName("names");

// One text of N bytes without a hyphen or a sentence break: every pass over it must stay linear
// (hardening #4). Complexity() fits the time against N; a quadratic pass shows as oNSquared.
void BM_TermExtractionBySize(benchmark::State& state) {
  Document doc;
  doc.title = "A Title";
  while (doc.text.size() < static_cast<std::size_t>(state.range(0))) doc.text += "Alpha beta Gamma, ";
  TermExtractor extractor{TfidfParams{}};
  TermCounts counts;
  for (auto _ : state) {
    extractor.extract(doc, counts, nullptr);
    benchmark::DoNotOptimize(counts.terms.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_TermExtractionBySize)
    ->RangeMultiplier(4)
    ->Range(64 << 10, 16 << 20)
    ->Complexity()
    ->Unit(benchmark::kMillisecond);

// A corpus made ready for the stages after term extraction.
struct Prepared {
  std::vector<Document> docs;
  std::vector<TermCounts> counts;
  std::vector<std::int32_t> dates;
  std::int64_t bytes = 0;

  explicit Prepared(std::size_t n)
      : docs(event_corpus(n)), counts(counts_of(docs)), dates(dates_of(docs)), bytes(bytes_of(docs)) {}

  // Per run: every document once.
  void count(benchmark::State& state) const {
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(docs.size()));
    state.SetBytesProcessed(state.iterations() * bytes);
  }
};

NeighborParams windowed() {
  NeighborParams params;
  params.window_days = 3;
  return params;
}

void BM_TfidfBuild(benchmark::State& state) {
  const Prepared corpus(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    const TfidfMatrix m = build_tfidf(corpus.counts, TfidfParams{});
    benchmark::DoNotOptimize(m.rows.nonZeros());
  }
  corpus.count(state);
}
BENCHMARK(BM_TfidfBuild)->Arg(10000)->Arg(50000)->Unit(benchmark::kMillisecond);

void BM_NeighborGraph(benchmark::State& state) {
  const Prepared corpus(static_cast<std::size_t>(state.range(0)));
  const TfidfMatrix m = build_tfidf(corpus.counts, TfidfParams{});
  std::size_t edges = 0;
  for (auto _ : state) {
    const auto graph = neighbor_graph(m.rows, corpus.dates, windowed());
    edges = graph.size();
    benchmark::DoNotOptimize(graph.data());
  }
  state.counters["edges"] = static_cast<double>(edges);
  corpus.count(state);
}
BENCHMARK(BM_NeighborGraph)->Arg(10000)->Arg(50000)->Unit(benchmark::kMillisecond);

void BM_AverageLinkage(benchmark::State& state) {
  const Prepared corpus(static_cast<std::size_t>(state.range(0)));
  const TfidfMatrix m = build_tfidf(corpus.counts, TfidfParams{});
  const auto graph = neighbor_graph(m.rows, corpus.dates, windowed());
  std::uint32_t clusters = 0;
  for (auto _ : state) {
    const auto labels = average_linkage(m.rows, graph, 0.3f);
    clusters = labels.empty() ? 0 : *std::max_element(labels.begin(), labels.end()) + 1;
    benchmark::DoNotOptimize(labels.data());
  }
  state.counters["clusters"] = clusters;  // the corpus plants n / 8 events
  corpus.count(state);
}
BENCHMARK(BM_AverageLinkage)->Arg(10000)->Arg(50000)->Unit(benchmark::kMillisecond);

// Refinement from average linkage's clusters with every 10th document moved into the next event's
// cluster: two rounds, as the thread default. Counts the documents back with their event's cluster.
void BM_RefineClusters(benchmark::State& state) {
  const Prepared corpus(static_cast<std::size_t>(state.range(0)));
  const TfidfMatrix m = build_tfidf(corpus.counts, TfidfParams{});
  const auto graph = neighbor_graph(m.rows, corpus.dates, windowed());
  std::vector<std::uint32_t> start = average_linkage(m.rows, graph, 0.3f);
  for (std::size_t i = 0; i + 8 < start.size(); i += 10) start[i] = start[i + 8];  // i + 8: the next event
  std::vector<std::uint32_t> labels;
  for (auto _ : state) {
    labels = start;
    refine_clusters(m.rows, graph, labels, 2);
    benchmark::DoNotOptimize(labels.data());
  }
  std::size_t home = 0, moved_out = 0;  // moved documents now with their event's first document
  for (std::size_t i = 0; i + 8 < labels.size(); i += 10) {
    ++moved_out;
    if (labels[i] == labels[i - i % 8 + (i % 8 == 0 ? 1 : 0)]) ++home;
  }
  state.counters["moved_home"] = static_cast<double>(home) / static_cast<double>(moved_out);
  corpus.count(state);
}
BENCHMARK(BM_RefineClusters)->Arg(10000)->Arg(50000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace storyline
