#include "detail/scratch_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "storyline/error.hpp"

namespace storyline::detail {

ScratchFile::ScratchFile(std::string what) : what_(std::move(what)) {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/storyline-scratch-XXXXXX";
  fd_ = ::mkstemp(path.data());
  if (fd_ < 0) throw IoError("cannot create a temporary file for " + what_ + " in " + path);
  ::unlink(path.c_str());
}

ScratchFile::~ScratchFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::uint64_t ScratchFile::append(std::span<const std::uint8_t> bytes) {
  const std::uint64_t at = size_;
  for (std::size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw IoError("cannot write " + what_ + " to a temporary file: " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  size_ += bytes.size();
  return at;
}

void ScratchFile::read(std::uint64_t offset, std::span<std::uint8_t> out) const {
  for (std::size_t done = 0; done < out.size();) {
    const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw IoError("cannot read " + what_ + " back from its temporary file: " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace storyline::detail
