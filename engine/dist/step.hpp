// How the ranks of a distributed job fail together: a step that touches only one rank's data runs on
// every rank, then all learn whether any failed, clean up, and throw JobFailed, so that no rank waits
// forever in a collective call for one that gave up.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <utility>

#include "dist/comm.hpp"

namespace storyline::dist {

/// Thrown on every rank when a rank failed.
struct JobFailed {
  std::uint64_t ranks = 0;  ///< how many ranks failed
  std::string cause;        ///< why this rank failed ("" when it did not, or when rank 0 says it)
};

/// Thrown inside a step by a rank that fails without a message of its own (rank 0 gives it).
struct Quiet {};

class Steps {
 public:
  /// cleanup runs on every rank before JobFailed is thrown.
  Steps(Comm& comm, std::function<void()> cleanup) : comm_(comm), cleanup_(std::move(cleanup)) {}

  /// Runs step here (collective: every rank calls it), then throws JobFailed on every rank if one failed.
  template <class F>
  void run(F&& step) {
    bool ok = true;
    std::string cause;
    try {
      step();
    } catch (const Quiet&) {
      ok = false;
    } catch (const std::exception& e) {
      ok = false;
      cause = e.what();
    }
    const std::uint64_t failed = comm_.sum(ok ? 0 : 1);
    if (failed == 0) return;
    if (cleanup_) cleanup_();
    throw JobFailed{failed, cause};
  }

  /// Inside a step, for a verdict every rank reaches alike: rank 0 throws InvalidArgument(why), the
  /// others fail quietly.
  [[noreturn]] void refuse(const std::string& why) const;

 private:
  Comm& comm_;
  std::function<void()> cleanup_;
};

}  // namespace storyline::dist
