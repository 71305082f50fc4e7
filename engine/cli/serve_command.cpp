// `storyline serve --db STATE.db`: the feed over HTTP (cpp-httplib), JSON in and out.
#include <httplib.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "cli/commands.hpp"
#include "cli/feed_options.hpp"
#include "cli/ingest_options.hpp"
#include "cli/serve.hpp"
#include "detail/json_out.hpp"
#include "storyline/error.hpp"
#include "storyline/jsonl.hpp"
#include "storyline/language.hpp"
#include "storyline/report.hpp"

namespace storyline::cli {
namespace {

constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                             0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

// Request latencies and status counts for /metrics.
class Metrics {
 public:
  void record(double seconds, int status) {
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      if (seconds <= kBuckets[i]) buckets_[i].fetch_add(1, std::memory_order_relaxed);
    }
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_micros_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    ++by_status_[status];
  }

  void append(std::string& out) {
    out += "# HELP storyline_http_request_duration_seconds Time to handle a request.\n";
    out += "# TYPE storyline_http_request_duration_seconds histogram\n";
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      out += "storyline_http_request_duration_seconds_bucket{le=\"";
      detail::append_json_number(out, kBuckets[i]);
      out += "\"} " + std::to_string(buckets_[i].load()) + "\n";
    }
    const std::uint64_t count = count_.load();
    out += "storyline_http_request_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(count) + "\n";
    out += "storyline_http_request_duration_seconds_sum ";
    detail::append_json_number(out, static_cast<double>(sum_micros_.load()) / 1e6);
    out += "\nstoryline_http_request_duration_seconds_count " + std::to_string(count) + "\n";
    out += "# HELP storyline_http_requests_total Requests answered, by status code.\n";
    out += "# TYPE storyline_http_requests_total counter\n";
    std::lock_guard lock(mutex_);
    for (const auto& [status, n] : by_status_) {
      out += "storyline_http_requests_total{code=\"" + std::to_string(status) + "\"} " + std::to_string(n) +
             "\n";
    }
  }

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets.size()> buckets_{};
  std::atomic<std::uint64_t> count_{0}, sum_micros_{0};
  std::mutex mutex_;
  std::map<int, std::uint64_t> by_status_;
};

void json_error(httplib::Response& res, int status, std::string_view error, std::string_view detail_text) {
  std::string body = "{\"error\":";
  detail::append_json_string(body, error);
  body += ",\"detail\":";
  detail::append_json_string(body, detail_text);
  body += "}\n";
  res.status = status;
  res.set_content(body, "application/json");
}

// 415 for a Content-Encoding httplib cannot decode (it decodes gzip, deflate and br).
void unsupported_encoding(const httplib::Request& req, httplib::Response& res) {
  json_error(res, 415, "unsupported_media_type",
             "Content-Encoding '" + req.get_header_value("Content-Encoding") +
                 "' is not supported (gzip, deflate, br or none)");
}

void append_string_list(std::string& out, const char* key, const std::vector<std::string>& items) {
  out += ",\"";
  out += key;
  out += "\":[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ",";
    detail::append_json_string(out, items[i]);
  }
  out += "]";
}

// "s12" or "12" -> 12; 0 when not a number.
std::uint32_t parse_number(std::string_view text, char prefix) {
  if (!text.empty() && text.front() == prefix) text.remove_prefix(1);
  std::uint32_t n = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), n);
  return r.ec == std::errc() && r.ptr == text.data() + text.size() ? n : 0;
}

}  // namespace

class ServeApp {
 public:
  ServeApp(ServeCli& cli, std::unique_ptr<FeedService> service)
      : cli_(cli), service_(std::move(service)), http_(cli.guard) {
    if (!cli.token_file.empty()) token_ = read_token(cli.token_file);
    IngestParams ingest = cli.feed.ingest;
    ingest.require_text = true;
    ingest_ = ingest;
    routes();
  }

  httplib::Server& http() { return http_; }

