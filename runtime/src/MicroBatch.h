// A training step over a batch, run through the training-step pipeline in micro-batches.
// (A model whose step normalizes over its batch, batchnorm, runs it as one micro-batch: the
// trainer asks for micro-batches as large as its batches.)
//
// At batch 256 the pipeline's largest maps (C1's activation and its gradient for LeNet-5)
// fall out of the caches between the layers that write and read them; at 64 they stay in
// L2/L3. So a batch larger than the micro-batch runs as balanced micro-batches whose
// gradients are combined, weighted by size, into the gradient of the whole batch's mean
// loss: the same optimizer step as one call, up to float rounding.
//
// On several threads the micro-batches run side by side as tasks of the thread team
// (ThreadTeam.h), at least one per thread, each call's own parallel loops in order on its
// thread (MicroBatch.cpp says why; docs/design.md has the timings of both choices).
#pragma once

#include "lenetc/ModelInfo.h"

#include "HalideBuffer.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace lenetc {

class MicroBatchedStep {
public:
  // Calls the pipeline once with its argument array (trainStepArgs' order); x and y are the
  // call's input buffers (for a caller that must mark or free them). Returns its error code.
  // Micro-batches run concurrently on the thread team: a Call must be thread-safe.
  using Call = std::function<int(std::vector<void *> &args, halide_buffer_t *x, halide_buffer_t *y)>;

  // grads: the buffers the step's gradient goes to, one per parameter (as the pipeline's);
  // threads: the thread team's (setThreads), which runs the micro-batches; onePerThread: a
  // batch that fits in one micro-batch is split too, one per thread (not for a batch whose
  // statistics the step needs whole).
  MicroBatchedStep(std::vector<Halide::Runtime::Buffer<float>> &grads, int64_t microBatch, int threads = 1,
                   bool onePerThread = false);

  // One step on x's batch (its last dimension) and their labels y: leaves in the gradient
  // buffers the gradient of the mean loss over the batch; loss() is that mean loss and
  // correct() the number of examples classified right. Returns 0 or the first failing
  // call's error code.
  // noise: the model's noise input ({seed, index of x's first example in the whole batch})
  // or null; each micro-batch gets its own, its first example's index.
  int run(const Call &call, Halide::Runtime::Buffer<float> &x, Halide::Runtime::Buffer<int32_t> &y,
          std::vector<Halide::Runtime::Buffer<float>> &params, const int32_t *noise = nullptr);
  double loss() const { return loss_; }
  int64_t correct() const { return correct_; }

  // One micro-batch's call: its examples, its own buffer headers and its results.
  struct Chunk {
    int64_t first = 0, count = 0;
    Halide::Runtime::Buffer<float> x;
    Halide::Runtime::Buffer<int32_t> y;
    Halide::Runtime::Buffer<int32_t> noise; // empty: the model has none
    std::vector<Halide::Runtime::Buffer<float>> params;
    Halide::Runtime::Buffer<float> loss;
    Halide::Runtime::Buffer<int32_t> correct;
    std::vector<Halide::Runtime::Buffer<float>> *out = nullptr; // its gradient buffers
  };

private:
  std::vector<Halide::Runtime::Buffer<float>> &grads_;
  std::vector<std::vector<Halide::Runtime::Buffer<float>>> partials_; // per micro-batch
  std::vector<Chunk> chunks_;
  int64_t microBatch_;
  int threads_;
  bool onePerThread_;
  double loss_ = 0;
  int64_t correct_ = 0;
};

// Inference on x's batch into probs (classes x batch) on the CPU: the batch in balanced
// shares of at most 128 examples, their calls side by side on the thread team
// (ThreadTeam.h: sideBySide). The same bits on any number of threads; against one call on
// the whole batch, the same up to float rounding (a schedule's tiles of examples may round
// an example differently with the call's size). Returns 0 or the first failing call's error
// code.
int inferSideBySide(int (*infer)(void **), Halide::Runtime::Buffer<float> &x,
                    const std::vector<Halide::Runtime::Buffer<float>> &params, Halide::Runtime::Buffer<float> &probs);

} // namespace lenetc
