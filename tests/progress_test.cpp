// The progress line of long batch commands (drawn only on a terminal; its text is tested here).
#include <gtest/gtest.h>

#include "cli/ingest_options.hpp"
#include "test_util.hpp"

namespace storyline::cli {
namespace {

IngestStats read_so_far(std::uint64_t documents, std::uint64_t raw_bytes) {
  IngestStats s;
  s.documents = documents;
  s.raw_bytes = s.bytes = raw_bytes;
  return s;
}

TEST(Progress, ReadingAFileOfKnownSizeShowsABarAndTheTimeLeft) {
  // A quarter read in 10 s: 30 s to go.
  const std::string line = Progress::line("read", read_so_far(2500, 25'000'000), 10.0, 100'000'000);
  EXPECT_EQ(
      line,
      "[read] ######------------------  25% 2,500 documents, 250 documents/s, 2.5 MB/s, 10.0 s, reading "
      "done in 0:30")
      << line;
}

TEST(Progress, UnknownSizeOrALaterPhaseShowsRatesOnly) {
  const std::string pipe = Progress::line("read", read_so_far(100, 1'000'000), 2.0, 0);
  EXPECT_EQ(pipe, "[read] 100 documents, 50 documents/s, 0.5 MB/s, 2.0 s");
  const std::string later = Progress::line("threads", read_so_far(100, 1'000'000), 4.0, 1'000'000);
  EXPECT_EQ(later.find('#'), std::string::npos);
  EXPECT_EQ(later.find("done in"), std::string::npos);
  EXPECT_EQ(later.rfind("[threads] 100 documents", 0), 0u) << later;
}

// On a terminal (a pseudo-terminal from script(1)) dedup draws the line; into a file, stderr holds the
// summary only.
TEST(Progress, DrawnOnATerminalOnly) {
  test::TempDir dir;
  ASSERT_EQ(test::run_cli("generate -n 20000 -o " + dir.path("in.jsonl")).exit_code, 0);
  const std::string dedup =
      std::string(STORYLINE_CLI) + " dedup " + dir.path("in.jsonl") + " -o " + dir.path("out");
  const auto piped = test::run_command(dedup);
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.err.find('\r'), std::string::npos);
  EXPECT_EQ(piped.err.find("[read]"), std::string::npos);
  const auto tty = test::run_command("script -qec '" + dedup + "' /dev/null");
  ASSERT_EQ(tty.exit_code, 0) << tty.err;
  EXPECT_NE(tty.out.find("[read] "), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find("documents/s"), std::string::npos) << tty.out;
}

}  // namespace
}  // namespace storyline::cli
