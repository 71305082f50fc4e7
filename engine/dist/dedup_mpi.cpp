#include "dist/dedup_mpi.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <unordered_map>

#include "detail/corpus.hpp"
#include "detail/json_out.hpp"
#include "dist/comm.hpp"
#include "dist/dist_groups.hpp"
#include "dist/dist_index.hpp"
#include "dist/job_inputs.hpp"
#include "dist/layout.hpp"
#include "dist/part_files.hpp"
#include "storyline/error.hpp"

namespace storyline::dist {
namespace {

class Job {
 public:
  Job(Comm& comm, const DedupJobOptions& options, JobObserver* observer)
      : comm_(comm),
        opt_(options),
        observer_(comm.rank() == 0 ? observer : nullptr),
        ranks_(static_cast<std::size_t>(comm.size())),
        steps_(comm, [this] {
          for (const PartFile& f : outputs_) remove_part_files(f, comm_.rank());
        }) {}

  DistDedupReport run() {
    const auto start = std::chrono::steady_clock::now();
    DistDedupReport out;
    out.ranks = comm_.size();
    detail::PhaseClock clock(out.job.phases);
    prepare_outputs();
    parts_ = split_and_number(comm_, steps_, opt_.inputs);
    const std::vector<InputPart>& mine = parts_[static_cast<std::size_t>(comm_.rank())];
    DedupParams params = opt_.dedup;
    OpenedIndex index;
    if (!opt_.index_path.empty()) {
      index = open_index(comm_, steps_, opt_.index_path);
      params = index.params;
      params.verify = opt_.dedup.verify;  // a run-time choice, not part of the index
    }
    // Boilerplate: the index's, or learnt by every rank alike from the first documents of the input.
    std::shared_ptr<const Boilerplate> boilerplate = index.boilerplate;
    if (opt_.index_path.empty()) {
      steps_.run([&] { boilerplate = find_boilerplate(opt_.inputs, opt_, out.job); });
      if (out.job.boilerplate_sampled > 0) clock.lap("boilerplate");
    }
    scheme_.emplace(params, boilerplate);
    out.job.boilerplate = boilerplate ? boilerplate->size() : 0;
    std::optional<detail::RejectsWriter> rejects;
    std::optional<detail::CorpusSink> docs;
    steps_.run([&] {
      rejects.emplace(outputs_[3].part);
      docs.emplace(*scheme_, index.documents, *rejects, observer_);
      read_index(index, *docs, scheme_->params().verify == Verify::kExact);
      out.job.ingest = ingest_parts(opt_.inputs, mine, opt_.ingest, *docs, names_);
      rejects->close();
    });
    docs_ = &*docs;
    n_ = docs_->ids.size();
    prior_local_ = index.documents;
    out.documents = comm_.all(n_ - prior_local_);
    std::vector<std::vector<Segment>> index_segments;
    if (index.manifest) {
      for (const IndexManifest::Part& part : index.manifest->parts) index_segments.push_back(part.segments);
    }
    layout_ = Layout(index_segments, out.documents);
    STORYLINE_CHECK_ARG(layout_.total() < DocIndex(-1), "too many documents for 32-bit indexes");
    global_ = layout_.globals(static_cast<std::size_t>(comm_.rank()));
    out.job.prior_documents = layout_.prior();
    clock.lap("read");

    if (observer_ != nullptr) observer_->progress("group", out.job.ingest);
    groups_.emplace(comm_, layout_, *scheme_, *docs_, global_);
    GroupCounts counts;
    groups_->group(counts, [&] {
      if (observer_ != nullptr) observer_->progress("group", out.job.ingest);
    });
    group_lines(groups_->choose_representatives(counts), out);
    out.job.candidate_pairs = counts.candidate_pairs, out.job.verified_pairs = counts.verified_pairs;
    out.job.groups = counts.groups, out.component_rounds = counts.component_rounds;
    clock.lap("group");

    if (observer_ != nullptr) observer_->progress("write", out.job.ingest);
    steps_.run([&] { write_parts(mine); });
    for (const PartFile& f : outputs_) assemble(comm_, steps_, f);
    steps_.run([&] {
      if (comm_.rank() != 0) return;
      for (const PartFile& f : outputs_) publish(f);
    });
    clock.lap("write");
    if (!opt_.save_index_path.empty()) {
      out.job.index_skipped_ids =
          save_index(comm_, steps_, opt_.save_index_path, *scheme_, layout_, *docs_, global_);
      clock.lap("save index");
    }
    add_up(out);
    out.job.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
  }

