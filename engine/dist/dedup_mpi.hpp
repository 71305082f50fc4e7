// `storyline dedup` across the ranks of an MPI job: the same inputs, options and outputs as the
// single-process job (byte for byte), with the work and the memory divided between the ranks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dist/step.hpp"
#include "storyline/dedup_job.hpp"

namespace storyline::dist {

/// Figures of a distributed run, for rank 0 to print.
struct DistDedupReport {
  DedupJobReport job;                      ///< summed over the ranks (phases: rank 0's wall times)
  int ranks = 1;                           ///< ranks in the job
  std::uint64_t bytes_exchanged = 0;       ///< bytes sent between ranks, all ranks together
  std::uint64_t component_rounds = 0;      ///< hook-and-jump rounds of the connected components
  std::vector<std::uint64_t> peak_rss_kb;  ///< per rank, VmHWM at the end
  std::vector<std::uint64_t> documents;    ///< per rank, documents read
};

/// Runs the dedup job on every rank of comm (collective). Refuses, with InvalidArgument before any
/// work: stdin as input. Outputs are written to temporary names beside the final ones and renamed by
/// rank 0 once every rank succeeded; "-" (stdout) is written by rank 0. --save-index writes one index
/// file per rank and a manifest (dist/index_manifest.hpp); --index loads one on as many ranks as saved
/// it. Throws JobFailed on every rank when one failed.
DistDedupReport run_dedup_mpi(Comm& comm, const DedupJobOptions& options, JobObserver* observer);

}  // namespace storyline::dist
