#include "storyline/language.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace storyline {
namespace {

constexpr std::size_t kScanBytes = 1024;  // a lead paragraph says which language it is
static_assert(static_cast<std::size_t>(Language::kCjk) + 1 == kLanguageCount,
              "kLanguageCount counts the enum");

// Up to 8 lower-case ASCII letters as one integer, so that a word is compared in one instruction.
constexpr std::uint64_t pack(std::string_view word) {
  std::uint64_t key = 0;
  for (const char c : word) key = (key << 8) | static_cast<unsigned char>(c);
  return key;
}

// Frequent function words, distinct across the five languages (shared ones such as "la", "de", "en",
// "con" and "una" are left out: they cannot tell the languages apart). At most 5 letters.
struct FunctionWord {
  std::uint64_t key;
  Language language;
};
constexpr auto kFunctionWords = [] {
  constexpr std::pair<Language, std::array<std::string_view, 12>> kLists[] = {
      {Language::kEnglish,
       {"the", "and", "of", "to", "is", "that", "with", "for", "was", "are", "this", "have"}},
      {Language::kGerman,
       {"der", "die", "und", "das", "ist", "nicht", "mit", "sich", "auf", "dem", "ein", "eine"}},
      {Language::kSpanish,
       {"el", "los", "las", "que", "por", "para", "es", "se", "y", "como", "pero", "sus"}},
      {Language::kFrench, {"le", "les", "et", "des", "est", "une", "dans", "pour", "qui", "du", "au", "sur"}},
      {Language::kItalian,
       {"il", "che", "di", "della", "per", "non", "sono", "gli", "nel", "alla", "anche", "delle"}},
  };
  std::array<FunctionWord, 60> out{};
  std::size_t i = 0;
  for (const auto& [language, words] : kLists) {
    for (const std::string_view w : words) out[i++] = {pack(w), language};
  }
  return out;
}();

Language script_of(std::uint32_t cp) {
  if (cp >= 0x0400 && cp <= 0x052F) return Language::kCyrillic;
  if ((cp >= 0x0600 && cp <= 0x06FF) || (cp >= 0x0750 && cp <= 0x077F)) return Language::kArabic;
  if ((cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
      (cp >= 0xAC00 && cp <= 0xD7AF))
    return Language::kCjk;
  return Language::kUnknown;
}

bool is_ascii_letter(unsigned char c) { return static_cast<unsigned char>((c | 0x20) - 'a') < 26; }

}  // namespace

std::string_view language_name(Language language) {
  constexpr std::string_view kNames[kLanguageCount] = {"unknown", "en",       "de",     "es", "fr",
                                                       "it",      "cyrillic", "arabic", "cjk"};
  return kNames[static_cast<std::size_t>(language)];
}

Language guess_language(std::string_view text) {
  text = text.substr(0, kScanBytes);
  std::array<std::size_t, kLanguageCount> letters{};  // by script; Latin counted apart
  std::array<std::size_t, kLanguageCount> votes{};    // by function word
  std::size_t latin = 0;
  std::uint64_t word = 0;  // the current ASCII word, packed; kNotAWord once it cannot be a function word
  std::size_t length = 0;
  constexpr std::uint64_t kNotAWord = ~std::uint64_t{0};
  const auto end_word = [&] {
    if (length > 0 && length <= 5 && word != kNotAWord) {
      for (const FunctionWord& f : kFunctionWords) {
        if (f.key == word) ++votes[static_cast<std::size_t>(f.language)];
      }
    }
    word = 0;
    length = 0;
  };
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      if (is_ascii_letter(c)) {
        ++latin;
        ++length;
        if (word != kNotAWord) word = length > 5 ? kNotAWord : (word << 8) | (c | 0x20u);
      } else {
        end_word();
      }
      continue;
    }
    // A multi-byte character (bytes that are not valid UTF-8 count as one unknown character each).
    std::size_t size = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    std::uint32_t cp = size == 4 ? c & 0x07u : size == 3 ? c & 0x0Fu : c & 0x1Fu;
    for (std::size_t k = 1; k < size; ++k) {
      if (i + k >= text.size() || (static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) {
        size = 1;
        cp = 0;
        break;
      }
      cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3Fu);
    }
    i += size;
    if (cp >= 0xC0 && cp <= 0x24F) {  // a Latin letter with a diacritic: part of a word, not ASCII
      ++latin;
      ++length;
      word = kNotAWord;
    } else {
      ++letters[static_cast<std::size_t>(script_of(cp))];
      end_word();
    }
  }
  end_word();
  letters[static_cast<std::size_t>(Language::kUnknown)] = 0;
  const auto most = std::max_element(letters.begin(), letters.end());
  if (*most > latin) return static_cast<Language>(most - letters.begin());
  const auto best = std::max_element(votes.begin(), votes.end());
  const std::size_t top = *best;
  if (top < 2 || std::count(votes.begin(), votes.end(), top) > 1) return Language::kUnknown;
  return static_cast<Language>(best - votes.begin());
}

}  // namespace storyline
