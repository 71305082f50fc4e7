// Load client for `storyline serve`: many concurrent connections POST the lines of a JSONL file (one
// document per request, or --batch N per request) to /v1/documents over loopback, and it reports the
// sustained rate and the latency percentiles as one JSON line. Not a test: bench/feed_bench.sh runs it.
// Usage: storyline_feed_load HOST PORT FILE [--clients 16] [--batch 1] [--token T]
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s HOST PORT FILE [--clients N] [--batch N] [--token T]\n", argv[0]);
    return 2;
  }
  const std::string host = argv[1];
  const int port = std::atoi(argv[2]);
  unsigned clients = 16, batch = 1;
  std::string token;
  for (int i = 4; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--clients")
      clients = static_cast<unsigned>(std::atoi(argv[i + 1]));
    else if (flag == "--batch")
      batch = static_cast<unsigned>(std::atoi(argv[i + 1]));
    else if (flag == "--token")
      token = argv[i + 1];
  }
  std::vector<std::string> lines;
  {
    std::ifstream in(argv[3]);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", argv[3]);
      return 1;
    }
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) lines.push_back(std::move(line));
    }
  }
  std::uint64_t bytes = 0;
  for (const auto& l : lines) bytes += l.size();
  const std::size_t requests = (lines.size() + batch - 1) / batch;
  std::atomic<std::size_t> next{0};
  std::atomic<std::uint64_t> errors{0};
  std::vector<std::vector<double>> latencies(clients);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (unsigned c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client client(host, port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      client.set_read_timeout(60, 0);
      httplib::Headers headers;
      if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
      std::string body;
      for (std::size_t r; (r = next.fetch_add(1)) < requests;) {
        const std::size_t first = r * batch, last = std::min(lines.size(), first + batch);
        body.clear();
        if (batch > 1) body += '[';
        for (std::size_t i = first; i < last; ++i) {
          if (i > first) body += ',';
          body += lines[i];
        }
        if (batch > 1) body += ']';
        const auto t0 = std::chrono::steady_clock::now();
        const auto res = client.Post("/v1/documents", headers, body, "application/json");
        latencies[c].push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        if (!res || (res->status != 200 && res->status != 201)) ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0
                       : all[std::min(all.size() - 1,
                                      static_cast<std::size_t>(p * static_cast<double>(all.size())))] *
                             1e3;
  };
  std::printf(
      "{\"documents\":%zu,\"megabytes\":%.1f,\"clients\":%u,\"batch\":%u,\"requests\":%zu,\"errors\":%llu,"
      "\"seconds\":%.2f,\"documents_per_s\":%.0f,\"p50_ms\":%.2f,\"p90_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%"
      ".2f}\n",
      lines.size(), static_cast<double>(bytes) / 1e6, clients, batch, requests,
      static_cast<unsigned long long>(errors.load()), seconds, static_cast<double>(lines.size()) / seconds,
      pct(0.5), pct(0.9), pct(0.99), all.empty() ? 0.0 : all.back() * 1e3);
  return errors.load() == 0 ? 0 : 1;
}
