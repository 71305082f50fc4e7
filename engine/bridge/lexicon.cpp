#include "storyline/lexicon.hpp"

#include <libstemmer.h>
#include <simdjson.h>
#include <utf8proc.h>
#include <xxhash.h>

#include <cstdlib>
#include <fstream>

#include "detail/set_up_file.hpp"
#include "storyline/error.hpp"
#include "storyline/text.hpp"

namespace storyline {
namespace {

// The Snowball algorithm of each language the bridge maps (empty: none).
const char* stem_algorithm(Language language) {
  switch (language) {
    case Language::kEnglish:
      return "english";
    case Language::kGerman:
      return "german";
    case Language::kSpanish:
      return "spanish";
    case Language::kFrench:
      return "french";
    case Language::kItalian:
      return "italian";
    default:
      return nullptr;
  }
}

Language language_of(std::string_view code) {
  for (std::size_t l = 0; l < kLanguageCount; ++l) {
    if (language_name(Language(l)) == code) return Language(l);
  }
  return Language::kUnknown;
}

// One stemmer per language, made on first use.
class Stemmers {
 public:
  Stemmers() = default;
  Stemmers(const Stemmers&) = delete;
  Stemmers& operator=(const Stemmers&) = delete;
  ~Stemmers() {
    for (sb_stemmer* s : stemmers_) {
      if (s != nullptr) sb_stemmer_delete(s);
    }
  }
  // stem(fold(token)) into out.
  void key(Language language, std::string_view token, std::string& folded, std::string& out) {
    fold_accents(token, folded);
    out = folded;
    sb_stemmer*& s = stemmers_[static_cast<std::size_t>(language)];
    if (s == nullptr) {
      const char* algorithm = stem_algorithm(language);
      if (algorithm == nullptr) return;
      s = sb_stemmer_new(algorithm, "UTF_8");
      if (s == nullptr) return;
    }
    const sb_symbol* stem = sb_stemmer_stem(s, reinterpret_cast<const sb_symbol*>(folded.data()),
                                            static_cast<int>(folded.size()));
    if (stem != nullptr)
      out.assign(reinterpret_cast<const char*>(stem), static_cast<std::size_t>(sb_stemmer_length(s)));
  }

 private:
  std::array<sb_stemmer*, kLanguageCount> stemmers_{};
};

}  // namespace

void fold_accents(std::string_view word, std::string& out) {
  out.clear();
  bool ascii = true;
  for (const char c : word) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) {
    out.assign(word);
    return;
  }
  utf8proc_uint8_t* folded = nullptr;
  const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(word.data()),
                              static_cast<utf8proc_ssize_t>(word.size()), &folded,
                              static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK));
  if (n < 0) {
    out.assign(word);
    return;
  }
  out.assign(reinterpret_cast<const char*>(folded), static_cast<std::size_t>(n));
  std::free(folded);
}

std::string name_key(std::string_view folded) {
  for (const std::string_view particle : {"al-", "el-", "ad-", "as-"}) {
    if (folded.size() > particle.size() && folded.substr(0, particle.size()) == particle) {
      folded.remove_prefix(particle.size());
      break;
    }
  }
  std::string key;
  for (std::size_t i = 0; i < folded.size(); ++i) {
    char c = folded[i];
    if (c == '-' || c == '\'') continue;
    if (c < 'a' || c > 'z') return {};
    const bool vowel = c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
    if (key.empty()) {
      key.push_back(vowel ? 'a' : (c == 'c' || c == 'g' || c == 'q') ? 'k' : c == 'z' ? 's' : c);
      continue;
    }
    if (vowel || c == 'h' || c == 'w') continue;
    if (c == 'c' || c == 'g' || c == 'q') c = 'k';
    if (c == 'z') c = 's';
    if (key.back() != c) key.push_back(c);
  }
  if (key.size() < 3) key.clear();
  return key;
}

