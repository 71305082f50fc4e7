#include "storyline/feed.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_group.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <mutex>

#include "detail/binary_io.hpp"
#include "detail/feed_store.hpp"
#include "detail/flat_map.hpp"
#include "detail/story_links.hpp"
#include "storyline/dedup_index.hpp"
#include "storyline/encoder.hpp"
#include "storyline/error.hpp"

namespace storyline {
namespace {

constexpr std::uint32_t kNone = UINT32_MAX;
constexpr std::size_t kRecentPostings = 16;
// A story's sum of its documents' terms for relinking keeps this many, its heaviest.
constexpr std::size_t kLinkedTerms = 256;
using Postings = detail::FlatHashMap<std::vector<std::uint32_t>>;

// Terms in more than max_df_ratio of the documents are dropped only once there are this many.
constexpr std::size_t kMinDocsForMaxDf = 100;

struct Centroid {
  SparseVector sum;  // sorted by hash, at most centroid_terms entries
  double norm = 0.0;
};

struct Story {
  std::uint32_t thread = 0;
  std::int32_t first = kNoDate, last = kNoDate;
  std::uint32_t size = 0;  // live documents, copies included
  DocIndex representative = 0;
  Centroid centroid;
  // What relinking reads (FeedParams::thread_relink): the sum of its documents' term weights without
  // idf (at most kLinkedTerms), and its non-copies per language.
  Centroid linked;
  detail::LanguageCounts languages{};
  // Its part of its thread's centroid (its documents' entity-boosted vectors, as join adds them): what
  // relinking gives the thread it moves to.
  Centroid threaded;
};

struct Thread {
  std::int32_t first = kNoDate, last = kNoDate;
  std::uint32_t documents = 0;
  std::vector<std::uint32_t> stories;
  Centroid centroid;
  // Left empty by a merge or a relink: the thread that took its stories (which may itself have been
  // emptied since; ClusterSummary::merged_into follows the chain). 0 otherwise.
  std::uint32_t merged_into = 0;
};

// What the engine keeps per DedupIndex slot.
struct Slot {
  std::uint32_t story = 0;
  DocIndex root = 0;  // first document of its duplicate group
  DocIndex best = 0;  // for a root: its group's longest complete text so far (its representative)
  DocIndex dup_of = kNone;
  float dup_similarity = 0.0f;
  float story_similarity = 0.0f;
  std::uint64_t content_hash = 0;
  bool copy = false;
};

void widen(std::int32_t& first, std::int32_t& last, std::int32_t date) {
  if (date == kNoDate) return;
  first = first == kNoDate ? date : std::min(first, date);
  last = last == kNoDate ? date : std::max(last, date);
}

double dot(const SparseVector& a, const SparseVector& b) {
  double s = 0.0;
  auto i = a.begin(), j = b.begin();
  while (i != a.end() && j != b.end()) {
    if (i->first < j->first) {
      ++i;
    } else if (j->first < i->first) {
      ++j;
    } else {
      s += static_cast<double>(i->second) * j->second;
      ++i, ++j;
    }
  }
  return s;
}

// The sentence encoder's part of a short document's vector: dimension k is the term (kEncoderTag << 48)
// | k, beside the bridge's tags. Its values may be negative; it is never truncated, probed or posted.
constexpr std::uint64_t kEncoderTag = 0x5B1E;
bool encoder_term(std::uint64_t hash) { return hash >> 48 == kEncoderTag; }

// Keeps the `keep` heaviest entries (ties by hash), sorted by hash again.
void keep_heaviest(SparseVector& v, std::size_t keep) {
  if (v.size() <= keep) return;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(keep), v.end(),
                   [](const auto& a, const auto& b) {
                     return a.second != b.second ? a.second > b.second : a.first < b.first;
                   });
  v.resize(keep);
  std::sort(v.begin(), v.end());
}

void normalize(SparseVector& v) {
  double norm = 0.0;
  for (const auto& e : v) norm += static_cast<double>(e.second) * e.second;
  if (norm <= 0.0) return;
  const auto scale = static_cast<float>(1.0 / std::sqrt(norm));
  for (auto& e : v) e.second *= scale;
}

// centroid += sign * v, kept between `keep` and 2 * `keep` terms; zero and negative leftovers of a
// subtraction dropped.
void accumulate(Centroid& c, const SparseVector& v, float sign, std::size_t keep, SparseVector& scratch) {
  scratch.clear();
  scratch.reserve(c.sum.size() + v.size());
  auto i = c.sum.cbegin();
  auto j = v.begin();
  while (i != c.sum.end() || j != v.end()) {
    if (j == v.end() || (i != c.sum.end() && i->first < j->first)) {
      scratch.push_back(*i++);
    } else if (i == c.sum.end() || j->first < i->first) {
      if (sign > 0.0f) scratch.emplace_back(j->first, j->second);
      ++j;
    } else {
      const float w = i->second + sign * j->second;
      if (w > 1e-6f || (encoder_term(i->first) && std::abs(w) > 1e-6f)) scratch.emplace_back(i->first, w);
      ++i, ++j;
    }
  }
  // Truncated only past twice the size, back to `keep`: the sort is paid once per `keep` additions.
  // The encoder's part (a fixed number of entries) is not truncated.
  if (scratch.size() > 2 * keep) {
    // Sorted by hash: the encoder's entries, when there are any, are one run.
    const auto encoded_begin = std::lower_bound(scratch.begin(), scratch.end(), kEncoderTag << 48,
                                                [](const auto& e, std::uint64_t h) { return e.first < h; });
    const auto encoded_end = std::lower_bound(encoded_begin, scratch.end(), (kEncoderTag + 1) << 48,
                                              [](const auto& e, std::uint64_t h) { return e.first < h; });
    const auto encoded = static_cast<std::size_t>(encoded_end - encoded_begin);
    if (encoded == 0) {
      keep_heaviest(scratch, keep);
    } else if (scratch.size() - encoded > 2 * keep) {
      const SparseVector kept(encoded_begin, encoded_end);
      scratch.erase(encoded_begin, encoded_end);
      keep_heaviest(scratch, keep);
      scratch.insert(std::lower_bound(scratch.begin(), scratch.end(), kept.front()), kept.begin(),
                     kept.end());
    }
  }
  // Copied back, not swapped: the centroid keeps a buffer near its own size (most stories are a few
  // documents) and the scratch keeps its large one, so neither is regrown every time.
  if (scratch.size() > c.sum.capacity()) {
    c.sum.reserve(std::max(scratch.size(), std::min(2 * c.sum.capacity(), 2 * keep)));
  }
  c.sum.assign(scratch.begin(), scratch.end());
  double norm = 0.0;
  for (const auto& e : c.sum) norm += static_cast<double>(e.second) * e.second;
  c.norm = std::sqrt(norm);
}

double cosine(const SparseVector& unit, const Centroid& c) {
  return c.norm > 0.0 ? dot(unit, c.sum) / c.norm : 0.0;
}

// Cosine of a unit vector with the entries of sum whose term keep() holds, in one pass and without a
// copy of them.
template <typename Keep>
double cosine_over(const SparseVector& unit, const SparseVector& sum, Keep keep) {
  double d = 0.0, norm = 0.0;
  auto i = unit.begin();
  for (const auto& [term, value] : sum) {
    if (!keep(term)) continue;
    norm += static_cast<double>(value) * value;
    while (i != unit.end() && i->first < term) ++i;
    if (i != unit.end() && i->first == term) d += static_cast<double>(i->second) * value;
  }
  return norm > 0.0 ? d / std::sqrt(norm) : 0.0;
}

// Indices of the `count` heaviest entries of v, heaviest first.
std::vector<std::size_t> heaviest(const SparseVector& v, std::size_t count) {
  std::vector<std::size_t> order;
  order.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!encoder_term(v[i].first)) order.push_back(i);
  }
  const std::size_t n = std::min(count, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
                    [&](std::size_t a, std::size_t b) {
                      return v[a].second != v[b].second ? v[a].second > v[b].second : v[a].first < v[b].first;
                    });
  order.resize(n);
  return order;
}

}  // namespace

// Built by append: GCC 12 warns falsely (-Wrestrict) on "s" + std::to_string(n).
std::string story_name(std::uint32_t number) {
  std::string out = "s";
  out += std::to_string(number);
  return out;
}

