// 64-bit SimHash (Charikar 2002), as used for web near-duplicates by Manku, Jain and Das Sarma (WWW 2007).
#pragma once

#include <bit>
#include <cstdint>
#include <span>

namespace storyline {

/// SimHash of already-hashed features: bit i is set when the features whose hash has bit i set outweigh
/// those where it is clear. Each occurrence counts once, so a repeated feature is weighted by its term
/// frequency. An empty input gives 0. Thread-safe.
std::uint64_t simhash(std::span<const std::uint64_t> features);

/// Number of differing bits, 0 to 64.
inline int hamming_distance(std::uint64_t a, std::uint64_t b) { return std::popcount(a ^ b); }

}  // namespace storyline
