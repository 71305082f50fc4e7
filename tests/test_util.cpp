#include "test_util.hpp"

#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "detail/json_out.hpp"

namespace {

// The sentence encoder's model the build converted beside the CLI, as $STORYLINE_ENCODER for the tests
// and the CLI they run: the library's tests open feed states the CLI made with it. Not set when the
// model was not built (no package fetched): then the encoder is off everywhere.
const bool encoder_environment = [] {
  if (std::filesystem::exists(STORYLINE_ENCODER_FILE))
    ::setenv("STORYLINE_ENCODER", STORYLINE_ENCODER_FILE, 0);
  return true;
}();

}  // namespace

namespace storyline::test {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "storyline-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path, std::ios::binary);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void write_gzip(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

void write_zstd(const std::string& path, const std::string& bytes) {
  // As the zstd tool writes it: level 3 with a content checksum.
  std::string out(ZSTD_compressBound(bytes.size()), '\0');
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  const std::size_t n = ZSTD_compress2(cctx, out.data(), out.size(), bytes.data(), bytes.size());
  ZSTD_freeCCtx(cctx);
  out.resize(n);
  write_file(path, out);
}

CommandResult run_cli(const std::string& args, const std::string& stdin_file) {
  return run_command(std::string(STORYLINE_CLI) + " " + args, stdin_file);
}

CommandResult run_command(const std::string& command_line, const std::string& stdin_file) {
  TempDir dir;
  const std::string out = dir.path("out"), err = dir.path("err");
  std::string command = command_line + " >" + out + " 2>" + err;
  command += stdin_file.empty() ? " </dev/null" : " <" + stdin_file;
  const int status = std::system(command.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

std::string record(const std::string& id, const std::string& text, const std::string& date) {
  std::string line = "{\"id\":";
  detail::append_json_string(line, id);
  line += ",\"text\":";
  detail::append_json_string(line, text);
  if (!date.empty()) {
    line += ",\"date\":";
    detail::append_json_string(line, date);
  }
  line += "}";
  return line;
}

std::string random_text(unsigned seed, int words) {
  static const char* kWords[] = {
      "the",     "minister", "said",     "talks",   "would",   "resume",    "in",        "moscow",
      "after",   "border",   "security", "deal",    "reached", "with",      "officials", "on",
      "monday",  "army",     "drone",    "shot",    "down",    "over",      "golan",     "heights",
      "where",   "troops",   "and",      "sources", "told",    "reporters", "that",      "agreement",
      "iran",    "forces",   "withdraw", "from",    "region",  "president", "visit",     "week",
      "market",  "oil",      "prices",   "fell",    "sharply", "company",   "reported",  "profit",
      "quarter", "rain"};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pick(0, static_cast<int>(std::size(kWords)) - 1);
  std::string text;
  for (int i = 0; i < words; ++i) {
    if (i > 0) text.push_back(' ');
    text += kWords[pick(rng)];
    text += std::to_string(pick(rng) % 7);  // widen the vocabulary to 350 words
  }
  return text;
}

}  // namespace storyline::test
