#include "storyline/fingerprint.hpp"

#include <xxhash.h>

#include <algorithm>
#include <string>

#include "storyline/boilerplate.hpp"
#include "storyline/error.hpp"
#include "storyline/simhash.hpp"

namespace storyline {

FingerprintScheme::FingerprintScheme(const DedupParams& params,
                                     std::shared_ptr<const Boilerplate> boilerplate)
    : params_(params),
      boilerplate_(std::move(boilerplate)),
      minhasher_(MinHashParams{params.num_hashes, params.seed}),
      lead_hasher_(MinHashParams{kLeadHashes, params.seed ^ 0x1ead1ead1ead1eadULL}) {
  STORYLINE_CHECK_ARG(params.containment >= 0.0 && params.containment <= 1.0,
                      "containment must be in [0, 1]");
  STORYLINE_CHECK_ARG(params.first_block_share >= 0.0 && params.first_block_share <= 1.0,
                      "first block share must be in [0, 1]");
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
    containment_on_ = params.containment > 0.0;
    titles_on_ = containment_on_ && params.min_titled_shingles > 0;
    first_block_on_ = containment_on_ && params.first_block_share > 0.0;
    title_at_ = params.num_hashes + kLeadHashes + 1 + (first_block_on_ ? 1 : 0);
    words_ = params.num_hashes + (containment_on_ ? kLeadHashes + 1 : 0) + (first_block_on_ ? 1 : 0) +
             (titles_on_ ? 1 : 0);
    key_count_ = bands_.bands + (containment_on_ ? kLeadBands : 0);
  } else {
    STORYLINE_CHECK_ARG(params.max_hamming <= 15, "max_hamming must be in [0, 15]");
    words_ = 2;
    key_count_ = params.max_hamming + 1;
  }
}

void FingerprintScheme::fingerprint(std::span<const std::uint64_t> shingles, std::span<std::uint32_t> out,
                                    std::uint32_t title_hash, std::size_t first_block) const {
  if (params_.method == DedupMethod::kMinHash) {
    const std::uint32_t k = params_.num_hashes;
    minhasher_.sign(shingles, out.first(k));
    if (containment_on_) {
      lead_hasher_.sign(shingles.first(std::min<std::size_t>(shingles.size(), kLeadShingles)),
                        out.subspan(k, kLeadHashes));
      out[k + kLeadHashes] = static_cast<std::uint32_t>(std::min<std::size_t>(shingles.size(), UINT32_MAX));
      if (first_block_on_) {
        out[k + kLeadHashes + 1] =
            static_cast<std::uint32_t>(std::min<std::size_t>({first_block, shingles.size(), UINT32_MAX}));
      }
    }
    if (titles_on_) out[title_at_] = title_hash;
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
    const std::uint32_t k = params_.num_hashes;
    minhash_band_keys(fp.first(k), bands_, keys.first(bands_.bands));
    if (containment_on_) {
      minhash_band_keys(fp.subspan(k, kLeadHashes), LshBands{kLeadBands, kLeadHashes / kLeadBands},
                        keys.subspan(bands_.bands, kLeadBands));
    }
  } else {
    simhash_block_keys(simhash_of(fp), params_.max_hamming, keys);
  }
}

double FingerprintScheme::similarity(std::span<const std::uint32_t> a,
                                     std::span<const std::uint32_t> b) const {
  if (params_.method == DedupMethod::kMinHash) {
    return estimate_jaccard(a.first(params_.num_hashes), b.first(params_.num_hashes));
  }
  return 1.0 - hamming_distance(simhash_of(a), simhash_of(b)) / 64.0;
}

bool FingerprintScheme::is_duplicate(double similarity) const {
  if (params_.method == DedupMethod::kMinHash) return similarity >= params_.threshold;
  // Similarities are multiples of 1/64; compare in bits to avoid rounding.
  const double bits = (1.0 - similarity) * 64.0;
  return bits <= params_.max_hamming + 1e-9;
}

