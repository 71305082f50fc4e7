// An httplib::Server that slow or greedy clients cannot take over (hardening #5). httplib's own
// timeout is per read, so a client sending one header line every few seconds holds a handler thread
// for as long as it likes; 64 such clients held them all. Here each connection is served by our own
// keep-alive loop over httplib's protected process_request, through a stream that enforces:
// - a deadline: a request must arrive whole, headers and body, within GuardLimits::request_seconds of
//   the connection's opening or of its previous answer (a handler at work has none);
// - a cap: one client address holds at most GuardLimits::connections_per_client connections; more are
//   answered 503 and closed at once, so the other handler threads stay free for other clients.
#pragma once

#include <httplib.h>

#include <map>
#include <mutex>
#include <string>

namespace storyline::cli {

struct GuardLimits {
  unsigned connections_per_client = 16;  ///< open connections one client address may hold
  double request_seconds = 30.0;         ///< time to send one whole request, headers and body, in s
};

class GuardedServer : public httplib::Server {
 public:
  explicit GuardedServer(GuardLimits limits) : limits_(limits) {}

  /// Call from a handler: its request was read, work begins; the connection has no deadline until the
  /// answer is written.
  static void working();
  /// Call from a handler whose request body was not read (or only in part): the answer is written and
  /// the connection closed, so that the rest is not taken for the next request.
  static void close_after();
  /// Bytes read from the connection since its current request began (0 outside a handler thread).
  static std::size_t request_bytes();

 private:
  bool process_and_close_socket(socket_t sock) override;

  GuardLimits limits_;
  std::mutex mutex_;
  std::map<std::string, unsigned> per_client_;  // open connections by client address
};

}  // namespace storyline::cli
