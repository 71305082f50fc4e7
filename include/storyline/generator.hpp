// Synthetic corpora with planted near-duplicates and gold labels, for tests, tuning and benchmarks.
#pragma once

#include <cstdint>
#include <string>

namespace storyline {

/// What to generate. The output is a function of these fields only (deterministic from the seed).
struct GeneratorParams {
  std::uint64_t documents = 10000;  ///< lines to write (originals plus copies)
  double copy_fraction = 0.3;       ///< share of lines that are near-copies of an earlier original
  std::uint32_t mean_words = 260;   ///< mean words of a synthetic original (about 2 KB of text)
  std::uint64_t seed = 42;          ///< everything random derives from it
  /// Copies whose exact Jaccard with their original (word 5-shingles) falls below this are made again
  /// with lighter edits, so that every planted copy is at least this similar; 0 keeps every copy.
  double min_jaccard = 0.8;
  double edit_strength = 1.0;  ///< scales every edit (word edits, truncation, boilerplate)
  /// Optional JSONL of real articles (field "text", optional "title"): its articles become the originals,
  /// in file order, and copies imitate syndication. Empty: Zipfian synthetic text.
  std::string source_path;
  /// Planted stories and threads: when > 0, synthetic originals belong to events of about this many
  /// originals (a geometric law), and each event to one of documents / 400 topics (at least 8). A topic
  /// has rare words and two names that run through all its events; an event adds words and a name of
  /// its own (each about 6% of its articles' words; names open a third of the sentences and every
  /// title). An event's articles are dated within three days of its start. Each line gets the fields
  /// "story" (the event) and "thread" (the topic); copies inherit their original's. 0 writes neither;
  /// ignored with source_path.
  double event_size = 0.0;
  /// Copies as a reader meets them instead: rewrites (copy-desk edits), the whole article in another
  /// site's page furniture (byline, share bar, cookie notice, newsletter pitch, related headlines,
  /// copyright), teasers (the first third to two thirds), and teasers in furniture, in equal shares; half
  /// the originals carry their own site's furniture. min_jaccard does not apply. The copy's "edits" field
  /// names its kind ("rewrite:...", "wrapped", "teaser", "wrapped-teaser").
  bool reader_copies = false;
};

/// Counts of a generated corpus.
struct GeneratorReport {
  std::uint64_t documents = 0;  ///< lines written
  std::uint64_t originals = 0;
  std::uint64_t copies = 0;
  std::uint64_t regenerated = 0;  ///< copies made again because they fell below min_jaccard
  std::uint64_t events = 0;       ///< planted stories (0 without event_size)
  double mean_copy_jaccard = 0;   ///< mean exact Jaccard of copies with their originals
};

/// Streams the corpus to path as JSONL: {"id","title","text","date","label","story","thread",
/// "jaccard","edits"}. label is the original's id for the original and all its copies; story and thread
/// are the planted event and topic (with event_size); jaccard and edits (e.g. "boilerplate+truncate") are set
/// on copies. Memory is bounded by a window of recent originals, so 10M documents stream to disk. Throws
/// IoError or InvalidArgument.
GeneratorReport generate_corpus(const GeneratorParams& params, const std::string& path);

}  // namespace storyline