std::string thread_name(std::uint32_t number) {
  std::string out = "t";
  out += std::to_string(number);
  return out;
}

// What a relink reads of the engine, and the threads it finds (FeedEngine::plan_relink).
struct FeedEngine::RelinkPlan {
  std::vector<std::uint32_t> live;    // the stories relinked (indexes)
  std::vector<SparseVector> weighed;  // each one's terms at today's weights (dropped once linked)
  std::vector<detail::LanguageCounts> languages;
  ClusterParams linking;
  std::vector<std::uint32_t> label;  // per live story, its thread found (link_plan)
};

struct FeedEngine::Impl {
  FeedParams params;
  FingerprintScheme scheme;
  DedupIndex dedup;
  // Two sides, touched by separate replay stages: the duplicate side (dedup, slots, names, duplicates)
  // and the story side (stories, threads, df, postings). Document vectors are not kept: the state
  // store has them, and a removal brings its own.
  std::vector<Slot> slots;      // by DocIndex
  std::vector<Story> stories;   // number - 1
  std::vector<Thread> threads;  // number - 1
  detail::FlatHashMap<std::uint32_t> df;
  std::size_t counted = 0;  // documents counted in df
  // FeedParams::idf_by_language: documents counted per language; df's keys are then the terms mixed
  // with their document's language (df_key).
  std::array<std::size_t, kLanguageCount> counted_in{};
  // Documents that joined stories since the last relink (with relinking on; 0 after opening a state).
  std::size_t joined_since_relink = 0;
  std::size_t duplicates = 0;
  Postings story_postings, thread_postings;
  std::unordered_map<std::uint64_t, std::string> names;
  // Boilerplate learnt as documents arrive (FeedParams::boilerplate): shingle counts over the first
  // `sample` documents (dropped once they are counted) and the shingles found so far. The filter that
  // signs documents only grows; prepare() reads it under the mutex, add() re-signs a document that a
  // newer filter than its own should sign, so that the result does not depend on thread timing.
  detail::FlatHashMap<std::uint32_t> boilerplate_counts;
  std::size_t boilerplate_counted = 0;
  std::vector<std::uint64_t> boilerplate_found;
  std::uint32_t boilerplate_bar = 0;  // documents that make a shingle boilerplate
  mutable std::mutex filter_mutex;
  std::shared_ptr<const Boilerplate> filter;
  std::uint64_t filter_version = 0;
  bool filter_learning = false;  // learning_boilerplate(), for prepare() on other threads
  mutable tbb::enumerable_thread_specific<Fingerprinter> fingerprinters{
      [this] { return Fingerprinter(scheme); }};
  mutable tbb::enumerable_thread_specific<TermExtractor> extractors{
      [this] { return TermExtractor(params.tfidf); }};
  // Candidate scoring scratch (used under the caller's serialisation).
  mutable std::vector<float> partial;
  mutable std::vector<std::uint32_t> touched;
  SparseVector scratch, boosted_scratch, story_scratch;
  // States made with the bridge's features (names' keys, a lexicon). In older states no term is the
  // bridge's, and the one word in 32,768 whose hash carries the bridge's tag by chance stays a word.
  const bool bridged;
  bool bridge_term(std::uint64_t term) const { return bridged && is_bridge_term(term); }

  explicit Impl(const FeedParams& p)
      : params(p),
        scheme(p.dedup),
        dedup(p.dedup),
        bridged(p.tfidf.name_key_weight > 0.0f || p.tfidf.lexicon != nullptr) {
    STORYLINE_CHECK_ARG(p.story_threshold > 0.0f && p.story_threshold <= 1.0f,
                        "story threshold must be in (0, 1]");
    STORYLINE_CHECK_ARG(p.thread_threshold > 0.0f && p.thread_threshold <= 1.0f,
                        "thread threshold must be in (0, 1]");
    STORYLINE_CHECK_ARG(p.vector_terms > 0 && p.centroid_terms > 0 && p.thread_centroid_terms > 0 &&
                            p.probe_terms > 0 && p.rerank > 0,
                        "vector, centroid, probe and rerank sizes must be positive");
    STORYLINE_CHECK_ARG(
        p.thread_relink <= 64 && p.thread_relink_threshold > 0.0f && p.thread_relink_threshold <= 1.0f,
        "relinking: at most 64 a doubling, its threshold in (0, 1]");
    STORYLINE_CHECK_ARG(p.thread_merge_threshold >= 0.0f && p.thread_merge_threshold <= 1.0f,
                        "thread merge threshold must be in [0, 1]");
    TermExtractor check(p.tfidf);  // extractors are made per thread on first use: refuse a bad stemmer now
    STORYLINE_CHECK_ARG(p.boilerplate.df >= 0.0 && p.boilerplate.df <= 1.0,
                        "boilerplate df must be in [0, 1]");
    boilerplate_bar = boilerplate_document_bar(p.boilerplate, p.boilerplate.sample);
    filter_learning = learning_boilerplate();
  }

  bool learning_boilerplate() const {
    return params.boilerplate.df > 0.0 && params.dedup.method == DedupMethod::kMinHash &&
           boilerplate_counted < params.boilerplate.sample;
  }

  struct FilterNow {
    std::shared_ptr<const Boilerplate> filter;
    std::uint64_t version = 0;
    bool learning = false;
  };
  FilterNow current_filter() const {
    std::lock_guard lock(filter_mutex);
    return {filter, filter_version, filter_learning};
  }

  // Counts one document's distinct shingles (a document added while learning, in order: add and replay
  // alike); those reaching the bar join the filter.
  void count_boilerplate(std::span<const std::uint64_t> shingles) {
    const std::size_t before = boilerplate_found.size();
    for (const std::uint64_t h : shingles) {
      if (++boilerplate_counts[h] == boilerplate_bar) boilerplate_found.push_back(h);
    }
    ++boilerplate_counted;
    const bool learning = learning_boilerplate();
    if (!learning) boilerplate_counts = {};
    auto grown =
        boilerplate_found.size() == before ? nullptr : std::make_shared<const Boilerplate>(boilerplate_found);
    std::lock_guard lock(filter_mutex);
    filter_learning = learning;
    if (grown) filter = std::move(grown), filter_version = boilerplate_found.size();
  }

  // The filter as the counts left it, after a snapshot load.
  void rebuild_filter() {
    std::lock_guard lock(filter_mutex);
    filter = boilerplate_found.empty() ? nullptr : std::make_shared<const Boilerplate>(boilerplate_found);
    filter_version = boilerplate_found.size();
    filter_learning = learning_boilerplate();
  }

  // Signs p again when a newer filter than the one it was prepared with came since.
  void sign_now(PreparedDocument& p) const {
    if (p.filter_version == filter_version) return;
    p.substance = fingerprinters.local().fingerprint(p.doc.text.empty() ? p.doc.title : p.doc.text,
                                                     p.doc.title, filter.get(), p.fingerprint, nullptr);
    p.filter_version = filter_version;
  }

  // df's key of a term in a document of the given language. Unknown and every language alike when
  // frequencies are not per language, so that such a state keeps its keys.
  std::uint64_t df_key(std::uint64_t term, Language language) const {
    if (!params.idf_by_language || language == Language::kUnknown) return term;
    return term ^ (static_cast<std::uint64_t>(language) * 0x9E3779B97F4A7C15ull);
  }

  // The language a document's terms are weighed in: its own; for one too short to tell, the language
  // most documents are in so far (unknown while none is known). Documents of unknown language count
  // in every language (documents_in, frequency), so a feed of headlines in one language, most too
  // short to tell, is weighed as with one count.
  Language weighing(Language language) const {
    if (!params.idf_by_language || language != Language::kUnknown) return language;
    const auto most = std::max_element(counted_in.begin() + 1, counted_in.end());
    return *most == 0 ? Language::kUnknown : static_cast<Language>(most - counted_in.begin());
  }

