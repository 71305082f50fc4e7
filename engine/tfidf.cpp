#include "storyline/tfidf.hpp"

#include <libstemmer.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>
#include <utf8proc.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <unordered_set>

#include "detail/flat_map.hpp"
#include "storyline/error.hpp"
#include "storyline/language.hpp"
#include "storyline/lexicon.hpp"
#include "storyline/stopwords.hpp"
#include "storyline/text.hpp"

namespace storyline {
namespace {

// The top bit tells entities from words.
constexpr std::uint64_t kEntityBit = std::uint64_t{1} << 63;

std::uint64_t word_hash(std::string_view term) { return XXH3_64bits(term.data(), term.size()) & ~kEntityBit; }
std::uint64_t entity_hash(std::string_view name) {
  return XXH3_64bits(name.data(), name.size()) | kEntityBit;
}
// The bridge's features (pivot words; names' keys and pivots) carry a 16-bit tag in their top bits, the
// entity bit included for names, so that thread linking can weigh them apart. Words and entities keep
// their hashes (stored feed states hold them); one word in 32,768 carries the tag by chance and is
// weighed as a pivot, which is noise, not an error.
constexpr std::uint64_t kTagShift = 48, kPivotTag = 0x5B1D, kNameTag = kPivotTag | 0x8000;
constexpr std::uint64_t kPivotSeed = 0x70697674ULL, kNameKeySeed = 0x6e6b6579ULL,
                        kNamePivotSeed = 0x6e707674ULL;
std::uint64_t tagged(std::uint64_t hash, std::uint64_t tag) {
  return (hash & ((std::uint64_t{1} << kTagShift) - 1)) | (tag << kTagShift);
}
std::uint64_t pivot_hash(std::string_view pivot) {
  return tagged(XXH3_64bits_withSeed(pivot.data(), pivot.size(), kPivotSeed), kPivotTag);
}
std::uint64_t name_key_hash(std::string_view key) {
  return tagged(XXH3_64bits_withSeed(key.data(), key.size(), kNameKeySeed), kNameTag);
}
std::uint64_t name_pivot_hash(std::string_view pivot) {
  return tagged(XXH3_64bits_withSeed(pivot.data(), pivot.size(), kNamePivotSeed), kNameTag);
}

// Reads one code point; returns its length (1 for invalid bytes). ASCII without a call.
std::size_t next_code_point(std::string_view s, std::size_t i, utf8proc_int32_t& cp) {
  if (static_cast<unsigned char>(s[i]) < 0x80) {
    cp = static_cast<unsigned char>(s[i]);
    return 1;
  }
  const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                  static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
  if (n <= 0) {
    cp = -1;
    return 1;
  }
  return static_cast<std::size_t>(n);
}

bool is_upper(utf8proc_int32_t cp) {
  if (cp >= 0 && cp < 0x80) return cp >= 'A' && cp <= 'Z';
  const auto c = utf8proc_category(cp);
  return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LT;
}

bool is_name_char(utf8proc_int32_t cp) {
  if (cp == '-' || cp == '\'' || cp == 0x2019) return true;  // al-Sharaa, O'Brien
  if (cp >= 0 && cp < 0x80) {
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
  }
  const auto c = utf8proc_category(cp);
  return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) || c == UTF8PROC_CATEGORY_ND ||
         c == UTF8PROC_CATEGORY_MN;
}

}  // namespace

bool is_entity_term(std::uint64_t hash) { return (hash & kEntityBit) != 0; }

bool is_bridge_term(std::uint64_t hash) {
  const std::uint64_t tag = hash >> kTagShift;
  return (tag == kPivotTag || tag == kNameTag) && hash != kOwnWords && hash != kOwnEntities;
}

struct TermExtractor::Impl {
  TfidfParams params;
  sb_stemmer* stemmer = nullptr;
  std::string normalized;
  std::vector<std::string_view> tokens;
  detail::FlatHashMap<float> counts;  // refilled per document without allocating
  std::string name, folded, accentless;
  std::unique_ptr<Bridge> bridge;          // when params.lexicon is set
  Language language = Language::kUnknown;  // of the document being extracted

  ~Impl() {
    if (stemmer != nullptr) sb_stemmer_delete(stemmer);
  }

