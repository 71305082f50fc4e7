#include "storyline/simhash.hpp"

#include <array>

#include "detail/mix.hpp"

namespace storyline {

std::uint64_t simhash(std::span<const std::uint64_t> features) {
  // Bit-sliced counting: lane j holds eight byte counters, byte i counting bit 8 i + j of the features,
  // so one feature costs eight shift-mask-adds instead of 64. Bytes are flushed before they overflow.
  constexpr std::uint64_t kLowBits = 0x0101010101010101ULL;
  std::array<std::uint32_t, 64> set_counts{};
  std::array<std::uint64_t, 8> lanes{};
  std::size_t pending = 0;
  const auto flush = [&] {
    for (int j = 0; j < 8; ++j) {
      for (int i = 0; i < 8; ++i)
        set_counts[8 * i + j] += static_cast<std::uint32_t>((lanes[j] >> (8 * i)) & 0xFF);
      lanes[j] = 0;
    }
    pending = 0;
  };
  for (const std::uint64_t feature : features) {
    const std::uint64_t h = detail::mix64(feature);
    for (int j = 0; j < 8; ++j) lanes[j] += (h >> j) & kLowBits;
    if (++pending == 255) flush();
  }
  flush();
  // Bit i is set when more features have it set than clear: 2 * set > total.
  const auto total = static_cast<std::uint64_t>(features.size());
  std::uint64_t fingerprint = 0;
  for (int bit = 0; bit < 64; ++bit) {
    if (2 * std::uint64_t{set_counts[bit]} > total) fingerprint |= std::uint64_t{1} << bit;
  }
  return fingerprint;
}

}  // namespace storyline
