// The document every stage works on, and the dates it carries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace storyline {

/// Dense index of a document inside one run or one index (0, 1, 2, ... in arrival order).
using DocIndex = std::uint32_t;

/// Date value meaning "no date".
inline constexpr std::int32_t kNoDate = INT32_MIN;

/// One input record. Owns its strings.
struct Document {
  std::string id;               ///< the record's id, as text (numbers are kept as their JSON text)
  std::string title;            ///< may be empty
  std::string text;             ///< the body; valid UTF-8 (invalid bytes were replaced by U+FFFD)
  std::int32_t date = kNoDate;  ///< days since 1970-01-01 (UTC), or kNoDate
};

/// Parses an ISO 8601 date: YYYY, YYYY-MM, YYYY-MM-DD, optionally followed by 'T' or ' ' and a time
/// (which is ignored, as is any zone). A missing month or day counts as the first.
/// Returns days since 1970-01-01, or nullopt when the text is not such a date. Thread-safe.
std::optional<std::int32_t> parse_date(std::string_view text);

/// Formats days since 1970-01-01 as YYYY-MM-DD; kNoDate gives "". Thread-safe.
std::string format_date(std::int32_t days);

}  // namespace storyline