  // Counts a term; its name is taken at its first occurrence in the document.
  void count(std::uint64_t h, float weight, TermNames* names, std::string_view prefix,
             std::string_view name) {
    float& c = counts[h];
    if (c == 0.0f && names != nullptr) names->add(h, prefix, name);
    c += weight;
  }

  void add_word(std::string_view token, float weight, TermNames* names) {
    if (params.stop_words && is_stop_word(token)) return;
    if (token.size() == 1 && static_cast<unsigned char>(token[0]) < 0x80) return;
    if (bridge != nullptr && params.bridge_weight > 0.0f) {  // unnamed: summaries show the words themselves
      const std::string_view pivot = bridge->pivot(language, token);
      if (!pivot.empty()) count(pivot_hash(pivot), weight * params.bridge_weight, nullptr, "", pivot);
    }
    if (stemmer != nullptr) {
      const sb_symbol* stem = sb_stemmer_stem(stemmer, reinterpret_cast<const sb_symbol*>(token.data()),
                                              static_cast<int>(token.size()));
      if (stem != nullptr) {
        token = std::string_view(reinterpret_cast<const char*>(stem),
                                 static_cast<std::size_t>(sb_stemmer_length(stemmer)));
      }
    }
    count(word_hash(token), weight, names, "", token);
  }

  void add_entity(std::string_view display, float weight, TermNames* names) {
    normalize(display, folded);
    count(entity_hash(folded), weight, names, "@", display);
    // The run's last word comes on its own; unnamed: summaries show the names themselves.
    if (params.name_key_weight <= 0.0f || folded.find(' ') != std::string::npos) return;
    if (bridge != nullptr) {  // "Siria", "Syrie" and "Syria" as one name
      const std::string_view pivot = bridge->pivot(language, folded);
      if (!pivot.empty()) count(name_pivot_hash(pivot), weight * params.name_key_weight, nullptr, "", pivot);
    }
    fold_accents(folded, accentless);
    const std::string key = name_key(accentless);
    if (!key.empty()) count(name_key_hash(key), weight * params.name_key_weight, nullptr, "", key);
  }