  // The documents that terms weighed in `view` (weighing()) are counted among, and a term's count.
  std::size_t documents_in(Language view) const {
    if (!params.idf_by_language) return counted;
    const std::size_t unknown = counted_in[static_cast<std::size_t>(Language::kUnknown)];
    return view == Language::kUnknown ? unknown : counted_in[static_cast<std::size_t>(view)] + unknown;
  }
  std::uint32_t frequency(std::uint64_t term, Language view) const {
    const std::uint32_t* own = df.find(df_key(term, view));
    std::uint32_t f = own ? *own : 0;
    if (params.idf_by_language && view != Language::kUnknown &&
        counted_in[static_cast<std::size_t>(Language::kUnknown)] > 0) {
      const std::uint32_t* unknown = df.find(term);
      f += unknown ? *unknown : 0;
    }
    return f;
  }
  // A term's count over every language: relinking weighs as `cluster` does, with one count.
  std::uint32_t total_frequency(std::uint64_t term) const {
    if (!params.idf_by_language) return frequency(term, Language::kUnknown);
    std::uint32_t f = 0;
    for (std::size_t l = 0; l < kLanguageCount; ++l) {
      const std::uint32_t* n = df.find(df_key(term, static_cast<Language>(l)));
      f += n ? *n : 0;
    }
    return f;
  }

  // Unit TF-IDF vector of terms with document frequencies as if the document were added (df + 1).
  SparseVector vectorize(const TermCounts& terms, Language language) const {
    const Language view = weighing(language);
    const std::size_t counted = documents_in(view);
    const double n = static_cast<double>(counted + 1);
    const auto max_df = counted + 1 >= kMinDocsForMaxDf
                            ? static_cast<std::uint32_t>(params.tfidf.max_df_ratio * n)
                            : UINT32_MAX;
    SparseVector v;
    v.reserve(terms.terms.size());
    for (const auto& [term, count] : terms.terms) {
      const std::uint32_t f = frequency(term, view) + 1;
      if (f > max_df) continue;
      float w = (1.0f + std::log(std::max(count, 1.0f))) *
                static_cast<float>(std::log((1.0 + n) / (1.0 + f)) + 1.0);
      if (is_entity_term(term)) w *= params.tfidf.entity_weight;
      v.emplace_back(term, w);
    }
    // The bridge's features keep their own vector_terms heaviest, so that they take no word's place.
    const auto bridge_begin =
        std::stable_partition(v.begin(), v.end(), [&](const auto& e) { return !bridge_term(e.first); });
    if (bridge_begin != v.end()) {
      SparseVector bridge(bridge_begin, v.end());
      v.erase(bridge_begin, v.end());
      keep_heaviest(v, params.vector_terms);
      keep_heaviest(bridge, params.vector_terms);
      v.insert(v.end(), bridge.begin(), bridge.end());
      std::sort(v.begin(), v.end());
    } else {
      keep_heaviest(v, params.vector_terms);
    }
    normalize(v);
    return v;
  }

  // A short document's vector: the terms scaled by sqrt(1 - w), its centred encoder vector by sqrt(w).
  void blend(SparseVector& v, const std::vector<float>& encoded) const {
    if (encoded.empty()) return;
    const float w = std::clamp(params.encoder_weight, 0.0f, 1.0f);
    const float terms = std::sqrt(1.0f - w), vector = std::sqrt(w);
    for (auto& e : v) e.second *= terms;
    for (std::size_t k = 0; k < encoded.size(); ++k) {
      if (encoded[k] != 0.0f) v.emplace_back((kEncoderTag << 48) | k, vector * encoded[k]);
    }
    std::sort(v.begin(), v.end());
    normalize(v);  // a unit already, unless the terms were none
  }

  // The story side of a document's vector: without the bridge's features, normalised again. Stories are
  // events told in one language's words (as in `cluster`); the bridge links threads.
  void story_side(const SparseVector& v, SparseVector& out) const {
    out.clear();
    for (const auto& e : v) {
      if (!bridge_term(e.first)) out.push_back(e);
    }
    if (out.size() != v.size()) normalize(out);
  }

  SparseVector boosted(const SparseVector& unit) const {
    SparseVector v;
    boost_into(unit, v);
    return v;
  }

  void boost_into(const SparseVector& unit, SparseVector& v) const {
    v.clear();
    for (const auto& e : unit) {
      if (!encoder_term(e.first)) v.push_back(e);  // threads are linked from the terms alone
    }
    for (auto& [term, w] : v) {
      const bool entity = is_entity_term(term);
      w *= bridge_term(term) ? (entity ? params.thread_name_boost : params.thread_pivot_boost)
           : entity          ? params.thread_entity_boost
                             : 1.0f;
    }
    normalize(v);
  }

  bool in_window(const Story& s, std::int32_t date) const {
    if (params.window_days < 0 || date == kNoDate || s.first == kNoDate) return true;
    return date >= s.first - params.window_days && date <= s.last + params.window_days;
  }