  // Hardening #15: the first line of the file, without the white space around it (an editor's or
  // echo's), and precise about what is wrong.
  static std::string read_token(const std::string& path) {
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) throw IoError(path + ": the token file is a directory");
    std::ifstream in(path);
    if (!in) throw IoError(path + ": cannot read the token file");
    std::string token;
    std::getline(in, token);
    const auto first = token.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) throw InvalidArgument(path + ": the token file's first line is empty");
    token = token.substr(first, token.find_last_not_of(" \t\r\n") - first + 1);
    for (const char c : token) {
      if (c == ' ' || c == '\t') throw InvalidArgument(path + ": the token holds white space");
    }
    return token;
  }

 private:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  Handler timed(Handler h, bool write) {
    return [this, h = std::move(h), write](const httplib::Request& req, httplib::Response& res) {
      const auto start = std::chrono::steady_clock::now();
      try {
        if (write && !authorized(req)) {
          res.set_header("WWW-Authenticate", "Bearer");
          json_error(res, 401, "unauthorized", "this server needs Authorization: Bearer <token> for writes");
          GuardedServer::close_after();  // its body, if any, is not read
        } else {
          h(req, res);
        }
      } catch (const std::exception& e) {
        json_error(res, 500, "internal", e.what());
      }
      metrics_.record(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                      res.status);
    };
  }

  // RFC 7235: the scheme is case-insensitive. The token is compared in time independent of where the
  // first difference is, so that a client cannot find it byte by byte.
  bool authorized(const httplib::Request& req) const {
    if (token_.empty()) return true;
    const std::string header = req.get_header_value("Authorization");
    std::string_view given = header;
    constexpr std::string_view kScheme = "bearer ";
    if (given.size() < kScheme.size()) return false;
    for (std::size_t i = 0; i < kScheme.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(given[i])) != kScheme[i]) return false;
    }
    given.remove_prefix(kScheme.size());
    while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
    unsigned char diff = given.size() == token_.size() ? 0 : 1;
    for (std::size_t i = 0; i < token_.size(); ++i) {
      diff |= static_cast<unsigned char>(token_[i] ^ (i < given.size() ? given[i] : 0));
    }
    return diff == 0;
  }

  // Hardening #16: the methods each route answers, for 405 and its Allow header.
  static const char* allowed_methods(const std::string& path) {
    if (path == "/v1/documents") return "POST";
    if (path.rfind("/v1/documents/", 0) == 0) return "GET, DELETE";
    if (path.rfind("/v1/stories", 0) == 0 || path.rfind("/v1/threads/", 0) == 0 || path == "/healthz" ||
        path == "/" || path == "/metrics") {
      return "GET";
    }
    return nullptr;
  }

  void routes() {
    http_.set_payload_max_length(cli_.max_body_bytes);
    http_.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      const char* allow = allowed_methods(req.path);
      const std::string method = req.method == "HEAD" ? "GET" : req.method;
      if (allow == nullptr || std::string_view(allow).find(method) != std::string_view::npos) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      res.set_header("Allow", allow);
      json_error(res, 405, "method_not_allowed", req.method + " is not allowed here; allowed: " + allow);
      return httplib::Server::HandlerResponse::Handled;
    });
    http_.set_tcp_nodelay(true);
    // httplib closes a connection after 5 requests by default: a client then pays a new connection
    // (and the server a new socket and task) every fifth document. 1000 is nginx's default.
    http_.set_keep_alive_max_count(1000);
    http_.new_task_queue = [threads = cli_.http_threads] { return new httplib::ThreadPool(threads); };
    http_.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      if (res.status == 413) {
        json_error(res, 413, "payload_too_large",
                   "the body exceeds " + std::to_string(cli_.max_body_bytes) + " bytes (--max-body-bytes)");
      } else if (res.status == 404) {
        json_error(res, 404, "not_found", "no such route");
      } else if (res.status == 414) {
        GuardedServer::close_after();  // the rest of the line would be read as a request
        json_error(res, 414, "uri_too_long", "the request line exceeds 8,192 bytes");
      } else if (res.status == 400 && GuardedServer::request_bytes() > 8192) {
        // httplib answers 400 for a header line over its 8 KB buffer; more than that read, the cause is it.
        GuardedServer::close_after();
        json_error(res, 431, "request_header_fields_too_large", "a header line exceeds 8,192 bytes");
      } else if (res.status == 400) {
        GuardedServer::close_after();
        json_error(res, 400, "bad_request", "the request could not be read (malformed)");
      } else if (res.status == 415) {
        unsupported_encoding(req, res);
      } else {
        json_error(res, res.status, "error", "HTTP " + std::to_string(res.status));
      }
    });
    http_.Post("/v1/documents", [this](const httplib::Request& req, httplib::Response& res,
                                       const httplib::ContentReader& reader) {
      timed([this, &reader](const auto& q, auto& r) { post_documents(q, r, reader); }, true)(req, res);
    });
    http_.Get(R"(/v1/documents/(.+))", timed([this](const auto& q, auto& r) { get_document(q, r); }, false));
    http_.Delete(R"(/v1/documents/(.+))",
                 timed([this](const auto& q, auto& r) { delete_document(q, r); }, true));
    http_.Get(R"(/v1/stories/([^/]+))", timed([this](const auto& q, auto& r) { get_story(q, r); }, false));
    http_.Get("/v1/stories", timed([this](const auto& q, auto& r) { list_stories(q, r); }, false));
    http_.Get(R"(/v1/threads/([^/]+))", timed([this](const auto& q, auto& r) { get_thread(q, r); }, false));
    http_.Get("/healthz", timed(
                              [this](const auto&, auto& r) {
                                const auto c = service_->counts();
                                r.set_content(
                                    "{\"status\":\"ok\",\"documents\":" + std::to_string(c.documents) + "}\n",
                                    "application/json");
                              },
                              false));
    http_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) { metrics(res); });
    http_.Get("/", timed([this](const auto& q, auto& r) { home_page(q, r); }, false));
  }

  // Parses one document object; on failure sets the error response and returns false.
  bool parse_document(RecordParser& parser, std::string_view json, std::size_t index, bool many,
                      Document& out, httplib::Response& res) {
    ParsedRecord record;
    parser.parse(json, record);
    const std::string where = many ? "document " + std::to_string(index) + ": " : "";
    if (record.rejected) {
      const bool unprocessable = record.reason == Issue::kMissingText || record.reason == Issue::kEmptyText ||
                                 record.reason == Issue::kWrongType || record.reason == Issue::kIdTooLong;
      json_error(res, unprocessable ? 422 : 400, issue_name(record.reason), where + record.detail);
      return false;
    }
    if (record.doc.id.empty()) {
      json_error(res, 422, "missing_id", where + "a document needs an id");
      return false;
    }
    out = std::move(record.doc);
    return true;
  }

  // Reads the body through httplib's decoder (gzip, deflate, chunked) and stops at --max-body-bytes of
  // decoded bytes (hardening #3: the limit httplib applies is to the Content-Length, before
  // decompression, and not at all to chunked bodies). Whatever the Content-Type says, the body is read
  // as JSON (hardening #6: a form content type no longer meets httplib's 8 KB form limit). False, with
  // the answer set, when the body cannot be had.
  bool read_body(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader,
                 std::string& body) {
    bool too_large = false;
    const bool complete = reader([&](const char* data, std::size_t size) {
      if (body.size() + size > cli_.max_body_bytes) {
        too_large = true;
        return false;
      }
      body.append(data, size);
      return true;
    });
    if (complete && !too_large) return true;
    GuardedServer::close_after();  // the rest of the body is not read
    if (too_large || res.status == 413) {
      json_error(res, 413, "payload_too_large",
                 "the body exceeds " + std::to_string(cli_.max_body_bytes) +
                     " bytes once decoded (--max-body-bytes)");
    } else if (res.status == 415) {
      unsupported_encoding(req, res);
    } else {
      json_error(res, 400, "bad_body", "the body could not be read (cut short, or badly encoded)");
    }
    return false;
  }

  void post_documents(const httplib::Request& req, httplib::Response& res,
                      const httplib::ContentReader& reader) {
    std::string body;
    if (!read_body(req, res, reader, body)) return;
    GuardedServer::working();
    // Hardening #13: invalid UTF-8 is repaired (U+FFFD) as dedup, cluster and stream repair it, and the
    // answer says so.
    bool repaired = false;
    if (!simdjson::validate_utf8(body.data(), body.size())) {
      std::string valid;
      repair_utf8(body, valid);
      body.swap(valid);
      repaired = true;
    }
    // Parsers keep their buffers between requests: one per HTTP thread.
    thread_local simdjson::dom::parser json;
    simdjson::dom::element root;
    if (json.parse(body).get(root) != simdjson::SUCCESS) {
      json_error(res, 400, "malformed_json", "the body is not valid JSON");
      return;
    }
    thread_local RecordParser parser(ingest_);
    std::vector<Document> docs;
    simdjson::dom::array array;
    const bool many = root.get_array().get(array) == simdjson::SUCCESS;
    if (many) {
      std::size_t index = 0;
      for (const simdjson::dom::element e : array) {
        Document doc;
        if (!parse_document(parser, simdjson::minify(e), index++, true, doc, res)) return;
        docs.push_back(std::move(doc));
      }
      if (docs.empty()) {
        json_error(res, 400, "empty", "the array holds no documents");
        return;
      }
    } else {
      Document doc;
      if (!parse_document(parser, body, 0, false, doc, res)) return;
      docs.push_back(std::move(doc));
    }
    std::vector<Language> languages;
    for (const Document& d : docs) languages.push_back(guess_language(d.text.empty() ? d.title : d.text));
    const std::vector<AddOutcome> outcomes = service_->add(std::move(docs));
    body.clear();
    bool added = false;
    std::vector<std::string> conflicts;
    for (const AddOutcome& o : outcomes) {
      if (o.status == AddOutcome::Status::kConflict) conflicts.push_back(o.assignment.id);
      added = added || o.status == AddOutcome::Status::kAdded;
    }
    if (!conflicts.empty()) {
      body =
          "{\"error\":\"conflict\",\"detail\":\"an id is present with another title or text; nothing was "
          "added\"";
      append_string_list(body, "ids", conflicts);
      body += "}\n";
      res.status = 409;
      res.set_content(body, "application/json");
      return;
    }
    if (many) body += "[";
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      if (i > 0) body += ",";
      const Assignment& a = outcomes[i].assignment;
      body += "{\"id\":";
      detail::append_json_string(body, a.id);
      body += outcomes[i].status == AddOutcome::Status::kAdded ? ",\"status\":\"added\""
                                                               : ",\"status\":\"existing\"";
      detail::append_date_field(body, "date", a.date);
      append_assignment_fields(body, a);
      if (i < languages.size()) {
        body += ",\"language\":\"";
        body += language_name(languages[i]);
        body += '"';
      }
      if (repaired) body += ",\"repaired\":\"invalid_utf8\"";
      body += "}";
    }
    body += many ? "]\n" : "\n";
    res.status = added ? 201 : 200;
    res.set_content(body, "application/json");
  }

  void get_document(const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    const auto doc = service_->get(id);
    if (!doc) {
      json_error(res, 404, "not_found", "no document with this id");
      return;
    }
    std::string body = "{\"id\":";
    detail::append_json_string(body, id);
    body += ",\"title\":";
    detail::append_json_string(body, doc->title);
    detail::append_date_field(body, "date", doc->assignment.date);
    append_assignment_fields(body, doc->assignment);
    body += "}\n";
    res.set_content(body, "application/json");
  }

  void delete_document(const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    if (!service_->remove(id)) {
      json_error(res, 404, "not_found", "no document with this id");
      return;
    }
    std::string body = "{\"id\":";
    detail::append_json_string(body, id);
    body += ",\"deleted\":true}\n";
    res.set_content(body, "application/json");
  }

  void append_summary(std::string& body, const ClusterSummary& s, bool story) {
    body += "{\"id\":";
    detail::append_json_string(body, story ? story_name(s.number) : thread_name(s.number));
    if (story) {
      body += ",\"thread_id\":";
      detail::append_json_string(body, thread_name(s.thread));
    } else {
      body += ",\"stories\":" + std::to_string(s.size);
      if (s.merged_into != 0) {
        body += ",\"merged_into\":";
        detail::append_json_string(body, thread_name(s.merged_into));
      }
    }
    body += ",\"documents\":" + std::to_string(s.documents);
    detail::append_date_field(body, "first_date", s.first);
    detail::append_date_field(body, "last_date", s.last);
    body += ",\"representative\":{\"id\":";
    detail::append_json_string(body, s.representative);
    body += ",\"title\":";
    detail::append_json_string(body, service_->title(s.representative));
    body += "}";
    append_string_list(body, "top_terms", s.top_terms);
    append_string_list(body, "top_entities", s.top_entities);
  }

  void get_story(const httplib::Request& req, httplib::Response& res) {
    const auto story = service_->story(parse_number(req.matches[1].str(), 's'));
    if (!story) {
      json_error(res, 404, "not_found", "no story with this id");
      return;
    }
    std::string body;
    append_summary(body, *story, true);
    append_string_list(body, "document_ids", service_->story_members(story->number, 1000));
    body += "}\n";
    res.set_content(body, "application/json");
  }

  void list_stories(const httplib::Request& req, httplib::Response& res) {
    const auto since = parse_date(req.get_param_value("since"));
    if (!since) {
      json_error(res, 400, "bad_request", "since=YYYY-MM-DD is required");
      return;
    }
    std::size_t limit = 100;
    if (req.has_param("limit")) {
      limit = parse_number(req.get_param_value("limit"), '\0');
      if (limit == 0 || limit > 10000) {
        json_error(res, 400, "bad_request", "limit must be 1 to 10000");
        return;
      }
    }
    std::string body = "{\"stories\":[";
    bool first = true;
    for (const ClusterSummary& s : service_->stories_since(*since, limit)) {
      if (!first) body += ",";
      first = false;
      append_summary(body, s, true);
      body += "}";
    }
    body += "]}\n";
    res.set_content(body, "application/json");
  }

  void get_thread(const httplib::Request& req, httplib::Response& res) {
    const auto thread = service_->thread(parse_number(req.matches[1].str(), 't'));
    if (!thread) {
      json_error(res, 404, "not_found", "no thread with this id");
      return;
    }
    std::string body;
    append_summary(body, *thread, false);
    body += ",\"story_ids\":[";
    for (std::size_t i = 0; i < thread->stories.size(); ++i) {
      if (i > 0) body += ",";
      detail::append_json_string(body, story_name(thread->stories[i]));
    }
    body += "]}\n";
    res.set_content(body, "application/json");
  }

  // A story of the feed as the page shows it, with up to `documents` of its members.
  ReportStory story_view(const ClusterSummary& s, std::size_t documents) {
    ReportStory view;
    view.id = story_name(s.number);
    view.size = s.documents;
    view.first = s.first, view.last = s.last;
    view.headline = service_->title(s.representative);
    view.terms = s.top_terms, view.entities = s.top_entities;
    for (const std::string& id : service_->story_members(s.number, documents)) {
      const auto doc = service_->get(id);
      if (doc) view.documents.push_back({id, doc->title, doc->assignment.date, 1.0f});
    }
    std::stable_sort(view.documents.begin(), view.documents.end(),
                     [](const auto& a, const auto& b) { return a.date < b.date; });
    return view;
  }

  // GET /: the live page, read from the state as it is (newest stories, their threads on a timeline, a
  // document lookup). Read-only and self-contained, like the batch report.
  void home_page(const httplib::Request& req, httplib::Response& res) {
    constexpr std::size_t kNewest = 30, kThreads = 20, kStoriesPerThread = 20, kDocuments = 5;
    const auto c = service_->counts();
    ReportData data;
    data.title = "storyline serve: the live feed";
    data.summary = group_digits(c.documents) + " documents (" + group_digits(c.duplicates) + " copies) in " +
                   group_digits(c.stories) + " stories and " + group_digits(c.threads) + " threads";
    data.figures = {{"documents", group_digits(c.documents)},
                    {"copies of earlier documents", group_digits(c.duplicates)},
                    {"stories", group_digits(c.stories)},
                    {"threads", group_digits(c.threads)},
                    {"boilerplate shingles learnt", group_digits(c.boilerplate)}};
    data.total_threads = c.threads;
    data.total_stories = c.stories;
    data.lookup_action = "/";
    if (req.has_param("doc")) {
      data.lookup_query = req.get_param_value("doc");
      const auto doc = service_->get(data.lookup_query);
      if (!doc) {
        data.lookup_message = "No document with this id.";
      } else {
        const Assignment& a = doc->assignment;
        data.lookup = {{"id", a.id},
                       {"title", doc->title},
                       {"date", a.date == kNoDate ? "undated" : format_date(a.date)},
                       {"story", story_name(a.story)},
                       {"thread", thread_name(a.thread)},
                       {"duplicate group", a.dup_group}};
        if (!a.dup_of.empty()) data.lookup.emplace_back("copy of", a.dup_of);
      }
    }
    std::vector<std::uint32_t> thread_order;
    for (const ClusterSummary& s :
         service_->stories_since(std::numeric_limits<std::int32_t>::min(), kNewest)) {
      data.newest.push_back(story_view(s, kDocuments));
      if (std::find(thread_order.begin(), thread_order.end(), s.thread) == thread_order.end() &&
          thread_order.size() < kThreads)
        thread_order.push_back(s.thread);
    }
    for (const std::uint32_t t : thread_order) {
      const auto thread = service_->thread(t);
      if (!thread) continue;
      ReportThread view;
      view.id = thread_name(t);
      view.size = thread->documents;
      view.total_stories = thread->stories.size();
      view.first = thread->first, view.last = thread->last;
      view.terms = thread->top_terms, view.entities = thread->top_entities;
      // Its newest stories, and its first one so that the thread's span shows.
      std::vector<std::uint32_t> shown(
          thread->stories.end() -
              static_cast<std::ptrdiff_t>(std::min(thread->stories.size(), kStoriesPerThread)),
          thread->stories.end());
      if (!thread->stories.empty() && shown.front() != thread->stories.front())
        shown.insert(shown.begin(), thread->stories.front());
      for (const std::uint32_t s : shown) {
        if (const auto story = service_->story(s)) view.stories.push_back(story_view(*story, kDocuments));
      }
      data.threads.push_back(std::move(view));
    }
    res.set_content(render_html_report(data), "text/html; charset=utf-8");
  }

  void metrics(httplib::Response& res) {
    const auto c = service_->counts();
    std::string out;
    auto gauge = [&](const char* name, const char* help, std::size_t value) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + name + " " +
             std::to_string(value) + "\n";
    };
    gauge("storyline_documents", "Live documents in the state.", c.documents);
    gauge("storyline_duplicates", "Live documents that copy an earlier one.", c.duplicates);
    gauge("storyline_stories", "Stories opened.", c.stories);
    gauge("storyline_threads", "Threads opened.", c.threads);
    gauge("storyline_boilerplate_shingles", "Boilerplate shingles learnt, left out of fingerprints.",
          c.boilerplate);
    long pages = 0;
    if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
      long size = 0;
      if (std::fscanf(f, "%ld %ld", &size, &pages) != 2) pages = 0;
      std::fclose(f);
    }
    gauge("storyline_resident_memory_bytes", "Resident memory of the process.",
          static_cast<std::size_t>(pages) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)));
    metrics_.append(out);
    res.set_content(out, "text/plain; version=0.0.4");
  }

  ServeCli& cli_;
  std::unique_ptr<FeedService> service_;
  IngestParams ingest_;
  std::string token_;
  Metrics metrics_;
  GuardedServer http_;
};