  void add_words(std::string_view text, float weight, TermNames* names) {
    normalize(text, normalized);
    tokenize(normalized, tokens);
    for (const auto token : tokens) add_word(token, weight, names);
    if (!params.bigrams) return;
    // Adjacent content words as one more feature ("executive orders", "ballot harvesting").
    for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
      const auto a = tokens[i], b = tokens[i + 1];
      if (is_stop_word(a) || is_stop_word(b) || a.size() < 2 || b.size() < 2) continue;
      bigram.assign(a);
      bigram.push_back(' ');
      bigram.append(b);
      count(word_hash(bigram), weight * params.bigram_weight, names, "", bigram);
    }
  }
  std::string bigram;

  // Runs of capitalised words in original-case text, separated only by spaces. A one-word run that
  // opens a sentence ("Political sources said") counts only if the word also appears capitalised
  // inside a sentence; a possessive ending ("Iran's") is dropped.
  void add_entities(std::string_view text, float weight, TermNames* names) {
    std::size_t run_begin = 0, run_end = 0, last_word = 0, run_words = 0;
    bool run_at_sentence_start = false, sentence_start = true;
    pending.clear();
    mid_sentence.clear();
    const auto close_run = [&] {
      if (run_words == 0) return;
      const std::string_view whole = text.substr(run_begin, run_end - run_begin);
      if (run_words == 1 && run_at_sentence_start) {
        pending.push_back(whole);
      } else {
        add_entity(whole, weight, names);
        if (run_words > 1) add_entity(text.substr(last_word, run_end - last_word), weight, names);
        const std::string_view run = text.substr(0, run_end);  // every search stays inside the run
        for (std::size_t w = run_begin; w < run_end;) {        // remember the words seen inside sentences
          std::size_t e = run.find(' ', w);
          if (e == std::string_view::npos) e = run_end;
          normalize(text.substr(w, e - w), folded);
          mid_sentence.insert(folded);
          w = e + 1;
        }
      }
      run_words = 0;
    };
    std::size_t i = 0;
    while (i < text.size()) {
      // Separator up to the next letter or digit: anything but spaces ends the run.
      bool only_spaces = true;
      utf8proc_int32_t cp = -1;
      while (i < text.size()) {
        const std::size_t len = next_code_point(text, i, cp);
        if (cp >= 0 && is_name_char(cp) && cp != '-' && cp != '\'' && cp != 0x2019) break;
        if (cp != ' ') only_spaces = false;
        if (cp == '.' || cp == '!' || cp == '?' || cp == '\n' || cp == ':' || cp == '"' || cp == 0x201C) {
          sentence_start = true;
        }
        i += len;
      }
      if (i >= text.size()) break;
      if (!only_spaces) close_run();
      const std::size_t word_begin = i;
      bool capital = is_upper(cp);
      const bool opens_sentence = sentence_start;
      sentence_start = false;
      while (i < text.size()) {
        utf8proc_int32_t c;
        const std::size_t len = next_code_point(text, i, c);
        if (c < 0 || !is_name_char(c)) break;
        i += len;
      }
      // Elisions of French and Italian: the name of "d'Assad", "l'Égypte", "dell'Iran" starts after the
      // apostrophe (a lower-case prefix of at most four letters; "O'Brien" keeps its capital).
      std::size_t begin = word_begin;
      if (!capital) {
        std::size_t k = word_begin;
        while (k < i && k - word_begin < 4 && text[k] >= 'a' && text[k] <= 'z') ++k;
        const std::size_t mark = k < i && text[k] == '\'' ? 1 : text.substr(k, 3) == "\xE2\x80\x99" ? 3 : 0;
        if (k > word_begin && mark > 0 && k + mark < i) {
          utf8proc_int32_t after;
          next_code_point(text, k + mark, after);
          if (after >= 0 && is_upper(after)) capital = true, begin = k + mark;
        }
      }
      // Name particles: "al-Sharaa", "bin-Salman" count as capitalised.
      // The search stays inside the word: a text without hyphens is not scanned again per word.
      const std::string_view word = text.substr(0, i);
      for (std::size_t h = word.find('-', begin); !capital && h != std::string_view::npos && h + 1 < i;
           h = word.find('-', h + 1)) {
        utf8proc_int32_t after;
        next_code_point(text, h + 1, after);
        capital = after >= 0 && is_upper(after);
      }
      std::size_t end = i;
      for (const std::string_view suffix : {std::string_view("'s"), std::string_view("\xE2\x80\x99s")}) {
        if (end - begin > suffix.size() && text.substr(end - suffix.size(), suffix.size()) == suffix) {
          end -= suffix.size();
        }
      }
      if (!capital) {
        close_run();
        continue;
      }
      normalize(text.substr(begin, end - begin), folded);
      if (is_stop_word(folded)) {  // "The", "In": never part of a name
        close_run();
        continue;
      }
      if (run_words == 0) run_begin = begin, run_at_sentence_start = opens_sentence;
      last_word = begin;
      run_end = end;
      ++run_words;
      if (end != i) close_run();  // a possessive ends the name
    }
    close_run();
    for (const std::string_view word : pending) {
      normalize(word, folded);
      if (mid_sentence.contains(folded)) add_entity(word, weight, names);
    }
  }

  // True when most words of a headline are capitalised ("Trump Slams Kerry Over Iran"): such a title
  // says nothing about which words are names.
  static bool is_title_case(std::string_view title) {
    std::size_t words = 0, capitals = 0;
    for (std::size_t i = 0; i < title.size();) {
      utf8proc_int32_t cp;
      const std::size_t len = next_code_point(title, i, cp);
      const bool starts_word = cp >= 0 && is_name_char(cp) && (i == 0 || title[i - 1] == ' ');
      if (starts_word) ++words, capitals += is_upper(cp) ? 1 : 0;
      i += len;
    }
    return words >= 4 && capitals * 10 >= words * 7;
  }

  std::vector<std::string_view> pending;
  std::unordered_set<std::string> mid_sentence;
};

TermExtractor::TermExtractor(const TfidfParams& params) : impl_(std::make_unique<Impl>()) {
  impl_->params = params;
  if (params.lexicon != nullptr) impl_->bridge = std::make_unique<Bridge>(params.lexicon);
  if (!params.stem_language.empty()) {
    impl_->stemmer = sb_stemmer_new(params.stem_language.c_str(), "UTF_8");
    STORYLINE_CHECK_ARG(impl_->stemmer != nullptr,
                        "unknown stemming language '" + params.stem_language + "'");
  }
}
TermExtractor::~TermExtractor() = default;
TermExtractor::TermExtractor(TermExtractor&&) noexcept = default;
TermExtractor& TermExtractor::operator=(TermExtractor&&) noexcept = default;

