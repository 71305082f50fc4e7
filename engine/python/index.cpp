// storyline.DedupIndex (datasketch's MinHashLSH verbs over storyline's index) and storyline.Feed (the
// durable incremental engine of `storyline stream`).
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <mutex>
#include <shared_mutex>

#include "python/module.hpp"
#include "python/records.hpp"
#include "storyline/dedup_index.hpp"
#include "storyline/error.hpp"
#include "storyline/feed_service.hpp"

namespace storyline::python {
namespace {

// A date argument: None, an ISO 8601 str, or anything with isoformat().
std::int32_t date_of(py::handle value) {
  if (value.is_none()) return kNoDate;
  std::string text;
  if (!utf8_of(value, text)) {
    if (!py::hasattr(value, "isoformat")) throw py::type_error("a date is a str or a datetime.date");
    text = py::str(value.attr("isoformat")());
  }
  const auto days = parse_date(text);
  if (!days) throw py::value_error("not an ISO 8601 date: '" + text + "'");
  return *days;
}

std::string text_of(py::handle value, const char* what) {
  std::string out;
  if (value.is_none()) return out;
  if (!utf8_of(value, out)) throw py::type_error(std::string(what) + " must be a str or bytes");
  return out;
}

std::string key_of(py::handle key) {
  if (!PyUnicode_Check(key.ptr())) throw py::type_error("keys are str");
  return key.cast<std::string>();
}

class PyDedupIndex {
 public:
  // Not movable: the fingerprinters refer to this index's scheme.
  explicit PyDedupIndex(DedupIndex index) : index_(std::make_unique<DedupIndex>(std::move(index))) {}
  PyDedupIndex(const PyDedupIndex&) = delete;
  PyDedupIndex& operator=(const PyDedupIndex&) = delete;

  static std::unique_ptr<PyDedupIndex> make(const py::kwargs& kwargs) {
    DedupParams params;
    Knobs knobs;
    add_dedup_knobs(knobs, params);
    knobs.apply(kwargs, "DedupIndex");
    return std::make_unique<PyDedupIndex>(DedupIndex(params));
  }

  void insert(py::handle key, py::handle text, py::handle title, py::handle date) {
    std::string id = key_of(key), body = text_of(text, "text"), head = text_of(title, "title");
    DocInfo info;
    info.date = date_of(date);
    py::gil_scoped_release release;
    std::vector<std::uint32_t> print = fingerprint(body, head, info);
    std::unique_lock lock(mutex_);
    if (index_->find(id)) throw py::value_error("key '" + id + "' is in the index already");
    index_->add(std::move(id), info, print);
  }

  void insert_many(py::handle keys, py::handle texts, py::handle titles, py::handle dates) {
    std::vector<std::string> ids, bodies, heads;
    std::vector<DocInfo> info;
    for (const py::handle k : keys) ids.push_back(key_of(k));
    for (const py::handle t : texts) bodies.push_back(text_of(t, "text"));
    if (!titles.is_none())
      for (const py::handle t : titles) heads.push_back(text_of(t, "title"));
    info.resize(ids.size());
    if (!dates.is_none()) {
      std::size_t i = 0;
      for (const py::handle d : dates) {
        if (i == info.size()) throw py::value_error("more dates than keys");
        info[i++].date = date_of(d);
      }
    }
    if (bodies.size() != ids.size() || (!heads.empty() && heads.size() != ids.size()))
      throw py::value_error("keys, texts and titles must be as many");
    heads.resize(ids.size());
    py::gil_scoped_release release;
    const std::uint32_t words = index_->scheme().words();
    std::vector<std::uint32_t> prints(ids.size() * words);
    tbb::parallel_for(std::size_t{0}, ids.size(), [&](std::size_t i) {
      std::span<std::uint32_t> out(prints.data() + i * words, words);
      info[i].length = local().fingerprint(bodies[i], out, nullptr, heads[i]);
    });
    std::unique_lock lock(mutex_);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (index_->find(ids[i]))
        throw py::value_error("key '" + ids[i] + "' is in the index already (the keys before it were added)");
      index_->add(ids[i], info[i], std::span(prints).subspan(i * words, words));
    }
  }