  // Best (number, score) among the clusters reached through postings of v's heaviest terms, the best
  // `rerank` by partial dot product scored exactly by score(index) (a cosine); 0 when none.
  template <typename Accept, typename Score>
  std::pair<std::uint32_t, double> best_match(const SparseVector& v, const Postings& postings,
                                              std::size_t count, Accept accept, Score score) const {
    partial.resize(count, 0.0f);
    touched.clear();
    for (const std::size_t t : heaviest(v, params.probe_terms)) {
      const auto* found = postings.find(v[t].first);
      if (found == nullptr) continue;
      const auto& list = *found;
      const std::size_t start = list.size() > params.max_postings ? list.size() - params.max_postings : 0;
      for (std::size_t k = list.size(); k-- > start;) {
        const std::uint32_t c = list[k];
        if (partial[c] == 0.0f) {
          if (!accept(c)) continue;
          touched.push_back(c);
        }
        partial[c] += v[t].second;
      }
    }
    std::vector<std::pair<float, std::uint32_t>> ranked;
    ranked.reserve(touched.size());
    for (const std::uint32_t c : touched) {
      ranked.emplace_back(partial[c], c);
      partial[c] = 0.0f;
    }
    const std::size_t n = std::min<std::size_t>(params.rerank, ranked.size());
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n), ranked.end(),
                      [](const auto& a, const auto& b) {
                        return a.first != b.first ? a.first > b.first : a.second < b.second;
                      });
    std::pair<std::uint32_t, double> best{0, 0.0};
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t c = ranked[i].second;
      const double s = score(c);
      if (s > best.second || (s == best.second && best.first != 0 && c + 1 < best.first)) best = {c + 1, s};
    }
    return best;
  }

  std::pair<std::uint32_t, double> best_story(const SparseVector& v, std::int32_t date) const {
    return best_match(
        v, story_postings, stories.size(),
        [&](std::uint32_t c) { return stories[c].size > 0 && in_window(stories[c], date); },
        [&](std::uint32_t c) { return cosine(v, stories[c].centroid); });
  }

  // The thread whose names agree most with the document's: the bridge's name features alone, on both
  // sides normalised over them (Siria and Syria, Asad and Assad as one). The same storyline in another
  // language or spelling; the feed's form of join_across_languages. (0, 0) when the document has none.
  std::pair<std::uint32_t, double> best_named_thread(const SparseVector& v) const {
    SparseVector names;
    for (const auto& e : v) {
      if (bridge_term(e.first) && is_entity_term(e.first)) names.push_back(e);
    }
    if (names.empty()) return {0, 0.0};
    normalize(names);
    return best_match(
        names, thread_postings, threads.size(), [&](std::uint32_t c) { return threads[c].documents > 0; },
        [&](std::uint32_t c) {
          return cosine_over(names, threads[c].centroid.sum,
                             [&](std::uint64_t term) { return bridge_term(term) && is_entity_term(term); });
        });
  }

  std::pair<std::uint32_t, double> best_thread(const SparseVector& boosted_v) const {
    return best_match(
        boosted_v, thread_postings, threads.size(), [&](std::uint32_t c) { return threads[c].documents > 0; },
        [&](std::uint32_t c) { return cosine(boosted_v, threads[c].centroid); });
  }

  void post(Postings& postings, const SparseVector& v, std::uint32_t number) {
    for (const std::size_t t : heaviest(v, params.probe_terms)) {
      auto& list = postings[v[t].first];
      // A cluster already among the newest postings of the term is not posted again: repeats would
      // only lengthen the scans (and count the term twice for that cluster).
      const std::size_t recent = std::min<std::size_t>(list.size(), kRecentPostings);
      if (std::find(list.end() - static_cast<std::ptrdiff_t>(recent), list.end(), number - 1) == list.end()) {
        list.push_back(number - 1);
      }
    }
  }

  // The story and thread side of adding (or replaying) a non-copy with its unit vector.
  void join(const FeedRecord& r, DocIndex doc) {
    const std::uint32_t story = r.assignment.story, thread = r.assignment.thread;
    const std::int32_t date = r.assignment.date;
    const SparseVector& v = r.vector;
    if (thread > threads.size()) threads.emplace_back();
    const bool opened = story > stories.size();
    if (opened) {
      stories.emplace_back();
      stories.back().thread = thread;
      stories.back().representative = doc;
      threads[thread - 1].stories.push_back(story);
    }
    Story& s = stories[story - 1];
    Thread& t = threads[thread - 1];
    ++s.size;
    ++t.documents;
    widen(s.first, s.last, date);
    widen(t.first, t.last, date);
    story_side(v, story_scratch);
    accumulate(s.centroid, story_scratch, 1.0f, params.centroid_terms, scratch);
    post(story_postings, story_scratch, story);
    boost_into(v, boosted_scratch);
    accumulate(t.centroid, boosted_scratch, 1.0f, params.thread_centroid_terms, scratch);
    post(thread_postings, boosted_scratch, thread);
    if (opened && params.thread_merge_threshold > 0.0f) merge_alike(thread);
    if (params.thread_relink > 0 && !r.terms.empty()) {
      // Relinking's view of the document: every term at 1 + log(count), normalised (the idf is
      // applied when relinking, with the document frequencies of that day); and its language.
      story_scratch.clear();
      for (std::size_t i = 0; i < r.terms.size(); ++i) {
        const float count = i < r.counts.size() ? r.counts[i] : 1.0f;
        story_scratch.emplace_back(r.terms[i], 1.0f + std::log(std::max(count, 1.0f)));
      }
      std::sort(story_scratch.begin(), story_scratch.end());
      normalize(story_scratch);
      accumulate(s.linked, story_scratch, 1.0f, kLinkedTerms, scratch);
      accumulate(s.threaded, boosted_scratch, 1.0f, params.thread_centroid_terms, scratch);
      ++s.languages[static_cast<std::size_t>(r.language)];
      ++joined_since_relink;
      if (opened && relink_due(stories.size())) relink();
    }
  }

  // FeedParams::thread_merge_threshold: the thread numbered `number` and the other thread most like it,
  // as one when their centroids are that alike. Part of joining, so that a replay merges where the
  // feed did.
  void merge_alike(std::uint32_t number) {
    const Thread& joined = threads[number - 1];
    if (joined.centroid.norm == 0.0) return;
    SparseVector unit = joined.centroid.sum;
    normalize(unit);
    const auto [other, similarity] = best_match(
        unit, thread_postings, threads.size(),
        [&](std::uint32_t c) { return c + 1 != number && threads[c].documents > 0; },
        [&](std::uint32_t c) { return cosine(unit, threads[c].centroid); });
    if (other == 0 || similarity < std::max(params.thread_merge_threshold, params.thread_threshold)) return;
    const std::uint32_t a = std::min(number, other), b = std::max(number, other);
    const bool b_larger = threads[b - 1].documents > threads[a - 1].documents;
    const std::uint32_t kept = b_larger ? b : a, gone = b_larger ? a : b;
    Thread& into = threads[kept - 1];
    Thread& from = threads[gone - 1];
    for (const std::uint32_t story : from.stories) stories[story - 1].thread = kept;
    into.stories.insert(into.stories.end(), from.stories.begin(), from.stories.end());
    std::sort(into.stories.begin(), into.stories.end());
    into.documents += from.documents;
    widen(into.first, into.last, from.first);
    widen(into.first, into.last, from.last);
    accumulate(into.centroid, from.centroid.sum, 1.0f, params.thread_centroid_terms, scratch);
    // The merged thread is found under the heaviest terms of both (the postings of the one gone are
    // passed over from now on) and under its new heaviest; posting reads only their order.
    post(thread_postings, from.centroid.sum, kept);
    post(thread_postings, into.centroid.sum, kept);
    from = Thread{};
    from.merged_into = kept;
  }

  // Whether the story numbered n (just opened) starts a relink: from 16 stories on, thread_relink times
  // per doubling of the stories (a rule of the count alone, so that a replay relinks where the feed did).
  bool relink_due(std::size_t n) const {
    constexpr std::size_t kFirst = 16;
    if (n < kFirst || !params.thread_relink_by_count) return false;
    const std::size_t step = std::max<std::size_t>(kFirst, std::bit_floor(n) / params.thread_relink);
    return n % step == 0;
  }

  // The thread step of `cluster` over the live stories; each story moves to the thread found for it.
  // In three parts, so that a service can find the threads without holding the engine: what it reads
  // of the engine (plan_relink), the threads found (link_plan: no engine), the stories moved to them
  // (apply_relink).
  void relink() {
    RelinkPlan plan = plan_relink();
    link_plan(plan);
    apply_relink(plan);
  }
  RelinkPlan plan_relink() const;
  void apply_relink(const RelinkPlan& plan);

  void count_terms(std::span<const std::uint64_t> terms, Language language) {
    constexpr std::size_t kAhead = 8;  // the map is far larger than the caches
    for (std::size_t i = 0; i < terms.size(); ++i) {
      if (i + kAhead < terms.size()) df.prefetch(df_key(terms[i + kAhead], language));
      ++df[df_key(terms[i], language)];
    }
    ++counted;
    ++counted_in[static_cast<std::size_t>(language)];
  }

  // The duplicate side of adding a record: index, slot, names. Returns the document's index.
  DocIndex restore_duplicate_side(const FeedRecord& r) {
    const Assignment& a = r.assignment;
    const DocIndex doc = dedup.add(a.id, DocInfo{a.date, r.length}, r.fingerprint);
    Slot slot;
    slot.story = a.story;
    slot.dup_similarity = static_cast<float>(a.dup_similarity);
    slot.story_similarity = static_cast<float>(a.story_similarity);
    slot.content_hash = r.content_hash;
    slot.root = doc;
    slot.best = doc;
    slot.copy = !a.dup_of.empty();
    if (slot.copy) {
      ++duplicates;
      // The original may have been removed since: then the copy reports itself as its group.
      if (const auto of = dedup.find(a.dup_of)) {
        slot.dup_of = *of;
        slot.root = slots[*of].root;
        // As assign() decided: the longer complete text takes over as the group's representative.
        Slot& root = slots[slot.root];
        if (!dedup.alive(root.best) || r.length > dedup.info(root.best).length) root.best = doc;
      }
    }
    for (const auto& [term, name] : r.new_names) names.emplace(term, name);
    slots.push_back(slot);
    return doc;
  }

  // The story side: document frequencies, story and thread centroids and sizes.
  void restore_story_side(const FeedRecord& r, DocIndex doc) {
    const Assignment& a = r.assignment;
    STORYLINE_CHECK_ARG(
        a.story >= 1 && a.story <= stories.size() + 1 && a.thread >= 1 && a.thread <= threads.size() + 1,
        "record of '" + a.id + "' names a story or thread out of order");
    if (a.dup_of.empty()) {
      count_terms(r.terms, r.language);
      join(r, doc);
    } else {
      STORYLINE_CHECK_ARG(a.story <= stories.size(), "copy '" + a.id + "' names a story that does not exist");
      Story& s = stories[a.story - 1];
      ++s.size;
      ++threads[s.thread - 1].documents;
      widen(s.first, s.last, a.date);
      widen(threads[s.thread - 1].first, threads[s.thread - 1].last, a.date);
    }
  }

  // The snapshot after the duplicate index's slots: per-slot state, stories, threads, df, postings, names.
  void read_clusters(detail::BinaryReader& in, std::uint32_t version);

  void remove_duplicate_side(DocIndex doc) {
    if (slots[doc].copy) --duplicates;
    dedup.remove(dedup.id(doc));
  }

  void remove_story_side(std::uint32_t story, const SparseVector& v) {
    STORYLINE_CHECK_ARG(story >= 1 && story <= stories.size(), "a removal names a story that does not exist");
    Story& s = stories[story - 1];
    Thread& t = threads[s.thread - 1];
    --s.size;
    --t.documents;
    if (v.empty()) return;
    story_side(v, story_scratch);
    accumulate(s.centroid, story_scratch, -1.0f, params.centroid_terms, scratch);
    boost_into(v, boosted_scratch);
    accumulate(t.centroid, boosted_scratch, -1.0f, params.thread_centroid_terms, scratch);
    if (params.thread_relink > 0)
      accumulate(s.threaded, boosted_scratch, -1.0f, params.thread_centroid_terms, scratch);
  }

  Assignment assignment_of(DocIndex doc) const {
    const Slot& slot = slots[doc];
    Assignment a;
    a.id = dedup.id(doc);
    a.date = dedup.info(doc).date;
    if (slot.dup_of != kNone) a.dup_of = dedup.id(slot.dup_of);
    a.dup_group = dedup.id(slot.root);
    a.dup_similarity = slot.dup_similarity;
    a.story = slot.story;
    a.thread = stories[slot.story - 1].thread;
    a.story_similarity = slot.story_similarity;
    return a;
  }

  // The assignment of p; vector (when not null) receives its TF-IDF vector (left empty for a copy).
  Assignment assign(const PreparedDocument& p, SparseVector* vector) const;

  ClusterSummary summarize(const Centroid& c) const {
    ClusterSummary out;
    SparseVector sorted = c.sum;
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    for (const auto& [hash, w] : sorted) {
      const auto it = names.find(hash);
      if (it == names.end()) continue;
      const bool entity = is_entity_term(hash);
      auto& list = entity ? out.top_entities : out.top_terms;
      if (list.size() < (entity ? 6u : 10u)) list.push_back(entity ? it->second.substr(1) : it->second);
    }
    return out;
  }
};