void TermExtractor::extract(const Document& doc, TermCounts& out, TermNames* names) {
  const Impl& m = *impl_;
  const bool bridged =
      m.bridge != nullptr && (m.params.bridge_weight > 0.0f || m.params.name_key_weight > 0.0f);
  extract(doc, out, names,
          bridged ? guess_language(doc.text.empty() ? doc.title : doc.text) : Language::kUnknown);
}

void TermExtractor::extract(const Document& doc, TermCounts& out, TermNames* names, Language language) {
  Impl& m = *impl_;
  m.counts.clear();
  if (names != nullptr) names->clear();
  m.language = language;
  const bool title_is_text = doc.title == doc.text;
  if (!doc.title.empty()) {
    m.add_words(doc.title, title_is_text ? 1.0f : m.params.title_weight, names);
    if (!Impl::is_title_case(doc.title)) {
      m.add_entities(doc.title, title_is_text ? 1.0f : m.params.title_weight, names);
    }
  }
  if (!title_is_text) {
    m.add_words(doc.text, 1.0f, names);
    m.add_entities(doc.text, 1.0f, names);
  }
  out.terms.clear();
  out.terms.reserve(m.counts.size());
  m.counts.for_each([&](std::uint64_t term, float count) { out.terms.emplace_back(term, count); });
  std::sort(out.terms.begin(), out.terms.end());
}

void TermNames::add(std::uint64_t term, std::string_view prefix, std::string_view name) {
  entries_.push_back(Entry{term, static_cast<std::uint32_t>(text_.size()),
                           static_cast<std::uint32_t>(prefix.size() + name.size())});
  text_.append(prefix);
  text_.append(name);
}

std::string_view TermNames::find(std::uint64_t term) const {
  for (const Entry& e : entries_) {
    if (e.term == term) return std::string_view(text_).substr(e.offset, e.length);
  }
  return {};
}

TfidfMatrix build_tfidf(std::span<const TermCounts> docs, const TfidfParams& params) {
  return build_tfidf(
      docs.size(), [&](std::size_t i, TermCounts& out) { out.terms = docs[i].terms; }, params);
}

namespace {

// A document's terms from terms_of, the bridge's left out when the shape asks (one buffer per thread).
class TermReader {
 public:
  TermReader(const std::function<void(std::size_t, TermCounts&)>& terms_of, bool without_bridge)
      : terms_of_(terms_of), without_bridge_(without_bridge) {}
  const TermCounts& operator()(std::size_t i) {
    TermCounts& t = buffers_.local();
    terms_of_(i, t);
    if (without_bridge_) {
      std::erase_if(t.terms, [](const auto& term) { return is_bridge_term(term.first); });
    }
    return t;
  }

 private:
  const std::function<void(std::size_t, TermCounts&)>& terms_of_;
  bool without_bridge_;
  tbb::enumerable_thread_specific<TermCounts> buffers_;
};

}  // namespace

std::vector<std::pair<std::uint64_t, std::uint32_t>> document_frequencies(
    std::size_t n, const std::function<void(std::size_t, TermCounts&)>& terms_of) {
  TermReader read_terms(terms_of, false);
  // Per-thread counts, merged (sums do not depend on the split).
  tbb::enumerable_thread_specific<std::unordered_map<std::uint64_t, std::uint32_t>> local_df;
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n), [&](const auto& range) {
    auto& df = local_df.local();
    for (std::size_t i = range.begin(); i < range.end(); ++i) {
      for (const auto& [term, count] : read_terms(i).terms) ++df[term];
    }
  });
  std::unordered_map<std::uint64_t, std::uint32_t> df;
  for (auto& part : local_df) {
    for (const auto& [term, count] : part) df[term] += count;
    std::unordered_map<std::uint64_t, std::uint32_t>().swap(part);
  }
  std::vector<std::pair<std::uint64_t, std::uint32_t>> out(df.begin(), df.end());
  std::unordered_map<std::uint64_t, std::uint32_t>().swap(df);
  tbb::parallel_sort(out.begin(), out.end());
  return out;
}

TfidfColumns tfidf_columns(std::size_t n, const std::function<void(std::size_t, TermCounts&)>& terms_of,
                           const TfidfParams& params, TfidfShape shape) {
  return tfidf_columns(n, document_frequencies(n, terms_of), params, shape);
}

