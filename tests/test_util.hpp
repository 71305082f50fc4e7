// Helpers shared by the tests: temporary directories, files in every compression, running the CLI.
#pragma once

#include <string>
#include <vector>

namespace storyline::test {

/// A fresh directory under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  /// Path of name inside the directory.
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
};

void write_file(const std::string& path, const std::string& bytes);
std::string read_file(const std::string& path);
std::vector<std::string> read_lines(const std::string& path);
/// Writes bytes gzip-compressed (zlib) or zstd-compressed (with a content checksum, as the zstd tool).
void write_gzip(const std::string& path, const std::string& bytes);
void write_zstd(const std::string& path, const std::string& bytes);

/// Result of running a shell command.
struct CommandResult {
  int exit_code = -1;
  std::string out;  ///< stdout
  std::string err;  ///< stderr
};
/// Runs a shell command (stdin from /dev/null unless given) and captures its output.
CommandResult run_command(const std::string& command, const std::string& stdin_file = "");
/// Runs the storyline binary with args (a shell fragment) and captures its output.
CommandResult run_cli(const std::string& args, const std::string& stdin_file = "");

/// A JSONL record line {"id":..., "text":..., "date":...} with proper escaping.
std::string record(const std::string& id, const std::string& text, const std::string& date = "");

/// Deterministic pseudo-random English-like text of n words from a seed.
std::string random_text(unsigned seed, int words);

}  // namespace storyline::test
