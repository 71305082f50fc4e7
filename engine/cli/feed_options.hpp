// What `stream` and `serve` share: the state file, the feed's parameters, and the JSON of an assignment.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "storyline/feed_service.hpp"
#include "storyline/jsonl.hpp"

namespace storyline::cli {

struct FeedCli {
  std::string db;
  FeedParams params;
  IngestParams ingest;
  bool sync_normal = false;
  std::size_t snapshot_every = 0;
  double quiet_relink_seconds = 10.0;
  bool quiet = false;
  unsigned jobs = 0;
  std::string lexicon = "auto";
  std::string encoder = "auto";
  std::vector<CLI::Option*> param_options;  // to tell whether any was given
};

/// Adds --db, the feed parameters (used when the state is created), --sync, --jobs, --quiet and the
/// field-name options.
void add_feed_options(CLI::App& command, FeedCli& cli);

/// Opens the state, replays it and reports on stderr (unless quiet). Warns when parameters were given
/// for a state that keeps other ones.
std::unique_ptr<FeedService> open_feed(FeedCli& cli);

/// Appends ,"dup_group":...,"dup_of":...,"dup_similarity":...,"story_id":...,"thread_id":...,
/// "story_similarity":...,"new_story":...,"new_thread":...
void append_assignment_fields(std::string& out, const Assignment& a);

}  // namespace storyline::cli
