#include "storyline/dedup_index.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>

#include "detail/binary_io.hpp"
#include "storyline/error.hpp"

namespace storyline {
namespace {

constexpr char kMagic[8] = {'S', 'T', 'L', 'N', 'D', 'D', 'U', 'P'};
constexpr std::size_t kMaxIdBytes = 1 << 20;

}  // namespace

DedupIndex::DedupIndex(const DedupParams& params) : scheme_(params), lsh_(scheme_.key_count()) {}

DocIndex DedupIndex::add(std::string id, DocInfo info, std::span<const std::uint32_t> fingerprint) {
  STORYLINE_CHECK_ARG(fingerprint.size() == scheme_.words(), "fingerprint has the wrong size");
  STORYLINE_CHECK_ARG(!ids_by_name_.contains(id), "id '" + id + "' is already in the index");
  STORYLINE_CHECK_ARG(ids_.size() < 0xFFFFFFF0u, "the index is full (2^32 documents)");
  const auto doc = static_cast<DocIndex>(ids_.size());
  std::vector<std::uint64_t> keys(scheme_.key_count());
  scheme_.keys(fingerprint, keys);
  lsh_.insert(doc, keys);
  ids_by_name_.emplace(id, doc);
  ids_.push_back(std::move(id));
  info_.push_back(info);
  fingerprints_.insert(fingerprints_.end(), fingerprint.begin(), fingerprint.end());
  alive_.push_back(1);
  return doc;
}

void DedupIndex::reserve(std::size_t documents) {
  ids_.reserve(documents);
  info_.reserve(documents);
  fingerprints_.reserve(documents * scheme_.words());
  alive_.reserve(documents);
  ids_by_name_.reserve(documents);
}

std::vector<IndexMatch> DedupIndex::query(std::span<const std::uint32_t> fingerprint) const {
  STORYLINE_CHECK_ARG(fingerprint.size() == scheme_.words(), "fingerprint has the wrong size");
  std::vector<std::uint64_t> keys(scheme_.key_count());
  scheme_.keys(fingerprint, keys);
  std::vector<DocIndex> candidates;
  lsh_.query(keys, candidates);
  std::vector<IndexMatch> matches;
  for (const DocIndex doc : candidates) {
    if (!alive_[doc]) continue;
    const double s = scheme_.similarity(fingerprint, this->fingerprint(doc));
    if (scheme_.is_duplicate(s)) matches.push_back(IndexMatch{doc, s});
  }
  std::sort(matches.begin(), matches.end(), [](const IndexMatch& a, const IndexMatch& b) {
    return a.similarity != b.similarity ? a.similarity > b.similarity : a.doc < b.doc;
  });
  return matches;
}

bool DedupIndex::remove(std::string_view id) {
  const auto it = ids_by_name_.find(std::string(id));
  if (it == ids_by_name_.end()) return false;
  const DocIndex doc = it->second;
  std::vector<std::uint64_t> keys(scheme_.key_count());
  scheme_.keys(fingerprint(doc), keys);
  lsh_.remove(doc, keys);
  alive_[doc] = 0;
  ids_by_name_.erase(it);
  return true;
}

std::optional<DocIndex> DedupIndex::find(std::string_view id) const {
  const auto it = ids_by_name_.find(std::string(id));
  if (it == ids_by_name_.end()) return std::nullopt;
  return it->second;
}

void DedupIndex::save(const std::string& path) const {
  detail::BinaryWriter out(path);
  const DedupParams& p = scheme_.params();
  out.bytes(kMagic, sizeof kMagic);
  out.value(kFormatVersion);
  out.value(static_cast<std::uint32_t>(p.method));
  out.value(static_cast<std::uint32_t>(p.shingle.kind));
  out.value(p.shingle.size);
  out.value(p.shingle.seed);
  out.value(p.num_hashes);
  out.value(p.threshold);
  out.value(scheme_.bands().bands);
  out.value(scheme_.bands().rows);
  out.value(p.max_hamming);
  out.value(static_cast<std::uint32_t>(p.verify));
  out.value(p.seed);
  out.value(scheme_.words());
  out.value(static_cast<std::uint64_t>(size()));
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    if (!alive_[i]) continue;
    out.string(ids_[i]);
    out.value(info_[i].date);
    out.value(info_[i].length);
    const auto fp = fingerprint(static_cast<DocIndex>(i));
    out.bytes(fp.data(), fp.size_bytes());
  }
  out.finish();
}

