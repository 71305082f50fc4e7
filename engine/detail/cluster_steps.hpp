// The steps of the cluster job that the single process and the ranks of an MPI job share: the stories
// of one time block, story centroids summed from blocks of stories, threads linked from the centroids,
// and the summary files of stories and threads.
#pragma once

#include <tbb/enumerable_thread_specific.h>

#include <Eigen/SparseCore>
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "detail/corpus.hpp"
#include "detail/scratch_file.hpp"
#include "detail/term_store.hpp"
#include "storyline/cluster_job.hpp"
#include "storyline/encoder.hpp"
#include "storyline/language.hpp"
#include "storyline/terms.hpp"
#include "storyline/tfidf.hpp"

namespace storyline::detail {

using RowMatrix = Eigen::SparseMatrix<float, Eigen::RowMajor>;
using TermNameMap = std::unordered_map<std::uint64_t, std::string>;  ///< term -> one spelling
using LanguageCounts = std::array<std::uint32_t, kLanguageCount>;

/// The first and last date of a set of documents and their number, for the summaries.
struct Summary {
  std::int32_t first = kNoDate, last = kNoDate;
  std::size_t size = 0;
  void add_date(std::int32_t d) {
    if (d == kNoDate) return;
    first = first == kNoDate ? d : std::min(first, d);
    last = last == kNoDate ? d : std::max(last, d);
  }
  void add(const Summary& o) {
    add_date(o.first), add_date(o.last);
    size += o.size;
  }
};

/// What clustering keeps of each document beyond the dedup fields, by the sink's slot: its terms, its
/// title (or the start of its text) and its language; and a spelling of every term seen. With
/// short_words > 0, also the title and text of each document of at most that many words (short_texts;
/// empty for the others), for the sentence encoder.
class ClusterDocs {
 public:
  explicit ClusterDocs(const TfidfParams& params, std::uint32_t short_words = 0);
  /// Sets sink's extra_reserve and extra to fill this (from several threads at once). This object must
  /// outlive the sink's reading.
  void attach(CorpusSink& sink);
  /// Each term seen and its smallest spelling (so that it depends neither on the threads nor on the
  /// ranks that read which document), once reading is done.
  TermNameMap names();

  TermStore terms;
  std::vector<std::string> titles;
  std::vector<Language> languages;
  std::vector<std::string> short_texts;

