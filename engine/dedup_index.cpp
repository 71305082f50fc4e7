#include "storyline/dedup_index.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>

#include "detail/binary_io.hpp"
#include "detail/index_file.hpp"
#include "storyline/error.hpp"

namespace storyline {
namespace {

constexpr std::size_t kMaxIdBytes = detail::kMaxIndexIdBytes;

}  // namespace

DedupIndex::DedupIndex(const DedupParams& params, std::shared_ptr<const Boilerplate> boilerplate)
    : scheme_(params, std::move(boilerplate)), lsh_(scheme_.key_count()) {}

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
    if (scheme_.matches(fingerprint, this->fingerprint(doc))) {
      matches.push_back(IndexMatch{doc, scheme_.similarity(fingerprint, this->fingerprint(doc))});
    }
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
  detail::IndexFileWriter out(path, scheme_, size());
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    if (alive_[i]) out.add(ids_[i], info_[i], fingerprint(static_cast<DocIndex>(i)));
  }
  out.finish();
}

DedupIndex DedupIndex::load(const std::string& path) {
  detail::IndexFileReader in(path);
  DedupIndex index(in.params(), in.boilerplate());
  index.reserve(in.count());
  std::string id;
  DocInfo info;
  std::vector<std::uint32_t> fp(index.scheme_.words());
  for (std::uint64_t i = 0; i < in.count(); ++i) {
    in.next(id, info, fp);
    if (index.ids_by_name_.contains(id)) in.fail("id '" + id + "' appears twice");
    index.add(id, info, fp);
  }
  in.finish();
  return index;
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
