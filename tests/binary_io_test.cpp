// The checksummed binary files under every index and snapshot: values around the reader's and writer's
// buffer size, reads that skip the buffer, and damage of every kind.
#include "detail/binary_io.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <numeric>
#include <random>

#include "storyline/error.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

constexpr std::size_t kBig = (std::size_t{1} << 20) * 3 + 17;  // more than the 1 MiB buffers, odd

// Small values, a block larger than the buffers, a string, more small values.
void write_sample(const std::string& path) {
  detail::BinaryWriter out(path);
  for (std::uint32_t i = 0; i < 300000; ++i) out.value(i);  // crosses the buffer boundary
  std::vector<std::uint8_t> block(kBig);
  std::iota(block.begin(), block.end(), std::uint8_t{0});
  out.bytes(block.data(), block.size());
  out.bytes(nullptr, 0);  // an empty vector's data(): nothing to copy, nothing to fail on
  out.string("the end");
  out.value(std::uint64_t{42});
  out.finish();
}

void read_sample(const std::string& path) {
  detail::BinaryReader in(path);
  for (std::uint32_t i = 0; i < 300000; ++i) ASSERT_EQ(in.value<std::uint32_t>(), i);
  std::vector<std::uint8_t> block(kBig);
  in.bytes(block.data(), block.size());
  for (std::size_t i = 0; i < block.size(); i += 4099) ASSERT_EQ(block[i], static_cast<std::uint8_t>(i));
  in.bytes(nullptr, 0);
  EXPECT_EQ(in.string(100), "the end");
  EXPECT_EQ(in.value<std::uint64_t>(), 42u);
  EXPECT_EQ(in.remaining(), 0u);
  in.finish();
}

TEST(BinaryIo, RoundTripAcrossBufferBoundaries) {
  test::TempDir dir;
  write_sample(dir.path("f.bin"));
  read_sample(dir.path("f.bin"));
  // Same bytes as one checksum over the payload: 4 * 300000 + kBig + 4 + 7 + 8, then 8 bytes of XXH3.
  std::ifstream f(dir.path("f.bin"), std::ios::binary | std::ios::ate);
  EXPECT_EQ(static_cast<std::size_t>(f.tellg()), 1200000 + kBig + 4 + 7 + 8 + 8);
}

TEST(BinaryIo, DamageIsCaughtWherePossibleAndByTheChecksumOtherwise) {
  test::TempDir dir;
  const std::string path = dir.path("f.bin");
  write_sample(path);
  const std::string good = test::read_file(path);
  // A flipped bit in the big block is no structural error: only the checksum sees it.
  std::string damaged = good;
  damaged[1200000 + kBig / 2] ^= 0x10;
  test::write_file(path, damaged);
  try {
    read_sample(path);
    FAIL() << "a flipped bit was not noticed";
  } catch (const CorruptIndex& e) {
    EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos) << e.what();
  }
  // Cut inside the big block: the read that needs the missing bytes says so.
  test::write_file(path, good.substr(0, 1200000 + kBig / 2));
  try {
    read_sample(path);
    FAIL() << "a truncated file was read";
  } catch (const CorruptIndex& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
  test::write_file(path, "1234");
  EXPECT_THROW(detail::BinaryReader{path}, CorruptIndex);
  EXPECT_THROW(detail::BinaryReader{dir.path("missing.bin")}, IoError);
}

TEST(BinaryIo, AnAbandonedWriterLeavesNoFile) {
  test::TempDir dir;
  {
    detail::BinaryWriter out(dir.path("f.bin"));
    out.value(1);
  }
  EXPECT_FALSE(std::ifstream(dir.path("f.bin")).good());
  EXPECT_FALSE(std::ifstream(dir.path("f.bin.tmp")).good());
}

}  // namespace
}  // namespace storyline
