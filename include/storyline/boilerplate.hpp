// Page furniture: shingles that recur across many documents of a corpus (cookie notices, newsletter
// pitches, share bars, copyright lines, bylines) carry no evidence that one document copies another.
// They are found from the corpus itself, by document frequency in a sample, and left out of
// fingerprints and verification.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "storyline/jsonl.hpp"
#include "storyline/text.hpp"

namespace storyline {

/// A set of shingle hashes with a fast membership test. Immutable once built; safe to share.
class Boilerplate {
 public:
  Boilerplate() = default;
  /// hashes in any order, repeats allowed.
  explicit Boilerplate(std::vector<std::uint64_t> hashes);
  bool contains(std::uint64_t hash) const {
    if (table_.empty()) return false;
    const std::uint64_t bit = (hash >> 32) & bloom_mask_;  // most shingles stop here, in one load
    if ((bloom_[bit >> 6] >> (bit & 63) & 1) == 0) return false;
    for (std::size_t at = hash & mask_;; at = (at + 1) & mask_) {
      if (table_[at] == hash) return true;
      if (table_[at] == kEmpty) return false;
    }
  }
  bool empty() const { return hashes_.empty(); }
  std::size_t size() const { return hashes_.size(); }
  /// Sorted.
  const std::vector<std::uint64_t>& hashes() const { return hashes_; }

 private:
  static constexpr std::uint64_t kEmpty = 0;  // a shingle hashing to 0 is never boilerplate
  std::vector<std::uint64_t> hashes_;
  std::vector<std::uint64_t> table_;
  std::uint64_t mask_ = 0;
  std::vector<std::uint64_t> bloom_;  // one bit per hash, at 16 bits per hash held
  std::uint64_t bloom_mask_ = 0;
};

/// How boilerplate is found.
struct BoilerplateParams {
  /// A shingle is boilerplate when at least this share of the sampled documents hold it (and at least
  /// min_documents of them); 0 turns the filter off.
  double df = 0.01;
  std::uint32_t min_documents = 20;  ///< the least documents that make boilerplate, whatever the sample
  std::size_t sample = 2000;         ///< documents sampled: the first ones of the input
};

/// The documents of a sample of `sampled` that make a shingle boilerplate: max(min_documents,
/// ceil(df x sampled)).
std::uint32_t boilerplate_document_bar(const BoilerplateParams& params, std::size_t sampled);

/// A boilerplate shingle as shown to the user.
struct BoilerplateShingle {
  std::uint64_t hash = 0;
  std::uint32_t documents = 0;  ///< sampled documents that hold it
  std::string text;             ///< its words (word shingles), or "" when not recovered
};

/// What learn_boilerplate found.
struct LearnedBoilerplate {
  Boilerplate set;
  std::size_t sampled = 0;              ///< documents sampled
  std::uint32_t min_documents = 0;      ///< the document count that made a shingle boilerplate
  std::vector<BoilerplateShingle> top;  ///< the most frequent, most first (as many as asked)
};

/// Learns the boilerplate of texts (the sample): their shingles held by at least max(min_documents,
/// df x texts) of them. show: how many of the most frequent to return with their words. Uses oneTBB.
LearnedBoilerplate learn_boilerplate(std::span<const std::string> texts, const ShingleParams& shingle,
                                     const BoilerplateParams& params, std::size_t show = 0);

/// The texts of the first `sample` lines of paths that parse (rejected lines are skipped here and
/// reported by the ingest itself). Throws IoError.
std::vector<std::string> sample_texts(const std::vector<std::string>& paths, const IngestParams& ingest,
                                      std::size_t sample);

}  // namespace storyline
