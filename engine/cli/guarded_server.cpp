#include "cli/guarded_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace storyline::cli {
namespace {

using Clock = std::chrono::steady_clock;

std::pair<std::string, int> address_of(const sockaddr_storage& address) {
  char host[INET6_ADDRSTRLEN] = {};
  int port = 0;
  if (address.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto* in = reinterpret_cast<const sockaddr_in6*>(&address);
    ::inet_ntop(AF_INET6, &in->sin6_addr, host, sizeof host);
    port = ntohs(in->sin6_port);
  }
  return {host, port};
}

// A connection's socket as httplib reads and writes it, with the request deadline.
class GuardedStream final : public httplib::Stream {
 public:
  GuardedStream(int sock, std::chrono::milliseconds read_timeout, std::chrono::milliseconds write_timeout)
      : sock_(sock), read_timeout_(read_timeout), write_timeout_(write_timeout) {}

  bool is_readable() const override { return wait(POLLIN, read_timeout_); }
  bool is_writable() const override { return wait(POLLOUT, write_timeout_); }

  ssize_t read(char* ptr, size_t size) override {
    if (stop_reading || !wait(POLLIN, read_timeout_)) return -1;
    ssize_t n;
    do {
      n = ::recv(sock_, ptr, size, 0);
    } while (n < 0 && errno == EINTR);
    if (n > 0) request_bytes += static_cast<std::size_t>(n);
    return n;
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!wait(POLLOUT, write_timeout_)) return -1;
    ssize_t n;
    do {
      n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { endpoint(true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { endpoint(false, ip, port); }
  socket_t socket() const override { return sock_; }

  /// Read waits end here: the request deadline, or never (time_point::max()) while a handler works.
  Clock::time_point deadline = Clock::time_point::max();
  bool stop_reading = false;
  std::size_t request_bytes = 0;  ///< read from the socket since the current request began

 private:
  // Waits for events, at most timeout and never past the deadline (reads only).
  bool wait(short events, std::chrono::milliseconds timeout) const {
    for (;;) {
      auto limit = timeout;
      if (events == POLLIN && deadline != Clock::time_point::max()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return false;
        limit = std::min(limit, left);
      }
      pollfd p{sock_, events, 0};
      const int r = ::poll(&p, 1, static_cast<int>(limit.count()));
      if (r < 0 && errno == EINTR) continue;
      return r > 0;
    }
  }

  void endpoint(bool remote, std::string& ip, int& port) const {
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    const int r = remote ? ::getpeername(sock_, reinterpret_cast<sockaddr*>(&address), &size)
                         : ::getsockname(sock_, reinterpret_cast<sockaddr*>(&address), &size);
    if (r == 0) std::tie(ip, port) = address_of(address);
  }

  int sock_;
  std::chrono::milliseconds read_timeout_, write_timeout_;
};

// The connection this handler thread serves (handlers run on it, synchronously).
thread_local GuardedStream* current = nullptr;

std::chrono::milliseconds to_ms(time_t sec, time_t usec) {
  return std::chrono::milliseconds(sec * 1000 + usec / 1000);
}

}  // namespace

void GuardedServer::working() {
  if (current != nullptr) current->deadline = Clock::time_point::max();
}

void GuardedServer::close_after() {
  if (current != nullptr) current->stop_reading = true;
}

std::size_t GuardedServer::request_bytes() { return current != nullptr ? current->request_bytes : 0; }

bool GuardedServer::process_and_close_socket(socket_t sock) {
  sockaddr_storage address{};
  socklen_t size = sizeof address;
  const std::string client = ::getpeername(sock, reinterpret_cast<sockaddr*>(&address), &size) == 0
                                 ? address_of(address).first
                                 : std::string("?");
  bool admitted = false;
  {
    std::lock_guard lock(mutex_);
    if (per_client_[client] < limits_.connections_per_client) {
      ++per_client_[client];
      admitted = true;
    }
  }
  bool ok = true;
  if (!admitted) {
    const std::string body = "{\"error\":\"too_many_connections\",\"detail\":\"this client holds " +
                             std::to_string(limits_.connections_per_client) +
                             " connections already (--max-client-connections)\"}\n";
    const std::string answer =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
        "Retry-After: 1\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    (void)::send(sock, answer.data(), answer.size(), MSG_NOSIGNAL);
  } else {
    const auto request_time =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limits_.request_seconds));
    GuardedStream stream(sock, to_ms(read_timeout_sec_, read_timeout_usec_),
                         to_ms(write_timeout_sec_, write_timeout_usec_));
    current = &stream;
    // httplib's keep-alive loop, with the deadline renewed for each request.
    for (std::size_t left = keep_alive_max_count_; left > 0 && svr_sock_ != INVALID_SOCKET; --left) {
      stream.deadline = Clock::now() + request_time;
      stream.request_bytes = 0;
      if (!stream.is_readable()) break;  // idle past the keep-alive time, or past the deadline
      bool closed = false;
      ok = process_request(stream, left == 1, closed, nullptr);
      if (!ok || closed || stream.stop_reading) break;
    }
    current = nullptr;
    std::lock_guard lock(mutex_);
    if (--per_client_[client] == 0) per_client_.erase(client);
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

}  // namespace storyline::cli
