// `storyline cluster` across the ranks of an MPI job: the inputs, options and outputs of the single
// process, with reading, near-duplicate grouping, story clustering (one run of time blocks per rank)
// and story centroids divided between the ranks; threads are linked on rank 0 from the centroids.
#pragma once

#include <cstdint>
#include <vector>

#include "dist/step.hpp"
#include "storyline/cluster_job.hpp"

namespace storyline::dist {

/// Figures of a distributed run, for rank 0 to print.
struct DistClusterReport {
  ClusterJobReport job;                    ///< summed over the ranks (phases: rank 0's wall times)
  int ranks = 1;                           ///< ranks in the job
  std::uint64_t bytes_exchanged = 0;       ///< bytes sent between ranks, all ranks together
  std::vector<std::uint64_t> peak_rss_kb;  ///< per rank, VmHWM at the end
  std::vector<std::uint64_t> documents;    ///< per rank, documents read
  std::vector<std::uint64_t> block_rows;   ///< per rank, rows of its time blocks (core, halo, undated)
};

/// Runs the cluster job on every rank of comm (collective).
///
/// What differs from one process: a dated corpus is cut into one time block per rank (blocks of
/// min(time_block_documents, max(dated documents / ranks, 100,000)) dated documents), and blocks give
/// stories close to, not equal to, one block's (bench/README.md measures it). With the same blocks as
/// one process (time_block_documents at most that share) the outputs are byte-identical to its. An
/// undated corpus is one block, clustered on rank 0. Threads are linked on rank 0, which holds every
/// story centroid.
///
/// Refuses, with InvalidArgument before any work: stdin as input, report_path (the HTML report is made
/// by one process). Outputs are written to temporary names beside the final ones and renamed by rank 0
/// once every rank succeeded. Throws JobFailed on every rank when one failed.
DistClusterReport run_cluster_mpi(Comm& comm, const ClusterJobOptions& options, JobObserver* observer);

}  // namespace storyline::dist
