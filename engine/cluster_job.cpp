#include "storyline/cluster_job.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <functional>
#include <optional>
#include <span>
#include <unordered_map>

#include "detail/corpus.hpp"
#include "detail/json_out.hpp"
#include "detail/scratch_file.hpp"
#include "detail/term_store.hpp"
#include "detail/time_blocks.hpp"
#include "storyline/dedup.hpp"
#include "storyline/error.hpp"
#include "storyline/language.hpp"
#include "storyline/metrics.hpp"
#include "storyline/report.hpp"

namespace storyline {
namespace {

using RowMatrix = Eigen::SparseMatrix<float, Eigen::RowMajor>;
using Names = std::unordered_map<std::uint64_t, std::string>;
using ReportLanguage = ClusterJobReport::LanguageCount;

// What clustering keeps of each document beyond the dedup fields.
struct ClusterDocs {
  detail::TermStore terms;
  std::vector<std::string> titles;
  std::vector<Language> languages;
};

// The first and last date of a set of documents, and its top terms, for the summaries.
struct Summary {
  std::int32_t first = kNoDate, last = kNoDate;
  std::size_t size = 0;
  void add_date(std::int32_t d) {
    if (d == kNoDate) return;
    first = first == kNoDate ? d : std::min(first, d);
    last = last == kNoDate ? d : std::max(last, d);
  }
};

// The top terms (10) and entities (6) of one centroid row, heaviest first.
struct TopTerms {
  std::vector<std::string> terms, entities;
};
TopTerms top_terms(const RowMatrix& m, Eigen::Index row, std::span<const std::uint64_t> term_hash,
                   const Names& names) {
  std::vector<std::pair<float, std::uint64_t>> weighted;
  for (RowMatrix::InnerIterator it(m, row); it; ++it)
    weighted.emplace_back(it.value(), term_hash[static_cast<std::size_t>(it.index())]);
  std::sort(weighted.begin(), weighted.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  TopTerms top;
  for (const auto& [w, hash] : weighted) {
    const bool entity = is_entity_term(hash);
    std::vector<std::string>& list = entity ? top.entities : top.terms;
    if (list.size() == (entity ? 6u : 10u)) continue;
    const auto it = names.find(hash);
    if (it == names.end()) continue;
    list.emplace_back(entity ? std::string_view(it->second).substr(1) : std::string_view(it->second));
  }
  return top;
}

// "top_terms":[...],"top_entities":[...] from one centroid row.
void append_top_terms(std::string& out, const RowMatrix& m, Eigen::Index row,
                      std::span<const std::uint64_t> term_hash, const Names& names) {
  const TopTerms top = top_terms(m, row, term_hash, names);
  for (const bool entities : {false, true}) {
    out += entities ? ",\"top_entities\":[" : ",\"top_terms\":[";
    const std::vector<std::string>& list = entities ? top.entities : top.terms;
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (i > 0) out += ",";
      detail::append_json_string(out, list[i]);
    }
    out += "]";
  }
}

// Scales entity columns by entity_boost and the bridge's pivot words by pivot_boost, its names by
// name_boost, and L2-normalises the rows again.
void boost_entities(RowMatrix& rows, std::span<const std::uint64_t> term_hash, float entity_boost,
                    float pivot_boost, float name_boost) {
  for (Eigen::Index r = 0; r < rows.rows(); ++r) {
    for (RowMatrix::InnerIterator it(rows, r); it; ++it) {
      const std::uint64_t hash = term_hash[static_cast<std::size_t>(it.index())];
      const bool entity = is_entity_term(hash);
      it.valueRef() *= is_bridge_term(hash) ? (entity ? name_boost : pivot_boost)
                       : entity             ? entity_boost
                                            : 1.0f;
    }
  }
  normalize_rows(rows);
}

// With name_share > 0: each row's names (entities, names' pivots and keys) scaled to norm
// sqrt(name_share) and its words to sqrt(1 - name_share), so that the cosine of two rows is
// name_share x the cosine of their names plus the rest x that of their words, however many names a
// story has. A row with no names (or no words) keeps norm 1 in the part it has.
void share_names(RowMatrix& rows, std::span<const std::uint64_t> term_hash, float name_share) {
  if (name_share <= 0.0f) return;
  for (Eigen::Index r = 0; r < rows.rows(); ++r) {
    double norm[2] = {0.0, 0.0};
    for (RowMatrix::InnerIterator it(rows, r); it; ++it)
      norm[is_entity_term(term_hash[static_cast<std::size_t>(it.index())]) ? 1 : 0] +=
          static_cast<double>(it.value()) * it.value();
    if (norm[0] <= 0.0 || norm[1] <= 0.0) continue;
    const float scale[2] = {static_cast<float>(std::sqrt((1.0 - name_share) / norm[0])),
                            static_cast<float>(std::sqrt(name_share / norm[1]))};
    for (RowMatrix::InnerIterator it(rows, r); it; ++it)
      it.valueRef() *= scale[is_entity_term(term_hash[static_cast<std::size_t>(it.index())]) ? 1 : 0];
  }
}

// Each cluster's member row closest to its centroid (the first row on ties). A centroid is scattered
// into a dense row once and each member costs its own entries (the products are added in the member's
// column order, as a sparse lookup per entry would add them).
std::vector<DocIndex> closest_members(const RowMatrix& rows, std::span<const std::uint32_t> label,
                                      const RowMatrix& centroids) {
  const auto clusters = static_cast<std::size_t>(centroids.rows());
  std::vector<std::size_t> offsets(clusters + 1, 0);
  for (const std::uint32_t c : label) ++offsets[c + 1];
  for (std::size_t c = 1; c <= clusters; ++c) offsets[c] += offsets[c - 1];
  std::vector<DocIndex> members(label.size());
  {
    std::vector<std::size_t> fill(offsets.begin(), offsets.end() - 1);
    for (std::size_t r = 0; r < label.size(); ++r) members[fill[label[r]]++] = static_cast<DocIndex>(r);
  }
  std::vector<DocIndex> closest(clusters, 0);
  tbb::enumerable_thread_specific<std::vector<float>> dense_rows(
      [&] { return std::vector<float>(static_cast<std::size_t>(centroids.cols()), 0.0f); });
  tbb::parallel_for(std::size_t{0}, clusters, [&](std::size_t c) {
    std::vector<float>& dense = dense_rows.local();
    const auto row = static_cast<Eigen::Index>(c);
    for (RowMatrix::InnerIterator it(centroids, row); it; ++it)
      dense[static_cast<std::size_t>(it.index())] = it.value();
    float best = -1.0f;
    for (std::size_t m = offsets[c]; m < offsets[c + 1]; ++m) {
      float sim = 0.0f;
      for (RowMatrix::InnerIterator it(rows, members[m]); it; ++it)
        sim += it.value() * dense[static_cast<std::size_t>(it.index())];
      if (sim > best) best = sim, closest[c] = members[m];
    }
    for (RowMatrix::InnerIterator it(centroids, row); it; ++it)
      dense[static_cast<std::size_t>(it.index())] = 0.0f;
  });
  return closest;
}

// Story centroids: per story the normalised sum of its members' TF-IDF rows (with the bridge), which
// threads are linked from; its columns' terms; and per story its member closest to the centroid.
struct StoryVectors {
  RowMatrix rows;
  std::vector<std::uint64_t> term_hash;
  std::vector<DocIndex> closest;  ///< member row (representative) per story, when asked for
};

// The rows of the members of consecutive stories, at most block_rows at a time (one story at least),
// summed into their centroids: the documents' rows of the whole corpus are never held at once. Each
// centroid is the one centroids() gives over all rows (members are summed in row order, each shared
// column is the same column; a block's own columns are numbered after the blocks before it).
StoryVectors story_vectors(const TfidfColumns& columns, std::span<const std::uint32_t> story,
                           std::size_t stories, const std::function<void(std::size_t, TermCounts&)>& terms_of,
                           std::uint32_t max_terms, std::size_t block_rows, bool closest,
                           const std::function<void()>& done_with_terms) {
  std::vector<std::uint32_t> offsets(stories + 1, 0);
  for (const std::uint32_t s : story) ++offsets[s + 1];
  for (std::size_t s = 1; s <= stories; ++s) offsets[s] += offsets[s - 1];
  std::vector<std::uint32_t> members(story.size());
  {
    std::vector<std::uint32_t> fill(offsets.begin(), offsets.end() - 1);
    for (std::size_t r = 0; r < story.size(); ++r) members[fill[story[r]]++] = static_cast<std::uint32_t>(r);
  }
  StoryVectors out;
  if (closest) out.closest.assign(stories, 0);
  const std::size_t shared = columns.term_hash.size();
  // Own columns are numbered as one matrix of all the rows numbers them, in row order (a part numbers
  // its own in its row order): sums of centroids add their entries in column order, and rounding
  // follows the order.
  std::vector<std::uint8_t> own_kinds(story.size(), 0);  // row -> bit 0: own words, bit 1: own entities
  // Each part's centroids wait in a file until all are summed: the whole matrix is then allocated
  // once, not while the parts are held (at 10M documents each is GBs).
  detail::ScratchFile parts("the story centroids");
  struct Part {
    std::size_t first_story, stories;
    std::uint64_t at;  // offset of its row sizes, columns and values in the file
    Eigen::Index nonzeros;
  };
  std::vector<Part> part_list;
  std::vector<std::vector<std::pair<std::uint32_t, std::uint8_t>>> part_own;  // own column -> row, which
  for (std::size_t first = 0; first < stories;) {
    std::size_t last = first + 1;
    while (last < stories && offsets[last + 1] - offsets[first] <= block_rows) ++last;
    const std::span<const std::uint32_t> block(members.data() + offsets[first],
                                               offsets[last] - offsets[first]);
    TfidfMatrix m = tfidf_rows(columns, block, terms_of);
    std::vector<std::uint32_t> label(block.size());
    for (std::size_t s = first; s < last; ++s)
      std::fill(label.begin() + (offsets[s] - offsets[first]),
                label.begin() + (offsets[s + 1] - offsets[first]), static_cast<std::uint32_t>(s - first));
    auto& own = part_own.emplace_back(m.term_hash.size() - shared);
    for (std::size_t k = 0; k < block.size(); ++k) {
      std::uint8_t which = 0;
      for (RowMatrix::InnerIterator it(m.rows, static_cast<Eigen::Index>(k)); it; ++it) {
        const auto c = static_cast<std::size_t>(it.index());
        if (c < shared) continue;
        own[c - shared] = {block[k], which++};
        own_kinds[block[k]] |= m.term_hash[c] == kOwnEntities ? 2 : 1;
      }
    }
    RowMatrix sums = centroids(m.rows, label, last - first, max_terms);
    if (closest) {
      const std::vector<DocIndex> near = closest_members(m.rows, label, sums);
      for (std::size_t s = first; s < last; ++s) out.closest[s] = block[near[s - first]];
    }
    std::vector<int> sizes(static_cast<std::size_t>(sums.rows()));
    for (Eigen::Index r = 0; r < sums.rows(); ++r)
      sizes[static_cast<std::size_t>(r)] = sums.outerIndexPtr()[r + 1] - sums.outerIndexPtr()[r];
    const std::uint64_t at = parts.append(std::span<const int>(sizes));
    parts.append(std::span<const int>(sums.innerIndexPtr(), static_cast<std::size_t>(sums.nonZeros())));
    parts.append(std::span<const float>(sums.valuePtr(), static_cast<std::size_t>(sums.nonZeros())));
    part_list.push_back({first, last - first, at, sums.nonZeros()});
    first = last;
  }
  std::vector<std::uint32_t> own_at(story.size() + 1, 0);  // row -> its first own column - shared
  out.term_hash = columns.term_hash;
  for (std::size_t r = 0; r < story.size(); ++r) {
    const std::uint8_t kinds = own_kinds[r];
    if ((kinds & 1) != 0) out.term_hash.push_back(kOwnWords);
    if ((kinds & 2) != 0) out.term_hash.push_back(kOwnEntities);
    own_at[r + 1] = own_at[r] + ((kinds & 1) != 0 ? 1 : 0) + ((kinds & 2) != 0 ? 1 : 0);
  }
  if (done_with_terms) done_with_terms();
  std::int64_t nonzeros = 0;
  for (const Part& p : part_list) nonzeros += p.nonzeros;
  STORYLINE_CHECK_ARG(nonzeros <= INT32_MAX,
                      "more than 2^31 story centroid entries: cap them (max_story_terms) or split the input");
  out.rows.resize(static_cast<Eigen::Index>(stories), static_cast<Eigen::Index>(out.term_hash.size()));
  out.rows.makeCompressed();
  out.rows.resizeNonZeros(static_cast<Eigen::Index>(nonzeros));
  int* const outer = out.rows.outerIndexPtr();
  outer[0] = 0;
  int at = 0;
  for (std::size_t p = 0; p < part_list.size(); ++p) {
    const Part& part = part_list[p];
    const std::size_t count = static_cast<std::size_t>(part.nonzeros);
    std::vector<int> sizes(part.stories);
    parts.read(part.at, std::span<int>(sizes));
    std::uint64_t offset = part.at + sizes.size() * sizeof(int);
    int* const inner = out.rows.innerIndexPtr() + at;
    parts.read(offset, std::span<int>(inner, count));
    parts.read(offset + count * sizeof(int), std::span<float>(out.rows.valuePtr() + at, count));
    for (std::size_t k = 0; k < count; ++k) {
      if (static_cast<std::size_t>(inner[k]) < shared) continue;
      const auto [row, which] = part_own[p][static_cast<std::size_t>(inner[k]) - shared];
      inner[k] = static_cast<int>(shared + own_at[row] + which);
    }
    for (std::size_t s = 0; s < part.stories; ++s) {
      at += sizes[s];
      outer[part.first_story + s + 1] = at;
    }
  }
  return out;
}

// A copy of a matrix to restore once (restore): in memory when it is small, in an unnamed temporary
// file otherwise (above spill_above bytes; 0: always), so that a changed matrix and its original are
// not both held.
class MatrixCopy {
 public:
  MatrixCopy(const RowMatrix& m, std::size_t spill_above) : rows_(m.rows()), cols_(m.cols()) {
    const std::size_t bytes = static_cast<std::size_t>(m.nonZeros()) * 8;
    if (spill_above > 0 && bytes <= spill_above) {
      held_ = m;
      return;
    }
    file_.emplace("the story centroids");
    nonzeros_ = m.nonZeros();
    file_->append(std::span<const int>(m.outerIndexPtr(), static_cast<std::size_t>(rows_) + 1));
    file_->append(std::span<const int>(m.innerIndexPtr(), static_cast<std::size_t>(nonzeros_)));
    file_->append(std::span<const float>(m.valuePtr(), static_cast<std::size_t>(nonzeros_)));
  }
  // Into m, which is replaced (m empty: its old contents are not held meanwhile).
  void restore(RowMatrix& m) {
    if (!file_) {
      m.swap(held_);
      return;
    }
    m.resize(rows_, cols_);
    m.makeCompressed();
    m.resizeNonZeros(nonzeros_);
    const auto rows = static_cast<std::size_t>(rows_), nonzeros = static_cast<std::size_t>(nonzeros_);
    file_->read(0, std::span<int>(m.outerIndexPtr(), rows + 1));
    file_->read((rows + 1) * sizeof(int), std::span<int>(m.innerIndexPtr(), nonzeros));
    file_->read((rows + 1 + nonzeros) * sizeof(int), std::span<float>(m.valuePtr(), nonzeros));
  }

