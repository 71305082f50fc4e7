#include "storyline/feed_service.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <tbb/parallel_for.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "detail/feed_store.hpp"
#include "storyline/error.hpp"

namespace storyline {

struct FeedService::Impl {
  detail::FeedStore store;
  FeedEngine engine;
  detail::FeedStore::LoadReport loaded;
  double replay_seconds = 0.0;

  mutable std::mutex engine_mutex;  // engine
  mutable std::mutex store_mutex;   // store (reads and commits)
  std::mutex queue_mutex;           // everything below
  std::condition_variable queued;
  // A thread waiting for its ticket's commit. Each has its own condition, so a commit wakes just the
  // threads it answers (one shared condition woke every waiter at every commit).
  struct Waiter {
    std::uint64_t ticket;
    std::condition_variable cv;
  };
  std::vector<Waiter*> waiters;
  std::vector<detail::StoreOp> queue;
  std::uint64_t enqueued = 0, committed = 0;
  std::string failure;  // set when a commit failed: no further writes
  bool stopping = false;
  FeedServiceOptions options;
  std::size_t state_rows = 0;        // rows in the state (committer thread after the start)
  std::size_t since_snapshot = 0;    // operations committed since the last snapshot
  std::size_t snapshot_covered = 0;  // operations the running writer's snapshot covers
  pid_t snapshot_child = -1;         // a child writing a snapshot, or -1
  bool committer_idle = false;       // waiting for work: an enqueue must wake it
  // The engine owes a relink (set under engine_mutex, read by the committer while it waits).
  std::atomic<bool> relink_owed = false;
  // add() calls that began and that are done assigning (or gave up); the committer lingers until the
  // latter reaches linger_until (0: not lingering).
  std::uint64_t calls_started = 0, calls_enqueued = 0, linger_until = 0;
  std::thread committer;

  Impl(const std::string& path, const std::optional<FeedParams>& create_with, FeedServiceOptions options)
      : store(path, create_with, options.sync_full), engine(store.params()), options(options) {
    store.set_warning_handler(options.on_warning);
    const auto start = std::chrono::steady_clock::now();
    loaded = store.load(engine);
    state_rows = engine.slots();
    since_snapshot = loaded.rows + loaded.removals + loaded.relinks;
    replay_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    committer = std::thread([this] { commit_loop(); });
  }

  ~Impl() {
    try {
      relink_if_owed();  // the feed is done: its threads as relinking finds them, stored
    } catch (const std::exception&) {
      // The state could not be written: the relink is not stored, and the rows replay without it.
    }
    {
      std::lock_guard lock(queue_mutex);
      stopping = true;
    }
    queued.notify_all();
    committer.join();
    reap(true);
    // Everything is committed: a snapshot lets the next start skip the replay. Failing to write one
    // loses nothing (the next start replays the rows). One that is current and sound is not rewritten.
    if (failure.empty() && (since_snapshot > 0 || !loaded.snapshot_problem.empty())) {
      try {
        std::lock_guard lock(store_mutex);
        store.save_snapshot(engine);
      } catch (const std::exception&) {
      }
    }
  }

  void commit_loop() {
    std::vector<detail::StoreOp> batch;
    std::size_t batch_size = 0;
    for (;;) {
      std::uint64_t last = 0;
      {
        std::unique_lock lock(queue_mutex);
        if (queue.empty()) committer_idle = true;
        const auto ready = [&] { return !queue.empty() || stopping; };
        bool quiet = false;
        if (snapshot_due()) {
          // A snapshot found the engine busy: look again soon, even if nothing more is committed.
          queued.wait_for(lock, std::chrono::milliseconds(20), ready);
        } else if (relink_owed && options.quiet_relink_seconds > 0.0) {
          quiet = !queued.wait_for(lock, std::chrono::duration<double>(options.quiet_relink_seconds), ready);
        } else {
          queued.wait(lock, ready);
        }
        committer_idle = false;
        if (queue.empty()) {
          if (stopping) return;
          lock.unlock();
          if (quiet) {
            try {
              relink_when_quiet();  // queues the relink: the next turn commits it
            } catch (const std::exception&) {
              relink_owed = false;  // the state refuses writes: failure says why
            }
          }
          maybe_snapshot();
          continue;
        }
        // Group commit: calls already being prepared or assigned join this commit instead of waiting
        // for the next one (every commit pays a sync). Only the calls under way now are waited for, and
        // for at most a millisecond.
        linger_until = calls_started;
        queued.wait_for(lock, std::chrono::milliseconds(1),
                        [&] { return calls_enqueued >= linger_until || stopping; });
        linger_until = 0;
        batch.swap(queue);
        last = enqueued;
        batch_size = batch.size();
      }
      std::string error;
      try {
        std::lock_guard lock(store_mutex);
        store.commit(batch);
      } catch (const std::exception& e) {
        error = e.what();
      }
      batch.clear();
      {
        std::lock_guard lock(queue_mutex);
        if (!error.empty() && failure.empty()) failure = error;
        committed = last;
        for (Waiter* w : waiters) {
          if (w->ticket <= committed || !failure.empty()) w->cv.notify_one();
        }
      }
      if (error.empty()) {
        state_rows += batch_size;
        since_snapshot += batch_size;
        maybe_snapshot();
      }
    }
  }