 private:
  // Totals over the ranks.
  void add_up(DistDedupReport& out) {
    IngestStats& s = out.job.ingest;
    std::vector<std::uint64_t> sums{s.lines,
                                    s.documents,
                                    s.bytes,
                                    s.raw_bytes,
                                    out.job.groups,
                                    out.job.removed,
                                    out.job.candidate_pairs,
                                    out.job.verified_pairs,
                                    out.job.duplicates_of_prior,
                                    out.job.index_skipped_ids};
    sums.insert(sums.end(), s.issues.begin(), s.issues.end());
    comm_.sum(sums);
    s.lines = sums[0], s.documents = sums[1], s.bytes = sums[2], s.raw_bytes = sums[3];
    out.job.groups = sums[4], out.job.removed = sums[5];
    out.job.candidate_pairs = sums[6], out.job.verified_pairs = sums[7];
    out.job.duplicates_of_prior = sums[8], out.job.index_skipped_ids = sums[9];
    std::copy(sums.begin() + 10, sums.end(), s.issues.begin());
    out.job.params = scheme_->params();
    out.job.bands = scheme_->bands();
    out.bytes_exchanged = comm_.sum(comm_.bytes_sent());
    out.peak_rss_kb = comm_.all(detail::peak_rss_kb());
  }

  void prepare_outputs() {
    for (const std::string* p :
         {&opt_.kept_path, &opt_.annotated_path, &opt_.groups_path, &opt_.rejects_path}) {
      outputs_.push_back(part_file(*p, comm_.rank()));
    }
    steps_.run([&] {
      for (const std::string& in : opt_.inputs) {
        if (in == "-") steps_.refuse("stdin cannot be split between ranks: name the input files");
      }
      const detail::NamedOutput named[] = {{"--output", opt_.kept_path},
                                           {"--annotate", opt_.annotated_path},
                                           {"--groups", opt_.groups_path},
                                           {"--rejects", opt_.rejects_path},
                                           {"--save-index", opt_.save_index_path}};
      const detail::PreparedInputs check(opt_.inputs, named);
      names_ = check.names;
    });
  }

