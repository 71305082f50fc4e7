#include "detail/feed_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <random>

#include "storyline/encoder.hpp"
#include "storyline/error.hpp"
#include "storyline/lexicon.hpp"

namespace storyline::detail {
namespace {

static_assert(std::endian::native == std::endian::little, "the state's blobs are little-endian");

constexpr int kApplicationId = 0x53544C46;  // "STLF"
constexpr int kSchemaVersion = 1;

const char* const kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents(
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  title TEXT NOT NULL,
  date INTEGER,
  length INTEGER NOT NULL,
  content_hash INTEGER NOT NULL,
  dup_of TEXT,
  dup_group TEXT NOT NULL,
  dup_similarity REAL NOT NULL,
  story INTEGER NOT NULL,
  thread INTEGER NOT NULL,
  story_similarity REAL NOT NULL,
  fingerprint BLOB NOT NULL,
  vector BLOB,
  terms BLOB,
  names BLOB,
  deleted INTEGER NOT NULL DEFAULT 0,
  shingles BLOB,
  counts BLOB,
  language INTEGER);
CREATE INDEX documents_id ON documents(id);
CREATE INDEX documents_story ON documents(story);
CREATE TABLE removals(
  rseq INTEGER PRIMARY KEY,
  doc_seq INTEGER NOT NULL,
  after_seq INTEGER NOT NULL);
)sql";

std::string sqlite_message(sqlite3* db) { return db ? sqlite3_errmsg(db) : "out of memory"; }

template <typename T>
std::span<const T> blob_span(sqlite3_stmt* st, int col) {
  const void* data = sqlite3_column_blob(st, col);
  const auto bytes = static_cast<std::size_t>(sqlite3_column_bytes(st, col));
  if (data == nullptr || bytes % sizeof(T) != 0) return {};
  return {static_cast<const T*>(data), bytes / sizeof(T)};
}

std::string_view column_text(sqlite3_stmt* st, int col) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, col));
  return text ? std::string_view(text, static_cast<std::size_t>(sqlite3_column_bytes(st, col)))
              : std::string_view();
}

// Vector as packed (u64 hash, f32 weight) pairs; names as (u64 hash, u32 length, bytes) runs.
std::string pack_vector(const SparseVector& v) {
  std::string out(v.size() * 12, '\0');
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::memcpy(out.data() + i * 12, &v[i].first, 8);
    std::memcpy(out.data() + i * 12 + 8, &v[i].second, 4);
  }
  return out;
}

SparseVector unpack_vector(const void* data, std::size_t bytes) {
  STORYLINE_CHECK_INDEX(bytes % 12 == 0, "a stored vector has a partial entry");
  SparseVector v(bytes / 12);
  const auto* p = static_cast<const char*>(data);
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::memcpy(&v[i].first, p + i * 12, 8);
    std::memcpy(&v[i].second, p + i * 12 + 8, 4);
  }
  return v;
}

std::string pack_names(const std::vector<std::pair<std::uint64_t, std::string>>& names) {
  std::string out;
  for (const auto& [hash, name] : names) {
    const auto size = static_cast<std::uint32_t>(name.size());
    out.append(reinterpret_cast<const char*>(&hash), 8);
    out.append(reinterpret_cast<const char*>(&size), 4);
    out += name;
  }
  return out;
}

std::vector<std::pair<std::uint64_t, std::string>> unpack_names(const void* data, std::size_t bytes) {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  const auto* p = static_cast<const char*>(data);
  std::size_t at = 0;
  while (at < bytes) {
    STORYLINE_CHECK_INDEX(bytes - at >= 12, "a stored name list is truncated");
    std::uint64_t hash = 0;
    std::uint32_t size = 0;
    std::memcpy(&hash, p + at, 8);
    std::memcpy(&size, p + at + 8, 4);
    at += 12;
    STORYLINE_CHECK_INDEX(bytes - at >= size, "a stored name list is truncated");
    out.emplace_back(hash, std::string(p + at, size));
    at += size;
  }
  return out;
}

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK) {
      throw CorruptIndex(std::string("not a storyline state: ") + sqlite_message(db));
    }
  }
  ~Statement() { sqlite3_finalize(st_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() const { return st_; }

 private:
  sqlite3_stmt* st_ = nullptr;
};

// Reads application_id, user_version and meta of an existing file without writing to it.
std::optional<FeedParams> inspect(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  // close_v2: the connection goes once the last statement is finalized (some are still in scope).
  const auto close = [&] { sqlite3_close_v2(db); };
  if (rc != SQLITE_OK) {
    const std::string message = sqlite_message(db);
    close();
    throw IoError(path + ": cannot open: " + message);
  }
  try {
    auto pragma = [&](const char* sql) {
      Statement st(db, sql);
      const int step = sqlite3_step(st.get());
      if (step != SQLITE_ROW) throw CorruptIndex(std::string("not a storyline state: ") + sqlite_message(db));
      return sqlite3_column_int(st.get(), 0);
    };
    const int app = pragma("PRAGMA application_id");
    const int tables = pragma("SELECT count(*) FROM sqlite_schema");
    if (app == 0 && tables == 0) {
      close();
      return std::nullopt;  // an empty database: made here
    }
    if (app != kApplicationId) throw CorruptIndex("not a storyline state (another SQLite database)");
    const int version = pragma("PRAGMA user_version");
    if (version != kSchemaVersion) {
      throw CorruptIndex("storyline state of version " + std::to_string(version) + "; this build reads " +
                         std::to_string(kSchemaVersion));
    }
    Statement meta(db, "SELECT value FROM meta WHERE key = 'params'");
    if (sqlite3_step(meta.get()) != SQLITE_ROW) throw CorruptIndex("storyline state without parameters");
    FeedParams params = parse_params_text(column_text(meta.get(), 0));
    // No integrity check here: it reads the whole file. Damage further in fails the load instead.
    close();
    return params;
  } catch (const CorruptIndex& e) {
    close();
    throw CorruptIndex(path + ": " + e.what());
  }
}

}  // namespace