  // Relinks the engine when relinking is on and documents joined stories since its last relink, and
  // queues the relink behind the adds it follows, so that a replay makes it at the same place.
  void relink_if_owed() {
    std::lock_guard lock(engine_mutex);
    relink_owed = false;
    if (!engine.relink_pending()) return;
    detail::StoreOp op;
    op.relink = true;
    enqueue(std::move(op));
    engine.relink();
  }

  // The same from the committer when the feed is quiet, holding the engine only to read it and to move
  // the stories: lookups and reads go on while the threads are found. A document added or removed
  // meanwhile drops the relink (it stays owed: the next quiet spell makes it). The committer only tries
  // the engine (a remove() holds it while it waits for a commit, which this thread makes).
  void relink_when_quiet() {
    std::shared_ptr<FeedEngine::RelinkPlan> plan;
    std::uint64_t at = 0;
    {
      std::unique_lock lock(engine_mutex, std::try_to_lock);
      if (!lock.owns_lock()) return;
      if (!engine.relink_pending()) {
        relink_owed = false;
        return;
      }
      plan = engine.plan_relink();
      at = last_ticket();
    }
    FeedEngine::link_plan(*plan);
    std::unique_lock lock(engine_mutex, std::try_to_lock);
    if (!lock.owns_lock() || last_ticket() != at) return;
    relink_owed = false;
    detail::StoreOp op;
    op.relink = true;
    enqueue(std::move(op));
    engine.apply_relink(*plan);
  }

  // Forks a child that writes the snapshot from its copy-on-write view of the engine, when enough was
  // committed since the last one and nothing assigned is still uncommitted (the snapshot must not hold
  // a document whose row a crash could lose). The parent holds the engine only for the fork.
  bool snapshot_due() const {
    const std::size_t every =
        options.snapshot_every > 0 ? options.snapshot_every : std::max<std::size_t>(10000, state_rows / 10);
    return since_snapshot >= every;
  }

  void maybe_snapshot() {
    reap(false);
    if (snapshot_child > 0 || !snapshot_due()) return;
    // try_lock: a remove() holds the engine while it waits for a commit, which this thread makes. When
    // busy, the commit loop tries again within 20 ms.
    std::unique_lock engine_lock(engine_mutex, std::try_to_lock);
    if (!engine_lock.owns_lock()) return;
    {
      std::lock_guard lock(queue_mutex);
      if (!queue.empty()) return;  // try again after the next commit
    }
    FeedEngine::SnapshotMark mark;
    {
      std::lock_guard lock(store_mutex);
      mark = store.mark();
    }
    const pid_t child = ::fork();
    if (child == 0) {
      // A crash of the service ends the writer too. So does the end of this (committer) thread at a
      // clean stop: reap() then counts the rows as not covered, and the stop writes the snapshot itself.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      store.drop_lock_in_child();  // a writer outliving a killed service must not keep its state locked
      int code = 0;
      try {
        engine.save_snapshot(store.snapshot_path(), mark);
      } catch (...) {
        code = 1;
      }
      ::_exit(code);
    }
    if (child > 0) {
      snapshot_child = child;
      snapshot_covered = since_snapshot;
      since_snapshot = 0;
    }
  }

  void reap(bool wait) {
    int status = 0;
    if (snapshot_child > 0 && ::waitpid(snapshot_child, &status, wait ? 0 : WNOHANG) == snapshot_child) {
      snapshot_child = -1;
      // A writer that failed left the last good snapshot behind: the rows since it are still to cover.
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) since_snapshot += snapshot_covered;
      snapshot_covered = 0;
    }
  }

