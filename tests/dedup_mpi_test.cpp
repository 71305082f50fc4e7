// `storyline dedup` under mpirun (engine/dist/): the same bytes as one process for every rank count,
// and a failing rank fails the whole job without leaving an output.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.hpp"

namespace storyline {
namespace {

using test::run_cli;
using test::TempDir;

// mpirun as root needs its consent; ranks beyond the cores are allowed, and idle ranks yield. Under
// AddressSanitizer, leak detection is off for the ranks only: Open MPI does not free what MPI_Init
// allocates in its dlopened components, whose frames no suppression can name (address errors are still
// caught; every other test keeps leak detection).
std::string mpirun(int ranks) {
  return "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=detect_leaks=0 " +
         std::string(STORYLINE_MPIEXEC) + " -np " + std::to_string(ranks) +
         " --oversubscribe --mca mpi_yield_when_idle 1 " + STORYLINE_CLI;
}

test::CommandResult run_mpi(int ranks, const std::string& args) {
  TempDir dir;
  const std::string out = dir.path("out"), err = dir.path("err");
  const int status =
      std::system((mpirun(ranks) + " " + args + " >" + out + " 2>" + err + " </dev/null").c_str());
  test::CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = test::read_file(out);
  r.err = test::read_file(err);
  return r;
}

// A generated corpus with planted copies in four files: plain (split between ranks), gzip and zstd
// (whole), and one with bad lines of each kind between good ones.
std::string make_inputs(TempDir& dir) {
  EXPECT_EQ(run_cli("generate -n 2400 --seed 11 -o " + dir.path("gen.jsonl")).exit_code, 0);
  const std::string all = test::read_file(dir.path("gen.jsonl"));
  std::vector<std::string> part(4);
  std::size_t line = 0;
  for (std::size_t at = 0; at < all.size(); ++line) {
    const std::size_t end = all.find('\n', at) + 1;
    part[line * 4 / 2400] += all.substr(at, end - at);
    at = end;
  }
  test::write_file(dir.path("a.jsonl"), part[0]);
  test::write_gzip(dir.path("b.jsonl.gz"), part[1]);
  test::write_zstd(dir.path("c.jsonl.zst"), part[2]);
  const std::size_t half = part[3].find('\n', part[3].size() / 2) + 1;
  test::write_file(dir.path("d.jsonl"),
                   part[3].substr(0, half) + "{\"id\": broken\n\n{\"text\":\"no id, so named by line\"}\n" +
                       "{\"id\":\"bad\xff\",\"text\":\"invalid \xfe UTF-8\"}\n" + part[3].substr(half));
  return dir.path("a.jsonl") + " " + dir.path("b.jsonl.gz") + " " + dir.path("c.jsonl.zst") + " " +
         dir.path("d.jsonl");
}

TEST(DedupMpi, SameBytesAsOneProcessForEveryRankCount) {
  TempDir dir;
  const std::string inputs = make_inputs(dir);
  const auto outputs = [&](const std::string& tag) {
    return " -o " + dir.path(tag + ".kept") + " --annotate " + dir.path(tag + ".ann") + " --groups " +
           dir.path(tag + ".groups") + " --rejects " + dir.path(tag + ".rejects");
  };
  const auto single = run_cli("dedup " + inputs + outputs("one"));
  ASSERT_EQ(single.exit_code, 0) << single.err;
  ASSERT_GT(test::read_file(dir.path("one.groups")).size(), 1000u) << "the corpus must hold duplicates";
  ASSERT_NE(test::read_file(dir.path("one.rejects")).find("\"line\":"), std::string::npos);
  for (const int ranks : {1, 2, 3}) {
    const std::string tag = "np" + std::to_string(ranks);
    const auto r = run_mpi(ranks, "dedup " + inputs + outputs(tag));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("distributed: " + std::to_string(ranks) + " ranks"), std::string::npos) << r.err;
    for (const char* kind : {".kept", ".ann", ".groups", ".rejects"}) {
      EXPECT_EQ(test::read_file(dir.path(tag + kind)), test::read_file(dir.path(std::string("one") + kind)))
          << kind << " at " << ranks << " ranks";
    }
    for (const auto& entry : std::filesystem::directory_iterator(dir.path(""))) {
      EXPECT_EQ(entry.path().string().find("storyline-tmp"), std::string::npos) << entry.path();
    }
  }
  // Verified by exact Jaccard of the shingle sets, which travel with the fingerprints.
  const auto exact = run_cli("dedup --verify exact " + inputs + outputs("exact1"));
  ASSERT_EQ(exact.exit_code, 0) << exact.err;
  const auto exact2 = run_mpi(2, "dedup --verify exact " + inputs + outputs("exact2"));
  ASSERT_EQ(exact2.exit_code, 0) << exact2.err;
  for (const char* kind : {".kept", ".ann", ".groups"}) {
    EXPECT_EQ(test::read_file(dir.path(std::string("exact2") + kind)),
              test::read_file(dir.path(std::string("exact1") + kind)))
        << kind << " with --verify exact";
  }
  EXPECT_NE(test::read_file(dir.path("exact1.groups")), test::read_file(dir.path("one.groups")))
      << "exact similarities differ from estimated ones";
  // stdout: rank 0 writes the ranks' parts in order.
  const auto piped = run_mpi(2, "dedup " + inputs + " -o - -q");
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.out, test::read_file(dir.path("one.kept")));
}

TEST(DedupMpi, AFailingRankFailsTheJobAndLeavesNoOutput) {
  TempDir dir;
  const std::string inputs = make_inputs(dir);
  // The broken line is in the last file, read by the last rank: --strict stops that rank.
  const auto strict = run_mpi(2, "dedup --strict " + inputs + " -o " + dir.path("kept.jsonl"));
  EXPECT_NE(strict.exit_code, 0);
  EXPECT_NE(strict.err.find("rank 1 of 2"), std::string::npos) << strict.err;
  EXPECT_NE(strict.err.find("d.jsonl:"), std::string::npos) << strict.err;
  EXPECT_NE(strict.err.find("no output was written"), std::string::npos) << strict.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path("kept.jsonl")));
  for (const auto& entry : std::filesystem::directory_iterator(dir.path(""))) {
    EXPECT_EQ(entry.path().string().find("storyline-tmp"), std::string::npos) << entry.path();
  }
  const auto missing =
      run_mpi(2, "dedup " + inputs + " " + dir.path("missing.jsonl") + " -o " + dir.path("kept.jsonl"));
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("missing.jsonl"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path("kept.jsonl")));
  // Not distributed yet, and said so.
  const auto indexed =
      run_mpi(2, "dedup " + inputs + " -o " + dir.path("kept.jsonl") + " --save-index " + dir.path("i.bin"));
  EXPECT_NE(indexed.exit_code, 0);
  EXPECT_NE(indexed.err.find("not distributed yet"), std::string::npos) << indexed.err;
}

}  // namespace
}  // namespace storyline
