// How a distributed job divides its inputs (engine/dist/input_split): every byte read by exactly one
// rank, in order, cut at line starts; compressed files whole; shares near 1/N of the bytes.
#include "dist/input_split.hpp"

#include <gtest/gtest.h>

#include "storyline/error.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

using test::TempDir;

std::string lines(int count, int seed) {
  std::string out;
  for (int i = 0; i < count; ++i)
    out +=
        test::record("d" + std::to_string(seed * 1000 + i), test::random_text(seed * 1000 + i, 5 + i % 40)) +
        "\n";
  return out;
}

TEST(InputSplit, PartsCoverEveryByteOnceInOrderCutAtLineStarts) {
  TempDir dir;
  const std::string a = lines(300, 1), b = lines(200, 2), c = lines(50, 3);
  test::write_file(dir.path("a.jsonl"), a);
  test::write_gzip(dir.path("b.jsonl.gz"), b);
  test::write_file(dir.path("empty.jsonl"), "");
  test::write_file(dir.path("c.jsonl"), c.substr(0, c.size() - 1));  // no newline at the end
  const std::vector<std::string> paths{dir.path("a.jsonl"), dir.path("b.jsonl.gz"), dir.path("empty.jsonl"),
                                       dir.path("c.jsonl")};
  const std::vector<std::string> plain{a, "", "", c.substr(0, c.size() - 1)};
  for (unsigned ranks : {1u, 2u, 3u, 5u, 16u}) {
    const auto parts = dist::split_inputs(paths, ranks);
    ASSERT_EQ(parts.size(), ranks);
    std::vector<std::uint64_t> next(paths.size(), 0);  // the next byte each file must continue at
    std::vector<int> whole(paths.size(), 0);
    std::uint32_t last_file = 0;
    for (const auto& rank_parts : parts) {
      for (const InputPart& p : rank_parts) {
        EXPECT_GE(p.file, last_file) << "parts out of input order";
        last_file = p.file;
        if (p.whole()) {
          ++whole[p.file];
          continue;
        }
        ASSERT_TRUE(p.file == 0 || p.file == 3) << "only plain files are cut";
        EXPECT_EQ(p.begin, next[p.file]);
        EXPECT_TRUE(p.begin == 0 || plain[p.file][p.begin - 1] == '\n') << "a part starts inside a line";
        EXPECT_LT(p.begin, p.end);
        next[p.file] = p.end;
      }
    }
    for (std::size_t f : {0u, 3u})
      EXPECT_TRUE(whole[f] == 1 ? next[f] == 0 : next[f] == plain[f].size()) << f;
    EXPECT_EQ(whole[1], 1) << "the gzip file goes whole to one rank";
    EXPECT_EQ(whole[2], 1) << "the empty file is read once (for its errors)";
  }
  // Two ranks on one plain file: each reads about half of it (within one line).
  const auto halves = dist::split_inputs({dir.path("a.jsonl")}, 2);
  ASSERT_EQ(halves[0].size(), 1u);
  ASSERT_EQ(halves[1].size(), 1u);
  const double share = static_cast<double>(halves[0][0].end) / static_cast<double>(a.size());
  EXPECT_NEAR(share, 0.5, 0.02);
  EXPECT_EQ(dist::count_newlines(dir.path("a.jsonl"), 0, halves[0][0].end) + 1,
            static_cast<std::uint64_t>(
                std::count(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(halves[0][0].end), '\n')) +
                1);
}

TEST(InputSplit, RefusesStdinAndNamesAMissingFile) {
  EXPECT_THROW(dist::split_inputs({"-"}, 2), InvalidArgument);
  try {
    dist::split_inputs({"/nonexistent/x.jsonl"}, 2);
    FAIL() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/x.jsonl"), std::string::npos) << e.what();
  }
}

// A part read alone numbers its lines as the whole file does.
TEST(InputSplit, APartReadAloneNumbersLinesAsTheFile) {
  TempDir dir;
  const std::string a = lines(100, 4);
  test::write_file(dir.path("a.jsonl"), a);
  const auto parts = dist::split_inputs({dir.path("a.jsonl")}, 3);
  const InputPart& p = parts[1][0];
  const std::uint64_t before = dist::count_newlines(dir.path("a.jsonl"), 0, p.begin);
  LineReader reader(dir.path("a.jsonl"), 1 << 20, p.begin, p.end, before + 1);
  std::string line;
  ASSERT_EQ(reader.next(line), LineStatus::kLine);
  EXPECT_EQ(reader.line_number(), before + 1);
  std::size_t at = 0;
  for (std::uint64_t k = 0; k < before; ++k) at = a.find('\n', at) + 1;
  EXPECT_EQ(line, a.substr(at, a.find('\n', at) - at));
}

}  // namespace
}  // namespace storyline
