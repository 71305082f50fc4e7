// One fingerprint scheme for near-duplicate search: how a text becomes a fixed-size fingerprint, how
// fingerprints become LSH keys, and how two fingerprints compare.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "storyline/lsh.hpp"
#include "storyline/minhash.hpp"
#include "storyline/text.hpp"

namespace storyline {

enum class DedupMethod : std::uint8_t {
  kMinHash,  ///< MinHash signatures, LSH bands, estimated (or exact) Jaccard
  kSimHash   ///< 64-bit SimHash, block tables, Hamming distance
};

enum class Verify : std::uint8_t {
  kEstimate,  ///< from the fingerprints: estimated Jaccard (MinHash) or Hamming distance (SimHash)
  kExact      ///< exact Jaccard of the shingle sets (costs their memory: ~8 bytes per distinct shingle)
};

/// The most MinHash values for which the LSH bands are chosen automatically (bands = rows = 0).
inline constexpr std::uint32_t kMaxAutoBandsHashes = 1024;

/// Everything that decides whether two documents are near-duplicates.
struct DedupParams {
  DedupMethod method = DedupMethod::kMinHash;  ///< fingerprint and index kind
  ShingleParams shingle;                       ///< shingle kind, size (default 5 words) and seed
  std::uint32_t num_hashes = 128;              ///< k, MinHash values per document
  double threshold = 0.45;                     ///< Jaccard at or above which documents are duplicates
  std::uint32_t bands = 0;        ///< b; 0 with rows 0 chooses (b, r) from the threshold (num_hashes <= 1024)
  std::uint32_t rows = 0;         ///< r, MinHash values per band
  std::uint32_t max_hamming = 4;  ///< SimHash: duplicates differ in at most this many bits
  Verify verify = Verify::kEstimate;  ///< how candidates are confirmed
  std::uint64_t seed = 1;             ///< MinHash seed
  /// MinHash: a smaller text this much contained in a larger one (the share of its shingles the larger
  /// holds, estimated from the signatures and shingle counts) is its duplicate too, beside Jaccard; 0 off.
  double containment = 0.7;
  /// The smaller text must have at least this many shingles (about its words) to be judged by
  /// containment: a short teaser is not evidence.
  std::uint32_t min_contained_shingles = 30;
  /// Titles for short texts (with containment): two documents under the same title (the same words,
  /// case and punctuation aside, at least kMinTitleWords of them) are judged by containment from this
  /// many shingles instead of min_contained_shingles, when fewer. A copy under another headline is
  /// judged as before. 0: titles unused.
  std::uint32_t min_titled_shingles = 10;
  /// With containment: a page that a furniture block splits may pass by its first block of text (see
  /// FingerprintScheme::matches) when that block is at least this share of its text; 0 off.
  double first_block_share = 0.4;
};

class Boilerplate;

/// With containment on, each MinHash fingerprint carries kLeadHashes values over its first kLeadShingles
/// shingles (the lead, which a teaser shares with its article; kLeadBands LSH bands of them), then its
/// shingle count and the shingles of its first block of text (before its first furniture block).
inline constexpr std::uint32_t kLeadShingles = 40;
inline constexpr std::uint32_t kLeadHashes = 16;
inline constexpr std::uint32_t kLeadBands = 4;
/// A title of fewer words ("Live updates", "Opinion") is not compared.
inline constexpr std::uint32_t kMinTitleWords = 4;

/// Immutable scheme derived from DedupParams; safe to share between threads.
class FingerprintScheme {
 public:
  /// Validates params (throws InvalidArgument) and resolves the LSH bands. boilerplate (optional): shingles
  /// left out of every fingerprint.
  explicit FingerprintScheme(const DedupParams& params,
                             std::shared_ptr<const Boilerplate> boilerplate = nullptr);

  const DedupParams& params() const { return params_; }
  /// Boilerplate shingles left out of fingerprints (null: none).
  const std::shared_ptr<const Boilerplate>& boilerplate() const { return boilerplate_; }
  /// True for MinHash with containment > 0.
  bool containment_on() const { return containment_on_; }
  /// True with containment on and min_titled_shingles > 0: the fingerprint's last word is a title hash.
  bool titles_on() const { return titles_on_; }
  /// 32-bit words per fingerprint: num_hashes for MinHash (plus kLeadHashes + 1 with containment, and 1
  /// more each with the first block and with titles), 2 for SimHash.
  std::uint32_t words() const { return words_; }
  /// LSH keys per fingerprint: bands (plus kLeadBands with containment) for MinHash, max_hamming + 1 for
  /// SimHash. (Titles add no table: one on the title found pairs of long pages under a recurring title,
  /// which timeline17's gold calls different.)
  std::uint32_t key_count() const { return key_count_; }
  /// The resolved bands (MinHash only).
  LshBands bands() const { return bands_; }

