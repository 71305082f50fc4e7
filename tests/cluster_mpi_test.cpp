// `storyline cluster` under mpirun (engine/dist/cluster_mpi.cpp): with the time blocks one process
// uses, the same bytes for every rank count; with its own blocks (one run per rank), stories and threads
// that agree with one process's; refusals and a failing rank as for dedup.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "mpi_test_util.hpp"
#include "storyline/metrics.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

using test::make_inputs;
using test::run_cli;
using test::run_mpi;
using test::TempDir;

const char* const kGenerate = "generate -n 2400 --seed 11 --event-size 8";

std::string outputs(TempDir& dir, const std::string& tag) {
  return " -o " + dir.path(tag + ".ann") + " --stories " + dir.path(tag + ".stories") + " --threads " +
         dir.path(tag + ".threads") + " --rejects " + dir.path(tag + ".rejects");
}

void expect_no_temporary_files(TempDir& dir) {
  for (const auto& entry : std::filesystem::directory_iterator(dir.path(""))) {
    EXPECT_EQ(entry.path().string().find("storyline-tmp"), std::string::npos) << entry.path();
  }
}

// B-cubed F1 of b's labels (field) against a's, over the ids of a.
double agreement(const std::string& a, const std::string& b, const std::string& field) {
  const LabeledIds first = read_labels(a, "id", field), second = read_labels(b, "id", field);
  std::unordered_map<std::string, std::string> label;
  for (std::size_t i = 0; i < second.ids.size(); ++i) label.emplace(second.ids[i], second.labels[i]);
  std::unordered_map<std::string, std::uint32_t> dense_a, dense_b;
  std::vector<std::uint32_t> gold, pred;
  for (std::size_t i = 0; i < first.ids.size(); ++i) {
    const auto it = label.find(first.ids[i]);
    if (it == label.end()) continue;
    gold.push_back(dense_a.emplace(first.labels[i], dense_a.size()).first->second);
    pred.push_back(dense_b.emplace(it->second, dense_b.size()).first->second);
  }
  EXPECT_EQ(gold.size(), first.ids.size()) << "every document of " << a << " is in " << b;
  return score_clustering(gold, pred).bcubed_f1;
}

TEST(ClusterMpi, SameBytesAsOneProcessWithTheSameTimeBlocks) {
  TempDir dir;
  const std::string inputs = make_inputs(dir, kGenerate);
  // Blocks of 300 dated documents: every rank count below gets these blocks (at most dated / ranks).
  const auto single = run_cli("cluster --time-block 300 " + inputs + outputs(dir, "one"));
  ASSERT_EQ(single.exit_code, 0) << single.err;
  ASSERT_NE(single.err.find("time blocks"), std::string::npos)
      << "the corpus must need blocks: " << single.err;
  ASSERT_NE(test::read_file(dir.path("one.rejects")).find("\"line\":"), std::string::npos);
  for (const int ranks : {1, 2, 3}) {
    const std::string tag = "np" + std::to_string(ranks);
    const auto r = run_mpi(ranks, "cluster --time-block 300 " + inputs + outputs(dir, tag));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("distributed: " + std::to_string(ranks) + " ranks"), std::string::npos) << r.err;
    for (const char* kind : {".ann", ".stories", ".threads", ".rejects"}) {
      EXPECT_EQ(test::read_file(dir.path(tag + kind)), test::read_file(dir.path(std::string("one") + kind)))
          << kind << " at " << ranks << " ranks";
    }
    expect_no_temporary_files(dir);
  }
}

// Without dates there is one block, clustered on rank 0: the same bytes as one process.
TEST(ClusterMpi, UndatedCorpusGivesTheBytesOfOneProcess) {
  TempDir dir;
  ASSERT_EQ(run_cli(std::string(kGenerate) + " -o " + dir.path("dated.jsonl")).exit_code, 0);
  const std::string undated =
      std::regex_replace(test::read_file(dir.path("dated.jsonl")), std::regex(",\"date\":\"[^\"]*\""), "");
  ASSERT_EQ(undated.find("\"date\""), std::string::npos);
  test::write_file(dir.path("undated.jsonl"), undated);
  const auto single = run_cli("cluster " + dir.path("undated.jsonl") + outputs(dir, "one"));
  ASSERT_EQ(single.exit_code, 0) << single.err;
  const auto r = run_mpi(2, "cluster " + dir.path("undated.jsonl") + outputs(dir, "np2"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* kind : {".ann", ".stories", ".threads"}) {
    EXPECT_EQ(test::read_file(dir.path(std::string("np2") + kind)),
              test::read_file(dir.path(std::string("one") + kind)))
        << kind;
  }
}

// Blocks of its own on each rank where one process clusters one block (ranks cut blocks of 100,000
// dated documents at least; --time-block makes them smaller here): the stories and threads agree
// (B-cubed F1 of one against the other) at 0.99 or more.
TEST(ClusterMpi, OwnTimeBlocksAgreeWithOneBlock) {
  TempDir dir;
  ASSERT_EQ(run_cli(std::string(kGenerate) + " -o " + dir.path("gen.jsonl")).exit_code, 0);
  const auto single = run_cli("cluster " + dir.path("gen.jsonl") + " -o " + dir.path("one.ann"));
  ASSERT_EQ(single.exit_code, 0) << single.err;
  EXPECT_EQ(single.err.find("time blocks"), std::string::npos) << "one process: one block";
  const auto same = run_mpi(2, "cluster " + dir.path("gen.jsonl") + " -o " + dir.path("np2.ann"));
  ASSERT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(same.err.find("time blocks"), std::string::npos) << "too few documents to divide";
  EXPECT_EQ(test::read_file(dir.path("np2.ann")), test::read_file(dir.path("one.ann")));
  const auto r =
      run_mpi(3, "cluster --time-block 600 " + dir.path("gen.jsonl") + " -o " + dir.path("np3.ann"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("stories clustered in 3 time blocks"), std::string::npos) << r.err;
  EXPECT_GE(agreement(dir.path("one.ann"), dir.path("np3.ann"), "story_id"), 0.99);
  EXPECT_GE(agreement(dir.path("one.ann"), dir.path("np3.ann"), "thread_id"), 0.99);
}

TEST(ClusterMpi, RefusalsAndAFailingRankFailTheJobAndLeaveNoOutput) {
  TempDir dir;
  const std::string inputs = make_inputs(dir, kGenerate);
  const std::string out = dir.path("ann.jsonl");
  const auto report = run_mpi(2, "cluster " + inputs + " -o " + out + " --report " + dir.path("r.html"));
  EXPECT_NE(report.exit_code, 0);
  EXPECT_NE(report.err.find("--report is made by one process"), std::string::npos) << report.err;
  const auto piped = run_mpi(2, "cluster - -o " + out);
  EXPECT_NE(piped.exit_code, 0);
  EXPECT_NE(piped.err.find("stdin cannot be split"), std::string::npos) << piped.err;
  // The broken line is in the last file, read by the last rank: --strict stops that rank.
  const auto strict = run_mpi(2, "cluster --strict " + inputs + " -o " + out + " --stories " + dir.path("s"));
  EXPECT_NE(strict.exit_code, 0);
  EXPECT_NE(strict.err.find("rank 1 of 2"), std::string::npos) << strict.err;
  EXPECT_NE(strict.err.find("d.jsonl:"), std::string::npos) << strict.err;
  EXPECT_NE(strict.err.find("no output was written"), std::string::npos) << strict.err;
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(dir.path("s")));
  expect_no_temporary_files(dir);
}

}  // namespace
}  // namespace storyline
