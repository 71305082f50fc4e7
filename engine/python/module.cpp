// PYBIND11_MODULE(_storyline): exceptions, the lexicon, docstrings. The Python package storyline
// (engine/python/storyline/__init__.py) re-exports it.
#include "python/module.hpp"

#include <dlfcn.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "storyline/error.hpp"

namespace storyline::python {

std::shared_ptr<const Lexicon> load_lexicon(const std::string& value, const TfidfParams& params) {
  if (value == "off" || (params.bridge_weight <= 0.0f && params.name_key_weight <= 0.0f)) return nullptr;
  std::string path = value;
  if (value == "auto") {
    path.clear();
    if (const char* env = std::getenv("STORYLINE_LEXICON"); env != nullptr && *env != '\0') {
      path = env;
    } else if (Dl_info info{}; dladdr(reinterpret_cast<void*>(&load_lexicon), &info) != 0 && info.dli_fname) {
      std::error_code error;
      const auto beside = std::filesystem::path(info.dli_fname).parent_path() / "storyline-lexicon.tsv";
      if (std::filesystem::exists(beside, error)) path = beside.string();
    }
    if (path.empty()) return nullptr;
  }
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const Lexicon>> loaded;
  std::lock_guard lock(mutex);
  auto& lexicon = loaded[path];
  if (!lexicon) lexicon = Lexicon::load(path);
  return lexicon;
}

namespace doc {

const char* const kModule = R"(Near-duplicates, stories and story threads, from Python.

The same engine as the storyline command line (C++, oneTBB threads underneath, the GIL released
while it works): storyline.dedup and storyline.cluster take records (dicts with id, title, text,
date, or plain strings) and give what `storyline dedup` and `storyline cluster` give for the same
records in a JSONL file. DedupIndex is an incremental near-duplicate index with datasketch's verbs;
Feed is the durable feed of `storyline stream`; minhash gives signatures as numpy arrays.

A bad record raises ValueError with the CLI's message ("record 3 (id 'x'): empty_text: the text is
empty"; 3 is its position in the input, from 0).)";

const char* const kDedup = R"(Groups near-duplicate records; returns a DedupResult.

records: an iterable of dicts (fields id, text, title, date; see id_field, ...) or of str/bytes
  (the text alone; the id is the position). Consumed in batches of batch_size, so a generator over
  a large file is read as the work goes; only the fingerprints are held.
jobs: worker threads (0: all cores).
Knobs (keyword only), as the CLI's options of `storyline dedup`: method ('minhash' or 'simhash'),
  threshold (Jaccard, default 0.45), num_perm (MinHash values, 128), bands and rows (LSH; default
  chosen from the threshold), max_hamming (simhash), shingle ('word' or 'char'), ngram (5), verify
  ('estimate' or 'exact'), seed, containment (0.7; 0 off), min_contained_shingles,
  min_titled_shingles, boilerplate_df (0.01; 0 off), boilerplate_sample (2000), id_field,
  text_field, title_field, date_field (None: no dates).

result.groups[i] is the position of record i's group representative (equal values: one group),
result.keep[i] is True for representatives, result.similarity[i] its similarity to it.)";

const char* const kCluster = R"(Near-duplicates, stories and threads of records; returns a ClusterResult.

records: an iterable of dicts (id, title, text, date; a title alone is a document) or of str.
Per record: dup_group, dup_of, story, thread and language, as `storyline cluster -o` annotates
them; stories and threads: one dict per story and per thread, as --stories and --threads write.
lexicon: the cross-language bridge ('auto': the one installed with the module; 'off'; a path).
Knobs (keyword only), as the CLI's options of `storyline cluster`: story_threshold,
  dated_story_threshold, thread_threshold, window_days, neighbors, background_rank,
  background_by_language, thread_entity_boost, thread_pivot_boost, thread_name_boost,
  thread_name_share, thread_language_threshold, thread_min_stories, thread_join_threshold,
  thread_refine_rounds, max_row_terms, max_story_terms, time_block, bigrams, title_weight,
  entity_weight, own_term_weight, stem, bridge_weight, name_key_weight, dedup_threshold,
  containment (and the other dedup knobs), report (an HTML report's path), gold,
  gold_story_field, gold_thread_field, and the field names.)";

const char* const kMinhash =
    R"(MinHash signatures of texts: a numpy uint32 array of shape (len(texts), num_perm).

The signatures storyline's dedup starts from (one-permutation hashing with optimal densification,
over word or character shingles of the normalised text). The share of equal columns of two rows
estimates the Jaccard similarity of the two texts' shingle sets.)";

const char* const kDedupIndex = R"(An incremental near-duplicate index, with datasketch's MinHashLSH verbs.

    idx = storyline.DedupIndex(threshold=0.8, num_perm=128)
    idx.insert("a", text_a); idx.query(text_b) -> ["a"]; "a" in idx; idx.remove("a"); len(idx)
    idx.save(path); storyline.DedupIndex.load(path)

Keys are str. query verifies its LSH candidates (estimated Jaccard, or containment of a shorter
text in a longer one) and returns the passing keys, most similar first. Knobs as storyline.dedup's
(no boilerplate: the index learns none). Safe to use from several Python threads: queries run
concurrently, inserts one at a time; the GIL is released while fingerprinting. Files are those of
`storyline dedup --save-index` / `--index`.)";

const char* const kFeed = R"(The durable feed of `storyline stream` / `serve`: records in, assignments out.

    with storyline.Feed("news.db") as feed:
        a = feed.add({"id": "1", "title": ..., "text": ..., "date": "2025-03-01"})
        a["story_id"], a["thread_id"], a["dup_of"]

The state is a SQLite file (created when missing, with the knobs given; an existing state keeps
its own). Each add returns once the record is committed. Knobs: story_threshold,
dated_story_threshold, thread_threshold, window_days, thread_entity_boost, thread_pivot_boost,
thread_name_boost, thread_language_threshold, thread_merge_threshold, idf_by_language,
thread_relink, thread_relink_threshold, thread_relink_by_count, title_weight,
entity_weight, stem, bridge_weight, name_key_weight, dedup_threshold, containment, boilerplate_df,
boilerplate_sample, field names; and thread_relink_quiet (seconds without a record after which a
feed with thread_relink relinks; it relinks when closed too; 0: then only).)";

}  // namespace doc

}  // namespace storyline::python

PYBIND11_MODULE(_storyline, m) {
  namespace py = pybind11;
  using namespace storyline;
  m.doc() = python::doc::kModule;
  static py::exception<CorruptIndex> corrupt(m, "CorruptIndexError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const CorruptIndex& e) {
      corrupt(e.what());
    } catch (const IoError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const InvalidArgument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const ParseError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
  python::add_jobs(m);
  python::add_index(m);
}
