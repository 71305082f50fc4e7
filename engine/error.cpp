#include "storyline/error.hpp"

#include <string_view>

namespace storyline::detail {

void throw_check_failure(const char* kind, const char* condition, const std::string& message,
                         const char* function, int line) {
  std::string text =
      message + " (check '" + condition + "' failed in " + function + ", line " + std::to_string(line) + ")";
  if (std::string_view(kind) == "CorruptIndex") throw CorruptIndex(text);
  throw InvalidArgument(text);
}

}  // namespace storyline::detail
