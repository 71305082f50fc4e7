// Terms and named entities of a document, with their counts: what TF-IDF weighs. Free of Eigen, so
// the feed and anything else that needs only terms stays light to compile.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storyline/document.hpp"
#include "storyline/language.hpp"

namespace storyline {

class Lexicon;

/// How documents become term vectors.
struct TfidfParams {
  float title_weight = 2.0f;   ///< a title token counts this many times
  float entity_weight = 0.5f;  ///< multiplies the TF-IDF weight of entity features
  bool stop_words = true;      ///< drop the stop words of en, es, fr, it, de
  std::string stem_language;   ///< a Snowball algorithm ("english", "german", ...); empty: no stemming
  double max_df_ratio = 0.5;   ///< terms in more than this share of the documents are dropped
  bool bigrams = false;        ///< add adjacent content-word pairs as features
  float bigram_weight = 1.0f;  ///< count of a bigram relative to a word
  /// Batch TF-IDF (build_tfidf): the idf of a term found in one document only is multiplied by this. 0
  /// leaves such terms out of the norms (a pair sharing its only common word then has cosine 1), 1
  /// weighs them like any other term (a corpus's many one-off names, numbers and typos then take much
  /// of every vector); 0.3 measured best across the labelled sets (bench/README.md).
  float own_term_weight = 0.3f;
  /// The cross-language bridge (lexicon.hpp). Each one-word name (entity) adds its English pivot
  /// ("Siria", "Syrie" -> "syria"; an English name is its own, when some entry reaches it) and its
  /// transliteration-tolerant key (name_key: Gaddafi, Kadhafi, Gheddafi as one; needs no lexicon),
  /// each counted name_key_weight times (0: neither). Each content word adds its pivot ("guerra",
  /// "guerre" -> "war") counted bridge_weight times: 0 by default, as content words measured no help
  /// to threads across languages (bench/README.md), names did. Null lexicon: no pivots, keys only.
  std::shared_ptr<const Lexicon> lexicon = nullptr;
  float bridge_weight = 0.0f;
  float name_key_weight = 0.5f;
  /// Set when stored parameters name a lexicon (the feed's state): the checksum the lexicon given
  /// must have. 0: none named.
  std::uint64_t lexicon_checksum = 0;
};

/// Term counts of one document: (term hash, weighted count), sorted by hash. Entity features have their
/// own hashes (they never collide with the word of the same spelling).
struct TermCounts {
  std::vector<std::pair<std::uint64_t, float>> terms;
};

/// Readable forms of one document's terms (entities prefixed "@"), for summaries: the names in one
/// buffer, one entry per term, no allocation per name.
class TermNames {
 public:
  void clear() {
    text_.clear();
    entries_.clear();
  }
  /// Adds term's name as prefix + name (callers add each term once).
  void add(std::uint64_t term, std::string_view prefix, std::string_view name);
  /// The name of term, or an empty view when there is none. A scan: meant for the few terms a caller
  /// has no name for yet (the feed asks only for vector terms it has never named).
  std::string_view find(std::uint64_t term) const;
  std::size_t size() const { return entries_.size(); }
  template <typename F>
  void for_each(F&& f) const {
    for (const Entry& e : entries_) f(e.term, std::string_view(text_).substr(e.offset, e.length));
  }

 private:
  struct Entry {
    std::uint64_t term;
    std::uint32_t offset, length;
  };
  std::string text_;
  std::vector<Entry> entries_;
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

  /// Replaces out with doc's terms. When names is not null, it is cleared and given the readable form
  /// of each term (its first spelling in the document), for summaries.
  void extract(const Document& doc, TermCounts& out, TermNames* names);
  /// The same for a document whose language the caller has guessed already (guess_language of its
  /// text, or of its title when the text is empty), which the bridge uses.
  void extract(const Document& doc, TermCounts& out, TermNames* names, Language language);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// True for hashes made by TermExtractor for entities.
bool is_entity_term(std::uint64_t hash);

/// True for the features of the cross-language bridge: pivot words, and the pivots and keys of names
/// (those are entity terms too).
bool is_bridge_term(std::uint64_t hash);

}  // namespace storyline
