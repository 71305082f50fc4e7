// Options shared by every command that reads documents.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storyline/dedup_job.hpp"
#include "storyline/encoder.hpp"
#include "storyline/ingest.hpp"
#include "storyline/jsonl.hpp"
#include "storyline/terms.hpp"

namespace storyline::cli {

/// Adds --id-field, --text-field, --title-field and --date-field ("none": no dates).
void add_field_options(CLI::App& command, IngestParams& params);

/// Adds the field options, --max-line-bytes and --strict.
void add_ingest_options(CLI::App& command, IngestParams& params);

/// Adds --lexicon (the cross-language bridge: a table file, "auto" for the one built at set-up, or
/// "off") and --bridge-weight, --name-key-weight, stored into value and params. Call resolve_lexicon
/// after parsing.
void add_bridge_options(CLI::App& command, std::string& value, TfidfParams& params);

/// Loads the lexicon --lexicon names into params.lexicon: "auto" takes default_lexicon_path() (none
/// found: off), "off" nothing. Returns a line for the summary ("bridge: es 17,980 words, ..." or why
/// it is off).
std::string resolve_lexicon(const std::string& value, TfidfParams& params);

/// Adds --encoder (the sentence encoder for short documents: a model file, "auto" for the one built
/// at set-up, or "off"), --encoder-weight and --encoder-max-words. Call resolve_encoder after parsing.
void add_encoder_options(CLI::App& command, std::string& value, float& weight, std::uint32_t& max_words);

/// Loads the model --encoder names into encoder: "auto" takes default_encoder_path() (none found:
/// off), "off" nothing; when_used: read only when a short document needs it (SentenceEncoder::
/// load_when_used). Returns a line for the summary (the model, or why the encoder is off).
std::string resolve_encoder(const std::string& value, float weight,
                            std::shared_ptr<const SentenceEncoder>& encoder, bool when_used = false);

/// A one-line progress display on stderr, drawn only when stderr is a terminal, at most 4 times a second:
/// the phase, documents, rate and, while reading inputs of known size, a bar and the time left.
class Progress {
 public:
  Progress();
  /// The inputs about to be read: their on-disk size makes the bar and ETA ("-" or a pipe: unknown).
  void expect(const std::vector<std::string>& paths);
  void update(std::string_view phase, const IngestStats& stats);
  void finish();
  /// The line drawn for these figures (total_bytes 0: size unknown); public for tests.
  static std::string line(std::string_view phase, const IngestStats& stats, double elapsed,
                          std::uint64_t total_bytes);
  /// Said before the counts, such as "rank 0 of 4" when the counts are one rank's.
  std::string label;

 private:
  bool enabled_;
  std::uint64_t total_bytes_ = 0;
  double start_;
  double last_ = -1.0;
  bool drawn_ = false;
};

/// Draws the job's progress on the Progress line.
class ProgressObserver final : public JobObserver {
 public:
  void progress(std::string_view phase, const IngestStats& stats) override { bar.update(phase, stats); }
  Progress bar;
};

/// Prints "storyline COMMAND: N lines, N documents, N rejected" and the issue counts to stderr.
void print_ingest_summary(const char* command, const IngestStats& stats);

/// Prints "  S s, N documents/s, M MB/s" to stderr.
void print_throughput(const IngestStats& stats, double seconds);

/// Prints "  phases: read 1.20 s, group 0.30 s, ..." to stderr.
void print_phases(const PhaseSeconds& phases);
/// Prints "  peak MB after each phase: read 2,100, dedup 2,300, ..." (nothing when empty).
void print_phase_peaks(const PhaseSeconds& peaks);

/// Seconds since an arbitrary start (steady clock).
double now_seconds();

/// "1,234,567"
std::string with_commas(std::uint64_t n);

/// Prints the issue counts ("  malformed_json 3 (skipped)") to stderr.
void print_issue_counts(const IngestStats& stats);

}  // namespace storyline::cli