  // Counts an add() call as under way until it has queued its documents (or left without).
  class CallUnderWay {
   public:
    explicit CallUnderWay(Impl& m) : m_(m) {
      std::lock_guard lock(m_.queue_mutex);
      ++m_.calls_started;
    }
    ~CallUnderWay() { done(); }
    CallUnderWay(const CallUnderWay&) = delete;
    CallUnderWay& operator=(const CallUnderWay&) = delete;
    void done() {
      if (done_) return;
      done_ = true;
      bool wake = false;
      {
        std::lock_guard lock(m_.queue_mutex);
        ++m_.calls_enqueued;
        wake = m_.linger_until != 0 && m_.calls_enqueued >= m_.linger_until;
      }
      if (wake) m_.queued.notify_one();
    }

   private:
    Impl& m_;
    bool done_ = false;
  };

  // Queues an op; the caller holds engine_mutex so queue order is assignment order.
  std::uint64_t enqueue(detail::StoreOp op) {
    std::uint64_t ticket = 0;
    bool wake = false;
    {
      std::lock_guard lock(queue_mutex);
      if (!failure.empty()) throw IoError("the state cannot be written: " + failure);
      queue.push_back(std::move(op));
      ticket = ++enqueued;
      wake = committer_idle;  // a busy committer takes the queue when it is done: no wake-up needed
      committer_idle = false;
    }
    if (wake) queued.notify_one();
    return ticket;
  }

  std::uint64_t last_ticket() {
    std::lock_guard lock(queue_mutex);
    return enqueued;
  }

  void wait(std::uint64_t ticket) {
    std::unique_lock lock(queue_mutex);
    if (committed < ticket && failure.empty()) {
      Waiter self{ticket, {}};
      waiters.push_back(&self);
      self.cv.wait(lock, [&] { return committed >= ticket || !failure.empty(); });
      std::erase(waiters, &self);
    }
    if (committed < ticket || !failure.empty()) throw IoError("the state cannot be written: " + failure);
  }

  // Under engine_mutex: the outcome of an id already present, or nullopt.
  std::optional<AddOutcome> existing(const PreparedDocument& p) const {
    const auto found = engine.find(p.doc.id);
    if (!found) return std::nullopt;
    AddOutcome out;
    out.status =
        found->second == p.content_hash ? AddOutcome::Status::kExisting : AddOutcome::Status::kConflict;
    out.assignment = found->first;
    return out;
  }

  AddOutcome add_locked(PreparedDocument p, std::uint64_t& ticket) {
    if (auto found = existing(p)) return *found;
    // The headline shown for the document: its title, or the start of its text (cut at a character).
    std::string title = p.doc.title;
    if (title.empty()) {
      std::size_t cut = std::min<std::size_t>(p.doc.text.size(), 120);
      while (cut < p.doc.text.size() && cut > 0 &&
             (static_cast<unsigned char>(p.doc.text[cut]) & 0xC0) == 0x80)
        --cut;
      title = p.doc.text.substr(0, cut);
    }
    AddOutcome out;
    detail::StoreOp op;
    op.record = engine.add(std::move(p));
    if (engine.relink_pending()) relink_owed = true;
    op.title = std::move(title);
    out.assignment = op.record.assignment;
    ticket = enqueue(std::move(op));
    return out;
  }
};

FeedService::FeedService(const std::string& path, const std::optional<FeedParams>& create_with,
                         FeedServiceOptions options)
    : impl_(std::make_unique<Impl>(path, create_with, options)) {}

FeedService::~FeedService() = default;

const FeedParams& FeedService::params() const { return impl_->engine.params(); }
std::size_t FeedService::replayed() const { return impl_->engine.slots(); }
std::size_t FeedService::replayed_rows() const {
  return impl_->loaded.rows + impl_->loaded.removals + impl_->loaded.relinks;
}
const std::string& FeedService::snapshot_problem() const { return impl_->loaded.snapshot_problem; }
double FeedService::replay_seconds() const { return impl_->replay_seconds; }

