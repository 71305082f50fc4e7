#include "storyline/text.hpp"

#include <utf8proc.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cstdlib>

#include "storyline/error.hpp"

namespace storyline {
namespace {

bool is_ascii(std::string_view text) {
  unsigned char acc = 0;
  for (const char c : text) acc |= static_cast<unsigned char>(c);
  return acc < 0x80;
}

// Scripts written without spaces between words: each character becomes a token.
bool is_unspaced_script(utf8proc_int32_t cp) {
  return (cp >= 0x0E00 && cp <= 0x0EFF) ||  // Thai, Lao
         (cp >= 0x1000 && cp <= 0x109F) ||  // Myanmar
         (cp >= 0x1780 && cp <= 0x17FF) ||  // Khmer
         (cp >= 0x3040 && cp <= 0x30FF) ||  // Hiragana, Katakana
         (cp >= 0x31F0 && cp <= 0x31FF) ||  // Katakana phonetic extensions
         (cp >= 0x3400 && cp <= 0x4DBF) ||  // CJK extension A
         (cp >= 0x4E00 && cp <= 0x9FFF) ||  // CJK unified ideographs
         (cp >= 0xF900 && cp <= 0xFAFF) ||  // CJK compatibility ideographs
         (cp >= 0x20000 && cp <= 0x3134F);  // CJK extensions B-G
}

bool is_word_char(utf8proc_int32_t cp) {
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

// ASCII letters and digits, by table: the tokenizer's inner loop tests every byte.
constexpr std::array<bool, 128> kAsciiWordChar = [] {
  std::array<bool, 128> table{};
  for (int c = 0; c < 128; ++c) {
    table[c] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
  }
  return table;
}();

bool is_ascii_word_char(char c) { return kAsciiWordChar[static_cast<unsigned char>(c)]; }

}  // namespace

namespace {

void append_ascii_lower(std::string_view text, std::string& out) {
  const std::size_t at = out.size();
  out.resize(at + text.size());
  std::transform(text.begin(), text.end(), out.begin() + static_cast<std::ptrdiff_t>(at),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; });
}

void append_utf8proc(std::string_view text, std::string& out) {
  utf8proc_uint8_t* mapped = nullptr;
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                                      UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                          static_cast<utf8proc_ssize_t>(text.size()), &mapped, options);
  if (n < 0) {
    out.append(text);  // cannot happen for valid UTF-8; keep the text rather than lose it
    return;
  }
  out.append(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(n));
  std::free(mapped);
}

bool is_ascii_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

}  // namespace

void normalize(std::string_view text, std::string& out) {
  out.clear();
  if (is_ascii(text)) {
    append_ascii_lower(text, out);
    return;
  }
  // Normalisation never reaches across ASCII white space (no combining sequence spans it), so runs of
  // pure-ASCII words take the fast path and only the stretches holding other characters go through
  // utf8proc. A stretch ends at the first white space followed by at least kAsciiRun ASCII bytes.
  constexpr std::size_t kAsciiRun = 32;
  const std::size_t n = text.size();
  std::size_t done = 0;
  while (done < n) {
    std::size_t first = done;
    while (first < n && static_cast<unsigned char>(text[first]) < 0x80) ++first;
    if (first == n) {
      append_ascii_lower(text.substr(done), out);
      break;
    }
    std::size_t begin = first;
    while (begin > done && !is_ascii_space(text[begin - 1])) --begin;
    append_ascii_lower(text.substr(done, begin - done), out);
    std::size_t end = first, ascii_since = n;
    for (; end < n; ++end) {
      const auto c = static_cast<unsigned char>(text[end]);
      if (c >= 0x80) {
        ascii_since = n;
      } else if (ascii_since == n && is_ascii_space(text[end])) {
        ascii_since = end;
      } else if (ascii_since != n && end - ascii_since >= kAsciiRun) {
        break;
      }
    }
    if (end < n) end = ascii_since;
    append_utf8proc(text.substr(begin, end - begin), out);
    done = end;
  }
}

