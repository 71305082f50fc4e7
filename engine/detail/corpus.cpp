#include "detail/corpus.hpp"

#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "storyline/error.hpp"
#include "storyline/jsonl.hpp"

namespace storyline::detail {

RejectsWriter::RejectsWriter(const std::string& path) {
  if (!path.empty()) file_.emplace(path);
}

void RejectsWriter::write(const IssueReport& report) {
  if (!file_) return;
  constexpr std::size_t kMaxContent = 1000;
  line_.clear();
  line_ += "{\"file\":";
  append_json_string(line_, report.file);
  line_ += ",\"line\":" + std::to_string(report.line) + ",\"reason\":";
  append_json_string(line_, issue_name(report.issue));
  line_ += is_rejecting(report.issue) ? ",\"action\":\"skipped\"" : ",\"action\":\"repaired\"";
  line_ += ",\"detail\":";
  append_json_string(line_, report.detail);
  line_ += ",\"content\":";
  append_json_string(line_, report.content.substr(0, kMaxContent));
  line_ += "}\n";
  file_->write(line_);
}

void RejectsWriter::close() {
  if (file_) file_->close();
}

namespace {

// Copies standard input to a temporary file so that pass 2 can read it again.
std::string spool_stdin() {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/storyline-stdin-XXXXXX";
  const int fd = ::mkstemp(path.data());
  if (fd < 0) throw IoError("cannot create a temporary file for standard input");
  ::close(fd);
  OutputFile out(path);
  std::vector<char> buffer(std::size_t{1} << 20);
  for (;;) {  // raw bytes: the reader detects compression and truncation itself
    const ssize_t n = ::read(0, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError("cannot read standard input");
    if (n == 0) break;
    out.write(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
  }
  out.close();
  return path;
}

}  // namespace

namespace {

// The file a path names, when it exists: its device and inode; for a path not yet created, its
// directory's and its name, so that two spellings of one new output still meet.
struct FileKey {
  dev_t device = 0;
  ino_t inode = 0;
  std::string name;  // only for files that do not exist yet
  bool operator==(const FileKey&) const = default;
};

std::optional<FileKey> file_key(const std::string& path) {
  if (path.empty() || path == "-") return std::nullopt;
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) return FileKey{info.st_dev, info.st_ino, ""};
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  if (::stat(dir.c_str(), &info) != 0) return std::nullopt;  // opening it will fail and say so
  return FileKey{info.st_dev, info.st_ino, path.substr(slash + 1)};
}

void refuse_overlaps(const std::vector<std::string>& inputs, std::span<const NamedOutput> outputs) {
  std::vector<std::optional<FileKey>> input_keys;
  for (const auto& in : inputs) input_keys.push_back(file_key(in));
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    const auto key = file_key(outputs[o].path);
    if (!key) continue;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      STORYLINE_CHECK_ARG(input_keys[i] != key, std::string(outputs[o].option) + " '" + outputs[o].path +
                                                    "' is the input file '" + inputs[i] +
                                                    "': writing it would destroy the input");
    }
    for (std::size_t e = 0; e < o; ++e) {
      STORYLINE_CHECK_ARG(file_key(outputs[e].path) != key, std::string(outputs[o].option) + " and " +
                                                                outputs[e].option + " name one file '" +
                                                                outputs[o].path + "'");
    }
  }
}

}  // namespace

PreparedInputs::PreparedInputs(const std::vector<std::string>& inputs, std::span<const NamedOutput> outputs)
    : paths(inputs), names(inputs) {
  STORYLINE_CHECK_ARG(!inputs.empty(), "no input files");
  refuse_overlaps(inputs, outputs);
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (paths[i] != "-") continue;
    paths[i] = spool_stdin();
    temp_.push_back(paths[i]);
    names[i] = "<stdin>";
  }
}

PreparedInputs::~PreparedInputs() {
  for (const auto& p : temp_) std::remove(p.c_str());
}

