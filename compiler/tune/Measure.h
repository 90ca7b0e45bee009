// Timing a lowered pipeline on this machine: JIT-compiled, fed random inputs of the model's
// shapes, called repeatedly. lenetc time and lenetc autotune measure with it.
#pragma once

#include "halide/Lower.h"

#include <string>
#include <vector>

namespace lenetc {

struct Timing {
  double medianMs = 0, minMs = 0;
  int samples = 0;
  double compileSeconds = 0;
};

// Binds `p`'s inputs to fresh buffers of `batch` examples holding inputs like a training
// run's (fixed pseudo-random values from `seed`) and returns them with buffers for its
// outputs. The input buffers must outlive the calls; reset p.inputs afterwards.
struct PipelineBuffers {
  std::vector<Halide::Buffer<>> inputs, outputs;
};
PipelineBuffers bindTrainingScaleInputs(LoweredPipeline &p, int batch, unsigned seed);

// Sets the number of Halide worker threads for JIT-compiled pipelines (before the first call).
void setJitThreads(int threads);

// JIT-compiles `p` for its target and times one call at `batch` examples: one warm-up call,
// then `samples` timed calls; the median and the fastest. False, with `error`, when Halide
// cannot compile or run the pipeline with its schedule.
bool timePipeline(LoweredPipeline &p, int batch, int samples, Timing &out, std::string &error);

} // namespace lenetc
