#include "cli/ingest_options.hpp"

#include <tbb/global_control.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.hpp"
#include "storyline/lexicon.hpp"
#include "storyline/report.hpp"

namespace storyline::cli {

void set_jobs(unsigned jobs) {
  static std::unique_ptr<tbb::global_control> control;
  if (jobs > 0)
    control = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, jobs);
}

void add_bridge_options(CLI::App& command, std::string& value, TfidfParams& params) {
  command
      .add_option("--lexicon", value,
                  "cross-language bridge: a lexicon file, auto (the one built at set-up, beside the binary, "
                  "or $STORYLINE_LEXICON) or off")
      ->capture_default_str();
  command
      .add_option("--bridge-weight", params.bridge_weight,
                  "count of a content word's pivot relative to the word (0: content words not bridged)")
      ->capture_default_str()
      ->check(CLI::Range(0.0f, 4.0f));
  command
      .add_option("--name-key-weight", params.name_key_weight,
                  "count of a name's pivot and transliteration-tolerant key relative to the name (0: off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0f, 4.0f));
}

std::string resolve_lexicon(const std::string& value, TfidfParams& params) {
  params.lexicon = nullptr;
  if (value == "off") return "bridge off (--lexicon off)";
  const std::string path = value == "auto" ? default_lexicon_path() : value;
  if (path.empty())
    return "bridge off: no lexicon beside the binary (run the set-up command, or --lexicon FILE)";
  if (params.bridge_weight <= 0.0f && params.name_key_weight <= 0.0f)
    return "bridge off (--bridge-weight 0 and --name-key-weight 0)";
  params.lexicon = Lexicon::load(path);
  std::string line = "bridge: " + path + ",";
  for (const Language l : {Language::kSpanish, Language::kFrench, Language::kItalian, Language::kGerman}) {
    line += " " + std::string(language_name(l)) + " " + with_commas(params.lexicon->size(l));
  }
  return line + " words";
}

void add_encoder_options(CLI::App& command, std::string& value, float& weight, std::uint32_t& max_words) {
  command
      .add_option("--encoder", value,
                  "sentence encoder for short documents: a model file, auto (the one built at set-up, "
                  "beside the binary, or $STORYLINE_ENCODER) or off")
      ->capture_default_str();
  command
      .add_option("--encoder-weight", weight,
                  "share of the encoder's cosine in the story similarity of two short documents (0: off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0f, 1.0f));
  command
      .add_option("--encoder-max-words", max_words,
                  "a document of at most this many words (title and text) is short, and encoded")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1000u));
}

std::string resolve_encoder(const std::string& value, float weight,
                            std::shared_ptr<const SentenceEncoder>& encoder, bool when_used) {
  encoder = nullptr;
  if (value == "off") return "encoder off (--encoder off)";
  const std::string path = value == "auto" ? default_encoder_path() : value;
  if (path.empty())
    return "encoder off: no model beside the binary (run the set-up command, or --encoder FILE)";
  if (weight <= 0.0f) return "encoder off (--encoder-weight 0)";
  encoder = when_used ? SentenceEncoder::load_when_used(path) : SentenceEncoder::load(path);
  return "encoder: " + encoder->description();
}

void add_field_options(CLI::App& command, IngestParams& params) {
  command.add_option("--id-field", params.id_field, "JSON field holding the id")->capture_default_str();
  command.add_option("--text-field", params.text_field, "JSON field holding the text")->capture_default_str();
  command.add_option("--title-field", params.title_field, "JSON field holding the title")
      ->capture_default_str();
  command
      .add_option("--date-field", params.date_field,
                  "JSON field holding the ISO 8601 date; none: read no dates")
      ->capture_default_str()
      ->transform([](const std::string& field) { return field == "none" ? std::string() : field; });
}

