// The cross-language bridge: content words of other languages mapped to an English pivot word, so
// that articles in different languages on one thread share features. The table is built at set-up from
// the bilingual dictionaries Debian installs (engine/bridge/build_lexicon.py); nothing is downloaded.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "storyline/language.hpp"

namespace storyline {

/// Folds a word for the bridge: accents (combining marks) stripped, of normalised (lower-case) text.
/// Thread-safe.
void fold_accents(std::string_view word, std::string& out);

/// A transliteration-tolerant key of a name (lower-case, accents folded): a leading "al-", "el-",
/// "ad-" or "as-" dropped, its first letter kept (vowels as 'a'), then its consonants alone with c, g,
/// k, q as 'k', z as 's', h and w dropped, and doubled letters once. Gaddafi, Gadafi, Kadhafi,
/// Gheddafi, Qaddafi all give "kdf"; Assad, Asad, al-Assad give "asd". Empty when fewer than three
/// letters remain (too short to tell names apart) or the word is not Latin letters.
std::string name_key(std::string_view folded);

/// Words of es, fr, it, de mapped to English pivots. Immutable once loaded: share it across threads.
class Lexicon {
 public:
  /// Reads a table written by build_lexicon.py ("lang<TAB>word<TAB>pivot" lines, '#' comments). Each
  /// word is normalised, accent-folded and stemmed (Snowball, its language) as documents' tokens will
  /// be, each pivot likewise in English. Throws IoError when the file cannot be read and ParseError
  /// naming file and line for a malformed line.
  static std::shared_ptr<const Lexicon> load(const std::string& path);

  /// Builds a table from (language, word, pivot) entries, as load does from lines (for tests).
  struct Entry {
    Language language;
    std::string word, pivot;
  };
  static std::shared_ptr<const Lexicon> from_entries(const std::vector<Entry>& entries,
                                                     std::string source = "(entries)");

  /// The pivot key of a word (normalised, accent-folded), or else of its stem; an empty view when
  /// neither is known. See Bridge.
  std::string_view find(Language language, const std::string& word, const std::string& stem) const;
  /// True when stem (an English stem) is the pivot of some entry.
  bool is_pivot(const std::string& stem) const { return pivot_set_.contains(stem); }
  /// Entries per language.
  std::size_t size(Language language) const { return sizes_[static_cast<std::size_t>(language)]; }
  /// XXH3 of the entries as loaded, to tell two tables apart (the feed records it).
  std::uint64_t checksum() const { return checksum_; }
  /// The file it came from.
  const std::string& source() const { return source_; }

 private:
  // Per language: accent-folded word -> pivot, and its stem -> pivot (index into pivots_).
  std::array<std::unordered_map<std::string, std::uint32_t>, kLanguageCount> words_, stems_;
  std::array<std::size_t, kLanguageCount> sizes_{};
  std::vector<std::string> pivots_;
  std::unordered_set<std::string> pivot_set_;
  std::uint64_t checksum_ = 0;
  std::string source_;
};

/// Turns a document's tokens into pivot keys: an English token is its own pivot (accent-folded, stemmed
/// in English) when that stem is the pivot of some entry (the vocabulary the other languages reach), a
/// token of another language with a lexicon entry takes that entry's pivot. Keeps Snowball
/// stemmers: one per thread.
class Bridge {
 public:
  explicit Bridge(std::shared_ptr<const Lexicon> lexicon);
  ~Bridge();
  Bridge(Bridge&&) noexcept;
  Bridge& operator=(Bridge&&) noexcept;
  /// The pivot key of a normalised token of a document in `language`, or an empty view (valid until the
  /// next call).
  std::string_view pivot(Language language, std::string_view token);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The lexicon beside the executable ("storyline-lexicon.tsv" in the directory of /proc/self/exe), or
/// the file named by the environment variable STORYLINE_LEXICON; empty when neither exists.
std::string default_lexicon_path();

}  // namespace storyline
