#include "storyline/text.hpp"

#include <gtest/gtest.h>
#include <utf8proc.h>

#include <cstdlib>
#include <random>

#include "storyline/error.hpp"

namespace storyline {
namespace {

std::string norm(std::string_view s) {
  std::string out;
  normalize(s, out);
  return out;
}

std::vector<std::string> tokens(std::string_view text) {
  const std::string n = norm(text);
  std::vector<std::string_view> views;
  tokenize(n, views);
  return {views.begin(), views.end()};
}

TEST(Normalize, FoldsCaseAndCompatibilityForms) {
  EXPECT_EQ(norm("Hello WORLD"), "hello world");
  EXPECT_EQ(norm("Stra\xC3\x9F"
                 "e"),
            "strasse");                                       // sharp s case-folds to ss
  EXPECT_EQ(norm("\xEF\xAC\x81le"), "file");                  // the fi ligature (NFKC)
  EXPECT_EQ(norm("e\xCC\x81"), "\xC3\xA9");                   // e + combining acute composes
  EXPECT_EQ(norm("\xC3\x89T\xC3\x89"), "\xC3\xA9t\xC3\xA9");  // ETE with accents
  EXPECT_EQ(norm("co\xC2\xAD"
                 "operate"),
            "cooperate");                             // soft hyphen is ignorable
  EXPECT_EQ(norm("\xEF\xBC\xA1\xEF\xBC\xA2"), "ab");  // full-width letters
}

// The segmented fast path must equal running utf8proc over the whole text.
TEST(Normalize, SegmentedFastPathEqualsWholeTextNormalisation) {
  const char* pieces[] = {"The",
                          "CAF\xC3\x89",
                          "na\xC3\xAFve",
                          "e\xCC\x81t\xC3\xA9",
                          "\xEF\xAC\x81n",
                          "\xD0\x9C\xD0\xBE\xD1\x81\xD0\xBA\xD0\xB2\xD0\xB0",
                          "\xE4\xBF\x84\xE7\xBD\x97",
                          "Stra\xC3\x9F"
                          "e",
                          "plain",
                          "words",
                          "and",
                          "more",
                          "ASCII",
                          "text",
                          "\n",
                          "\t",
                          "x\xC2\xADy"};
  std::mt19937 rng(17);
  for (int trial = 0; trial < 300; ++trial) {
    std::string text;
    const int words = 1 + static_cast<int>(rng() % 60);
    for (int w = 0; w < words; ++w) {
      text += pieces[rng() % std::size(pieces)];
      text += rng() % 5 == 0 ? "  " : " ";
    }
    utf8proc_uint8_t* mapped = nullptr;
    const auto options = static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                                        UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
    const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                static_cast<utf8proc_ssize_t>(text.size()), &mapped, options);
    ASSERT_GE(n, 0);
    const std::string expected(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(n));
    std::free(mapped);
    ASSERT_EQ(norm(text), expected) << text;
  }
}

TEST(Tokenize, SplitsOnNonWordCharactersInAnyScript) {
  EXPECT_EQ(tokens("Israel-Syria talks, mediated by Russia."),
            (std::vector<std::string>{"israel", "syria", "talks", "mediated", "by", "russia"}));
  EXPECT_EQ(
      tokens("\xD0\x9C\xD0\xBE\xD1\x81\xD0\xBA\xD0\xB2\xD0\xB0 2018"),
      (std::vector<std::string>{"\xD0\xBC\xD0\xBE\xD1\x81\xD0\xBA\xD0\xB2\xD0\xB0", "2018"}));  // Moskva
  EXPECT_EQ(tokens("\xD8\xAF\xD9\x85\xD8\xB4\xD9\x82"),
            (std::vector<std::string>{"\xD8\xAF\xD9\x85\xD8\xB4\xD9\x82"}));
  EXPECT_TRUE(tokens("  ... !!! ").empty());
}

TEST(Tokenize, ScriptsWithoutSpacesGiveOneTokenPerCharacter) {
  // Chinese "Russia mediates" and Thai "Thailand": every character is a token.
  EXPECT_EQ(tokens("\xE4\xBF\x84\xE7\xBD\x97\xE6\x96\xAF").size(), 3u);
  EXPECT_EQ(tokens("\xE0\xB9\x84\xE0\xB8\x97\xE0\xB8\xA2").size(), 3u);
  EXPECT_EQ(tokens("abc \xE4\xBF\x84\xE7\xBD\x97 def"),
            (std::vector<std::string>{"abc", "\xE4\xBF\x84", "\xE7\xBD\x97", "def"}));
}

TEST(Shingler, WordShinglesCoverEveryWindowAndIgnoreCase) {
  Shingler s(ShingleParams{ShingleKind::kWord, 3, 0});
  std::vector<std::uint64_t> a, b;
  s.shingle("one two three four five", a);
  EXPECT_EQ(a.size(), 3u);
  s.shingle("ONE two, three... four five", b);
  EXPECT_EQ(a, b);
  s.shingle("one two", a);
  EXPECT_EQ(a.size(), 1u);  // shorter than a shingle: one shingle of everything
  s.shingle("!!!", a);
  EXPECT_TRUE(a.empty());
}

TEST(Shingler, CharacterShinglesFoldWhiteSpace) {
  Shingler s(ShingleParams{ShingleKind::kChar, 4, 0});
  std::vector<std::uint64_t> a, b;
  s.shingle("abc  def", a);
  s.shingle("ABC\n\tdef", b);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size(), 4u);  // "abc def" has 7 characters
}

TEST(Shingler, HashesAreStableAcrossRunsGoldenVector) {
  // If this fails, the shingle hash format changed: saved indexes become incompatible.
  Shingler s;
  std::vector<std::uint64_t> out;
  s.shingle("The quick brown fox jumps over the lazy dog", out);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0], 16450190200610409694u) << "golden shingle hash changed";
}

TEST(Shingler, RejectsZeroSize) {
  EXPECT_THROW(Shingler(ShingleParams{ShingleKind::kWord, 0, 0}), InvalidArgument);
}

TEST(Jaccard, ExactOnSortedSets) {
  const std::vector<std::uint64_t> a{1, 2, 3, 4}, b{3, 4, 5, 6}, empty;
  EXPECT_DOUBLE_EQ(jaccard(a, b), 2.0 / 6.0);
  EXPECT_DOUBLE_EQ(jaccard(a, a), 1.0);
  EXPECT_DOUBLE_EQ(jaccard(a, empty), 0.0);
  EXPECT_DOUBLE_EQ(jaccard(empty, empty), 1.0);
  std::vector<std::uint64_t> c{5, 1, 5, 3};
  to_set(c);
  EXPECT_EQ(c, (std::vector<std::uint64_t>{1, 3, 5}));
}

}  // namespace
}  // namespace storyline