  // Documents removed, and this rank's part of --groups: each rank writes the groups of a run of
  // representatives, so that the parts are in their order.
  void group_lines(const std::vector<std::size_t>& grouped, DistDedupReport& out) {
    const std::vector<std::uint64_t>& rep = groups_->rep();
    const std::vector<float>& similarity = groups_->similarity();
    std::vector<std::string> to_rep(ranks_);
    for (const std::size_t local : grouped) {
      if (rep[local] != global_[local] && !layout_.prior(global_[local])) {
        ++out.job.removed;
        if (layout_.prior(rep[local])) ++out.job.duplicates_of_prior;
      }
      if (opt_.groups_path.empty()) continue;
      // Each rank writes the groups of a run of representatives, so that the parts are in their order.
      Packer p(to_rep[static_cast<std::size_t>(
          std::min<std::uint64_t>(ranks_ - 1, rep[local] * ranks_ / layout_.total()))]);
      p.put(rep[local]);
      p.put(global_[local]);
      p.put(similarity[local]);
      p.put_string(docs_->ids[local]);
    }
    if (opt_.groups_path.empty()) return;
    struct Line {
      std::uint64_t rep, doc;
      float similarity;
      std::string id;
    };
    std::vector<Line> lines;
    for (const std::string& part : comm_.exchange(std::move(to_rep))) {
      Unpacker in(part);
      while (!in.done()) {
        Line l;
        l.rep = in.get<std::uint64_t>();
        l.doc = in.get<std::uint64_t>();
        l.similarity = in.get<float>();
        l.id = std::string(in.get_string());
        lines.push_back(std::move(l));
      }
    }
    // By representative; in a group the representative first, then the others in input order.
    std::sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) {
      if (a.rep != b.rep) return a.rep < b.rep;
      if ((a.doc == a.rep) != (b.doc == b.rep)) return a.doc == a.rep;
      return a.doc < b.doc;
    });
    for (std::size_t i = 0; i < lines.size();) {
      std::size_t j = i;
      while (j < lines.size() && lines[j].rep == lines[i].rep) ++j;
      group_lines_ += "{\"group\":";
      detail::append_json_string(group_lines_, lines[i].id);
      group_lines_ += ",\"size\":" + std::to_string(j - i) + ",\"members\":[";
      for (std::size_t m = i; m < j; ++m) {
        group_lines_ += m == i ? "{\"id\":" : ",{\"id\":";
        detail::append_json_string(group_lines_, lines[m].id);
        group_lines_ += ",\"similarity\":";
        detail::append_json_number(group_lines_, lines[m].similarity);
        if (layout_.prior(lines[m].doc)) group_lines_ += ",\"from_index\":true";
        group_lines_ += "}";
      }
      group_lines_ += "]}\n";
      i = j;
    }
  }

  // Pass 2 over this rank's parts: kept lines and annotated lines into the part files.
  void write_parts(const std::vector<InputPart>& mine) {
    std::optional<detail::OutputFile> kept, annotated;
    if (!outputs_[0].part.empty()) kept.emplace(outputs_[0].part);
    if (!outputs_[1].part.empty()) annotated.emplace(outputs_[1].part);
    std::string line_out, fields;
    if (kept || annotated) {
      detail::for_each_document_line(
          opt_.inputs, opt_.ingest.max_line_bytes, docs_->where,
          [&](std::size_t k, const std::string& line) {
            k += prior_local_;  // the k-th new document
            const std::uint64_t rep = groups_->rep()[k];
            const bool is_rep = rep == global_[k];
            if (kept && is_rep) {
              line_out.assign(line);
              line_out.push_back('\n');
              kept->write(line_out);
            }
            if (!annotated) return;
            fields.clear();
            detail::append_dup_fields(
                fields, is_rep ? std::string_view(docs_->ids[k]) : groups_->rep_ids().at(rep), is_rep);
            line_out.clear();
            detail::append_annotated(line_out, line, fields);
            annotated->write(line_out);
          },
          mine);
    }
    if (kept) kept->close();
    if (annotated) annotated->close();
    if (!outputs_[2].part.empty()) {
      detail::OutputFile groups(outputs_[2].part);
      groups.write(group_lines_);
      groups.close();
    }
  }

  Comm& comm_;
  const DedupJobOptions& opt_;
  JobObserver* observer_;
  std::optional<FingerprintScheme> scheme_;  // once the index (if any) is open
  std::size_t ranks_;
  Steps steps_;
  std::vector<PartFile> outputs_;  // kept, annotated, groups, rejects
  std::vector<std::string> names_;
  std::vector<std::vector<InputPart>> parts_;
  detail::CorpusSink* docs_ = nullptr;
  std::size_t n_ = 0;            // documents of this rank
  std::size_t prior_local_ = 0;  // documents of this rank's index file
  Layout layout_;
  std::vector<std::uint64_t> global_;  // per local document, its global number
  std::optional<DistGroups> groups_;
  std::string group_lines_;  // this rank's part of --groups
};

}  // namespace

DistDedupReport run_dedup_mpi(Comm& comm, const DedupJobOptions& options, JobObserver* observer) {
  return Job(comm, options, observer).run();
}

}  // namespace storyline::dist
