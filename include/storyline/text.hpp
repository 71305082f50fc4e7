// Unicode normalisation, tokens and shingles. Hashing (XXH3) is kept apart from tokenising so that the
// fingerprint functions take already-hashed features (as seomoz/simhash-cpp does).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace storyline {

/// What a shingle is made of.
enum class ShingleKind : std::uint8_t {
  kWord,  ///< n consecutive tokens (scripts without spaces give one token per character)
  kChar   ///< n consecutive characters of the normalised text, white space folded to one space
};

/// How text becomes shingle hashes.
struct ShingleParams {
  ShingleKind kind = ShingleKind::kWord;  ///< word or character shingles
  std::uint32_t size = 5;                 ///< tokens (or characters) per shingle, >= 1
  std::uint64_t seed = 0;                 ///< XXH3 seed of the shingle hashes
};

/// Normalises text into out: Unicode NFKC, case folding, default-ignorable code points removed (utf8proc).
/// Pure ASCII text takes a fast path (ASCII lower case). text must be valid UTF-8. Thread-safe.
void normalize(std::string_view text, std::string& out);

/// Splits normalised text into tokens: maximal runs of letters, marks and digits in any script. A
/// character of a script written without spaces (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar) is a
/// token of its own, so word shingles over such text are character n-grams. tokens views text.
/// Thread-safe.
void tokenize(std::string_view normalized, std::vector<std::string_view>& tokens);

/// Turns documents into 64-bit shingle hashes. Keeps scratch buffers: use one per thread.
class Shingler {
 public:
  /// Throws InvalidArgument when params.size is 0.
  explicit Shingler(ShingleParams params = {});

  /// Replaces out with the hashes of text's shingles, in text order, repeats included (so a feature's
  /// count is its term frequency). Text with fewer tokens than the shingle size gives one shingle of
  /// all its tokens; text without any token gives none.
  void shingle(std::string_view text, std::vector<std::uint64_t>& out);

  /// The normalized words of shingle i of the last text (word shingles; "" for character shingles).
  std::string words_of(std::size_t i) const;

  const ShingleParams& params() const { return params_; }

 private:
  ShingleParams params_;
  std::string normalized_;
  std::vector<std::string_view> tokens_;
  std::vector<std::uint64_t> token_hashes_;
};

/// Sorts and deduplicates shingle hashes in place, giving the set used for exact Jaccard.
void to_set(std::vector<std::uint64_t>& shingles);

/// |A n B| of two sorted, duplicate-free sets.
std::size_t common_count(std::span<const std::uint64_t> a, std::span<const std::uint64_t> b);

/// Exact Jaccard similarity |A n B| / |A u B| of two sorted, duplicate-free sets; 1 when both are empty.
double jaccard(std::span<const std::uint64_t> a, std::span<const std::uint64_t> b);

}  // namespace storyline