  py::list query(py::handle text, py::handle title, bool with_similarity) {
    const std::string body = text_of(text, "text"), head = text_of(title, "title");
    std::vector<std::pair<std::string, double>> found;
    {
      py::gil_scoped_release release;
      DocInfo info;
      const std::vector<std::uint32_t> print = fingerprint(body, head, info);
      std::shared_lock lock(mutex_);
      for (const IndexMatch& m : index_->query(print)) found.emplace_back(index_->id(m.doc), m.similarity);
    }
    return answer(found, with_similarity);
  }

  py::list query_many(py::handle texts, bool with_similarity) {
    std::vector<std::string> bodies;
    for (const py::handle t : texts) bodies.push_back(text_of(t, "text"));
    std::vector<std::vector<std::pair<std::string, double>>> found(bodies.size());
    {
      py::gil_scoped_release release;
      std::shared_lock lock(mutex_);
      tbb::parallel_for(std::size_t{0}, bodies.size(), [&](std::size_t i) {
        DocInfo info;
        const std::vector<std::uint32_t> print = fingerprint(bodies[i], {}, info);
        for (const IndexMatch& m : index_->query(print))
          found[i].emplace_back(index_->id(m.doc), m.similarity);
      });
    }
    py::list out;
    for (const auto& f : found) out.append(answer(f, with_similarity));
    return out;
  }

  bool contains(py::handle key) const {
    if (!PyUnicode_Check(key.ptr())) return false;
    const std::string id = key.cast<std::string>();
    std::shared_lock lock(mutex_);
    return index_->find(id).has_value();
  }

  void remove(py::handle key) {
    const std::string id = key_of(key);
    std::unique_lock lock(mutex_);
    if (!index_->remove(id)) throw py::key_error(id);
  }

  std::size_t size() const {
    std::shared_lock lock(mutex_);
    return index_->size();
  }

  py::list keys() const {
    std::shared_lock lock(mutex_);
    py::list out;
    for (DocIndex d = 0; d < index_->slots(); ++d)
      if (index_->alive(d)) out.append(py::str(index_->id(d)));
    return out;
  }

  void save(const std::filesystem::path& path) const {
    py::gil_scoped_release release;
    std::shared_lock lock(mutex_);
    index_->save(path.string());
  }

  static std::unique_ptr<PyDedupIndex> load(const std::filesystem::path& path) {
    py::gil_scoped_release release;
    return std::make_unique<PyDedupIndex>(DedupIndex::load(path.string()));
  }

  py::dict params() const {
    const DedupParams& p = index_->scheme().params();
    py::dict out;
    out["method"] = p.method == DedupMethod::kMinHash ? "minhash" : "simhash";
    out["threshold"] = p.threshold;
    out["num_perm"] = p.num_hashes;
    out["bands"] = index_->scheme().bands().bands;
    out["rows"] = index_->scheme().bands().rows;
    out["max_hamming"] = p.max_hamming;
    out["shingle"] = p.shingle.kind == ShingleKind::kWord ? "word" : "char";
    out["ngram"] = p.shingle.size;
    out["seed"] = p.seed;
    out["containment"] = p.containment;
    out["min_contained_shingles"] = p.min_contained_shingles;
    out["min_titled_shingles"] = p.min_titled_shingles;
    return out;
  }

 private:
  Fingerprinter& local() {
    // One fingerprinter per thread (Python's and oneTBB's), made for the scheme of this index.
    return fingerprinters_.local();
  }

  std::vector<std::uint32_t> fingerprint(const std::string& text, const std::string& title, DocInfo& info) {
    std::vector<std::uint32_t> print(index_->scheme().words());
    info.length = local().fingerprint(text, print, nullptr, title);
    return print;
  }

  static py::list answer(const std::vector<std::pair<std::string, double>>& found, bool with_similarity) {
    py::list out;
    for (const auto& [id, similarity] : found) {
      if (with_similarity) {
        out.append(py::make_tuple(id, similarity));
      } else {
        out.append(py::str(id));
      }
    }
    return out;
  }