std::string params_text(const FeedParams& p) {
  std::string out;
  auto put = [&](const char* key, auto value) {
    out += key;
    out += '=';
    if constexpr (std::is_floating_point_v<decltype(value)>) {
      char buf[64];
      const auto r = std::to_chars(buf, buf + sizeof buf, value);
      out.append(buf, r.ptr);
    } else if constexpr (std::is_same_v<decltype(value), std::string>) {
      out += value;
    } else {
      out += std::to_string(value);
    }
    out += '\n';
  };
  const DedupParams& d = p.dedup;
  put("dedup.method", static_cast<unsigned>(d.method));
  put("dedup.shingle.kind", static_cast<unsigned>(d.shingle.kind));
  put("dedup.shingle.size", d.shingle.size);
  put("dedup.shingle.seed", d.shingle.seed);
  put("dedup.num_hashes", d.num_hashes);
  put("dedup.threshold", d.threshold);
  put("dedup.bands", d.bands);
  put("dedup.rows", d.rows);
  put("dedup.max_hamming", d.max_hamming);
  put("dedup.verify", static_cast<unsigned>(d.verify));
  put("dedup.seed", d.seed);
  if (d.containment > 0.0) {  // so that the text of a state from before containment stays the same
    put("dedup.containment", d.containment);
    put("dedup.min_contained_shingles", d.min_contained_shingles);
    if (d.min_titled_shingles > 0) put("dedup.min_titled_shingles", d.min_titled_shingles);
    if (d.first_block_share > 0.0) put("dedup.first_block_share", d.first_block_share);
  }
  if (p.boilerplate.df > 0.0) {  // the same: a state from before the feed learnt boilerplate
    put("boilerplate.df", p.boilerplate.df);
    put("boilerplate.min_documents", p.boilerplate.min_documents);
    put("boilerplate.sample", p.boilerplate.sample);
  }
  const TfidfParams& t = p.tfidf;
  put("tfidf.title_weight", t.title_weight);
  put("tfidf.entity_weight", t.entity_weight);
  put("tfidf.stop_words", static_cast<unsigned>(t.stop_words));
  put("tfidf.stem_language", t.stem_language);
  put("tfidf.max_df_ratio", t.max_df_ratio);
  put("tfidf.bigrams", static_cast<unsigned>(t.bigrams));
  put("tfidf.bigram_weight", t.bigram_weight);
  // Written only when on, so that a state from before names and the bridge keeps its text.
  if (t.name_key_weight > 0.0f || t.lexicon != nullptr) {
    put("tfidf.name_key_weight", t.name_key_weight);
    put("thread_pivot_boost", p.thread_pivot_boost);
    put("thread_name_boost", p.thread_name_boost);
    put("thread_language_threshold", p.thread_language_threshold);
  }
  if (t.lexicon != nullptr) {
    put("tfidf.lexicon", t.lexicon->checksum());
    put("tfidf.bridge_weight", t.bridge_weight);
  }
  // Written only when on, so that a state without the encoder keeps its text.
  if (p.encoder != nullptr && p.encoder_weight > 0.0f) {
    put("encoder", p.encoder->checksum());
    put("encoder_weight", p.encoder_weight);
    put("encoder_max_words", p.encoder_max_words);
  }
  put("story_threshold", p.story_threshold);
  put("window_days", p.window_days);
  put("dated_story_threshold", p.dated_story_threshold);
  put("thread_threshold", p.thread_threshold);
  put("thread_entity_boost", p.thread_entity_boost);
  put("vector_terms", p.vector_terms);
  put("centroid_terms", p.centroid_terms);
  // Written only when it differs, so that a state from before (threads of 128 terms) keeps its text.
  if (p.thread_centroid_terms != p.centroid_terms) put("thread_centroid_terms", p.thread_centroid_terms);
  if (p.thread_relink > 0) {  // the same: a state from before relinking
    put("thread_relink", p.thread_relink);
    put("thread_relink_threshold", p.thread_relink_threshold);
    put("thread_relink_entity_boost", p.thread_relink_entity_boost);
    if (!p.thread_relink_by_count) put("thread_relink_by_count", 0u);  // states from before: by count
  }
  // Written only when on (the same: a state from before merging).
  if (p.thread_merge_threshold > 0.0f) put("thread_merge_threshold", p.thread_merge_threshold);
  if (p.idf_by_language) put("idf_by_language", 1u);  // the same: states from before count as one
  put("probe_terms", p.probe_terms);
  put("max_postings", p.max_postings);
  put("rerank", p.rerank);
  return out;
}

