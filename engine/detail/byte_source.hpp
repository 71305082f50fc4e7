// Plain, gzip and zstd byte streams behind one interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace storyline {

/// A stream of uncompressed bytes. Not thread-safe.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// Reads up to size bytes into data; returns the count, 0 at the end. Throws IoError on failure.
  virtual std::size_t read(char* data, std::size_t size) = 0;
  /// True when the stream ended inside a compressed frame (a cut or corrupt file).
  virtual bool truncated() const { return false; }
  /// On-disk bytes consumed so far.
  virtual std::uint64_t raw_bytes() const = 0;
};

/// Opens path ("-" is stdin) and picks the decoder from the first bytes: 1f 8b is gzip, 28 b5 2f fd is
/// zstd, anything else is plain. Throws IoError if the file cannot be opened.
std::unique_ptr<ByteSource> open_byte_source(const std::string& path);

/// Bytes [begin, end) of a plain (uncompressed) file, as they are. Throws IoError.
std::unique_ptr<ByteSource> open_byte_range(const std::string& path, std::uint64_t begin, std::uint64_t end);

}  // namespace storyline
