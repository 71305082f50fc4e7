// The incremental engine behind `stream` and `serve`: documents arrive one at a time and each is told at
// once whether it copies something already seen, which story it belongs to and which thread.
//
// Single pass, in arrival order: a document first meets the near-duplicate index (the same MinHash/SimHash
// scheme and LSH tables as `dedup`); a duplicate joins its original's story. Otherwise its TF-IDF vector
// (IDF from the documents seen so far) is compared with the centroids of the stories in its time window,
// found through an inverted index over their top terms; the best centroid at or above story_threshold
// takes it, else it opens a story. A new story joins the thread whose centroid (the sum of all the
// thread's documents, entity-boosted: its core, not its latest story) is most similar, at or above
// thread_threshold, else it opens a thread; a thread that has grown like another is merged into it
// (thread_merge_threshold).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storyline/boilerplate.hpp"
#include "storyline/document.hpp"
#include "storyline/fingerprint.hpp"
#include "storyline/language.hpp"
#include "storyline/terms.hpp"

namespace storyline {

class SentenceEncoder;  // storyline/encoder.hpp

/// Everything that decides a feed's assignments. Stored with the state; a state opened with other
/// parameters is refused.
struct FeedParams {
  DedupParams dedup;  ///< near-duplicate scheme, as for `dedup`
  /// Boilerplate learnt as documents arrive: the distinct shingles of the first `sample` documents are
  /// counted, and one held by max(min_documents, df x sample) of them is left out of every fingerprint
  /// from then on (the rule of `dedup`'s sample); the filter is fixed once the sample is counted.
  BoilerplateParams boilerplate;
  TfidfParams tfidf;  ///< term and entity weighting, as for `cluster`
  /// Document frequencies counted per language (the language guessed per document), a term's idf
  /// taken among the documents of its document's language. With one count for a feed of several
  /// languages, a language's common words weigh as if rare (the other languages' documents lack
  /// them), and its threads of different crises meet on them: Spanish Egypt, Yemen and Syria reports
  /// in one thread (bench/README.md, "Document frequencies per language"). States from before count
  /// all languages as one.
  bool idf_by_language = true;
  /// Cosine of a document with a story centroid at which it joins the story.
  float story_threshold = 0.35f;
  /// The same when the document and the story carry dates (the window already holds them close in time).
  float dated_story_threshold = 0.2f;
  std::int32_t window_days = 3;  ///< stories take documents at most this many days from their dates
  /// Cosine of a new story's first document with a thread centroid (entity-boosted) at which it joins.
  float thread_threshold = 0.02f;
  float thread_entity_boost = 1.0f;  ///< entity weights are multiplied by this for threads
  /// The bridge's features instead (see ClusterParams): pivot words and names' pivots and keys.
  float thread_pivot_boost = 0.0f;
  float thread_name_boost = 4.0f;
  /// A new story joins the thread whose names (the bridge's name features alone) agree with its
  /// first document's at this cosine or more, before the rule above: one storyline in another language
  /// or spelling, or told in other words (0: never). Lower than `cluster`'s 0.3, which compares whole
  /// threads: a single document's names agree less (bench/README.md, "The name rule's threshold").
  /// States keep theirs.
  float thread_language_threshold = 0.2f;
  /// Merging: a thread that takes a new story is compared, by its centroid, with the other threads
  /// (found through the same postings); when one is at this cosine or more (and at least
  /// thread_threshold), the smaller thread joins the larger (the older on a tie) with its stories.
  /// The online rule opens a thread for a report it cannot place and later reports of that storyline
  /// may gather there; once the two have grown alike they are one. Documents answered before keep
  /// their answer; lookups, threads and later documents of the stories see the merged thread, as
  /// after a relink; the thread left empty stays, without documents, and points at the one that took it
  /// in (ClusterSummary::merged_into). 0: never. States from before
  /// go on without it (bench/README.md, "Merging threads online").
  float thread_merge_threshold = 0.3f;
  /// Relinking: the feed runs `cluster`'s thread step (link_threads: entities boosted by
  /// thread_relink_entity_boost, average linkage at thread_relink_threshold, small threads joined,
  /// refinement, threads of several languages joined by their names as above) over all its live
  /// stories, thread_relink times each time its number of stories doubles (from 16 stories on; 0:
  /// never, the default; 2 to 4 measured best), and moves each story to the thread found for it. A
  /// story is seen there as the sum of its documents' terms (1 + log count, every term), weighed by
  /// the idf of the day. A thread found keeps the number of the thread that held most of its
  /// documents. Documents answered before a relink keep their answer; lookups, threads and later
  /// documents of a story see its thread now. States from before relinking go on without it. A
  /// FeedService also relinks when the feed goes quiet and when it closes (relink(),
  /// FeedServiceOptions::quiet_relink_seconds). Off by default: it costs time and memory
  /// (news-100000 at 2: 19.8 s and 420 MB against 12.5 s and 248 MB), and under a service's load a
  /// relink by count holds every request (bench/README.md, "Relinking").
  std::uint32_t thread_relink = 0;
  /// With relinking on, whether it also relinks by the count of stories (above) or only when a
  /// FeedService goes quiet or closes (false): answers at arrival are then the online rule's, and no
  /// add ever waits for a relink (a service under load keeps its write rate).
  bool thread_relink_by_count = true;
  /// As ClusterParams::thread_threshold, lower than its 0.06: the feed's stories are smaller than
  /// `cluster`'s (bench/README.md, "Relinking when the feed goes quiet").
  float thread_relink_threshold = 0.05f;
  float thread_relink_entity_boost = 4.0f;  ///< as ClusterParams::thread_entity_boost
  std::uint32_t vector_terms = 48;          ///< a document vector keeps its heaviest terms
  std::uint32_t centroid_terms = 128;       ///< a story centroid keeps its heaviest terms
  /// A thread centroid keeps its heaviest terms: a thread spans many stories, and at 128 its long
  /// tail (the names and words its stories share beside their own) is cut (bench/README.md, "The feed's
  /// thread centroids"). States from before keep 128.
  std::uint32_t thread_centroid_terms = 256;
  std::uint32_t probe_terms = 12;     ///< a document looks up candidates under its heaviest terms
  std::uint32_t max_postings = 2000;  ///< a probe reads at most this many (newest) postings per term
  std::uint32_t rerank = 8;           ///< candidates scored exactly, the best by partial score
  /// The sentence encoder for short documents, as ClusterParams::encoder (nullptr: off): a short
  /// document's vector is [sqrt(1 - encoder_weight) terms, sqrt(encoder_weight) its encoder vector
  /// centred on SentenceEncoder::headline_mean], so that its cosine with a story of short documents
  /// blends the two. Stories' centroids sum both parts; threads, postings and probes use the terms
  /// alone. A state remembers the weight, the word limit and the model's checksum.
  std::shared_ptr<const SentenceEncoder> encoder;
  float encoder_weight = 0.2f;
  std::uint32_t encoder_max_words = 20;
  std::uint32_t encoder_checksum = 0;  ///< of the model a stored state was made with (0: none)
};

/// Sparse vector: (term hash, weight), sorted by hash.
using SparseVector = std::vector<std::pair<std::uint64_t, float>>;

/// A document made ready for the engine: the parts that cost CPU and need no shared state, so they may
/// be computed on many threads before the engine's (serial) assignment.
struct PreparedDocument {
  Document doc;
  std::uint64_t content_hash = 0;  ///< XXH3 of title and text: tells a resent document from a clash
  std::vector<std::uint32_t> fingerprint;
  std::uint32_t substance = 0;  ///< shingles left after boilerplate (DocInfo::length)
  /// While the feed learns its boilerplate: the text's distinct shingles, and which filter signed it.
  std::vector<std::uint64_t> shingles;
  std::uint64_t filter_version = 0;
  TermCounts terms;
  TermNames names;             ///< readable form of the terms
  std::vector<float> encoded;  ///< a short document's centred encoder vector (FeedParams::encoder)
  Language language = Language::kUnknown;  ///< guess_language of its text (or title)
};

/// Where a document went.
struct Assignment {
  std::string id;
  std::int32_t date = kNoDate;
  std::string dup_of;     ///< the already-seen document it copies, or empty
  std::string dup_group;  ///< the id of its group's first document (itself when not a copy)
  /// A copy that is the longest complete text of its group so far (the most shingles left after
  /// boilerplate: an article after its teaser) names the document it takes over from as the group's
  /// representative; empty otherwise. Said on arrival only.
  std::string replaces;
  double dup_similarity = 0.0;    ///< fingerprint similarity to dup_of (0 when none)
  std::uint32_t story = 0;        ///< story number, from 1 (written "s<number>")
  std::uint32_t thread = 0;       ///< thread number, from 1 ("t<number>")
  double story_similarity = 0.0;  ///< cosine with the story centroid it joined (1 for a new story)
  bool new_story = false;
  bool new_thread = false;
};

/// What the engine keeps to rebuild a document's effect on restart: its assignment and vectors.
struct FeedRecord {
  Assignment assignment;
  std::uint32_t length = 0;  ///< substance: shingles left after boilerplate (text bytes in older states)
  std::uint64_t content_hash = 0;
  std::vector<std::uint32_t> fingerprint;
  /// Added while the feed learnt its boilerplate: the distinct shingles it counted (empty after).
  std::vector<std::uint64_t> shingles;
  SparseVector vector;               ///< unit TF-IDF vector at arrival (empty for a copy)
  std::vector<std::uint64_t> terms;  ///< distinct terms, for document frequencies (empty for a copy)
  std::vector<std::pair<std::uint64_t, std::string>> new_names;  ///< vector terms the engine had no name for
  /// With relinking (FeedParams::thread_relink), of a non-copy: the count of each of terms (same
  /// order; empty: 1 each) and its language.
  std::vector<float> counts;
  Language language = Language::kUnknown;
};

/// Summary of one story or thread.
struct ClusterSummary {
  std::uint32_t number = 0;
  std::uint32_t thread = 0;  ///< for a story: its thread
  std::uint32_t size = 0;    ///< documents (stories, for a thread)
  std::uint32_t documents = 0;
  std::int32_t first = kNoDate, last = kNoDate;
  std::string representative;  ///< id of the first document (story) or first story's
  std::vector<std::string> top_terms, top_entities;
  std::vector<std::uint32_t> stories;  ///< for a thread: its stories in order of first date
  /// For a thread left empty by a merge (FeedParams::thread_merge_threshold) or a relink: the thread
  /// that holds its stories now (after every later merge). 0 for a live thread, and for one emptied
  /// before a version-3 snapshot that the state was opened from.
  std::uint32_t merged_into = 0;
};

/// The incremental engine. Not thread-safe: the caller serialises every call (lookup too: it uses
/// scratch space) except prepare, which may run on many threads at once and beside anything else.
class FeedEngine {
 public:
  explicit FeedEngine(const FeedParams& params);
  ~FeedEngine();
  FeedEngine(FeedEngine&&) noexcept;
  FeedEngine& operator=(FeedEngine&&) noexcept;

