// The runtime's binary files (checkpoints, weights files): values appended to and read from
// a byte string, saved atomically (a temporary file beside the target, fsync, rename, fsync
// of the directory: a crash or a full disk during a save leaves the previous file as it was).
#pragma once

#include "lenetc/Files.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lenetc {

class ByteWriter {
public:
  void bytes(const void *p, size_t n) { out_.append(static_cast<const char *>(p), n); }
  void u64(uint64_t v) { bytes(&v, sizeof v); }
  void f64(double v) { bytes(&v, sizeof v); }
  void str(const std::string &s);
  void floats(const std::vector<float> &v);
  // The CRC-32 of everything written so far, appended.
  void checksum();
  std::string &data() { return out_; }

private:
  std::string out_;
};

// Reads what ByteWriter wrote; a read past the end throws Error("<what> '<path>' is truncated").
class ByteReader {
public:
  ByteReader(const std::string &data, std::string what, std::string path)
      : data_(data), what_(std::move(what)), path_(std::move(path)) {}
  void bytes(void *p, size_t n);
  uint64_t u64();
  double f64();
  std::string str();
  std::vector<float> floats();
  bool atEnd() const { return pos_ == data_.size(); }

private:
  [[noreturn]] void truncated() const;
  const std::string &data_;
  std::string what_, path_;
  size_t pos_ = 0;
};

// Whether `data` ends with the CRC-32 of what precedes it (ByteWriter::checksum); if so,
// the checksum is removed.
bool removeChecksum(std::string &data);

// The whole file; Error("cannot open <what> '<path>'") when it cannot be read.
std::string readWholeFile(const std::string &path, const std::string &what);

// saveFileAtomically (lenetc/Files.h) throws Error.
// Removes what a killed process left of an unfinished save of `path` (saveFileAtomically
// calls it).
void removeStaleTemporaries(const std::string &path);

} // namespace lenetc