std::vector<AddOutcome> FeedService::add(std::vector<Document> docs) {
  Impl& m = *impl_;
  Impl::CallUnderWay call(m);
  std::vector<PreparedDocument> prepared(docs.size());
  // One document (the usual request) is prepared on the calling thread: waking oneTBB's workers for it
  // costs more than it saves.
  const auto prepare = [&](std::size_t i) { prepared[i] = m.engine.prepare(std::move(docs[i])); };
  if (docs.size() == 1) {
    prepare(0);
  } else {
    tbb::parallel_for(std::size_t{0}, docs.size(), prepare);
  }
  std::vector<AddOutcome> out(prepared.size());
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(m.engine_mutex);
    // All or nothing: a conflict with a present id, or between two documents of this call, adds none.
    bool conflict = false;
    std::unordered_map<std::string_view, std::uint64_t> in_call;
    for (std::size_t i = 0; i < prepared.size(); ++i) {
      const auto found = m.existing(prepared[i]);
      const auto [it, fresh] = in_call.emplace(prepared[i].doc.id, prepared[i].content_hash);
      if ((found && found->status == AddOutcome::Status::kConflict) ||
          (!fresh && it->second != prepared[i].content_hash)) {
        out[i].status = AddOutcome::Status::kConflict;
        if (found) out[i].assignment = found->assignment;
        out[i].assignment.id = prepared[i].doc.id;
        conflict = true;
      }
    }
    if (conflict) return out;
    ticket = m.last_ticket();  // an already-present document may still be waiting for its commit
    for (std::size_t i = 0; i < prepared.size(); ++i) {
      std::uint64_t t = 0;
      out[i] = m.add_locked(std::move(prepared[i]), t);
      ticket = std::max(ticket, t);
    }
  }
  call.done();
  m.wait(ticket);
  return out;
}

FeedService::Pending FeedService::submit(Document doc) {
  Impl& m = *impl_;
  PreparedDocument p = m.engine.prepare(std::move(doc));
  std::lock_guard lock(m.engine_mutex);
  Pending out;
  out.ticket = m.last_ticket();
  std::uint64_t t = 0;
  out.outcome = m.add_locked(std::move(p), t);
  out.ticket = std::max(out.ticket, t);
  return out;
}

void FeedService::wait(std::uint64_t ticket) { impl_->wait(ticket); }

Assignment FeedService::lookup(Document doc) const {
  const PreparedDocument p = impl_->engine.prepare(std::move(doc));
  std::lock_guard lock(impl_->engine_mutex);
  return impl_->engine.lookup(p);
}

std::optional<StoredDocument> FeedService::get(std::string_view id) const {
  StoredDocument out;
  {
    std::lock_guard lock(impl_->engine_mutex);
    const auto found = impl_->engine.find(id);
    if (!found) return std::nullopt;
    out.assignment = found->first;
  }
  out.title = title(id);
  return out;
}

bool FeedService::remove(std::string_view id) {
  Impl& m = *impl_;
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(m.engine_mutex);
    if (!m.engine.find(id)) return false;
    // The engine keeps no vectors: the document's comes from the store, once its row is committed.
    m.wait(m.last_ticket());
    SparseVector vector;
    {
      std::lock_guard store_lock(m.store_mutex);
      vector = m.store.vector_of(id);
    }
    detail::StoreOp op;
    op.remove = true;
    op.record.assignment.id = std::string(id);
    ticket = m.enqueue(std::move(op));
    m.engine.remove(id, vector);
  }
  m.wait(ticket);
  return true;
}

std::optional<ClusterSummary> FeedService::story(std::uint32_t number) const {
  std::lock_guard lock(impl_->engine_mutex);
  return impl_->engine.story(number);
}

std::vector<std::string> FeedService::story_members(std::uint32_t number, std::size_t limit) const {
  std::lock_guard lock(impl_->store_mutex);
  return impl_->store.story_members(number, limit);
}

std::optional<ClusterSummary> FeedService::thread(std::uint32_t number) const {
  std::lock_guard lock(impl_->engine_mutex);
  return impl_->engine.thread(number);
}

std::vector<ClusterSummary> FeedService::stories_since(std::int32_t since, std::size_t limit) const {
  std::lock_guard lock(impl_->engine_mutex);
  return impl_->engine.stories_since(since, limit);
}

std::string FeedService::title(std::string_view id) const {
  std::lock_guard lock(impl_->store_mutex);
  return impl_->store.title(id).value_or("");
}

FeedService::Counts FeedService::counts() const {
  std::lock_guard lock(impl_->engine_mutex);
  const FeedEngine& e = impl_->engine;
  return Counts{e.documents(), e.duplicates(),  e.stories(),
                e.threads(),   e.boilerplate(), e.boilerplate_counted()};
}

}  // namespace storyline
