// Threads linked from stories held as sparse vectors, the way `cluster` links them: the feed's
// relinking (FeedParams::thread_relink) runs the batch thread step over its own stories.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "detail/cluster_steps.hpp"
#include "storyline/cluster_job.hpp"
#include "storyline/feed.hpp"

namespace storyline::detail {

/// Threads of the stories, each a vector of (term hash, weight) sorted by hash, of any norm (the
/// bridge's and entity terms are known by their hashes), by link_threads with params: entities boosted,
/// average linkage, small threads joined, refined, threads of several languages joined by their names
/// (languages: each story's documents per language). A dense thread label per story. The vectors are
/// released as they are read (the stories are then held once, as matrix rows). Deterministic;
/// parallel (oneTBB), the result does not depend on the thread count.
std::vector<std::uint32_t> link_story_vectors(std::vector<SparseVector>& stories,
                                              std::span<const LanguageCounts> languages,
                                              const ClusterParams& params);

}  // namespace storyline::detail
