#include "MicroBatch.h"

#include "ThreadTeam.h"

#include "HalideRuntime.h"

#include <algorithm>

namespace lenetc {

using Halide::Runtime::Buffer;

MicroBatchedStep::MicroBatchedStep(std::vector<Buffer<float>> &grads, int64_t microBatch, int threads,
                                   bool onePerThread)
    : grads_(grads), microBatch_(std::max<int64_t>(1, microBatch)), threads_(std::max(1, threads)),
      onePerThread_(onePerThread) {}

namespace {

// Examples [first, first + count) of a batch (its last dimension), their coordinates
// starting at 0 as a whole batch's do.
template <typename T> Buffer<T> examples(const Buffer<T> &batch, int64_t first, int64_t count) {
  const int last = batch.dimensions() - 1;
  Buffer<T> view = batch.cropped(last, static_cast<int>(first), static_cast<int>(count));
  view.translate(last, -static_cast<int>(first));
  return view;
}

int callChunk(const MicroBatchedStep::Call &call, MicroBatchedStep::Chunk &k) {
  std::vector<void *> args =
      trainStepArgs(k.x, k.y, k.noise.data() ? k.noise.raw_buffer() : nullptr, k.params, k.loss, k.correct, *k.out);
  return call(args, k.x.raw_buffer(), k.y.raw_buffer());
}

} // namespace

int MicroBatchedStep::run(const Call &call, Buffer<float> &x, Buffer<int32_t> &y, std::vector<Buffer<float>> &params,
                          const int32_t *noise) {
  const int64_t n = x.dim(x.dimensions() - 1).extent();
  // Balanced micro-batches (100 examples: 50 + 50, not 64 + 36), in order, as many as keep
  // every thread busy (130 on 2 threads: 4 x 32-33, not 3 x 43-44; with onePerThread, 64 on
  // 2 threads: 2 x 32).
  int64_t count = std::max<int64_t>(1, (n + microBatch_ - 1) / microBatch_);
  if (count > 1 || onePerThread_)
    count = std::min(n, (count + threads_ - 1) / threads_ * threads_);
  // One micro-batch writes straight into the gradient buffers; more write their own and are
  // summed there.
  while (partials_.size() < (count > 1 ? size_t(count) : 0)) {
    partials_.emplace_back();
    for (Buffer<float> &g : grads_)
      partials_.back().push_back(Buffer<float>::make_with_shape_of(g));
  }
  chunks_.resize(static_cast<size_t>(count));
  for (int64_t c = 0; c < count; ++c) {
    Chunk &k = chunks_[static_cast<size_t>(c)];
    k.first = c * n / count;
    k.count = (c + 1) * n / count - k.first;
    k.x = examples(x, k.first, k.count);
    k.y = examples(y, k.first, k.count);
    // Each call gets its own buffer headers for the shared parameters: a call marks its
    // inputs' host_dirty flags, and concurrent calls must not write the same header.
    k.params.assign(params.begin(), params.end());
    if (noise) {
      if (!k.noise.data())
        k.noise = Buffer<int32_t>(2);
      k.noise(0) = noise[0];
      k.noise(1) = noise[1] + static_cast<int32_t>(k.first);
    }
    if (!k.loss.data()) {
      k.loss = Buffer<float>::make_scalar();
      k.correct = Buffer<int32_t>::make_scalar();
    }
    k.out = count > 1 ? &partials_[static_cast<size_t>(c)] : &grads_;
  }
  if (count == 1) {
    // One call: the pipeline's own parallel loops use every thread.
    if (int rc = callChunk(call, chunks_[0]); rc != 0)
      return rc;
  } else {
    // Several: each runs whole as one task of the thread team, its parallel loops in order
    // on its thread (ThreadTeam.h). Both threads inside one call share its ~25 parallel
    // loops of microsecond tasks; micro-batches side by side share nothing but the
    // parameters.
    if (int rc = sideBySide(static_cast<int>(count), [&](int c) { return callChunk(call, chunks_[size_t(c)]); });
        rc != 0)
      return rc;
  }
  loss_ = 0;
  correct_ = 0;
  for (int64_t c = 0; c < count; ++c) {
    const Chunk &k = chunks_[static_cast<size_t>(c)];
    loss_ += count == 1 ? double(k.loss()) : double(k.loss()) * double(k.count) / double(n);
    correct_ += k.correct();
  }
  if (count == 1)
    return 0;
  // The batch's mean-loss gradient is the micro-batches' mean-loss gradients weighted by
  // their share of the examples, summed in micro-batch order (whichever thread ran them), in
  // blocks that stay in L1 while every micro-batch's part is added; each thread sums its own
  // range of every gradient (each value's sum in the same order: the same bits on any number
  // of threads), where one thread summing them all left the others idle.
  std::vector<float> shares;
  for (const Chunk &k : chunks_)
    shares.push_back(float(double(k.count) / double(n)));
  return sideBySide(threads_, [&](int t) {
    const size_t block = 1024;
    for (size_t p = 0; p < grads_.size(); ++p) {
      const size_t size = grads_[p].number_of_elements();
      const size_t begin = size * size_t(t) / size_t(threads_), end = size * size_t(t + 1) / size_t(threads_);
      float *total = grads_[p].data();
      for (size_t b = begin; b < end; b += block)
        for (int64_t c = 0; c < count; ++c) {
          const float share = shares[static_cast<size_t>(c)];
          const float *part = partials_[static_cast<size_t>(c)][p].data();
          for (size_t i = b, e = std::min(end, b + block); i < e; ++i)
            total[i] = (c == 0 ? 0.f : total[i]) + share * part[i];
        }
    }
    return 0;
  });
}

int inferSideBySide(int (*infer)(void **), Buffer<float> &x, const std::vector<Buffer<float>> &params,
                    Buffer<float> &probs) {
  const int n = x.dim(x.dimensions() - 1).extent();
  // Balanced shares of at most 128 examples, whatever the threads: an example's
  // probabilities can differ in the last bit with the size of the call it is in (a
  // schedule's tiles of examples), never with the number of threads. (Shares of 64 cost 3%
  // on one thread against one call; of 128, 0.5%.)
  const int64_t most = 128;
  const int shares = static_cast<int>(std::max<int64_t>(1, (n + most - 1) / most));
  struct Share {
    Buffer<float> x, probs;
    std::vector<Buffer<float>> params; // its own headers, as a micro-batch's
  };
  std::vector<Share> s(static_cast<size_t>(shares));
  for (int k = 0; k < shares; ++k) {
    const int first = n * k / shares, count = n * (k + 1) / shares - first;
    Share &share = s[static_cast<size_t>(k)];
    share.x = examples(x, first, count);
    share.probs = examples(probs, first, count);
    share.params.assign(params.begin(), params.end());
  }
  return sideBySide(shares, [&](int k) {
    Share &share = s[static_cast<size_t>(k)];
    std::vector<void *> args = inferArgs(share.x, share.params, share.probs);
    return infer(args.data());
  });
}

} // namespace lenetc
