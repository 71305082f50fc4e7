#include "detail/feed_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <charconv>
#include <cstring>
#include <map>

#include "storyline/error.hpp"

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
  deleted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX documents_id ON documents(id);
CREATE INDEX documents_story ON documents(story);
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
  const auto close = [&] { sqlite3_close(db); };
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
    Statement check(db, "PRAGMA quick_check");
    if (sqlite3_step(check.get()) != SQLITE_ROW || column_text(check.get(), 0) != "ok") {
      throw CorruptIndex("storyline state is damaged: " + std::string(column_text(check.get(), 0)));
    }
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
  const TfidfParams& t = p.tfidf;
  put("tfidf.title_weight", t.title_weight);
  put("tfidf.entity_weight", t.entity_weight);
  put("tfidf.stop_words", static_cast<unsigned>(t.stop_words));
  put("tfidf.stem_language", t.stem_language);
  put("tfidf.max_df_ratio", t.max_df_ratio);
  put("tfidf.bigrams", static_cast<unsigned>(t.bigrams));
  put("tfidf.bigram_weight", t.bigram_weight);
  put("story_threshold", p.story_threshold);
  put("window_days", p.window_days);
  put("dated_story_threshold", p.dated_story_threshold);
  put("thread_threshold", p.thread_threshold);
  put("thread_entity_boost", p.thread_entity_boost);
  put("vector_terms", p.vector_terms);
  put("centroid_terms", p.centroid_terms);
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
  TfidfParams& t = p.tfidf;
  get("tfidf.title_weight", t.title_weight);
  get("tfidf.entity_weight", t.entity_weight);
  get("tfidf.stop_words", t.stop_words);
  get("tfidf.stem_language", t.stem_language);
  get("tfidf.max_df_ratio", t.max_df_ratio);
  get("tfidf.bigrams", t.bigrams);
  get("tfidf.bigram_weight", t.bigram_weight);
  get("story_threshold", p.story_threshold);
  get("window_days", p.window_days);
  get("dated_story_threshold", p.dated_story_threshold);
  get("thread_threshold", p.thread_threshold);
  get("thread_entity_boost", p.thread_entity_boost);
  get("vector_terms", p.vector_terms);
  get("centroid_terms", p.centroid_terms);
  get("probe_terms", p.probe_terms);
  get("max_postings", p.max_postings);
  get("rerank", p.rerank);
  return p;
}

FeedStore::FeedStore(const std::string& path, const std::optional<FeedParams>& create_with, bool sync_full)
    : path_(path) {
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
    params_ = *create_with;
    FeedEngine check(params_);  // validates before anything is written
  } else {
    params_ = *stored;
  }
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string message = sqlite_message(db_);
    sqlite3_close(db_);
    throw IoError(path + ": cannot open: " + message);
  }
  try {
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL");
    exec(sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    if (!stored) {
      exec("BEGIN");
      exec(kSchema);
      exec(("PRAGMA application_id=" + std::to_string(kApplicationId)).c_str());
      exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
      Statement put(db_, "INSERT INTO meta(key, value) VALUES('params', ?)");
      const std::string text = params_text(params_);
      sqlite3_bind_text(put.get(), 1, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
      if (sqlite3_step(put.get()) != SQLITE_DONE) throw IoError(path + ": " + sqlite_message(db_));
      exec("COMMIT");
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
        " thread, story_similarity, fingerprint, vector, terms, names) "
        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    remove_ = prepare("UPDATE documents SET deleted = 1 WHERE id = ? AND deleted = 0");
    title_ = prepare("SELECT title FROM documents WHERE id = ? AND deleted = 0 ORDER BY seq DESC LIMIT 1");
    members_ = prepare("SELECT id FROM documents WHERE story = ? AND deleted = 0 ORDER BY seq LIMIT ?");
  } catch (...) {
    for (sqlite3_stmt* st : {insert_, remove_, title_, members_}) sqlite3_finalize(st);
    sqlite3_close(db_);
    throw;
  }
}

FeedStore::~FeedStore() {
  for (sqlite3_stmt* st : {insert_, remove_, title_, members_}) sqlite3_finalize(st);
  sqlite3_close(db_);
}

void FeedStore::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : sqlite_message(db_);
    sqlite3_free(error);
    throw IoError(path_ + ": " + message);
  }
}

std::size_t FeedStore::load(FeedEngine& engine) {
  Statement st(
      db_,
      "SELECT id, date, length, content_hash, dup_of, dup_similarity, story, thread, story_similarity,"
      " fingerprint, vector, terms, names, deleted FROM documents ORDER BY seq");
  std::size_t rows = 0;
  int rc = 0;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    sqlite3_stmt* s = st.get();
    FeedRecord r;
    Assignment& a = r.assignment;
    a.id = column_text(s, 0);
    a.date = sqlite3_column_type(s, 1) == SQLITE_NULL ? kNoDate : sqlite3_column_int(s, 1);
    r.length = static_cast<std::uint32_t>(sqlite3_column_int64(s, 2));
    r.content_hash = static_cast<std::uint64_t>(sqlite3_column_int64(s, 3));
    a.dup_of = column_text(s, 4);
    a.dup_similarity = sqlite3_column_double(s, 5);
    a.story = static_cast<std::uint32_t>(sqlite3_column_int64(s, 6));
    a.thread = static_cast<std::uint32_t>(sqlite3_column_int64(s, 7));
    a.story_similarity = sqlite3_column_double(s, 8);
    const auto fp = blob_span<std::uint32_t>(s, 9);
    r.fingerprint.assign(fp.begin(), fp.end());
    r.vector =
        unpack_vector(sqlite3_column_blob(s, 10), static_cast<std::size_t>(sqlite3_column_bytes(s, 10)));
    const auto terms = blob_span<std::uint64_t>(s, 11);
    r.terms.assign(terms.begin(), terms.end());
    r.new_names =
        unpack_names(sqlite3_column_blob(s, 12), static_cast<std::size_t>(sqlite3_column_bytes(s, 12)));
    const bool deleted = sqlite3_column_int(s, 13) != 0;
    const std::string id = a.id;
    try {
      engine.restore(std::move(r));
    } catch (const InvalidArgument& e) {
      throw CorruptIndex(path_ + ": row " + std::to_string(rows + 1) + ": " + e.what());
    }
    if (deleted) engine.remove(id);
    ++rows;
  }
  if (rc != SQLITE_DONE) throw CorruptIndex(path_ + ": " + sqlite_message(db_));
  return rows;
}

void FeedStore::commit(std::span<const StoreOp> ops) {
  if (ops.empty()) return;
  exec("BEGIN");
  try {
    for (const StoreOp& op : ops) {
      const Assignment& a = op.record.assignment;
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
      }
      if (sqlite3_step(st) != SQLITE_DONE) throw IoError(path_ + ": " + sqlite_message(db_));
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
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
