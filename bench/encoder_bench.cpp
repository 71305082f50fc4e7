// The sentence encoder alone (issue 24's target: >= 1,000 headlines/s on 2 cores): the 6,366 headlines
// of uci_headlines encoded in one call, at 1 and 2 threads; and the tokenizer alone. Needs the model
// (build/release/storyline-encoder.bin, or $STORYLINE_ENCODER) and ../shared/datasets (or
// $STORYLINE_DATASETS); skipped with a message without them.
//   build/release/bench/storyline_bench --benchmark_filter=Encoder
#include <benchmark/benchmark.h>
#include <tbb/global_control.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "storyline/encoder.hpp"

namespace {

struct Headlines {
  std::shared_ptr<const storyline::SentenceEncoder> encoder;
  std::vector<std::string> titles;
  std::string skip;
};

const Headlines& headlines() {
  static const Headlines h = [] {
    Headlines out;
    std::string model = storyline::default_encoder_path();
    if (model.empty() && std::filesystem::exists("build/release/storyline-encoder.bin"))
      model = "build/release/storyline-encoder.bin";  // run from the checkout, as the README says
    if (model.empty()) {
      out.skip = "no encoder model (run the set-up command)";
      return out;
    }
    out.encoder = storyline::SentenceEncoder::load(model);
    const char* env = std::getenv("STORYLINE_DATASETS");
    const std::string data =
        (env != nullptr ? std::string(env) : std::string("../shared/datasets")) + "/uci_headlines/docs.jsonl";
    std::ifstream in(data);
    std::string line;
    const std::string key = "\"title\": \"";
    while (std::getline(in, line)) {  // the titles, unescaped enough for timing (quotes stay escaped)
      const auto at = line.find(key);
      if (at == std::string::npos) continue;
      const auto end = line.find("\", \"", at + key.size());
      out.titles.push_back(line.substr(at + key.size(), end - at - key.size()));
    }
    if (out.titles.empty()) out.skip = "no headlines at " + data;
    return out;
  }();
  return h;
}

void BM_EncoderHeadlines(benchmark::State& state) {
  const Headlines& h = headlines();
  if (!h.skip.empty()) {
    state.SkipWithError(h.skip.c_str());
    return;
  }
  tbb::global_control threads(tbb::global_control::max_allowed_parallelism,
                              static_cast<std::size_t>(state.range(0)));
  std::vector<std::string_view> texts(h.titles.begin(), h.titles.end());
  std::int64_t bytes = 0;
  for (const auto& t : texts) bytes += static_cast<std::int64_t>(t.size());
  for (auto _ : state) benchmark::DoNotOptimize(h.encoder->encode(texts));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(texts.size()));
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_EncoderHeadlines)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_EncoderTokenize(benchmark::State& state) {
  const Headlines& h = headlines();
  if (!h.skip.empty()) {
    state.SkipWithError(h.skip.c_str());
    return;
  }
  std::size_t pieces = 0;
  for (auto _ : state)
    for (const auto& t : h.titles) pieces += h.encoder->tokenize(t).size();
  benchmark::DoNotOptimize(pieces);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(h.titles.size()));
}
BENCHMARK(BM_EncoderTokenize)->Unit(benchmark::kMillisecond);

}  // namespace
