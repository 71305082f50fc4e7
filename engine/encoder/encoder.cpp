// USE-lite's forward pass, exactly as its TF.js graph defines it (module_apply_default/Encoder_en), with
// Eigen; and the package's SentencePiece tokenizer (@energetic-ai/embeddings, lib/tokenizer.ts),
// quirks included, so that ids and vectors match the reference (tests/data/encoder/golden.jsonl).
//
// The graph, per text of L <= 128 pieces (rows are positions):
//   x   = 2 E[id] + [sin(p inv), cos(p inv)]     (the graph adds the embedding twice: once scattered,
//                                                 once with the timing signal)
//   layer 0 (256 -> 512), layer 1 (512):
//     h   = LN(x); q, k, v = h Wqkv + b, 4 heads; o = softmax(q k^T / sqrt(head)) v
//     y   = o Wout + b + (layer 0: x Wres + b; layer 1: x)
//     x   = y + relu(LN(y) W1 + b1) W2 + b2
//   u   = tanh(mean over positions of x  Wpool + b); the vector is u / |u|.
// LN is layer normalisation with eps 1e-6 over the last dimension.
#include "storyline/encoder.hpp"

#include <tbb/parallel_for.h>
#include <utf8proc.h>
#include <zlib.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <unordered_map>

#include "detail/set_up_file.hpp"
#include "storyline/error.hpp"
#include "storyline/report.hpp"

namespace storyline {
namespace {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::Matrix<float, 1, Eigen::Dynamic>;  // a row

constexpr char kMagic[8] = {'S', 'L', 'E', 'N', 'C', 'O', 'D', 'E'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kReserved = 6;  // pieces the tokenizer never emits: <unk>, <s>, </s>, 3 extras
constexpr std::size_t kTextsPerTask = 16;

// A bounds-checked cursor over the file's bytes.
class Cursor {
 public:
  Cursor(const std::string& path, const std::string& bytes, std::size_t end)
      : path_(path), bytes_(bytes), end_(end) {}
  template <typename T>
  T value() {
    T v;
    std::memcpy(&v, take(sizeof v), sizeof v);
    return v;
  }
  const char* take(std::size_t size) {
    if (size > end_ - pos_) fail("truncated");
    const char* at = bytes_.data() + pos_;
    pos_ += size;
    return at;
  }
  bool done() const { return pos_ == end_; }
  [[noreturn]] void fail(const std::string& what) const {
    throw CorruptIndex(path_ + ": not a storyline encoder file (" + what + " at byte " +
                       std::to_string(pos_) + "); rebuild it with the set-up command");
  }

 private:
  const std::string& path_;
  const std::string& bytes_;
  std::size_t end_;
  std::size_t pos_ = 0;
};

constexpr std::size_t kHeadBytes = sizeof kMagic + 4;  // magic, version

// Checks the magic and the version at the cursor (the file's start; bytes: what the cursor reads).
void read_head(Cursor& c, const std::string& bytes) {
  if (bytes.size() < kHeadBytes || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    c.fail("no SLENCODE magic");
  c.take(sizeof kMagic);
  if (const auto version = c.value<std::uint32_t>(); version != kVersion)
    c.fail("version " + std::to_string(version) + ", this build reads " + std::to_string(kVersion));
}

struct Layer {
  Vector ln_scale, ln_bias, qkv_b, out_b, res_b, ffn_ln_scale, ffn_ln_bias, ffn_b1, ffn_b2;
  Matrix qkv_w, out_w, res_w, ffn_w1, ffn_w2;  // res_w: empty when the residual needs no projection
  float scale = 0;
  Eigen::Index heads = 4;
};

void layer_norm(const Matrix& x, const Vector& scale, const Vector& bias, float eps, Matrix& out) {
  out.resize(x.rows(), x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const float mean = x.row(r).mean();
    const float variance = (x.row(r).array() - mean).square().mean();
    const float inv = 1.0f / std::sqrt(variance + eps);
    out.row(r) = ((x.row(r).array() - mean) * inv * scale.array() + bias.array()).matrix();
  }
}

void add_bias(Matrix& m, const Vector& bias) { m.rowwise() += bias; }

}  // namespace

struct SentenceEncoder::Model {
  std::string description;
  // Tokenizer: piece -> (index, score); the pieces' lengths in code points.
  std::unordered_map<std::string, std::pair<std::int32_t, double>> pieces;
  std::vector<std::uint32_t> piece_length;
  std::size_t max_piece_length = 1;
  // Graph.
  Matrix embeddings;
  Vector timing_inv;
  Layer layers[2];
  Matrix pool_w;
  Vector pool_b;
  std::vector<float> headline_mean;
  std::uint32_t checksum = 0;
  float eps = 1e-6f;

  /// Reads and checks a model file (SentenceEncoder::load).
  static std::unique_ptr<Model> read(const std::string& path);
  void run_layer(const Layer& l, Matrix& x,
                 std::span<const std::pair<Eigen::Index, Eigen::Index>> spans) const;
  void encode_chunk(std::span<const std::string_view> texts, float* out, std::size_t dim,
                    const SentenceEncoder& encoder) const;
};

namespace {

std::vector<std::string> code_points(std::string_view s) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.size();) {
    utf8proc_int32_t c;
    auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                              static_cast<utf8proc_ssize_t>(s.size() - i), &c);
    if (n <= 0) n = 1;  // an invalid byte is a symbol of its own (it cannot match a piece)
    out.emplace_back(s.substr(i, static_cast<std::size_t>(n)));
    i += static_cast<std::size_t>(n);
  }
  return out;
}

}  // namespace

