#include "storyline/boilerplate.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>

#include <algorithm>
#include <bit>
#include <cmath>

#include "storyline/jsonl.hpp"

namespace storyline {

Boilerplate::Boilerplate(std::vector<std::uint64_t> hashes) : hashes_(std::move(hashes)) {
  std::sort(hashes_.begin(), hashes_.end());
  hashes_.erase(std::unique(hashes_.begin(), hashes_.end()), hashes_.end());
  hashes_.erase(std::remove(hashes_.begin(), hashes_.end(), kEmpty), hashes_.end());
  if (hashes_.empty()) return;
  const std::size_t slots = std::bit_ceil(hashes_.size() * 2 + 1);
  table_.assign(slots, kEmpty);
  mask_ = slots - 1;
  const std::size_t bits = std::max<std::size_t>(64, std::bit_ceil(hashes_.size() * 16));
  bloom_.assign(bits / 64, 0);
  bloom_mask_ = bits - 1;
  for (const std::uint64_t h : hashes_) {
    const std::uint64_t bit = (h >> 32) & bloom_mask_;
    bloom_[bit >> 6] |= std::uint64_t{1} << (bit & 63);
    std::size_t at = h & mask_;
    while (table_[at] != kEmpty) at = (at + 1) & mask_;
    table_[at] = h;
  }
}

std::uint32_t boilerplate_document_bar(const BoilerplateParams& params, std::size_t sampled) {
  return std::max<std::uint32_t>(
      params.min_documents, static_cast<std::uint32_t>(std::ceil(params.df * static_cast<double>(sampled))));
}

LearnedBoilerplate learn_boilerplate(std::span<const std::string> texts, const ShingleParams& shingle,
                                     const BoilerplateParams& params, std::size_t show) {
  LearnedBoilerplate out;
  out.sampled = texts.size();
  if (params.df <= 0.0 || texts.empty()) return out;
  out.min_documents = boilerplate_document_bar(params, texts.size());
  // Every document's shingles (in parallel), then two steps so that no step sorts them all: the
  // shingles of every 8th document are counted by sorting, and those held by at least an eighth of the
  // bar there (halved, for sampling noise) become candidates; then the candidates alone are counted over
  // every document, by lookups in a small table.
  std::vector<std::vector<std::uint64_t>> shingles(texts.size());
  tbb::enumerable_thread_specific<Shingler> shinglers([&] { return Shingler(shingle); });
  constexpr std::size_t kStride = 8;
  tbb::parallel_for(std::size_t{0}, texts.size(), [&](std::size_t i) {
    shinglers.local().shingle(texts[i], shingles[i]);
    if (i % kStride == 0) to_set(shingles[i]);
  });
  std::vector<std::uint64_t> some;
  for (std::size_t i = 0; i < shingles.size(); i += kStride)
    some.insert(some.end(), shingles[i].begin(), shingles[i].end());
  tbb::parallel_sort(some.begin(), some.end());
  const std::size_t strided = (texts.size() + kStride - 1) / kStride;
  const auto bar = static_cast<std::size_t>(
      std::max(1.0, std::floor(0.5 * out.min_documents * strided / static_cast<double>(texts.size()))));
  std::vector<std::uint64_t> candidates;
  for (std::size_t i = 0; i < some.size();) {
    std::size_t j = i + 1;
    while (j < some.size() && some[j] == some[i]) ++j;
    if (j - i >= bar) candidates.push_back(some[i]);
    i = j;
  }
  some = {};
  const Boilerplate probe(candidates);  // sorted, and a fast membership test
  const std::vector<std::uint64_t>& sorted = probe.hashes();
  tbb::enumerable_thread_specific<std::vector<std::uint32_t>> counts(
      [&] { return std::vector<std::uint32_t>(sorted.size(), 0); });
  tbb::enumerable_thread_specific<std::vector<std::size_t>> hits;
  tbb::parallel_for(std::size_t{0}, shingles.size(), [&](std::size_t i) {
    auto& count = counts.local();
    auto& hit = hits.local();
    hit.clear();
    for (const std::uint64_t h : shingles[i]) {
      if (probe.contains(h))
        hit.push_back(std::lower_bound(sorted.begin(), sorted.end(), h) - sorted.begin());
    }
    std::sort(hit.begin(), hit.end());  // once per document
    hit.erase(std::unique(hit.begin(), hit.end()), hit.end());
    for (const std::size_t k : hit) ++count[k];
  });
  std::vector<std::uint32_t> total(sorted.size(), 0);
  for (const auto& count : counts) {
    for (std::size_t k = 0; k < total.size(); ++k) total[k] += count[k];
  }
  shingles = {};
  std::vector<std::uint64_t> found;
  std::vector<BoilerplateShingle> counted;
  for (std::size_t k = 0; k < sorted.size(); ++k) {
    if (total[k] < out.min_documents) continue;
    found.push_back(sorted[k]);
    counted.push_back(BoilerplateShingle{sorted[k], total[k], {}});
  }
  out.set = Boilerplate(std::move(found));
  // The most frequent, with their words from the first sampled text that holds them.
  std::stable_sort(
      counted.begin(), counted.end(),
      [](const BoilerplateShingle& a, const BoilerplateShingle& b) { return a.documents > b.documents; });
  counted.resize(std::min(show, counted.size()));
  Shingler shingler(shingle);
  std::vector<std::uint64_t> hashes;
  std::size_t named = 0;
  for (std::size_t t = 0; t < texts.size() && named < counted.size(); ++t) {
    shingler.shingle(texts[t], hashes);
    for (std::size_t i = 0; i < hashes.size(); ++i) {
      for (BoilerplateShingle& b : counted) {
        if (b.hash == hashes[i] && b.text.empty()) b.text = shingler.words_of(i), ++named;
      }
    }
  }
  out.top = std::move(counted);
  return out;
}

std::vector<std::string> sample_texts(const std::vector<std::string>& paths, const IngestParams& ingest,
                                      std::size_t sample) {
  // The first lines read in order, parsed in parallel.
  std::vector<std::string> lines;
  std::string line;
  for (const std::string& path : paths) {
    if (lines.size() >= sample) break;
    LineReader reader(path, ingest.max_line_bytes);
    for (LineStatus s; lines.size() < sample && (s = reader.next(line)) != LineStatus::kEnd;) {
      if (s == LineStatus::kLine) lines.push_back(line);
    }
  }
  std::vector<std::string> texts(lines.size());
  std::vector<std::uint8_t> ok(lines.size(), 0);
  tbb::enumerable_thread_specific<RecordParser> parsers([&] { return RecordParser(ingest); });
  tbb::parallel_for(std::size_t{0}, lines.size(), [&](std::size_t i) {
    ParsedRecord record;
    parsers.local().parse(lines[i], record);
    if (!record.rejected) texts[i] = std::move(record.doc.text), ok[i] = 1;
  });
  std::size_t kept = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    if (ok[i] && kept++ != i) texts[kept - 1] = std::move(texts[i]);
  }
  texts.resize(kept);
  return texts;
}

}  // namespace storyline