DedupIndex DedupIndex::load(const std::string& path) {
  detail::BinaryReader in(path);
  char magic[8];
  in.bytes(magic, sizeof magic);
  if (std::memcmp(magic, kMagic, sizeof magic) != 0) in.fail("wrong magic number");
  const auto version = in.value<std::uint32_t>();
  if (version != kFormatVersion) {
    in.fail("format version " + std::to_string(version) + ", this build reads " +
            std::to_string(kFormatVersion));
  }
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
  std::optional<DedupIndex> index;
  try {
    index.emplace(p);
  } catch (const InvalidArgument& e) {
    in.fail(std::string("bad parameters: ") + e.what());
  }
  const auto words = in.value<std::uint32_t>();
  if (words != index->scheme_.words()) in.fail("fingerprint size does not match the parameters");
  const auto count = in.value<std::uint64_t>();
  const std::uint64_t min_record = 4 + 4 + 4 + std::uint64_t{words} * 4;
  if (count > in.remaining() / min_record) in.fail("document count larger than the file");
  std::vector<std::uint32_t> fp(words);
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string id = in.string(kMaxIdBytes);
    DocInfo info;
    info.date = in.value<std::int32_t>();
    info.length = in.value<std::uint32_t>();
    in.bytes(fp.data(), fp.size() * sizeof(std::uint32_t));
    if (index->ids_by_name_.contains(id)) in.fail("id '" + id + "' appears twice");
    index->add(std::move(id), info, fp);
  }
  in.finish();
  return std::move(*index);
}

void DedupIndex::write_slots(detail::BinaryWriter& out) const {
  out.value(scheme_.words());
  out.value(static_cast<std::uint64_t>(ids_.size()));
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    out.string(ids_[i]);
    out.value(info_[i].date);
    out.value(info_[i].length);
    out.value(alive_[i]);
  }
  out.bytes(fingerprints_.data(), fingerprints_.size() * sizeof(std::uint32_t));
}

void DedupIndex::read_slots(detail::BinaryReader& in) {
  STORYLINE_CHECK_ARG(ids_.empty(), "read_slots needs an empty index");
  const auto words = in.value<std::uint32_t>();
  if (words != scheme_.words()) in.fail("fingerprint size does not match the parameters");
  const auto count = in.value<std::uint64_t>();
  if (count > in.remaining() / (4 + 4 + 4 + 1 + std::uint64_t{words} * 4))
    in.fail("slot count larger than the file");
  ids_.resize(count);
  info_.resize(count);
  alive_.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    ids_[i] = in.string(kMaxIdBytes);
    info_[i].date = in.value<std::int32_t>();
    info_[i].length = in.value<std::uint32_t>();
    alive_[i] = in.value<std::uint8_t>();
  }
  fingerprints_.resize(count * words);
  in.bytes(fingerprints_.data(), fingerprints_.size() * sizeof(std::uint32_t));
}

void DedupIndex::index_slots() {
  STORYLINE_CHECK_ARG(ids_by_name_.empty(), "index_slots needs slots just read");
  const std::size_t count = ids_.size();
  ids_by_name_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (alive_[i] && !ids_by_name_.emplace(ids_[i], static_cast<DocIndex>(i)).second) {
      throw CorruptIndex("the slots name id '" + ids_[i] + "' twice");
    }
  }
  // The tables sized once, then filled a block of slots at a time: the block's keys in parallel, the
  // tables in parallel; the removed slots taken out again at the end.
  const std::uint32_t tables = scheme_.key_count();
  constexpr std::size_t kBlock = std::size_t{1} << 15;
  lsh_.reserve(count);
  std::vector<std::uint64_t> keys(std::min<std::size_t>(count, kBlock) * tables);
  for (std::size_t start = 0; start < count; start += kBlock) {
    const std::size_t n = std::min<std::size_t>(kBlock, count - start);
    tbb::parallel_for(std::size_t{0}, n, [&](std::size_t i) {
      scheme_.keys(fingerprint(static_cast<DocIndex>(start + i)),
                   std::span(keys).subspan(i * tables, tables));
    });
    lsh_.build(std::span(keys).first(n * tables), n, static_cast<DocIndex>(start));
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (alive_[i]) continue;
    scheme_.keys(fingerprint(static_cast<DocIndex>(i)), std::span(keys).first(tables));
    lsh_.remove(static_cast<DocIndex>(i), std::span(keys).first(tables));
  }
}

}  // namespace storyline
