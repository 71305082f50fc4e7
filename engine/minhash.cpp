#include "storyline/minhash.hpp"

#include <algorithm>
#include <vector>

#include "detail/mix.hpp"
#include "storyline/error.hpp"

namespace storyline {

MinHasher::MinHasher(MinHashParams params) : params_(params) {
  STORYLINE_CHECK_ARG(params.num_hashes >= 1 && params.num_hashes <= 65536,
                      "num_hashes must be in [1, 65536]");
}

void MinHasher::sign(std::span<const std::uint64_t> features, std::span<std::uint32_t> sig) const {
  const std::uint32_t k = params_.num_hashes;
  STORYLINE_CHECK_ARG(sig.size() == k, "signature size must equal num_hashes");
  constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;
  // Values are 32 bits; the bin comes from the other 32 bits of the same mixed hash, by Lemire's
  // multiply-shift range reduction (no modulo).
  std::fill(sig.begin(), sig.end(), kEmpty);
  thread_local std::vector<std::uint8_t> filled;
  filled.assign(k, 0);
  const std::uint64_t seed = params_.seed;
  for (const std::uint64_t feature : features) {
    const std::uint64_t h = detail::mix64(feature ^ seed);
    const auto bin = static_cast<std::uint32_t>(((h >> 32) * k) >> 32);
    const auto value = static_cast<std::uint32_t>(h);
    filled[bin] = 1;
    if (value < sig[bin]) sig[bin] = value;
  }
  if (features.empty()) return;
  // Optimal densification: empty bin i probes bins h(i, 1), h(i, 2), ... (a sequence fixed by i and the
  // seed, the same for every document) and copies the first non-empty one.
  for (std::uint32_t i = 0; i < k; ++i) {
    if (filled[i]) continue;
    for (std::uint64_t attempt = 1;; ++attempt) {
      const std::uint64_t h =
          detail::mix64(seed ^ (static_cast<std::uint64_t>(i) << 32 | attempt) ^ 0x9e3779b97f4a7c15ULL);
      const auto probe = static_cast<std::uint32_t>(((h >> 32) * k) >> 32);
      if (filled[probe]) {
        sig[i] = sig[probe];
        break;
      }
    }
  }
}

double estimate_jaccard(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b) {
  STORYLINE_CHECK_ARG(a.size() == b.size() && !a.empty(), "signatures must have the same, non-zero size");
  std::size_t equal = 0;
  for (std::size_t i = 0; i < a.size(); ++i) equal += a[i] == b[i];
  return static_cast<double>(equal) / static_cast<double>(a.size());
}

}  // namespace storyline