 private:
  Eigen::Index rows_, cols_, nonzeros_ = 0;
  RowMatrix held_;
  std::optional<detail::ScratchFile> file_;
};

// The undated story threshold of each row: story_threshold plus the background of the row's language
// (the median rank similarity of that language's undated rows), or of the whole corpus for a language
// with fewer undated rows than the rank (its rank-th neighbour would be in another language). Fills
// report.language_backgrounds.
std::vector<float> language_thresholds(std::span<const float> rank_similarity,
                                       std::span<const std::uint8_t> undated,
                                       std::span<const DocIndex> rep_doc, std::span<const Language> languages,
                                       std::uint32_t rank, float story_threshold, ClusterJobReport& report) {
  std::array<std::vector<float>, kLanguageCount> values;  // the undated rows' rank similarities
  for (std::size_t r = 0; r < rank_similarity.size(); ++r) {
    if (undated[r] != 0)
      values[static_cast<std::size_t>(languages[rep_doc[r]])].push_back(rank_similarity[r]);
  }
  std::array<float, kLanguageCount> background{};
  for (std::size_t l = 0; l < kLanguageCount; ++l) {
    const bool own = values[l].size() >= rank && Language(l) != Language::kUnknown;
    background[l] = own ? background_similarity(values[l]) : report.background;
    if (!values[l].empty())
      report.language_backgrounds.push_back({Language(l), values[l].size(), background[l]});
  }
  std::vector<float> threshold(rank_similarity.size());
  for (std::size_t r = 0; r < threshold.size(); ++r)
    threshold[r] =
        undated_story_threshold(story_threshold, background[static_cast<std::size_t>(languages[rep_doc[r]])]);
  return threshold;
}

}  // namespace

// The run's figures for the report: input, rejects by reason, what was found, languages, phases, and
// with gold labels the scores of stories and threads.
// The gold labels of the report's scores: stories, then threads; read before the run so that a bad
// gold file stops it before the work, not after.
using GoldLabels = std::vector<std::pair<std::string, LabeledIds>>;
GoldLabels read_gold(const ClusterJobOptions& options) {
  GoldLabels gold;
  if (options.report_path.empty() || options.gold_path.empty()) return gold;
  gold.emplace_back("stories against gold \"" + options.gold_story_field + "\"",
                    read_labels(options.gold_path, "id", options.gold_story_field));
  gold.emplace_back("threads against gold \"" + options.gold_thread_field + "\"",
                    read_labels(options.gold_path, "id", options.gold_thread_field));
  return gold;
}

void report_figures(ReportData& data, const ClusterJobReport& report, const GoldLabels& gold_labels,
                    const std::vector<std::string>& input_names, const std::vector<std::string>& ids,
                    const std::vector<std::uint32_t>& story, const std::vector<std::uint32_t>& thread,
                    const std::vector<DocIndex>& rep_index) {
  auto& f = data.figures;
  data.summary = group_digits(report.ingest.documents) + " documents (" + group_digits(report.duplicates) +
                 " near-duplicates folded) in " + group_digits(report.stories) + " stories and " +
                 group_digits(report.threads) + " threads";
  std::string inputs;
  for (const std::string& name : input_names) inputs += (inputs.empty() ? "" : ", ") + name;
  f.emplace_back("input", inputs);
  f.emplace_back("lines read", group_digits(report.ingest.lines));
  f.emplace_back("documents", group_digits(report.ingest.documents));
  f.emplace_back("megabytes read", std::to_string(report.ingest.bytes / 1000000));
  f.emplace_back("rejected lines", group_digits(report.ingest.rejected()));
  for (std::size_t i = 0; i < report.ingest.issues.size(); ++i) {
    if (report.ingest.issues[i] == 0) continue;
    const Issue issue = static_cast<Issue>(i);
    f.emplace_back(
        std::string(is_rejecting(issue) ? "  rejected: " : "  repaired: ") + std::string(issue_name(issue)),
        group_digits(report.ingest.issues[i]));
  }
  f.emplace_back("near-duplicates folded", group_digits(report.duplicates));
  f.emplace_back("duplicate groups", group_digits(data.total_duplicate_groups));
  f.emplace_back("stories", group_digits(report.stories));
  f.emplace_back("threads", group_digits(report.threads));
  for (const ReportLanguage& l : report.languages) {
    f.emplace_back("language " + std::string(language_name(l.language)),
                   group_digits(l.documents) + " documents, " + group_digits(l.threads) + " threads");
  }
  f.emplace_back("threads in two or more languages", group_digits(report.cross_language_threads));
  for (const auto& [phase, seconds] : report.phases) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f s", seconds);
    f.emplace_back("time: " + phase, text);
  }
  if (gold_labels.empty()) return;
  std::unordered_map<std::string_view, std::size_t> index;
  for (std::size_t d = 0; d < ids.size(); ++d) index.emplace(ids[d], d);
  for (std::size_t level = 0; level < gold_labels.size(); ++level) {
    const LabeledIds& labels = gold_labels[level].second;
    std::unordered_map<std::string, std::uint32_t> dense;
    std::vector<std::uint32_t> gold, pred;
    for (std::size_t i = 0; i < labels.ids.size(); ++i) {
      const auto it = index.find(labels.ids[i]);
      if (it == index.end()) continue;
      gold.push_back(dense.emplace(labels.labels[i], static_cast<std::uint32_t>(dense.size())).first->second);
      const std::uint32_t s = story[rep_index[it->second]];
      pred.push_back(level == 0 ? s : thread[s]);
    }
    if (gold.empty()) continue;
    const ClusteringScores scores = score_clustering(gold, pred);
    char text[160];
    std::snprintf(text, sizeof text,
                  "B-cubed P %.4f R %.4f F1 %.4f; pairwise P %.4f R %.4f F1 %.4f (%zu documents)",
                  scores.bcubed_precision, scores.bcubed_recall, scores.bcubed_f1, scores.pairwise_precision,
                  scores.pairwise_recall, scores.pairwise_f1, gold.size());
    f.emplace_back(gold_labels[level].first, text);
  }
}

