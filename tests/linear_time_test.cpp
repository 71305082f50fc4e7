// Hardening #4: every pass over a document's text is linear in its size. Each pass runs on texts of
// 256 KB and 4 MB of several adversarial shapes (no hyphens, one long capitalised run, no spaces, all
// hyphens); 16 times the bytes may cost at most 64 times the time (plus 0.25 s of slack for a busy
// machine), each the fastest of a few runs. A linear pass costs ~16x; the quadratic hyphen scan this replaced
// cost ~250x (37 s for 8 MB).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "storyline/fingerprint.hpp"
#include "storyline/language.hpp"
#include "storyline/terms.hpp"
#include "storyline/text.hpp"

namespace storyline {
namespace {

std::string repeat_to(std::string_view unit, std::size_t bytes) {
  std::string out;
  out.reserve(bytes + unit.size());
  while (out.size() < bytes) out += unit;
  return out;
}

// The shapes: what each one stresses is named beside it.
std::vector<std::string> shapes(std::size_t bytes) {
  return {
      repeat_to("quiet words without any hyphen at all ", bytes),  // searches for '-' and names
      repeat_to("Alpha Beta Gamma Delta ", bytes),                 // one capitalised run to the end
      repeat_to("A,b;C.d!", bytes),                                // no spaces: every run is short
      repeat_to("al-Sharaa-bin-x ", bytes),                        // hyphens everywhere
      repeat_to("\xE2\x80\x83\xF0\x9F\x98\x80!?", bytes),          // no word token at all
  };
}

double seconds(const std::function<void()>& pass) {
  const auto start = std::chrono::steady_clock::now();
  pass();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void expect_linear(const std::function<void(const std::string&)>& pass) {
  const auto small = shapes(std::size_t{256} << 10), large = shapes(std::size_t{4} << 20);
  for (std::size_t s = 0; s < small.size(); ++s) {
    // The fastest of a few runs: a busy machine slows single runs, never the best one by much.
    double t_small = 1e9, t_large = 1e9;
    for (int run = 0; run < 3; ++run) t_small = std::min(t_small, seconds([&] { pass(small[s]); }));
    for (int run = 0; run < 2; ++run) t_large = std::min(t_large, seconds([&] { pass(large[s]); }));
    EXPECT_LT(t_large, 64 * t_small + 0.25)
        << "shape " << s << ": " << t_small << " s for 256 KB, " << t_large << " s for 4 MB";
  }
}

TEST(Hardening4LinearTime, TermExtractionOfTitleAndText) {
  TermExtractor extractor{TfidfParams{}};
  TermCounts counts;
  TermNames names;
  expect_linear([&](const std::string& text) {
    Document doc;
    doc.title = "A Title";
    doc.text = text;
    extractor.extract(doc, counts, &names);
  });
}

TEST(Hardening4LinearTime, NormaliseTokeniseAndShingle) {
  std::string normalized;
  std::vector<std::string_view> tokens;
  Shingler shingler;
  std::vector<std::uint64_t> shingles;
  expect_linear([&](const std::string& text) {
    normalize(text, normalized);
    tokenize(normalized, tokens);
    shingler.shingle(text, shingles);
  });
}

TEST(Hardening4LinearTime, FingerprintAndLanguageGuess) {
  const FingerprintScheme scheme{DedupParams{}};
  Fingerprinter fingerprinter(scheme);
  std::vector<std::uint32_t> fingerprint(scheme.words());
  expect_linear([&](const std::string& text) {
    fingerprinter.fingerprint(text, fingerprint, nullptr);
    (void)guess_language(text);
  });
}

}  // namespace
}  // namespace storyline
