#include "dist/index_manifest.hpp"

#include <algorithm>
#include <cstring>

#include "detail/binary_io.hpp"

namespace storyline::dist {
namespace {

constexpr char kMagic[8] = {'S', 'T', 'L', 'N', 'D', 'M', 'A', 'N'};  // see detail/index_file.cpp
constexpr std::uint32_t kMaxRanks = 1u << 20;
constexpr std::size_t kMaxName = 4096;

}  // namespace

void append_segment(std::vector<Segment>& list, Segment s) {
  if (s.count == 0) return;
  if (!list.empty() && list.back().begin + list.back().count == s.begin) {
    list.back().count += s.count;
  } else {
    list.push_back(s);
  }
}

void IndexManifest::save(const std::string& path) const {
  detail::BinaryWriter out(path);
  out.bytes(kMagic, sizeof kMagic);
  out.value(kFormatVersion);
  out.value(static_cast<std::uint32_t>(parts.size()));
  out.value(documents);
  for (const Part& p : parts) {
    out.string(p.file);
    out.value(p.documents);
    out.value(static_cast<std::uint32_t>(p.segments.size()));
    for (const Segment& s : p.segments) {
      out.value(s.begin);
      out.value(s.count);
    }
  }
  out.finish();
}

IndexManifest IndexManifest::load(const std::string& path) {
  detail::BinaryReader in(path);
  char magic[8];
  in.bytes(magic, sizeof magic);
  if (std::memcmp(magic, kMagic, sizeof magic) != 0) {
    in.fail("not the manifest of a distributed index (a single process saved it? load it without mpirun)");
  }
  const auto version = in.value<std::uint32_t>();
  if (version != kFormatVersion) {
    in.fail("manifest version " + std::to_string(version) + ", this build reads " +
            std::to_string(kFormatVersion));
  }
  IndexManifest m;
  const auto ranks = in.value<std::uint32_t>();
  if (ranks == 0 || ranks > kMaxRanks) in.fail("rank count " + std::to_string(ranks) + " out of range");
  m.documents = in.value<std::uint64_t>();
  std::vector<Segment> all;
  for (std::uint32_t r = 0; r < ranks; ++r) {
    Part p;
    p.file = in.string(kMaxName);
    if (p.file.empty() || p.file.find('/') != std::string::npos)
      in.fail("bad part file name '" + p.file + "'");
    p.documents = in.value<std::uint64_t>();
    const auto segments = in.value<std::uint32_t>();
    if (segments > in.remaining() / 16) in.fail("segment count larger than the file");
    std::uint64_t held = 0;
    for (std::uint32_t k = 0; k < segments; ++k) {
      Segment s;
      s.begin = in.value<std::uint64_t>();
      s.count = in.value<std::uint64_t>();
      held += s.count;
      p.segments.push_back(s);
      all.push_back(s);
    }
    if (held != p.documents) in.fail("rank " + std::to_string(r) + "'s segments do not hold its documents");
    m.parts.push_back(std::move(p));
  }
  in.finish();
  std::sort(all.begin(), all.end(), [](const Segment& a, const Segment& b) { return a.begin < b.begin; });
  std::uint64_t next = 0;
  for (const Segment& s : all) {
    if (s.begin != next || s.count == 0) in.fail("the segments do not cover the documents once");
    next += s.count;
  }
  if (next != m.documents) in.fail("the segments do not cover the documents once");
  return m;
}

std::string IndexManifest::part_path(const std::string& manifest_path, const std::string& file) {
  const auto slash = manifest_path.rfind('/');
  return slash == std::string::npos ? file : manifest_path.substr(0, slash + 1) + file;
}

}  // namespace storyline::dist