 private:
  std::uint32_t short_words_ = 0;
  struct LocalNames {
    TermCounts terms;    // one document's, refilled
    TermNames document;  // one document's, refilled
    TermNameMap all;     // every term this thread saw, its smallest spelling
  };
  tbb::enumerable_thread_specific<TermExtractor> extractors_;
  tbb::enumerable_thread_specific<LocalNames> local_names_;
};

/// The sentence encoder's vectors of the short documents among the representatives, centred on their
/// mean and normalised (ClusterParams::encoder).
struct ShortVectors {
  std::size_t dim = 0;
  std::vector<std::int32_t> index;  ///< representative -> its vector, -1 when it is not short
  std::vector<float> values;        ///< dim floats per vector
  std::size_t count() const { return dim == 0 ? 0 : values.size() / dim; }
};

/// Encodes the short texts of the representatives (short_texts by document, rep_doc: representative ->
/// document); the texts are released as they are read.
ShortVectors encode_short_documents(const SentenceEncoder& encoder, std::span<const DocIndex> rep_doc,
                                    std::vector<std::string>& short_texts);

/// Blends the vectors into the story rows of a block (block: row -> representative): a short document's
/// row becomes [sqrt(1 - weight) terms, sqrt(weight) vector] in columns after the terms', normalised
/// again, so that the dot product of two short rows is the blend ClusterParams::encoder describes.
void blend_short_vectors(RowMatrix& rows, std::span<const std::uint32_t> block, const ShortVectors& vectors,
                         float weight);

/// m becomes an empty compressed matrix of rows x cols with room for nonzeros entries: its outer
/// index and entries are the caller's to fill (what m held is dropped).
void allocate_rows(RowMatrix& m, std::size_t rows, std::size_t cols, std::int64_t nonzeros);

/// "s12", "t3": the ids of stories and threads in the outputs.
std::string story_label(std::size_t s);
std::string thread_label(std::size_t t);

/// The top terms (10) and entities (6) of one centroid row, heaviest first (terms without a name are
/// skipped).
struct TopTerms {
  std::vector<std::string> terms, entities;
};
TopTerms top_terms(const RowMatrix& m, Eigen::Index row, std::span<const std::uint64_t> term_hash,
                   const TermNameMap& names);

/// The stories of one time block.
struct BlockStories {
  std::vector<std::uint32_t> labels;  ///< per row of the block, dense
  std::size_t edges = 0;              ///< story graph edges
  float background = 0.0f;            ///< see ClusterJobReport::background
  std::vector<ClusterJobReport::LanguageBackground> language_backgrounds;
};

/// Average linkage of a block's rows (TF-IDF without the bridge) over their neighbour graph, with the
/// block's own background similarity; dates and languages, one per row. Laps "story graph" and
/// "stories" on clock. Parallel (oneTBB); the result does not depend on the thread count.
BlockStories block_stories(const RowMatrix& rows, std::span<const std::int32_t> dates,
                           std::span<const Language> languages, const ClusterParams& params,
                           PhaseClock& clock);

/// Story centroids: per story the normalised sum of its members' TF-IDF rows (with the bridge); its
/// columns' terms; per story its member closest to the centroid.
struct StoryVectors {
  RowMatrix rows;
  std::vector<std::uint64_t> term_hash;
  std::vector<std::uint32_t> closest;  ///< member row per story, when asked for
  /// Per member row, whether it has an own column of words (bit 0) and of entities (bit 1): the own
  /// columns follow the shared ones in row order, so these renumber a part's as the whole's.
  std::vector<std::uint8_t> own_kinds;
};

/// The centroids of stories 0..stories-1 (story: one per row, dense) from the rows of the members of
/// consecutive stories, at most block_rows at a time (one story at least): the documents' rows of the
/// whole corpus are never held at once. Each centroid is the one centroids() gives over all rows. rows
/// index terms_of; done_with_terms (may be empty) is called once the terms are read for the last time.
StoryVectors story_vectors(const TfidfColumns& columns, std::span<const std::uint32_t> story,
                           std::size_t stories, const std::function<void(std::size_t, TermCounts&)>& terms_of,
                           std::uint32_t max_terms, std::size_t block_rows, bool closest,
                           const std::function<void()>& done_with_terms);

/// Threads of stories.
struct Threads {
  std::vector<std::uint32_t> thread;  ///< per story, dense
  std::size_t count = 0;
  std::size_t language_joins = 0;
  RowMatrix rows;  ///< thread centroids (normalised sums of their stories' centroids)
};

/// Links the stories whose centroids are vectors.rows into threads (entities boosted, average linkage,
/// small threads joined, refined, threads of several languages joined by their names: story_languages
/// gives each story's documents per language). vectors.rows is changed meanwhile and restored; it waits
/// in a temporary file when it takes more than spill_above bytes (0: always). labels_only: the thread
/// of each story alone, without out.rows; vectors.rows is then left as the linking changed it (no copy
/// of it is kept meanwhile).
Threads link_threads(StoryVectors& vectors, std::span<const LanguageCounts> story_languages,
                     const ClusterParams& params, std::size_t spill_above, bool labels_only = false);

/// Receives output lines, each with its newline.
using LineSink = std::function<void(std::string_view line)>;

/// One line per story: {"story_id","thread_id","size","first_date","last_date","top_terms",
/// "top_entities","representative":{"id","title"}}; rep_id(s) and rep_title(s) name its representative.
void write_stories(const LineSink& emit, std::span<const Summary> story_summary,
                   std::span<const std::uint32_t> thread, const RowMatrix& story_rows,
                   std::span<const std::uint64_t> term_hash, const TermNameMap& names,
                   const std::function<std::string_view(std::size_t)>& rep_id,
                   const std::function<std::string_view(std::size_t)>& rep_title);

/// One line per thread: {"thread_id","size","stories" (by first date),"first_date","last_date",
/// "top_terms","top_entities"}.
void write_threads(const LineSink& emit, std::span<const Summary> story_summary,
                   std::span<const Summary> thread_summary, std::span<const std::uint32_t> thread,
                   const RowMatrix& thread_rows, std::span<const std::uint64_t> term_hash,
                   const TermNameMap& names);

/// Runs write(emit) with emit writing to the file at path (created, or replaced).
void write_lines(const std::string& path, const std::function<void(const LineSink&)>& write);

/// ,"story_id":"s1","thread_id":"t0","language":"en" for an annotated line.
void append_cluster_fields(std::string& out, std::uint32_t story, std::uint32_t thread, Language language);

/// The figures of the report that every run gives: languages by documents and threads, and threads
/// of two or more languages, from each thread's documents per language.
void count_languages(std::span<const LanguageCounts> thread_languages, ClusterJobReport& report);

}  // namespace storyline::detail