struct SentenceEncoder::Lazy {
  std::string path;
  std::string description;
  std::once_flag once;
  std::unique_ptr<Model> model;
};

const SentenceEncoder::Model& SentenceEncoder::model() const {
  std::call_once(lazy_->once, [&] { lazy_->model = Model::read(lazy_->path); });
  return *lazy_->model;
}

std::vector<std::int32_t> SentenceEncoder::tokenize(std::string_view text) const {
  const Model& m = model();
  // processInput: NFKC, then U+2581 before the text and in place of every space.
  std::string normalized(text);
  if (utf8proc_uint8_t* nfkc = utf8proc_NFKC(reinterpret_cast<const utf8proc_uint8_t*>(normalized.c_str()))) {
    normalized = reinterpret_cast<const char*>(nfkc);
    std::free(nfkc);
  }
  if (normalized.empty()) return {};
  std::string input = "\u2581";
  for (const char c : normalized) {
    if (c == ' ')
      input += "\u2581";
    else
      input += c;
  }
  const std::vector<std::string> symbols = code_points(input);
  const std::size_t n = symbols.size();
  // The lattice: candidates ending at each position, in order of their start (the package's
  // nodes[end][start], whose integer keys iterate in ascending order).
  struct Candidate {
    std::size_t start;
    std::int32_t index;
    double score;
  };
  std::vector<std::vector<Candidate>> ending(n + 1);
  std::string piece;
  for (std::size_t i = 0; i < n; ++i) {
    piece.clear();
    bool matched = false;
    for (std::size_t len = 1; len <= m.max_piece_length && i + len <= n; ++len) {
      piece += symbols[i + len - 1];
      const auto it = m.pieces.find(piece);
      if (it == m.pieces.end()) continue;
      ending[i + len].push_back({i, it->second.first, it->second.second});
      matched = true;
    }
    if (!matched) ending[i + 1].push_back({i, 0, 0.0});  // an unknown symbol: id 0, score 0
  }
  // Viterbi as the package runs it: best[] starts at 0 and a 0 is replaced by any score (so an
  // unreached position counts as 0), ties go to the later candidate.
  std::vector<double> best(n + 1, 0.0);
  std::vector<std::int32_t> word(n + 1, 0);
  for (std::size_t end = 0; end <= n; ++end) {
    for (const Candidate& c : ending[end]) {
      const double score = c.score + best[c.start];
      if (best[end] == 0.0 || score >= best[end]) {
        best[end] = score;
        word[end] = c.index;
      }
    }
  }
  std::vector<std::int32_t> reversed;
  for (std::size_t at = n; at > 0;) {
    const std::int32_t id = word[at];
    reversed.push_back(id);
    at -= std::min<std::size_t>(at, m.piece_length[static_cast<std::size_t>(id)]);
  }
  std::vector<std::int32_t> ids;
  bool previous_unknown = false;
  for (const std::int32_t id : reversed) {
    if (!(previous_unknown && id == 0)) ids.push_back(id);
    previous_unknown = id == 0;
  }
  std::reverse(ids.begin(), ids.end());
  return ids;
}

