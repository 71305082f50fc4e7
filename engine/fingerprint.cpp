#include "storyline/fingerprint.hpp"

#include <xxhash.h>

#include <string>

#include "storyline/error.hpp"
#include "storyline/simhash.hpp"

namespace storyline {

FingerprintScheme::FingerprintScheme(const DedupParams& params)
    : params_(params), minhasher_(MinHashParams{params.num_hashes, params.seed}) {
  STORYLINE_CHECK_ARG(params.threshold > 0.0 && params.threshold <= 1.0, "threshold must be in (0, 1]");
  STORYLINE_CHECK_ARG(params.shingle.size >= 1, "shingle size must be at least 1");
  if (params.method == DedupMethod::kMinHash) {
    STORYLINE_CHECK_ARG((params.bands == 0) == (params.rows == 0), "give both bands and rows, or neither");
    if (params.bands == 0) {
      // The search for (b, r) grows as k log k (about 0.3 s at k = 1024); past that, say them.
      STORYLINE_CHECK_ARG(params.num_hashes <= kMaxAutoBandsHashes,
                          "num_hashes " + std::to_string(params.num_hashes) + " above " +
                              std::to_string(kMaxAutoBandsHashes) + " needs explicit bands and rows");
      bands_ = params.threshold < 1.0 ? optimal_lsh_bands(params.threshold, params.num_hashes)
                                      : LshBands{1, params.num_hashes};
    } else {
      STORYLINE_CHECK_ARG(std::uint64_t{params.bands} * params.rows <= params.num_hashes,
                          "bands * rows must not exceed num_hashes");
      bands_ = LshBands{params.bands, params.rows};
    }
    words_ = params.num_hashes;
    key_count_ = bands_.bands;
  } else {
    STORYLINE_CHECK_ARG(params.max_hamming <= 15, "max_hamming must be in [0, 15]");
    words_ = 2;
    key_count_ = params.max_hamming + 1;
  }
}

void FingerprintScheme::fingerprint(std::span<const std::uint64_t> shingles,
                                    std::span<std::uint32_t> out) const {
  if (params_.method == DedupMethod::kMinHash) {
    minhasher_.sign(shingles, out);
    return;
  }
  const std::uint64_t h = simhash(shingles);
  out[0] = static_cast<std::uint32_t>(h);
  out[1] = static_cast<std::uint32_t>(h >> 32);
}

namespace {
std::uint64_t simhash_of(std::span<const std::uint32_t> fp) {
  return std::uint64_t{fp[0]} | std::uint64_t{fp[1]} << 32;
}
}  // namespace

void FingerprintScheme::keys(std::span<const std::uint32_t> fp, std::span<std::uint64_t> keys) const {
  if (params_.method == DedupMethod::kMinHash) {
    minhash_band_keys(fp, bands_, keys);
  } else {
    simhash_block_keys(simhash_of(fp), params_.max_hamming, keys);
  }
}

double FingerprintScheme::similarity(std::span<const std::uint32_t> a,
                                     std::span<const std::uint32_t> b) const {
  if (params_.method == DedupMethod::kMinHash) return estimate_jaccard(a, b);
  return 1.0 - hamming_distance(simhash_of(a), simhash_of(b)) / 64.0;
}

bool FingerprintScheme::is_duplicate(double similarity) const {
  if (params_.method == DedupMethod::kMinHash) return similarity >= params_.threshold;
  // Similarities are multiples of 1/64; compare in bits to avoid rounding.
  const double bits = (1.0 - similarity) * 64.0;
  return bits <= params_.max_hamming + 1e-9;
}

Fingerprinter::Fingerprinter(const FingerprintScheme& scheme)
    : scheme_(&scheme), shingler_(scheme.params().shingle) {}

void Fingerprinter::fingerprint(std::string_view text, std::span<std::uint32_t> out,
                                std::vector<std::uint64_t>* set) {
  shingler_.shingle(text, shingles_);
  // Hardening #7: a text without a word token ("!!! ???", emoji, spaces of every kind) has no shingle,
  // and every empty set would sign alike (similarity 1). It is signed by one feature, the hash of its
  // exact bytes, so it matches only a byte-identical text.
  if (shingles_.empty()) {
    shingles_.push_back(XXH3_64bits_withSeed(text.data(), text.size(), ~scheme_->params().shingle.seed));
  }
  scheme_->fingerprint(shingles_, out);
  if (set != nullptr) {
    *set = shingles_;
    to_set(*set);
  }
}

}  // namespace storyline
