// A durable feed: the incremental engine (feed.hpp) with its state in SQLite. Used by `storyline stream`
// and `storyline serve`; safe to call from many threads.
//
// Adding is prepare (fingerprint and terms: parallel, outside any lock), assign (serial, in memory),
// queue the row, wait. One committer thread writes every queued row in one transaction (group commit)
// and wakes the waiters; an answer is given only after its rows are committed. Rows are queued in
// assignment order, so a committed row never refers to one that is not.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storyline/document.hpp"
#include "storyline/feed.hpp"

namespace storyline {

/// How one document of an add() call went.
struct AddOutcome {
  enum class Status : std::uint8_t {
    kAdded,     ///< assigned now
    kExisting,  ///< the id was present with the same title and text: its stored assignment
    kConflict   ///< the id is present with another title or text: nothing added
  };
  Status status = Status::kAdded;
  Assignment assignment;
};

/// A document as the service shows it.
struct StoredDocument {
  Assignment assignment;
  std::string title;  ///< its title, or the first 120 bytes of its text when it has none
};

struct FeedServiceOptions {
  bool sync_full = true;  ///< fsync each commit (else WAL NORMAL: survives a process crash, not a power cut)
  /// A snapshot is written in the background (a forked child writes the engine as it was, copy on
  /// write, while the service goes on) once this many operations were committed since the last one;
  /// 0: max(10,000, a tenth of the state). After a crash, a restart replays at most that many rows.
  std::size_t snapshot_every = 0;
  /// With relinking (FeedParams::thread_relink), the feed relinks when no document has come for this
  /// many seconds and documents joined stories since its last relink, and when it closes (0: only
  /// then). A relink is stored with the history, so a restart makes it too.
  double quiet_relink_seconds = 10.0;
  /// Receives warnings an operator must see (the state's WAL file was deleted under the service and
  /// has been recovered). Called on the service's committing thread; may be empty.
  std::function<void(const std::string&)> on_warning;
};

class FeedService {
 public:
  /// Opens (or creates, with create_with) the state at path and replays it. Throws like FeedStore:
  /// IoError, CorruptIndex for a file that is not a storyline state (left untouched), InvalidArgument.
  FeedService(const std::string& path, const std::optional<FeedParams>& create_with,
              FeedServiceOptions options = {});
  /// Relinks when relinking is on and owed (FeedServiceOptions::quiet_relink_seconds), commits what is
  /// queued, writes the snapshot (path + ".snapshot") and closes the state.
  ~FeedService();
  FeedService(const FeedService&) = delete;
  FeedService& operator=(const FeedService&) = delete;

  const FeedParams& params() const;
  /// Documents rebuilt when the state was opened (removed ones included), how many of those came from
  /// stored rows rather than the snapshot, the seconds it took, and why a snapshot file was not used
  /// (empty when it was, or there was none).
  std::size_t replayed() const;
  std::size_t replayed_rows() const;
  double replay_seconds() const;
  const std::string& snapshot_problem() const;

  /// Adds documents in order and returns once they are durable. When any document conflicts with a
  /// present id, nothing is added and the outcomes show which (status kConflict). Throws IoError when
  /// the state cannot be written (the service then refuses further writes).
  std::vector<AddOutcome> add(std::vector<Document> docs);

  /// Queues one document without waiting (for `stream`); wait(ticket) makes it durable.
  struct Pending {
    AddOutcome outcome;
    std::uint64_t ticket = 0;
  };
  Pending submit(Document doc);
  void wait(std::uint64_t ticket);

  /// The assignment a document would get, without adding it.
  Assignment lookup(Document doc) const;

  std::optional<StoredDocument> get(std::string_view id) const;
  /// Removes a document, durably. False when the id is unknown.
  bool remove(std::string_view id);

  std::optional<ClusterSummary> story(std::uint32_t number) const;
  /// Ids of the story's documents in arrival order, at most limit.
  std::vector<std::string> story_members(std::uint32_t number, std::size_t limit) const;
  std::optional<ClusterSummary> thread(std::uint32_t number) const;
  std::vector<ClusterSummary> stories_since(std::int32_t since, std::size_t limit) const;
  /// Title of a document (for summaries); empty when unknown.
  std::string title(std::string_view id) const;

  struct Counts {
    std::size_t documents = 0, duplicates = 0, stories = 0, threads = 0;
    std::size_t boilerplate = 0;          ///< boilerplate shingles learnt
    std::size_t boilerplate_counted = 0;  ///< documents counted to learn them
  };
  Counts counts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace storyline
