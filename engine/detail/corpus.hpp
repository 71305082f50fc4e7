// Pieces shared by the batch jobs (dedup, cluster): input preparation, the pass-1 sink that keeps what
// grouping needs of each document, the rejects file, and the pass-2 rewrite of the input lines.
#pragma once

#include <malloc.h>
#include <tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "detail/json_out.hpp"
#include "detail/memory.hpp"
#include "storyline/dedup.hpp"
#include "storyline/dedup_job.hpp"
#include "storyline/fingerprint.hpp"
#include "storyline/ingest.hpp"

namespace storyline::detail {

/// Appends the wall seconds since the previous lap (or construction) to a job's phase list, and, when
/// given `peaks`, the process's peak resident memory so far in MB (detail/memory.hpp) at the end of
/// each phase: the phase where it rises is the one that set it. Pages freed in a phase are given back
/// to the system at its end (malloc_trim), so that they do not count again in the next.
class PhaseClock {
 public:
  explicit PhaseClock(PhaseSeconds& out, PhaseSeconds* peaks = nullptr) : out_(out), peaks_(peaks) {}
  void lap(const char* phase) {
    const auto now = std::chrono::steady_clock::now();
    add(out_, phase, std::chrono::duration<double>(now - last_).count(), false);
    last_ = now;
    if (peaks_ != nullptr) {
      add(*peaks_, phase, static_cast<double>(peak_rss_kb()) / 1024.0, true);
      malloc_trim(0);
    }
  }

 private:
  // A phase timed again (once per time block, say) adds its seconds; its peak is the highest.
  static void add(PhaseSeconds& list, const char* phase, double value, bool peak) {
    for (auto& [name, v] : list) {
      if (name == phase) {
        v = peak ? std::max(v, value) : v + value;
        return;
      }
    }
    list.emplace_back(phase, value);
  }
  PhaseSeconds& out_;
  PhaseSeconds* peaks_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

/// Writes one rejects line per issue: {"file","line","reason","action","detail","content"}.
class RejectsWriter {
 public:
  explicit RejectsWriter(const std::string& path);
  void write(const IssueReport& report);
  void close();

 private:
  std::optional<OutputFile> file_;
  std::string line_;
};

/// An output path and the option that named it ("--annotate"), for messages.
struct NamedOutput {
  const char* option;
  const std::string& path;
};

/// Input paths ready for two passes: "-" is spooled to a temporary file (removed on destruction).
class PreparedInputs {
 public:
  /// Throws InvalidArgument, before any file is opened, when an output (empty: not written; "-":
  /// stdout) is the same file as an input (same device and inode, so links and other spellings count)
  /// or as another output: writing it would empty the input before it is read (hardening #2).
  PreparedInputs(const std::vector<std::string>& inputs, std::span<const NamedOutput> outputs);
  ~PreparedInputs();
  PreparedInputs(const PreparedInputs&) = delete;
  PreparedInputs& operator=(const PreparedInputs&) = delete;
  std::vector<std::string> paths;  ///< what to read
  std::vector<std::string> names;  ///< what to call them ("<stdin>")

 private:
  std::vector<std::string> temp_;
};

/// Pass 1: keeps each document's id, date, length, fingerprint (and shingle set when verifying
/// exactly) in slot prior + index; `extra` (if set) runs on each document too, concurrently.
class CorpusSink final : public IngestSink {
 public:
  CorpusSink(const FingerprintScheme& scheme, std::size_t prior, RejectsWriter& rejects,
             JobObserver* observer);

  void reserve(DocIndex first, std::size_t count) override;
  void process(const Document& doc, DocIndex index, SourceLine source) override;
  void on_issue(const IssueReport& report) override { rejects_.write(report); }
  void on_progress(const IngestStats& stats) override;

  std::vector<std::string> ids;
  std::vector<DocInfo> info;
  std::vector<std::uint32_t> fingerprints;
  std::vector<std::vector<std::uint64_t>> sets;
  std::vector<SourceLine> where;  ///< new documents only
  std::function<void(std::size_t first_slot, std::size_t count)> extra_reserve;
  std::function<void(const Document& doc, std::size_t slot)> extra;

  /// The grouping input over everything held.
  DedupInput dedup_input(std::size_t prior) const;

 private:
  const FingerprintScheme& scheme_;
  std::size_t prior_;
  RejectsWriter& rejects_;
  JobObserver* observer_;
  tbb::enumerable_thread_specific<Fingerprinter> fingerprinters_;
};

/// Pass 2: reads the inputs (or only the parts pass 1 read) again and calls fn(k, line) for the k-th
/// accepted document (where[k]). Throws IoError when the inputs changed in between.
void for_each_document_line(const std::vector<std::string>& paths, std::size_t max_line_bytes,
                            std::span<const SourceLine> where,
                            const std::function<void(std::size_t, const std::string&)>& fn,
                            std::span<const InputPart> parts = {});

/// Appends ,"dup_group":ID,"dup_of":ID-or-null for document doc whose representative is rep.
void append_dup_fields(std::string& fields, std::span<const std::string> ids, std::size_t doc, DocIndex rep);
/// The same for a document whose representative is called rep_id (is_rep: the document itself).
void append_dup_fields(std::string& fields, std::string_view rep_id, bool is_rep);

/// Appends line with fields (text like ,"a":1) added before its closing brace and a newline to out; an
/// invalid UTF-8 line is repaired first so the output stays valid JSON.
void append_annotated(std::string& out, const std::string& line, std::string_view fields);

}  // namespace storyline::detail
