// Terms and named entities of a document, with their counts: what TF-IDF weighs. Free of Eigen, so
// the feed and anything else that needs only terms stays light to compile.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "storyline/document.hpp"

namespace storyline {

/// How documents become term vectors.
struct TfidfParams {
  float title_weight = 2.0f;   ///< a title token counts this many times
  float entity_weight = 0.5f;  ///< multiplies the TF-IDF weight of entity features
  bool stop_words = true;      ///< drop the stop words of en, es, fr, it, de
  std::string stem_language;   ///< a Snowball algorithm ("english", "german", ...); empty: no stemming
  double max_df_ratio = 0.5;   ///< terms in more than this share of the documents are dropped
  bool bigrams = false;        ///< add adjacent content-word pairs as features
  float bigram_weight = 1.0f;  ///< count of a bigram relative to a word
};

/// Term counts of one document: (term hash, weighted count), sorted by hash. Entity features have their
/// own hashes (they never collide with the word of the same spelling).
struct TermCounts {
  std::vector<std::pair<std::uint64_t, float>> terms;
};

/// Extracts terms and entities. Keeps scratch and a stemmer: one per thread.
///
/// Terms: normalised tokens (see text.hpp) of title and text, without stop words and one-character
/// Latin tokens, optionally stemmed. Entities: runs of capitalised words in the original-case text
/// ("Benjamin Netanyahu", "Ahmed al-Sharaa", "Moscow"), a run's first word skipped when it opens a
/// sentence and is a stop word ("The"); each run gives the whole name and its last word as features,
/// so "Netanyahu" alone still matches "Benjamin Netanyahu".
class TermExtractor {
 public:
  explicit TermExtractor(const TfidfParams& params);
  ~TermExtractor();
  TermExtractor(TermExtractor&&) noexcept;
  TermExtractor& operator=(TermExtractor&&) noexcept;

  /// Replaces out with doc's terms. When names is not null, the readable form of each new term is added
  /// to it (entities prefixed "@"), for summaries.
  void extract(const Document& doc, TermCounts& out, std::unordered_map<std::uint64_t, std::string>* names);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// True for hashes made by TermExtractor for entities.
bool is_entity_term(std::uint64_t hash);

}  // namespace storyline