void add_ingest_options(CLI::App& command, IngestParams& params) {
  add_field_options(command, params);
  command.add_option("--max-line-bytes", params.max_line_bytes, "longer lines are rejected")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command.add_flag("--strict", params.strict, "stop with exit code 1 at the first bad line");
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string with_commas(std::uint64_t n) { return group_digits(n); }

Progress::Progress() : enabled_(::isatty(2) != 0), start_(now_seconds()) {}

void Progress::expect(const std::vector<std::string>& paths) {
  total_bytes_ = 0;
  for (const std::string& path : paths) {
    std::error_code error;
    if (path == "-" || !std::filesystem::is_regular_file(path, error)) {
      total_bytes_ = 0;  // a pipe: no bar
      return;
    }
    total_bytes_ += std::filesystem::file_size(path, error);
  }
}

std::string Progress::line(std::string_view phase, const IngestStats& stats, double elapsed,
                           std::uint64_t total_bytes) {
  elapsed = std::max(elapsed, 1e-9);
  char buf[256];
  std::string out = "[" + std::string(phase) + "] ";
  if (phase == "read" && total_bytes > 0) {
    const double done =
        std::min(1.0, static_cast<double>(stats.raw_bytes) / static_cast<double>(total_bytes));
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(done * kWidth);
    out += std::string(static_cast<std::size_t>(filled), '#') + std::string(kWidth - filled, '-');
    std::snprintf(buf, sizeof buf, " %3.0f%% ", done * 100.0);
    out += buf;
  }
  std::snprintf(buf, sizeof buf, "%s documents, %.0f documents/s, %.1f MB/s, %.1f s",
                with_commas(stats.documents).c_str(), static_cast<double>(stats.documents) / elapsed,
                static_cast<double>(stats.bytes) / 1e6 / elapsed, elapsed);
  out += buf;
  if (phase == "read" && total_bytes > 0 && stats.raw_bytes > 0 && stats.raw_bytes < total_bytes) {
    const double left =
        elapsed * static_cast<double>(total_bytes - stats.raw_bytes) / static_cast<double>(stats.raw_bytes);
    std::snprintf(buf, sizeof buf, ", reading done in %d:%02d", static_cast<int>(left) / 60,
                  static_cast<int>(left) % 60);
    out += buf;
  }
  return out;
}

void Progress::update(std::string_view phase, const IngestStats& stats) {
  if (!enabled_) return;
  const double t = now_seconds();
  if (t - last_ < 0.25 && phase == "read") return;
  last_ = t;
  std::string shown = line(phase, stats, t - start_, total_bytes_);
  if (!label.empty()) shown.insert(shown.find(']') + 2, label + ": ");
  std::fprintf(stderr, "\r\033[K%s", shown.c_str());
  drawn_ = true;
}

void Progress::finish() {
  if (drawn_) std::fprintf(stderr, "\r\033[K");
  drawn_ = false;
}

void print_ingest_summary(const char* command, const IngestStats& stats) {
  std::fprintf(stderr, "storyline %s: %s lines, %s documents, %s rejected\n", command,
               with_commas(stats.lines).c_str(), with_commas(stats.documents).c_str(),
               with_commas(stats.rejected()).c_str());
  print_issue_counts(stats);
}

void print_throughput(const IngestStats& stats, double seconds) {
  seconds = std::max(seconds, 1e-9);
  std::fprintf(stderr, "  %.2f s, %.0f documents/s, %.1f MB/s\n", seconds, stats.documents / seconds,
               stats.bytes / 1e6 / seconds);
}

void print_phases(const PhaseSeconds& phases) {
  std::string line;
  for (const auto& [phase, seconds] : phases) {
    char part[64];
    std::snprintf(part, sizeof part, "%s%s %.2f s", line.empty() ? "" : ", ", phase.c_str(), seconds);
    line += part;
  }
  std::fprintf(stderr, "  phases: %s\n", line.c_str());
}

void print_phase_peaks(const PhaseSeconds& peaks) {
  if (peaks.empty()) return;
  std::string line;
  for (const auto& [phase, mb] : peaks)
    line += (line.empty() ? "" : ", ") + phase + " " + with_commas(static_cast<std::uint64_t>(mb));
  std::fprintf(stderr, "  peak MB after each phase: %s\n", line.c_str());
}

void print_issue_counts(const IngestStats& stats) {
  for (std::size_t i = 0; i < stats.issues.size(); ++i) {
    if (stats.issues[i] == 0) continue;
    const auto issue = static_cast<Issue>(i);
    std::fprintf(stderr, "  %-16s %s (%s)\n", std::string(issue_name(issue)).c_str(),
                 with_commas(stats.issues[i]).c_str(), is_rejecting(issue) ? "skipped" : "repaired, kept");
  }
}

}  // namespace storyline::cli