std::shared_ptr<ServeApp> make_serve_app(ServeCli& cli, std::unique_ptr<FeedService> service) {
  return std::make_shared<ServeApp>(cli, std::move(service));
}

httplib::Server& serve_http(ServeApp& app) { return app.http(); }

namespace {

// The compiled cpp-httplib listens with a backlog of 5: a burst of new clients overflows it and the
// kernel drops their SYNs, which they resend only after a second. The bound socket is found by its
// port and listened on again with the system's limit (Linux applies the new backlog).
void widen_backlog(int port) {
  for (int fd = 0; fd < 1024; ++fd) {
    int listening = 0;
    socklen_t length = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 || listening == 0) continue;
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) continue;
    int bound = -1;
    if (address.ss_family == AF_INET) bound = ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
    if (address.ss_family == AF_INET6) bound = ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
    if (bound == port) ::listen(fd, SOMAXCONN);
  }
}

int run(ServeCli& cli) {
  // SIGTERM and SIGINT are taken by one thread (blocked everywhere else, so set before any thread starts).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  const auto app = make_serve_app(cli, open_feed(cli.feed));
  httplib::Server& http = serve_http(*app);
  int port = cli.port;
  if (port == 0) {
    port = http.bind_to_any_port(cli.host);
  } else if (!http.bind_to_port(cli.host, port)) {
    port = -1;
  }
  if (port < 0) throw IoError("cannot listen on " + cli.host + ":" + std::to_string(cli.port));
  widen_backlog(port);
  std::fprintf(stderr, "storyline serve: listening on http://%s:%d\n", cli.host.c_str(), port);
  std::fflush(stderr);
  std::thread waiter([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    if (!cli.feed.quiet) std::fprintf(stderr, "storyline serve: signal %d, shutting down\n", signal);
    http.stop();
  });
  const bool ok = http.listen_after_bind();
  if (!ok && http.is_running()) throw IoError("the server stopped unexpectedly");
  // listen returned: either a signal stopped it (the waiter is done) or it failed; wake the waiter.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  if (!cli.feed.quiet) std::fprintf(stderr, "storyline serve: stopped; the state is committed\n");
  return 0;
}

}  // namespace

std::function<int()> register_serve(CLI::App& app) {
  auto cli = std::make_shared<ServeCli>();
  CLI::App* c =
      app.add_subcommand("serve", "the feed over HTTP: add, look up and remove documents; stories, threads");
  add_feed_options(*c, cli->feed);
  c->add_option("--host", cli->host, "address to listen on")->capture_default_str();
  c->add_option("--port", cli->port, "port (0: any free port, printed on stderr)")->capture_default_str();
  c->add_option("--token-file", cli->token_file,
                "file holding a bearer token that POST and DELETE must carry");
  c->add_option("--max-body-bytes", cli->max_body_bytes, "larger request bodies get 413")
      ->capture_default_str();
  c->add_option("--http-threads", cli->http_threads, "connections served at once")->capture_default_str();
  c->add_option("--max-client-connections", cli->guard.connections_per_client,
                "connections one client address may hold; more get 503")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c->add_option("--request-timeout", cli->guard.request_seconds,
                "seconds a client has to send a whole request (headers and body)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  return [cli] { return run(*cli); };
}

}  // namespace storyline::cli
