#include "Checkpoint.h"

#include "Error.h"

#include <zlib.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace lenetc {

namespace {

// Format 2 adds the run's settings after the history; format 1 files still load.
const char kMagic[] = "LENETC-CKPT 2\n";
const char kMagicFormat1[] = "LENETC-CKPT 1\n";

class Writer {
public:
  void bytes(const void *p, size_t n) { out_.append(static_cast<const char *>(p), n); }
  void u64(uint64_t v) { bytes(&v, sizeof v); }
  void f64(double v) { bytes(&v, sizeof v); }
  void str(const std::string &s) {
    u64(s.size());
    bytes(s.data(), s.size());
  }
  void floats(const std::vector<float> &v) {
    u64(v.size());
    bytes(v.data(), v.size() * sizeof(float));
  }
  std::string &data() { return out_; }

private:
  std::string out_;
};

class Reader {
public:
  Reader(const std::string &data, const std::string &path) : data_(data), path_(path) {}
  void bytes(void *p, size_t n) {
    if (n > data_.size() - pos_)
      throw Error("checkpoint '" + path_ + "' is truncated");
    std::memcpy(p, data_.data() + pos_, n);
    pos_ += n;
  }
  uint64_t u64() {
    uint64_t v;
    bytes(&v, sizeof v);
    return v;
  }
  double f64() {
    double v;
    bytes(&v, sizeof v);
    return v;
  }
  std::string str() {
    uint64_t n = u64();
    if (n > data_.size() - pos_)
      throw Error("checkpoint '" + path_ + "' is truncated");
    std::string s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::vector<float> floats() {
    uint64_t n = u64();
    if (n > (data_.size() - pos_) / sizeof(float))
      throw Error("checkpoint '" + path_ + "' is truncated");
    std::vector<float> v(n);
    bytes(v.data(), n * sizeof(float));
    return v;
  }

private:
  const std::string &data_;
  std::string path_;
  size_t pos_ = 0;
};

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

} // namespace

namespace {
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

void saveCheckpoint(const std::string &path, const ModelInfo &model, const TrainState &s) {
  removeStaleTemporaries(path);
  Writer w;
  w.bytes(kMagic, sizeof kMagic - 1);
  w.str(model.name);
  w.u64(static_cast<uint64_t>(model.numParams));
  for (int i = 0; i < model.numParams; ++i) {
    w.str(model.params[i].name);
    w.u64(static_cast<uint64_t>(model.params[i].count));
  }
  w.str(s.data);
  w.u64(static_cast<uint64_t>(s.batch));
  w.u64(static_cast<uint64_t>(s.epochsDone));
  for (const auto &p : s.params)
    w.floats(p);
  w.str(s.optimizer);
  w.u64(static_cast<uint64_t>(s.optimizerSteps));
  w.u64(s.optimizerSlots.size());
  for (const auto &slot : s.optimizerSlots)
    w.floats(slot);
  w.f64(s.lr);
  w.f64(s.plateauBest);
  w.u64(static_cast<uint64_t>(s.plateauWait));
  w.str(s.rng);
  w.u64(s.history.size());
  for (const auto &m : s.history)
    w.bytes(&m, sizeof m);
  w.u64(s.settings.size());
  for (const auto &[flag, value] : s.settings) {
    w.str(flag);
    w.str(value);
  }
  uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef *>(w.data().data()), static_cast<uInt>(w.data().size())));
  w.bytes(&crc, sizeof crc);

