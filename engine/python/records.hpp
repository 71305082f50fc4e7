// Python records to documents: what the module's functions read, and the knobs they take by keyword.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "storyline/document.hpp"
#include "storyline/fingerprint.hpp"
#include "storyline/ingest.hpp"
#include "storyline/jsonl.hpp"

namespace storyline::python {

namespace py = pybind11;

/// UTF-8 bytes of a Python str (lone surrogates, which UTF-8 cannot hold, become U+FFFD, as the CLI
/// repairs invalid bytes) or of bytes (invalid sequences repaired). Returns false for other types.
bool utf8_of(py::handle value, std::string& out);

/// One record as a document, by the rules of a JSONL line (RecordParser): a str or bytes is a text
/// whose id is its position; a mapping gives the fields params names (id: str or int; text, title: str
/// or bytes; date: an ISO 8601 str, or anything with isoformat(): datetime.date, pandas.Timestamp).
/// A missing id becomes the position. Throws py::value_error "record N (id 'X'): ISSUE: DETAIL" for
/// a record the CLI rejects, with its message, and py::type_error for one that is no record at all.
/// @pre the GIL is held.
void to_document(py::handle item, std::size_t position, const IngestParams& params, Document& out);

/// The records of a Python iterable, batch by batch, for the jobs (which run without the GIL: next()
/// takes it while it converts). An exception raised by Python (by the iterable, or for a bad record)
/// ends the job; rethrow() raises it again once the GIL is back. Ctrl-C is noticed between batches.
class PyRecords final : public DocumentBatches {
 public:
  /// @pre the GIL is held.
  PyRecords(py::handle iterable, IngestParams params, std::size_t batch_size);
  ~PyRecords() override;
  std::span<const Document> next() override;
  /// Raises what stopped the reading, if anything did. @pre the GIL is held.
  void rethrow();

 private:
  py::iterator it_;
  IngestParams params_;
  std::size_t batch_size_;
  std::size_t position_ = 0;
  std::vector<Document> batch_;
  std::optional<py::error_already_set> error_;
  bool done_ = false;
};

/// Thrown through the C++ job when PyRecords stopped on a Python exception.
struct PythonRaised {};

/// Runs fn without the GIL (and, jobs > 0, on at most that many threads), then raises what the records
/// raised. @pre the GIL is held.
void run_released(PyRecords* records, unsigned jobs, const std::function<void()>& fn);

/// Keyword arguments by name: each known one sets its field; an unknown one raises TypeError naming
/// the known ones. Values are converted as pybind11 casts them (TypeError when they do not fit).
class Knobs {
 public:
  using Setter = std::function<void(py::handle)>;
  template <typename T>
  Knobs& add(const char* name, T& field) {
    setters_[name] = [&field](py::handle value) { field = value.cast<T>(); };
    return *this;
  }
  Knobs& add(const char* name, Setter setter) {
    setters_[name] = std::move(setter);
    return *this;
  }
  void apply(const py::kwargs& kwargs, const char* function) const;

 private:
  std::map<std::string, Setter> setters_;
};

/// The knobs every function shares: id_field, text_field, title_field, date_field (None: no dates).
void add_field_knobs(Knobs& knobs, IngestParams& params);
/// The near-duplicate knobs, named as the CLI's options (method, threshold, num_perm, bands, rows,
/// max_hamming, shingle, ngram, verify, seed, containment, min_contained_shingles,
/// min_titled_shingles), prefix + name ("dedup_" for cluster's threshold).
void add_dedup_knobs(Knobs& knobs, DedupParams& params, const std::string& threshold_name = "threshold");

}  // namespace storyline::python
