#include "dist/input_split.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "storyline/error.hpp"

namespace storyline::dist {
namespace {

struct FileInfo {
  std::uint64_t size = 0;
  bool compressed = false;
};

// Closes a descriptor on scope exit.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

int open_or_throw(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError("cannot open '" + path + "': " + std::strerror(errno));
  return fd;
}

std::size_t pread_or_throw(int fd, const std::string& path, char* data, std::size_t size, std::uint64_t at) {
  for (;;) {
    const ssize_t n = ::pread(fd, data, size, static_cast<off_t>(at));
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) throw IoError("cannot read '" + path + "': " + std::strerror(errno));
  }
}

FileInfo inspect(const std::string& path) {
  STORYLINE_CHECK_ARG(path != "-", "stdin cannot be split between ranks: name the input files");
  const Fd f{open_or_throw(path)};
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) throw IoError("cannot stat '" + path + "': " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) {
    throw IoError("'" + path + "' is not a regular file: a distributed job splits files by byte ranges");
  }
  FileInfo info;
  info.size = static_cast<std::uint64_t>(st.st_size);
  unsigned char magic[4] = {0, 0, 0, 0};
  const std::size_t got = pread_or_throw(f.fd, path, reinterpret_cast<char*>(magic), 4, 0);
  info.compressed =
      (got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) ||
      (got >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd);
  return info;
}

// The first line start at or after at in a plain file (its size when none follows).
std::uint64_t next_line_start(const std::string& path, std::uint64_t size, std::uint64_t at) {
  if (at == 0 || at >= size) return std::min(at, size);
  const Fd f{open_or_throw(path)};
  std::vector<char> buffer(std::size_t{1} << 16);
  // A line starts at `at` when the byte before it is a newline: search from at - 1.
  for (std::uint64_t pos = at - 1; pos < size;) {
    const std::size_t n = pread_or_throw(f.fd, path, buffer.data(), buffer.size(), pos);
    if (n == 0) break;
    if (const void* nl = std::memchr(buffer.data(), '\n', n)) {
      return pos + static_cast<std::uint64_t>(static_cast<const char*>(nl) - buffer.data()) + 1;
    }
    pos += n;
  }
  return size;
}

}  // namespace

std::vector<std::vector<InputPart>> split_inputs(const std::vector<std::string>& paths, unsigned ranks) {
  STORYLINE_CHECK_ARG(ranks > 0, "at least one rank");
  std::vector<FileInfo> files;
  std::vector<std::uint64_t> start{0};  // file f spans [start[f], start[f + 1]) of all bytes
  for (const std::string& path : paths) {
    files.push_back(inspect(path));
    start.push_back(start.back() + files.back().size);
  }
  const std::uint64_t total = start.back();
  // Cut k (between rank k - 1 and rank k) near k * total / ranks, moved to a line start of a plain
  // file or to the nearer end of a compressed one; cuts never go backwards.
  std::vector<std::uint64_t> cut(ranks + 1, total);
  cut[0] = 0;
  for (unsigned k = 1; k < ranks; ++k) {
    const std::uint64_t target = static_cast<std::uint64_t>(static_cast<long double>(total) * k / ranks);
    const auto f =
        static_cast<std::size_t>(std::upper_bound(start.begin(), start.end(), target) - start.begin()) - 1;
    std::uint64_t at = target;
    if (f < files.size()) {
      const std::uint64_t offset = target - start[f];
      if (files[f].compressed) {
        at = offset * 2 < files[f].size ? start[f] : start[f + 1];
      } else {
        at = start[f] + next_line_start(paths[f], files[f].size, offset);
      }
    }
    cut[k] = std::max(at, cut[k - 1]);
  }
  std::vector<std::vector<InputPart>> parts(ranks);
  for (std::size_t f = 0; f < files.size(); ++f) {
    const auto file = static_cast<std::uint32_t>(f);
    if (files[f].size == 0) {  // read by the rank whose share holds its position (for its errors)
      unsigned r = 0;
      while (r + 1 < ranks && cut[r + 1] <= start[f]) ++r;
      parts[r].push_back(InputPart{file});
      continue;
    }
    for (unsigned r = 0; r < ranks; ++r) {
      const std::uint64_t lo = std::max(cut[r], start[f]), hi = std::min(cut[r + 1], start[f + 1]);
      if (lo >= hi) continue;
      if (lo == start[f] && hi == start[f + 1]) {
        parts[r].push_back(InputPart{file});
      } else {
        parts[r].push_back(InputPart{file, lo - start[f], hi - start[f], 1});
      }
    }
  }
  return parts;
}

std::uint64_t count_newlines(const std::string& path, std::uint64_t begin, std::uint64_t end) {
  const Fd f{open_or_throw(path)};
  std::vector<char> buffer(std::size_t{1} << 20);
  std::uint64_t count = 0;
  for (std::uint64_t pos = begin; pos < end;) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), end - pos));
    const std::size_t n = pread_or_throw(f.fd, path, buffer.data(), want, pos);
    if (n == 0) throw IoError("'" + path + "' is shorter than when the job started");
    count += static_cast<std::uint64_t>(std::count(buffer.data(), buffer.data() + n, '\n'));
    pos += n;
  }
  return count;
}

}  // namespace storyline::dist
