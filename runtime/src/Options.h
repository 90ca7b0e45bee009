// The trainer's command line: every setting of the model's train block, overridable by a
// flag, plus what a run writes and reads.
#pragma once

#include "Optimizer.h"
#include "lenetc/ModelInfo.h"

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace lenetc {

struct Options {
  std::string command = "train"; // train | predict | report | export
  std::string image;             // predict: the picture; export: the ONNX file
  std::string data;
  int64_t val = 0, limitTrain = -1, limitTest = -1;
  int64_t epochs = 10, batch = 32, seed = 0;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  std::string init, biasInit, normalize;
  std::string checkpoint; // "" = none
  // A weights file or checkpoint whose parameters a run starts from (or --eval and predict
  // use instead of the checkpoint's).
  std::string initFrom;
  std::string outputs; // --eval: the test examples' answers (CSV)
  bool resume = false, eval = false, quiet = false;
  // batchnorm: normalize each micro-batch of the step by its own statistics (faster; not
  // PyTorch's whole-batch result).
  bool ghostBatchNorm = false;
  std::string metrics, plot;
  // The run report (HTML): by default the checkpoint's name with .html for its extension;
  // "" = none (--no-report, or no checkpoint and no --report). `report`'s -o sets it too.
  std::string report;
  int threads = 0; // 0: the Halide runtime's default (all cores)
  std::string device = "auto";
  std::set<std::string> given; // the flags the command line gave
};

// Parses argv on top of the model's defaults; throws UsageError on a bad flag or value.
// Returns false when --help was given (the help is printed).
bool parseOptions(const ModelInfo &model, int argc, char **argv, Options &out);

// The settings that decide how a run goes on from a checkpoint (the data split, the input
// normalisation, the batch, the optimizer and its learning-rate schedule, and for the record
// the seed and initialisation), as flags and their values. A checkpoint keeps them.
std::vector<std::pair<std::string, std::string>> runSettings(const Options &o);
// --resume, --eval and predict take a checkpoint's settings: each one the command line did
// not give takes the checkpoint's value; one it gave otherwise is a UsageError.
void adoptRunSettings(Options &o, const std::vector<std::pair<std::string, std::string>> &saved,
                      const std::string &checkpoint);

} // namespace lenetc