ClusterJobReport run_cluster_job(const ClusterJobOptions& options, JobObserver* observer) {
  const auto start = std::chrono::steady_clock::now();
  ClusterJobReport report;
  detail::PhaseClock clock(report.phases, &report.phase_peak_mb);
  const FingerprintScheme scheme(options.dedup);
  const detail::NamedOutput outputs[] = {{"--output", options.annotated_path},
                                         {"--stories", options.stories_path},
                                         {"--threads", options.threads_path},
                                         {"--rejects", options.rejects_path}};
  const detail::PreparedInputs inputs(options.inputs, outputs);
  const GoldLabels gold = read_gold(options);
  detail::RejectsWriter rejects(options.rejects_path);
  detail::CorpusSink docs(scheme, 0, rejects, observer);
  ClusterDocs extra;
  tbb::enumerable_thread_specific<TermExtractor> extractors(
      [&] { return TermExtractor(options.cluster.tfidf); });
  struct LocalNames {
    TermCounts terms;    // one document's, refilled
    TermNames document;  // one document's, refilled
    Names all;           // every term this thread saw, its first spelling
  };
  tbb::enumerable_thread_specific<LocalNames> local_names;
  docs.extra_reserve = [&](std::size_t first, std::size_t count) {
    extra.terms.resize(first + count);
    extra.titles.resize(first + count);
    extra.languages.resize(first + count);
  };
  docs.extra = [&](const Document& doc, std::size_t slot) {
    LocalNames& local = local_names.local();
    extra.languages[slot] = guess_language(doc.text.empty() ? doc.title : doc.text);
    extractors.local().extract(doc, local.terms, &local.document, extra.languages[slot]);
    extra.terms.put(slot, local.terms);
    local.document.for_each([&](std::uint64_t term, std::string_view name) {
      if (!local.all.contains(term)) local.all.emplace(term, name);
    });
    extra.titles[slot] = doc.title.empty() ? doc.text.substr(0, 120) : doc.title;
  };
  IngestParams ingest_params = options.ingest;
  ingest_params.require_text = false;
  report.ingest = ingest(inputs.paths, ingest_params, docs, inputs.names);
  rejects.close();
  Names names;
  for (auto& part : local_names) {
    for (auto& [hash, name] : part.all) {
      auto [it, inserted] = names.emplace(hash, name);
      if (!inserted && name < it->second) it->second = name;  // same term, other spelling: pick one
    }
  }

  clock.lap("read");

  // Near-duplicates enter clustering once, through their representative.
  if (observer != nullptr) observer->progress("dedup", report.ingest);
  const DuplicateGroups groups = find_duplicate_groups(scheme, docs.dedup_input(0));
  std::vector<std::uint32_t>().swap(docs.fingerprints);  // what grouping needed
  std::vector<std::vector<std::uint64_t>>().swap(docs.sets);
  const std::size_t n = docs.ids.size();
  std::vector<DocIndex> rep_index(n, 0);  // document -> row of its representative
  std::vector<std::int32_t> rep_dates;
  std::vector<DocIndex> rep_doc;
  for (std::size_t d = 0; d < n; ++d) {
    if (groups.representative[d] != d) continue;
    rep_index[d] = static_cast<DocIndex>(rep_doc.size());
    rep_doc.push_back(static_cast<DocIndex>(d));
    rep_dates.push_back(docs.info[d].date);
  }
  for (std::size_t d = 0; d < n; ++d) rep_index[d] = rep_index[groups.representative[d]];
  report.duplicates = n - rep_doc.size();
  extra.terms.keep(rep_doc);  // slot r: the terms of representative r
  clock.lap("dedup");

  if (observer != nullptr) observer->progress("stories", report.ingest);
  // Stories are events told in one language's words: their rows leave the bridge out (its translations
  // and name keys blur events that names keep apart: on ecbplus they cost 0.013 B-cubed); threads use it.
  // Rows are built from the stored terms where they are needed: a time block's for its stories, a block
  // of stories' for their centroids.
  const auto rep_terms = [&](std::size_t r, TermCounts& out) { extra.terms.get(r, out); };
  TfidfShape shape;
  shape.max_row_terms = options.cluster.max_row_terms;
  shape.without_bridge = true;
  const TfidfColumns story_columns = tfidf_columns(rep_doc.size(), rep_terms, options.cluster.tfidf, shape);
  const bool windowed = options.cluster.story_neighbors.window_days >= 0;
  const detail::TimeBlocks blocks = detail::time_blocks(rep_dates, options.time_block_documents,
                                                        options.cluster.story_neighbors.window_days);
  report.time_blocks = blocks.rows.size();
  std::vector<std::vector<std::uint32_t>> block_story(blocks.rows.size());
  std::size_t reported_block = 0;  // rows of the block whose backgrounds the report gives
  for (std::size_t b = 0; b < blocks.rows.size(); ++b) {
    const std::vector<std::uint32_t>& block = blocks.rows[b];
    TfidfMatrix block_vectors = tfidf_rows(story_columns, block, rep_terms);
    const RowMatrix& story_input = block_vectors.rows;
    // One block: the terms wait on disk while the graph and the linkage need the memory. Blocks need
    // them again, and bound that memory by a block instead.
    if (blocks.rows.size() == 1 &&
        (extra.terms.bytes() > options.spill_terms_above || options.spill_terms_above == 0))
      extra.terms.spill();
    clock.lap("story vectors");
    std::vector<std::int32_t> dates(block.size());
    std::vector<DocIndex> docs_of(block.size());
    for (std::size_t k = 0; k < block.size(); ++k)
      dates[k] = rep_dates[block[k]], docs_of[k] = rep_doc[block[k]];
    const std::uint32_t rank = options.cluster.background_rank;
    std::vector<float> rank_similarity;
    std::vector<Edge> story_edges = neighbor_graph(story_input, dates, options.cluster.story_neighbors, rank,
                                                   rank > 0 ? &rank_similarity : nullptr);
    report.edges += story_edges.size();
    clock.lap("story graph");
    std::vector<std::uint8_t> dated(dates.size());
    for (std::size_t r = 0; r < dated.size(); ++r) dated[r] = dates[r] != kNoDate ? 1 : 0;
    std::vector<float> row_threshold;
    ClusterJobReport backgrounds;
    if (rank > 0) {
      // The background of the rows that merge at the undated threshold: all rows without a window.
      std::vector<std::uint8_t> undated(dated.size(), 1);
      if (windowed) {
        for (std::size_t r = 0; r < dated.size(); ++r) undated[r] = dated[r] == 0 ? 1 : 0;
      }
      backgrounds.background = background_similarity(rank_similarity, undated);
      if (options.cluster.background_per_language) {
        row_threshold = language_thresholds(rank_similarity, undated, docs_of, extra.languages, rank,
                                            options.cluster.story_threshold, backgrounds);
      }
    }
    if (block.size() > reported_block) {
      reported_block = block.size();
      report.background = backgrounds.background;
      report.language_backgrounds = std::move(backgrounds.language_backgrounds);
    }
    block_story[b] =
        average_linkage(story_input, story_edges,
                        undated_story_threshold(options.cluster.story_threshold, backgrounds.background),
                        windowed ? std::span<const std::uint8_t>(dated) : std::span<const std::uint8_t>(),
                        options.cluster.dated_story_threshold, row_threshold);
    clock.lap("stories");
  }
  const std::vector<std::uint32_t> story = detail::stitch_blocks(blocks, block_story);
  std::vector<std::vector<std::uint32_t>>().swap(block_story);
  const std::size_t stories = rep_doc.empty() ? 0 : *std::max_element(story.begin(), story.end()) + 1;
  shape.without_bridge = false;
  shape.max_row_terms = 0;  // threads are linked from every term of their stories (see ClusterParams)
  const TfidfColumns columns = tfidf_columns(rep_doc.size(), rep_terms, options.cluster.tfidf, shape);
  report.terms = columns.term_hash.size();
  // Each story's member closest to its centroid, its representative (for the summaries).
  const bool want_representatives = !options.stories_path.empty() || !options.report_path.empty();
  StoryVectors vectors =
      story_vectors(columns, story, stories, rep_terms, options.cluster.max_story_terms,
                    options.centroid_block_documents, want_representatives, [&] { extra.terms.clear(); });
  std::vector<DocIndex>& story_rep = vectors.closest;
  for (DocIndex& r : story_rep) r = rep_doc[r];
  RowMatrix& story_rows = vectors.rows;
  clock.lap("thread vectors");

  if (observer != nullptr) observer->progress("threads", report.ingest);
  // The names of stories told in several languages, for joining their threads (below).
  std::vector<std::uint8_t> story_language;
  std::vector<std::uint32_t> story_documents;
  RowMatrix name_rows;
  if (options.cluster.thread_language_threshold > 0.0f && stories > 0) {
    std::vector<std::array<std::uint32_t, kLanguageCount>> story_languages(stories);
    for (std::size_t d = 0; d < n; ++d)
      ++story_languages[story[rep_index[d]]][static_cast<std::size_t>(extra.languages[d])];
    story_language.resize(stories);
    story_documents.resize(stories);
    std::uint32_t present = 0;
    for (std::size_t s = 0; s < stories; ++s) {
      const auto& c = story_languages[s];
      story_language[s] = static_cast<std::uint8_t>(std::max_element(c.begin(), c.end()) - c.begin());
      for (const std::uint32_t k : c) story_documents[s] += k;
      present |= 1u << story_language[s];
    }
    if ((present & (present - 1)) != 0) {  // two or more languages
      name_rows = story_rows;
      name_rows.prune([&](Eigen::Index, Eigen::Index c, float) {
        const std::uint64_t hash = vectors.term_hash[static_cast<std::size_t>(c)];
        return is_bridge_term(hash) && is_entity_term(hash);
      });
    }
  }
  // Threads are linked from the centroids boosted in place; the centroids as they are (for the
  // summaries' terms and the threads' centroids) wait on disk meanwhile when they are large.
  MatrixCopy story_copy(story_rows, options.spill_terms_above);
  boost_entities(story_rows, vectors.term_hash, options.cluster.thread_entity_boost,
                 options.cluster.thread_pivot_boost, options.cluster.thread_name_boost);
  share_names(story_rows, vectors.term_hash, options.cluster.thread_name_share);
  std::vector<std::uint32_t> thread;
  {
    const RowMatrix& thread_input = story_rows;
    const std::vector<Edge> thread_edges = neighbor_graph(thread_input, {}, options.cluster.thread_neighbors);
    thread = average_linkage(thread_input, thread_edges, options.cluster.thread_threshold);
    join_small_clusters(thread_input, thread, options.cluster.thread_min_stories,
                        options.cluster.thread_join_threshold, options.cluster.thread_neighbors);
    refine_clusters(thread_input, thread_edges, thread, options.cluster.thread_refine_rounds);
  }
  if (name_rows.rows() > 0) {
    // One storyline told in several languages: its threads join when their names agree.
    report.language_joins =
        join_across_languages(name_rows, story_language, story_documents, thread,
                              options.cluster.thread_language_threshold, options.cluster.thread_neighbors);
  }
  RowMatrix().swap(name_rows);   // (Eigen 3.4's sparse matrices have no move: assigning copies, and an
  RowMatrix().swap(story_rows);  // empty one assigned keeps the old one's memory)
  story_copy.restore(story_rows);
  const std::size_t threads = stories == 0 ? 0 : *std::max_element(thread.begin(), thread.end()) + 1;
  const RowMatrix thread_rows = centroids(story_rows, thread, threads);
  report.stories = stories;
  report.threads = threads;
  clock.lap("threads");

  // Summaries: sizes, spans, and each story's member closest to its centroid as its representative.
  std::vector<Summary> story_summary(stories), thread_summary(threads);
  std::vector<std::array<std::uint32_t, kLanguageCount>> thread_languages(threads);
  for (std::size_t d = 0; d < n; ++d)
    ++thread_languages[thread[story[rep_index[d]]]][static_cast<std::size_t>(extra.languages[d])];
  for (std::size_t l = 0; l < kLanguageCount; ++l) {
    ReportLanguage count{Language(l), 0, 0};
    for (const auto& t : thread_languages) count.documents += t[l], count.threads += t[l] > 0 ? 1 : 0;
    if (count.documents > 0) report.languages.push_back(count);
  }
  std::stable_sort(report.languages.begin(), report.languages.end(),
                   [](const auto& a, const auto& b) { return a.documents > b.documents; });
  for (const auto& t : thread_languages) {
    std::size_t found = 0;
    for (std::size_t l = 1; l < kLanguageCount; ++l) found += t[l] > 0 ? 1 : 0;  // unknown does not count
    report.cross_language_threads += found >= 2 ? 1 : 0;
  }
  for (std::size_t d = 0; d < n; ++d) {
    const std::uint32_t s = story[rep_index[d]];
    story_summary[s].add_date(docs.info[d].date);
    ++story_summary[s].size;
    thread_summary[thread[s]].add_date(docs.info[d].date);
    ++thread_summary[thread[s]].size;
  }
  // (Built with append: GCC 12 warns wrongly, -Wrestrict, on "s" + std::to_string(s).)
  const auto label_id = [](char prefix, std::size_t k) {
    std::string id(1, prefix);
    id.append(std::to_string(k));
    return id;
  };
  const auto story_id = [&](std::size_t s) { return label_id('s', s); };
  const auto thread_id = [&](std::size_t t) { return label_id('t', t); };

  if (observer != nullptr) observer->progress("write", report.ingest);
  if (!options.annotated_path.empty()) {
    detail::OutputFile out(options.annotated_path);
    std::string line_out, fields;
    detail::for_each_document_line(inputs.paths, options.ingest.max_line_bytes, docs.where,
                                   [&](std::size_t d, const std::string& line) {
                                     const DocIndex rep = groups.representative[d];
                                     const std::uint32_t s = story[rep_index[d]];
                                     fields.clear();
                                     detail::append_dup_fields(fields, docs.ids, d, rep);
                                     fields += ",\"story_id\":\"" + story_id(s) + "\",\"thread_id\":\"" +
                                               thread_id(thread[s]) + "\",\"language\":\"";
                                     fields += language_name(extra.languages[d]);
                                     fields += '"';
                                     line_out.clear();
                                     detail::append_annotated(line_out, line, fields);
                                     out.write(line_out);
                                   });
    out.close();
  }
  if (!options.stories_path.empty()) {
    detail::OutputFile out(options.stories_path);
    std::string line;
    for (std::size_t s = 0; s < stories; ++s) {
      line.assign("{\"story_id\":\"" + story_id(s) + "\",\"thread_id\":\"" + thread_id(thread[s]) +
                  "\",\"size\":" + std::to_string(story_summary[s].size));
      detail::append_date_field(line, "first_date", story_summary[s].first);
      detail::append_date_field(line, "last_date", story_summary[s].last);
      append_top_terms(line, story_rows, static_cast<Eigen::Index>(s), vectors.term_hash, names);
      line += ",\"representative\":{\"id\":";
      detail::append_json_string(line, docs.ids[story_rep[s]]);
      line += ",\"title\":";
      detail::append_json_string(line, extra.titles[story_rep[s]]);
      line += "}}\n";
      out.write(line);
    }
    out.close();
  }
  if (!options.threads_path.empty()) {
    std::vector<std::vector<std::uint32_t>> members(threads);
    for (std::size_t s = 0; s < stories; ++s) members[thread[s]].push_back(static_cast<std::uint32_t>(s));
    detail::OutputFile out(options.threads_path);
    std::string line;
    for (std::size_t t = 0; t < threads; ++t) {
      auto& list = members[t];
      std::stable_sort(list.begin(), list.end(), [&](std::uint32_t a, std::uint32_t b) {
        const auto key = [&](std::uint32_t s) {
          return story_summary[s].first == kNoDate ? INT64_MAX : std::int64_t{story_summary[s].first};
        };
        return key(a) < key(b);
      });
      line.assign("{\"thread_id\":\"" + thread_id(t) +
                  "\",\"size\":" + std::to_string(thread_summary[t].size) + ",\"stories\":[");
      for (std::size_t i = 0; i < list.size(); ++i) line += (i ? ",\"" : "\"") + story_id(list[i]) + "\"";
      line += "]";
      detail::append_date_field(line, "first_date", thread_summary[t].first);
      detail::append_date_field(line, "last_date", thread_summary[t].last);
      append_top_terms(line, thread_rows, static_cast<Eigen::Index>(t), vectors.term_hash, names);
      line += "}\n";
      out.write(line);
    }
    out.close();
  }
  clock.lap("write");

  if (!options.report_path.empty()) {
    ReportData data;
    data.title = "storyline report: " + (inputs.names.empty() ? std::string("input") : inputs.names.front());
    const ReportLimits limits;
    std::vector<std::vector<std::uint32_t>> members(threads);
    for (std::size_t s = 0; s < stories; ++s) members[thread[s]].push_back(static_cast<std::uint32_t>(s));
    std::vector<std::uint32_t> order(threads);
    for (std::uint32_t t = 0; t < threads; ++t) order[t] = t;
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return thread_summary[a].size > thread_summary[b].size;
    });
    order.resize(std::min(order.size(), limits.threads));
    // Stories shown: per thread its largest, then in date order; -1 marks a story not shown.
    std::vector<std::int64_t> shown(stories, -1);
    std::vector<ReportStory> story_view;
    for (const std::uint32_t t : order) {
      auto list = members[t];
      std::stable_sort(list.begin(), list.end(), [&](std::uint32_t a, std::uint32_t b) {
        return story_summary[a].size > story_summary[b].size;
      });
      if (list.size() > limits.stories_per_thread) {
        // The largest, and the earliest and the latest, so the thread's span shows.
        const auto date_key = [&](std::uint32_t x, bool last) {
          const std::int32_t d = last ? story_summary[x].last : story_summary[x].first;
          return d == kNoDate ? (last ? INT32_MIN : INT32_MAX) : d;
        };
        const auto earliest = *std::min_element(list.begin(), list.end(), [&](auto a, auto b) {
          return date_key(a, false) < date_key(b, false);
        });
        const auto latest = *std::max_element(
            list.begin(), list.end(), [&](auto a, auto b) { return date_key(a, true) < date_key(b, true); });
        list.resize(limits.stories_per_thread - 2);
        for (const std::uint32_t end : {earliest, latest})
          if (std::find(list.begin(), list.end(), end) == list.end()) list.push_back(end);
      }
      for (const std::uint32_t s : list) {
        shown[s] = static_cast<std::int64_t>(story_view.size());
        ReportStory view;
        view.id = story_id(s);
        view.size = story_summary[s].size;
        view.first = story_summary[s].first, view.last = story_summary[s].last;
        view.headline = detail::utf8_prefix(extra.titles[story_rep[s]], 160);
        auto top = top_terms(story_rows, static_cast<Eigen::Index>(s), vectors.term_hash, names);
        view.terms = std::move(top.terms), view.entities = std::move(top.entities);
        story_view.push_back(std::move(view));
      }
    }
    const auto document_view = [&](std::size_t d) {
      return ReportDocument{docs.ids[d], detail::utf8_prefix(extra.titles[d], 160), docs.info[d].date,
                            groups.similarity[d]};
    };
    for (std::size_t d = 0; d < n; ++d) {
      const std::int64_t v = shown[story[rep_index[d]]];
      if (v >= 0 && story_view[v].documents.size() < limits.documents_per_story)
        story_view[v].documents.push_back(document_view(d));
    }
    const auto by_date = [](const auto& a, const auto& b) {
      return (a.first == kNoDate ? INT32_MAX : a.first) < (b.first == kNoDate ? INT32_MAX : b.first);
    };
    for (ReportStory& v : story_view) {
      std::stable_sort(v.documents.begin(), v.documents.end(), [](const auto& a, const auto& b) {
        return (a.date == kNoDate ? INT32_MAX : a.date) < (b.date == kNoDate ? INT32_MAX : b.date);
      });
    }
    for (const std::uint32_t t : order) {
      ReportThread view;
      view.id = thread_id(t);
      view.size = thread_summary[t].size;
      view.total_stories = members[t].size();
      view.first = thread_summary[t].first, view.last = thread_summary[t].last;
      auto top = top_terms(thread_rows, static_cast<Eigen::Index>(t), vectors.term_hash, names);
      view.terms = std::move(top.terms), view.entities = std::move(top.entities);
      for (const std::uint32_t s : members[t])
        if (shown[s] >= 0) view.stories.push_back(std::move(story_view[shown[s]]));
      std::stable_sort(view.stories.begin(), view.stories.end(), by_date);
      data.threads.push_back(std::move(view));
    }
    // Duplicate groups, largest first.
    std::vector<std::uint32_t> group_size(n, 0);
    for (std::size_t d = 0; d < n; ++d) ++group_size[groups.representative[d]];
    std::vector<DocIndex> reps;
    for (std::size_t d = 0; d < n; ++d)
      if (group_size[d] > 1) reps.push_back(static_cast<DocIndex>(d));
    data.total_duplicate_groups = reps.size();
    std::stable_sort(reps.begin(), reps.end(),
                     [&](DocIndex a, DocIndex b) { return group_size[a] > group_size[b]; });
    reps.resize(std::min(reps.size(), limits.duplicate_groups));
    std::unordered_map<DocIndex, std::size_t> group_of;
    for (const DocIndex r : reps) {
      group_of.emplace(r, data.duplicates.size());
      data.duplicates.push_back({document_view(r), group_size[r], {}});
    }
    for (std::size_t d = 0; d < n; ++d) {
      const auto it =
          groups.representative[d] != d ? group_of.find(groups.representative[d]) : group_of.end();
      if (it != group_of.end()) data.duplicates[it->second].copies.push_back(document_view(d));
    }
    for (ReportDuplicateGroup& g : data.duplicates) {
      std::stable_sort(g.copies.begin(), g.copies.end(),
                       [](const auto& a, const auto& b) { return a.similarity > b.similarity; });
      g.copies.resize(std::min(g.copies.size(), limits.copies_per_group));
    }
    data.total_threads = threads;
    data.total_stories = stories;
    report_figures(data, report, gold, inputs.names, docs.ids, story, thread, rep_index);
    const std::string html = render_html_report(data);
    detail::OutputFile out(options.report_path);
    out.write(html);
    out.close();
    report.report_bytes = html.size();
    clock.lap("report");
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace storyline
