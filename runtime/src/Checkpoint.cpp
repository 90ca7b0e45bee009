#include "Checkpoint.h"

#include "BinaryFile.h"
#include "Error.h"

namespace lenetc {

namespace {
// Format 2 adds the run's settings after the history; format 1 files still load.
const char kMagic[] = "LENETC-CKPT 2\n";
const char kMagicFormat1[] = "LENETC-CKPT 1\n";
} // namespace

void saveCheckpoint(const std::string &path, const ModelInfo &model, const TrainState &s) {
  ByteWriter w;
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
  w.checksum();
  saveFileAtomically(path, w.data(), "checkpoint");
}

std::string readCheckpointFile(const std::string &path) { return readWholeFile(path, "checkpoint"); }

TrainState loadCheckpoint(const std::string &path, const ModelInfo &model) {
  return decodeCheckpoint(readCheckpointFile(path), path, model);
}

TrainState decodeCheckpoint(std::string data, const std::string &path, const ModelInfo &model) {
  static_assert(sizeof kMagic == sizeof kMagicFormat1);
  bool format1 = data.compare(0, sizeof kMagic - 1, kMagicFormat1) == 0;
  if (data.size() < sizeof kMagic - 1 + 4 || (!format1 && data.compare(0, sizeof kMagic - 1, kMagic) != 0))
    throw Error("'" + path + "' is not a lenetc checkpoint");
  if (!removeChecksum(data))
    throw Error("checkpoint '" + path + "' is damaged (checksum mismatch); it was not loaded");

  ByteReader r(data, "checkpoint", path);
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
