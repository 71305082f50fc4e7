// The `dedup` job: JSONL in, kept / annotated / groups JSONL out, optionally against a saved index.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storyline/boilerplate.hpp"
#include "storyline/dedup.hpp"
#include "storyline/fingerprint.hpp"
#include "storyline/ingest.hpp"
#include "storyline/jsonl.hpp"

namespace storyline {

/// What to read, how to decide, and where to write. Empty paths mean "do not write".
struct DedupJobOptions {
  std::vector<std::string> inputs;  ///< JSONL files (.gz/.zst detected), "-" for stdin
  IngestParams ingest;              ///< field names, line limit, strictness
  DedupParams dedup;                ///< ignored when index_path is set: the index's parameters apply
  std::string kept_path;            ///< representatives' input lines, byte for byte ("-" is stdout)
  std::string annotated_path;       ///< every accepted record with dup_group and dup_of added
  std::string groups_path;          ///< one line per group of two or more
  std::string rejects_path;         ///< every rejected or repaired line, with file, line and reason
  std::string index_path;           ///< an index to deduplicate against (documents seen before)
  std::string save_index_path;      ///< write the index of everything seen (loaded + new) here
  /// Boilerplate learnt from the first documents and left out of fingerprints (df 0: off). A loaded
  /// index brings the boilerplate it was made with instead.
  BoilerplateParams boilerplate;
  std::size_t show_boilerplate = 0;  ///< how many of the most frequent boilerplate shingles to report
};

/// Wall seconds per phase of a job, in the order the phases ran.
using PhaseSeconds = std::vector<std::pair<std::string, double>>;

/// Figures of a finished job.
struct DedupJobReport {
  IngestStats ingest;                   ///< lines, documents, bytes, issues
  std::size_t prior_documents = 0;      ///< documents loaded from index_path
  std::size_t groups = 0;               ///< groups of two or more with at least one new document
  std::size_t removed = 0;              ///< new documents that are not representatives
  std::size_t duplicates_of_prior = 0;  ///< new documents whose representative came from the index
  std::uint64_t candidate_pairs = 0;    ///< pairs verified
  std::uint64_t verified_pairs = 0;     ///< pairs that passed verification
  std::size_t index_skipped_ids = 0;    ///< new documents not saved to the index: their id was there
  DedupParams params;                   ///< the parameters used (from the index when one was loaded)
  std::size_t boilerplate = 0;          ///< boilerplate shingles left out of fingerprints
  std::size_t boilerplate_sampled = 0;  ///< documents they were learnt from (0: from the index, or off)
  std::uint32_t boilerplate_min_documents = 0;      ///< sampled documents that made a shingle boilerplate
  std::vector<BoilerplateShingle> boilerplate_top;  ///< the most frequent (options.show_boilerplate)
  LshBands bands;                                   ///< the resolved LSH bands (MinHash)
  double seconds = 0.0;                             ///< wall time of the whole job
  /// "read" (parse, fingerprint), "group" (LSH, verify, union-find), "write", and "save index" when asked.
  PhaseSeconds phases;
};

/// The boilerplate of the first options.boilerplate.sample documents of paths (null when off), with
/// what was found written to report. Throws IoError.
std::shared_ptr<const Boilerplate> find_boilerplate(const std::vector<std::string>& paths,
                                                    const DedupJobOptions& options, DedupJobReport& report);

/// Progress callbacks from run_dedup_job, on the calling thread.
class JobObserver {
 public:
  virtual ~JobObserver() = default;
  /// phase is "read", "group" or "write"; stats are the ingest counts so far.
  virtual void progress(std::string_view phase, const IngestStats& stats) {
    (void)phase;
    (void)stats;
  }
};

/// Runs the job: pass 1 reads and fingerprints in parallel, then groups; pass 2 reads the inputs again
/// and writes the outputs (stdin is first copied to a temporary file). Throws IoError, ParseError (strict
/// mode), CorruptIndex or InvalidArgument.
DedupJobReport run_dedup_job(const DedupJobOptions& options, JobObserver* observer = nullptr);

/// What dedup_records found: each document's id and group, in input order.
struct DedupRecordsResult {
  std::vector<std::string> ids;
  DuplicateGroups groups;
  DedupJobReport report;
};

/// The dedup job on documents in memory (the Python module): the boilerplate of the first
/// options.boilerplate.sample documents, then the fingerprints and groups run_dedup_job finds for the
/// same records in a file. Of the options, dedup, boilerplate and show_boilerplate apply. Only the
/// sample's documents are held; of the others, their fingerprints. Throws InvalidArgument.
DedupRecordsResult dedup_records(DocumentBatches& source, const DedupJobOptions& options);

}  // namespace storyline