TfidfColumns tfidf_columns(std::size_t n, std::span<const std::pair<std::uint64_t, std::uint32_t>> df,
                           const TfidfParams& params, TfidfShape shape) {
  STORYLINE_CHECK_ARG(params.max_df_ratio > 0.0 && params.max_df_ratio <= 1.0,
                      "max_df_ratio must be in (0, 1]");
  STORYLINE_CHECK_ARG(params.own_term_weight >= 0.0f && params.own_term_weight <= 1.0f,
                      "own_term_weight must be in [0, 1]");
  TfidfColumns m;
  m.params = params;
  m.shape = shape;
  const auto max_df = static_cast<std::uint32_t>(std::max(2.0, params.max_df_ratio * static_cast<double>(n)));
  for (const auto& [term, count] : df) {
    if (shape.without_bridge && is_bridge_term(term)) continue;
    if (count >= 2 && count <= max_df) {
      m.term_hash.push_back(term);
      m.df.push_back(count);
    }
    if (count > max_df) m.dropped.push_back(term);
  }
  STORYLINE_CHECK_ARG(std::is_sorted(m.term_hash.begin(), m.term_hash.end()) &&
                          std::is_sorted(m.dropped.begin(), m.dropped.end()),
                      "document frequencies must be sorted by term");
  m.idf.resize(m.term_hash.size());
  for (std::size_t c = 0; c < m.term_hash.size(); ++c) {
    m.idf[c] = static_cast<float>(std::log((1.0 + static_cast<double>(n)) / (1.0 + m.df[c])) + 1.0);
    if (is_entity_term(m.term_hash[c])) m.idf[c] *= params.entity_weight;
  }
  // Terms of one document alone get no shared column, but they are part of the document: without them
  // the shared words of a small corpus would be all of each vector, and two documents sharing one word
  // of many would have cosine 1. Each row keeps their weight in at most two columns of its own (words,
  // entities), after the shared ones: they add nothing to any dot product, and they keep norms, sums of
  // rows (centroids) and entity boosts what they would be with a column per term.
  m.own_idf =
      static_cast<float>(std::log((1.0 + static_cast<double>(n)) / 2.0) + 1.0) * params.own_term_weight;
  return m;
}

TfidfMatrix build_tfidf(std::size_t n, const std::function<void(std::size_t, TermCounts&)>& terms_of,
                        const TfidfParams& params, TfidfShape shape) {
  const TfidfColumns columns = tfidf_columns(n, terms_of, params, shape);
  std::vector<std::uint32_t> all(n);
  std::iota(all.begin(), all.end(), 0u);
  return tfidf_rows(columns, all, terms_of);
}

