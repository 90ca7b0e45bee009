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

// A pipeline JIT-compiled for its target with its inputs bound (as bindTrainingScaleInputs),
// ready to be called again and again. Halide's errors come out of compile and call as
// Halide::Error.
class CompiledPipeline {
public:
  // Takes `p` (its ImageParams stay bound to this object's buffers); one warm-up call.
  // `serial`: its parallel loops run in order on the calling thread, as the trainer runs
  // each micro-batch of a larger batch (runtime/src/MicroBatch.h).
  CompiledPipeline(LoweredPipeline p, int batch, bool serial = false);
  double callMs(); // one call's wall time
  double compileSeconds() const { return compileSeconds_; }

private:
  LoweredPipeline p_;
  PipelineBuffers buffers_;
  Halide::Pipeline pipeline_;
  Halide::Realization outputs_;
  double compileSeconds_ = 0;
};

// JIT-compiles `p` for its target and times one call at `batch` examples: one warm-up call,
// then `samples` timed calls; the median and the fastest. False, with `error`, when Halide
// cannot compile or run the pipeline with its schedule.
// `serial` as CompiledPipeline's.
bool timePipeline(LoweredPipeline &p, int batch, int samples, Timing &out, std::string &error, bool serial = false);

// `candidate`'s time over `reference`'s: the median ratio of neighbouring calls, their calls
// alternated (`samples` of each): on a shared machine whose speed changes by 1.5-2x within
// seconds (docs/schedules.md), both then see the same conditions and their ratio holds
// where their times do not.
// `referenceFastest`, if given, is lowered to the reference's fastest call.
double timeRatio(CompiledPipeline &candidate, CompiledPipeline &reference, int samples,
                 double *referenceFastest = nullptr);

} // namespace lenetc
