// The trainer's command line: every setting of the model's train block, overridable by a
// flag, plus what a run writes and reads.
#pragma once

#include "Optimizer.h"
#include "lenetc/ModelInfo.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lenetc {

struct Options {
  std::string command = "train"; // train | predict
  std::string image;             // predict: the picture
  std::string data;
  int64_t val = 0, limitTrain = -1, limitTest = -1;
  int64_t epochs = 10, batch = 32, seed = 0;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  std::string init, biasInit, normalize;
  std::string checkpoint; // "" = none
  bool resume = false, eval = false, quiet = false;
  std::string metrics, plot;
  int threads = 0; // 0: the Halide runtime's default (all cores)
  std::string device = "auto";
};

// Parses argv on top of the model's defaults; throws UsageError on a bad flag or value.
// Returns false when --help was given (the help is printed).
bool parseOptions(const ModelInfo &model, int argc, char **argv, Options &out);

} // namespace lenetc
