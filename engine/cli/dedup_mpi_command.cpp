// `storyline dedup` when an MPI launcher started the process (see dist/launcher.hpp).
#include <malloc.h>

#include <cstdio>
#include <thread>

#include "cli/commands.hpp"
#include "cli/ingest_options.hpp"
#include "storyline/dedup_job.hpp"
#include "storyline/error.hpp"

#ifdef STORYLINE_MPI
#include "dist/comm.hpp"
#include "dist/dedup_mpi.hpp"
#include "dist/launcher.hpp"
#endif

namespace storyline::cli {

#ifdef STORYLINE_MPI

int run_dedup_distributed(const DedupJobOptions& job, unsigned jobs, bool quiet,
                          void (*print)(const DedupJobReport&)) {
  dist::Comm comm;
  // The exchange buffers come and go once per LSH table: keep them in the heap rather than mapping and
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
  dist::DistDedupReport r;
  try {
    r = dist::run_dedup_mpi(comm, job, comm.rank() == 0 && !quiet ? &observer : nullptr);
  } catch (const dist::JobFailed& failed) {
    if (!failed.cause.empty()) {
      std::fprintf(stderr, "storyline dedup: rank %d of %d on %s: %s\n", comm.rank(), comm.size(),
                   comm.host().c_str(), failed.cause.c_str());
    }
    std::fflush(stderr);
    comm.barrier();  // every cause is out before rank 0 ends the job
    if (comm.rank() == 0) {
      std::fprintf(stderr, "storyline dedup: %llu of %d ranks failed (above); no output was written\n",
                   static_cast<unsigned long long>(failed.ranks), comm.size());
    }
    return kExitError;
  } catch (const std::exception& e) {
    // Inside a collective step: the other ranks may wait for this one, so end them all.
    std::fprintf(stderr, "storyline dedup: rank %d of %d on %s: %s\n", comm.rank(), comm.size(),
                 comm.host().c_str(), e.what());
    comm.abort(kExitError);
  }
  observer.bar.finish();
  if (comm.rank() != 0 || quiet) return 0;
  print(r.job);
  const double docs = std::max<double>(1.0, static_cast<double>(r.job.ingest.documents));
  std::fprintf(
      stderr,
      "  distributed: %d ranks, %d threads each, %.1f bytes exchanged per document, %llu component rounds\n",
      r.ranks, static_cast<int>(jobs), static_cast<double>(r.bytes_exchanged) / docs,
      static_cast<unsigned long long>(r.component_rounds));
  std::fprintf(stderr, "  per rank (documents, peak MB):");
  for (std::size_t k = 0; k < r.peak_rss_kb.size(); ++k) {
    std::fprintf(stderr, "%s %s %.0f", k == 0 ? "" : ";", with_commas(r.documents[k]).c_str(),
                 static_cast<double>(r.peak_rss_kb[k]) / 1024.0);
  }
  std::fprintf(stderr, "\n");
  return 0;
}

#else

int run_dedup_distributed(const DedupJobOptions&, unsigned, bool, void (*)(const DedupJobReport&)) {
  throw InvalidArgument(
      "this storyline was built without MPI (install openmpi-bin libopenmpi-dev and build again), "
      "so it cannot run under mpirun or srun");
}

#endif

}  // namespace storyline::cli
