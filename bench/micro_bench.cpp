// Micro benchmarks of the dedup hot paths (the clustering ones: cluster_micro_bench.cpp). Inputs are
// built outside the timed loops; every benchmark reports bytes/s or items/s. Run:
// build/bench/bench/storyline_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "storyline/fingerprint.hpp"
#include "storyline/jsonl.hpp"
#include "storyline/lsh.hpp"
#include "storyline/minhash.hpp"
#include "storyline/simhash.hpp"
#include "storyline/text.hpp"

namespace storyline {
namespace {

// About 2 KB of English-like ASCII text, like the documents of the end-to-end bench.
std::string sample_text(unsigned seed, bool accents = false) {
  static const char* kWords[] = {"the",       "minister", "said",   "talks",    "would", "resume",  "in",
                                 "moscow",    "after",    "border", "security", "deal",  "reached", "with",
                                 "officials", "monday",   "army",   "drone",    "shot",  "down",    "golan"};
  std::mt19937 rng(seed);
  std::string text;
  while (text.size() < 2000) {
    text += kWords[rng() % std::size(kWords)];
    text += std::to_string(rng() % 50);
    text += (rng() % 12 == 0) ? ". " : " ";
    if (accents && rng() % 10 == 0) text += "caf\xC3\xA9 ";
  }
  return text;
}

std::vector<std::uint64_t> sample_shingles(unsigned seed) {
  Shingler shingler;
  std::vector<std::uint64_t> out;
  shingler.shingle(sample_text(seed), out);
  return out;
}

void BM_NormalizeTokenize(benchmark::State& state) {
  const std::string text = sample_text(1, state.range(0) != 0);
  std::string normalized;
  std::vector<std::string_view> tokens;
  for (auto _ : state) {
    normalize(text, normalized);
    tokenize(normalized, tokens);
    benchmark::DoNotOptimize(tokens.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(state.range(0) != 0 ? "utf8proc path" : "ASCII fast path");
}
BENCHMARK(BM_NormalizeTokenize)->Arg(0)->Arg(1);

void BM_ShingleHashing(benchmark::State& state) {
  const std::string text = sample_text(2);
  Shingler shingler;
  std::vector<std::uint64_t> out;
  for (auto _ : state) {
    shingler.shingle(text, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ShingleHashing);

void BM_MinHash(benchmark::State& state) {
  const auto shingles = sample_shingles(3);
  const MinHasher hasher(MinHashParams{static_cast<std::uint32_t>(state.range(0)), 1});
  std::vector<std::uint32_t> sig(hasher.num_hashes());
  for (auto _ : state) {
    hasher.sign(shingles, sig);
    benchmark::DoNotOptimize(sig.data());
  }
  // bytes: the 64-bit shingle hashes signed
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * shingles.size() * sizeof(std::uint64_t)));
  state.SetItemsProcessed(state.iterations());
  state.counters["shingles"] = static_cast<double>(shingles.size());
}
BENCHMARK(BM_MinHash)->Arg(64)->Arg(128)->Arg(256);

void BM_SimHash(benchmark::State& state) {
  const auto shingles = sample_shingles(4);
  for (auto _ : state) benchmark::DoNotOptimize(simhash(shingles));
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * shingles.size() * sizeof(std::uint64_t)));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SimHash);

// Normalise, shingle and sign: the whole per-document fingerprint.
void BM_Fingerprint(benchmark::State& state) {
  const std::string text = sample_text(5);
  DedupParams params;
  params.method = state.range(0) == 0 ? DedupMethod::kMinHash : DedupMethod::kSimHash;
  const FingerprintScheme scheme(params);
  Fingerprinter fingerprinter(scheme);
  std::vector<std::uint32_t> fp(scheme.words());
  for (auto _ : state) {
    fingerprinter.fingerprint(text, fp, nullptr);
    benchmark::DoNotOptimize(fp.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(state.range(0) == 0 ? "minhash k=128" : "simhash");
}
BENCHMARK(BM_Fingerprint)->Arg(0)->Arg(1);

void BM_JsonlParse(benchmark::State& state) {
  const std::string line =
      "{\"id\":\"doc-12345\",\"title\":\"A headline\",\"date\":\"2024-03-01\",\"text\":\"" + sample_text(6) +
      "\",\"label\":\"x\"}";
  RecordParser parser;
  ParsedRecord record;
  for (auto _ : state) {
    parser.parse(line, record);
    benchmark::DoNotOptimize(record.doc.text.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * line.size()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_JsonlParse);

std::vector<std::uint64_t> random_keys(std::size_t n, std::uint32_t tables) {
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> keys(n * tables);
  for (auto& k : keys) k = rng();
  return keys;
}

void BM_LshInsert(benchmark::State& state) {
  const std::size_t n = 100000;
  const std::uint32_t tables = 14;
  const auto keys = random_keys(n, tables);
  for (auto _ : state) {
    LshIndex index(tables);
    for (std::size_t d = 0; d < n; ++d) {
      index.insert(static_cast<DocIndex>(d), std::span(keys).subspan(d * tables, tables));
    }
    benchmark::DoNotOptimize(index.memory_bytes());
  }
  // bytes: the band keys inserted
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n * tables * sizeof(std::uint64_t)));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_LshInsert)->Unit(benchmark::kMillisecond);

void BM_LshQuery(benchmark::State& state) {
  const std::size_t n = 100000;
  const std::uint32_t tables = 14;
  const auto keys = random_keys(n, tables);
  LshIndex index(tables);
  index.build(keys, n);
  std::vector<DocIndex> out;
  std::size_t d = 0;
  for (auto _ : state) {
    index.query(std::span(keys).subspan(d * tables, tables), out);
    benchmark::DoNotOptimize(out.data());
    d = (d + 7919) % n;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * tables * sizeof(std::uint64_t)));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LshQuery);

}  // namespace
}  // namespace storyline
