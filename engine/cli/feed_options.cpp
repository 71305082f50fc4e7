#include "cli/feed_options.hpp"

#include <cstdio>

#include "cli/commands.hpp"
#include "cli/ingest_options.hpp"
#include "detail/feed_store.hpp"
#include "detail/json_out.hpp"

namespace storyline::cli {

void add_feed_options(CLI::App& c, FeedCli& cli) {
  FeedParams& p = cli.params;
  cli.ingest.max_id_bytes = kMaxFeedIdBytes;  // every id must be addressable in serve's URLs
  c.add_option("--db", cli.db, "SQLite state file (created when missing)")->required();
  auto param = [&](CLI::Option* o) {
    cli.param_options.push_back(o->capture_default_str());
    return o;
  };
  param(c.add_option("--story-threshold", p.story_threshold, "cosine with a story centroid that joins it"))
      ->check(CLI::Range(0.01, 1.0));
  param(c.add_option("--thread-threshold", p.thread_threshold,
                     "cosine of a new story with a thread centroid (entity-boosted) that joins it"))
      ->check(CLI::Range(0.01, 1.0));
  param(c.add_option("--dated-story-threshold", p.dated_story_threshold,
                     "the story threshold when the document and the story carry dates"))
      ->check(CLI::Range(0.01, 1.0));
  param(c.add_option("--window-days", p.window_days,
                     "stories take documents this many days from their dates (-1: any)"));
  param(c.add_option("--thread-entity-boost", p.thread_entity_boost, "entity weight factor for threads"));
  param(c.add_option("--thread-pivot-boost", p.thread_pivot_boost,
                     "the bridge's pivot words' factor for threads"));
  param(c.add_option("--thread-name-boost", p.thread_name_boost,
                     "names' pivots and keys (any language, any spelling): weight factor for threads"));
  param(c.add_option("--thread-language-threshold", p.thread_language_threshold,
                     "a new story joins the thread whose names agree this much (cosine), in any language "
                     "(0: never)"))
      ->check(CLI::Range(0.0f, 1.0f));
  param(c.add_option("--thread-merge-threshold", p.thread_merge_threshold,
                     "a thread that takes a new story and has grown this alike (cosine of centroids) to "
                     "another is merged with it, the smaller into the larger (0: never)"))
      ->check(CLI::Range(0.0f, 1.0f));
  param(c.add_option("--thread-relink", p.thread_relink,
                     "relink every live story into threads the way `cluster` does, this many times each "
                     "time the stories double (0: never)"))
      ->check(CLI::Range(0u, 64u));
  param(c.add_flag_callback(
      "--thread-relink-quiet-only", [&p] { p.thread_relink_by_count = false; },
      "with --thread-relink, relink only when the feed goes quiet or closes, never by the count of stories "
      "(no add waits for a relink: for `serve` under load)"));
  c.add_option("--thread-relink-quiet", cli.quiet_relink_seconds,
               "with --thread-relink, relink also when no document came for this many seconds, and always "
               "when the feed closes (the end of `stream`'s input) (0: when it closes only)")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  param(c.add_option("--thread-relink-threshold", p.thread_relink_threshold,
                     "relinking's average-linkage threshold, as cluster's --thread-threshold"))
      ->check(CLI::Range(0.01, 1.0));
  param(c.add_flag("--idf-by-language,!--no-idf-by-language", p.idf_by_language,
                   "count document frequencies per language (the language guessed per document), so that "
                   "a language's common words weigh as common in a feed of several (default on)"));
  param(c.add_option("--title-weight", p.tfidf.title_weight, "a title word counts this many times"));
  param(c.add_option("--entity-weight", p.tfidf.entity_weight, "weight of named-entity features"));
  param(c.add_option("--stem", p.tfidf.stem_language, "Snowball stemmer (english, spanish, french, ...)"));
  add_bridge_options(c, cli.lexicon, p.tfidf);
  add_encoder_options(c, cli.encoder, p.encoder_weight, p.encoder_max_words);
  param(c.add_option("--containment", p.dedup.containment,
                     "a smaller text this much contained in a larger one is its copy (0 = off)"));
  param(c.add_option("--boilerplate-df", p.boilerplate.df,
                     "shingles held by this share of the first --boilerplate-sample documents are "
                     "boilerplate, left out of fingerprints from then on (0 = off)"))
      ->check(CLI::Range(0.0, 1.0));
  param(c.add_option("--boilerplate-sample", p.boilerplate.sample,
                     "the documents counted to learn boilerplate (the first ones)"));
  param(c.add_option("--dedup-threshold", p.dedup.threshold, "Jaccard at which a document is a copy"))
      ->check(CLI::Range(0.01, 1.0));
  c.add_flag("--sync-normal", cli.sync_normal,
             "commit without fsync (WAL NORMAL): survives a crash of storyline, not of the machine");
  c.add_option("--snapshot-every", cli.snapshot_every,
               "write a background snapshot after this many committed documents (0: max(10000, a tenth of "
               "the state)); a restart after a crash replays at most that many rows")
      ->capture_default_str();
  c.add_option("-j,--jobs", cli.jobs, "worker threads (0 = all cores)")->capture_default_str();
  c.add_flag("-q,--quiet", cli.quiet, "no messages on stderr");
  add_field_options(c, cli.ingest);
}

std::unique_ptr<FeedService> open_feed(FeedCli& cli) {
  set_jobs(cli.jobs);
  const std::string bridge = resolve_lexicon(cli.lexicon, cli.params.tfidf);
  if (!cli.quiet) std::fprintf(stderr, "storyline: %s\n", bridge.c_str());
  const std::string encoder = resolve_encoder(cli.encoder, cli.params.encoder_weight, cli.params.encoder);
  if (!cli.quiet) std::fprintf(stderr, "storyline: %s\n", encoder.c_str());
  FeedServiceOptions options;
  options.sync_full = !cli.sync_normal;
  options.snapshot_every = cli.snapshot_every;
  options.quiet_relink_seconds = cli.quiet_relink_seconds;
  options.on_warning = [](const std::string& warning) {
    std::fprintf(stderr, "storyline: WARNING: %s\n", warning.c_str());
    std::fflush(stderr);
  };
  auto service = std::make_unique<FeedService>(cli.db, cli.params, std::move(options));
  bool given = false;
  for (const CLI::Option* o : cli.param_options) given = given || o->count() > 0;
  if (given && !cli.quiet && detail::params_text(service->params()) != detail::params_text(cli.params)) {
    std::fprintf(
        stderr,
        "storyline: warning: %s keeps the parameters it was created with; the ones given are ignored\n",
        cli.db.c_str());
  }
  if (!cli.quiet) {
    const auto counts = service->counts();
    if (!service->snapshot_problem().empty()) {
      std::fprintf(stderr, "storyline: warning: snapshot not used (%s); replaying the stored rows\n",
                   service->snapshot_problem().c_str());
    }
    std::fprintf(
        stderr,
        "storyline: %s: %s documents replayed in %.2f s, %s of them from rows after the snapshot (%s "
        "stories, %s threads)\n",
        cli.db.c_str(), with_commas(service->replayed()).c_str(), service->replay_seconds(),
        with_commas(service->replayed_rows()).c_str(), with_commas(counts.stories).c_str(),
        with_commas(counts.threads).c_str());
  }
  return service;
}

void append_assignment_fields(std::string& out, const Assignment& a) {
  out += ",\"dup_group\":";
  detail::append_json_string(out, a.dup_group);
  out += ",\"dup_of\":";
  if (a.dup_of.empty()) {
    out += "null";
  } else {
    detail::append_json_string(out, a.dup_of);
  }
  out += ",\"dup_similarity\":";
  detail::append_json_number(out, a.dup_similarity);
  out += ",\"story_id\":";
  detail::append_json_string(out, a.story ? story_name(a.story) : "");
  out += ",\"thread_id\":";
  detail::append_json_string(out, a.thread ? thread_name(a.thread) : "");
  out += ",\"story_similarity\":";
  detail::append_json_number(out, a.story_similarity);
  out += a.new_story ? ",\"new_story\":true" : ",\"new_story\":false";
  out += a.new_thread ? ",\"new_thread\":true" : ",\"new_thread\":false";
  if (!a.replaces.empty()) {
    out += ",\"replaces\":";
    detail::append_json_string(out, a.replaces);
  }
}

}  // namespace storyline::cli
