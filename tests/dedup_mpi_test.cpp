// `storyline dedup` under mpirun (engine/dist/): the same bytes as one process for every rank count,
// with and without an index of earlier runs, and a failing rank fails the whole job without leaving an
// output.
#include <gtest/gtest.h>

#include <filesystem>

#include "mpi_test_util.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

using test::make_inputs;
using test::run_cli;
using test::run_mpi;
using test::TempDir;

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
}

// Three days of a crawl, each deduplicated against the index of the days before: an index saved by N
// ranks is one file per rank and a manifest, loads on N ranks, and gives the bytes one process gives
// with its single index file, every day.
TEST(DedupMpi, IndexSavedByRanksLoadsOnAsManyAndMatchesOneProcess) {
  TempDir dir;
  ASSERT_EQ(run_cli("generate -n 3000 --seed 12 -o " + dir.path("gen.jsonl")).exit_code, 0);
  const std::string all = test::read_file(dir.path("gen.jsonl"));
  std::vector<std::string> day(3);
  std::size_t line = 0;
  for (std::size_t at = 0; at < all.size(); ++line) {
    const std::size_t end = all.find('\n', at) + 1;
    day[line * 3 / 3000] += all.substr(at, end - at);
    if (line < 40) day[1] += all.substr(at, end - at);  // ids seen on day 0: not indexed twice
    at = end;
  }
  for (int d = 0; d < 3; ++d) test::write_file(dir.path("day" + std::to_string(d)), day[d]);
  const auto outputs = [&](const std::string& tag) {
    return " -o " + dir.path(tag + ".kept") + " --annotate " + dir.path(tag + ".ann") + " --groups " +
           dir.path(tag + ".groups");
  };
  // One process: day 0 starts the index; day 1 reads it and saves another; day 2 reads and replaces that.
  const auto step = [&](int ranks, const std::string& tag, int d, const std::string& index_args) {
    const std::string args =
        "dedup " + dir.path("day" + std::to_string(d)) + outputs(tag + std::to_string(d)) + index_args;
    return ranks == 0 ? run_cli(args) : run_mpi(ranks, args);
  };
  for (const int ranks : {0, 2, 3}) {
    const std::string tag = "np" + std::to_string(ranks) + "-";
    const std::string i0 = dir.path(tag + "i0"), i1 = dir.path(tag + "i1");
    auto r = step(ranks, tag, 0, " --save-index " + i0);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = step(ranks, tag, 1, " --index " + i0 + " --save-index " + i1);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("1,000 documents loaded"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("40 documents not saved"), std::string::npos) << r.err;
    r = step(ranks, tag, 2, " --index " + i1 + " --save-index " + i1);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("2,000 documents loaded"), std::string::npos) << r.err;
    if (ranks == 0) {
      EXPECT_NE(test::read_file(dir.path(tag + "2.groups")).find("\"from_index\":true"), std::string::npos);
      continue;
    }
    for (const int d : {1, 2}) {
      for (const char* kind : {".kept", ".ann", ".groups"}) {
        EXPECT_EQ(test::read_file(dir.path(tag + std::to_string(d) + kind)),
                  test::read_file(dir.path("np0-" + std::to_string(d) + kind)))
            << kind << " of day " << d << " at " << ranks << " ranks";
      }
    }
    // The manifest and one file per rank; replacing the index removed the files of the one replaced.
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path(""))) {
      files += entry.path().filename().string().rfind(tag + "i1.", 0) == 0;
    }
    EXPECT_EQ(files, ranks) << "rank files of " << i1;
  }
  // Another number of ranks, or one process, is told how the index loads.
  const auto other =
      run_mpi(2, "dedup " + dir.path("day2") + " -o " + dir.path("x") + " --index " + dir.path("np3-i1"));
  EXPECT_NE(other.exit_code, 0);
  EXPECT_NE(other.err.find("saved by a job of 3 ranks"), std::string::npos) << other.err;
  EXPECT_NE(other.err.find("mpirun -np 3"), std::string::npos) << other.err;
  const auto single =
      run_cli("dedup " + dir.path("day2") + " -o " + dir.path("x") + " --index " + dir.path("np3-i1"));
  EXPECT_NE(single.exit_code, 0);
  EXPECT_NE(single.err.find("mpirun -np 3"), std::string::npos) << single.err;
  const auto plain =
      run_mpi(2, "dedup " + dir.path("day2") + " -o " + dir.path("x") + " --index " + dir.path("np0-i1"));
  EXPECT_NE(plain.exit_code, 0);
  EXPECT_NE(plain.err.find("load it without mpirun"), std::string::npos) << plain.err;
  // A rank whose file is gone fails the job, named.
  for (const auto& entry : std::filesystem::directory_iterator(dir.path(""))) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("np2-i1.", 0) == 0 && name.ends_with(".rank1")) std::filesystem::remove(entry.path());
  }
  const auto lost =
      run_mpi(2, "dedup " + dir.path("day2") + " -o " + dir.path("x") + " --index " + dir.path("np2-i1"));
  EXPECT_NE(lost.exit_code, 0);
  EXPECT_NE(lost.err.find("rank 1 of 2"), std::string::npos) << lost.err;
  EXPECT_NE(lost.err.find(".rank1"), std::string::npos) << lost.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path("x")));
}

}  // namespace
}  // namespace storyline