namespace {
// |A n B| from the Jaccard estimate J and the two shingle counts: J (|A| + |B|) / (1 + J).
double common_estimate(double j, double a, double b) { return j * (a + b) / (1.0 + j); }
}  // namespace

double FingerprintScheme::containment(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b,
                                      std::uint32_t* smaller_shingles) const {
  if (!containment_on_) return 0.0;
  const std::uint32_t at = params_.num_hashes + kLeadHashes;
  if (a[at] > b[at]) std::swap(a, b);
  if (smaller_shingles != nullptr) *smaller_shingles = a[at];
  // |A n B| = J (|A| + |B|) / (1 + J); over |A|, the smaller. (The densified one-permutation values
  // of a small set are copies from other bins, so comparing them bin by bin, as Broder's estimator
  // over k independent minima would, biases it low; the Jaccard estimate stays unbiased.)
  const double small = std::max<double>(1.0, a[at]);
  return std::min(1.0, common_estimate(similarity(a, b), small, b[at]) / small);
}

bool FingerprintScheme::same_title(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b) const {
  if (!titles_on_) return false;
  return a[title_at_] != 0 && a[title_at_] == b[title_at_];
}

namespace {

// The containment rule, from the smaller text's shingle count, those of them the larger holds (common)
// and its first block's shingle count.
bool contained(const DedupParams& p, double common, double smaller, double first_block, bool same_title) {
  const double bar =
      same_title ? std::min(p.min_titled_shingles, p.min_contained_shingles) : p.min_contained_shingles;
  if (smaller >= bar && common >= p.containment * smaller) return true;
  return p.first_block_share > 0.0 && first_block < smaller && first_block >= bar &&
         first_block >= p.first_block_share * smaller && common >= p.containment * first_block;
}

}  // namespace

bool FingerprintScheme::matches(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b) const {
  const double j = similarity(a, b);
  if (is_duplicate(j)) return true;
  if (!containment_on_) return false;
  const std::uint32_t at = params_.num_hashes + kLeadHashes;
  if (a[at] > b[at]) std::swap(a, b);
  const double small = a[at];
  return contained(params_, common_estimate(j, small, b[at]), small, first_block_on_ ? a[at + 1] : small,
                   same_title(a, b));
}

bool FingerprintScheme::sets_match(std::span<const std::uint64_t> set_a, std::span<const std::uint64_t> set_b,
                                   std::span<const std::uint32_t> a, std::span<const std::uint32_t> b) const {
  if (set_a.empty() && set_b.empty()) return true;  // Jaccard 1, as jaccard() has it
  const auto common = static_cast<double>(common_count(set_a, set_b));
  if (common / (static_cast<double>(set_a.size() + set_b.size()) - common) >= params_.threshold) return true;
  if (!containment_on_) return false;
  // The smaller by its set; its first block from its fingerprint, in the same proportion to its set as
  // to its shingle count (the fingerprint counts repeats, the set does not).
  const bool a_smaller = set_a.size() <= set_b.size();
  const auto smaller = static_cast<double>(a_smaller ? set_a.size() : set_b.size());
  const std::span<const std::uint32_t> fp = a_smaller ? a : b;
  const std::uint32_t at = params_.num_hashes + kLeadHashes;
  const double block = first_block_on_ && fp[at] > 0 ? smaller * fp[at + 1] / fp[at] : smaller;
  return contained(params_, common, smaller, block, same_title(a, b));
}

Fingerprinter::Fingerprinter(const FingerprintScheme& scheme)
    : scheme_(&scheme),
      shingler_(scheme.params().shingle),
      title_words_(ShingleParams{ShingleKind::kWord, 1, scheme.params().shingle.seed}) {}

std::uint32_t Fingerprinter::fingerprint(std::string_view text, std::span<std::uint32_t> out,
                                         std::vector<std::uint64_t>* set, std::string_view title) {
  shingler_.shingle(text, shingles_);
  return sign(text, title, scheme_->boilerplate().get(), out, set);
}

