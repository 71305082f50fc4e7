#include "detail/binary_io.hpp"

#include <cerrno>
#include <cstring>

#include "storyline/error.hpp"

namespace storyline::detail {

BinaryWriter::BinaryWriter(const std::string& path) : path_(path), tmp_path_(path + ".tmp") {
  file_ = std::fopen(tmp_path_.c_str(), "wb");
  if (file_ == nullptr) throw IoError("cannot write '" + tmp_path_ + "': " + std::strerror(errno));
  state_ = XXH3_createState();
  XXH3_64bits_reset(state_);
}

BinaryWriter::~BinaryWriter() {
  if (file_ != nullptr) {
    std::fclose(file_);
    std::remove(tmp_path_.c_str());
  }
  XXH3_freeState(state_);
}

void BinaryWriter::bytes(const void* data, std::size_t size) {
  if (size == 0) return;
  XXH3_64bits_update(state_, data, size);
  if (std::fwrite(data, 1, size, file_) != size) {
    throw IoError("cannot write '" + tmp_path_ + "': " + std::strerror(errno));
  }
}

void BinaryWriter::finish() {
  const std::uint64_t checksum = XXH3_64bits_digest(state_);
  if (std::fwrite(&checksum, sizeof checksum, 1, file_) != 1 || std::fflush(file_) != 0 ||
      std::fclose(file_) != 0) {
    file_ = nullptr;
    throw IoError("cannot write '" + tmp_path_ + "': " + std::strerror(errno));
  }
  file_ = nullptr;
  if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    throw IoError("cannot rename '" + tmp_path_ + "' to '" + path_ + "': " + std::strerror(errno));
  }
}

BinaryReader::BinaryReader(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) throw IoError("cannot open '" + path + "': " + std::strerror(errno));
  if (std::fseek(file_, 0, SEEK_END) != 0) fail("cannot seek");
  const long size = std::ftell(file_);
  std::rewind(file_);
  if (size < static_cast<long>(sizeof(std::uint64_t))) fail("file too short to be an index");
  payload_size_ = static_cast<std::uint64_t>(size) - sizeof(std::uint64_t);
  state_ = XXH3_createState();
  XXH3_64bits_reset(state_);
}

BinaryReader::~BinaryReader() {
  if (file_ != nullptr) std::fclose(file_);
  XXH3_freeState(state_);
}

void BinaryReader::fail(const std::string& what) const {
  throw CorruptIndex("'" + path_ + "' is not a valid storyline index: " + what);
}

void BinaryReader::bytes(void* data, std::size_t size) {
  if (size > remaining()) fail("truncated (needs " + std::to_string(size) + " more bytes)");
  if (size == 0) return;
  if (std::fread(data, 1, size, file_) != size) fail("read error");
  XXH3_64bits_update(state_, data, size);
  consumed_ += size;
}

std::string BinaryReader::string(std::size_t max_size) {
  const auto size = value<std::uint32_t>();
  if (size > max_size || size > remaining()) fail("string length " + std::to_string(size) + " out of range");
  std::string s(size, '\0');
  bytes(s.data(), size);
  return s;
}

void BinaryReader::finish() {
  if (remaining() != 0) fail(std::to_string(remaining()) + " unexpected bytes before the checksum");
  std::uint64_t stored = 0;
  if (std::fread(&stored, sizeof stored, 1, file_) != 1) fail("missing checksum");
  if (stored != XXH3_64bits_digest(state_)) fail("checksum mismatch (the file is corrupted)");
}

}  // namespace storyline::detail