void tokenize(std::string_view normalized, std::vector<std::string_view>& tokens) {
  tokens.clear();
  const char* data = normalized.data();
  const std::size_t n = normalized.size();
  std::size_t start = 0;
  bool in_token = false;
  std::size_t i = 0;
  while (i < n) {
    const auto byte = static_cast<unsigned char>(data[i]);
    if (byte < 0x80) {
      const bool word = is_ascii_word_char(data[i]);
      if (word && !in_token) {
        start = i;
        in_token = true;
      } else if (!word && in_token) {
        tokens.emplace_back(data + start, i - start);
        in_token = false;
      }
      ++i;
      continue;
    }
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t len = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(data + i),
                                            static_cast<utf8proc_ssize_t>(n - i), &cp);
    if (len <= 0) len = 1, cp = -1;
    const auto width = static_cast<std::size_t>(len);
    if (cp >= 0 && is_unspaced_script(cp) && is_word_char(cp)) {
      if (in_token) tokens.emplace_back(data + start, i - start), in_token = false;
      tokens.emplace_back(data + i, width);
    } else if (cp >= 0 && is_word_char(cp)) {
      if (!in_token) start = i, in_token = true;
    } else if (in_token) {
      tokens.emplace_back(data + start, i - start);
      in_token = false;
    }
    i += width;
  }
  if (in_token) tokens.emplace_back(data + start, n - start);
}

Shingler::Shingler(ShingleParams params) : params_(params) {
  STORYLINE_CHECK_ARG(params.size >= 1, "shingle size must be at least 1");
}

void Shingler::shingle(std::string_view text, std::vector<std::uint64_t>& out) {
  out.clear();
  normalize(text, normalized_);
  const std::size_t n = params_.size;
  if (params_.kind == ShingleKind::kWord) {
    tokenize(normalized_, tokens_);
    token_hashes_.resize(tokens_.size());
    for (std::size_t i = 0; i < tokens_.size(); ++i) {
      token_hashes_[i] = XXH3_64bits_withSeed(tokens_[i].data(), tokens_[i].size(), params_.seed);
    }
    if (token_hashes_.empty()) return;
    const std::size_t count = token_hashes_.size() >= n ? token_hashes_.size() - n + 1 : 1;
    const std::size_t width = std::min(n, token_hashes_.size());
    out.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      out[i] = XXH3_64bits_withSeed(&token_hashes_[i], width * sizeof(std::uint64_t), params_.seed);
    }
    return;
  }
  // Character shingles: fold every run of non-word characters to one space, then hash each window of
  // n code points.
  std::string folded;
  folded.reserve(normalized_.size());
  tokenize(normalized_, tokens_);
  for (const auto token : tokens_) {
    if (!folded.empty()) folded.push_back(' ');
    folded.append(token);
  }
  std::vector<std::size_t> starts;  // byte offset of each code point
  for (std::size_t i = 0; i < folded.size(); ++i) {
    if ((static_cast<unsigned char>(folded[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  if (starts.empty()) return;
  starts.push_back(folded.size());
  const std::size_t points = starts.size() - 1;
  const std::size_t count = points >= n ? points - n + 1 : 1;
  const std::size_t width = std::min(n, points);
  out.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    out[i] = XXH3_64bits_withSeed(folded.data() + starts[i], starts[i + width] - starts[i], params_.seed);
  }
}

std::string Shingler::words_of(std::size_t i) const {
  std::string out;
  if (params_.kind != ShingleKind::kWord) return out;
  for (std::size_t t = i; t < std::min(tokens_.size(), i + params_.size); ++t) {
    if (!out.empty()) out.push_back(' ');
    out.append(tokens_[t]);
  }
  return out;
}

void to_set(std::vector<std::uint64_t>& shingles) {
  std::sort(shingles.begin(), shingles.end());
  shingles.erase(std::unique(shingles.begin(), shingles.end()), shingles.end());
}

std::size_t common_count(std::span<const std::uint64_t> a, std::span<const std::uint64_t> b) {
  std::size_t i = 0, j = 0, common = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] < b[j]) {
      ++i;
    } else if (b[j] < a[i]) {
      ++j;
    } else {
      ++common, ++i, ++j;
    }
  }
  return common;
}

double jaccard(std::span<const std::uint64_t> a, std::span<const std::uint64_t> b) {
  if (a.empty() && b.empty()) return 1.0;
  const std::size_t common = common_count(a, b);
  return static_cast<double>(common) / static_cast<double>(a.size() + b.size() - common);
}

}  // namespace storyline
