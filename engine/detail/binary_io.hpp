// Checksummed little-endian binary files: every format starts with a magic and a version and ends with
// the XXH3-64 of all bytes before it.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace storyline::detail {

/// Writes to path.tmp and renames over path on finish(), so a crash never leaves half a file. Small
/// values collect in a buffer: the checksum and the system calls see large pieces.
class BinaryWriter {
 public:
  explicit BinaryWriter(const std::string& path);
  ~BinaryWriter();
  BinaryWriter(const BinaryWriter&) = delete;
  BinaryWriter& operator=(const BinaryWriter&) = delete;

  void bytes(const void* data, std::size_t size) {
    if (size == 0) return;  // an empty vector's data() may be null, which memcpy must not get
    if (size <= buffer_.size() - used_) {
      std::memcpy(buffer_.data() + used_, data, size);
      used_ += size;
    } else {
      write_through(data, size);
    }
  }
  template <typename T>
  void value(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes(&v, sizeof v);
  }
  void string(std::string_view s) {
    value(static_cast<std::uint32_t>(s.size()));
    bytes(s.data(), s.size());
  }
  /// Appends the checksum, flushes, and moves the file into place. Throws IoError on failure.
  void finish();

 private:
  void write_through(const void* data, std::size_t size);
  void flush();
  void write_all(const void* data, std::size_t size);

  std::string path_, tmp_path_;
  int fd_ = -1;
  XXH3_state_t* state_ = nullptr;
  std::vector<char> buffer_;
  std::size_t used_ = 0;
};

/// Reads a file written by BinaryWriter. Every read checks the remaining size first, so a corrupted
/// length never causes a huge allocation; failures throw CorruptIndex naming the file.
class BinaryReader {
 public:
  explicit BinaryReader(const std::string& path);
  ~BinaryReader();
  BinaryReader(const BinaryReader&) = delete;
  BinaryReader& operator=(const BinaryReader&) = delete;

  void bytes(void* data, std::size_t size) {
    if (size == 0) return;  // as in BinaryWriter::bytes
    if (size <= end_ - pos_) {
      std::memcpy(data, buffer_.data() + pos_, size);
      pos_ += size;
    } else {
      read_through(data, size);
    }
  }
  template <typename T>
  T value() {
    static_assert(std::is_trivially_copyable_v<T>);
    T v;
    bytes(&v, sizeof v);
    return v;
  }
  std::string string(std::size_t max_size);
  /// Bytes left before the checksum.
  std::uint64_t remaining() const { return payload_size_ - (loaded_ - (end_ - pos_)); }
  /// Checks that everything was read and that the checksum matches.
  void finish();
  [[noreturn]] void fail(const std::string& what) const;

 private:
  void read_through(void* data, std::size_t size);
  // Reads up to `size` payload bytes into `out`, hashing them; returns how many (0 at the end).
  std::size_t load(char* out, std::size_t size);

  std::string path_;
  int fd_ = -1;
  XXH3_state_t* state_ = nullptr;
  std::uint64_t payload_size_ = 0;
  std::uint64_t loaded_ = 0;  // payload bytes read from the file (and hashed)
  std::vector<char> buffer_;
  std::size_t pos_ = 0, end_ = 0;  // the unread part of buffer_
};

}  // namespace storyline::detail
