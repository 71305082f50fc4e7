#include <cstdio>
#include <memory>

#include "cli/commands.hpp"
#include "storyline/generator.hpp"

namespace storyline::cli {

std::function<int()> register_generate(CLI::App& app) {
  struct Options {
    GeneratorParams params;
    std::string output;
  };
  auto o = std::make_shared<Options>();
  CLI::App* c =
      app.add_subcommand("generate", "write a synthetic corpus with planted near-duplicates and labels");
  GeneratorParams& p = o->params;
  c->add_option("-o,--output", o->output, "JSONL file to write (- is stdout)")->required();
  c->add_option("-n,--docs", p.documents, "documents to write")->capture_default_str();
  c->add_option("--copy-fraction", p.copy_fraction, "share of documents that are near-copies")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.99));
  c->add_option("--min-jaccard", p.min_jaccard, "every planted copy has at least this Jaccard (0 = any)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--edit-strength", p.edit_strength, "scales the edits of copies")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10.0));
  c->add_option("--mean-words", p.mean_words, "mean words per synthetic original")
      ->capture_default_str()
      ->check(CLI::Range(10, 1000000));
  c->add_option("--source", p.source_path, "take originals from this JSONL (syndication-style copies)");
  c->add_option("--event-size", p.event_size,
                "plant stories of about this many originals each, labelled \"story\" (0 = none)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));
  c->add_flag("--reader-copies", p.reader_copies,
              "copies as a reader meets them: rewrites, pages in site furniture, teasers, wrapped teasers");
  c->add_option("--seed", p.seed, "random seed")->capture_default_str();
  return [o] {
    const GeneratorReport r = generate_corpus(o->params, o->output);
    std::fprintf(stderr,
                 "storyline generate: %llu documents (%llu originals, %llu copies, mean copy Jaccard %.3f, "
                 "%llu regenerated below --min-jaccard, %llu stories)\n",
                 static_cast<unsigned long long>(r.documents), static_cast<unsigned long long>(r.originals),
                 static_cast<unsigned long long>(r.copies), r.mean_copy_jaccard,
                 static_cast<unsigned long long>(r.regenerated), static_cast<unsigned long long>(r.events));
    return 0;
  };
}

}  // namespace storyline::cli