FeedEngine::RelinkPlan FeedEngine::Impl::plan_relink() const {
  RelinkPlan plan;
  for (std::uint32_t i = 0; i < stories.size(); ++i) {
    const Story& s = stories[i];
    if (s.size == 0 || s.linked.sum.empty()) continue;
    plan.live.push_back(i);
    plan.languages.push_back(s.languages);
  }
  if (plan.live.size() < 2) return plan;
  // The stories' rows: term weights times today's idf (entity weight, the own-term rule and the df cap
  // as build_tfidf applies them).
  // One count for all languages, as in `cluster`, also with FeedParams::idf_by_language: weighed per
  // language, relinking joins fewer threads across languages (bench/README.md, "Document frequencies
  // per language").
  const std::size_t documents = counted;
  const auto max_df = static_cast<std::uint32_t>(params.tfidf.max_df_ratio * static_cast<double>(documents));
  plan.weighed.resize(plan.live.size());
  for (std::size_t k = 0; k < plan.live.size(); ++k) {
    SparseVector& w = plan.weighed[k];
    w = stories[plan.live[k]].linked.sum;
    for (auto& e : w) {
      const std::uint32_t n = std::max<std::uint32_t>(total_frequency(e.first), 1);
      if (documents >= kMinDocsForMaxDf && n > max_df) {
        e.second = 0;
        continue;
      }
      const auto idf = static_cast<float>(std::log((1.0 + static_cast<double>(documents)) / (1.0 + n)) + 1.0);
      e.second *= idf * (is_entity_term(e.first) ? params.tfidf.entity_weight : 1.0f) *
                  (n <= 1 ? params.tfidf.own_term_weight : 1.0f);
    }
    std::erase_if(w, [](const auto& e) { return e.second == 0.0f; });
  }
  plan.linking.thread_threshold = params.thread_relink_threshold;
  plan.linking.thread_entity_boost = params.thread_relink_entity_boost;
  plan.linking.thread_pivot_boost = bridged ? params.thread_pivot_boost : 0.0f;
  plan.linking.thread_name_boost = bridged ? params.thread_name_boost : 0.0f;
  plan.linking.thread_language_threshold = bridged ? params.thread_language_threshold : 0.0f;
  return plan;
}

void FeedEngine::link_plan(RelinkPlan& plan) {
  if (plan.live.size() < 2) return;
  plan.label = detail::link_story_vectors(plan.weighed, plan.languages, plan.linking);
  plan.weighed = {};
}

void FeedEngine::Impl::apply_relink(const RelinkPlan& plan) {
  joined_since_relink = 0;
  if (plan.live.size() < 2) return;
  const std::vector<std::uint32_t>& live = plan.live;
  const std::vector<std::uint32_t>& label = plan.label;
  STORYLINE_CHECK_ARG(label.size() == live.size(), "a relink applied before its threads were found");
  const std::size_t found = *std::max_element(label.begin(), label.end()) + 1;

  // A found thread takes the number of the thread most of its documents were in, largest overlaps
  // first, each number once; the others get new numbers, in order of their first story.
  struct Overlap {
    std::uint64_t documents;
    std::uint32_t found, number;
  };
  std::vector<Overlap> overlaps;
  overlaps.reserve(live.size());
  for (std::size_t k = 0; k < live.size(); ++k) {
    overlaps.push_back({stories[live[k]].size, label[k], stories[live[k]].thread});
  }
  std::sort(overlaps.begin(), overlaps.end(), [](const Overlap& a, const Overlap& b) {
    return a.found != b.found ? a.found < b.found : a.number < b.number;
  });
  std::size_t merged = 0;  // sum the documents of equal (found, number) pairs
  for (std::size_t k = 0; k < overlaps.size(); ++k) {
    if (merged > 0 && overlaps[merged - 1].found == overlaps[k].found &&
        overlaps[merged - 1].number == overlaps[k].number) {
      overlaps[merged - 1].documents += overlaps[k].documents;
    } else {
      overlaps[merged++] = overlaps[k];
    }
  }
  overlaps.resize(merged);
  std::sort(overlaps.begin(), overlaps.end(), [](const Overlap& a, const Overlap& b) {
    if (a.documents != b.documents) return a.documents > b.documents;
    return a.found != b.found ? a.found < b.found : a.number < b.number;
  });
  std::vector<std::uint32_t> number(found, 0);
  std::vector<std::uint8_t> taken(threads.size() + 1, 0);
  for (const Overlap& o : overlaps) {
    if (number[o.found] == 0 && taken[o.number] == 0) number[o.found] = o.number, taken[o.number] = 1;
  }
  for (std::size_t k = 0; k < live.size(); ++k) {  // labels are numbered in order of first story
    if (number[label[k]] == 0) {
      threads.emplace_back();
      number[label[k]] = static_cast<std::uint32_t>(threads.size());
    }
  }
  // A thread the relink empties points at the one that took most of its documents (overlaps are in
  // that order); one that keeps documents points nowhere.
  std::vector<std::uint32_t> heir(threads.size() + 1, 0);
  for (const Overlap& o : overlaps) {
    if (heir[o.number] == 0) heir[o.number] = number[o.found];
  }

  // The threads again from their stories: members, documents, dates, centroids and postings. A story
  // without documents stays in its thread's list, one without terms (an empty text) in its thread.
  for (std::size_t k = 0; k < live.size(); ++k) stories[live[k]].thread = number[label[k]];
  for (Thread& t : threads) {
    std::erase_if(t.stories, [&](std::uint32_t s) { return stories[s - 1].size > 0; });
    t.documents = 0;
    t.first = t.last = kNoDate;
    t.centroid = {};
  }
  thread_postings = {};
  for (std::uint32_t i = 0; i < stories.size(); ++i) {
    const Story& s = stories[i];
    if (s.size == 0) continue;
    Thread& t = threads[s.thread - 1];
    t.stories.push_back(i + 1);
    t.documents += s.size;
    widen(t.first, t.last, s.first);
    widen(t.first, t.last, s.last);
    // The thread's centroid and postings as if the story's documents had joined it when they came.
    accumulate(t.centroid, s.threaded.sum, 1.0f, params.thread_centroid_terms, scratch);
    post(thread_postings, s.threaded.sum, s.thread);
  }
  for (std::uint32_t n = 1; n <= threads.size(); ++n) {
    Thread& t = threads[n - 1];
    std::sort(t.stories.begin(), t.stories.end());
    if (t.documents > 0) {
      t.merged_into = 0;
    } else if (heir[n] != 0) {
      t.merged_into = heir[n];
    }
  }
}