CorpusSink::CorpusSink(const FingerprintScheme& scheme, std::size_t prior, RejectsWriter& rejects,
                       JobObserver* observer)
    : scheme_(scheme), prior_(prior), rejects_(rejects), observer_(observer), fingerprinters_([&] {
        return Fingerprinter(scheme);
      }) {}

void CorpusSink::reserve(DocIndex first, std::size_t count) {
  const std::size_t end = prior_ + first + count;
  ids.resize(end);
  info.resize(end);
  fingerprints.resize(end * scheme_.words());
  where.resize(end - prior_);
  if (scheme_.params().verify == Verify::kExact) sets.resize(end);
  if (extra_reserve) extra_reserve(prior_ + first, count);
}

void CorpusSink::process(const Document& doc, DocIndex index, SourceLine source) {
  const std::size_t slot = prior_ + index;
  ids[slot] = doc.id;
  where[index] = source;
  auto fp = std::span(fingerprints).subspan(slot * scheme_.words(), scheme_.words());
  info[slot] = DocInfo{doc.date, fingerprinters_.local().fingerprint(
                                     doc.text, fp, sets.empty() ? nullptr : &sets[slot], doc.title)};
  if (extra) extra(doc, slot);
}

void CorpusSink::on_progress(const IngestStats& stats) {
  if (observer_ != nullptr) observer_->progress("read", stats);
}

DedupInput CorpusSink::dedup_input(std::size_t prior) const {
  DedupInput input;
  input.fingerprints = fingerprints;
  input.info = info;
  input.ids = ids;
  input.sets = sets;
  input.prior = prior;
  return input;
}

void for_each_document_line(const std::vector<std::string>& paths, std::size_t max_line_bytes,
                            std::span<const SourceLine> where,
                            const std::function<void(std::size_t, const std::string&)>& fn,
                            std::span<const InputPart> parts) {
  std::vector<InputPart> whole;
  if (parts.empty()) {
    whole.resize(paths.size());
    for (std::size_t f = 0; f < paths.size(); ++f) whole[f].file = static_cast<std::uint32_t>(f);
    parts = whole;
  }
  std::size_t cursor = 0;  // next document, in (file, line) order
  std::string line;
  for (std::size_t p = 0; p < parts.size() && cursor < where.size(); ++p) {
    const InputPart& part = parts[p];
    const std::uint32_t f = part.file;
    LineReader reader = part.whole()
                            ? LineReader(paths[f], max_line_bytes)
                            : LineReader(paths[f], max_line_bytes, part.begin, part.end, part.first_line);
    for (LineStatus s; cursor < where.size() && (s = reader.next(line)) != LineStatus::kEnd;) {
      const SourceLine& at = where[cursor];
      if (s != LineStatus::kLine || at.file != f || at.line != reader.line_number()) continue;
      fn(cursor, line);
      ++cursor;
    }
  }
  if (cursor != where.size()) throw IoError("an input file changed between the two passes");
}

void append_dup_fields(std::string& fields, std::span<const std::string> ids, std::size_t doc, DocIndex rep) {
  append_dup_fields(fields, ids[rep], rep == doc);
}

void append_dup_fields(std::string& fields, std::string_view rep_id, bool is_rep) {
  fields += ",\"dup_group\":";
  append_json_string(fields, rep_id);
  fields += ",\"dup_of\":";
  if (is_rep) {
    fields += "null";
  } else {
    append_json_string(fields, rep_id);
  }
}

void append_annotated(std::string& out, const std::string& line, std::string_view fields) {
  if (simdjson::validate_utf8(line.data(), line.size())) {
    append_fields_to_object(out, line, fields);
  } else {
    std::string repaired;
    repair_utf8(line, repaired);
    append_fields_to_object(out, repaired, fields);
  }
  out.push_back('\n');
}

}  // namespace storyline::detail
