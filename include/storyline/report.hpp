// The HTML report of a clustering run: one self-contained file (no script or style from the network)
// with a timeline of threads, each thread's stories in date order, the largest duplicate groups and the
// run's figures. `cluster --report FILE` writes it; the renderer takes plain data so it can be tested.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace storyline {

struct ReportDocument {
  std::string id;
  std::string title;
  std::int32_t date = 0;    ///< days since 1970-01-01, or kNoDate
  float similarity = 1.0f;  ///< to its duplicate group's representative
};

struct ReportStory {
  std::string id;
  std::size_t size = 0;  ///< documents
  std::int32_t first = 0, last = 0;
  std::string headline;  ///< the representative's title
  std::vector<std::string> terms, entities;
  std::vector<ReportDocument> documents;  ///< in date order, at most ReportLimits::documents_per_story
};

struct ReportThread {
  std::string id;
  std::size_t size = 0;  ///< documents
  std::int32_t first = 0, last = 0;
  std::vector<std::string> terms, entities;
  std::size_t total_stories = 0;     ///< in the thread; stories holds its largest, earliest and latest
  std::vector<ReportStory> stories;  ///< in date order
};

struct ReportDuplicateGroup {
  ReportDocument representative;
  std::size_t size = 0;                ///< documents, the representative included
  std::vector<ReportDocument> copies;  ///< most similar first, at most ReportLimits::copies_per_group
};

struct ReportData {
  std::string title;
  std::string summary;  ///< one line under the title, e.g. "4,627 documents, 1,292 stories, 34 threads"
  /// The run's figures as shown, in order (label, value), e.g. ("documents", "4,650").
  std::vector<std::pair<std::string, std::string>> figures;
  std::size_t total_threads = 0;  ///< in the run; threads holds the largest
  std::size_t total_stories = 0;
  std::size_t total_duplicate_groups = 0;
  /// The live page (serve): the newest stories, a document lookup form (its action, "" for none), and
  /// the looked-up document's fields (label, value) or why there are none.
  std::vector<ReportStory> newest;
  std::string lookup_action;
  std::string lookup_query;
  std::vector<std::pair<std::string, std::string>> lookup;
  std::string lookup_message;
  std::vector<ReportThread> threads;             ///< largest first
  std::vector<ReportDuplicateGroup> duplicates;  ///< largest first
};

/// How much of a large run the report holds (the rest is counted, not listed).
struct ReportLimits {
  std::size_t threads = 200;
  std::size_t stories_per_thread = 60;
  std::size_t documents_per_story = 25;
  std::size_t duplicate_groups = 100;
  std::size_t copies_per_group = 20;
};

/// The report as one HTML document (UTF-8).
std::string render_html_report(const ReportData& data);

/// 1234567 -> "1,234,567".
std::string group_digits(std::uint64_t value);

}  // namespace storyline