FeedEngine::FeedEngine(const FeedParams& params) : impl_(std::make_unique<Impl>(params)) {}
FeedEngine::~FeedEngine() = default;
FeedEngine::FeedEngine(FeedEngine&&) noexcept = default;
FeedEngine& FeedEngine::operator=(FeedEngine&&) noexcept = default;

const FeedParams& FeedEngine::params() const { return impl_->params; }

bool FeedEngine::relink_pending() const {
  return impl_->params.thread_relink > 0 && impl_->joined_since_relink > 0;
}

void FeedEngine::relink() {
  if (impl_->params.thread_relink > 0) impl_->relink();
}

std::shared_ptr<FeedEngine::RelinkPlan> FeedEngine::plan_relink() const {
  if (impl_->params.thread_relink == 0) return nullptr;
  return std::make_shared<RelinkPlan>(impl_->plan_relink());
}

void FeedEngine::apply_relink(const RelinkPlan& plan) { impl_->apply_relink(plan); }

PreparedDocument FeedEngine::prepare(Document doc) const {
  PreparedDocument p;
  p.content_hash =
      XXH3_64bits_withSeed(doc.text.data(), doc.text.size(), XXH3_64bits(doc.title.data(), doc.title.size()));
  p.fingerprint.resize(impl_->scheme.words());
  const Impl::FilterNow filter = impl_->current_filter();
  p.filter_version = filter.version;
  // A headline-only document is fingerprinted by its title.
  p.substance = impl_->fingerprinters.local().fingerprint(doc.text.empty() ? doc.title : doc.text, doc.title,
                                                          filter.filter.get(), p.fingerprint,
                                                          filter.learning ? &p.shingles : nullptr);
  impl_->extractors.local().extract(doc, p.terms, &p.names);
  const FeedParams& params = impl_->params;
  // The language: for relinking or idf by language (every document), else for the encoder (short
  // documents only).
  const auto guess = [&] { p.language = guess_language(doc.text.empty() ? doc.title : doc.text); };
  if (params.thread_relink > 0 || params.idf_by_language) guess();
  const auto english = [&] {  // the encoder reads English (a headline too short to tell counts as it)
    if (params.thread_relink == 0 && !params.idf_by_language) guess();
    return p.language == Language::kEnglish || p.language == Language::kUnknown;
  };
  if (params.encoder != nullptr && params.encoder_weight > 0.0f) {
    const std::string text = short_document_text(doc.title, doc.text, params.encoder_max_words);
    if (!text.empty() && english()) {
      const std::string_view one[] = {text};
      p.encoded = params.encoder->encode(one);
      SentenceEncoder::center(p.encoded, params.encoder->headline_mean());
    }
  }
  p.doc = std::move(doc);
  return p;
}

Assignment FeedEngine::lookup(const PreparedDocument& p) const {
  if (p.filter_version == impl_->filter_version) return impl_->assign(p, nullptr);
  PreparedDocument now = p;
  impl_->sign_now(now);
  return impl_->assign(now, nullptr);
}

Assignment FeedEngine::Impl::assign(const PreparedDocument& p, SparseVector* vector) const {
  const Impl& m = *this;
  Assignment a;
  a.id = p.doc.id;
  a.date = p.doc.date;
  const auto matches = m.dedup.query(p.fingerprint);
  if (!matches.empty()) {
    const DocIndex best = matches.front().doc;
    const Slot& slot = m.slots[best];
    a.dup_of = m.dedup.id(best);
    a.dup_group = m.dedup.id(slot.root);
    const DocIndex representative = m.slots[slot.root].best;
    if (m.dedup.alive(representative) && p.substance > m.dedup.info(representative).length) {
      a.replaces = m.dedup.id(representative);
    }
    a.dup_similarity = matches.front().similarity;
    a.story = slot.story;
    a.thread = m.stories[slot.story - 1].thread;
    a.story_similarity = 1.0;
    return a;
  }
  a.dup_group = p.doc.id;
  SparseVector local;
  SparseVector& v = vector ? *vector : local;
  v = m.vectorize(p.terms, p.language);
  m.blend(v, p.encoded);
  SparseVector story_v;
  m.story_side(v, story_v);
  const auto [story, similarity] = m.best_story(story_v, p.doc.date);
  const bool dated = story != 0 && p.doc.date != kNoDate && m.stories[story - 1].first != kNoDate;
  if (story != 0 && similarity >= (dated ? m.params.dated_story_threshold : m.params.story_threshold)) {
    a.story = story;
    a.thread = m.stories[story - 1].thread;
    a.story_similarity = similarity;
    return a;
  }
  a.new_story = true;
  a.story_similarity = 1.0;
  const auto [thread, thread_similarity] = m.best_thread(m.boosted(v));
  const auto [named, named_similarity] =
      m.params.thread_language_threshold > 0.0f ? m.best_named_thread(v) : std::pair<std::uint32_t, double>{};
  if (named != 0 && named_similarity >= m.params.thread_language_threshold) {
    a.thread = named;  // names that agree this much are one storyline, whatever the words
  } else if (thread != 0 && thread_similarity >= m.params.thread_threshold) {
    a.thread = thread;
  } else {
    a.new_thread = true;
  }
  return a;
}

FeedRecord FeedEngine::add(PreparedDocument p) {
  Impl& m = *impl_;
  STORYLINE_CHECK_ARG(!m.dedup.find(p.doc.id), "id '" + p.doc.id + "' is already present");
  FeedRecord r;
  if (m.learning_boilerplate()) {
    m.count_boilerplate(p.shingles);
    r.shingles = std::move(p.shingles);
  }
  m.sign_now(p);
  r.assignment = m.assign(p, &r.vector);
  Assignment& a = r.assignment;
  if (a.new_story) a.story = static_cast<std::uint32_t>(m.stories.size() + 1);
  if (a.new_thread) a.thread = static_cast<std::uint32_t>(m.threads.size() + 1);
  r.length = p.substance;
  r.content_hash = p.content_hash;
  r.fingerprint = std::move(p.fingerprint);
  if (a.dup_of.empty()) {
    r.terms.reserve(p.terms.terms.size());
    for (const auto& [term, count] : p.terms.terms) r.terms.push_back(term);
    r.language = p.language;
    if (m.params.thread_relink > 0) {
      r.counts.reserve(p.terms.terms.size());
      for (const auto& [term, count] : p.terms.terms) r.counts.push_back(count);
    }
    for (const auto& [term, w] : r.vector) {
      if (m.names.contains(term)) continue;
      const std::string_view name = p.names.find(term);
      if (!name.empty()) r.new_names.emplace_back(term, name);
    }
  }
  const DocIndex doc = m.restore_duplicate_side(r);
  m.restore_story_side(r, doc);
  return r;
}

void FeedEngine::restore(const FeedRecord& r) {
  if (impl_->learning_boilerplate()) impl_->count_boilerplate(r.shingles);
  const DocIndex doc = impl_->restore_duplicate_side(r);
  impl_->restore_story_side(r, doc);
}

void FeedEngine::replay(const std::function<bool(std::vector<ReplayOp>&)>& read) {
  Impl& m = *impl_;
  // Three stages over chunks of operations, each serial and in order, running at once on different
  // chunks: reading, the duplicate side, the story side. The two sides share no state, so each ends as
  // the one-at-a-time replay leaves it.
  using Chunk = std::shared_ptr<std::vector<ReplayOp>>;
  struct Indexed {
    Chunk ops;
    std::vector<DocIndex> docs;  // per add, its index
  };
  bool done = false;
  tbb::parallel_pipeline(
      4, tbb::make_filter<void, Chunk>(tbb::filter_mode::serial_in_order, [&](tbb::flow_control& fc) {
           auto chunk = std::make_shared<std::vector<ReplayOp>>();
           if (done || !read(*chunk)) done = true;
           if (chunk->empty()) fc.stop();
           return chunk;
         }) & tbb::make_filter<Chunk, Indexed>(tbb::filter_mode::serial_in_order, [&](Chunk chunk) {
           Indexed out{std::move(chunk), {}};
           for (const ReplayOp& op : *out.ops) {
             if (op.relink) {
               out.docs.push_back(0);  // the story side's alone
             } else if (op.removal) {
               const auto doc = m.dedup.find(op.record.assignment.id);
               STORYLINE_CHECK_ARG(doc.has_value(), "a removal names an unknown id");
               m.remove_duplicate_side(*doc);
               out.docs.push_back(*doc);
             } else {
               if (m.learning_boilerplate()) m.count_boilerplate(op.record.shingles);
               out.docs.push_back(m.restore_duplicate_side(op.record));
             }
           }
           return out;
         }) & tbb::make_filter<Indexed, void>(tbb::filter_mode::serial_in_order, [&](Indexed in) {
           for (std::size_t i = 0; i < in.ops->size(); ++i) {
             const ReplayOp& op = (*in.ops)[i];
             if (op.relink) {
               if (m.params.thread_relink > 0) m.relink();
             } else if (op.removal) {
               m.remove_story_side(op.record.assignment.story, op.record.vector);
             } else {
               m.restore_story_side(op.record, in.docs[i]);
             }
           }
         }));
  m.joined_since_relink = 0;  // a relink the history did not store is not owed to it
}

