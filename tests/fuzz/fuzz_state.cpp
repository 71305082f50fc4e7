// The feed's state loaders on any bytes. The first byte chooses: even, the bytes are a snapshot file
// (FeedEngine::load_snapshot); odd, they are the SQLite state database, opened and replayed as a
// restart would (FeedService). A damaged or foreign file is a storyline::Error, never a crash.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fuzz_util.hpp"
#include "storyline/error.hpp"
#include "storyline/feed.hpp"
#include "storyline/feed_service.hpp"

using namespace storyline;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  if (data[0] % 2 == 0) {
    const fuzz::MemFile file(data + 1, size - 1);
    try {
      FeedEngine engine{FeedParams{}};
      (void)engine.load_snapshot(file.path());
    } catch (const Error&) {
    }
    return 0;
  }
  static const std::string dir = [] {
    char pattern[] = "/tmp/storyline-fuzz-state-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) std::abort();
    return std::string(pattern);
  }();
  const std::string db = dir + "/state.db";
  for (const char* suffix : {"", "-wal", "-shm", ".snapshot"}) std::filesystem::remove(db + suffix);
  {
    std::ofstream out(db, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  }
  try {
    FeedServiceOptions options;
    options.sync_full = false;
    FeedService service(db, std::nullopt, options);
    (void)service.counts();
  } catch (const Error&) {
  }
  return 0;
}