  /// Fingerprint of already-hashed shingles, in text order; (titles on) title_hash, the hash of the
  /// title's words (0: none); first_block: the shingles before the first furniture block left out
  /// (all of them when none was). @pre out.size() == words().
  void fingerprint(std::span<const std::uint64_t> shingles, std::span<std::uint32_t> out,
                   std::uint32_t title_hash = 0, std::size_t first_block = SIZE_MAX) const;
  /// Whether two fingerprints carry the same title (titles on; never for titles of too few words).
  bool same_title(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b) const;
  /// LSH keys of a fingerprint. @pre keys.size() == key_count().
  void keys(std::span<const std::uint32_t> fingerprint, std::span<std::uint64_t> keys) const;
  /// Similarity in [0, 1]: estimated Jaccard, or 1 - Hamming / 64 for SimHash.
  double similarity(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b) const;
  /// True when a fingerprint similarity makes a duplicate (Jaccard >= threshold, or Hamming <= max).
  bool is_duplicate(double similarity) const;
  /// Estimated containment of the fingerprint with fewer shingles in the other (containment on), from
  /// the Jaccard estimate J and the shingle counts: J (|A| + |B|) / ((1 + J) |A|), at most 1 (Broder
  /// 1997's resemblance and containment). Also gives the smaller one's shingle count.
  double containment(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b,
                     std::uint32_t* smaller_shingles = nullptr) const;
  /// Whether two fingerprints make duplicates: is_duplicate(similarity), or (containment on) the smaller
  /// has at least min_contained_shingles shingles (min_titled_shingles under the same title) and its
  /// containment reaches params().containment. A page whose text a furniture block splits may also pass
  /// by its first block alone (what a teaser in a frame copies; after it may come a list of related
  /// headlines): when that block is long enough to judge and at least first_block_share of its text, and
  /// the larger text holds as many of its shingles as params().containment of the block.
  bool matches(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b) const;
  /// The same with the exact shingle sets of the two fingerprints' texts.
  bool sets_match(std::span<const std::uint64_t> set_a, std::span<const std::uint64_t> set_b,
                  std::span<const std::uint32_t> a, std::span<const std::uint32_t> b) const;

 private:
  DedupParams params_;
  std::shared_ptr<const Boilerplate> boilerplate_;
  MinHasher minhasher_;
  MinHasher lead_hasher_;
  bool containment_on_ = false;
  bool titles_on_ = false;
  bool first_block_on_ = false;
  std::uint32_t title_at_ = 0;  // the title word's place
  LshBands bands_;
  std::uint32_t words_ = 0;
  std::uint32_t key_count_ = 0;
};

/// Turns texts into fingerprints with per-thread scratch. Not thread-safe: one per thread.
class Fingerprinter {
 public:
  explicit Fingerprinter(const FingerprintScheme& scheme);
  /// Writes text's fingerprint to out (@pre out.size() == scheme.words()) and returns its substance:
  /// the shingles left after boilerplate (about its words; 0 for a text without a word token, which is
  /// signed by the hash of its bytes, so it matches only an identical text). When set is not null it
  /// receives the sorted, duplicate-free shingle set (for exact verification). title: the document's
  /// (used when the scheme's titles are on).
  std::uint32_t fingerprint(std::string_view text, std::span<std::uint32_t> out,
                            std::vector<std::uint64_t>* set, std::string_view title = {});
  /// The same with boilerplate (may be null) in place of the scheme's: the feed's, learnt as documents
  /// arrive. raw (when not null) receives the text's distinct shingles before any is left out, sorted.
  std::uint32_t fingerprint(std::string_view text, std::string_view title, const Boilerplate* boilerplate,
                            std::span<std::uint32_t> out, std::vector<std::uint64_t>* raw);

 private:
  std::uint32_t sign(std::string_view text, std::string_view title, const Boilerplate* boilerplate,
                     std::span<std::uint32_t> out, std::vector<std::uint64_t>* set);
  std::uint32_t title_hash(std::string_view title);

  const FingerprintScheme* scheme_;
  Shingler shingler_, title_words_;
  std::vector<std::uint64_t> title_scratch_;
  std::vector<std::uint64_t> shingles_, filtered_;
  std::vector<std::uint8_t> drop_;
};

}  // namespace storyline
