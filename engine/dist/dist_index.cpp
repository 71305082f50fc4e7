#include "dist/dist_index.hpp"

#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string_view>
#include <unordered_map>

#include "detail/corpus.hpp"
#include "storyline/error.hpp"

namespace storyline::dist {
namespace {

// Documents whose id a smaller document has: each id goes to the rank that owns its hash, which keeps
// its smallest document and names the others to their home ranks. Per local document, 1 if left out.
std::vector<std::uint8_t> repeated_ids(Comm& comm, const Layout& layout, const detail::CorpusSink& docs,
                                       std::span<const std::uint64_t> global) {
  const auto ranks = static_cast<std::size_t>(comm.size());
  std::vector<std::string> to_owner(ranks);
  for (std::size_t i = 0; i < global.size(); ++i) {
    const std::string& id = docs.ids[i];
    Packer p(to_owner[XXH3_64bits(id.data(), id.size()) % ranks]);
    p.put(global[i]);
    p.put_string(id);
  }
  const std::vector<std::string> owned = comm.exchange(std::move(to_owner));
  const auto each = [&](auto&& fn) {
    for (const std::string& part : owned) {
      Unpacker in(part);
      while (!in.done()) {
        const auto doc = in.get<std::uint64_t>();
        fn(doc, in.get_string());
      }
    }
  };
  std::unordered_map<std::string_view, std::uint64_t> first;
  each([&](std::uint64_t doc, std::string_view id) {
    const auto [it, added] = first.emplace(id, doc);
    if (!added) it->second = std::min(it->second, doc);
  });
  std::vector<std::string> repeated(ranks);
  each([&](std::uint64_t doc, std::string_view id) {
    if (first.at(id) != doc) Packer(repeated[static_cast<std::size_t>(layout.home(doc))]).put(doc);
  });
  first.clear();
  std::vector<std::uint8_t> skip(global.size(), 0);
  for (const std::string& part : comm.exchange(std::move(repeated))) {
    Unpacker in(part);
    while (!in.done()) skip[layout.local_of(in.get<std::uint64_t>())] = 1;
  }
  return skip;
}

// This rank's segments once the left-out documents are gone: a run moves down by the documents left out
// before it, on any rank; in local order.
std::vector<Segment> segments_without(Comm& comm, const Layout& layout,
                                      const std::vector<std::uint8_t>& skip) {
  const auto me = static_cast<std::size_t>(comm.rank());
  const std::vector<Placed>& runs = layout.runs();
  std::vector<std::uint64_t> left_out(runs.size(), 0);
  for (std::size_t k = 0; k < runs.size(); ++k) {
    if (runs[k].rank != me) continue;
    for (std::uint64_t d = 0; d < runs[k].count; ++d) left_out[k] += skip[runs[k].local + d];
  }
  comm.sum(left_out);
  std::vector<std::pair<std::size_t, Segment>> mine;  // (local, segment)
  std::uint64_t before = 0;
  for (std::size_t k = 0; k < runs.size(); ++k) {
    if (runs[k].rank == me)
      mine.emplace_back(runs[k].local, Segment{runs[k].begin - before, runs[k].count - left_out[k]});
    before += left_out[k];
  }
  std::sort(mine.begin(), mine.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Segment> out;
  for (const auto& [local, seg] : mine) append_segment(out, seg);
  return out;
}

// "NAME.<stamp>.rankR": NAME is the manifest's, the stamp (the same on every rank) this save's.
std::string part_name(Comm& comm, const std::string& path) {
  std::uint64_t stamp = 0;
  if (comm.rank() == 0) {
    const auto now = std::chrono::system_clock::now().time_since_epoch().count();
    const std::uint64_t seed[] = {static_cast<std::uint64_t>(now), static_cast<std::uint64_t>(::getpid())};
    stamp = XXH3_64bits(seed, sizeof seed);
  }
  stamp = comm.sum(stamp);
  char tag[32];
  std::snprintf(tag, sizeof tag, ".%016llx.rank", static_cast<unsigned long long>(stamp));
  const auto slash = path.rfind('/');
  return (slash == std::string::npos ? path : path.substr(slash + 1)) + tag + std::to_string(comm.rank());
}

// Rank 0: the manifest of the parts each rank described, then the files of the index it replaced.
void write_manifest(const std::string& path, const std::vector<std::string>& parts) {
  std::vector<std::string> old_files;
  try {
    for (const IndexManifest::Part& old : IndexManifest::load(path).parts) old_files.push_back(old.file);
  } catch (const std::exception&) {  // none there, or not a manifest: nothing to remove
  }
  IndexManifest manifest;
  for (const std::string& bytes : parts) {
    Unpacker in(bytes);
    IndexManifest::Part q;
    q.file = std::string(in.get_string());
    q.documents = in.get<std::uint64_t>();
    while (!in.done()) q.segments.push_back(in.get<Segment>());
    manifest.documents += q.documents;
    manifest.parts.push_back(std::move(q));
  }
  manifest.save(path);
  for (const std::string& old : old_files) std::remove(IndexManifest::part_path(path, old).c_str());
}

}  // namespace

OpenedIndex open_index(Comm& comm, Steps& steps, const std::string& path) {
  OpenedIndex index;
  std::uint64_t hash = 0;
  steps.run([&] {
    index.manifest = IndexManifest::load(path);
    const std::size_t saved_by = index.manifest->parts.size();
    if (saved_by != static_cast<std::size_t>(comm.size())) {
      steps.refuse("the index '" + path + "' was saved by a job of " + std::to_string(saved_by) +
                   " ranks and loads on as many: run this job with mpirun -np " + std::to_string(saved_by) +
                   ", or start a new index");
    }
    const IndexManifest::Part& part = index.manifest->parts[static_cast<std::size_t>(comm.rank())];
    index.file.emplace(IndexManifest::part_path(path, part.file));
    if (index.file->count() != part.documents) {
      index.file->fail("it holds " + std::to_string(index.file->count()) + " documents, its manifest says " +
                       std::to_string(part.documents));
    }
    index.documents = part.documents;
    index.params = index.file->params();
    index.boilerplate = index.file->boilerplate();
    const DedupParams& p = index.params;
    std::string bytes;
    Packer put(bytes);
    put.put(p.method), put.put(p.shingle.kind), put.put(p.shingle.size), put.put(p.shingle.seed);
    put.put(p.num_hashes), put.put(p.threshold), put.put(p.bands), put.put(p.rows);
    put.put(p.max_hamming), put.put(p.seed), put.put(p.containment), put.put(p.min_contained_shingles);
    put.put(p.min_titled_shingles), put.put(p.first_block_share);
    if (index.boilerplate)
      put.put_span(index.boilerplate->hashes().data(), index.boilerplate->hashes().size());
    hash = XXH3_64bits(bytes.data(), bytes.size());
  });
  const bool agree = comm.max(hash) == ~comm.max(~hash);  // the largest is also the smallest
  steps.run([&] {
    if (!agree) steps.refuse("the files of the index '" + path + "' disagree on their parameters");
  });
  return index;
}

void read_index(OpenedIndex& index, detail::CorpusSink& docs, bool exact) {
  if (!index.file) return;
  std::vector<std::uint32_t> fp(FingerprintScheme(index.params).words());
  std::string id;
  DocInfo info;
  for (std::size_t d = 0; d < index.documents; ++d) {
    index.file->next(id, info, fp);
    docs.ids.push_back(id);
    docs.info.push_back(info);
    docs.fingerprints.insert(docs.fingerprints.end(), fp.begin(), fp.end());
    if (exact) docs.sets.emplace_back();
  }
  index.file->finish();
  index.file.reset();
}

std::uint64_t save_index(Comm& comm, Steps& steps, const std::string& path, const FingerprintScheme& scheme,
                         const Layout& layout, const detail::CorpusSink& docs,
                         std::span<const std::uint64_t> global) {
  const std::vector<std::uint8_t> skip = repeated_ids(comm, layout, docs, global);
  IndexManifest::Part part;
  part.segments = segments_without(comm, layout, skip);
  part.documents = global.size() - static_cast<std::size_t>(std::count(skip.begin(), skip.end(), 1));
  part.file = part_name(comm, path);
  const std::string file = IndexManifest::part_path(path, part.file);
  try {
    steps.run([&] {
      detail::IndexFileWriter out(file, scheme, part.documents);
      const std::size_t words = scheme.words();
      const std::span<const std::uint32_t> prints(docs.fingerprints);
      for (std::size_t i = 0; i < global.size(); ++i) {
        if (skip[i] == 0) out.add(docs.ids[i], docs.info[i], prints.subspan(i * words, words));
      }
      out.finish();
    });
    std::vector<std::string> to_root(static_cast<std::size_t>(comm.size()));
    Packer p(to_root[0]);
    p.put_string(part.file);
    p.put(part.documents);
    for (const Segment& seg : part.segments) p.put(seg);
    const std::vector<std::string> parts = comm.exchange(std::move(to_root));
    steps.run([&] {
      if (comm.rank() == 0) write_manifest(path, parts);
    });
  } catch (const JobFailed&) {
    std::remove(file.c_str());
    throw;
  }
  return static_cast<std::uint64_t>(std::count(skip.begin(), skip.end(), 1));
}

}  // namespace storyline::dist
