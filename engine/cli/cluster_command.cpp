#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "cli/ingest_options.hpp"
#include "dist/launcher.hpp"
#include "storyline/cluster_job.hpp"

namespace storyline::cli {
namespace {

struct ClusterCli {
  ClusterJobOptions job;
  std::string lexicon = "auto";
  std::string encoder = "auto";
  unsigned jobs = 0;
  bool quiet = false;
};

void print_summary(const ClusterCli& cli, const std::string& bridge, const std::string& encoder,
                   const ClusterJobReport& r) {
  const IngestStats& s = r.ingest;
  print_ingest_summary("cluster", s);
  std::fprintf(stderr, "  %s near-duplicates folded, %s terms, %s story edges\n",
               with_commas(r.duplicates).c_str(), with_commas(r.terms).c_str(), with_commas(r.edges).c_str());
  if (r.time_blocks > 1)
    std::fprintf(stderr, "  stories clustered in %zu time blocks (--time-block)\n", r.time_blocks);
  if (r.background > 0.0f) {
    std::fprintf(stderr, "  background similarity %.3f: undated documents merge at %.3f\n", r.background,
                 undated_story_threshold(cli.job.cluster.story_threshold, r.background));
  }
  if (r.language_backgrounds.size() > 1) {
    std::fprintf(stderr, "  by language (documents, background):");
    for (const auto& l : r.language_backgrounds) {
      std::fprintf(stderr, " %s %s %.3f", std::string(language_name(l.language)).c_str(),
                   with_commas(l.documents).c_str(), l.background);
    }
    std::fprintf(stderr, "\n");
  }
  std::fprintf(stderr, "  %s stories, %s threads\n", with_commas(r.stories).c_str(),
               with_commas(r.threads).c_str());
  std::fprintf(stderr, "  %s\n", bridge.c_str());
  std::fprintf(stderr, "  %s", encoder.c_str());
  if (cli.job.cluster.encoder != nullptr)
    std::fprintf(stderr, "; %s short documents encoded (at most %u words)", with_commas(r.encoded).c_str(),
                 cli.job.cluster.encoder_max_words);
  std::fprintf(stderr, "\n");
  if (!r.languages.empty()) {
    std::fprintf(stderr, "  languages (documents, threads):");
    for (const auto& l : r.languages) {
      std::fprintf(stderr, " %s %s %s", std::string(language_name(l.language)).c_str(),
                   with_commas(l.documents).c_str(), with_commas(l.threads).c_str());
    }
    std::fprintf(stderr, "; %s threads span two or more languages (%s joined across languages)\n",
                 with_commas(r.cross_language_threads).c_str(), with_commas(r.language_joins).c_str());
  }
  print_throughput(s, r.seconds);
  print_phases(r.phases);
  print_phase_peaks(r.phase_peak_mb);
  if (!cli.job.report_path.empty()) {
    std::fprintf(stderr, "  report: %s (%.1f MB)\n", cli.job.report_path.c_str(),
                 static_cast<double>(r.report_bytes) / 1e6);
  }
}

int run(ClusterCli& cli) {
  const std::string bridge = resolve_lexicon(cli.lexicon, cli.job.cluster.tfidf);
  if (dist::launched_by_mpi()) {
    const std::string encoder = "encoder off under mpirun (the distributed job clusters by terms alone)";
    return run_cluster_distributed(cli.job, cli.jobs, cli.quiet, [&](const ClusterJobReport& r) {
      print_summary(cli, bridge, encoder, r);
    });
  }
  const std::string encoder = resolve_encoder(cli.encoder, cli.job.cluster.encoder_weight,
                                              cli.job.cluster.encoder, /*when_used=*/true);
  set_jobs(cli.jobs);
  ProgressObserver observer;
  observer.bar.expect(cli.job.inputs);
  const ClusterJobReport r = run_cluster_job(cli.job, &observer);
  observer.bar.finish();
  if (!cli.quiet) print_summary(cli, bridge, encoder, r);
  return 0;
}

}  // namespace

std::function<int()> register_cluster(CLI::App& app) {
  auto cli = std::make_shared<ClusterCli>();
  CLI::App* c =
      app.add_subcommand("cluster", "group documents into stories (events) and stories into threads");
  ClusterJobOptions& o = cli->job;
  ClusterParams& p = o.cluster;
  c->add_option("inputs", o.inputs, "JSONL files (.gz and .zst are detected); - reads stdin")->required();
  c->add_option("-o,--output", o.annotated_path, "write every record with dup_group, story_id, thread_id")
      ->required();
  c->add_option("--stories", o.stories_path, "write one line per story");
  c->add_option("--threads", o.threads_path, "write one line per thread");
  c->add_option("--rejects", o.rejects_path, "write every rejected or repaired line with file, line, reason");
  c->add_option("--report", o.report_path,
                "write an HTML report (timeline of threads, stories, duplicate groups, figures)");
  c->add_option("--gold", o.gold_path, "with --report: JSONL of gold labels by id, scored in the report")
      ->check(CLI::ExistingFile);
  c->add_option("--gold-story-field", o.gold_story_field, "the gold file's story label")
      ->capture_default_str();
  c->add_option("--gold-thread-field", o.gold_thread_field, "the gold file's thread label")
      ->capture_default_str();
  c->add_option("--story-threshold", p.story_threshold, "mean cosine that makes one story")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--dated-story-threshold", p.dated_story_threshold,
                "the story threshold for documents that all carry dates (and so share the time window)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--background-rank", p.background_rank,
                "undated documents merge at the story threshold plus the median cosine of a document "
                "with its Nth nearest (0: threshold alone)")
      ->capture_default_str()
      ->check(CLI::Range(0u, p.story_neighbors.rerank));  // the neighbour search scores rerank candidates
  c->add_flag("--background-by-language,!--no-background-by-language", p.background_per_language,
              "take the background per language (en, de, es, fr, it, cyrillic, arabic, cjk; default on)");
  c->add_option("--thread-threshold", p.thread_threshold,
                "mean cosine of story centroids that makes one thread")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--window-days", p.story_neighbors.window_days,
                "stories join only documents this many days apart (-1: no window)")
      ->capture_default_str();
  c->add_option("--neighbors", p.story_neighbors.k, "nearest neighbours per document")->capture_default_str();
  c->add_option("--thread-entity-boost", p.thread_entity_boost, "entity weight factor when linking threads")
      ->capture_default_str();
  c->add_option("--thread-pivot-boost", p.thread_pivot_boost,
                "weight factor of the bridge's pivot words when linking threads")
      ->capture_default_str();
  c->add_option("--thread-name-boost", p.thread_name_boost,
                "weight factor of names' pivots and keys (any language, any spelling) when linking threads")
      ->capture_default_str();
  c->add_option("--thread-name-share", p.thread_name_share,
                "share of names in the similarity of two stories when linking threads (0: by weight alone)")
      ->capture_default_str()
      ->check(CLI::Range(0.0f, 1.0f));
  c->add_option("--thread-language-threshold", p.thread_language_threshold,
                "threads in different languages join when their names agree this much (cosine; 0: never)")
      ->capture_default_str()
      ->check(CLI::Range(0.0f, 1.0f));
  c->add_option("--thread-min-stories", p.thread_min_stories,
                "threads with fewer stories join their most similar larger thread (1: never)")
      ->capture_default_str();
  c->add_option("--thread-join-threshold", p.thread_join_threshold, "centroid cosine needed to join")
      ->capture_default_str();
  c->add_option("--thread-refine-rounds", p.thread_refine_rounds,
                "rounds in which stories move to the thread with the most similar centroid (0: none)")
      ->capture_default_str();
  c->add_option("--max-row-terms", p.max_row_terms,
                "a document's vector keeps its N heaviest terms (0: all; bounds the memory per document)")
      ->capture_default_str();
  c->add_option("--max-story-terms", p.max_story_terms,
                "a story's centroid keeps its N heaviest terms when threads are linked (0: all)")
      ->capture_default_str();
  c->add_option("--time-block", o.time_block_documents,
                "stories are clustered in time blocks of about N dated documents each, stitched where "
                "their halos meet (bounds the memory by a block; 0: one block)")
      ->capture_default_str();
  c->add_flag("--bigrams", p.tfidf.bigrams, "add adjacent word pairs as features");
  c->add_option("--title-weight", p.tfidf.title_weight, "a title word counts this many times")
      ->capture_default_str();
  c->add_option("--entity-weight", p.tfidf.entity_weight, "weight of named-entity features")
      ->capture_default_str();
  c->add_option(
       "--own-term-weight", p.tfidf.own_term_weight,
       "idf factor of a term found in one document only (0: left out of the vectors, 1: a term like any)")
      ->check(CLI::Range(0.0f, 1.0f))
      ->capture_default_str();
  c->add_option("--stem", p.tfidf.stem_language,
                "Snowball stemmer (english, spanish, french, italian, german)");
  add_bridge_options(*c, cli->lexicon, p.tfidf);
  add_encoder_options(*c, cli->encoder, p.encoder_weight, p.encoder_max_words);
  c->add_option("--dedup-threshold", o.dedup.threshold, "Jaccard of near-duplicates folded before clustering")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 1.0));
  c->add_option("--containment", o.dedup.containment,
                "a smaller text this much contained in a larger one is folded into it (0 = off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("-j,--jobs", cli->jobs, "worker threads (0 = all cores)")->capture_default_str();
  c->add_flag("-q,--quiet", cli->quiet, "no summary on stderr");
  add_ingest_options(*c, o.ingest);
  return [cli] { return run(*cli); };
}

}  // namespace storyline::cli