std::uint32_t Fingerprinter::fingerprint(std::string_view text, std::string_view title,
                                         const Boilerplate* boilerplate, std::span<std::uint32_t> out,
                                         std::vector<std::uint64_t>* raw) {
  shingler_.shingle(text, shingles_);
  if (raw != nullptr) {
    *raw = shingles_;
    to_set(*raw);
  }
  return sign(text, title, boilerplate, out, nullptr);
}

std::uint32_t Fingerprinter::title_hash(std::string_view title) {
  if (!scheme_->titles_on() || title.empty()) return 0;
  title_words_.shingle(title, title_scratch_);
  if (title_scratch_.size() < kMinTitleWords) return 0;
  const std::uint64_t h = XXH3_64bits(title_scratch_.data(), title_scratch_.size() * sizeof(std::uint64_t));
  return static_cast<std::uint32_t>(h ^ (h >> 32)) | 1;  // never 0, which is "no title"
}

std::uint32_t Fingerprinter::sign(std::string_view text, std::string_view title,
                                  const Boilerplate* boilerplate, std::span<std::uint32_t> out,
                                  std::vector<std::uint64_t>* set) {
  // Boilerplate out, unless nothing else is left (a page of furniture only keeps it all). A block of
  // furniture (a run of at least `size` boilerplate shingles) also takes the size - 1 shingles on each
  // side, which straddle it and the text, so that a page's text signs alike with or without its frame.
  // The first block of text: the shingles kept before the first block of furniture that follows some.
  std::size_t first_block = SIZE_MAX;
  if (boilerplate != nullptr && std::any_of(shingles_.begin(), shingles_.end(),
                                            [&](std::uint64_t h) { return boilerplate->contains(h); })) {
    const std::size_t n = shingles_.size(), reach = scheme_->params().shingle.size - 1;
    std::size_t text_from = SIZE_MAX, text_to = n;  // the first block of text, as positions
    drop_.assign(n, 0);
    for (std::size_t i = 0; i < n;) {
      if (!boilerplate->contains(shingles_[i])) {
        ++i;
        continue;
      }
      if (text_from == SIZE_MAX && i > 0) text_from = 0;  // text before the first boilerplate shingle
      std::size_t j = i;
      while (j < n && boilerplate->contains(shingles_[j])) ++j;
      const bool block = j - i > reach;
      const std::size_t from = block ? i - std::min(i, reach) : i, to = block ? std::min(n, j + reach) : j;
      if (block && (text_from == SIZE_MAX || from <= text_from)) {
        text_from = to;  // no text before this block yet: the text starts after it
      } else if (block && text_to == n) {
        text_to = from;
      }
      std::fill(drop_.begin() + static_cast<std::ptrdiff_t>(from),
                drop_.begin() + static_cast<std::ptrdiff_t>(to), 1);
      i = j;
    }
    filtered_.clear();
    for (std::size_t i = 0; i < n; ++i) {
      if (drop_[i] == 0) filtered_.push_back(shingles_[i]);
    }
    if (!filtered_.empty()) {
      shingles_.swap(filtered_);
      if (text_from != SIZE_MAX && text_from < text_to) {
        first_block =
            static_cast<std::size_t>(std::count(drop_.begin() + static_cast<std::ptrdiff_t>(text_from),
                                                drop_.begin() + static_cast<std::ptrdiff_t>(text_to), 0));
      }
    }
  }
  const auto substance = static_cast<std::uint32_t>(std::min<std::size_t>(shingles_.size(), UINT32_MAX));
  // Hardening #7: a text without a word token ("!!! ???", emoji, spaces of every kind) has no shingle,
  // and every empty set would sign alike (similarity 1). It is signed by one feature, the hash of its
  // exact bytes, so it matches only a byte-identical text.
  if (shingles_.empty()) {
    shingles_.push_back(XXH3_64bits_withSeed(text.data(), text.size(), ~scheme_->params().shingle.seed));
  }
  scheme_->fingerprint(shingles_, out, title_hash(title), first_block);
  if (set != nullptr) {
    *set = shingles_;
    to_set(*set);
  }
  return substance;
}

}  // namespace storyline
