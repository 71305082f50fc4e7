// Small integer mixers shared by the sketches.
#pragma once

#include <cstdint>

namespace storyline::detail {

/// The SplitMix64 finaliser (Steele, Lea and Flood 2014): a bijection of 64-bit words with full avalanche.
inline std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace storyline::detail
