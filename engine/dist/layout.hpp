// Which rank holds which document of a distributed job. Documents have global numbers as one process
// numbers them: an index's documents first (where its manifest puts them), then the new ones in input
// order, which the ranks read in rank order. A rank holds runs of them: its index file's segments,
// then its new documents; locally they follow in that order. Free of MPI.
#pragma once

#include <cstdint>
#include <vector>

#include "dist/index_manifest.hpp"

namespace storyline::dist {

/// A run of global documents on one rank, from its local document `local` on.
struct Placed {
  std::uint64_t begin = 0;
  std::uint64_t count = 0;
  std::size_t rank = 0;
  std::size_t local = 0;
};

class Layout {
 public:
  Layout() = default;
  /// index: each rank's segments of the loaded index (empty without one); fresh: new documents per rank.
  Layout(const std::vector<std::vector<Segment>>& index, const std::vector<std::uint64_t>& fresh);

  std::uint64_t total() const { return total_; }
  /// Documents of the index: numbers below this.
  std::uint64_t prior() const { return prior_; }
  bool prior(std::uint64_t doc) const { return doc < prior_; }
  /// @pre doc < total()
  const Placed& placed(std::uint64_t doc) const;
  int home(std::uint64_t doc) const { return static_cast<int>(placed(doc).rank); }
  /// Local index of doc on its home rank.
  std::size_t local_of(std::uint64_t doc) const {
    const Placed& p = placed(doc);
    return p.local + static_cast<std::size_t>(doc - p.begin);
  }
  /// Global numbers of a rank's local documents, in local order.
  std::vector<std::uint64_t> globals(std::size_t rank) const;
  /// Every run, by global number.
  const std::vector<Placed>& runs() const { return runs_; }

 private:
  std::vector<Placed> runs_;
  std::uint64_t prior_ = 0, total_ = 0;
};

}  // namespace storyline::dist