FeedParams parse_params_text(std::string_view text) {
  std::map<std::string, std::string, std::less<>> kv;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const std::size_t eq = line.find('=');
    STORYLINE_CHECK_INDEX(eq != std::string_view::npos, "stored parameters are malformed");
    kv.emplace(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
  }
  auto get = [&](const char* key, auto& value) {
    const auto it = kv.find(key);
    STORYLINE_CHECK_INDEX(it != kv.end(), std::string("stored parameters lack ") + key);
    using T = std::remove_reference_t<decltype(value)>;
    if constexpr (std::is_same_v<T, std::string>) {
      value = it->second;
    } else if constexpr (std::is_same_v<T, bool> || std::is_enum_v<T>) {
      unsigned v = 0;
      std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
      value = static_cast<T>(v);
    } else {
      const auto r = std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
      STORYLINE_CHECK_INDEX(r.ec == std::errc(), std::string("stored parameter ") + key + " is malformed");
    }
  };
  FeedParams p;
  DedupParams& d = p.dedup;
  get("dedup.method", d.method);
  get("dedup.shingle.kind", d.shingle.kind);
  get("dedup.shingle.size", d.shingle.size);
  get("dedup.shingle.seed", d.shingle.seed);
  get("dedup.num_hashes", d.num_hashes);
  get("dedup.threshold", d.threshold);
  get("dedup.bands", d.bands);
  get("dedup.rows", d.rows);
  get("dedup.max_hamming", d.max_hamming);
  get("dedup.verify", d.verify);
  get("dedup.seed", d.seed);
  d.containment = 0.0;  // states from before containment keep their fingerprints' layout
  if (kv.contains("dedup.containment")) {
    get("dedup.containment", d.containment);
    get("dedup.min_contained_shingles", d.min_contained_shingles);
  }
  d.min_titled_shingles = 0;  // states from before titles: their fingerprints have no title word
  if (kv.contains("dedup.min_titled_shingles")) get("dedup.min_titled_shingles", d.min_titled_shingles);
  d.first_block_share = 0.0;  // nor the first block's word
  if (kv.contains("dedup.first_block_share")) get("dedup.first_block_share", d.first_block_share);
  p.boilerplate.df = 0.0;  // states from before the feed learnt boilerplate go on without
  if (kv.contains("boilerplate.df")) {
    get("boilerplate.df", p.boilerplate.df);
    get("boilerplate.min_documents", p.boilerplate.min_documents);
    get("boilerplate.sample", p.boilerplate.sample);
  }
  TfidfParams& t = p.tfidf;
  get("tfidf.title_weight", t.title_weight);
  get("tfidf.entity_weight", t.entity_weight);
  get("tfidf.stop_words", t.stop_words);
  get("tfidf.stem_language", t.stem_language);
  get("tfidf.max_df_ratio", t.max_df_ratio);
  get("tfidf.bigrams", t.bigrams);
  get("tfidf.bigram_weight", t.bigram_weight);
  t.name_key_weight = 0.0f;  // states from before name keys
  if (kv.contains("tfidf.name_key_weight")) {
    get("tfidf.name_key_weight", t.name_key_weight);
    get("thread_pivot_boost", p.thread_pivot_boost);
    get("thread_name_boost", p.thread_name_boost);
    get("thread_language_threshold", p.thread_language_threshold);
  } else {
    p.thread_language_threshold = 0.0f;  // states from before the bridge link threads as they did
  }
  t.lexicon = nullptr;  // attached by FeedStore::open from the lexicon given, when the checksum agrees
  if (kv.contains("tfidf.lexicon")) {
    get("tfidf.lexicon", t.lexicon_checksum);
    get("tfidf.bridge_weight", t.bridge_weight);
  }
  p.encoder = nullptr;  // attached by FeedStore::open from the model given, when the checksum agrees
  p.encoder_checksum = 0;
  if (kv.contains("encoder")) {
    get("encoder", p.encoder_checksum);
    get("encoder_weight", p.encoder_weight);
    get("encoder_max_words", p.encoder_max_words);
  } else {
    p.encoder_weight = 0.0f;  // states from before the encoder go on without it
  }
  get("story_threshold", p.story_threshold);
  get("window_days", p.window_days);
  get("dated_story_threshold", p.dated_story_threshold);
  get("thread_threshold", p.thread_threshold);
  get("thread_entity_boost", p.thread_entity_boost);
  get("vector_terms", p.vector_terms);
  get("centroid_terms", p.centroid_terms);
  p.thread_centroid_terms = p.centroid_terms;  // states from before: threads kept as many as stories
  if (kv.contains("thread_centroid_terms")) get("thread_centroid_terms", p.thread_centroid_terms);
  p.thread_relink = 0;  // states from before relinking go on without it
  if (kv.contains("thread_relink")) {
    get("thread_relink", p.thread_relink);
    get("thread_relink_threshold", p.thread_relink_threshold);
    get("thread_relink_entity_boost", p.thread_relink_entity_boost);
    unsigned by_count = 1;
    if (kv.contains("thread_relink_by_count")) get("thread_relink_by_count", by_count);
    p.thread_relink_by_count = by_count != 0;
  }
  p.thread_merge_threshold = 0.0f;  // states from before merging go on without it
  if (kv.contains("thread_merge_threshold")) get("thread_merge_threshold", p.thread_merge_threshold);
  unsigned by_language = 0;  // states from before count every language as one
  if (kv.contains("idf_by_language")) get("idf_by_language", by_language);
  p.idf_by_language = by_language != 0;
  get("probe_terms", p.probe_terms);
  get("max_postings", p.max_postings);
  get("rerank", p.rerank);
  return p;
}

