// What the generated glue tells the runtime about one compiled model: its input, its
// parameters (in the pipelines' argument order) and its AOT pipelines.
// `lenetc compile` writes <model>_model.cpp defining one ModelInfo; the runtime reads it.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace lenetc {

// The micro-batch of the CPU training step: the trainer runs a larger batch as micro-batches
// of at most this many examples, one per thread (runtime/src/MicroBatch.h), and lenetc
// autotune times the step that way. (A GPU wants its batches whole.)
constexpr int64_t kMicroBatch = 64;

struct ParamInfo {
  const char *name; // "c1.w"
  const char *role; // "weight", "bias", "coef", "scale", "shift"; state: "running_mean", "running_var"
  int rank;
  int64_t shape[4]; // outermost first, as the dialect writes it ([F, C, k, k])
  int64_t count;    // number of values
  int64_t fanIn;    // inputs feeding one output unit (for initialisers; for a
                    // subsampling coefficient, the window's size; a bias has its layer's)
  int64_t fanOut;   // outputs one input unit feeds
};

// The model file's train block, every setting resolved (the trainer's flags override them).
struct TrainDefaults {
  const char *data;      // "fashion_mnist", "mnist" or a directory
  const char *optimizer; // "sgd", "adam", "rmsprop"
  double lr, momentum, beta1, beta2, eps, rho, weightDecay;
  bool nesterov;
  const char *lrSchedule; // "constant", "step", "plateau"
  int64_t stepEvery;
  double stepGamma, plateauFactor;
  int64_t plateauPatience;
  double minLr;
  int64_t batch, epochs;
  const char *init; // "xavier_uniform", "lecun_uniform"
  int64_t seed, val;
  const char *normalize; // "unit", "lecun"
  const char *biasInit;  // "zero", "fan_in_uniform" (PyTorch's default: +-1/sqrt(fan-in))
};

// The model's inference graph as ONNX, made by lenetc when it built the trainer
// (compiler/tools/OnnxExport.h): the serialized ModelProto without its graph, the GraphProto
// without the parameters, and how to make each parameter's initializer.
struct OnnxInitializerInfo {
  const char *name;
  int param; // index in ModelInfo::params
  int rank;
  int64_t shape[4];
  float scale;          // values times this
  const int32_t *blocks; // null: the values in order; else block j (blockSize values) goes to
  int numBlocks;         // block blocks[j] of a zeroed tensor (a connection table's weight
  int64_t blockSize;     // as a dense Conv's)
};
struct OnnxExportInfo {
  const unsigned char *modelHead;
  int64_t modelHeadSize;
  const unsigned char *graph;
  int64_t graphSize;
  int numInitializers;
  const OnnxInitializerInfo *initializers;
};

struct ModelInfo {
  const char *name;   // "lenet5"
  const char *source; // the model file it was compiled from
  int inputRank;      // 3 ([C, H, W]) or 1 ([features])
  int64_t inputShape[3];
  int classes;
  int numParams;
  const ParamInfo *params;
  // The Halide pipelines, called with an array of halide_buffer_t pointers (the AOT
  // "argv" entry points):
  //   trainStep: x, labels, [noise,] every parameter, then loss, correct, and for every
  //              parameter its gradient (trainable) or its next value (state)
  //   infer:     x, every parameter, then the class probabilities
  int (*trainStep)(void **args);
  int (*infer)(void **args);
  TrainDefaults defaults;
  // A build for a GPU target also has GPU variants of both pipelines (null otherwise); the
  // CPU ones above are always there, to fall back to.
  int (*trainStepGpu)(void **args);
  int (*inferGpu)(void **args);
  const char *target; // the Halide target it was compiled for
  // Inference compiled for exactly one example (x's batch extent must be 1), scheduled for
  // latency; the same arguments as infer. CPU only.
  int (*inferOne)(void **args);
  // For the run report (runtime/src/Report.h): `lenetc summary`'s table and `lenetc graph`'s
  // SVG drawing, made at build time ("" when there is none: Graphviz was missing). Null in a
  // ModelInfo written by hand.
  const char *summary;
  const char *graphSvg;
  // The training step normalizes with statistics of its whole batch (batchnorm): the trainer
  // calls it once per batch, not in micro-batches (unless asked for ghost batch norm).
  bool batchStatistics;
  // The training step takes a noise input after the labels (dropout): int32 [seed, the index
  // of the call's first example in the whole batch].
  bool noise;
  // The trainer's `export` (null: the model has an op without an ONNX form).
  const OnnxExportInfo *onnx;
};

// Whether the optimizer trains a parameter; the others are state (batchnorm's running
// statistics), whose next value the training step returns in place of a gradient.
inline bool isTrainable(const ParamInfo &p) {
  std::string_view role = p.role;
  return role != "running_mean" && role != "running_var";
}

// The pipelines' argument arrays, in the order above, from Halide::Runtime::Buffers (or
// anything with raw_buffer()): the one place that knows that order.
template <class X, class Params, class Out>
std::vector<void *> inferArgs(X &x, Params &params, Out &probs) {
  std::vector<void *> args{x.raw_buffer()};
  for (auto &p : params)
    args.push_back(p.raw_buffer());
  args.push_back(probs.raw_buffer());
  return args;
}

// `noise`: the noise buffer's raw_buffer() when the model has one (ModelInfo::noise), else null.
template <class X, class Y, class Params, class Loss, class Correct>
std::vector<void *> trainStepArgs(X &x, Y &labels, void *noise, Params &params, Loss &loss, Correct &correct,
                                  Params &grads) {
  std::vector<void *> args{x.raw_buffer(), labels.raw_buffer()};
  if (noise)
    args.push_back(noise);
  for (auto &p : params)
    args.push_back(p.raw_buffer());
  args.push_back(loss.raw_buffer());
  args.push_back(correct.raw_buffer());
  for (auto &g : grads)
    args.push_back(g.raw_buffer());
  return args;
}

} // namespace lenetc
