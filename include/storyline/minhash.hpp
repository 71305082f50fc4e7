// MinHash signatures by one-permutation hashing with optimal densification.
//
// Shrivastava, "Optimal Densification for Fast and Accurate Minwise Hashing", ICML 2017: each feature
// hash is mixed once and falls into one of k bins, which keeps its minimum (one-permutation hashing, Li,
// Owen and Zhang 2012); each empty bin then copies the value of the first non-empty bin met by its own
// random probe sequence. The cost is O(d + k) for d features instead of O(d k), and
// Pr[sig_A[i] == sig_B[i]] = J(A, B) for every bin i.
#pragma once

#include <cstdint>
#include <span>

namespace storyline {

/// MinHash parameters.
struct MinHashParams {
  std::uint32_t num_hashes = 128;  ///< k, values per signature, in [1, 65536]
  std::uint64_t seed = 1;          ///< seed of the feature mixing and the densification probes
};

/// Computes MinHash signatures. Immutable after construction: safe to share between threads.
class MinHasher {
 public:
  /// Throws InvalidArgument when num_hashes is out of range.
  explicit MinHasher(MinHashParams params = {});

  /// Writes the k-value signature of the feature set to sig. features are 64-bit feature hashes
  /// (repeats are harmless). @pre sig.size() == num_hashes(). An empty feature set gives all bins
  /// 0xFFFFFFFF. Cost O(features.size() + k).
  void sign(std::span<const std::uint64_t> features, std::span<std::uint32_t> sig) const;

  std::uint32_t num_hashes() const { return params_.num_hashes; }
  const MinHashParams& params() const { return params_; }

 private:
  MinHashParams params_;
};

/// Estimated Jaccard similarity: the share of equal positions. @pre a.size() == b.size() > 0.
double estimate_jaccard(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b);

}  // namespace storyline
