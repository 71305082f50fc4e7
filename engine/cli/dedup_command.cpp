#include <cstdio>
#include <map>
#include <memory>

#include "cli/commands.hpp"
#include "cli/ingest_options.hpp"
#include "dist/launcher.hpp"
#include "storyline/dedup_job.hpp"

namespace storyline::cli {
namespace {

struct DedupCli {
  DedupJobOptions job;
  std::string method = "minhash", shingle = "word", verify = "estimate";
  unsigned jobs = 0;
  bool quiet = false;
};

void print_summary(const DedupJobReport& r) {
  const IngestStats& s = r.ingest;
  print_ingest_summary("dedup", s);
  if (r.params.method == DedupMethod::kMinHash) {
    std::fprintf(stderr,
                 "  method minhash: k=%u, %u-%s shingles, threshold %.2f, bands %u x rows %u, verify %s\n",
                 r.params.num_hashes, r.params.shingle.size,
                 r.params.shingle.kind == ShingleKind::kWord ? "word" : "char", r.params.threshold,
                 r.bands.bands, r.bands.rows, r.params.verify == Verify::kExact ? "exact" : "estimate");
  } else {
    std::fprintf(stderr, "  method simhash: %u-%s shingles, max Hamming distance %u, verify %s\n",
                 r.params.shingle.size, r.params.shingle.kind == ShingleKind::kWord ? "word" : "char",
                 r.params.max_hamming, r.params.verify == Verify::kExact ? "exact" : "estimate");
  }
  if (r.boilerplate_sampled > 0) {
    std::fprintf(stderr, "  boilerplate: %s shingles in at least %u of the first %s documents, left out\n",
                 with_commas(r.boilerplate).c_str(), r.boilerplate_min_documents,
                 with_commas(r.boilerplate_sampled).c_str());
  } else if (r.boilerplate > 0) {
    std::fprintf(stderr, "  boilerplate: %s shingles from the index, left out\n",
                 with_commas(r.boilerplate).c_str());
  }
  for (const BoilerplateShingle& b : r.boilerplate_top) {
    std::fprintf(stderr, "    %6u documents: %s\n", b.documents,
                 b.text.empty() ? "(character shingle)" : b.text.c_str());
  }
  if (r.params.containment > 0.0 && r.params.method == DedupMethod::kMinHash) {
    std::fprintf(
        stderr,
        "  containment: a text of %u+ shingles (%u+ under the same title) %.0f%% contained in a larger "
        "one is its copy\n",
        r.params.min_contained_shingles,
        r.params.min_titled_shingles > 0
            ? std::min(r.params.min_titled_shingles, r.params.min_contained_shingles)
            : r.params.min_contained_shingles,
        100.0 * r.params.containment);
  }
  if (r.prior_documents > 0) {
    std::fprintf(stderr, "  index: %s documents loaded, %s new documents duplicate them\n",
                 with_commas(r.prior_documents).c_str(), with_commas(r.duplicates_of_prior).c_str());
  }
  if (r.index_skipped_ids > 0) {
    std::fprintf(stderr, "  index: %s documents not saved (their id was already indexed)\n",
                 with_commas(r.index_skipped_ids).c_str());
  }
  std::fprintf(stderr, "  %s duplicate groups, %s documents removed, %s kept; %s pairs verified, %s passed\n",
               with_commas(r.groups).c_str(), with_commas(r.removed).c_str(),
               with_commas(s.documents - r.removed).c_str(), with_commas(r.candidate_pairs).c_str(),
               with_commas(r.verified_pairs).c_str());
  print_throughput(s, r.seconds);
  print_phases(r.phases);
}

void set_params(DedupCli& cli) {
  DedupParams& p = cli.job.dedup;
  p.method = cli.method == "simhash" ? DedupMethod::kSimHash : DedupMethod::kMinHash;
  p.shingle.kind = cli.shingle == "char" ? ShingleKind::kChar : ShingleKind::kWord;
  p.verify = cli.verify == "exact" ? Verify::kExact : Verify::kEstimate;
}

int run(DedupCli& cli) {
  set_params(cli);
  if (dist::launched_by_mpi()) return run_dedup_distributed(cli.job, cli.jobs, cli.quiet, print_summary);
  set_jobs(cli.jobs);
  ProgressObserver observer;
  observer.bar.expect(cli.job.inputs);
  const DedupJobReport r = run_dedup_job(cli.job, &observer);
  observer.bar.finish();
  if (!cli.quiet) print_summary(r);
  return 0;
}

}  // namespace

std::function<int()> register_dedup(CLI::App& app) {
  auto cli = std::make_shared<DedupCli>();
  CLI::App* c = app.add_subcommand("dedup", "find near-duplicate documents and keep one of each group");
  DedupJobOptions& o = cli->job;
  DedupParams& p = o.dedup;
  c->add_option("inputs", o.inputs, "JSONL files (.gz and .zst are detected); - reads stdin")->required();
  c->add_option("-o,--output", o.kept_path, "write the kept documents' lines here (- is stdout)")->required();
  c->add_option("--annotate", o.annotated_path, "write every record with dup_group and dup_of added");
  c->add_option("--groups", o.groups_path, "write one line per duplicate group");
  c->add_option("--rejects", o.rejects_path, "write every rejected or repaired line with file, line, reason");
  c->add_option("--index", o.index_path, "deduplicate against this saved index (its parameters apply)");
  c->add_option("--save-index", o.save_index_path, "save the index of all documents seen to this file");
  c->add_option("--method", cli->method, "minhash or simhash")
      ->capture_default_str()
      ->check(CLI::IsMember({"minhash", "simhash"}));
  c->add_option("--threshold", p.threshold, "Jaccard similarity at or above which documents are duplicates")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 1.0));
  c->add_option("--num-hashes", p.num_hashes, "MinHash values per document (k)")
      ->capture_default_str()
      ->check(CLI::Range(1, 65536));
  c->add_option("--bands", p.bands, "LSH bands (b); default: chosen from the threshold");
  c->add_option("--rows", p.rows, "LSH rows per band (r); give with --bands");
  c->add_option("--max-hamming", p.max_hamming, "simhash: most differing bits of a duplicate")
      ->capture_default_str()
      ->check(CLI::Range(0, 15));
  c->add_option("--shingle", cli->shingle, "word or char shingles")
      ->capture_default_str()
      ->check(CLI::IsMember({"word", "char"}));
  c->add_option("--ngram", p.shingle.size, "words (or characters) per shingle")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  c->add_option("--verify", cli->verify, "estimate (from fingerprints) or exact (shingle-set Jaccard)")
      ->capture_default_str()
      ->check(CLI::IsMember({"estimate", "exact"}));
  c->add_option("--seed", p.seed, "MinHash seed")->capture_default_str();
  c->add_option("--containment", p.containment,
                "a smaller text this much contained in a larger one is its copy (minhash; 0 = off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--min-contained-shingles", p.min_contained_shingles,
                "shingles (about words) a smaller text needs to be judged by containment")
      ->capture_default_str();
  c->add_option(
       "--first-block-share", p.first_block_share,
       "a framed page may pass by its first block of text when it is this share of the page (0 = off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--min-titled-shingles", p.min_titled_shingles,
                "the same under its larger text's own title (at least 4 words alike; 0 = titles unused)")
      ->capture_default_str();
  c->add_option("--boilerplate-df", o.boilerplate.df,
                "shingles in at least this share of the sampled documents are boilerplate (0 = off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--boilerplate-sample", o.boilerplate.sample, "documents sampled for boilerplate (the first)")
      ->capture_default_str();
  c->add_option("--show-boilerplate", o.show_boilerplate, "print the N most frequent boilerplate shingles")
      ->capture_default_str();
  c->add_option("-j,--jobs", cli->jobs, "worker threads (0 = all cores)")->capture_default_str();
  c->add_flag("-q,--quiet", cli->quiet, "no summary on stderr");
  add_ingest_options(*c, o.ingest);
  return [cli] { return run(*cli); };
}

}  // namespace storyline::cli