  // Write beside the target, make it durable, then replace the target in one rename.
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error("cannot save checkpoint '" + path + "': " + std::strerror(errno));
  try {
    // Fault injection for the tests: write half, then stop, so that a test can kill the
    // process in the middle of a save (LENETC_FAULT=pause-in-save).
    const char *fault = std::getenv("LENETC_FAULT");
    if (fault && std::string(fault) == "pause-in-save") {
      writeAll(fd, w.data().substr(0, w.data().size() / 2), "cannot save checkpoint '" + path + "'");
      std::fprintf(stderr, "lenetc: fault injection: paused in the middle of saving '%s'\n", path.c_str());
      for (;;)
        ::pause();
    }
    writeAll(fd, w.data(), "cannot save checkpoint '" + path + "'");
    if (::fsync(fd) != 0)
      throw Error("cannot save checkpoint '" + path + "': " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw Error("cannot save checkpoint '" + path + "': " + why);
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::string readCheckpointFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error("cannot open checkpoint '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TrainState loadCheckpoint(const std::string &path, const ModelInfo &model) {
  return decodeCheckpoint(readCheckpointFile(path), path, model);
}

TrainState decodeCheckpoint(std::string data, const std::string &path, const ModelInfo &model) {
  static_assert(sizeof kMagic == sizeof kMagicFormat1);
  bool format1 = data.compare(0, sizeof kMagic - 1, kMagicFormat1) == 0;
  if (data.size() < sizeof kMagic - 1 + 4 || (!format1 && data.compare(0, sizeof kMagic - 1, kMagic) != 0))
    throw Error("'" + path + "' is not a lenetc checkpoint");
  uint32_t stored;
  std::memcpy(&stored, data.data() + data.size() - 4, 4);
  uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef *>(data.data()), static_cast<uInt>(data.size() - 4)));
  if (crc != stored)
    throw Error("checkpoint '" + path + "' is damaged (checksum mismatch); it was not loaded");
  data.resize(data.size() - 4);

  Reader r(data, path);
  std::string skip(sizeof kMagic - 1, '\0');
  r.bytes(skip.data(), skip.size());
  TrainState s;
  s.model = r.str();
  if (s.model != model.name)
    throw Error("checkpoint '" + path + "' is from model '" + s.model + "', not '" + model.name + "'");
  uint64_t n = r.u64();
  if (n != static_cast<uint64_t>(model.numParams))
    throw Error("checkpoint '" + path + "' has " + std::to_string(n) + " parameters; model '" + model.name +
                "' has " + std::to_string(model.numParams) + " (was the model changed?)");
  for (int i = 0; i < model.numParams; ++i) {
    std::string name = r.str();
    uint64_t count = r.u64();
    if (name != model.params[i].name || count != static_cast<uint64_t>(model.params[i].count))
      throw Error("checkpoint '" + path + "' does not fit model '" + model.name + "': parameter " +
                  std::to_string(i) + " is " + name + " with " + std::to_string(count) +
                  " values, expected " + model.params[i].name + " with " +
                  std::to_string(model.params[i].count));
  }
  s.data = r.str();
  s.batch = static_cast<int64_t>(r.u64());
  s.epochsDone = static_cast<int64_t>(r.u64());
  for (int i = 0; i < model.numParams; ++i) {
    s.params.push_back(r.floats());
    if (s.params.back().size() != static_cast<size_t>(model.params[i].count))
      throw Error("checkpoint '" + path + "' is damaged (parameter sizes)");
  }
  s.optimizer = r.str();
  s.optimizerSteps = static_cast<int64_t>(r.u64());
  uint64_t slots = r.u64();
  if (slots > 4 * static_cast<uint64_t>(model.numParams))
    throw Error("checkpoint '" + path + "' is damaged (optimizer state)");
  for (uint64_t i = 0; i < slots; ++i)
    s.optimizerSlots.push_back(r.floats());
  s.lr = r.f64();
  s.plateauBest = r.f64();
  s.plateauWait = static_cast<int64_t>(r.u64());
  s.rng = r.str();
  uint64_t epochs = r.u64();
  if (epochs > 1000000)
    throw Error("checkpoint '" + path + "' is damaged (history)");
  for (uint64_t i = 0; i < epochs; ++i) {
    EpochMetrics m;
    r.bytes(&m, sizeof m);
    s.history.push_back(m);
  }
  if (!format1) {
    uint64_t settings = r.u64();
    if (settings > 1000)
      throw Error("checkpoint '" + path + "' is damaged (settings)");
    for (uint64_t i = 0; i < settings; ++i) {
      std::string flag = r.str();
      s.settings.emplace_back(flag, r.str());
    }
  }
  return s;
}

} // namespace lenetc