void SentenceEncoder::Model::run_layer(const Layer& l, Matrix& x,
                                       std::span<const std::pair<Eigen::Index, Eigen::Index>> spans) const {
  Matrix h;
  layer_norm(x, l.ln_scale, l.ln_bias, eps, h);
  Matrix qkv = h * l.qkv_w;
  add_bias(qkv, l.qkv_b);
  const Eigen::Index d = qkv.cols() / 3;
  const Eigen::Index head = d / l.heads;
  Matrix attended(x.rows(), d);
  Matrix logits;
  for (const auto& [row, length] : spans) {
    for (Eigen::Index k = 0; k < l.heads; ++k) {
      const auto q = qkv.block(row, k * head, length, head);
      const auto keys = qkv.block(row, d + k * head, length, head);
      const auto values = qkv.block(row, 2 * d + k * head, length, head);
      logits.noalias() = (q * l.scale) * keys.transpose();
      for (Eigen::Index r = 0; r < length; ++r) {
        auto lr = logits.row(r).array();
        lr = (lr - lr.maxCoeff()).exp();
        lr /= lr.sum();
      }
      attended.block(row, k * head, length, head).noalias() = logits * values;
    }
  }
  Matrix y = attended * l.out_w;
  add_bias(y, l.out_b);
  if (l.res_w.size() != 0) {
    y.noalias() += x * l.res_w;
    add_bias(y, l.res_b);
  } else {
    y += x;
  }
  layer_norm(y, l.ffn_ln_scale, l.ffn_ln_bias, eps, h);
  Matrix inner = h * l.ffn_w1;
  add_bias(inner, l.ffn_b1);
  inner = inner.cwiseMax(0.0f);
  x = y;
  x.noalias() += inner * l.ffn_w2;
  add_bias(x, l.ffn_b2);
}

void SentenceEncoder::Model::encode_chunk(std::span<const std::string_view> texts, float* out,
                                          std::size_t dim, const SentenceEncoder& encoder) const {
  std::vector<std::vector<std::int32_t>> ids(texts.size());
  std::vector<std::pair<Eigen::Index, Eigen::Index>> spans;  // (first row, length) of each text with tokens
  std::vector<std::size_t> owner;                            // the text of each span
  Eigen::Index rows = 0;
  for (std::size_t t = 0; t < texts.size(); ++t) {
    ids[t] = encoder.tokenize(texts[t]);
    if (ids[t].size() > kMaxTokens) ids[t].resize(kMaxTokens);
    if (ids[t].empty()) continue;
    spans.emplace_back(rows, static_cast<Eigen::Index>(ids[t].size()));
    owner.push_back(t);
    rows += static_cast<Eigen::Index>(ids[t].size());
  }
  std::fill(out, out + texts.size() * dim, 0.0f);
  if (rows == 0) return;
  const Eigen::Index half = timing_inv.cols();
  Matrix x(rows, embeddings.cols());
  for (std::size_t s = 0; s < spans.size(); ++s) {
    const std::vector<std::int32_t>& piece = ids[owner[s]];
    for (Eigen::Index p = 0; p < spans[s].second; ++p) {
      auto row = x.row(spans[s].first + p);
      row = 2.0f * embeddings.row(piece[static_cast<std::size_t>(p)]);
      for (Eigen::Index k = 0; k < half; ++k) {
        const float angle = static_cast<float>(p) * timing_inv[k];
        row[k] += std::sin(angle);
        row[half + k] += std::cos(angle);
      }
    }
  }
  run_layer(layers[0], x, spans);
  run_layer(layers[1], x, spans);
  Matrix pooled(static_cast<Eigen::Index>(spans.size()), x.cols());
  for (std::size_t s = 0; s < spans.size(); ++s) {
    pooled.row(static_cast<Eigen::Index>(s)) = x.middleRows(spans[s].first, spans[s].second).colwise().mean();
  }
  Matrix u = pooled * pool_w;
  add_bias(u, pool_b);
  u = u.array().tanh().matrix();
  for (std::size_t s = 0; s < spans.size(); ++s) {
    const auto r = u.row(static_cast<Eigen::Index>(s));
    const float norm = std::sqrt(std::max(r.squaredNorm(), 1e-12f));
    Eigen::Map<Vector>(out + owner[s] * dim, static_cast<Eigen::Index>(dim)) = r / norm;
  }
}

SentenceEncoder::SentenceEncoder(std::unique_ptr<Lazy> lazy) : lazy_(std::move(lazy)) {}
SentenceEncoder::~SentenceEncoder() = default;

