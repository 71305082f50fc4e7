// An unnamed temporary file (in $TMPDIR, else /tmp) for data that waits on disk while the memory is
// needed elsewhere: written once in order, read back at any offset. Gone when closed, whatever happens.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace storyline::detail {

class ScratchFile {
 public:
  /// what names the data in error messages ("the term store"). Throws IoError.
  explicit ScratchFile(std::string what);
  ~ScratchFile();
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  /// Appends bytes; returns the offset they start at. Throws IoError.
  std::uint64_t append(std::span<const std::uint8_t> bytes);
  template <class T>
  std::uint64_t append(std::span<const T> values) {
    return append(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(values.data()),
                                                values.size_bytes()));
  }
  /// Reads into out from offset (thread-safe). Throws IoError.
  void read(std::uint64_t offset, std::span<std::uint8_t> out) const;
  template <class T>
  void read(std::uint64_t offset, std::span<T> out) const {
    read(offset, std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(out.data()), out.size_bytes()));
  }
  std::uint64_t size() const { return size_; }

 private:
  std::string what_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace storyline::detail
