// serve's HTTP front end, in process: each input is sent as raw bytes (request line, headers, body, or
// several requests) over a loopback connection to the routes over a fresh feed state, and the answer is
// read until the server closes. A crash, a sanitizer report or a server that stops answering /healthz
// is a finding.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdlib>
#include <thread>

#include "cli/serve.hpp"
#include "fuzz_util.hpp"

using namespace storyline;

namespace {

struct Running {
  cli::ServeCli options;
  std::shared_ptr<cli::ServeApp> app;
  int port = 0;
  std::thread listener;

  Running() {
    char pattern[] = "/tmp/storyline-fuzz-http-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) std::abort();
    options.max_body_bytes = 1 << 16;
    options.guard.request_seconds = 1.0;
    options.guard.connections_per_client = 1000;
    FeedServiceOptions feed;
    feed.sync_full = false;
    app = cli::make_serve_app(
        options, std::make_unique<FeedService>(std::string(pattern) + "/state.db", FeedParams{}, feed));
    port = cli::serve_http(*app).bind_to_any_port("127.0.0.1");
    if (port <= 0) std::abort();
    listener = std::thread([this] { cli::serve_http(*app).listen_after_bind(); });
  }
};

std::string round_trip(int port, std::string_view request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
    (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_WR);
    char buffer[4096];
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 3000) != 1) break;
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      answer.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return answer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Running* server = new Running();  // lives for the whole run
  static std::uint64_t runs = 0;
  (void)round_trip(server->port, fuzz::as_text(data, size));
  if (++runs % 256 == 0) {
    const std::string health = round_trip(server->port, "GET /healthz HTTP/1.1\r\nHost: f\r\n\r\n");
    if (health.rfind("HTTP/1.1 200", 0) != 0) std::abort();  // the server stopped answering
  }
  return 0;
}
