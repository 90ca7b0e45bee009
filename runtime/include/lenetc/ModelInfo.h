// What the generated glue tells the runtime about one compiled model: its input, its
// parameters (in the pipelines' argument order) and its two AOT pipelines.
// `lenetc compile` writes <model>_model.cpp defining one ModelInfo; the runtime reads it.
#pragma once

#include <cstdint>

namespace lenetc {

struct ParamInfo {
  const char *name;  // "c1.w"
  const char *role;  // "weight", "bias" or "coef"
  int rank;
  int64_t shape[4];  // outermost first, as the dialect writes it ([F, C, k, k])
  int64_t count;     // number of values
  int64_t fanIn;     // inputs feeding one output unit (for initialisers)
  int64_t fanOut;    // outputs one input unit feeds
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
  //   trainStep: x, labels, every parameter, then loss, correct, every parameter's gradient
  //   infer:     x, every parameter, then the class probabilities
  int (*trainStep)(void **args);
  int (*infer)(void **args);
};

} // namespace lenetc
