#include "detail/index_file.hpp"

#include <cstring>

#include "detail/binary_io.hpp"
#include "storyline/boilerplate.hpp"
#include "storyline/dedup_index.hpp"
#include "storyline/error.hpp"

namespace storyline::detail {
namespace {

constexpr char kMagic[8] = {'S', 'T', 'L', 'N', 'D', 'D', 'U', 'P'};
// The manifest of an index saved by a distributed job (dist/index_manifest.cpp): named here so that a
// single process given one says what it is.
constexpr char kManifestMagic[8] = {'S', 'T', 'L', 'N', 'D', 'M', 'A', 'N'};

}  // namespace

void write_index_params(BinaryWriter& out, const FingerprintScheme& scheme) {
  const DedupParams& p = scheme.params();
  out.value(static_cast<std::uint32_t>(p.method));
  out.value(static_cast<std::uint32_t>(p.shingle.kind));
  out.value(p.shingle.size);
  out.value(p.shingle.seed);
  out.value(p.num_hashes);
  out.value(p.threshold);
  out.value(scheme.bands().bands);
  out.value(scheme.bands().rows);
  out.value(p.max_hamming);
  out.value(static_cast<std::uint32_t>(p.verify));
  out.value(p.seed);
  out.value(p.containment);  // version 2 from here
  out.value(p.min_contained_shingles);
  out.value(p.min_titled_shingles);  // version 3
  out.value(p.first_block_share);
  const std::vector<std::uint64_t> none;
  const std::vector<std::uint64_t>& boilerplate =
      scheme.boilerplate() ? scheme.boilerplate()->hashes() : none;
  out.value(static_cast<std::uint64_t>(boilerplate.size()));
  out.bytes(boilerplate.data(), boilerplate.size() * sizeof(std::uint64_t));
}

DedupParams read_index_params(BinaryReader& in, std::uint32_t version,
                              std::vector<std::uint64_t>* boilerplate) {
  DedupParams p;
  const auto method = in.value<std::uint32_t>();
  const auto kind = in.value<std::uint32_t>();
  if (method > 1 || kind > 1) in.fail("unknown method or shingle kind");
  p.method = static_cast<DedupMethod>(method);
  p.shingle.kind = static_cast<ShingleKind>(kind);
  p.shingle.size = in.value<std::uint32_t>();
  p.shingle.seed = in.value<std::uint64_t>();
  p.num_hashes = in.value<std::uint32_t>();
  p.threshold = in.value<double>();
  p.bands = in.value<std::uint32_t>();
  p.rows = in.value<std::uint32_t>();
  p.max_hamming = in.value<std::uint32_t>();
  const auto verify = in.value<std::uint32_t>();
  if (verify > 1) in.fail("unknown verification mode");
  p.verify = static_cast<Verify>(verify);
  p.seed = in.value<std::uint64_t>();
  if (p.method == DedupMethod::kSimHash) p.bands = p.rows = 0;
  p.containment = 0.0;  // version 1 had neither containment nor boilerplate
  p.min_titled_shingles = 0;
  p.first_block_share = 0.0;
  if (version >= 2) {
    p.containment = in.value<double>();
    p.min_contained_shingles = in.value<std::uint32_t>();
    p.min_titled_shingles = version >= 3 ? in.value<std::uint32_t>() : 0;  // titles came with version 3
    p.first_block_share = version >= 3 ? in.value<double>() : 0.0;         // and the first block
    const auto count = in.value<std::uint64_t>();
    if (count > in.remaining() / sizeof(std::uint64_t)) in.fail("boilerplate count larger than the file");
    std::vector<std::uint64_t> hashes(count);
    in.bytes(hashes.data(), hashes.size() * sizeof(std::uint64_t));
    if (boilerplate != nullptr) *boilerplate = std::move(hashes);
  }
  try {
    const FingerprintScheme check(p);
  } catch (const InvalidArgument& e) {
    in.fail(std::string("bad parameters: ") + e.what());
  }
  return p;
}

IndexFileWriter::IndexFileWriter(const std::string& path, const FingerprintScheme& scheme,
                                 std::uint64_t count)
    : out_(std::make_unique<BinaryWriter>(path)), count_(count) {
  out_->bytes(kMagic, sizeof kMagic);
  out_->value(DedupIndex::kFormatVersion);
  write_index_params(*out_, scheme);
  out_->value(scheme.words());
  out_->value(count);
}

IndexFileWriter::~IndexFileWriter() = default;

void IndexFileWriter::add(std::string_view id, const DocInfo& info,
                          std::span<const std::uint32_t> fingerprint) {
  out_->string(id);
  out_->value(info.date);
  out_->value(info.length);
  out_->bytes(fingerprint.data(), fingerprint.size_bytes());
  ++added_;
}

void IndexFileWriter::finish() {
  STORYLINE_CHECK_ARG(added_ == count_, "an index file got another number of documents than it announced");
  out_->finish();
}

IndexFileReader::IndexFileReader(const std::string& path) : in_(std::make_unique<BinaryReader>(path)) {
  char magic[8];
  in_->bytes(magic, sizeof magic);
  if (std::memcmp(magic, kManifestMagic, sizeof magic) == 0) {
    in_->value<std::uint32_t>();  // the manifest's version
    const auto ranks = in_->value<std::uint32_t>();
    throw InvalidArgument("'" + path + "' is the manifest of an index saved by a distributed job of " +
                          std::to_string(ranks) + " ranks: load it under mpirun -np " +
                          std::to_string(ranks));
  }
  if (std::memcmp(magic, kMagic, sizeof magic) != 0) in_->fail("wrong magic number");
  const auto version = in_->value<std::uint32_t>();
  if (version < 1 || version > DedupIndex::kFormatVersion) {
    in_->fail("format version " + std::to_string(version) + ", this build reads 1 to " +
              std::to_string(DedupIndex::kFormatVersion));
  }
  std::vector<std::uint64_t> boilerplate;
  params_ = read_index_params(*in_, version, &boilerplate);
  if (!boilerplate.empty()) boilerplate_ = std::make_shared<const Boilerplate>(std::move(boilerplate));
  words_ = in_->value<std::uint32_t>();
  if (words_ != FingerprintScheme(params_).words())
    in_->fail("fingerprint size does not match the parameters");
  count_ = in_->value<std::uint64_t>();
  const std::uint64_t min_record = 4 + 4 + 4 + std::uint64_t{words_} * 4;
  if (count_ > in_->remaining() / min_record) in_->fail("document count larger than the file");
}

IndexFileReader::~IndexFileReader() = default;
IndexFileReader::IndexFileReader(IndexFileReader&&) noexcept = default;
IndexFileReader& IndexFileReader::operator=(IndexFileReader&&) noexcept = default;

void IndexFileReader::next(std::string& id, DocInfo& info, std::span<std::uint32_t> fingerprint) {
  id = in_->string(kMaxIndexIdBytes);
  info.date = in_->value<std::int32_t>();
  info.length = in_->value<std::uint32_t>();
  in_->bytes(fingerprint.data(), fingerprint.size_bytes());
}

void IndexFileReader::finish() { in_->finish(); }

void IndexFileReader::fail(const std::string& what) const { in_->fail(what); }

}  // namespace storyline::detail
