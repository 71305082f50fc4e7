// Checksummed little-endian binary files: every format starts with a magic and a version and ends with
// the XXH3-64 of all bytes before it.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace storyline::detail {

/// Writes to path.tmp and renames over path on finish(), so a crash never leaves half a file.
class BinaryWriter {
 public:
  explicit BinaryWriter(const std::string& path);
  ~BinaryWriter();
  BinaryWriter(const BinaryWriter&) = delete;
  BinaryWriter& operator=(const BinaryWriter&) = delete;

  void bytes(const void* data, std::size_t size);
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
  std::string path_, tmp_path_;
  std::FILE* file_ = nullptr;
  XXH3_state_t* state_ = nullptr;
};

/// Reads a file written by BinaryWriter. Every read checks the remaining size first, so a corrupted
/// length never causes a huge allocation; failures throw CorruptIndex naming the file.
class BinaryReader {
 public:
  explicit BinaryReader(const std::string& path);
  ~BinaryReader();
  BinaryReader(const BinaryReader&) = delete;
  BinaryReader& operator=(const BinaryReader&) = delete;

  void bytes(void* data, std::size_t size);
  template <typename T>
  T value() {
    static_assert(std::is_trivially_copyable_v<T>);
    T v;
    bytes(&v, sizeof v);
    return v;
  }
  std::string string(std::size_t max_size);
  /// Bytes left before the checksum.
  std::uint64_t remaining() const { return payload_size_ - consumed_; }
  /// Checks that everything was read and that the checksum matches.
  void finish();
  [[noreturn]] void fail(const std::string& what) const;

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  XXH3_state_t* state_ = nullptr;
  std::uint64_t payload_size_ = 0;
  std::uint64_t consumed_ = 0;
};

}  // namespace storyline::detail
