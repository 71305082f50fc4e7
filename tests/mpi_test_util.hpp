// Helpers of the tests that run the CLI under mpirun (built with MPI only).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace storyline::test {

// mpirun as root needs its consent; ranks beyond the cores are allowed, and idle ranks yield. Under
// AddressSanitizer, leak detection is off for the ranks only: Open MPI does not free what MPI_Init
// allocates in its dlopened components, whose frames no suppression can name (address errors are still
// caught; every other test keeps leak detection).
inline std::string mpirun(int ranks) {
  return "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=detect_leaks=0 " +
         std::string(STORYLINE_MPIEXEC) + " -np " + std::to_string(ranks) +
         " --oversubscribe --mca mpi_yield_when_idle 1 " + STORYLINE_CLI;
}

inline CommandResult run_mpi(int ranks, const std::string& args) {
  TempDir dir;
  const std::string out = dir.path("out"), err = dir.path("err");
  const int status =
      std::system((mpirun(ranks) + " " + args + " >" + out + " 2>" + err + " </dev/null").c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

// A generated corpus with planted copies in four files: plain (split between ranks), gzip and zstd
// (whole), and one with bad lines of each kind between good ones.
inline std::string make_inputs(TempDir& dir, const std::string& generate = "generate -n 2400 --seed 11") {
  EXPECT_EQ(run_cli(generate + " -o " + dir.path("gen.jsonl")).exit_code, 0);
  const std::string all = read_file(dir.path("gen.jsonl"));
  std::vector<std::string> part(4);
  std::size_t line = 0;
  for (std::size_t at = 0; at < all.size(); ++line) {
    const std::size_t end = all.find('\n', at) + 1;
    part[line * 4 / 2400] += all.substr(at, end - at);
    at = end;
  }
  write_file(dir.path("a.jsonl"), part[0]);
  write_gzip(dir.path("b.jsonl.gz"), part[1]);
  write_zstd(dir.path("c.jsonl.zst"), part[2]);
  const std::size_t half = part[3].find('\n', part[3].size() / 2) + 1;
  write_file(dir.path("d.jsonl"),
             part[3].substr(0, half) + "{\"id\": broken\n\n{\"text\":\"no id, so named by line\"}\n" +
                 "{\"id\":\"bad\xff\",\"text\":\"invalid \xfe UTF-8\"}\n" + part[3].substr(half));
  return dir.path("a.jsonl") + " " + dir.path("b.jsonl.gz") + " " + dir.path("c.jsonl.zst") + " " +
         dir.path("d.jsonl");
}

}  // namespace storyline::test
