// A document's language, guessed cheaply: enough to calibrate per language, not to translate.
#pragma once

#include <cstdint>
#include <string_view>

namespace storyline {

/// The languages (or, outside Latin script, the scripts) storyline tells apart. The five Latin-script
/// languages are those whose stop words it knows; other Latin-script text is kUnknown.
enum class Language : std::uint8_t {
  kUnknown,
  kEnglish,
  kGerman,
  kSpanish,
  kFrench,
  kItalian,
  kCyrillic,
  kArabic,
  kCjk
};
inline constexpr std::size_t kLanguageCount = 9;

/// "en", "de", "es", "fr", "it", "cyrillic", "arabic", "cjk" or "unknown".
std::string_view language_name(Language language);

/// Guesses from the first few kilobytes of text: the script with the most letters, and for Latin
/// script the language with the most of its frequent function words ("the", "der", "los", "les",
/// "il", ...) when it has at least two and more than any other. Thread-safe; no allocation.
Language guess_language(std::string_view text);

}  // namespace storyline