std::size_t SentenceEncoder::dim() const { return static_cast<std::size_t>(model().pool_w.cols()); }

const std::string& SentenceEncoder::description() const { return lazy_->description; }

std::span<const float> SentenceEncoder::headline_mean() const { return model().headline_mean; }

std::uint32_t SentenceEncoder::checksum() const { return model().checksum; }

void SentenceEncoder::center(std::span<float> v, std::span<const float> mean) {
  double norm = 0;
  for (std::size_t k = 0; k < v.size(); ++k) {
    v[k] -= k < mean.size() ? mean[k] : 0.0f;
    norm += static_cast<double>(v[k]) * v[k];
  }
  const auto scale = norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.0f;
  for (float& x : v) x *= scale;
}

std::vector<float> SentenceEncoder::encode(std::span<const std::string_view> texts) const {
  const std::size_t d = dim();
  std::vector<float> out(texts.size() * d);
  // Fixed chunks: a text's matrices, and so its vector's last bits, never depend on the scheduling.
  const std::size_t chunks = (texts.size() + kTextsPerTask - 1) / kTextsPerTask;
  tbb::parallel_for(std::size_t{0}, chunks, [&](std::size_t chunk) {
    const std::size_t first = chunk * kTextsPerTask;
    const std::size_t size = std::min(kTextsPerTask, texts.size() - first);
    model().encode_chunk(texts.subspan(first, size), out.data() + first * d, d, *this);
  });
  return out;
}

std::shared_ptr<const SentenceEncoder> SentenceEncoder::load(const std::string& path) {
  auto lazy = std::make_unique<Lazy>();
  lazy->path = path;
  lazy->model = Model::read(path);
  std::call_once(lazy->once, [] {});
  lazy->description = lazy->model->description;
  return std::shared_ptr<const SentenceEncoder>(new SentenceEncoder(std::move(lazy)));
}