  std::unique_ptr<DedupIndex> index_;
  mutable std::shared_mutex mutex_;
  tbb::enumerable_thread_specific<Fingerprinter> fingerprinters_{
      [this] { return Fingerprinter(index_->scheme()); }};
};

py::dict assignment_dict(const Assignment& a, const char* status) {
  py::dict out;
  out["id"] = a.id;
  out["date"] = a.date == kNoDate ? py::object(py::none()) : py::object(py::str(format_date(a.date)));
  out["status"] = status;
  out["dup_group"] = a.dup_group;
  out["dup_of"] = a.dup_of.empty() ? py::object(py::none()) : py::object(py::str(a.dup_of));
  out["dup_similarity"] = a.dup_similarity;
  out["story_id"] = a.story ? story_name(a.story) : std::string();
  out["thread_id"] = a.thread ? thread_name(a.thread) : std::string();
  out["story_similarity"] = a.story_similarity;
  out["new_story"] = a.new_story;
  out["new_thread"] = a.new_thread;
  out["replaces"] = a.replaces.empty() ? py::object(py::none()) : py::object(py::str(a.replaces));
  return out;
}

class PyFeed {
 public:
  PyFeed(const std::filesystem::path& path, const std::string& lexicon, bool sync, const py::kwargs& kwargs) {
    FeedParams p;
    ingest_.max_id_bytes = kMaxFeedIdBytes;
    Knobs knobs;
    add_field_knobs(knobs, ingest_);
    knobs.add("story_threshold", p.story_threshold).add("dated_story_threshold", p.dated_story_threshold);
    knobs.add("thread_threshold", p.thread_threshold).add("window_days", p.window_days);
    knobs.add("thread_entity_boost", p.thread_entity_boost).add("thread_pivot_boost", p.thread_pivot_boost);
    knobs.add("thread_name_boost", p.thread_name_boost);
    knobs.add("thread_language_threshold", p.thread_language_threshold);
    knobs.add("thread_merge_threshold", p.thread_merge_threshold).add("idf_by_language", p.idf_by_language);
    knobs.add("thread_relink", p.thread_relink).add("thread_relink_threshold", p.thread_relink_threshold);
    knobs.add("thread_relink_by_count", p.thread_relink_by_count);
    FeedServiceOptions options;
    options.sync_full = sync;
    knobs.add("thread_relink_quiet", options.quiet_relink_seconds);
    knobs.add("title_weight", p.tfidf.title_weight).add("entity_weight", p.tfidf.entity_weight);
    knobs.add("stem", p.tfidf.stem_language).add("bridge_weight", p.tfidf.bridge_weight);
    knobs.add("name_key_weight", p.tfidf.name_key_weight);
    knobs.add("dedup_threshold", p.dedup.threshold).add("containment", p.dedup.containment);
    knobs.add("boilerplate_df", p.boilerplate.df).add("boilerplate_sample", p.boilerplate.sample);
    knobs.apply(kwargs, "Feed");
    p.tfidf.lexicon = load_lexicon(lexicon, p.tfidf);
    py::gil_scoped_release release;
    service_ = std::make_unique<FeedService>(path.string(), p, std::move(options));
  }

  py::dict add(py::handle record) {
    py::list one;
    one.append(record);
    return add_many(one)[0].cast<py::dict>();
  }

  py::list add_many(py::handle records) {
    std::vector<Document> docs;
    for (const py::handle r : records) {
      docs.emplace_back();
      to_document(r, docs.size() - 1, ingest_, docs.back());
    }
    std::vector<AddOutcome> outcomes;
    {
      py::gil_scoped_release release;
      outcomes = open().add(std::move(docs));
    }
    py::list out;
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      if (outcomes[i].status == AddOutcome::Status::kConflict) {
        throw py::value_error("record " + std::to_string(i) + " (id '" + outcomes[i].assignment.id +
                              "'): the id is in the feed with another title or text; nothing was added");
      }
    }
    for (const AddOutcome& o : outcomes)
      out.append(
          assignment_dict(o.assignment, o.status == AddOutcome::Status::kAdded ? "added" : "existing"));
    return out;
  }

  py::dict lookup(py::handle record) {
    Document doc;
    to_document(record, 0, ingest_, doc);
    Assignment a;
    {
      py::gil_scoped_release release;
      a = open().lookup(std::move(doc));
    }
    return assignment_dict(a, "lookup");
  }

  py::object get(const std::string& id) {
    std::optional<StoredDocument> doc = open().get(id);
    if (!doc) return py::none();
    py::dict out = assignment_dict(doc->assignment, "existing");
    out["title"] = doc->title;
    return out;
  }

