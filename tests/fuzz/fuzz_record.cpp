// The JSONL record parser and the UTF-8 repair on any bytes: never throws, never crashes, and a
// record it accepts has a non-blank text and an id within the limit.
#include <cstdlib>

#include "fuzz_util.hpp"
#include "storyline/jsonl.hpp"

using namespace storyline;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static RecordParser batch{IngestParams{}};
  static RecordParser feed = [] {
    IngestParams p;
    p.max_id_bytes = kMaxFeedIdBytes;
    p.require_text = false;
    return RecordParser(p);
  }();
  const std::string_view line = fuzz::as_text(data, size);
  ParsedRecord record;
  for (RecordParser* parser : {&batch, &feed}) {
    parser->parse(line, record);
    if (!record.rejected) {
      if (record.doc.text.find_first_not_of(" \t\r\n") == std::string::npos) std::abort();
      if (parser == &feed && record.doc.id.size() > kMaxFeedIdBytes) std::abort();
    } else if (record.detail.empty()) {
      std::abort();  // every rejection says why
    }
  }
  std::string repaired;
  repair_utf8(line, repaired);
  std::string twice;
  if (repair_utf8(repaired, twice) != 0 || twice != repaired) std::abort();  // the repair is complete
  return 0;
}
