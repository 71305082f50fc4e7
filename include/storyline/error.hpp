// Exceptions thrown by storyline. The library never prints, exits or aborts on user input; it throws
// one of these and the caller (the CLI, or your program) decides what to do.
#pragma once

#include <stdexcept>
#include <string>

namespace storyline {

/// Base of every exception storyline throws. what() names the problem and, for input errors, the file
/// and line.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A caller passed a value outside its documented range (a parameter, an option).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// A file could not be opened, read or written, or a compressed stream ended early.
class IoError : public Error {
 public:
  using Error::Error;
};

/// A record could not be parsed (malformed JSON, wrong field type). Thrown only in strict mode; the
/// default reader reports bad records to a RejectSink instead.
class ParseError : public Error {
 public:
  using Error::Error;
};

/// A saved index is truncated, corrupted, of another format version, or not an index at all.
class CorruptIndex : public Error {
 public:
  using Error::Error;
};

namespace detail {
[[noreturn]] void throw_check_failure(const char* kind, const char* condition, const std::string& message,
                                      const char* function, int line);
}  // namespace detail

}  // namespace storyline

/// Throws storyline::InvalidArgument naming the failed condition, the function and the line when cond is
/// false. msg is any expression convertible to std::string.
#define STORYLINE_CHECK_ARG(cond, msg)                                                               \
  do {                                                                                               \
    if (!(cond)) {                                                                                   \
      ::storyline::detail::throw_check_failure("InvalidArgument", #cond, (msg), __func__, __LINE__); \
    }                                                                                                \
  } while (0)

/// Throws storyline::CorruptIndex naming the failed condition when cond is false.
#define STORYLINE_CHECK_INDEX(cond, msg)                                                          \
  do {                                                                                            \
    if (!(cond)) {                                                                                \
      ::storyline::detail::throw_check_failure("CorruptIndex", #cond, (msg), __func__, __LINE__); \
    }                                                                                             \
  } while (0)