  void remove(const std::string& id) {
    bool removed = false;
    {
      py::gil_scoped_release release;
      removed = open().remove(id);
    }
    if (!removed) throw py::key_error(id);
  }

  py::dict counts() {
    const FeedService::Counts c = open().counts();
    py::dict out;
    out["documents"] = c.documents;
    out["duplicates"] = c.duplicates;
    out["stories"] = c.stories;
    out["threads"] = c.threads;
    return out;
  }

  std::size_t size() { return open().counts().documents; }

  void close() {
    py::gil_scoped_release release;
    service_.reset();  // commits, writes the snapshot, closes the state
  }

 private:
  FeedService& open() {
    if (!service_) throw py::value_error("the feed is closed");
    return *service_;
  }

  IngestParams ingest_;
  std::unique_ptr<FeedService> service_;
};

}  // namespace

void add_index(py::module_& m) {
  py::class_<PyDedupIndex>(m, "DedupIndex", doc::kDedupIndex)
      .def(py::init(&PyDedupIndex::make))
      .def("insert", &PyDedupIndex::insert, py::arg("key"), py::arg("text"), py::kw_only(),
           py::arg("title") = py::none(), py::arg("date") = py::none(),
           "Adds text under key (a str). ValueError when the key is present.")
      .def("insert_many", &PyDedupIndex::insert_many, py::arg("keys"), py::arg("texts"), py::kw_only(),
           py::arg("titles") = py::none(), py::arg("dates") = py::none(),
           "Adds many texts, fingerprinted in parallel; keys, texts (and titles, dates) as many.")
      .def("query", &PyDedupIndex::query, py::arg("text"), py::kw_only(), py::arg("title") = py::none(),
           py::arg("with_similarity") = false,
           "The keys of the indexed near-duplicates of text, most similar first (with_similarity: "
           "(key, similarity) pairs).")
      .def("query_many", &PyDedupIndex::query_many, py::arg("texts"), py::kw_only(),
           py::arg("with_similarity") = false, "query for many texts, in parallel: one list per text.")
      .def("__contains__", &PyDedupIndex::contains)
      .def("remove", &PyDedupIndex::remove, py::arg("key"), "Removes key; KeyError when absent.")
      .def("__len__", &PyDedupIndex::size)
      .def("keys", &PyDedupIndex::keys, "The keys present, in insertion order.")
      .def("save", &PyDedupIndex::save, py::arg("path"),
           "Writes the index atomically; the file is the CLI's (storyline dedup --index reads it).")
      .def_static("load", &PyDedupIndex::load, py::arg("path"),
                  "Reads an index saved by save() or by storyline dedup --save-index.")
      .def_property_readonly("params", &PyDedupIndex::params, "the parameters, the resolved bands included");

  py::class_<PyFeed>(m, "Feed", doc::kFeed)
      .def(py::init([](const std::filesystem::path& path, const std::string& lexicon, bool sync,
                       const py::kwargs& kw) { return std::make_unique<PyFeed>(path, lexicon, sync, kw); }),
           py::arg("path"), py::kw_only(), py::arg("lexicon") = "auto", py::arg("sync") = true)
      .def("add", &PyFeed::add, py::arg("record"),
           "Adds one record durably; returns its assignment (dup_group, story_id, thread_id, ...).")
      .def("add_many", &PyFeed::add_many, py::arg("records"),
           "Adds records in order in one commit; all or nothing when an id conflicts.")
      .def("lookup", &PyFeed::lookup, py::arg("record"), "The assignment a record would get, not added.")
      .def("get", &PyFeed::get, py::arg("id"), "A stored record's assignment and title, or None.")
      .def("remove", &PyFeed::remove, py::arg("id"), "Removes a record durably; KeyError when absent.")
      .def("counts", &PyFeed::counts, "documents, duplicates, stories and threads")
      .def("__len__", &PyFeed::size)
      .def("close", &PyFeed::close, "Commits, writes the snapshot and closes the state.")
      .def(
          "__enter__", [](PyFeed& f) -> PyFeed& { return f; }, py::return_value_policy::reference)
      .def("__exit__", [](PyFeed& f, const py::args&) { f.close(); });
}

}  // namespace storyline::python
