// The process's resident memory, as Linux counts it (/proc/self/status), for the jobs' figures.
#pragma once

#include <cstdint>

namespace storyline::detail {

/// The peak resident set (VmHWM) in KiB since the process started or since the last reset_peak_rss();
/// 0 where /proc is not readable.
std::uint64_t peak_rss_kb();

/// Starts a new peak at the current resident set (writes 5 to /proc/self/clear_refs, Linux 4.0 on), so
/// that the next peak_rss_kb() is the peak of what ran in between. Returns false where it cannot (the
/// next figure then still holds the earlier peak).
bool reset_peak_rss();

}  // namespace storyline::detail
