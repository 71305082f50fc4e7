#include "detail/binary_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "storyline/error.hpp"

namespace storyline::detail {
namespace {

constexpr std::size_t kBufferBytes = std::size_t{1} << 20;

}  // namespace

BinaryWriter::BinaryWriter(const std::string& path)
    : path_(path), tmp_path_(path + ".tmp"), buffer_(kBufferBytes) {
  fd_ = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd_ < 0) throw IoError("cannot write '" + tmp_path_ + "': " + std::strerror(errno));
  state_ = XXH3_createState();
  XXH3_64bits_reset(state_);
}

BinaryWriter::~BinaryWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    std::remove(tmp_path_.c_str());
  }
  XXH3_freeState(state_);
}

void BinaryWriter::write_all(const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw IoError("cannot write '" + tmp_path_ + "': " + std::strerror(errno));
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void BinaryWriter::flush() {
  XXH3_64bits_update(state_, buffer_.data(), used_);
  write_all(buffer_.data(), used_);
  used_ = 0;
}

void BinaryWriter::write_through(const void* data, std::size_t size) {
  flush();
  if (size < buffer_.size()) {
    std::memcpy(buffer_.data(), data, size);
    used_ = size;
  } else {
    XXH3_64bits_update(state_, data, size);
    write_all(data, size);
  }
}

void BinaryWriter::finish() {
  flush();
  const std::uint64_t checksum = XXH3_64bits_digest(state_);
  write_all(&checksum, sizeof checksum);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw IoError("cannot write '" + tmp_path_ + "': " + std::strerror(errno));
  if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    throw IoError("cannot rename '" + tmp_path_ + "' to '" + path_ + "': " + std::strerror(errno));
  }
}

BinaryReader::BinaryReader(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw IoError("cannot open '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(std::uint64_t))) {
    ::close(fd_);  // the destructor does not run for a throwing constructor
    fd_ = -1;
    fail("file too short to be an index");
  }
  payload_size_ = static_cast<std::uint64_t>(st.st_size) - sizeof(std::uint64_t);
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  state_ = XXH3_createState();
  XXH3_64bits_reset(state_);
  buffer_.resize(static_cast<std::size_t>(std::clamp<std::uint64_t>(payload_size_, 64, kBufferBytes)));
}

BinaryReader::~BinaryReader() {
  if (fd_ >= 0) ::close(fd_);
  XXH3_freeState(state_);
}

void BinaryReader::fail(const std::string& what) const {
  throw CorruptIndex("'" + path_ + "' is not a valid storyline index: " + what);
}

std::size_t BinaryReader::load(char* out, std::size_t size) {
  size = static_cast<std::size_t>(std::min<std::uint64_t>(size, payload_size_ - loaded_));
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd_, out + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(std::string("read error: ") + std::strerror(errno));
    if (n == 0) fail("read error: the file shrank while being read");
    got += static_cast<std::size_t>(n);
  }
  XXH3_64bits_update(state_, out, got);
  loaded_ += got;
  return got;
}

void BinaryReader::read_through(void* data, std::size_t size) {
  if (size > remaining()) fail("truncated (needs " + std::to_string(size) + " more bytes)");
  char* out = static_cast<char*>(data);
  const std::size_t buffered = end_ - pos_;
  std::memcpy(out, buffer_.data() + pos_, buffered);
  out += buffered;
  size -= buffered;
  pos_ = end_ = 0;
  if (size >= buffer_.size()) {
    load(out, size);  // large reads skip the buffer
  } else {
    end_ = load(buffer_.data(), buffer_.size());
    std::memcpy(out, buffer_.data(), size);
    pos_ = size;
  }
}

std::string BinaryReader::string(std::size_t max_size) {
  const auto size = value<std::uint32_t>();
  if (size > max_size || size > remaining()) fail("string length " + std::to_string(size) + " out of range");
  std::string s(size, '\0');
  bytes(s.data(), size);
  return s;
}

void BinaryReader::finish() {
  if (remaining() != 0) fail(std::to_string(remaining()) + " unexpected bytes before the checksum");
  std::uint64_t stored = 0;
  std::size_t got = 0;
  while (got < sizeof stored) {
    const ssize_t n = ::pread(fd_, reinterpret_cast<char*>(&stored) + got, sizeof stored - got,
                              static_cast<off_t>(payload_size_ + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("missing checksum");
    got += static_cast<std::size_t>(n);
  }
  if (stored != XXH3_64bits_digest(state_)) fail("checksum mismatch (the file is corrupted)");
}

}  // namespace storyline::detail
