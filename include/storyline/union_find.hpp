// Disjoint sets over dense document indexes.
#pragma once

#include <cstdint>
#include <numeric>
#include <vector>

#include "storyline/document.hpp"

namespace storyline {

/// Union-find with union by size and path halving. Not thread-safe for writes; find_const may run
/// concurrently with other find_const calls.
class UnionFind {
 public:
  explicit UnionFind(std::size_t n = 0) : parent_(n), size_(n, 1) {
    std::iota(parent_.begin(), parent_.end(), DocIndex{0});
  }
  /// Root of x's set, compressing the path.
  DocIndex find(DocIndex x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];
      x = parent_[x];
    }
    return x;
  }
  /// Root of x's set without modifying anything.
  DocIndex find_const(DocIndex x) const {
    while (parent_[x] != x) x = parent_[x];
    return x;
  }
  /// Merges the sets of a and b; returns false if they were already one.
  bool unite(DocIndex a, DocIndex b) {
    a = find(a);
    b = find(b);
    if (a == b) return false;
    if (size_[a] < size_[b]) std::swap(a, b);
    parent_[b] = a;
    size_[a] += size_[b];
    return true;
  }
  std::size_t size() const { return parent_.size(); }

 private:
  std::vector<DocIndex> parent_;
  std::vector<std::uint32_t> size_;
};

}  // namespace storyline
