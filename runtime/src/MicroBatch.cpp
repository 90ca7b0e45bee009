#include "MicroBatch.h"

#include <algorithm>

namespace lenetc {

using Halide::Runtime::Buffer;

MicroBatchedStep::MicroBatchedStep(std::vector<Buffer<float>> &grads, int64_t microBatch)
    : grads_(grads), microBatch_(std::max<int64_t>(1, microBatch)) {}

int MicroBatchedStep::run(const Call &call, Buffer<float> &x, Buffer<int32_t> &y, std::vector<Buffer<float>> &params) {
  const int batchDim = x.dimensions() - 1;
  const int64_t n = x.dim(batchDim).extent();
  auto lossBuf = Buffer<float>::make_scalar();
  auto correctBuf = Buffer<int32_t>::make_scalar();
  loss_ = 0;
  correct_ = 0;
  // Balanced micro-batches (100 examples: 50 + 50, not 64 + 36), in order. One micro-batch
  // writes straight into the gradient buffers; more are summed there from `partial_`.
  const int64_t chunks = std::max<int64_t>(1, (n + microBatch_ - 1) / microBatch_);
  if (chunks > 1 && partial_.empty())
    for (Buffer<float> &g : grads_)
      partial_.push_back(Buffer<float>::make_with_shape_of(g));
  std::vector<Buffer<float>> &out = chunks > 1 ? partial_ : grads_;
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t first = c * n / chunks, count = (c + 1) * n / chunks - first;
    // Views of the micro-batch, its batch coordinates starting at 0 as a whole batch's do.
    Buffer<float> xc = x.cropped(batchDim, static_cast<int>(first), static_cast<int>(count));
    xc.translate(batchDim, -static_cast<int>(first));
    Buffer<int32_t> yc = y.cropped(0, static_cast<int>(first), static_cast<int>(count));
    yc.translate(0, -static_cast<int>(first));
    std::vector<void *> args = trainStepArgs(xc, yc, params, lossBuf, correctBuf, out);
    if (int rc = call(args, xc.raw_buffer(), yc.raw_buffer()); rc != 0)
      return rc;
    loss_ += chunks == 1 ? double(lossBuf()) : double(lossBuf()) * double(count) / double(n);
    correct_ += correctBuf();
    if (chunks == 1)
      break;
    // The batch's mean-loss gradient is the micro-batches' mean-loss gradients weighted by
    // their share of the examples.
    const float share = float(double(count) / double(n));
    for (size_t p = 0; p < grads_.size(); ++p) {
      float *total = grads_[p].data();
      const float *part = partial_[p].data();
      for (size_t i = 0, size = grads_[p].number_of_elements(); i < size; ++i)
        total[i] = (c == 0 ? 0.f : total[i]) + share * part[i];
    }
  }
  return 0;
}

} // namespace lenetc
