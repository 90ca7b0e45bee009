// Checkpoints: everything a run needs to continue exactly where it stopped -- parameters,
// optimizer state, learning-rate schedule, the shuffling generator, the metrics so far.
// Saved atomically (a temporary file, fsync, rename, fsync of the directory): a crash or a
// full disk during a save leaves the previous checkpoint as it was. A CRC-32 over the
// contents catches a damaged file before anything in it is used.
#pragma once

#include "lenetc/ModelInfo.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace lenetc {

struct EpochMetrics {
  int64_t epoch = 0;
  double trainLoss = 0, trainAcc = 0, valLoss = -1, valAcc = -1, testLoss = 0, testAcc = 0, lr = 0;
  double seconds = 0, examplesPerSecond = 0;
};

struct TrainState {
  std::string model;
  std::string data;
  int64_t batch = 0;
  int64_t epochsDone = 0;
  std::vector<std::vector<float>> params;
  std::string optimizer;
  int64_t optimizerSteps = 0;
  std::vector<std::vector<float>> optimizerSlots;
  double lr = 0, plateauBest = 1e300;
  int64_t plateauWait = 0;
  std::string rng; // the shuffling generator's state (std::mt19937_64, as text)
  std::vector<EpochMetrics> history;
  // The run's settings as flags and values (Options.h's runSettings); none in a
  // checkpoint of format 1.
  std::vector<std::pair<std::string, std::string>> settings;
};

void saveCheckpoint(const std::string &path, const ModelInfo &model, const TrainState &state);
// Throws lenetc::Error when the file is missing, damaged, truncated or from another model.
TrainState loadCheckpoint(const std::string &path, const ModelInfo &model);
// The same in two steps (a distributed run reads the file on rank 0 and sends its bytes):
// the file's bytes, and the state they hold (`path` names it in messages).
std::string readCheckpointFile(const std::string &path);
TrainState decodeCheckpoint(std::string bytes, const std::string &path, const ModelInfo &model);

} // namespace lenetc
