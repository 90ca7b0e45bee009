// A training step over a batch, run through the training-step pipeline in micro-batches.
//
// At batch 256 the pipeline's largest maps (C1's activation and its gradient, 4.8 MB each
// for LeNet-5) fall out of the caches between the layers that write and read them; at 64
// they stay in L2/L3. LeNet-5 at batch 256 (AMD EPYC, 2 cores, 2026-12-02; lenetc_bench
// --micro-batch 0 / 64 / 32 alternated three times, median examples/s): 1 thread 16,100-
// 16,900 as one call, 17,100-20,600 in 64s, 19,600-20,400 in 32s; 2 threads 26,400-31,500,
// 32,900-35,600 and 24,700-30,200 (32 is too little work per parallel loop). So a batch
// larger than the micro-batch runs as balanced micro-batches whose gradients are combined,
// weighted by size, into the gradient of the whole batch's mean loss: the same optimizer
// step as one call, up to float rounding.
#pragma once

#include "lenetc/ModelInfo.h"

#include "HalideBuffer.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace lenetc {

// The micro-batch of the CPU pipelines. (A GPU wants its batches whole.)
constexpr int64_t kMicroBatch = 64;

class MicroBatchedStep {
public:
  // Calls the pipeline once with its argument array (trainStepArgs' order); x and y are the
  // call's input buffers (for a caller that must mark or free them). Returns its error code.
  using Call = std::function<int(std::vector<void *> &args, halide_buffer_t *x, halide_buffer_t *y)>;

  // grads: the buffers the step's gradient goes to, one per parameter (as the pipeline's).
  MicroBatchedStep(std::vector<Halide::Runtime::Buffer<float>> &grads, int64_t microBatch);

  // One step on x's batch (its last dimension) and their labels y: leaves in the gradient
  // buffers the gradient of the mean loss over the batch; loss() is that mean loss and
  // correct() the number of examples classified right. Returns 0 or the first failing
  // call's error code.
  int run(const Call &call, Halide::Runtime::Buffer<float> &x, Halide::Runtime::Buffer<int32_t> &y,
          std::vector<Halide::Runtime::Buffer<float>> &params);
  double loss() const { return loss_; }
  int64_t correct() const { return correct_; }

private:
  std::vector<Halide::Runtime::Buffer<float>> &grads_;
  std::vector<Halide::Runtime::Buffer<float>> partial_; // one micro-batch's gradient
  int64_t microBatch_;
  double loss_ = 0;
  int64_t correct_ = 0;
};

} // namespace lenetc