namespace {

constexpr char kSnapshotMagic[8] = {'S', 'T', 'L', 'N', 'S', 'N', 'A', 'P'};
// 2: the boilerplate learnt and its counts; 3: each story's sum of terms and languages for relinking;
// 4: documents counted per language, each thread's merged_into.
constexpr std::uint32_t kSnapshotVersion = 4;
constexpr std::size_t kMaxName = 1 << 16;

void write_centroid(detail::BinaryWriter& out, const Centroid& c) {
  out.value(static_cast<std::uint32_t>(c.sum.size()));
  out.bytes(c.sum.data(), c.sum.size() * sizeof(c.sum[0]));
  out.value(c.norm);
}

void read_centroid(detail::BinaryReader& in, Centroid& c) {
  const auto n = in.value<std::uint32_t>();
  if (n > in.remaining() / sizeof(c.sum[0])) in.fail("centroid larger than the file");
  c.sum.resize(n);
  in.bytes(c.sum.data(), n * sizeof(c.sum[0]));
  c.norm = in.value<double>();
}

void write_postings(detail::BinaryWriter& out, const Postings& p) {
  out.value(static_cast<std::uint64_t>(p.size()));
  p.for_each([&](std::uint64_t key, const std::vector<std::uint32_t>& list) {
    out.value(key);
    out.value(static_cast<std::uint32_t>(list.size()));
    out.bytes(list.data(), list.size() * sizeof(std::uint32_t));
  });
}

void read_postings(detail::BinaryReader& in, Postings& p, std::size_t limit) {
  const auto n = in.value<std::uint64_t>();
  if (n > in.remaining() / 12) in.fail("posting count larger than the file");
  p.reserve(static_cast<std::size_t>(n));
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto key = in.value<std::uint64_t>();
    const auto size = in.value<std::uint32_t>();
    if (size > in.remaining() / 4) in.fail("posting list larger than the file");
    auto& list = p[key];
    list.resize(size);
    in.bytes(list.data(), size * sizeof(std::uint32_t));
    for (const std::uint32_t c : list) {
      if (c >= limit) in.fail("a posting names a cluster that does not exist");
    }
  }
}

}  // namespace

void FeedEngine::save_snapshot(const std::string& path, const SnapshotMark& mark) const {
  const Impl& m = *impl_;
  detail::BinaryWriter out(path);
  out.bytes(kSnapshotMagic, sizeof kSnapshotMagic);
  out.value(kSnapshotVersion);
  out.string(detail::params_text(m.params));
  out.value(mark.state_id);
  out.value(mark.documents);
  out.value(mark.removals);
  out.value(static_cast<std::uint64_t>(m.counted));
  for (const std::size_t n : m.counted_in) out.value(static_cast<std::uint64_t>(n));
  out.value(static_cast<std::uint64_t>(m.duplicates));
  out.value(static_cast<std::uint64_t>(m.boilerplate_counted));
  out.value(static_cast<std::uint64_t>(m.boilerplate_found.size()));
  out.bytes(m.boilerplate_found.data(), m.boilerplate_found.size() * sizeof(std::uint64_t));
  out.value(static_cast<std::uint64_t>(m.boilerplate_counts.size()));
  m.boilerplate_counts.for_each([&](std::uint64_t shingle, std::uint32_t count) {
    out.value(shingle);
    out.value(count);
  });
  m.dedup.write_slots(out);
  out.value(static_cast<std::uint64_t>(m.slots.size()));
  for (const Slot& slot : m.slots) {
    out.value(slot.story);
    out.value(slot.root);
    out.value(slot.best);
    out.value(slot.dup_of);
    out.value(slot.dup_similarity);
    out.value(slot.story_similarity);
    out.value(slot.content_hash);
    out.value(static_cast<std::uint8_t>(slot.copy));
  }
  out.value(static_cast<std::uint64_t>(m.stories.size()));
  for (const Story& st : m.stories) {
    out.value(st.thread);
    out.value(st.first);
    out.value(st.last);
    out.value(st.size);
    out.value(st.representative);
    write_centroid(out, st.centroid);
    write_centroid(out, st.linked);
    write_centroid(out, st.threaded);
    out.bytes(st.languages.data(), sizeof st.languages);
  }
  out.value(static_cast<std::uint64_t>(m.threads.size()));
  for (const Thread& t : m.threads) {
    out.value(t.first);
    out.value(t.last);
    out.value(t.documents);
    out.value(static_cast<std::uint32_t>(t.stories.size()));
    out.bytes(t.stories.data(), t.stories.size() * sizeof(std::uint32_t));
    write_centroid(out, t.centroid);
    out.value(t.merged_into);
  }
  out.value(static_cast<std::uint64_t>(m.df.size()));
  m.df.for_each([&](std::uint64_t term, std::uint32_t count) {
    out.value(term);
    out.value(count);
  });
  write_postings(out, m.story_postings);
  write_postings(out, m.thread_postings);
  out.value(static_cast<std::uint64_t>(m.names.size()));
  for (const auto& [hash, name] : m.names) {
    out.value(hash);
    out.string(name);
  }
  out.finish();
}

void FeedEngine::Impl::read_clusters(detail::BinaryReader& in, std::uint32_t version) {
  Impl& m = *this;
  const auto slots = in.value<std::uint64_t>();
  if (slots != m.dedup.slots()) in.fail("slot counts disagree");
  m.slots.resize(slots);
  for (Slot& slot : m.slots) {
    slot.story = in.value<std::uint32_t>();
    slot.root = in.value<DocIndex>();
    slot.best = version == 1 ? slot.root : in.value<DocIndex>();
    slot.dup_of = in.value<DocIndex>();
    slot.dup_similarity = in.value<float>();
    slot.story_similarity = in.value<float>();
    slot.content_hash = in.value<std::uint64_t>();
    slot.copy = in.value<std::uint8_t>() != 0;
    if (slot.root >= slots || slot.best >= slots || (slot.dup_of != kNone && slot.dup_of >= slots))
      in.fail("a slot points outside");
  }
  const auto stories = in.value<std::uint64_t>();
  if (stories > in.remaining() / 24) in.fail("story count larger than the file");
  m.stories.resize(stories);
  for (Story& st : m.stories) {
    st.thread = in.value<std::uint32_t>();
    st.first = in.value<std::int32_t>();
    st.last = in.value<std::int32_t>();
    st.size = in.value<std::uint32_t>();
    st.representative = in.value<DocIndex>();
    read_centroid(in, st.centroid);
    if (version >= 3) {
      read_centroid(in, st.linked);
      read_centroid(in, st.threaded);
      in.bytes(st.languages.data(), sizeof st.languages);
    }
  }
  const auto threads = in.value<std::uint64_t>();
  if (threads > in.remaining() / 24) in.fail("thread count larger than the file");
  m.threads.resize(threads);
  for (Thread& t : m.threads) {
    t.first = in.value<std::int32_t>();
    t.last = in.value<std::int32_t>();
    t.documents = in.value<std::uint32_t>();
    const auto n = in.value<std::uint32_t>();
    if (n > in.remaining() / 4) in.fail("thread larger than the file");
    t.stories.resize(n);
    in.bytes(t.stories.data(), n * sizeof(std::uint32_t));
    for (const std::uint32_t s : t.stories) {
      if (s == 0 || s > stories) in.fail("a thread names a story that does not exist");
    }
    read_centroid(in, t.centroid);
    if (version >= 4) {
      t.merged_into = in.value<std::uint32_t>();
      if (t.merged_into > threads || t.merged_into == static_cast<std::uint32_t>(&t - m.threads.data()) + 1)
        in.fail("a thread is merged into one that does not exist");
    }
  }
  for (const Story& st : m.stories) {
    if (st.thread == 0 || st.thread > threads || st.representative >= slots)
      in.fail("a story points outside");
  }
  for (const Slot& slot : m.slots) {
    if (slot.story == 0 || slot.story > stories) in.fail("a slot names a story that does not exist");
  }
  const auto terms = in.value<std::uint64_t>();
  if (terms > in.remaining() / 12) in.fail("term count larger than the file");
  m.df.reserve(static_cast<std::size_t>(terms));
  for (std::uint64_t i = 0; i < terms; ++i) {
    const auto term = in.value<std::uint64_t>();
    m.df[term] = in.value<std::uint32_t>();
  }
  read_postings(in, m.story_postings, stories);
  read_postings(in, m.thread_postings, threads);
  const auto names = in.value<std::uint64_t>();
  if (names > in.remaining() / 12) in.fail("name count larger than the file");
  m.names.reserve(names);
  for (std::uint64_t i = 0; i < names; ++i) {
    const auto hash = in.value<std::uint64_t>();
    m.names.emplace(hash, in.string(kMaxName));
  }
}

