// Writing JSON text by hand for the few fixed shapes storyline outputs.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace storyline::detail {

/// Appends s as a quoted JSON string. Invalid UTF-8 is replaced by U+FFFD so the output stays valid.
void append_json_string(std::string& out, std::string_view s);

/// The longest prefix of s of at most max_bytes that does not cut a UTF-8 sequence, with "…" added
/// when s was cut.
std::string utf8_prefix(std::string_view s, std::size_t max_bytes);

/// Appends ,"name":"YYYY-MM-DD" (days since 1970-01-01), or ,"name":null for kNoDate.
void append_date_field(std::string& out, const char* name, std::int32_t date);

/// Appends a number with up to 6 significant digits ("0.8125").
void append_json_number(std::string& out, double value);

/// Inserts `fields` (text like ,"a":1) before the closing brace of a JSON object line. Trailing white
/// space is dropped. @pre line is a JSON object.
void append_fields_to_object(std::string& out, std::string_view line, std::string_view fields);

/// A buffered output file ("-" is stdout). Throws IoError on failure.
class OutputFile {
 public:
  explicit OutputFile(const std::string& path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  void write(std::string_view data);
  void close();

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace storyline::detail