  const FeedParams& params() const;

  /// Fingerprint and terms of doc. Thread-safe (per-thread scratch).
  PreparedDocument prepare(Document doc) const;

  /// Assigns and adds a document. Throws InvalidArgument when its id is present already (check with
  /// find first). The returned record is what restore() needs to replay it.
  FeedRecord add(PreparedDocument doc);

  /// The assignment doc would get, without adding it.
  Assignment lookup(const PreparedDocument& doc) const;

  /// Replays a record made by add (in the original order) to rebuild the state after a restart.
  /// Throws InvalidArgument for a record that cannot follow the ones before it.
  void restore(const FeedRecord& record);

  /// Relinking now, not at the count of stories (FeedParams::thread_relink): the feed went quiet, or
  /// is closing. relink_pending() says whether documents joined stories since the last relink (always
  /// false with relinking off, and after replay()); relink() relinks (nothing with relinking
  /// off). A relink made this way must be stored with the history (ReplayOp::relink) for a replay to
  /// make it too.
  bool relink_pending() const;
  void relink();
  /// relink() in three steps, for a caller that must not hold the engine while the threads are found
  /// (a service answering lookups meanwhile): plan_relink() reads what relinking needs (nullptr with
  /// relinking off); link_plan() finds the threads, touching no engine; apply_relink() moves the
  /// stories, which must be the same as at plan_relink() (nothing added or removed between: the
  /// caller checks, and drops the plan otherwise). The three equal relink().
  struct RelinkPlan;  // engine/feed.cpp
  std::shared_ptr<RelinkPlan> plan_relink() const;
  static void link_plan(RelinkPlan& plan);
  void apply_relink(const RelinkPlan& plan);

