// The little of MPI the distributed jobs use, behind a header without <mpi.h>: start-up only when a
// launcher started the process, collective sums and scans, and all-to-all exchange of byte buffers in
// bounded rounds (every message at most kRoundBytes), counting the bytes sent.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace storyline::dist {

/// MPI_COMM_WORLD, initialised on construction (MPI_THREAD_FUNNELED: only this thread calls MPI) and
/// finalised on destruction. One per process.
class Comm {
 public:
  static constexpr std::size_t kRoundBytes = std::size_t{64} << 20;

  Comm();
  ~Comm();
  Comm(const Comm&) = delete;
  Comm& operator=(const Comm&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  const std::string& host() const { return host_; }
  /// Bytes this rank sent to other ranks so far.
  std::uint64_t bytes_sent() const { return bytes_sent_; }

  std::uint64_t sum(std::uint64_t value) const;
  std::uint64_t max(std::uint64_t value) const;
  /// Element-wise sums over all ranks, in place.
  void sum(std::vector<std::uint64_t>& values) const;
  /// Sum of value over the ranks before this one (0 on rank 0).
  std::uint64_t exclusive_sum(std::uint64_t value) const;
  /// value of every rank, in rank order.
  std::vector<std::uint64_t> all(std::uint64_t value) const;
  void barrier() const;
  /// Ends every rank of the job at once (for failures inside collective steps).
  [[noreturn]] void abort(int code) const;

  /// All-to-all: send[r] goes to rank r; returns what each rank sent here, indexed by sender (this
  /// rank's own buffer is moved, not copied). Large exchanges run in rounds of at most kRoundBytes.
  std::vector<std::string> exchange(std::vector<std::string> send);
  /// Point to point, in messages of at most kRoundBytes.
  void send(int to, std::string_view data);
  std::string receive(int from) const;

 private:
  int rank_ = 0;
  int size_ = 1;
  std::string host_;
  std::uint64_t bytes_sent_ = 0;
};

/// Appends trivially copyable values and strings to a byte buffer.
class Packer {
 public:
  explicit Packer(std::string& out) : out_(out) {}
  template <class T>
  void put(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  void put_string(std::string_view s) {
    put(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  template <class T>
  void put_span(const T* data, std::size_t count) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(data), count * sizeof(T));
  }

 private:
  std::string& out_;
};

/// Reads back what a Packer wrote, in the same order.
class Unpacker {
 public:
  explicit Unpacker(std::string_view in) : in_(in) {}
  bool done() const { return at_ == in_.size(); }
  template <class T>
  T get() {
    T value;
    std::memcpy(&value, in_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return value;
  }
  std::string_view get_string() {
    const auto n = get<std::uint32_t>();
    const std::string_view s = in_.substr(at_, n);
    at_ += n;
    return s;
  }
  template <class T>
  void get_span(T* data, std::size_t count) {
    std::memcpy(data, in_.data() + at_, count * sizeof(T));
    at_ += count * sizeof(T);
  }

 private:
  std::string_view in_;
  std::size_t at_ = 0;
};

}  // namespace storyline::dist
