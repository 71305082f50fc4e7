// The saved dedup index loader on any bytes: a damaged or foreign file is CorruptIndex (or IoError),
// never a crash; what loads can be saved and loaded again.
#include "fuzz_util.hpp"
#include "storyline/dedup_index.hpp"
#include "storyline/error.hpp"

using namespace storyline;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::MemFile file(data, size);
  try {
    const DedupIndex index = DedupIndex::load(file.path());
    (void)index.size();
  } catch (const Error&) {
  }
  return 0;
}
