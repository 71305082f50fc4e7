#include "detail/byte_source.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "storyline/error.hpp"

namespace storyline {
namespace {

constexpr std::size_t kRawChunk = std::size_t{1} << 20;

// Owns a file descriptor and remembers the first bytes so the decoder can be chosen by magic.
class RawFile {
 public:
  explicit RawFile(const std::string& path) : path_(path) {
    if (path == "-") {
      fd_ = 0;
    } else {
      fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) throw IoError("cannot open '" + path + "': " + std::strerror(errno));
    }
  }
  ~RawFile() {
    if (fd_ > 0) ::close(fd_);
  }
  RawFile(const RawFile&) = delete;
  RawFile& operator=(const RawFile&) = delete;

  std::size_t read(char* data, std::size_t size) {
    for (;;) {
      const ssize_t n = ::read(fd_, data, size);
      if (n >= 0) {
        total_ += static_cast<std::uint64_t>(n);
        return static_cast<std::size_t>(n);
      }
      if (errno != EINTR) throw IoError("cannot read '" + path_ + "': " + std::strerror(errno));
    }
  }
  std::uint64_t total() const { return total_; }
  /// Moves to byte offset of a regular file. Throws IoError.
  void seek(std::uint64_t offset) {
    if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) {
      throw IoError("cannot seek in '" + path_ + "': " + std::strerror(errno));
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t total_ = 0;
};

// Bytes that were read to sniff the format are replayed before the rest of the file.
struct Prefetched {
  std::vector<char> bytes;
  std::size_t pos = 0;
};

class PlainSource final : public ByteSource {
 public:
  PlainSource(std::unique_ptr<RawFile> file, Prefetched head)
      : file_(std::move(file)), head_(std::move(head)) {}
  std::size_t read(char* data, std::size_t size) override {
    if (head_.pos < head_.bytes.size()) {
      const std::size_t n = std::min(size, head_.bytes.size() - head_.pos);
      std::memcpy(data, head_.bytes.data() + head_.pos, n);
      head_.pos += n;
      return n;
    }
    return file_->read(data, size);
  }
  std::uint64_t raw_bytes() const override { return file_->total(); }

 private:
  std::unique_ptr<RawFile> file_;
  Prefetched head_;
};

// Compressed sources read raw chunks into in_ and decode from there.
class CompressedSource : public ByteSource {
 public:
  CompressedSource(std::unique_ptr<RawFile> file, Prefetched head)
      : file_(std::move(file)), in_(std::move(head.bytes)) {
    in_.resize(std::max(in_.size(), kRawChunk));
  }
  bool truncated() const override { return truncated_; }
  std::uint64_t raw_bytes() const override { return file_->total(); }

 protected:
  // Makes sure unread raw input is available; returns false at the end of the file.
  bool refill() {
    if (in_pos_ < in_end_) return true;
    in_pos_ = 0;
    in_end_ = file_->read(in_.data(), in_.size());
    return in_end_ > 0;
  }
  std::unique_ptr<RawFile> file_;
  std::vector<char> in_;
  std::size_t in_pos_ = 0, in_end_ = 0;
  bool truncated_ = false;
  bool done_ = false;
};

class GzipSource final : public CompressedSource {
 public:
  GzipSource(std::unique_ptr<RawFile> file, Prefetched head, std::size_t head_size)
      : CompressedSource(std::move(file), std::move(head)) {
    in_end_ = head_size;
    std::memset(&stream_, 0, sizeof stream_);
    if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) throw IoError("zlib: inflateInit2 failed");
  }
  ~GzipSource() override { inflateEnd(&stream_); }

  std::size_t read(char* data, std::size_t size) override {
    if (done_) return 0;
    stream_.next_out = reinterpret_cast<Bytef*>(data);
    stream_.avail_out = static_cast<uInt>(size);
    while (stream_.avail_out == size) {
      if (in_pos_ >= in_end_ && !refill()) {
        // End of file: clean only if the last member was complete.
        truncated_ = in_member_;
        done_ = true;
        break;
      }
      stream_.next_in = reinterpret_cast<Bytef*>(in_.data() + in_pos_);
      stream_.avail_in = static_cast<uInt>(in_end_ - in_pos_);
      in_member_ = true;
      const int rc = inflate(&stream_, Z_NO_FLUSH);
      in_pos_ = in_end_ - stream_.avail_in;
      if (rc == Z_STREAM_END) {
        in_member_ = false;
        inflateReset(&stream_);  // a gzip file may hold several members
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        truncated_ = true;  // corrupt data: stop here and report it as a truncated input
        done_ = true;
        break;
      }
    }
    return size - stream_.avail_out;
  }

