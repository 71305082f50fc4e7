#include "detail/cluster_steps.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "detail/json_out.hpp"
#include "storyline/cluster.hpp"
#include "storyline/error.hpp"

namespace storyline::detail {

ClusterDocs::ClusterDocs(const TfidfParams& params, std::uint32_t short_words)
    : short_words_(short_words), extractors_([params] { return TermExtractor(params); }) {}

void ClusterDocs::attach(CorpusSink& sink) {
  sink.extra_reserve = [this](std::size_t first, std::size_t count) {
    terms.resize(first + count);
    titles.resize(first + count);
    languages.resize(first + count);
    if (short_words_ > 0) short_texts.resize(first + count);
  };
  sink.extra = [this](const Document& doc, std::size_t slot) {
    LocalNames& local = local_names_.local();
    languages[slot] = guess_language(doc.text.empty() ? doc.title : doc.text);
    extractors_.local().extract(doc, local.terms, &local.document, languages[slot]);
    terms.put(slot, local.terms);
    // The smallest spelling of each term, whichever thread (or rank) reads which document: the first
    // one a thread saw made "Inc" or "INC" depend on the split (timeline17 under mpirun showed it).
    local.document.for_each([&](std::uint64_t term, std::string_view name) {
      const auto it = local.all.find(term);
      if (it == local.all.end()) {
        local.all.emplace(term, name);
      } else if (name < it->second) {
        it->second.assign(name);
      }
    });
    titles[slot] = doc.title.empty() ? doc.text.substr(0, 120) : doc.title;
    // The encoder reads English (a headline too short to tell counts as English).
    const Language l = languages[slot];
    if (short_words_ > 0 && (l == Language::kEnglish || l == Language::kUnknown))
      short_texts[slot] = short_document_text(doc.title, doc.text, short_words_);
  };
}

ShortVectors encode_short_documents(const SentenceEncoder& encoder, std::span<const DocIndex> rep_doc,
                                    std::vector<std::string>& short_texts) {
  ShortVectors out;
  out.index.assign(rep_doc.size(), -1);
  std::vector<std::string> texts;
  for (std::size_t r = 0; r < rep_doc.size(); ++r) {
    std::string& text = short_texts[rep_doc[r]];
    if (text.empty()) continue;
    out.index[r] = static_cast<std::int32_t>(texts.size());
    texts.push_back(std::move(text));
  }
  std::vector<std::string>().swap(short_texts);
  if (texts.empty()) return out;  // the model is not even read (SentenceEncoder::load_when_used)
  out.dim = encoder.dim();
  std::vector<std::string_view> views(texts.begin(), texts.end());
  out.values = encoder.encode(views);
  // Centred on the mean: the vectors of unrelated headlines share a large common part (their cosines
  // sit near 0.2-0.3); without it, every short pair would look related.
  const std::size_t n = texts.size(), dim = out.dim;
  if (n < 2) return out;
  std::vector<double> mean(dim, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < dim; ++k) mean[k] += out.values[i * dim + k];
  std::vector<float> centre(dim);
  for (std::size_t k = 0; k < dim; ++k) centre[k] = static_cast<float>(mean[k] / static_cast<double>(n));
  for (std::size_t i = 0; i < n; ++i) SentenceEncoder::center({out.values.data() + i * dim, dim}, centre);
  return out;
}

void blend_short_vectors(RowMatrix& rows, std::span<const std::uint32_t> block, const ShortVectors& vectors,
                         float weight) {
  if (vectors.count() == 0 || weight <= 0.0f) return;
  const auto n = static_cast<std::size_t>(rows.rows());
  const auto dim = static_cast<std::int64_t>(vectors.dim);
  const auto terms = static_cast<int>(rows.cols());
  std::int64_t nonzeros = rows.nonZeros();
  for (std::size_t r = 0; r < n; ++r) nonzeros += vectors.index[block[r]] >= 0 ? dim : 0;
  RowMatrix out;
  allocate_rows(out, n, static_cast<std::size_t>(terms) + vectors.dim, nonzeros);
  int* const outer = out.outerIndexPtr();
  int* const inner = out.innerIndexPtr();
  float* const value = out.valuePtr();
  const float term_scale = std::sqrt(1.0f - std::min(weight, 1.0f));
  const float vector_scale = std::sqrt(std::min(weight, 1.0f));
  int at = 0;
  outer[0] = 0;
  for (std::size_t r = 0; r < n; ++r) {
    const std::int32_t v = vectors.index[block[r]];
    const int first = at;
    double norm = 0;
    for (RowMatrix::InnerIterator it(rows, static_cast<Eigen::Index>(r)); it; ++it) {
      inner[at] = static_cast<int>(it.col());
      value[at] = v >= 0 ? it.value() * term_scale : it.value();
      norm += static_cast<double>(value[at]) * value[at];
      ++at;
    }
    if (v >= 0) {
      const float* vec = vectors.values.data() + static_cast<std::size_t>(v) * vectors.dim;
      for (std::int64_t k = 0; k < dim; ++k) {
        inner[at] = terms + static_cast<int>(k);
        value[at] = vec[k] * vector_scale;
        norm += static_cast<double>(value[at]) * value[at];
        ++at;
      }
      // A short document without terms (or without a vector) is carried by the other part alone.
      if (norm > 0) {
        const auto scale = static_cast<float>(1.0 / std::sqrt(norm));
        for (int k = first; k < at; ++k) value[k] *= scale;
      }
    }
    outer[r + 1] = at;
  }
  rows = std::move(out);
}

TermNameMap ClusterDocs::names() {
  TermNameMap names;
  for (auto& part : local_names_) {
    for (auto& [hash, name] : part.all) {
      auto [it, inserted] = names.emplace(hash, name);
      if (!inserted && name < it->second) it->second = name;  // same term, other spelling: pick one
    }
    TermNameMap().swap(part.all);
  }
  return names;
}

void allocate_rows(RowMatrix& m, std::size_t rows, std::size_t cols, std::int64_t nonzeros) {
  m.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  m.makeCompressed();
  m.resizeNonZeros(static_cast<Eigen::Index>(nonzeros));
}

std::string story_label(std::size_t s) {
  std::string id(1, 's');  // (append: GCC 12 warns wrongly, -Wrestrict, on "s" + std::to_string(s))
  id.append(std::to_string(s));
  return id;
}

std::string thread_label(std::size_t t) {
  std::string id(1, 't');
  id.append(std::to_string(t));
  return id;
}

TopTerms top_terms(const RowMatrix& m, Eigen::Index row, std::span<const std::uint64_t> term_hash,
                   const TermNameMap& names) {
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

namespace {

// "top_terms":[...],"top_entities":[...] from one centroid row.
void append_top_terms(std::string& out, const RowMatrix& m, Eigen::Index row,
                      std::span<const std::uint64_t> term_hash, const TermNameMap& names) {
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
std::vector<std::uint32_t> closest_members(const RowMatrix& rows, std::span<const std::uint32_t> label,
                                           const RowMatrix& centroids) {
  const auto clusters = static_cast<std::size_t>(centroids.rows());
  std::vector<std::size_t> offsets(clusters + 1, 0);
  for (const std::uint32_t c : label) ++offsets[c + 1];
  for (std::size_t c = 1; c <= clusters; ++c) offsets[c] += offsets[c - 1];
  std::vector<std::uint32_t> members(label.size());
  {
    std::vector<std::size_t> fill(offsets.begin(), offsets.end() - 1);
    for (std::size_t r = 0; r < label.size(); ++r) members[fill[label[r]]++] = static_cast<std::uint32_t>(r);
  }
  std::vector<std::uint32_t> closest(clusters, 0);
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
    allocate_rows(m, static_cast<std::size_t>(rows_), static_cast<std::size_t>(cols_), nonzeros_);
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
                                       std::span<const Language> languages, std::uint32_t rank,
                                       float story_threshold, BlockStories& report) {
  std::array<std::vector<float>, kLanguageCount> values;  // the undated rows' rank similarities
  for (std::size_t r = 0; r < rank_similarity.size(); ++r) {
    if (undated[r] != 0) values[static_cast<std::size_t>(languages[r])].push_back(rank_similarity[r]);
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
        undated_story_threshold(story_threshold, background[static_cast<std::size_t>(languages[r])]);
  return threshold;
}

}  // namespace

BlockStories block_stories(const RowMatrix& rows, std::span<const std::int32_t> dates,
                           std::span<const Language> languages, const ClusterParams& params,
                           PhaseClock& clock) {
  const bool windowed = params.story_neighbors.window_days >= 0;
  const std::uint32_t rank = params.background_rank;
  BlockStories out;
  std::vector<float> rank_similarity;
  const std::vector<Edge> edges =
      neighbor_graph(rows, dates, params.story_neighbors, rank, rank > 0 ? &rank_similarity : nullptr);
  out.edges = edges.size();
  clock.lap("story graph");
  std::vector<std::uint8_t> dated(dates.size());
  for (std::size_t r = 0; r < dated.size(); ++r) dated[r] = dates[r] != kNoDate ? 1 : 0;
  std::vector<float> row_threshold;
  if (rank > 0) {
    // The background of the rows that merge at the undated threshold: all rows without a window.
    std::vector<std::uint8_t> undated(dated.size(), 1);
    if (windowed) {
      for (std::size_t r = 0; r < dated.size(); ++r) undated[r] = dated[r] == 0 ? 1 : 0;
    }
    out.background = background_similarity(rank_similarity, undated);
    if (params.background_per_language) {
      row_threshold =
          language_thresholds(rank_similarity, undated, languages, rank, params.story_threshold, out);
    }
  }
  out.labels =
      average_linkage(rows, edges, undated_story_threshold(params.story_threshold, out.background),
                      windowed ? std::span<const std::uint8_t>(dated) : std::span<const std::uint8_t>(),
                      params.dated_story_threshold, row_threshold);
  clock.lap("stories");
  return out;
}

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
  std::vector<std::uint8_t>& own_kinds = out.own_kinds;  // row -> bit 0: own words, bit 1: own entities
  own_kinds.assign(story.size(), 0);
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
      const std::vector<std::uint32_t> near = closest_members(m.rows, label, sums);
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
  allocate_rows(out.rows, stories, out.term_hash.size(), nonzeros);
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

Threads link_threads(StoryVectors& vectors, std::span<const LanguageCounts> story_languages,
                     const ClusterParams& params, std::size_t spill_above, bool labels_only) {
  RowMatrix& story_rows = vectors.rows;
  const auto stories = static_cast<std::size_t>(story_rows.rows());
  Threads out;
  // The names of stories told in several languages, for joining their threads (below).
  std::vector<std::uint8_t> story_language;
  std::vector<std::uint32_t> story_documents;
  RowMatrix name_rows;
  if (params.thread_language_threshold > 0.0f && stories > 0) {
    STORYLINE_CHECK_ARG(story_languages.size() == stories, "one count of languages per story");
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
  std::optional<MatrixCopy> story_copy;
  if (!labels_only) story_copy.emplace(story_rows, spill_above);
  boost_entities(story_rows, vectors.term_hash, params.thread_entity_boost, params.thread_pivot_boost,
                 params.thread_name_boost);
  share_names(story_rows, vectors.term_hash, params.thread_name_share);
  const std::vector<Edge> edges = neighbor_graph(story_rows, {}, params.thread_neighbors);
  out.thread = average_linkage(story_rows, edges, params.thread_threshold);
  join_small_clusters(story_rows, out.thread, params.thread_min_stories, params.thread_join_threshold,
                      params.thread_neighbors);
  refine_clusters(story_rows, edges, out.thread, params.thread_refine_rounds);
  if (name_rows.rows() > 0) {
    // One storyline told in several languages: its threads join when their names agree.
    out.language_joins = join_across_languages(name_rows, story_language, story_documents, out.thread,
                                               params.thread_language_threshold, params.thread_neighbors);
  }
  RowMatrix().swap(name_rows);  // (Eigen 3.4's sparse matrices have no move: assigning copies, and an
                                // empty one assigned keeps the old one's memory)
  out.count = stories == 0 ? 0 : *std::max_element(out.thread.begin(), out.thread.end()) + 1;
  if (labels_only) return out;
  RowMatrix().swap(story_rows);
  story_copy->restore(story_rows);
  RowMatrix sums = centroids(story_rows, out.thread, out.count);
  out.rows.swap(sums);
  return out;
}

void write_lines(const std::string& path, const std::function<void(const LineSink&)>& write) {
  OutputFile out(path);
  write([&](std::string_view line) { out.write(line); });
  out.close();
}

void write_stories(const LineSink& emit, std::span<const Summary> story_summary,
                   std::span<const std::uint32_t> thread, const RowMatrix& story_rows,
                   std::span<const std::uint64_t> term_hash, const TermNameMap& names,
                   const std::function<std::string_view(std::size_t)>& rep_id,
                   const std::function<std::string_view(std::size_t)>& rep_title) {
  std::string line;
  for (std::size_t s = 0; s < story_summary.size(); ++s) {
    line.assign("{\"story_id\":\"" + story_label(s) + "\",\"thread_id\":\"" + thread_label(thread[s]) +
                "\",\"size\":" + std::to_string(story_summary[s].size));
    append_date_field(line, "first_date", story_summary[s].first);
    append_date_field(line, "last_date", story_summary[s].last);
    append_top_terms(line, story_rows, static_cast<Eigen::Index>(s), term_hash, names);
    line += ",\"representative\":{\"id\":";
    append_json_string(line, rep_id(s));
    line += ",\"title\":";
    append_json_string(line, rep_title(s));
    line += "}}\n";
    emit(line);
  }
}

void write_threads(const LineSink& emit, std::span<const Summary> story_summary,
                   std::span<const Summary> thread_summary, std::span<const std::uint32_t> thread,
                   const RowMatrix& thread_rows, std::span<const std::uint64_t> term_hash,
                   const TermNameMap& names) {
  std::vector<std::vector<std::uint32_t>> members(thread_summary.size());
  for (std::size_t s = 0; s < thread.size(); ++s) members[thread[s]].push_back(static_cast<std::uint32_t>(s));
  std::string line;
  for (std::size_t t = 0; t < members.size(); ++t) {
    auto& list = members[t];
    std::stable_sort(list.begin(), list.end(), [&](std::uint32_t a, std::uint32_t b) {
      const auto key = [&](std::uint32_t s) {
        return story_summary[s].first == kNoDate ? INT64_MAX : std::int64_t{story_summary[s].first};
      };
      return key(a) < key(b);
    });
    line.assign("{\"thread_id\":\"" + thread_label(t) +
                "\",\"size\":" + std::to_string(thread_summary[t].size) + ",\"stories\":[");
    for (std::size_t i = 0; i < list.size(); ++i) line += (i ? ",\"" : "\"") + story_label(list[i]) + "\"";
    line += "]";
    append_date_field(line, "first_date", thread_summary[t].first);
    append_date_field(line, "last_date", thread_summary[t].last);
    append_top_terms(line, thread_rows, static_cast<Eigen::Index>(t), term_hash, names);
    line += "}\n";
    emit(line);
  }
}

void append_cluster_fields(std::string& out, std::uint32_t story, std::uint32_t thread, Language language) {
  out += ",\"story_id\":\"" + story_label(story) + "\",\"thread_id\":\"" + thread_label(thread) +
         "\",\"language\":\"";
  out += language_name(language);
  out += '"';
}

void count_languages(std::span<const LanguageCounts> thread_languages, ClusterJobReport& report) {
  for (std::size_t l = 0; l < kLanguageCount; ++l) {
    ClusterJobReport::LanguageCount count{Language(l), 0, 0};
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
}

}  // namespace storyline::detail
