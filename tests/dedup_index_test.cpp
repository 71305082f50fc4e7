#include "storyline/dedup_index.hpp"

#include <gtest/gtest.h>

#include "storyline/boilerplate.hpp"
#include "storyline/error.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

std::vector<std::uint32_t> fingerprint(const FingerprintScheme& scheme, const std::string& text) {
  std::vector<std::uint32_t> fp(scheme.words());
  Fingerprinter(scheme).fingerprint(text, fp, nullptr);
  return fp;
}

DedupIndex sample_index(DedupMethod method) {
  DedupParams p;
  p.method = method;
  DedupIndex index(p);
  for (int i = 0; i < 50; ++i) {
    index.add("doc" + std::to_string(i), DocInfo{i, 1000u + i},
              fingerprint(index.scheme(), test::random_text(i, 200)));
  }
  return index;
}

TEST(DedupIndex, FindsAddedDocumentsAndForgetsRemovedOnes) {
  for (const auto method : {DedupMethod::kMinHash, DedupMethod::kSimHash}) {
    DedupIndex index = sample_index(method);
    const auto fp = fingerprint(index.scheme(), test::random_text(7, 200));
    auto matches = index.query(fp);
    ASSERT_FALSE(matches.empty());
    EXPECT_EQ(index.id(matches[0].doc), "doc7");
    EXPECT_DOUBLE_EQ(matches[0].similarity, 1.0);
    EXPECT_TRUE(index.query(fingerprint(index.scheme(), test::random_text(999, 200))).empty());
    EXPECT_TRUE(index.remove("doc7"));
    EXPECT_FALSE(index.remove("doc7"));
    EXPECT_TRUE(index.query(fp).empty());
    EXPECT_EQ(index.size(), 49u);
    EXPECT_THROW(index.add("doc8", DocInfo{}, fp), InvalidArgument);
  }
}

TEST(DedupIndex, SaveAndLoadRoundTrip) {
  test::TempDir dir;
  for (const auto method : {DedupMethod::kMinHash, DedupMethod::kSimHash}) {
    DedupIndex index = sample_index(method);
    index.remove("doc3");
    index.save(dir.path("index.bin"));
    const DedupIndex loaded = DedupIndex::load(dir.path("index.bin"));
    ASSERT_EQ(loaded.size(), 49u);
    EXPECT_EQ(loaded.scheme().params().method, method);
    EXPECT_EQ(loaded.scheme().key_count(), index.scheme().key_count());
    const DocIndex d = *loaded.find("doc10");
    EXPECT_EQ(loaded.info(d).date, 10);
    EXPECT_EQ(loaded.info(d).length, 1010u);
    const DocIndex original = *index.find("doc10");
    EXPECT_TRUE(std::equal(loaded.fingerprint(d).begin(), loaded.fingerprint(d).end(),
                           index.fingerprint(original).begin()));
    const auto matches = loaded.query(index.fingerprint(original));
    ASSERT_FALSE(matches.empty());
    EXPECT_EQ(loaded.id(matches[0].doc), "doc10");
    EXPECT_FALSE(loaded.find("doc3").has_value());
  }
}

TEST(DedupIndex, FileFormatGoldenHeader) {
  // If this fails, the index format changed: bump DedupIndex::kFormatVersion.
  test::TempDir dir;
  DedupIndex index{DedupParams{}};
  index.save(dir.path("empty.bin"));
  const std::string bytes = test::read_file(dir.path("empty.bin"));
  EXPECT_EQ(bytes.substr(0, 8), "STLNDDUP");
  EXPECT_EQ(bytes[8], 3);  // version, little-endian
  // Magic, version, the version 1 parameters, containment (f64), min_contained_shingles (u32),
  // min_titled_shingles (u32) and first_block_share (f64) from version 3, the boilerplate count (u64, no
  // hashes), words, count, checksum.
  EXPECT_EQ(bytes.size(), 8u + 4 + 4 + 4 + 4 + 8 + 4 + 8 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 4 + 8 + 8 + 4 + 8 + 8)
      << "index format changed";
  // The boilerplate travels with the index, so that its documents and the next run's are signed alike.
  DedupIndex with{DedupParams{}, std::make_shared<const Boilerplate>(std::vector<std::uint64_t>{7, 3, 7})};
  with.save(dir.path("with.bin"));
  const DedupIndex loaded = DedupIndex::load(dir.path("with.bin"));
  ASSERT_TRUE(loaded.scheme().boilerplate());
  EXPECT_EQ(loaded.scheme().boilerplate()->hashes(), (std::vector<std::uint64_t>{3, 7}));
  EXPECT_DOUBLE_EQ(loaded.scheme().params().containment, DedupParams{}.containment);
  EXPECT_EQ(loaded.scheme().params().min_titled_shingles, DedupParams{}.min_titled_shingles);
  EXPECT_DOUBLE_EQ(loaded.scheme().params().first_block_share, DedupParams{}.first_block_share);
  EXPECT_EQ(loaded.scheme().words(), 128u + kLeadHashes + 3) << "MinHash, lead, count, first block, title";
}

TEST(DedupIndex, TruncatedCorruptedAndForeignFilesGiveCorruptIndex) {
  test::TempDir dir;
  DedupIndex index = sample_index(DedupMethod::kMinHash);
  index.save(dir.path("good.bin"));
  const std::string bytes = test::read_file(dir.path("good.bin"));
  // Every truncation point, sampled, must be detected.
  for (std::size_t cut = 0; cut < bytes.size(); cut += 97) {
    test::write_file(dir.path("cut.bin"), bytes.substr(0, cut));
    EXPECT_THROW(DedupIndex::load(dir.path("cut.bin")), CorruptIndex) << "cut at " << cut;
  }
  // A flipped bit anywhere fails the checksum (or a structural check first).
  for (std::size_t pos = 0; pos < bytes.size(); pos += 131) {
    std::string flipped = bytes;
    flipped[pos] = static_cast<char>(flipped[pos] ^ 0x10);
    test::write_file(dir.path("flip.bin"), flipped);
    EXPECT_THROW(DedupIndex::load(dir.path("flip.bin")), CorruptIndex) << "flip at " << pos;
  }
  test::write_file(dir.path("foreign.bin"), "{\"id\":1,\"text\":\"this is JSON, not an index\"}\n");
  try {
    DedupIndex::load(dir.path("foreign.bin"));
    FAIL();
  } catch (const CorruptIndex& e) {
    EXPECT_NE(std::string(e.what()).find("foreign.bin"), std::string::npos);
  }
  EXPECT_THROW(DedupIndex::load(dir.path("missing.bin")), IoError);
}

// Found by fuzz_index: an 84-byte file declaring 32,973 MinHash values with automatic bands took 13 s
// (the (b, r) search) before its fingerprint size was refused.
TEST(DedupIndex, FuzzFindingHugeNumHashesIsRefusedAtOnce) {
  try {
    DedupIndex::load(std::string(STORYLINE_SOURCE_DIR) +
                     "/tests/fuzz/regressions/index/num-hashes-32973-auto-bands");
    FAIL() << "loaded";
  } catch (const CorruptIndex& e) {
    EXPECT_NE(std::string(e.what()).find("num_hashes 32973 above 1024 needs explicit bands and rows"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace storyline