namespace {

// The model a stored state was made with (the bridge's lexicon, the sentence encoder): the one given,
// else the one built at set-up (set_up_path, loaded), when its checksum is want. Throws
// InvalidArgument naming both checksums otherwise.
template <typename Model, typename Describe>
std::shared_ptr<const Model> same_model(const std::string& path, std::uint64_t want,
                                        std::shared_ptr<const Model> given, const std::string& set_up_path,
                                        Describe describe, const char* what, const char* option) {
  if (given == nullptr && !set_up_path.empty()) given = Model::load(set_up_path);
  if (given == nullptr || given->checksum() != want) {
    throw InvalidArgument(path + ": made with the " + what + " of checksum " + std::to_string(want) +
                          (given == nullptr
                               ? "; none was given"
                               : "; " + describe(*given) + " has " + std::to_string(given->checksum())) +
                          " (give the same " + option + ")");
  }
  return given;
}

std::string describe_params(const FeedParams& params) {
  std::string text = params_text(params);
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// Hardening #1: one writer per state. An flock on PATH.lock (beside the state; SQLite's own locks are
// per transaction, so two servers would both accept writes and one's would be lost). The holder writes
// its pid and host into the file so that a refused process can say who holds it. The kernel releases
// the lock when the holder dies, so a crashed server never blocks a restart.
int lock_state(const std::string& path) {
  const std::string lock_path = path + ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(lock_path + ": cannot open the state's lock file: " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char holder[256] = {};
    const ssize_t n = ::pread(fd, holder, sizeof holder - 1, 0);
    ::close(fd);
    std::string who(holder, n > 0 ? static_cast<std::size_t>(n) : 0);
    while (!who.empty() && std::isspace(static_cast<unsigned char>(who.back()))) who.pop_back();
    if (error == EWOULDBLOCK) {
      throw IoError(path + ": the state is in use by another storyline process (" +
                    (who.empty() ? std::string("unknown") : who) + "); one state takes one writer");
    }
    throw IoError(lock_path + ": cannot lock: " + std::strerror(error));
  }
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const std::string who = "pid " + std::to_string(::getpid()) + " on " + host + "\n";
  // Without the note the lock still holds; only a refused process's message is poorer.
  const bool noted = ::ftruncate(fd, 0) == 0 && ::pwrite(fd, who.data(), who.size(), 0) >= 0;
  (void)noted;
  return fd;
}

// Hardening #18: the WAL file SQLite writes to, by inode; 0 when there is none.
ino_t wal_inode(const std::string& path) {
  struct stat info {};
  return ::stat((path + "-wal").c_str(), &info) == 0 ? info.st_ino : 0;
}

}  // namespace

FeedStore::FeedStore(const std::string& path, const std::optional<FeedParams>& create_with, bool sync_full)
    : path_(path), lock_fd_(lock_state(path)) {
  try {
    open(create_with, sync_full);
  } catch (...) {
    ::close(lock_fd_);
    throw;
  }
}

void FeedStore::open(const std::optional<FeedParams>& create_with, bool sync_full) {
  const std::string& path = path_;
  struct stat info {};
  const bool exists = ::stat(path.c_str(), &info) == 0 && info.st_size > 0;
  // Reading a WAL-mode database makes -wal and -shm files beside it; a refused file gets none left.
  const bool had_wal = ::access((path + "-wal").c_str(), F_OK) == 0;
  const bool had_shm = ::access((path + "-shm").c_str(), F_OK) == 0;
  std::optional<FeedParams> stored;
  try {
    if (exists) stored = inspect(path);
  } catch (const CorruptIndex&) {
    if (!had_wal) ::unlink((path + "-wal").c_str());
    if (!had_shm) ::unlink((path + "-shm").c_str());
    throw;
  }
  if (!stored) {
    STORYLINE_CHECK_ARG(create_with.has_value(), path + ": no state to open");
    // Hardening #17: a missing or emptied database beside a snapshot is a state that lost its file,
    // not a new one: starting afresh would overwrite the snapshot at the next stop.
    if (::access(snapshot_path().c_str(), F_OK) == 0) {
      throw CorruptIndex(
          path + " is " + (::access(path.c_str(), F_OK) == 0 ? "empty" : "missing") + " but " +
          snapshot_path() +
          " holds a state: restore the database, or move the snapshot away to start a new state");
    }
    params_ = *create_with;
    FeedEngine check(params_);  // validates before anything is written
  } else {
    params_ = *stored;
    // A state made with the bridge goes on with the same lexicon, and one made with the sentence
    // encoder with the same model: another's features would not match the stored vectors.
    if (const std::uint64_t want = params_.tfidf.lexicon_checksum; want != 0) {
      params_.tfidf.lexicon = same_model<Lexicon>(
          path, want, create_with ? create_with->tfidf.lexicon : nullptr, default_lexicon_path(),
          [](const Lexicon& l) { return l.source(); }, "cross-language lexicon", "--lexicon");
    }
    if (const std::uint32_t want = params_.encoder_checksum; want != 0) {
      params_.encoder = same_model<SentenceEncoder>(
          path, want, create_with ? create_with->encoder : nullptr, default_encoder_path(),
          [](const SentenceEncoder& e) { return e.description(); }, "sentence encoder", "--encoder");
    }
    // Hardening #19: stored parameters the engine refuses are a damaged state (exit 1), not a usage
    // error (exit 2): the message names the file and the values.
    try {
      FeedEngine check(params_);
    } catch (const InvalidArgument& e) {
      throw CorruptIndex(path + ": its stored parameters are invalid (" + e.what() +
                         "): " + describe_params(params_));
    }
  }
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string message = sqlite_message(db_);
    sqlite3_close_v2(db_);
    throw IoError(path + ": cannot open: " + message);
  }
  try {
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL");
    exec(sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    exec("PRAGMA mmap_size=1099511627776");  // reads map the file instead of copying it (replay)
    if (!stored) {
      exec("BEGIN");
      exec(kSchema);
      exec(("PRAGMA application_id=" + std::to_string(kApplicationId)).c_str());
      exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
      Statement put(db_, "INSERT INTO meta(key, value) VALUES('params', ?), ('state_id', ?)");
      const std::string text = params_text(params_);
      sqlite3_bind_text(put.get(), 1, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
      // Below 2^63: SQLite's integers are signed, and a larger value would clamp on CAST.
      std::random_device random;
      const std::uint64_t state_id = ((std::uint64_t{random()} << 32) ^ random()) & 0x7FFFFFFFFFFFFFFFull;
      const std::string id = std::to_string(state_id);
      sqlite3_bind_text(put.get(), 2, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
      if (sqlite3_step(put.get()) != SQLITE_DONE) throw IoError(path + ": " + sqlite_message(db_));
      exec("COMMIT");
    } else {
      // Columns a state from before leaves empty: the boilerplate's shingles, relinking's counts.
      const auto add_column = [&](const char* name, const char* type) {
        if (single_integer(("SELECT count(*) FROM pragma_table_info('documents') WHERE name = '" +
                            std::string(name) + "'")
                               .c_str()) == 0) {
          exec(("ALTER TABLE documents ADD COLUMN " + std::string(name) + " " + type).c_str());
        }
      };
      add_column("shingles", "BLOB");
      add_column("counts", "BLOB");
      add_column("language", "INTEGER");
    }
    auto prepare = [&](const char* sql) {
      sqlite3_stmt* st = nullptr;
      if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
        throw CorruptIndex(path + ": " + sqlite_message(db_));
      }
      return st;
    };
    insert_ = prepare(
        "INSERT INTO documents(id, title, date, length, content_hash, dup_of, dup_group, dup_similarity, "
        "story,"
        " thread, story_similarity, fingerprint, vector, terms, names, shingles, counts, language) "
        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    remove_ = prepare("UPDATE documents SET deleted = 1 WHERE id = ? AND deleted = 0");
    log_removal_ = prepare(
        "INSERT INTO removals(doc_seq, after_seq) SELECT seq, (SELECT max(seq) FROM documents) FROM documents"
        " WHERE id = ? AND deleted = 0 ORDER BY seq DESC LIMIT 1");
    log_relink_ =
        prepare("INSERT INTO removals(doc_seq, after_seq) SELECT 0, coalesce(max(seq), 0) FROM documents");
    vector_ = prepare("SELECT vector FROM documents WHERE id = ? AND deleted = 0 ORDER BY seq DESC LIMIT 1");
    title_ = prepare("SELECT title FROM documents WHERE id = ? AND deleted = 0 ORDER BY seq DESC LIMIT 1");
    members_ = prepare("SELECT id FROM documents WHERE story = ? AND deleted = 0 ORDER BY seq LIMIT ?");
  } catch (...) {
    for (sqlite3_stmt* st : {insert_, remove_, log_removal_, log_relink_, vector_, title_, members_})
      sqlite3_finalize(st);
    sqlite3_close_v2(db_);
    throw;
  }
}

FeedStore::~FeedStore() {
  for (sqlite3_stmt* st : {insert_, remove_, log_removal_, log_relink_, vector_, title_, members_})
    sqlite3_finalize(st);
  sqlite3_close_v2(db_);
  ::close(lock_fd_);
}

void FeedStore::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : sqlite_message(db_);
    sqlite3_free(error);
    throw IoError(path_ + ": " + message);
  }
}

std::uint64_t FeedStore::single_integer(const char* sql) {
  Statement st(db_, sql);
  if (sqlite3_step(st.get()) != SQLITE_ROW) throw CorruptIndex(path_ + ": " + sqlite_message(db_));
  return static_cast<std::uint64_t>(sqlite3_column_int64(st.get(), 0));
}

FeedEngine::SnapshotMark FeedStore::mark() {
  FeedEngine::SnapshotMark m;
  m.state_id = single_integer("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'state_id'");
  m.documents = single_integer("SELECT coalesce(max(seq), 0) FROM documents");
  m.removals = single_integer("SELECT coalesce(max(rseq), 0) FROM removals");
  return m;
}

FeedStore::LoadReport FeedStore::load(FeedEngine& engine) {
  LoadReport report;
  const FeedEngine::SnapshotMark now = mark();
  FeedEngine::SnapshotMark from;
  from.state_id = now.state_id;
  if (::access(snapshot_path().c_str(), F_OK) == 0) {
    try {
      FeedEngine candidate(params_);
      candidate.reserve(now.documents);  // sized once for the rows after the snapshot too
      const FeedEngine::SnapshotMark m = candidate.load_snapshot(snapshot_path());
      if (m.state_id != now.state_id) throw CorruptIndex("the snapshot belongs to another state");
      if (m.documents > now.documents || m.removals > now.removals) {
        // Hardening #17: the database lost rows the snapshot has (restored from an older copy, cut):
        // going on would overwrite the snapshot at the next stop.
        throw StateBehindSnapshot(path_ + " lacks rows its snapshot " + snapshot_path() + " holds (" +
                                  std::to_string(m.documents) + " documents and " +
                                  std::to_string(m.removals) + " logged removals and relinks, against " +
                                  std::to_string(now.documents) + " and " + std::to_string(now.removals) +
                                  "): restore the database, or move the snapshot away to go on without them");
      }
      engine = std::move(candidate);
      from = m;
      report.snapshot_documents = engine.slots();
    } catch (const StateBehindSnapshot&) {
      throw;
    } catch (const Error& e) {
      report.snapshot_problem = e.what();
    }
  }
  engine.reserve(now.documents);
  // The history after the snapshot: adds by seq, each removal or relink (kind 1, 2: the log, in its
  // order) right after the add it followed.
  Statement st(
      db_,
      "SELECT 0 AS kind, seq AS pos, 0 AS sub, id, date, length, content_hash, dup_of, dup_similarity, story,"
      " thread, story_similarity, fingerprint, vector, terms, names, shingles, counts, language, 0 AS logged"
      " FROM documents WHERE seq > ?1"
      " UNION ALL"
      " SELECT CASE WHEN r.doc_seq = 0 THEN 2 ELSE 1 END, r.after_seq, r.rseq, d.id, d.date, 0, 0, d.dup_of, "
      "0,"
      " d.story, d.thread, 0, NULL, d.vector, NULL, NULL, NULL, NULL, NULL, 1 FROM removals r"
      " LEFT JOIN documents d ON d.seq = r.doc_seq WHERE r.rseq > ?2 AND (r.doc_seq = 0 OR d.seq IS NOT NULL)"
      " ORDER BY pos, logged, sub");
  sqlite3_bind_int64(st.get(), 1, static_cast<sqlite3_int64>(from.documents));
  sqlite3_bind_int64(st.get(), 2, static_cast<sqlite3_int64>(from.removals));
  bool finished = false;  // stepping past the end would start the statement over
  const auto read = [&](std::vector<FeedEngine::ReplayOp>& chunk) {
    constexpr std::size_t kChunk = 1024;
    int rc = SQLITE_DONE;
    while (!finished && chunk.size() < kChunk && (rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      sqlite3_stmt* s = st.get();
      FeedEngine::ReplayOp& op = chunk.emplace_back();
      if (sqlite3_column_int(s, 0) == 2) {
        op.relink = true;
        ++report.relinks;
        continue;
      }
      op.removal = sqlite3_column_int(s, 0) != 0;
      FeedRecord& r = op.record;
      Assignment& a = r.assignment;
      a.id = column_text(s, 3);
      a.date = sqlite3_column_type(s, 4) == SQLITE_NULL ? kNoDate : sqlite3_column_int(s, 4);
      r.length = static_cast<std::uint32_t>(sqlite3_column_int64(s, 5));
      r.content_hash = static_cast<std::uint64_t>(sqlite3_column_int64(s, 6));
      a.dup_of = column_text(s, 7);
      a.dup_similarity = sqlite3_column_double(s, 8);
      a.story = static_cast<std::uint32_t>(sqlite3_column_int64(s, 9));
      a.thread = static_cast<std::uint32_t>(sqlite3_column_int64(s, 10));
      a.story_similarity = sqlite3_column_double(s, 11);
      const auto fp = blob_span<std::uint32_t>(s, 12);
      r.fingerprint.assign(fp.begin(), fp.end());
      r.vector =
          unpack_vector(sqlite3_column_blob(s, 13), static_cast<std::size_t>(sqlite3_column_bytes(s, 13)));
      const auto terms = blob_span<std::uint64_t>(s, 14);
      r.terms.assign(terms.begin(), terms.end());
      r.new_names =
          unpack_names(sqlite3_column_blob(s, 15), static_cast<std::size_t>(sqlite3_column_bytes(s, 15)));
      const auto shingles = blob_span<std::uint64_t>(s, 16);
      r.shingles.assign(shingles.begin(), shingles.end());
      const auto counts = blob_span<float>(s, 17);
      r.counts.assign(counts.begin(), counts.end());
      if (!r.counts.empty() && r.counts.size() != r.terms.size()) {
        throw CorruptIndex(path_ + ": the row of '" + a.id + "' has " + std::to_string(r.counts.size()) +
                           " counts for " + std::to_string(r.terms.size()) + " terms");
      }
      const int language = sqlite3_column_int(s, 18);
      if (language < 0 || language >= static_cast<int>(kLanguageCount)) {
        throw CorruptIndex(path_ + ": the row of '" + a.id + "' names no language");
      }
      r.language = static_cast<Language>(language);
      ++(op.removal ? report.removals : report.rows);
    }
    if (chunk.size() < kChunk) {
      if (!finished && rc != SQLITE_DONE) throw CorruptIndex(path_ + ": " + sqlite_message(db_));
      finished = true;
    }
    return !chunk.empty();
  };
  try {
    engine.replay(read);
  } catch (const InvalidArgument& e) {
    throw CorruptIndex(path_ + ": " + e.what());
  }
  return report;
}

void FeedStore::save_snapshot(const FeedEngine& engine) { engine.save_snapshot(snapshot_path(), mark()); }

SparseVector FeedStore::vector_of(std::string_view id) {
  sqlite3_reset(vector_);
  sqlite3_bind_text(vector_, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
  SparseVector v;
  if (sqlite3_step(vector_) == SQLITE_ROW) {
    v = unpack_vector(sqlite3_column_blob(vector_, 0),
                      static_cast<std::size_t>(sqlite3_column_bytes(vector_, 0)));
  }
  sqlite3_reset(vector_);
  return v;
}

void FeedStore::commit(std::span<const StoreOp> ops) {
  if (ops.empty()) return;
  exec("BEGIN");
  try {
    for (const StoreOp& op : ops) {
      if (op.relink) {
        sqlite3_reset(log_relink_);
        if (sqlite3_step(log_relink_) != SQLITE_DONE) throw IoError(path_ + ": " + sqlite_message(db_));
        continue;
      }
      const Assignment& a = op.record.assignment;
      if (op.remove) {
        sqlite3_reset(log_removal_);
        sqlite3_bind_text(log_removal_, 1, a.id.data(), static_cast<int>(a.id.size()), SQLITE_STATIC);
        if (sqlite3_step(log_removal_) != SQLITE_DONE) throw IoError(path_ + ": " + sqlite_message(db_));
      }
      sqlite3_stmt* st = op.remove ? remove_ : insert_;
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      sqlite3_bind_text(st, 1, a.id.data(), static_cast<int>(a.id.size()), SQLITE_STATIC);
      if (!op.remove) {
        const FeedRecord& r = op.record;
        const std::string vector = pack_vector(r.vector);
        const std::string names = pack_names(r.new_names);
        sqlite3_bind_text(st, 2, op.title.data(), static_cast<int>(op.title.size()), SQLITE_STATIC);
        if (a.date != kNoDate) sqlite3_bind_int(st, 3, a.date);
        sqlite3_bind_int64(st, 4, r.length);
        sqlite3_bind_int64(st, 5, static_cast<sqlite3_int64>(r.content_hash));
        if (!a.dup_of.empty())
          sqlite3_bind_text(st, 6, a.dup_of.data(), static_cast<int>(a.dup_of.size()), SQLITE_STATIC);
        sqlite3_bind_text(st, 7, a.dup_group.data(), static_cast<int>(a.dup_group.size()), SQLITE_STATIC);
        sqlite3_bind_double(st, 8, a.dup_similarity);
        sqlite3_bind_int64(st, 9, a.story);
        sqlite3_bind_int64(st, 10, a.thread);
        sqlite3_bind_double(st, 11, a.story_similarity);
        sqlite3_bind_blob(st, 12, r.fingerprint.data(), static_cast<int>(r.fingerprint.size() * 4),
                          SQLITE_STATIC);
        sqlite3_bind_blob(st, 13, vector.data(), static_cast<int>(vector.size()), SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 14, r.terms.data(), static_cast<int>(r.terms.size() * 8), SQLITE_STATIC);
        sqlite3_bind_blob(st, 15, names.data(), static_cast<int>(names.size()), SQLITE_TRANSIENT);
        if (!r.shingles.empty()) {
          sqlite3_bind_blob(st, 16, r.shingles.data(), static_cast<int>(r.shingles.size() * 8),
                            SQLITE_STATIC);
        }
        if (!r.counts.empty()) {
          sqlite3_bind_blob(st, 17, r.counts.data(), static_cast<int>(r.counts.size() * 4), SQLITE_STATIC);
        }
        // The language a replay counts the terms in (idf by language) and relinking reads.
        if (r.language != Language::kUnknown) sqlite3_bind_int(st, 18, static_cast<int>(r.language));
      }
      if (sqlite3_step(st) != SQLITE_DONE) throw IoError(path_ + ": " + sqlite_message(db_));
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  check_wal();
}

void FeedStore::check_wal() {
  const ino_t now = wal_inode(path_);
  if (now == wal_inode_ && now != 0) return;
  if (wal_inode_ == 0) {  // the first commit made it
    wal_inode_ = now;
    return;
  }
  // Hardening #18: the WAL was deleted or replaced under the running process. SQLite still writes to the
  // file it holds open, which no restart would find: every commit since the last checkpoint would be lost
  // at the next crash. Checkpoint from the open file into the database, then make a new WAL.
  exec("PRAGMA wal_checkpoint(TRUNCATE)");
  exec("PRAGMA journal_mode=DELETE");
  exec("PRAGMA journal_mode=WAL");
  wal_inode_ = wal_inode(path_);
  const std::string warning = path_ +
                              "-wal was deleted or replaced while the state was open; its commits "
                              "were checkpointed into " +
                              path_ +
                              " and a new WAL was started. Never remove "
                              "a running state's -wal or -shm file.";
  if (on_warning_) on_warning_(warning);
}

std::optional<std::string> FeedStore::title(std::string_view id) {
  sqlite3_reset(title_);
  sqlite3_bind_text(title_, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
  if (sqlite3_step(title_) != SQLITE_ROW) return std::nullopt;
  std::string out(column_text(title_, 0));
  sqlite3_reset(title_);
  return out;
}

std::vector<std::string> FeedStore::story_members(std::uint32_t story, std::size_t limit) {
  sqlite3_reset(members_);
  sqlite3_bind_int64(members_, 1, story);
  sqlite3_bind_int64(members_, 2, static_cast<sqlite3_int64>(limit));
  std::vector<std::string> out;
  while (sqlite3_step(members_) == SQLITE_ROW) out.emplace_back(column_text(members_, 0));
  sqlite3_reset(members_);
  return out;
}

}  // namespace storyline::detail
