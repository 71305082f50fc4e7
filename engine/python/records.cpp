#include "python/records.hpp"

#include <tbb/task_arena.h>

#include <climits>

#include "storyline/error.hpp"

namespace storyline::python {

bool utf8_of(py::handle value, std::string& out) {
  if (PyUnicode_Check(value.ptr())) {
    Py_ssize_t size = 0;
    if (const char* data = PyUnicode_AsUTF8AndSize(value.ptr(), &size)) {
      out.assign(data, static_cast<std::size_t>(size));
      return true;
    }
    PyErr_Clear();  // lone surrogates: their bytes, then repaired as the CLI repairs invalid UTF-8
    const py::object bytes =
        py::reinterpret_steal<py::object>(PyUnicode_AsEncodedString(value.ptr(), "utf-8", "surrogatepass"));
    if (!bytes) throw py::error_already_set();
    repair_utf8(std::string_view(PyBytes_AS_STRING(bytes.ptr()), PyBytes_GET_SIZE(bytes.ptr())), out);
    return true;
  }
  if (PyBytes_Check(value.ptr())) {
    repair_utf8(std::string_view(PyBytes_AS_STRING(value.ptr()), PyBytes_GET_SIZE(value.ptr())), out);
    return true;
  }
  return false;
}

namespace {

// A record's field, or None when it is absent.
py::object field(py::handle record, const std::string& name, bool is_dict) {
  if (is_dict) {
    PyObject* value = PyDict_GetItemString(record.ptr(), name.c_str());  // borrowed; no error raised
    return value == nullptr ? py::none() : py::reinterpret_borrow<py::object>(value);
  }
  return record.attr("get")(name, py::none());
}

// An id as the JSON reader takes it: a string, or an integer's decimal text. Returns the detail of a
// wrong type, "" when read.
std::string read_id(py::handle value, const std::string& name, std::string& out) {
  if (utf8_of(value, out)) return "";
  if (PyBool_Check(value.ptr())) return not_a_string_detail(name);
  if (PyFloat_Check(value.ptr())) return not_an_integer_detail(name);
  if (!PyLong_Check(value.ptr()) && !PyIndex_Check(value.ptr())) return not_a_string_detail(name);
  const py::object number = py::reinterpret_steal<py::object>(PyNumber_Index(value.ptr()));
  if (!number) throw py::error_already_set();
  int overflow = 0;
  const long long i = PyLong_AsLongLongAndOverflow(number.ptr(), &overflow);
  if (overflow == 0) {
    out = std::to_string(i);
    return "";
  }
  const unsigned long long u = PyLong_AsUnsignedLongLong(number.ptr());
  if (PyErr_Occurred() != nullptr) {
    PyErr_Clear();
    return not_a_string_detail(name);  // past 64 bits: the JSON reader cannot hold it either
  }
  out = std::to_string(u);
  return "";
}

[[noreturn]] void reject(std::size_t position, const ParsedRecord& r, Issue issue,
                         const std::string& detail) {
  std::string where = "record " + std::to_string(position);
  if (!r.doc.id.empty()) where += " (id '" + r.doc.id + "')";
  throw py::value_error(where + ": " + std::string(issue_name(issue)) + ": " + detail);
}

}  // namespace

void to_document(py::handle item, std::size_t position, const IngestParams& params, Document& out) {
  ParsedRecord r;
  bool have_text = false, have_id = false;
  std::string date_text;
  if (utf8_of(item, r.doc.text)) {
    have_text = true;
  } else {
    const bool is_dict = PyDict_Check(item.ptr());
    if (!is_dict && !py::hasattr(item, "keys")) {
      throw py::type_error("record " + std::to_string(position) +
                           ": a str, bytes or mapping (dict) is expected, not " +
                           std::string(py::str(py::type::of(item).attr("__name__"))));
    }
    // Fields in the order the checks run: a wrong type stops at the first, as in a JSON line.
    if (const py::object id = field(item, params.id_field, is_dict); !id.is_none()) {
      const std::string problem = read_id(id, params.id_field, r.doc.id);
      if (!problem.empty()) reject(position, r, Issue::kWrongType, problem);
      have_id = !r.doc.id.empty();
    }
    if (const py::object text = field(item, params.text_field, is_dict); !text.is_none()) {
      if (!utf8_of(text, r.doc.text))
        reject(position, r, Issue::kWrongType, not_a_string_detail(params.text_field));
      have_text = true;
    }
    if (const py::object title = field(item, params.title_field, is_dict); !title.is_none()) {
      if (!utf8_of(title, r.doc.title))
        reject(position, r, Issue::kWrongType, not_a_string_detail(params.title_field));
    }
    if (!params.date_field.empty()) {
      const py::object date = field(item, params.date_field, is_dict);
      if (!date.is_none() && !utf8_of(date, date_text)) {
        // datetime.date, datetime.datetime, pandas.Timestamp: their ISO 8601 text.
        if (!py::hasattr(date, "isoformat") || !utf8_of(date.attr("isoformat")(), date_text))
          reject(position, r, Issue::kWrongType, not_a_string_detail(params.date_field));
      }
    }
  }
  check_record(params, have_text, have_id, date_text, r);
  if (r.rejected) reject(position, r, r.reason, r.detail);
  if (!have_id) r.doc.id = std::to_string(position);
  out = std::move(r.doc);
}

PyRecords::PyRecords(py::handle iterable, IngestParams params, std::size_t batch_size)
    : it_(py::iter(iterable)), params_(std::move(params)), batch_size_(batch_size) {
  if (batch_size_ == 0) throw py::value_error("batch_size must be positive");
}

PyRecords::~PyRecords() = default;

std::span<const Document> PyRecords::next() {
  if (done_) return {};
  py::gil_scoped_acquire gil;
  batch_.clear();
  try {
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    while (batch_.size() < batch_size_) {
      PyObject* item = PyIter_Next(it_.ptr());
      if (item == nullptr) {
        if (PyErr_Occurred() != nullptr) throw py::error_already_set();
        done_ = true;
        break;
      }
      const py::object record = py::reinterpret_steal<py::object>(item);
      batch_.emplace_back();
      to_document(record, position_++, params_, batch_.back());
    }
  } catch (py::error_already_set& e) {
    error_.emplace(std::move(e));
  } catch (py::builtin_exception& e) {
    e.set_error();
    error_.emplace();
  }
  if (error_) {
    done_ = true;
    batch_.clear();
    throw PythonRaised{};
  }
  return batch_;
}

void PyRecords::rethrow() {
  if (error_) {
    py::error_already_set e = std::move(*error_);
    error_.reset();
    throw e;
  }
}

void run_released(PyRecords* records, unsigned jobs, const std::function<void()>& fn) {
  try {
    py::gil_scoped_release release;
    if (jobs > 0) {
      tbb::task_arena arena(static_cast<int>(jobs));
      arena.execute(fn);
    } else {
      fn();
    }
  } catch (const PythonRaised&) {
    // The records' exception is raised below, with the GIL back.
  }
  if (records != nullptr) records->rethrow();
}

void Knobs::apply(const py::kwargs& kwargs, const char* function) const {
  for (const auto& [key, value] : kwargs) {
    const std::string name = py::str(key);
    const auto it = setters_.find(name);
    if (it == setters_.end()) {
      std::string known;
      for (const auto& [k, setter] : setters_) known += (known.empty() ? "" : ", ") + k;
      throw py::type_error(std::string(function) + "() got an unexpected keyword argument '" + name +
                           "' (it takes: " + known + ")");
    }
    try {
      it->second(value);
    } catch (const py::cast_error&) {
      throw py::type_error(std::string(function) + "(): " + name + "=" + std::string(py::repr(value)) +
                           " has the wrong type");
    }
  }
}

void add_field_knobs(Knobs& knobs, IngestParams& params) {
  knobs.add("id_field", params.id_field)
      .add("text_field", params.text_field)
      .add("title_field", params.title_field);
  knobs.add("date_field", [&params](py::handle v) {
    params.date_field = v.is_none() ? std::string() : v.cast<std::string>();
  });
}

namespace {

template <typename Enum>
Knobs::Setter choice(Enum& field, std::initializer_list<std::pair<const char*, Enum>> names,
                     const char* what) {
  std::vector<std::pair<std::string, Enum>> list;
  for (const auto& [name, value] : names) list.emplace_back(name, value);
  return [&field, list, what](py::handle v) {
    const std::string given = v.cast<std::string>();
    std::string known;
    for (const auto& [name, value] : list) {
      if (name == given) {
        field = value;
        return;
      }
      known += (known.empty() ? "" : " or ") + name;
    }
    throw py::value_error(std::string(what) + " must be " + known + ", not '" + given + "'");
  };
}

}  // namespace

void add_dedup_knobs(Knobs& knobs, DedupParams& p, const std::string& threshold_name) {
  knobs.add(
      "method",
      choice(p.method, {{"minhash", DedupMethod::kMinHash}, {"simhash", DedupMethod::kSimHash}}, "method"));
  knobs.add(threshold_name.c_str(), p.threshold);
  knobs.add("num_perm", p.num_hashes)
      .add("bands", p.bands)
      .add("rows", p.rows)
      .add("max_hamming", p.max_hamming);
  knobs.add("shingle",
            choice(p.shingle.kind, {{"word", ShingleKind::kWord}, {"char", ShingleKind::kChar}}, "shingle"));
  knobs.add("ngram", p.shingle.size);
  knobs.add("verify",
            choice(p.verify, {{"estimate", Verify::kEstimate}, {"exact", Verify::kExact}}, "verify"));
  knobs.add("seed", p.seed).add("containment", p.containment);
  knobs.add("min_contained_shingles", p.min_contained_shingles)
      .add("min_titled_shingles", p.min_titled_shingles);
}

}  // namespace storyline::python