 private:
  z_stream stream_;
  bool in_member_ = false;
};

class ZstdSource final : public CompressedSource {
 public:
  ZstdSource(std::unique_ptr<RawFile> file, Prefetched head, std::size_t head_size)
      : CompressedSource(std::move(file), std::move(head)), stream_(ZSTD_createDStream()) {
    in_end_ = head_size;
    if (stream_ == nullptr) throw IoError("zstd: cannot create a decompression stream");
  }
  ~ZstdSource() override { ZSTD_freeDStream(stream_); }

  std::size_t read(char* data, std::size_t size) override {
    if (done_) return 0;
    // At most one block's worth per call (hardening #8): with room for a whole single-segment frame,
    // ZSTD_decompressStream decodes it in one pass and on damage returns nothing of it, so one flipped
    // byte lost every line of the file. Block by block, what precedes the damage is handed out first.
    ZSTD_outBuffer out{data, std::min(size, ZSTD_DStreamOutSize()), 0};
    while (out.pos == 0) {
      if (in_pos_ >= in_end_ && !flushing_ && !refill()) {
        truncated_ = in_frame_;
        done_ = true;
        break;
      }
      ZSTD_inBuffer in{in_.data(), in_end_, in_pos_};
      const std::size_t rc = ZSTD_decompressStream(stream_, &out, &in);
      in_pos_ = in.pos;
      if (ZSTD_isError(rc)) {
        truncated_ = true;
        done_ = true;
        break;
      }
      in_frame_ = rc != 0;
      // The decoder may hold output back until it is called again with room to spare.
      flushing_ = out.pos == out.size;
    }
    return out.pos;
  }

 private:
  ZSTD_DStream* stream_;
  bool in_frame_ = false;
  bool flushing_ = false;
};

}  // namespace

std::unique_ptr<ByteSource> open_byte_source(const std::string& path) {
  auto file = std::make_unique<RawFile>(path);
  Prefetched head;
  head.bytes.resize(kRawChunk);
  std::size_t got = 0;
  // Read until we have 4 bytes or the file ends, so short reads from pipes do not fool the sniffing.
  while (got < 4) {
    const std::size_t n = file->read(head.bytes.data() + got, head.bytes.size() - got);
    if (n == 0) break;
    got += n;
  }
  head.bytes.resize(got);
  const auto* b = reinterpret_cast<const unsigned char*>(head.bytes.data());
  if (got >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
    return std::make_unique<GzipSource>(std::move(file), std::move(head), got);
  }
  if (got >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) {
    return std::make_unique<ZstdSource>(std::move(file), std::move(head), got);
  }
  return std::make_unique<PlainSource>(std::move(file), std::move(head));
}

std::unique_ptr<ByteSource> open_byte_range(const std::string& path, std::uint64_t begin, std::uint64_t end) {
  // Bytes [begin, end) of a plain file: a PlainSource over a file moved to begin, cut at end.
  class RangeSource final : public ByteSource {
   public:
    RangeSource(std::unique_ptr<RawFile> file, std::uint64_t size) : file_(std::move(file)), left_(size) {}
    std::size_t read(char* data, std::size_t size) override {
      const std::size_t n = file_->read(data, static_cast<std::size_t>(std::min<std::uint64_t>(size, left_)));
      left_ -= n;
      return n;
    }
    std::uint64_t raw_bytes() const override { return file_->total(); }

   private:
    std::unique_ptr<RawFile> file_;
    std::uint64_t left_;
  };
  STORYLINE_CHECK_ARG(begin <= end, "a byte range ends before it begins");
  auto file = std::make_unique<RawFile>(path);
  file->seek(begin);
  return std::make_unique<RangeSource>(std::move(file), end - begin);
}

}  // namespace storyline
