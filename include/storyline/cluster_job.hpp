// The `cluster` job: JSONL in; every record annotated with its duplicate group, story and thread; a
// summary line per story and per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storyline/cluster.hpp"
#include "storyline/dedup_job.hpp"
#include "storyline/fingerprint.hpp"
#include "storyline/ingest.hpp"
#include "storyline/language.hpp"
#include "storyline/tfidf.hpp"

namespace storyline {

class SentenceEncoder;  // storyline/encoder.hpp

/// Story and thread parameters, with the defaults chosen on the labelled data (see the README).
struct ClusterParams {
  TfidfParams tfidf;  ///< term and entity weighting
  /// A document's TF-IDF row keeps at most this many terms, its heaviest (TfidfShape::max_row_terms;
  /// 0: all): the memory of the vectors, the graph and the linkage is bounded by it.
  std::uint32_t max_row_terms = 0;
  /// A story's centroid (what threads are linked from) keeps at most this many terms, its heaviest
  /// (0: all). A story of many documents sums thousands of terms; its heaviest say what it is about.
  std::uint32_t max_story_terms = 0;
  NeighborParams story_neighbors = {10, 24, 1000, 64, 0.05f, 3};  ///< window: 3 days
  float story_threshold = 0.15f;       ///< mean cosine (plus the background, below) that makes one story
  float dated_story_threshold = 0.1f;  ///< the same for documents that all carry dates (within the window)
  /// Undated documents merge at story_threshold plus the corpus's background similarity: the median
  /// cosine of an undated document with its background_rank-th nearest document (background_similarity).
  /// 0: no background, story_threshold alone. At most story_neighbors.rerank.
  std::uint32_t background_rank = 40;
  /// The background taken per language (guess_language), for corpora that mix languages: the documents
  /// of each language merge at the story threshold plus that language's background.
  bool background_per_language = true;
  NeighborParams thread_neighbors = {10, 48, 1000, 64, 0.05f, -1};  ///< no time window
  float thread_threshold = 0.06f;  ///< mean cosine of story centroids at which stories are one thread
  /// Entity weights of story centroids are multiplied by this before threads are formed: a thread is
  /// held together by its actors more than by its words.
  float thread_entity_boost = 4.0f;
  /// The bridge's features (see TfidfParams::lexicon) are multiplied by these instead before threads
  /// are formed: pivot words by thread_pivot_boost, names' pivots and keys by thread_name_boost. Names
  /// are what a thread keeps over the years and across languages (Assad and Syria, in any spelling);
  /// words are the language and the beat.
  float thread_pivot_boost = 0.0f;
  float thread_name_boost = 4.0f;
  /// When > 0, the share of the names (entities, names' pivots and keys) in the similarity of two story
  /// centroids when threads are formed, whatever the number of names (each part normalised apart).
  float thread_name_share = 0.0f;
  /// Threads whose stories are mostly in different languages join when the cosine of their names'
  /// centroids (the bridge's name features alone) reaches this (join_across_languages; 0: never).
  float thread_language_threshold = 0.3f;
  /// Threads of fewer stories than this join their most similar larger thread when the cosine of the
  /// two centroids reaches thread_join_threshold (1: no joining).
  std::uint32_t thread_min_stories = 10;
  float thread_join_threshold = 0.05f;  ///< see thread_min_stories
  /// Rounds of k-means refinement of the threads (refine_clusters): a story moves to the thread whose
  /// centroid is most similar to it (0: none).
  std::uint32_t thread_refine_rounds = 2;
  /// The sentence encoder for short documents (nullptr: off). A short document is a headline, or a
  /// headline and a snippet: it has a title, and at most encoder_max_words words in title and text
  /// (a text without a title, such as a sentence cut from an article, is not); and it is English, or
  /// too short for guess_language to tell (the encoder reads English). Between two short
  /// documents the story similarity is (1 - encoder_weight) times the TF-IDF cosine plus encoder_weight
  /// times the cosine of their vectors (of title and text), centred on the mean vector of the corpus's
  /// short documents (so that unrelated headlines sit near 0, as their TF-IDF cosine does); between a
  /// short and a long document, sqrt(1 - encoder_weight) times the TF-IDF cosine. Threads are linked
  /// from the terms alone. Defaults chosen across uci_headlines, allsides_neus and ecbplus
  /// (bench/tune_encoder.sh).
  std::shared_ptr<const SentenceEncoder> encoder;
  float encoder_weight = 0.2f;
  std::uint32_t encoder_max_words = 20;
};

/// The bar undated documents merge at: the story threshold plus a background similarity, at most 1.
inline float undated_story_threshold(float story_threshold, float background) {
  return story_threshold + background < 1.0f ? story_threshold + background : 1.0f;
}

/// What to read and write. Empty paths mean "do not write".
struct ClusterJobOptions {
  std::vector<std::string> inputs;  ///< JSONL files (.gz/.zst detected), "-" for stdin
  IngestParams ingest;              ///< require_text is false here: a headline alone is a document
  DedupParams dedup;                ///< near-duplicates enter clustering once
  ClusterParams cluster;
  std::string annotated_path;  ///< every record with dup_group, dup_of, story_id, thread_id
  std::string stories_path;    ///< one line per story
  std::string threads_path;    ///< one line per thread
  std::string rejects_path;    ///< rejected or repaired lines
  std::string report_path;     ///< the HTML report (storyline/report.hpp)
  /// With report_path: a JSONL file of gold labels (by "id"), scored in the report's figures by the
  /// fields below (a field no record has is skipped).
  std::string gold_path;
  std::string gold_story_field = "story_id";
  std::string gold_thread_field = "thread_id";
  /// The documents' terms, once their story vectors are built, wait in an unnamed temporary file
  /// ($TMPDIR, else /tmp) while the story graph and linkage need the memory, when they take more than
  /// this many bytes (about 450 a document; with one time block only: blocks read them again); the
  /// story centroids as they were wait there too while threads are linked from boosted ones, when larger.
  /// 0: always.
  std::size_t spill_terms_above = std::size_t{64} << 20;
  /// Stories are clustered in time blocks of about this many dated documents (after dedup) each, with a
  /// halo of the story window (story_neighbors.window_days) on either side, and stitched where they
  /// share a document: the memory of the story vectors, graph and linkage is a block's, not the
  /// corpus's. Not the one-block result exactly (bench/README.md measures the difference). 0, no
  /// window, or fewer dated documents: one block.
  std::size_t time_block_documents = 2000000;
  /// Story centroids are summed from the rows of at most this many documents at a time (the same
  /// centroids at any size; a smaller one holds less).
  std::size_t centroid_block_documents = 1000000;
};

/// Figures of a finished job.
struct ClusterJobReport {
  IngestStats ingest;
  std::size_t duplicates = 0;  ///< documents folded into another's duplicate group
  std::size_t stories = 0;
  std::size_t threads = 0;
  std::size_t terms = 0;        ///< TF-IDF columns
  std::size_t encoded = 0;      ///< short documents the sentence encoder read (ClusterParams::encoder)
  std::size_t edges = 0;        ///< story graph edges (summed over time blocks: a halo's counted twice)
  std::size_t time_blocks = 1;  ///< time blocks the stories were clustered in
  /// Background similarity added to the undated story threshold (with time blocks, each block has its
  /// own; this and language_backgrounds are the largest block's).
  float background = 0.0f;
  /// With background_per_language: each language found among the undated documents, their count and
  /// the background used for them (the corpus's when they are fewer than the rank).
  struct LanguageBackground {
    Language language;
    std::size_t documents;
    float background;
  };
  std::vector<LanguageBackground> language_backgrounds;
  /// Each language guessed (guess_language, per document), by documents: how many documents and in how
  /// many threads it appears; and how many threads hold two or more languages.
  struct LanguageCount {
    Language language;
    std::size_t documents;
    std::size_t threads;
  };
  std::vector<LanguageCount> languages;
  std::size_t cross_language_threads = 0;
  std::size_t language_joins = 0;  ///< threads joined to a thread of another language
  std::uint64_t report_bytes = 0;  ///< size of the HTML report written
  double seconds = 0.0;
  /// Wall seconds per phase, in order: "read" (parse, fingerprint, extract terms), "dedup", "story
  /// vectors" (TF-IDF without the bridge), "story graph", "stories" (average linkage), "thread vectors"
  /// (TF-IDF with the bridge, story centroids and representatives), "threads", "write", and "report"
  /// when asked.
  PhaseSeconds phases;
  /// The process's peak resident memory in MB (Linux VmHWM) at the end of each phase, same order: the
  /// phase where it rises set the peak.
  PhaseSeconds phase_peak_mb;
};

/// Runs the job; output does not depend on the thread count. Throws like run_dedup_job.
ClusterJobReport run_cluster_job(const ClusterJobOptions& options, JobObserver* observer = nullptr);

/// What cluster_records found for each document, in input order, and its summaries.
struct ClusterAssignments {
  std::vector<std::string> ids;
  std::vector<DocIndex> representative;  ///< its duplicate group's representative (itself if alone)
  std::vector<float> similarity;         ///< fingerprint similarity to the representative (1 for it)
  std::vector<std::uint32_t> story;      ///< story number (written "s<number>")
  std::vector<std::uint32_t> thread;     ///< thread number of its story ("t<number>")
  std::vector<Language> language;        ///< the language guessed (guess_language)
  std::vector<std::string> stories;      ///< the lines --stories writes, one per story (no newline)
  std::vector<std::string> threads;      ///< the lines --threads writes, one per thread
};

/// The cluster job on documents in memory (the Python module): the answers run_cluster_job gives for
/// the same records in a file, into out. options.inputs, annotated_path, stories_path and threads_path
/// are not used; rejects_path neither (the caller checked the records); report_path and gold_path are.
/// Throws like run_cluster_job.
ClusterJobReport cluster_records(DocumentBatches& source, const ClusterJobOptions& options,
                                 ClusterAssignments& out, JobObserver* observer = nullptr);

}  // namespace storyline
