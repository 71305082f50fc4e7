// The jobs on documents in memory (ingest_documents, dedup_records, cluster_records: what the Python
// module calls) give the answers of the file jobs for the same records.
#include <gtest/gtest.h>

#include <algorithm>

#include "storyline/cluster_job.hpp"
#include "storyline/dedup_job.hpp"
#include "storyline/generator.hpp"
#include "storyline/jsonl.hpp"
#include "test_util.hpp"

namespace storyline {
namespace {

using test::TempDir;

// Documents handed out `batch` at a time.
class VectorBatches final : public DocumentBatches {
 public:
  VectorBatches(std::vector<Document> docs, std::size_t batch) : docs_(std::move(docs)), batch_(batch) {}
  std::span<const Document> next() override {
    const std::size_t n = std::min(batch_, docs_.size() - at_);
    const std::span<const Document> out(docs_.data() + at_, n);
    at_ += n;
    ++calls_;
    return out;
  }
  std::size_t calls() const { return calls_; }

 private:
  std::vector<Document> docs_;
  std::size_t batch_, at_ = 0, calls_ = 0;
};

// The documents of a JSONL file, parsed as the file jobs parse them (every line valid).
std::vector<Document> parse_file(const std::string& path, bool require_text) {
  IngestParams params;
  params.require_text = require_text;
  RecordParser parser(params);
  std::vector<Document> docs;
  for (const std::string& line : test::read_lines(path)) {
    ParsedRecord r;
    parser.parse(line, r);
    EXPECT_FALSE(r.rejected) << line;
    docs.push_back(std::move(r.doc));
  }
  return docs;
}

// A field's string value in an annotated line ("" for null).
std::string field(const std::string& line, const std::string& name) {
  const std::string key = "\"" + name + "\":";
  const std::size_t at = line.rfind(key);
  if (at == std::string::npos || line.compare(at + key.size(), 4, "null") == 0) return "";
  const std::size_t begin = line.find('"', at + key.size()) + 1;
  return line.substr(begin, line.find('"', begin) - begin);
}

std::string corpus(TempDir& dir, std::uint64_t documents) {
  GeneratorParams params;
  params.documents = documents;
  params.seed = 5;
  params.event_size = 6;
  const std::string path = dir.path("corpus.jsonl");
  generate_corpus(params, path);
  return path;
}

TEST(InMemoryJobs, IngestDocumentsNumbersEveryDocumentInOrder) {
  struct Seen final : IngestSink {
    std::vector<std::string> ids;
    std::vector<std::uint64_t> lines;
    std::size_t progress = 0;
    void reserve(DocIndex first, std::size_t count) override {
      EXPECT_EQ(first, ids.size());
      ids.resize(first + count), lines.resize(first + count);
    }
    void process(const Document& doc, DocIndex index, SourceLine where) override {
      ids[index] = doc.id, lines[index] = where.line;
    }
    void on_progress(const IngestStats&) override { ++progress; }
  } sink;
  std::vector<Document> docs(7);
  for (std::size_t i = 0; i < docs.size(); ++i) docs[i].id = "d" + std::to_string(i), docs[i].text = "abc";
  VectorBatches source(docs, 3);
  const IngestStats stats = ingest_documents(source, sink);
  EXPECT_EQ(stats.documents, 7u);
  EXPECT_EQ(stats.lines, 7u);
  EXPECT_EQ(stats.bytes, 21u);
  EXPECT_EQ(sink.progress, 3u);   // batches of 3, 3, 1
  EXPECT_EQ(source.calls(), 4u);  // and the empty one that ends it
  for (std::size_t i = 0; i < docs.size(); ++i) {
    EXPECT_EQ(sink.ids[i], "d" + std::to_string(i));
    EXPECT_EQ(sink.lines[i], i + 1);
  }
}

TEST(InMemoryJobs, DedupRecordsGivesTheGroupsOfTheFileJob) {
  TempDir dir;
  const std::string path = corpus(dir, 4000);
  DedupJobOptions options;
  options.inputs = {path};
  options.kept_path = dir.path("kept.jsonl");
  options.annotated_path = dir.path("annotated.jsonl");
  options.boilerplate.sample = 1000;  // the sample ends inside a batch below
  const DedupJobReport file = run_dedup_job(options);

  VectorBatches source(parse_file(path, true), 700);
  const DedupRecordsResult memory = dedup_records(source, options);
  const std::vector<std::string> annotated = test::read_lines(options.annotated_path);
  ASSERT_EQ(memory.ids.size(), annotated.size());
  std::size_t copies = 0;
  for (std::size_t d = 0; d < annotated.size(); ++d) {
    EXPECT_EQ(memory.ids[memory.groups.representative[d]], field(annotated[d], "dup_group")) << d;
    copies += memory.groups.representative[d] != d;
  }
  EXPECT_EQ(copies, file.removed);
  EXPECT_GT(copies, 500u);
  EXPECT_EQ(memory.report.boilerplate, file.boilerplate);
  EXPECT_GT(memory.report.boilerplate, 0u);
  EXPECT_EQ(memory.report.candidate_pairs, file.candidate_pairs);
}

TEST(InMemoryJobs, ClusterRecordsGivesTheLinesOfTheFileJob) {
  TempDir dir;
  const std::string path = corpus(dir, 3000);
  ClusterJobOptions options;
  options.inputs = {path};
  options.annotated_path = dir.path("annotated.jsonl");
  options.stories_path = dir.path("stories.jsonl");
  options.threads_path = dir.path("threads.jsonl");
  options.time_block_documents = 1000;  // blocks, stitched: the same in both
  const ClusterJobReport file = run_cluster_job(options);
  ASSERT_GT(file.time_blocks, 1u);

  VectorBatches source(parse_file(path, false), 1000);
  ClusterAssignments memory;
  const ClusterJobReport report = cluster_records(source, options, memory);
  EXPECT_EQ(report.stories, file.stories);
  EXPECT_EQ(report.threads, file.threads);
  const std::vector<std::string> annotated = test::read_lines(options.annotated_path);
  ASSERT_EQ(memory.story.size(), annotated.size());
  for (std::size_t d = 0; d < annotated.size(); ++d) {
    EXPECT_EQ("s" + std::to_string(memory.story[d]), field(annotated[d], "story_id")) << d;
    EXPECT_EQ("t" + std::to_string(memory.thread[d]), field(annotated[d], "thread_id")) << d;
    EXPECT_EQ(memory.ids[memory.representative[d]], field(annotated[d], "dup_group")) << d;
    EXPECT_EQ(language_name(memory.language[d]), field(annotated[d], "language")) << d;
  }
  EXPECT_EQ(memory.stories, test::read_lines(options.stories_path));
  EXPECT_EQ(memory.threads, test::read_lines(options.threads_path));
  EXPECT_GT(memory.stories.size(), 100u);
}

}  // namespace
}  // namespace storyline