  /// One step of a stored history: an add (record), a removal (record.assignment.id and .story, and
  /// record.vector: the vector the document was added with; empty for a copy), or a relink made by
  /// relink() (record unused).
  struct ReplayOp {
    FeedRecord record;
    bool removal = false;
    bool relink = false;
  };
  /// Replays a history in order, as restore() and remove() would, faster: read(chunk) fills the next
  /// chunk (false or empty: no more), and chunks are read and replayed on the two sides of the engine
  /// at once (oneTBB pipeline). The result equals the one-by-one replay.
  void replay(const std::function<bool(std::vector<ReplayOp>&)>& read);

  /// Which stored history a snapshot holds: the state it belongs to and the last document row and
  /// removal row it includes.
  struct SnapshotMark {
    std::uint64_t state_id = 0;
    std::uint64_t documents = 0;
    std::uint64_t removals = 0;
  };
  /// Writes the whole engine to path (via path.tmp and a rename, checksummed). Throws IoError.
  void save_snapshot(const std::string& path, const SnapshotMark& mark) const;
  /// Loads a snapshot into this engine, which must be empty and of the same parameters, and returns its
  /// mark. Throws CorruptIndex for a damaged, foreign or other-parameter file, IoError when unreadable.
  SnapshotMark load_snapshot(const std::string& path);

