// Whether an MPI launcher started this process, read from the environment it sets: the binary starts
// MPI only then, and is the single-process engine otherwise. Free of MPI.
#pragma once

#include <cstdlib>
#include <initializer_list>
#include <string>

namespace storyline::dist {

/// True when mpirun/mpiexec (Open MPI, MPICH) or srun with PMI/PMIx started this process.
inline bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

/// Ranks the launcher put on this host (0 when it does not say).
inline unsigned ranks_on_this_host() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"}) {
    if (const char* v = std::getenv(name)) return static_cast<unsigned>(std::strtoul(v, nullptr, 10));
  }
  return 0;
}

}  // namespace storyline::dist
