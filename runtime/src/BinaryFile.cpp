#include "BinaryFile.h"

#include "Error.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace lenetc {

void ByteWriter::str(const std::string &s) {
  u64(s.size());
  bytes(s.data(), s.size());
}

void ByteWriter::floats(const std::vector<float> &v) {
  u64(v.size());
  bytes(v.data(), v.size() * sizeof(float));
}

namespace {
uint32_t crcOf(const char *data, size_t size) {
  return static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef *>(data), static_cast<uInt>(size)));
}
} // namespace

void ByteWriter::checksum() {
  uint32_t crc = crcOf(out_.data(), out_.size());
  bytes(&crc, sizeof crc);
}

bool removeChecksum(std::string &data) {
  if (data.size() < 4)
    return false;
  uint32_t stored;
  std::memcpy(&stored, data.data() + data.size() - 4, 4);
  if (crcOf(data.data(), data.size() - 4) != stored)
    return false;
  data.resize(data.size() - 4);
  return true;
}

void ByteReader::truncated() const { throw Error(fmt::format("{} '{}' is truncated", what_, path_)); }

void ByteReader::bytes(void *p, size_t n) {
  if (n > data_.size() - pos_)
    truncated();
  std::memcpy(p, data_.data() + pos_, n);
  pos_ += n;
}

uint64_t ByteReader::u64() {
  uint64_t v;
  bytes(&v, sizeof v);
  return v;
}

double ByteReader::f64() {
  double v;
  bytes(&v, sizeof v);
  return v;
}

std::string ByteReader::str() {
  uint64_t n = u64();
  if (n > data_.size() - pos_)
    truncated();
  std::string s = data_.substr(pos_, n);
  pos_ += n;
  return s;
}

std::vector<float> ByteReader::floats() {
  uint64_t n = u64();
  if (n > (data_.size() - pos_) / sizeof(float))
    truncated();
  std::vector<float> v(n);
  bytes(v.data(), n * sizeof(float));
  return v;
}

std::string readWholeFile(const std::string &path, const std::string &what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(fmt::format("cannot open {} '{}'", what, path));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad())
    throw Error(fmt::format("cannot read {} '{}'", what, path));
  return ss.str();
}

namespace {

void writeAll(int fd, const std::string &data, const std::string &what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      throw Error(what + ": " + std::strerror(n < 0 ? errno : ENOSPC));
    done += static_cast<size_t>(n);
  }
}

// Whether process `pid` still runs (a zombie, killed but not yet reaped, does not).
bool processRuns(long pid) {
  if (::kill(static_cast<pid_t>(pid), 0) != 0)
    return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'Z';
}

} // namespace

void removeStaleTemporaries(const std::string &path) {
  // <path>.tmp.<pid> of a process that no longer runs: a save it never finished.
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::string prefix = target.filename().string() + ".tmp.";
  std::error_code ec;
  for (const auto &entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0)
      continue;
    long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && (pid == getpid() || !processRuns(pid)))
      fs::remove(entry.path(), ec);
  }
}

void saveFileAtomically(const std::string &path, const std::string &data, const std::string &what) {
  removeStaleTemporaries(path);
  const std::string failed = fmt::format("cannot save {} '{}'", what, path);
  // Write beside the target, make it durable, then replace the target in one rename.
  std::string tmp = fmt::format("{}.tmp.{}", path, getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error(failed + ": " + std::strerror(errno));
  try {
    // Fault injection for the tests: write half, then stop, so that a test can kill the
    // process in the middle of a save (LENETC_FAULT=pause-in-save).
    const char *fault = std::getenv("LENETC_FAULT");
    if (fault && std::string(fault) == "pause-in-save") {
      writeAll(fd, data.substr(0, data.size() / 2), failed);
      fmt::print(stderr, "lenetc: fault injection: paused in the middle of saving '{}'\n", path);
      for (;;)
        ::pause();
    }
    writeAll(fd, data, failed);
    if (::fsync(fd) != 0)
      throw Error(failed + ": " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw Error(failed + ": " + why);
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

} // namespace lenetc
