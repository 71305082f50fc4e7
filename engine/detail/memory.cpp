#include "detail/memory.hpp"

#include <cstdlib>
#include <fstream>
#include <string>

namespace storyline::detail {

std::uint64_t peak_rss_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

}  // namespace storyline::detail
