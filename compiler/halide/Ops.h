// The Halide algorithm of every op, forward and backward: what is computed, never how
// (schedules are apart, as in Halide's generators).
//
// Layout: Halide dimensions are innermost first, so a tensor the dialect writes [N, C, H, W]
// is the Func f(x, y, c, n) (PyTorch's contiguous NCHW memory order), a flat [N, F] is
// f(i, n), a conv weight [F, C, k, k] is w(kx, ky, c, f), a dense weight [U, I] is w(i, u),
// a table conv weight [connections, k, k] is w(kx, ky, j). The batch extent is a run-time
// value (`batch`): every pipeline works for any batch size without recompiling.
//
// Each function returns the Func it defines, named `name` (Halide names: see halideName);
// helper Funcs it needs are named `name` + "__" + what they are.
#pragma once

#include "Halide.h"
#include "dialect/Shapes.h"
#include "halide/Activations.h"

#include <string>
#include <vector>

namespace lenetc::hl {

// A model name ("c3.grad_w") as a Halide name ("c3__grad_w"): Halide reserves '.'.
std::string halideName(const std::string &modelName);

// Per-example geometry of a windowed op (conv, pooling, subsampling).
struct Window {
  int channels = 1, height = 1, width = 1; // of the input
  int size = 1, stride = 1, pad = 0;       // the kernel or pooling window
  int outHeight() const { return static_cast<int>(slidingExtent(height, pad, size, stride)); }
  int outWidth() const { return static_cast<int>(slidingExtent(width, pad, size, stride)); }
};

struct ConvSpec {
  Window window;
  int filters = 1;
  // Connection table: table[f] lists the input maps output map f reads (empty: all).
  std::vector<std::vector<int>> table;
  int connections() const;
};

// --- forward -------------------------------------------------------------------------
Halide::Func conv(const std::string &name, Halide::Func in, Halide::Func w, Halide::Func b,
                  const ConvSpec &s);
Halide::Func avgpool(const std::string &name, Halide::Func in, const Window &w);
Halide::Func maxpool(const std::string &name, Halide::Func in, const Window &w);
Halide::Func subsample(const std::string &name, Halide::Func in, Halide::Func coef, Halide::Func b,
                       const Window &w);
Halide::Func dense(const std::string &name, Halide::Func in, Halide::Func w, Halide::Func b, int inFeatures);
Halide::Func flatten(const std::string &name, Halide::Func in, int channels, int height, int width);
// An activation (halide/Activations.h) applied elementwise.
Halide::Func activation(const std::string &name, Halide::Func in, int rank, const ActivationFormula &f);
// Mean over the batch of -log softmax(logits)[label]: a scalar Func, loss().
Halide::Func softmaxCrossEntropy(const std::string &name, Halide::Func logits, Halide::Func labels,
                                 int classes, Halide::Expr batch);
Halide::Func softmax(const std::string &name, Halide::Func logits, int classes);
// How many examples the logits classify correctly (the first maximum wins): int32 scalar.
Halide::Func correctCount(const std::string &name, Halide::Func logits, Halide::Func labels, int classes,
                          Halide::Expr batch);
// The per-channel layout of a batchnorm's input: rank 4 (x, y, c, n) with its height and
// width, or rank 2 (i, n), a feature per channel.
struct ChannelLayout {
  int rank = 2, height = 1, width = 1;
};
// Training mode: normalized with the batch's statistics, helpers `mean`, `var` (biased) and
// `invstd` per channel (summed in double, two passes: the mean, then squared deviations).
Halide::Func batchNorm(const std::string &name, Halide::Func in, Halide::Func scale, Halide::Func shift,
                       const ChannelLayout &l, double eps, Halide::Expr batch);
// Inference mode: normalized with the running statistics.
Halide::Func batchNormInference(const std::string &name, Halide::Func in, Halide::Func scale, Halide::Func shift,
                                Halide::Func mean, Halide::Func var, const ChannelLayout &l, double eps);
// The next running statistic: (1 - momentum) old + momentum * stat * factor.
Halide::Func batchNormRunning(const std::string &name, Halide::Func old, Halide::Func stat, double momentum,
                              Halide::Expr factor);
// How many values each statistic is taken over: batch x height x width.
Halide::Expr batchNormCount(const ChannelLayout &l, Halide::Expr batch);
// Inverted dropout: helper `keep`, 1 / (1 - rate) or 0 per value, from `noise` = [seed, the
// batch's first example's index] hashed with the example's index and the value's.
Halide::Func dropout(const std::string &name, Halide::Func in, Halide::Func noise, const ChannelLayout &l,
                     double rate);
// The dropout mask's hash, as the tests' references compute it: a value in [0, 1).
Halide::Expr dropoutUniform(Halide::Expr seed, Halide::Expr example, Halide::Expr index);

// --- backward ------------------------------------------------------------------------
// Inputs of fewer channels than kFewChannels get the exact sum (helper `.dout`), others the
// sum along zero-padded rows (helper `.padded`).
constexpr int kFewChannels = 8;
Halide::Func convGradInput(const std::string &name, Halide::Func dout, Halide::Func w, const ConvSpec &s,
                           Halide::Expr batch);
Halide::Func convGradWeight(const std::string &name, Halide::Func dout, Halide::Func in, const ConvSpec &s,
                            Halide::Expr batch);
// dout summed over everything but the channel: rank 4 (x, y, c, n) or 2 (i, n).
Halide::Func biasGrad(const std::string &name, Halide::Func dout, int rank, int height, int width,
                      Halide::Expr batch);
Halide::Func denseGradInput(const std::string &name, Halide::Func dout, Halide::Func w, int units);
Halide::Func denseGradWeight(const std::string &name, Halide::Func dout, Halide::Func in, Halide::Expr batch);
Halide::Func avgpoolGrad(const std::string &name, Halide::Func dout, const Window &w);
Halide::Func maxpoolGrad(const std::string &name, Halide::Func dout, Halide::Func in, const Window &w);
Halide::Func subsampleGradInput(const std::string &name, Halide::Func dout, Halide::Func coef,
                                const Window &w);
Halide::Func subsampleGradCoef(const std::string &name, Halide::Func dout, Halide::Func in, const Window &w,
                               Halide::Expr batch);
Halide::Func flattenGrad(const std::string &name, Halide::Func dout, int height, int width);
// An activation's input gradient from dout, its input and its output.
Halide::Func activationGrad(const std::string &name, Halide::Func dout, Halide::Func in, Halide::Func out,
                            int rank, const ActivationFormula &f);
Halide::Func softmaxCrossEntropyGrad(const std::string &name, Halide::Func logits, Halide::Func labels,
                                     int classes, Halide::Expr batch);
Halide::Func add(const std::string &name, Halide::Func a, Halide::Func b, int rank);
// batchnorm's scale gradient, sum of dout * xhat (helper `sum`, in double), and its input's
// gradient, from the forward's statistics and its parameters' gradients (their sums).
Halide::Func batchNormGradScale(const std::string &name, Halide::Func dout, Halide::Func in, Halide::Func mean,
                                Halide::Func invstd, const ChannelLayout &l, Halide::Expr batch);
Halide::Func batchNormGradInput(const std::string &name, Halide::Func dout, Halide::Func in, Halide::Func mean,
                                Halide::Func invstd, Halide::Func scale, Halide::Func gradScale,
                                Halide::Func gradShift, const ChannelLayout &l, Halide::Expr batch);
Halide::Func dropoutGrad(const std::string &name, Halide::Func dout, Halide::Func keep, int rank);

// The pure variables of a rank-4 (x, y, c, n) or rank-2 (i, n) activation Func.
std::vector<Halide::Var> activationVars(int rank);

} // namespace lenetc::hl
