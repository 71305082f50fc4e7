// The process's resident memory, as Linux counts it (/proc/self/status), for the jobs' figures.
#pragma once

#include <cstdint>

namespace storyline::detail {

/// The peak resident set (VmHWM) in KiB since the process started; 0 where /proc is not readable. The
/// kernel updates it lazily, so it can read a little lower after memory is given back. (It
/// could be reset per phase through /proc/self/clear_refs, but that resets what /usr/bin/time and
/// getrusage report as the process's peak too, so it is not.)
std::uint64_t peak_rss_kb();

}  // namespace storyline::detail
