// `storyline dedup` and `storyline cluster` when an MPI launcher started the process (see
// dist/launcher.hpp): every rank runs the job, rank 0 prints.
#include <malloc.h>

#include <cstdio>
#include <string>
#include <thread>

#include "cli/commands.hpp"
#include "cli/ingest_options.hpp"
#include "storyline/cluster_job.hpp"
#include "storyline/dedup_job.hpp"
#include "storyline/error.hpp"

#ifdef STORYLINE_MPI
#include "dist/cluster_mpi.hpp"
#include "dist/comm.hpp"
#include "dist/dedup_mpi.hpp"
#include "dist/launcher.hpp"
#endif

namespace storyline::cli {

#ifdef STORYLINE_MPI
namespace {

// Runs job(comm, observer) on every rank; a failure of any rank ends the job on all with each failed
// rank's rank, host and cause. Returns the exit code.
template <class Job>
int on_every_rank(const char* command, unsigned& jobs, bool quiet, Job&& job) {
  dist::Comm comm;
  // The exchange buffers come and go once per round: keep them in the heap rather than mapping and
  // zeroing fresh pages each time (the peak is the same).
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  if (jobs == 0) {  // the host's cores divided between its ranks
    const unsigned local = std::max(1u, dist::ranks_on_this_host());
    jobs = std::max(1u, std::thread::hardware_concurrency() / local);
  }
  set_jobs(jobs);
  ProgressObserver observer;
  observer.bar.label = "rank 0 of " + std::to_string(comm.size());  // its share of the reading
  try {
    job(comm, comm.rank() == 0 && !quiet ? &observer : nullptr);
  } catch (const dist::JobFailed& failed) {
    if (!failed.cause.empty()) {
      std::fprintf(stderr, "storyline %s: rank %d of %d on %s: %s\n", command, comm.rank(), comm.size(),
                   comm.host().c_str(), failed.cause.c_str());
    }
    std::fflush(stderr);
    comm.barrier();  // every cause is out before rank 0 ends the job
    if (comm.rank() == 0) {
      std::fprintf(stderr, "storyline %s: %llu of %d ranks failed (above); no output was written\n", command,
                   static_cast<unsigned long long>(failed.ranks), comm.size());
    }
    return kExitError;
  } catch (const std::exception& e) {
    // Inside a collective step: the other ranks may wait for this one, so end them all.
    std::fprintf(stderr, "storyline %s: rank %d of %d on %s: %s\n", command, comm.rank(), comm.size(),
                 comm.host().c_str(), e.what());
    comm.abort(kExitError);
  }
  observer.bar.finish();
  return 0;
}

// The distributed figures: ranks, bytes exchanged (then `more` on the same line), each rank's peak.
void print_ranks(int ranks, unsigned jobs, std::uint64_t bytes_exchanged, std::uint64_t documents,
                 const std::vector<std::uint64_t>& per_rank, const std::vector<std::uint64_t>& peak_rss_kb,
                 const std::string& more) {
  std::fprintf(stderr, "  distributed: %d ranks, %d threads each, %.1f bytes exchanged per document%s", ranks,
               static_cast<int>(jobs),
               static_cast<double>(bytes_exchanged) / std::max<double>(1.0, static_cast<double>(documents)),
               more.c_str());
  std::fprintf(stderr, "\n  per rank (documents, peak MB):");
  for (std::size_t k = 0; k < peak_rss_kb.size(); ++k) {
    std::fprintf(stderr, "%s %s %.0f", k == 0 ? "" : ";", with_commas(per_rank[k]).c_str(),
                 static_cast<double>(peak_rss_kb[k]) / 1024.0);
  }
  std::fprintf(stderr, "\n");
}

}  // namespace

int run_dedup_distributed(const DedupJobOptions& job, unsigned jobs, bool quiet,
                          void (*print)(const DedupJobReport&)) {
  dist::DistDedupReport r;
  int rank = 0;
  const int code = on_every_rank("dedup", jobs, quiet, [&](dist::Comm& comm, JobObserver* observer) {
    rank = comm.rank();
    r = dist::run_dedup_mpi(comm, job, observer);
  });
  if (code != 0 || rank != 0 || quiet) return code;
  print(r.job);
  print_ranks(r.ranks, jobs, r.bytes_exchanged, r.job.ingest.documents, r.documents, r.peak_rss_kb,
              ", " + std::to_string(r.component_rounds) + " component rounds");
  return 0;
}

int run_cluster_distributed(const ClusterJobOptions& job, unsigned jobs, bool quiet,
                            const std::function<void(const ClusterJobReport&)>& print) {
  dist::DistClusterReport r;
  int rank = 0;
  const int code = on_every_rank("cluster", jobs, quiet, [&](dist::Comm& comm, JobObserver* observer) {
    rank = comm.rank();
    r = dist::run_cluster_mpi(comm, job, observer);
  });
  if (code != 0 || rank != 0 || quiet) return code;
  print(r.job);
  std::string rows = ", time block rows per rank:";
  for (const std::uint64_t k : r.block_rows) rows += " " + with_commas(k);
  print_ranks(r.ranks, jobs, r.bytes_exchanged, r.job.ingest.documents, r.documents, r.peak_rss_kb, rows);
  return 0;
}

#else

namespace {
[[noreturn]] void no_mpi() {
  throw InvalidArgument(
      "this storyline was built without MPI (install openmpi-bin libopenmpi-dev and build again), "
      "so it cannot run under mpirun or srun");
}
}  // namespace

int run_dedup_distributed(const DedupJobOptions&, unsigned, bool, void (*)(const DedupJobReport&)) {
  no_mpi();
}
int run_cluster_distributed(const ClusterJobOptions&, unsigned, bool,
                            const std::function<void(const ClusterJobReport&)>&) {
  no_mpi();
}

#endif

}  // namespace storyline::cli
