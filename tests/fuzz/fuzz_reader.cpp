// The line reader over any bytes, plain or compressed (gzip and zstd are detected by their magic bytes;
// the seeds hold both, so mutations truncate and flip bits inside real streams), and the parallel ingest
// over the same file: IoError or ParseError at most, never a crash, and every line accounted for.
#include <cstdlib>
#include <vector>

#include "fuzz_util.hpp"
#include "storyline/error.hpp"
#include "storyline/ingest.hpp"

using namespace storyline;

namespace {

class CountingSink final : public IngestSink {
 public:
  void reserve(DocIndex, std::size_t) override {}
  void process(const Document& doc, DocIndex, SourceLine) override {
    if (doc.id.empty()) std::abort();  // a missing id is named after the file and line
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::MemFile file(data, size);
  try {
    LineReader reader(file.path(), 4096);
    std::string line;
    std::uint64_t lines = 0;
    for (LineStatus s; (s = reader.next(line)) != LineStatus::kEnd;) {
      ++lines;
      if (s == LineStatus::kLine && line.size() > 4096) std::abort();
    }
    if (reader.line_number() != lines) std::abort();
    IngestParams params;
    params.max_line_bytes = 4096;
    CountingSink sink;
    const IngestStats stats = ingest(std::vector<std::string>{file.path()}, params, sink);
    if (stats.documents + stats.rejected() > stats.lines) std::abort();
  } catch (const Error&) {
  }
  return 0;
}