  /// Makes room for this many documents in all (an expected total, not a limit).
  void reserve(std::size_t documents);

  /// Removes a document: it leaves the duplicate index and its story's centroid (vector: the one it was
  /// added with, FeedRecord::vector; the engine does not keep it); its story and thread keep their
  /// numbers. Returns false when the id is unknown.
  bool remove(std::string_view id, const SparseVector& vector);

  /// The assignment and content hash of a live document.
  std::optional<std::pair<Assignment, std::uint64_t>> find(std::string_view id) const;

  std::optional<ClusterSummary> story(std::uint32_t number) const;
  std::optional<ClusterSummary> thread(std::uint32_t number) const;
  /// Stories whose last date is on or after since, newest first, at most limit.
  std::vector<ClusterSummary> stories_since(std::int32_t since, std::size_t limit) const;

  std::size_t documents() const;
  /// Documents ever added, removed ones included.
  std::size_t slots() const;
  std::size_t duplicates() const;
  std::size_t stories() const;
  std::size_t threads() const;
  /// Boilerplate shingles learnt so far, and the documents counted to learn them.
  std::size_t boilerplate() const;
  std::size_t boilerplate_counted() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// "s12" / "t3".
std::string story_name(std::uint32_t number);
std::string thread_name(std::uint32_t number);

}  // namespace storyline