TfidfMatrix tfidf_rows(const TfidfColumns& columns, std::span<const std::uint32_t> docs,
                       const std::function<void(std::size_t, TermCounts&)>& terms_of) {
  const TfidfShape shape = columns.shape;
  const TfidfParams& params = columns.params;
  TermReader read_terms(terms_of, shape.without_bridge);
  const std::size_t n = docs.size();
  TfidfMatrix m;
  m.term_hash = columns.term_hash;
  m.df = columns.df;
  m.shared_columns = m.term_hash.size();
  // A row's shared columns and weights (at most max_row_terms, the heaviest, in column order) and the
  // squared weight of its own words and entities (one-document terms, and shared ones beyond the cap).
  struct Row {
    std::vector<std::pair<int, float>> shared;
    double own[2] = {0.0, 0.0};
  };
  const auto weigh = [&](std::size_t i, Row& row) {
    row.shared.clear();
    row.own[0] = row.own[1] = 0.0;
    for (const auto& [term, count] : read_terms(docs[i]).terms) {
      const bool entity = is_entity_term(term);
      const auto it = std::lower_bound(columns.term_hash.begin(), columns.term_hash.end(), term);
      if (it != columns.term_hash.end() && *it == term) {
        const auto c = static_cast<std::size_t>(it - columns.term_hash.begin());
        row.shared.emplace_back(static_cast<int>(c),
                                (1.0f + std::log(std::max(count, 1.0f))) * columns.idf[c]);
      } else if (!is_bridge_term(term) &&
                 !std::binary_search(columns.dropped.begin(), columns.dropped.end(), term)) {
        // A term of this document alone. (A bridge feature of one document bridges nothing; it stays
        // out, and rows without the bridge's columns are the rows of a corpus without the bridge.)
        const float w = (1.0f + std::log(std::max(count, 1.0f))) * columns.own_idf *
                        (entity ? params.entity_weight : 1.0f);
        row.own[entity ? 1 : 0] += static_cast<double>(w) * w;
      }
    }
    if (shape.max_row_terms > 0 && row.shared.size() > shape.max_row_terms) {
      const auto heavier = [](const auto& x, const auto& y) {
        return x.second != y.second ? x.second > y.second : x.first < y.first;
      };
      std::nth_element(row.shared.begin(), row.shared.begin() + shape.max_row_terms, row.shared.end(),
                       heavier);
      for (auto e = row.shared.begin() + shape.max_row_terms; e != row.shared.end(); ++e) {
        const bool entity = is_entity_term(m.term_hash[static_cast<std::size_t>(e->first)]);
        row.own[entity ? 1 : 0] += static_cast<double>(e->second) * e->second;
      }
      row.shared.resize(shape.max_row_terms);
      std::sort(row.shared.begin(), row.shared.end());
    }
  };
  std::vector<std::uint8_t> own_flags(n, 0);  // row -> bit 0: own words, bit 1: own entities
  std::vector<std::int64_t> outer(n + 1, 0);
  std::vector<int> own_count(n + 1, 0);
  tbb::enumerable_thread_specific<Row> rows;
  tbb::parallel_for(std::size_t{0}, n, [&](std::size_t i) {
    Row& row = rows.local();
    weigh(i, row);
    own_flags[i] = static_cast<std::uint8_t>((row.own[0] > 0.0 ? 1 : 0) | (row.own[1] > 0.0 ? 2 : 0));
    own_count[i + 1] = (row.own[0] > 0.0 ? 1 : 0) + (row.own[1] > 0.0 ? 1 : 0);
    outer[i + 1] = static_cast<std::int64_t>(row.shared.size()) + own_count[i + 1];
  });
  for (std::size_t i = 0; i < n; ++i) outer[i + 1] += outer[i], own_count[i + 1] += own_count[i];
  m.term_hash.resize(m.shared_columns + static_cast<std::size_t>(own_count[n]));
  m.df.resize(m.term_hash.size(), 1);
  for (std::size_t i = 0; i < n; ++i) {
    auto c = m.shared_columns + static_cast<std::size_t>(own_count[i]);
    if ((own_flags[i] & 1) != 0) m.term_hash[c++] = kOwnWords;
    if ((own_flags[i] & 2) != 0) m.term_hash[c] = kOwnEntities;
  }
  std::vector<std::uint8_t>().swap(own_flags);
  // The matrix is filled in place (compressed), not copied from buffers: at 10M rows a copy is GBs.
  m.rows.resize(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(m.term_hash.size()));
  STORYLINE_CHECK_ARG(
      outer[n] <= INT32_MAX,
      "more than 2^31 TF-IDF entries: cap the terms per row (max_row_terms) or split the input");
  m.rows.makeCompressed();
  m.rows.resizeNonZeros(static_cast<Eigen::Index>(outer[n]));
  std::transform(outer.begin(), outer.end(), m.rows.outerIndexPtr(),
                 [](std::int64_t k) { return static_cast<int>(k); });
  std::vector<std::int64_t>().swap(outer);
  int* const inner = m.rows.innerIndexPtr();
  float* const values = m.rows.valuePtr();
  const int* const row_begin = m.rows.outerIndexPtr();
  tbb::parallel_for(std::size_t{0}, n, [&](std::size_t i) {
    Row& row = rows.local();
    weigh(i, row);
    auto at = static_cast<std::size_t>(row_begin[i]);
    double norm = 0.0;
    for (const auto& [c, w] : row.shared) {
      inner[at] = c;
      values[at] = w;
      norm += static_cast<double>(w) * w;
      ++at;
    }
    auto c = m.shared_columns + static_cast<std::size_t>(own_count[i]);
    for (const double sq : row.own) {
      if (sq <= 0.0) continue;
      const auto w = static_cast<float>(std::sqrt(sq));
      inner[at] = static_cast<int>(c++);
      values[at] = w;
      norm += static_cast<double>(w) * w;
      ++at;
    }
    const float scale = norm > 0.0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.0f;
    for (auto k = static_cast<std::size_t>(row_begin[i]); k < at; ++k) values[k] *= scale;
  });
  return m;
}

}  // namespace storyline