std::shared_ptr<const Lexicon> Lexicon::from_entries(const std::vector<Entry>& entries, std::string source) {
  auto lexicon = std::make_shared<Lexicon>();
  lexicon->source_ = std::move(source);
  Stemmers stemmers;
  std::string normalized, folded, word_stem, pivot_key;
  std::unordered_map<std::string, std::uint32_t> pivot_index;
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  for (const Entry& e : entries) {
    normalize(e.pivot, normalized);
    stemmers.key(Language::kEnglish, normalized, folded, pivot_key);
    normalize(e.word, normalized);
    stemmers.key(e.language, normalized, folded, word_stem);  // folded: the word without accents
    if (folded.empty() || pivot_key.empty()) continue;
    auto [at, added] = pivot_index.emplace(pivot_key, static_cast<std::uint32_t>(lexicon->pivots_.size()));
    if (added) {
      lexicon->pivots_.push_back(pivot_key);
      lexicon->pivot_set_.insert(pivot_key);
    }
    // A word's own entry first; its stem's first entry (the table is sorted: the same whatever the
    // order of arrival) for the inflected forms the table lacks. "ejército" is "army" though
    // "ejercitar" ("exercise") shares its stem.
    const auto l = static_cast<std::size_t>(e.language);
    if (lexicon->words_[l].emplace(folded, at->second).second) {
      ++lexicon->sizes_[l];
      const std::string line =
          std::string(language_name(e.language)) + '\t' + folded + '\t' + pivot_key + '\n';
      XXH3_64bits_update(state, line.data(), line.size());
    }
    lexicon->stems_[l].emplace(word_stem, at->second);
  }
  lexicon->checksum_ = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return lexicon;
}

std::shared_ptr<const Lexicon> Lexicon::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot read the lexicon " + path);
  std::vector<Entry> entries;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line[0] == '#') continue;
    const auto tab1 = line.find('\t');
    const auto tab2 = tab1 == std::string::npos ? tab1 : line.find('\t', tab1 + 1);
    const Language language =
        tab1 == std::string::npos ? Language::kUnknown : language_of(line.substr(0, tab1));
    if (tab2 == std::string::npos || language == Language::kUnknown || tab2 == tab1 + 1 ||
        tab2 + 1 >= line.size() || !simdjson::validate_utf8(line.data(), line.size())) {
      throw ParseError(path + ":" + std::to_string(number) +
                       ": expected \"lang<TAB>word<TAB>pivot\" with lang one of es, fr, it, de");
    }
    entries.push_back({language, line.substr(tab1 + 1, tab2 - tab1 - 1), line.substr(tab2 + 1)});
  }
  return from_entries(entries, path);
}

std::string_view Lexicon::find(Language language, const std::string& word, const std::string& stem) const {
  const auto l = static_cast<std::size_t>(language);
  if (const auto it = words_[l].find(word); it != words_[l].end()) return pivots_[it->second];
  const auto it = stems_[l].find(stem);
  return it == stems_[l].end() ? std::string_view() : std::string_view(pivots_[it->second]);
}

struct Bridge::Impl {
  std::shared_ptr<const Lexicon> lexicon;
  Stemmers stemmers;
  std::string folded, key;
};

Bridge::Bridge(std::shared_ptr<const Lexicon> lexicon) : impl_(std::make_unique<Impl>()) {
  impl_->lexicon = std::move(lexicon);
}
Bridge::~Bridge() = default;
Bridge::Bridge(Bridge&&) noexcept = default;
Bridge& Bridge::operator=(Bridge&&) noexcept = default;

std::string_view Bridge::pivot(Language language, std::string_view token) {
  Impl& m = *impl_;
  if (m.lexicon == nullptr) return {};
  if (language == Language::kEnglish) {  // only the pivots other languages can reach: a shared vocabulary
    m.stemmers.key(language, token, m.folded, m.key);
    return m.lexicon->is_pivot(m.key) ? std::string_view(m.key) : std::string_view();
  }
  if (m.lexicon->size(language) == 0) return {};
  m.stemmers.key(language, token, m.folded, m.key);
  return m.lexicon->find(language, m.folded, m.key);
}

std::string default_lexicon_path() {
  return detail::set_up_file("STORYLINE_LEXICON", "storyline-lexicon.tsv");
}

}  // namespace storyline
