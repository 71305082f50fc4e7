// The feed's durable state in SQLite (WAL mode): one row per document ever added, with what the engine
// needs to replay it, and one row per removal (or relink) with its place in that history (rows are never
// deleted, only marked), so a restarted engine is the engine that was running. A snapshot file beside the
// state, written at a clean stop, holds the engine as of a point of that history: a restart loads it and
// replays only what came after.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storyline/error.hpp"
#include "storyline/feed.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace storyline::detail {

/// One write: a document added (record + title) or removed (id), or a relink the engine made when the
/// feed went quiet (FeedEngine::relink; stored in the removals' log with doc_seq 0, so that a replay
/// makes it at its place in the history).
struct StoreOp {
  FeedRecord record;
  std::string title;
  bool remove = false;
  bool relink = false;
};

/// The database lacks rows that the snapshot beside it holds: refused, since going on would overwrite
/// the snapshot (hardening #17).
class StateBehindSnapshot : public CorruptIndex {
 public:
  using CorruptIndex::CorruptIndex;
};

class FeedStore {
 public:
  /// Takes the state's lock (PATH.lock; IoError naming the holder's pid and host when another process
  /// has it), then opens path, creating a new state with `create_with` when the file is missing or empty
  /// and no snapshot lies beside it (CorruptIndex otherwise: the state lost its database) (an empty
  /// create_with then throws InvalidArgument). An existing state keeps its own parameters (see
  /// params()). Throws IoError when the file cannot be opened and CorruptIndex, leaving the file
  /// untouched, when it is not a storyline state (another SQLite database, another file, a newer
  /// version, a damaged file). sync_full: fsync every commit (else WAL's NORMAL: safe against a crash
  /// of the process, not of the machine).
  FeedStore(const std::string& path, const std::optional<FeedParams>& create_with, bool sync_full);
  ~FeedStore();
  FeedStore(const FeedStore&) = delete;
  FeedStore& operator=(const FeedStore&) = delete;

  const FeedParams& params() const { return params_; }

  /// How the state was loaded.
  struct LoadReport {
    std::size_t snapshot_documents = 0;  ///< document slots taken from the snapshot
    std::size_t rows = 0;                ///< document rows replayed after it
    std::size_t removals = 0;            ///< removals replayed after it
    std::size_t relinks = 0;             ///< relinks made when the feed went quiet, replayed after it
    std::string snapshot_problem;        ///< why a snapshot file present was not used
  };
  /// Rebuilds engine (empty, of params()): from the snapshot beside the state (path + ".snapshot")
  /// when it is one of this state and not newer, then the stored history after it, in order.
  LoadReport load(FeedEngine& engine);

  /// Writes the engine as the snapshot of everything committed so far (call with no write pending).
  void save_snapshot(const FeedEngine& engine);

  /// The state's id and its last document and removal rows: what a snapshot taken now covers.
  FeedEngine::SnapshotMark mark();

  /// The vector a live document was added with (empty for a copy or an unknown id).
  SparseVector vector_of(std::string_view id);

  std::string snapshot_path() const { return path_ + ".snapshot"; }

  /// In a forked child: closes its copy of the lock file, so that the lock goes with the parent alone.
  void drop_lock_in_child() { ::close(lock_fd_); }

  /// Writes ops in one transaction, then checks the WAL (check_wal). Throws IoError.
  void commit(std::span<const StoreOp> ops);

  /// When the WAL file is no longer the one SQLite writes to (deleted or replaced by hand), checkpoints
  /// the open one into the database, starts a new WAL and passes a warning to the warning handler.
  /// Called after every commit.
  void check_wal();
  /// Receives check_wal's warnings (called on the committing thread).
  void set_warning_handler(std::function<void(const std::string&)> handler) {
    on_warning_ = std::move(handler);
  }

  /// The title stored for a live document.
  std::optional<std::string> title(std::string_view id);

  /// Ids of a story's live documents in arrival order, at most limit.
  std::vector<std::string> story_members(std::uint32_t story, std::size_t limit);

 private:
  void open(const std::optional<FeedParams>& create_with, bool sync_full);
  void exec(const char* sql);
  std::uint64_t single_integer(const char* sql);
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* remove_ = nullptr;
  sqlite3_stmt* log_removal_ = nullptr;
  sqlite3_stmt* log_relink_ = nullptr;
  sqlite3_stmt* vector_ = nullptr;
  sqlite3_stmt* title_ = nullptr;
  sqlite3_stmt* members_ = nullptr;
  std::string path_;
  int lock_fd_ = -1;
  ino_t wal_inode_ = 0;
  std::function<void(const std::string&)> on_warning_;
  FeedParams params_;
};

/// Parameters as "key=value" lines (stored with the state), and back. parse throws CorruptIndex.
std::string params_text(const FeedParams& params);
FeedParams parse_params_text(std::string_view text);

}  // namespace storyline::detail
