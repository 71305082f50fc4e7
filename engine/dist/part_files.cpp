#include "dist/part_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "detail/json_out.hpp"
#include "storyline/error.hpp"

namespace storyline::dist {
namespace {

std::string read_part(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open '" + path + "'");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void copy_at(const std::string& from, const std::string& to, std::uint64_t offset, std::uint64_t size) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) throw IoError("cannot open '" + from + "': " + std::strerror(errno));
  const int out = ::open(to.c_str(), O_WRONLY | O_CLOEXEC);
  if (out < 0) {
    ::close(in);
    throw IoError("cannot open '" + to + "': " + std::strerror(errno));
  }
  std::vector<char> buffer(std::size_t{4} << 20);
  std::uint64_t done = 0;
  std::string error;
  while (done < size && error.empty()) {
    const ssize_t n = ::pread(in, buffer.data(), buffer.size(), static_cast<off_t>(done));
    if (n <= 0) {
      error = n == 0 ? "it is shorter than it was" : std::strerror(errno);
      break;
    }
    for (ssize_t w = 0; w < n;) {
      const ssize_t k = ::pwrite(out, buffer.data() + w, static_cast<std::size_t>(n - w),
                                 static_cast<off_t>(offset + done + static_cast<std::uint64_t>(w)));
      if (k < 0) {
        error = std::strerror(errno);
        break;
      }
      w += k;
    }
    done += static_cast<std::uint64_t>(n);
  }
  const bool closed = ::close(out) == 0;
  ::close(in);
  if (!error.empty()) throw IoError("cannot copy '" + from + "' into '" + to + "': " + error);
  if (!closed) throw IoError("cannot write '" + to + "': " + std::strerror(errno));
}

}  // namespace

void Steps::refuse(const std::string& why) const {
  if (comm_.rank() == 0) throw InvalidArgument(why);
  throw Quiet{};
}

PartFile part_file(const std::string& path, int rank) {
  PartFile o;
  o.path = path;
  if (path.empty()) return o;
  const std::string base = path == "-" ? std::string("storyline-stdout") : path;
  o.part = base + ".part" + std::to_string(rank) + ".storyline-tmp";
  if (path != "-") o.temp = path + ".storyline-tmp";
  return o;
}

void remove_part_files(const PartFile& file, int rank) {
  if (!file.part.empty()) std::remove(file.part.c_str());
  if (rank == 0 && !file.temp.empty()) std::remove(file.temp.c_str());
}

// Puts the ranks' parts of one output together: each rank copies its part to its offset in one
// file (rank 0 creates it at its full size); for stdout rank 0 writes them in rank order.
void assemble(Comm& comm, Steps& steps, const PartFile& o) {
  if (o.path.empty()) return;
  std::uint64_t size = 0;
  steps.run([&] {
    const int fd = ::open(o.part.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw IoError("cannot open '" + o.part + "': " + std::strerror(errno));
    size = static_cast<std::uint64_t>(::lseek(fd, 0, SEEK_END));
    ::close(fd);
  });
  if (o.path == "-") {
    steps.run([&] {
      if (comm.rank() != 0) {
        comm.send(0, read_part(o.part));
      } else {
        detail::OutputFile stdout_file("-");
        stdout_file.write(read_part(o.part));
        for (int r = 1; r < comm.size(); ++r) stdout_file.write(comm.receive(r));
        stdout_file.close();
      }
      std::remove(o.part.c_str());
    });
    return;
  }
  const std::uint64_t offset = comm.exclusive_sum(size);
  const std::uint64_t total = comm.sum(size);
  steps.run([&] {  // rank 0's part, at offset 0, becomes the file: only the others are copied
    if (comm.rank() != 0) return;
    if (std::rename(o.part.c_str(), o.temp.c_str()) != 0) {
      throw IoError("cannot rename '" + o.part + "' to '" + o.temp + "': " + std::strerror(errno));
    }
    if (::truncate(o.temp.c_str(), static_cast<off_t>(total)) != 0) {
      throw IoError("cannot extend '" + o.temp + "': " + std::strerror(errno));
    }
  });
  steps.run([&] {
    if (comm.rank() == 0) return;
    copy_at(o.part, o.temp, offset, size);
    std::remove(o.part.c_str());
  });
}

void publish(const PartFile& file) {
  if (file.path.empty() || file.path == "-") return;
  if (std::rename(file.temp.c_str(), file.path.c_str()) != 0) {
    throw IoError("cannot rename '" + file.temp + "' to '" + file.path + "': " + std::strerror(errno));
  }
}

}  // namespace storyline::dist
