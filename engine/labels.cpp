#include <simdjson.h>

#include "storyline/error.hpp"
#include "storyline/jsonl.hpp"
#include "storyline/metrics.hpp"

namespace storyline {
namespace {

// Text of a scalar JSON value: strings unescaped, other scalars as their JSON text. False for null.
bool scalar_text(simdjson::dom::element value, std::string& out) {
  if (value.is_null()) return false;
  if (value.is_object() || value.is_array())
    throw ParseError("an object or array where a scalar was expected");
  if (value.is_string()) {
    out.assign(std::string_view(value));
  } else {
    out = simdjson::minify(value);
  }
  return true;
}

}  // namespace

LabeledIds read_labels(const std::string& path, std::string_view id_field, std::string_view label_field) {
  LabeledIds out;
  LineReader reader(path, std::size_t{1} << 30);
  simdjson::dom::parser parser;
  std::string line, repaired, id, label;
  for (LineStatus status; (status = reader.next(line)) != LineStatus::kEnd;) {
    const std::string where = path + ":" + std::to_string(reader.line_number()) + ": ";
    if (status != LineStatus::kLine) throw ParseError(where + "truncated or over-long line");
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (!simdjson::validate_utf8(line.data(), line.size())) {
      repair_utf8(line, repaired);
      line.swap(repaired);
    }
    simdjson::dom::element doc;
    const auto error = parser.parse(line).get(doc);
    if (error != simdjson::SUCCESS)
      throw ParseError(where + "malformed JSON (" + simdjson::error_message(error) + ")");
    simdjson::dom::object object;
    if (doc.get_object().get(object) != simdjson::SUCCESS) throw ParseError(where + "not a JSON object");
    bool have_id = false, have_label = false;
    try {
      for (const auto field : object) {
        if (field.key == id_field && !have_id) {
          have_id = scalar_text(field.value, id);
        } else if (field.key == label_field && !have_label) {
          have_label = scalar_text(field.value, label);
        }
      }
    } catch (const ParseError& e) {
      throw ParseError(where + e.what());
    }
    if (!have_id) id = std::to_string(reader.line_number());
    if (!have_label) {
      ++out.unlabeled;
      continue;
    }
    out.ids.push_back(id);
    out.labels.push_back(label);
    out.lines.push_back(reader.line_number());
  }
  return out;
}

}  // namespace storyline
