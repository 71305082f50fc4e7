#include <cstdio>
#include <exception>
#include <memory>

#include "cli/commands.hpp"
#include "storyline/error.hpp"

int main(int argc, char** argv) {
  using namespace storyline::cli;
  CLI::App app{"storyline: near-duplicate detection and news story clustering"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "storyline 0.1.0");
  const auto dedup = register_dedup(app);
  const auto cluster = register_cluster(app);
  const auto eval = register_eval(app);
  const auto generate = register_generate(app);
  const auto stream = register_stream(app);
  const auto serve = register_serve(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  try {
    if (app.got_subcommand("dedup")) return dedup();
    if (app.got_subcommand("cluster")) return cluster();
    if (app.got_subcommand("eval")) return eval();
    if (app.got_subcommand("generate")) return generate();
    if (app.got_subcommand("stream")) return stream();
    if (app.got_subcommand("serve")) return serve();
  } catch (const storyline::InvalidArgument& e) {
    std::fprintf(stderr, "storyline: %s\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "storyline: error: %s\n", e.what());
    return kExitError;
  }
  return kExitUsage;
}
