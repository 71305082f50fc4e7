#include "storyline/simhash.hpp"

#include <array>

#include "detail/mix.hpp"

namespace storyline {

std::uint64_t simhash(std::span<const std::uint64_t> features) {
  // Counters per bit: +1 where the feature has the bit set, -1 where not, accumulated as
  // 2 * (number of set bits) - count so that the inner loop is a plain add the compiler vectorises.
  std::array<std::int32_t, 64> set_counts{};
  for (const std::uint64_t feature : features) {
    const std::uint64_t h = detail::mix64(feature);
    for (int bit = 0; bit < 64; ++bit) set_counts[bit] += static_cast<std::int32_t>((h >> bit) & 1u);
  }
  const auto total = static_cast<std::int64_t>(features.size());
  std::uint64_t fingerprint = 0;
  for (int bit = 0; bit < 64; ++bit) {
    if (2 * static_cast<std::int64_t>(set_counts[bit]) > total) fingerprint |= std::uint64_t{1} << bit;
  }
  return fingerprint;
}

}  // namespace storyline
