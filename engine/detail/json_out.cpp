#include "detail/json_out.hpp"

#include <simdjson.h>

#include <cerrno>
#include <cstring>

#include "storyline/document.hpp"
#include "storyline/error.hpp"
#include "storyline/jsonl.hpp"

namespace storyline::detail {

void append_date_field(std::string& out, const char* name, std::int32_t date) {
  out += ",\"";
  out += name;
  out += "\":";
  if (date == kNoDate) {
    out += "null";
  } else {
    append_json_string(out, format_date(date));
  }
}

void append_json_string(std::string& out, std::string_view s) {
  std::string repaired;
  if (!simdjson::validate_utf8(s.data(), s.size())) {
    repair_utf8(s, repaired);
    s = repaired;
  }
  out.push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(c));
          out += buffer;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void append_json_number(std::string& out, double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  out += buffer;
}

void append_fields_to_object(std::string& out, std::string_view line, std::string_view fields) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  line.remove_suffix(1);  // the closing brace
  out.append(line);
  out.append(fields);
  out.push_back('}');
}

OutputFile::OutputFile(const std::string& path) : path_(path) {
  file_ = path == "-" ? stdout : std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) throw IoError("cannot write '" + path + "': " + std::strerror(errno));
}

OutputFile::~OutputFile() {
  if (file_ != nullptr && file_ != stdout) std::fclose(file_);
}

void OutputFile::write(std::string_view data) {
  if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
    throw IoError("cannot write '" + path_ + "': " + std::strerror(errno));
  }
}

void OutputFile::close() {
  if (file_ == nullptr) return;
  const bool ok = std::fflush(file_) == 0 && (file_ == stdout || std::fclose(file_) == 0);
  file_ = nullptr;
  if (!ok) throw IoError("cannot write '" + path_ + "': " + std::strerror(errno));
}

std::string utf8_prefix(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // a continuation byte
  return std::string(s.substr(0, cut)) + "\u2026";
}

}  // namespace storyline::detail
