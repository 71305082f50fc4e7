#include "detail/story_links.hpp"

#include <algorithm>
#include <cmath>

namespace storyline::detail {

std::vector<std::uint32_t> link_story_vectors(std::vector<SparseVector>& stories,
                                              std::span<const LanguageCounts> languages,
                                              const ClusterParams& params) {
  StoryVectors vectors;
  // Columns: every term a story has, in hash order; rows: the stories scaled to unit length.
  std::size_t entries = 0;
  for (const SparseVector& v : stories) entries += v.size();
  auto& hashes = vectors.term_hash;
  hashes.reserve(entries);
  for (const SparseVector& v : stories) {
    for (const auto& e : v) hashes.push_back(e.first);
  }
  std::sort(hashes.begin(), hashes.end());
  hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
  hashes.shrink_to_fit();
  allocate_rows(vectors.rows, stories.size(), hashes.size(), static_cast<std::int64_t>(entries));
  auto* outer = vectors.rows.outerIndexPtr();
  auto* inner = vectors.rows.innerIndexPtr();
  auto* values = vectors.rows.valuePtr();
  std::int64_t at = 0;
  for (std::size_t s = 0; s < stories.size(); ++s) {
    outer[s] = static_cast<Eigen::Index>(at);
    double norm = 0.0;
    for (const auto& e : stories[s]) norm += static_cast<double>(e.second) * e.second;
    const float scale = norm > 0.0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.0f;
    auto column = hashes.begin();
    for (const auto& [hash, w] : stories[s]) {  // both in hash order: the search only moves on
      column = std::lower_bound(column, hashes.end(), hash);
      inner[at] = static_cast<Eigen::Index>(column - hashes.begin());
      values[at] = w * scale;
      ++at;
    }
    SparseVector().swap(stories[s]);
  }
  outer[stories.size()] = static_cast<Eigen::Index>(at);
  Threads threads = link_threads(vectors, languages, params, 0, /*labels_only=*/true);
  return std::move(threads.thread);
}
}  // namespace storyline::detail
