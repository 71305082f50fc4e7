// `storyline stream --db STATE.db`: JSONL on stdin, one annotated line on stdout per input line.
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include "cli/commands.hpp"
#include "cli/feed_options.hpp"
#include "cli/ingest_options.hpp"
#include "detail/corpus.hpp"
#include "detail/json_out.hpp"
#include "storyline/error.hpp"
#include "storyline/language.hpp"

namespace storyline::cli {
namespace {

struct StreamCli {
  FeedCli feed;
};

struct Counters {
  std::uint64_t lines = 0, added = 0, existing = 0, copies = 0, errors = 0;
  std::array<std::uint64_t, kLanguageCount> documents{};        // answered documents by language
  std::array<std::set<std::uint32_t>, kLanguageCount> threads;  // their threads
};

void append_error(std::string& out, std::uint64_t line, std::string_view error, std::string_view detail,
                  std::string_view id) {
  out += "{\"line\":";
  out += std::to_string(line);
  if (!id.empty()) {
    out += ",\"id\":";
    detail::append_json_string(out, id);
  }
  out += ",\"error\":";
  detail::append_json_string(out, error);
  out += ",\"detail\":";
  detail::append_json_string(out, detail);
  out += "}\n";
}

class Streamer {
 public:
  explicit Streamer(StreamCli& cli) : cli_(cli), service_(open_feed(cli.feed)), parser_(cli.feed.ingest) {}

  void line(std::string_view text) {
    ++counters_.lines;
    parser_.parse(text, record_);
    if (record_.rejected) {
      append_error(out_, counters_.lines, issue_name(record_.reason), record_.detail, "");
      ++counters_.errors;
      return;
    }
    if (record_.doc.id.empty()) {
      append_error(out_, counters_.lines, "missing_id", "a feed document needs an id", "");
      ++counters_.errors;
      return;
    }
    const std::string id = record_.doc.id;
    const Language language = guess_language(record_.doc.text.empty() ? record_.doc.title : record_.doc.text);
    const FeedService::Pending p = service_->submit(std::move(record_.doc));
    ticket_ = std::max(ticket_, p.ticket);
    if (p.outcome.status == AddOutcome::Status::kConflict) {
      append_error(out_, counters_.lines, "conflict", "the id is present with another title or text", id);
      ++counters_.errors;
      return;
    }
    ++(p.outcome.status == AddOutcome::Status::kExisting ? counters_.existing : counters_.added);
    if (!p.outcome.assignment.dup_of.empty()) ++counters_.copies;
    std::string fields;
    append_assignment_fields(fields, p.outcome.assignment);
    fields += ",\"language\":\"";
    fields += language_name(language);
    fields += '"';
    ++counters_.documents[static_cast<std::size_t>(language)];
    counters_.threads[static_cast<std::size_t>(language)].insert(p.outcome.assignment.thread);
    if (p.outcome.status == AddOutcome::Status::kExisting) fields += ",\"existing\":true";
    detail::append_annotated(out_, std::string(text), fields);
  }

  void too_long() {
    ++counters_.lines;
    ++counters_.errors;
    append_error(out_, counters_.lines, issue_name(Issue::kLineTooLong), "longer than --max-line-bytes", "");
  }

  // Makes every answer so far durable, then writes them.
  void flush() {
    if (out_.empty()) return;
    service_->wait(ticket_);
    if (std::fwrite(out_.data(), 1, out_.size(), stdout) != out_.size() || std::fflush(stdout) != 0) {
      throw IoError(std::string("stdout: ") + std::strerror(errno));
    }
    out_.clear();
  }

  bool pending_full() const { return out_.size() > (1u << 20); }
  const Counters& counters() const { return counters_; }
  FeedService::Counts state_counts() const { return service_->counts(); }

 private:
  StreamCli& cli_;
  std::unique_ptr<FeedService> service_;
  RecordParser parser_;
  ParsedRecord record_;
  std::string out_;
  std::uint64_t ticket_ = 0;
  Counters counters_;
};

int run(StreamCli& cli) {
  Streamer streamer(cli);
  const double start = now_seconds();
  const std::size_t max_line = cli.feed.ingest.max_line_bytes;
  std::string buffer;
  std::size_t begin = 0;
  bool skipping = false;  // inside a line that is too long
  std::vector<char> chunk(1 << 20);
  for (;;) {
    // Every complete line in the buffer.
    for (;;) {
      const std::size_t nl = buffer.find('\n', begin);
      if (nl == std::string::npos) break;
      if (skipping) {
        skipping = false;
      } else if (nl - begin > max_line) {  // a whole long line arrived in one read (hardening #10)
        streamer.too_long();
      } else {
        streamer.line(std::string_view(buffer).substr(begin, nl - begin));
      }
      begin = nl + 1;
      if (streamer.pending_full()) streamer.flush();
    }
    buffer.erase(0, begin);
    begin = 0;
    if (!skipping && buffer.size() > max_line) {
      streamer.too_long();
      skipping = true;
    }
    if (skipping) buffer.clear();
    // Nothing complete is left: answer everything before blocking for more input.
    streamer.flush();
    const ssize_t n = ::read(STDIN_FILENO, chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(std::string("stdin: ") + std::strerror(errno));
    }
    if (n == 0) break;
    buffer.append(chunk.data(), static_cast<std::size_t>(n));
  }
  if (!skipping && buffer.find_first_not_of(" \t\r") != std::string::npos) {
    buffer.size() > max_line ? streamer.too_long() : streamer.line(buffer);
  }
  streamer.flush();
  if (!cli.feed.quiet) {
    const Counters& c = streamer.counters();
    const double seconds = now_seconds() - start;
    std::fprintf(stderr,
                 "storyline stream: %s lines, %s added (%s copies), %s already present, %s errors, %.2f s\n",
                 with_commas(c.lines).c_str(), with_commas(c.added).c_str(), with_commas(c.copies).c_str(),
                 with_commas(c.existing).c_str(), with_commas(c.errors).c_str(), seconds);
    std::string languages;
    for (std::size_t l = 0; l < kLanguageCount; ++l) {
      if (c.documents[l] == 0) continue;
      languages += " " + std::string(language_name(Language(l))) + " " + with_commas(c.documents[l]) + " " +
                   with_commas(c.threads[l].size());
    }
    if (!languages.empty()) std::fprintf(stderr, "  languages (documents, threads):%s\n", languages.c_str());
    const FeedService::Counts state = streamer.state_counts();
    if (state.boilerplate_counted > 0) {
      std::fprintf(stderr,
                   "  boilerplate: %s shingles learnt from the state's first %s documents, left out\n",
                   with_commas(state.boilerplate).c_str(), with_commas(state.boilerplate_counted).c_str());
    }
  }
  return 0;
}

}  // namespace

std::function<int()> register_stream(CLI::App& app) {
  auto cli = std::make_shared<StreamCli>();
  CLI::App* c = app.add_subcommand(
      "stream", "assign each JSONL line on stdin (copy, story, thread) and write it annotated to stdout");
  add_feed_options(*c, cli->feed);
  c->add_option("--max-line-bytes", cli->feed.ingest.max_line_bytes, "longer lines get an error line")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  return [cli] { return run(*cli); };
}

}  // namespace storyline::cli