FeedEngine::SnapshotMark FeedEngine::load_snapshot(const std::string& path) {
  Impl& m = *impl_;
  STORYLINE_CHECK_ARG(m.slots.empty() && m.stories.empty(), "a snapshot loads into an empty engine");
  detail::BinaryReader in(path);
  char magic[8];
  in.bytes(magic, sizeof magic);
  if (std::memcmp(magic, kSnapshotMagic, sizeof magic) != 0) in.fail("not a storyline snapshot");
  // Version 1 is a state's from before the feed learnt boilerplate (whose parameters turn it off).
  const auto version = in.value<std::uint32_t>();
  if (version < 1 || version > kSnapshotVersion) in.fail("snapshot of another version");
  if (in.string(1 << 16) != detail::params_text(m.params)) in.fail("snapshot of other parameters");
  SnapshotMark mark;
  mark.state_id = in.value<std::uint64_t>();
  mark.documents = in.value<std::uint64_t>();
  mark.removals = in.value<std::uint64_t>();
  m.counted = in.value<std::uint64_t>();
  if (version >= 4) {
    for (std::size_t& n : m.counted_in) n = in.value<std::uint64_t>();
  } else if (m.params.idf_by_language) {
    in.fail("a snapshot from before document frequencies per language, of parameters that count them");
  }
  m.duplicates = in.value<std::uint64_t>();
  m.boilerplate_counted = version == 1 ? 0 : in.value<std::uint64_t>();
  const auto found = version == 1 ? 0 : in.value<std::uint64_t>();
  if (found > in.remaining() / 8) in.fail("boilerplate larger than the file");
  m.boilerplate_found.resize(found);
  in.bytes(m.boilerplate_found.data(), found * sizeof(std::uint64_t));
  const auto counts = version == 1 ? 0 : in.value<std::uint64_t>();
  if (counts > in.remaining() / 12) in.fail("boilerplate counts larger than the file");
  m.boilerplate_counts.reserve(counts);
  for (std::uint64_t i = 0; i < counts; ++i) {
    const auto shingle = in.value<std::uint64_t>();
    m.boilerplate_counts[shingle] = in.value<std::uint32_t>();
  }
  m.rebuild_filter();
  m.dedup.read_slots(in);
  // The id map and LSH tables are built while the rest is read.
  tbb::task_group indexing;
  indexing.run([&m] { m.dedup.index_slots(); });
  try {
    m.read_clusters(in, version);
  } catch (...) {
    try {
      indexing.wait();
    } catch (...) {
    }
    throw;
  }
  indexing.wait();
  in.finish();
  return mark;
}

void FeedEngine::reserve(std::size_t documents) {
  impl_->dedup.reserve(documents);
  impl_->slots.reserve(documents);
}

bool FeedEngine::remove(std::string_view id, const SparseVector& vector) {
  Impl& m = *impl_;
  const auto doc = m.dedup.find(id);
  if (!doc) return false;
  m.remove_story_side(m.slots[*doc].story, vector);
  m.remove_duplicate_side(*doc);
  return true;
}

std::optional<std::pair<Assignment, std::uint64_t>> FeedEngine::find(std::string_view id) const {
  const auto doc = impl_->dedup.find(id);
  if (!doc) return std::nullopt;
  return std::pair{impl_->assignment_of(*doc), impl_->slots[*doc].content_hash};
}

std::optional<ClusterSummary> FeedEngine::story(std::uint32_t number) const {
  const Impl& m = *impl_;
  if (number == 0 || number > m.stories.size()) return std::nullopt;
  const Story& s = m.stories[number - 1];
  ClusterSummary out = m.summarize(s.centroid);
  out.number = number;
  out.thread = s.thread;
  out.size = out.documents = s.size;
  out.first = s.first;
  out.last = s.last;
  out.representative = m.dedup.id(s.representative);
  return out;
}

std::optional<ClusterSummary> FeedEngine::thread(std::uint32_t number) const {
  const Impl& m = *impl_;
  if (number == 0 || number > m.threads.size()) return std::nullopt;
  const Thread& t = m.threads[number - 1];
  ClusterSummary out = m.summarize(t.centroid);
  out.number = number;
  out.thread = number;
  out.size = static_cast<std::uint32_t>(t.stories.size());
  out.documents = t.documents;
  out.first = t.first;
  out.last = t.last;
  out.stories = t.stories;
  // Stories in order of first date (undated last), ties by number.
  std::stable_sort(out.stories.begin(), out.stories.end(), [&](std::uint32_t a, std::uint32_t b) {
    const auto fa = static_cast<std::uint32_t>(m.stories[a - 1].first);
    const auto fb = static_cast<std::uint32_t>(m.stories[b - 1].first);
    return (fa ^ 0x80000000u) < (fb ^ 0x80000000u);
  });
  if (!out.stories.empty())
    out.representative = m.dedup.id(m.stories[out.stories.front() - 1].representative);
  // The chain of merges to the thread that holds the stories now (each link points at a thread that
  // held documents when it was made, so the chain ends; bounded all the same).
  for (std::uint32_t next = t.merged_into, steps = 0; next != 0 && steps < m.threads.size(); ++steps) {
    out.merged_into = next;
    next = m.threads[next - 1].merged_into;
  }
  return out;
}

std::vector<ClusterSummary> FeedEngine::stories_since(std::int32_t since, std::size_t limit) const {
  const Impl& m = *impl_;
  std::vector<std::uint32_t> picked;
  for (std::uint32_t i = 0; i < m.stories.size(); ++i) {
    const Story& s = m.stories[i];
    if (s.size > 0 && s.last != kNoDate && s.last >= since) picked.push_back(i + 1);
  }
  std::sort(picked.begin(), picked.end(), [&](std::uint32_t a, std::uint32_t b) {
    const Story &sa = m.stories[a - 1], &sb = m.stories[b - 1];
    return sa.last != sb.last ? sa.last > sb.last : a > b;
  });
  if (picked.size() > limit) picked.resize(limit);
  std::vector<ClusterSummary> out;
  for (const std::uint32_t n : picked) out.push_back(*story(n));
  return out;
}

std::size_t FeedEngine::documents() const { return impl_->dedup.size(); }
std::size_t FeedEngine::slots() const { return impl_->slots.size(); }
std::size_t FeedEngine::duplicates() const { return impl_->duplicates; }
std::size_t FeedEngine::stories() const { return impl_->stories.size(); }
std::size_t FeedEngine::threads() const { return impl_->threads.size(); }
std::size_t FeedEngine::boilerplate() const { return impl_->boilerplate_found.size(); }
std::size_t FeedEngine::boilerplate_counted() const { return impl_->boilerplate_counted; }

}  // namespace storyline