std::shared_ptr<const SentenceEncoder> SentenceEncoder::load_when_used(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open the encoder file");
  std::string head(kHeadBytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  Cursor c(path, head, head.size());
  read_head(c, head);
  auto lazy = std::make_unique<Lazy>();
  lazy->path = path;
  lazy->description = "USE-lite (" + path + ", read when a short document comes)";
  return std::shared_ptr<const SentenceEncoder>(new SentenceEncoder(std::move(lazy)));
}

std::unique_ptr<SentenceEncoder::Model> SentenceEncoder::Model::read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open the encoder file");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw IoError(path + ": cannot read the encoder file");
  Cursor c(path, bytes, std::max<std::size_t>(bytes.size(), kHeadBytes + 4) - 4);  // the CRC-32 after
  read_head(c, bytes);
  const std::size_t payload = bytes.size() - 4;
  std::uint32_t stored_crc;
  std::memcpy(&stored_crc, bytes.data() + payload, 4);
  const auto crc = static_cast<std::uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(payload)));
  if (crc != stored_crc) c.fail("CRC-32 mismatch: damaged or truncated");

  auto m = std::make_unique<Model>();
  const auto pieces = c.value<std::uint32_t>();
  if (pieces <= kReserved || pieces > (1u << 20)) c.fail("piece count " + std::to_string(pieces));
  m->piece_length.resize(pieces);
  for (std::uint32_t i = 0; i < pieces; ++i) {
    const auto length = c.value<std::uint16_t>();
    std::string piece(c.take(length), length);
    const auto score = c.value<double>();
    m->piece_length[i] = static_cast<std::uint32_t>(std::max<std::size_t>(1, code_points(piece).size()));
    if (i < kReserved) continue;
    m->max_piece_length = std::max<std::size_t>(m->max_piece_length, m->piece_length[i]);
    m->pieces.try_emplace(std::move(piece), static_cast<std::int32_t>(i), score);
  }
  std::map<std::string, std::pair<std::vector<std::uint32_t>, const float*>> tensors;
  const auto count = c.value<std::uint32_t>();
  for (std::uint32_t t = 0; t < count; ++t) {
    const auto length = c.value<std::uint16_t>();
    std::string name(c.take(length), length);
    const auto rank = c.value<std::uint32_t>();
    if (rank > 4) c.fail("tensor " + name + " of rank " + std::to_string(rank));
    std::vector<std::uint32_t> dims(rank);
    std::uint64_t size = 1;
    for (auto& d : dims) size *= (d = c.value<std::uint32_t>());
    if (size > (1u << 28)) c.fail("tensor " + name + " too large");
    tensors[name] = {dims, reinterpret_cast<const float*>(c.take(size * sizeof(float)))};
  }
  if (!c.done()) c.fail("bytes after the last tensor");

  // Each tensor by name, its shape checked against the graph's (d: 256 for layer 0, 512 after).
  const auto matrix = [&](const std::string& name, std::uint32_t rows, std::uint32_t cols) {
    const auto it = tensors.find(name);
    if (it == tensors.end()) c.fail("no tensor " + name);
    const auto& [dims, data] = it->second;
    const bool vector = rows == 0;
    if (vector ? !(dims.size() == 1 && dims[0] == cols)
               : !(dims.size() == 2 && dims[0] == rows && dims[1] == cols))
      c.fail("tensor " + name + " of another shape");
    Matrix out(vector ? 1 : rows, cols);
    std::memcpy(out.data(), data, static_cast<std::size_t>(out.size()) * sizeof(float));  // unaligned source
    return out;
  };
  const auto row = [&](const std::string& name, std::uint32_t cols) -> Vector {
    return matrix(name, 0, cols);
  };
  const std::uint32_t width = 256, model = 512, inner = 1536;
  const auto embedding_dims = tensors.find("embeddings");
  if (embedding_dims == tensors.end() || embedding_dims->second.first.size() != 2) c.fail("no embeddings");
  m->embeddings = matrix("embeddings", embedding_dims->second.first[0], width);
  if (m->embeddings.rows() < static_cast<Eigen::Index>(pieces)) c.fail("fewer embeddings than pieces");
  m->timing_inv = row("timing.inv", width / 2);
  m->eps = row("ln.eps", 1)[0];
  for (std::uint32_t k = 0; k < 2; ++k) {
    Layer& l = m->layers[k];
    const std::string p = "l" + std::to_string(k) + ".";
    const std::uint32_t in = k == 0 ? width : model;
    l.ln_scale = row(p + "ln.scale", in);
    l.ln_bias = row(p + "ln.bias", in);
    l.qkv_w = matrix(p + "qkv.w", in, 3 * in);
    l.qkv_b = row(p + "qkv.b", 3 * in);
    l.out_w = matrix(p + "out.w", in, model);
    l.out_b = row(p + "out.b", model);
    if (k == 0) {
      l.res_w = matrix(p + "res.w", in, model);
      l.res_b = row(p + "res.b", model);
    }
    l.ffn_ln_scale = row(p + "ffn.ln.scale", model);
    l.ffn_ln_bias = row(p + "ffn.ln.bias", model);
    l.ffn_w1 = matrix(p + "ffn.w1", model, inner);
    l.ffn_b1 = row(p + "ffn.b1", inner);
    l.ffn_w2 = matrix(p + "ffn.w2", inner, model);
    l.ffn_b2 = row(p + "ffn.b2", model);
    l.scale = row(p + "scale", 1)[0];
  }
  m->pool_w = matrix("pool.w", model, model);
  m->pool_b = row("pool.b", model);
  const Vector mean = row("headline.mean", model);
  m->headline_mean.assign(mean.data(), mean.data() + mean.size());
  m->checksum = stored_crc;
  m->description =
      "USE-lite, " + group_digits(pieces) + " pieces, " + std::to_string(model) + "-d (" + path + ")";
  return m;
}

namespace {

// Whether title and text hold at most limit words (runs of non-space bytes) in all.
bool at_most_words(std::string_view title, std::string_view text, std::uint32_t limit) {
  std::uint32_t words = 0;
  for (const std::string_view part : {title, text}) {
    bool in_word = false;
    for (const char c : part) {
      const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
      if (!space && !in_word && ++words > limit) return false;
      in_word = !space;
    }
  }
  return true;
}

}  // namespace

std::string short_document_text(std::string_view title, std::string_view text, std::uint32_t max_words) {
  if (max_words == 0 || title.find_first_not_of(" \t\n\r") == std::string_view::npos) return {};
  // A headline alone arrives as its text too (the reader's rule when no text is required): once here.
  const std::string_view body = text == title ? std::string_view() : text;
  if (!at_most_words(title, body, max_words)) return {};
  std::string out(title);
  if (body.find_first_not_of(" \t\n\r") != std::string_view::npos) out.append(". ").append(body);
  return out;
}

std::string default_encoder_path() {
  return detail::set_up_file("STORYLINE_ENCODER", "storyline-encoder.bin");
}

}  // namespace storyline
