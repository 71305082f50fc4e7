#include "detail/set_up_file.hpp"

#include <cstdlib>
#include <filesystem>

namespace storyline::detail {

std::string set_up_file(const char* env, const char* name) {
  if (const char* value = std::getenv(env); value != nullptr && *value != '\0') return value;
  std::error_code error;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return {};
  const auto beside = exe.parent_path() / name;
  return std::filesystem::exists(beside, error) ? beside.string() : std::string();
}

}  // namespace storyline::detail
