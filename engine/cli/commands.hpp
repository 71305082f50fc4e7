// The subcommands of the storyline command line. Only this directory prints or picks exit codes.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace storyline {
struct DedupJobOptions;
struct DedupJobReport;
struct ClusterJobOptions;
struct ClusterJobReport;
}  // namespace storyline

namespace storyline::cli {

/// Exit codes: 0 success, 1 an error (bad input in strict mode, I/O, corrupt index), 2 a usage error.
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

/// Each register_* adds its subcommand to app and returns the function that runs it once parsed.
std::function<int()> register_dedup(CLI::App& app);
std::function<int()> register_cluster(CLI::App& app);
std::function<int()> register_eval(CLI::App& app);
std::function<int()> register_generate(CLI::App& app);
std::function<int()> register_stream(CLI::App& app);
std::function<int()> register_serve(CLI::App& app);

/// Applies --jobs (0 = all cores) for the rest of the process.
void set_jobs(unsigned jobs);

/// `dedup` under mpirun/srun: every rank runs it; rank 0 prints the summary (print) and the
/// distributed figures. jobs 0 divides the host's cores between the ranks on it.
int run_dedup_distributed(const DedupJobOptions& job, unsigned jobs, bool quiet,
                          void (*print)(const DedupJobReport&));

/// `cluster` under mpirun/srun, likewise (dist/cluster_mpi.hpp).
int run_cluster_distributed(const ClusterJobOptions& job, unsigned jobs, bool quiet,
                            const std::function<void(const ClusterJobReport&)>& print);

}  // namespace storyline::cli
