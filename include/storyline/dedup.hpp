// Batch near-duplicate grouping: LSH candidates, verification, union-find, representatives.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "storyline/document.hpp"
#include "storyline/fingerprint.hpp"

namespace storyline {

/// What the representative rule needs of a document.
struct DocInfo {
  std::int32_t date = kNoDate;  ///< days since 1970-01-01, or kNoDate (sorts after every date)
  /// The text's substance: its shingles left after boilerplate (about its words), as
  /// Fingerprinter::fingerprint returns it. (Index files of earlier versions hold the text's bytes.)
  std::uint32_t length = 0;
};

/// The documents to group. Spans must stay valid during the call.
struct DedupInput {
  std::span<const std::uint32_t> fingerprints;  ///< n * scheme.words() values, document i at i * words
  std::span<const DocInfo> info;                ///< n entries
  std::span<const std::string> ids;             ///< n entries, for the representative tie-break
  /// Optional: n sorted shingle sets, required when the scheme verifies exactly. A prior document
  /// (below) may have an empty set; its pairs are then verified by fingerprint.
  std::span<const std::vector<std::uint64_t>> sets;
  /// Documents [0, prior) come from an earlier run (a loaded index): they are never linked to each
  /// other and are preferred as representatives, so a new copy of an old document points at the old one.
  /// A group of new documents joins a prior one in the first LSH table that links it to any (the one of
  /// smallest index when that table links it to several), whatever the order of the links.
  std::size_t prior = 0;
};

/// Result of grouping n documents.
struct DuplicateGroups {
  std::vector<DocIndex> representative;  ///< per document, its group's representative (itself if alone)
  std::vector<float> similarity;         ///< per document, similarity to its representative (1 for it)
  std::size_t groups = 0;                ///< groups of two or more documents
  std::uint64_t candidate_pairs = 0;     ///< pairs verified
  std::uint64_t verified_pairs = 0;      ///< pairs that passed
};

/// Groups near-duplicates. For each LSH table the (key, document) pairs are sorted in parallel; within
/// a bucket each document is verified against at most 64 earlier "leaders" of that bucket and linked to
/// the first that passes (pairs already in one group are not verified again). Linked documents form
/// groups by union-find (so duplicates chain: A~B and B~C put A and C together). The representative of
/// a group is a prior document if any, then the longest complete text (the most substance: a teaser or
/// a cut copy loses to the article, page furniture counts for nothing), the earliest date, the smallest
/// id.
///
/// Deterministic: the result does not depend on the number of threads. Uses oneTBB.
/// Throws InvalidArgument when the spans disagree in size.
DuplicateGroups find_duplicate_groups(const FingerprintScheme& scheme, const DedupInput& input);

/// True when document a is a better representative than b by the rule above (prior status aside).
bool better_representative(const DocInfo& a, const std::string& id_a, const DocInfo& b,
                           const std::string& id_b);

}  // namespace storyline
