// Every pass over a document's text on any bytes: normalisation, tokens, word and character shingles,
// MinHash and SimHash fingerprints, term and name extraction with the cross-language bridge (names' keys
// and pivots, content words' pivots), the language guess.
#include <cstdlib>

#include "fuzz_util.hpp"
#include "storyline/fingerprint.hpp"
#include "storyline/language.hpp"
#include "storyline/lexicon.hpp"
#include "storyline/terms.hpp"
#include "storyline/text.hpp"

using namespace storyline;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const FingerprintScheme minhash{DedupParams{}};
  static const FingerprintScheme simhash = [] {
    DedupParams p;
    p.method = DedupMethod::kSimHash;
    return FingerprintScheme(p);
  }();
  static Fingerprinter minhasher(minhash), simhasher(simhash);
  static Shingler chars(ShingleParams{ShingleKind::kChar, 4, 0});
  static TermExtractor extractor = [] {
    TfidfParams p;
    p.stem_language = "english";
    p.bigrams = true;
    p.lexicon = Lexicon::from_entries({{Language::kSpanish, "guerra", "war"},
                                       {Language::kFrench, "Syrie", "Syria"},
                                       {Language::kGerman, "Krieg", "war"},
                                       {Language::kItalian, "governo", "government"}});
    p.bridge_weight = 0.5f;
    return TermExtractor(p);
  }();
  const std::string_view text = fuzz::as_text(data, size);
  std::string normalized;
  normalize(text, normalized);
  std::vector<std::string_view> tokens;
  tokenize(normalized, tokens);
  std::vector<std::uint64_t> shingles;
  chars.shingle(text, shingles);
  std::vector<std::uint32_t> a(minhash.words()), b(simhash.words());
  std::vector<std::uint64_t> set;
  minhasher.fingerprint(text, a, &set);
  simhasher.fingerprint(text, b, nullptr);
  if (minhash.similarity(a, a) != 1.0 || set.empty()) std::abort();  // a text always has a feature
  Document doc;
  doc.title = std::string(text.substr(0, text.size() / 4));
  doc.text = std::string(text);
  TermCounts counts;
  TermNames names;
  extractor.extract(doc, counts, &names);
  // Every term but the bridge's has a name, and every name is a term's. A word whose hash carries the
  // bridge's tag by chance (one in 32,768: see tfidf.cpp) has a name too, so names may outnumber them.
  std::size_t named = 0;
  for (const auto& [term, count] : counts.terms) {
    if (is_bridge_term(term)) continue;
    ++named;
    if (names.find(term).empty()) std::abort();
  }
  if (names.size() < named || names.size() > counts.terms.size()) std::abort();
  (void)name_key(normalized);
  (void)guess_language(text);
  return 0;
}
