// The HTTP front end of `storyline serve`, apart from the command so that the fuzz targets (and tests)
// can run it in one process: the routes over a FeedService, on a GuardedServer.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "cli/feed_options.hpp"
#include "cli/guarded_server.hpp"
#include "storyline/feed_service.hpp"

namespace storyline::cli {

struct ServeCli {
  FeedCli feed;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string token_file;
  std::size_t max_body_bytes = std::size_t{32} << 20;
  unsigned http_threads = 64;
  GuardLimits guard;
};

class ServeApp;

/// The routes of serve over service, configured by cli (which must outlive the app). Throws IoError or
/// InvalidArgument for a bad token file.
std::shared_ptr<ServeApp> make_serve_app(ServeCli& cli, std::unique_ptr<FeedService> service);
/// The app's HTTP server: bind it, then listen_after_bind(); stop() ends it.
httplib::Server& serve_http(ServeApp& app);

}  // namespace storyline::cli
