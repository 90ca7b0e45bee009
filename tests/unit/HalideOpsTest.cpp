// Every op's Halide algorithm (JIT-compiled, default inline schedule) against three
// independent oracles:
//   1. forward: the naive C++ reference (tests/reference), in float;
//      tolerance |halide - ref| <= 1e-5 (1 + |ref|);
//   2. gradients: central finite differences of the double-precision reference
//      (eps 1e-6) of L = sum(dout * f(...)); tolerance |halide - fd| <= 1e-4 (1 + |fd|);
//   3. gradients: Halide's own propagate_adjoints on the forward Funcs; same tolerance.
// Shapes cover padding, strides, odd sizes (floored pooling), overlapping windows and
// connection tables.
#include "dialect/Dialect.h"
#include "dialect/MLIRGen.h"
#include "halide/Ops.h"

#include "../reference/Reference.h"

#include <gtest/gtest.h>

#include <set>

using namespace Halide;
using ref::Tensor;
namespace hl = lenetc::hl;

namespace {

// --- conversions between reference tensors (NCHW) and Halide (dimensions reversed) ------

Buffer<float> toBuffer(const Tensor<double> &t) {
  std::vector<int> dims(t.shape.rbegin(), t.shape.rend());
  Buffer<float> b(dims);
  float *p = b.data();
  for (size_t i = 0; i < t.data.size(); ++i)
    p[i] = static_cast<float>(t.data[i]);
  return b;
}

Func toFunc(const Tensor<double> &t, const std::string &name) {
  Buffer<float> b = toBuffer(t);
  Func f(name);
  f(_) = b(_);
  return f;
}

Func labelFunc(const std::vector<int> &labels) {
  Buffer<int32_t> b(static_cast<int>(labels.size()));
  for (size_t i = 0; i < labels.size(); ++i)
    b(static_cast<int>(i)) = labels[i];
  Func f("labels");
  f(_) = b(_);
  return f;
}

Tensor<double> realize(Func f, const std::vector<int> &shape) {
  std::vector<int> dims(shape.rbegin(), shape.rend());
  Buffer<float> b = f.realize(dims);
  Tensor<double> t(shape);
  for (size_t i = 0; i < t.data.size(); ++i)
    t.data[i] = b.data()[i];
  return t;
}

double realizeScalar(Func f) {
  Buffer<float> b = f.realize();
  return b();
}

void expectClose(const Tensor<double> &got, const Tensor<double> &want, double tol, const std::string &what) {
  ASSERT_EQ(got.shape, want.shape) << what;
  size_t bad = 0, worst = 0;
  double worstErr = 0;
  for (size_t i = 0; i < got.data.size(); ++i) {
    double err = std::abs(got.data[i] - want.data[i]) / (1 + std::abs(want.data[i]));
    if (err > tol)
      ++bad;
    if (err > worstErr) {
      worstErr = err;
      worst = i;
    }
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << got.data.size() << " entries off; worst at " << worst
                     << ": got " << got.data[worst] << ", want " << want.data[worst];
}

constexpr double kForwardTol = 1e-5;
constexpr double kGradTol = 1e-4;

Tensor<double> asFloat(const Tensor<double> &t) { // what the float pipeline sees
  Tensor<double> r = t;
  for (auto &v : r.data)
    v = static_cast<float>(v);
  return r;
}

// Halide's autodiff: the adjoints of `wrt` for out = f(...), seeded with `dout`.
std::vector<Tensor<double>> adjoints(Func out, const Tensor<double> &dout, const std::vector<Func> &wrt,
                                     const std::vector<std::vector<int>> &shapes) {
  std::vector<int> dims(dout.shape.rbegin(), dout.shape.rend());
  Region bounds, inclusive;
  for (int d : dims) {
    bounds.push_back({0, d});
    inclusive.push_back({0, d - 1}); // propagate_adjoints' region is {min, max} (notes/halide14.md)
  }
  Func seed = BoundaryConditions::constant_exterior(toFunc(dout, "seed"), 0.f, bounds);
  Derivative d = propagate_adjoints(out, seed, inclusive);
  std::vector<Tensor<double>> result;
  for (size_t i = 0; i < wrt.size(); ++i)
    result.push_back(realize(d(wrt[i]), shapes[i]));
  return result;
}

// --- conv ---------------------------------------------------------------------------

struct ConvCase {
  int n, c, h, w, filters, k, stride, pad;
  std::vector<std::vector<int>> table;
};

std::string describe(const ConvCase &cc) {
  return "conv c" + std::to_string(cc.c) + " " + std::to_string(cc.h) + "x" + std::to_string(cc.w) + " f" +
         std::to_string(cc.filters) + " k" + std::to_string(cc.k) + " s" + std::to_string(cc.stride) + " p" +
         std::to_string(cc.pad) + (cc.table.empty() ? "" : " table");
}

const std::vector<ConvCase> &convCases() {
  static const std::vector<ConvCase> cases = {
      {2, 1, 8, 8, 3, 5, 1, 2, {}},                            // LeNet-5 C1-like, padded
      {2, 2, 7, 7, 3, 3, 1, 0, {}},                            // odd size, no padding
      {2, 2, 9, 9, 2, 3, 2, 1, {}},                            // stride 2 with padding
      {1, 3, 6, 6, 2, 2, 3, 0, {}},                            // stride larger than the kernel
      {2, 3, 7, 7, 4, 3, 1, 0, {{0}, {1, 2}, {0, 1, 2}, {2}}}, // connection table
      {1, 3, 8, 8, 2, 3, 2, 1, {{2, 0}, {1}}},                 // table, stride and padding
      // Fewer output positions than window offsets (the input gradient sums over dout's):
      {2, 3, 5, 5, 4, 5, 1, 0, {}},                            // classic C5-like: one position
      {2, 2, 6, 6, 3, 5, 1, 1, {}},                            // 4x4 outputs, padded
      {1, 3, 5, 5, 2, 4, 1, 0, {{0, 2}, {1}}},                 // 2x2 outputs, table
      // At least hl::kFewChannels input channels: the input gradient along zero-padded rows
      // (fewer: the exact sum, every case above).
      {2, 8, 7, 7, 3, 3, 1, 1, {}},                            // padded
      {1, 9, 8, 8, 2, 3, 2, 0, {}},                            // stride 2
  };
  return cases;
}

struct ConvData {
  Tensor<double> in, w, b; // w: [F, C, k, k] or [connections, k, k]
};

ConvData convData(const ConvCase &cc, std::mt19937 &rng) {
  ConvData d;
  d.in = asFloat(ref::random<double>({cc.n, cc.c, cc.h, cc.w}, rng));
  int connections = 0;
  for (const auto &row : cc.table)
    connections += static_cast<int>(row.size());
  d.w = asFloat(cc.table.empty() ? ref::random<double>({cc.filters, cc.c, cc.k, cc.k}, rng, -0.5, 0.5)
                                 : ref::random<double>({connections, cc.k, cc.k}, rng, -0.5, 0.5));
  d.b = asFloat(ref::random<double>({cc.filters}, rng));
  return d;
}

hl::ConvSpec spec(const ConvCase &cc) {
  hl::ConvSpec s;
  s.window = {cc.c, cc.h, cc.w, cc.k, cc.stride, cc.pad};
  s.filters = cc.filters;
  s.table = cc.table;
  return s;
}

Tensor<double> refConv(const ConvCase &cc, const Tensor<double> &in, const Tensor<double> &w,
                       const Tensor<double> &b) {
  return ref::conv(in, cc.table.empty() ? w : ref::expandTable(w, cc.table, cc.c), b, cc.stride, cc.pad);
}

TEST(HalideOps, ConvForward) {
  std::mt19937 rng(1);
  for (const auto &cc : convCases()) {
    ConvData d = convData(cc, rng);
    Tensor<double> want = refConv(cc, d.in, d.w, d.b);
    Func out = hl::conv("c", toFunc(d.in, "in"), toFunc(d.w, "w"), toFunc(d.b, "b"), spec(cc));
    expectClose(realize(out, want.shape), want, kForwardTol, describe(cc));
  }
}

TEST(HalideOps, ConvGradients) {
  std::mt19937 rng(2);
  for (const auto &cc : convCases()) {
    ConvData d = convData(cc, rng);
    Tensor<double> out = refConv(cc, d.in, d.w, d.b);
    Tensor<double> dout = asFloat(ref::random<double>(out.shape, rng));
    Expr batch = cc.n;
    Func fin = toFunc(d.in, "in"), fw = toFunc(d.w, "w"), fb = toFunc(d.b, "b"), fdout = toFunc(dout, "dout");
    Tensor<double> gin = realize(hl::convGradInput("gi", fdout, fw, spec(cc), batch), d.in.shape);
    Tensor<double> gw = realize(hl::convGradWeight("gw", fdout, fin, spec(cc), batch), d.w.shape);
    Tensor<double> gb = realize(hl::biasGrad("gb", fdout, 4, out.shape[2], out.shape[3], batch), d.b.shape);

    auto fdIn =
        ref::finiteDifference(d.in, dout, [&](const Tensor<double> &v) { return refConv(cc, v, d.w, d.b); });
    auto fdW =
        ref::finiteDifference(d.w, dout, [&](const Tensor<double> &v) { return refConv(cc, d.in, v, d.b); });
    auto fdB =
        ref::finiteDifference(d.b, dout, [&](const Tensor<double> &v) { return refConv(cc, d.in, d.w, v); });
    expectClose(gin, fdIn, kGradTol, describe(cc) + " d/dinput vs finite differences");
    expectClose(gw, fdW, kGradTol, describe(cc) + " d/dweight vs finite differences");
    expectClose(gb, fdB, kGradTol, describe(cc) + " d/dbias vs finite differences");

    Func fwd = hl::conv("c", fin, fw, fb, spec(cc));
    auto ad = adjoints(fwd, dout, {fin, fw, fb}, {d.in.shape, d.w.shape, d.b.shape});
    expectClose(gin, ad[0], kGradTol, describe(cc) + " d/dinput vs propagate_adjoints");
    expectClose(gw, ad[1], kGradTol, describe(cc) + " d/dweight vs propagate_adjoints");
    expectClose(gb, ad[2], kGradTol, describe(cc) + " d/dbias vs propagate_adjoints");
  }
}

// --- pooling and subsampling -----------------------------------------------------------

struct PoolCase {
  int n, c, h, w, size, stride;
};

const std::vector<PoolCase> &poolCases() {
  static const std::vector<PoolCase> cases = {
      {2, 3, 8, 8, 2, 2}, // LeNet
      {2, 2, 7, 7, 2, 2}, // odd size: the last row and column are dropped
      {1, 2, 9, 9, 3, 2}, // overlapping windows
      {1, 1, 5, 5, 2, 3}, // gaps between windows
  };
  return cases;
}

std::string describe(const PoolCase &p) {
  return std::to_string(p.h) + "x" + std::to_string(p.w) + " size " + std::to_string(p.size) + " stride " +
         std::to_string(p.stride);
}

hl::Window window(const PoolCase &p) { return {p.c, p.h, p.w, p.size, p.stride, 0}; }

TEST(HalideOps, PoolingForward) {
  std::mt19937 rng(3);
  for (const auto &p : poolCases()) {
    Tensor<double> in = asFloat(ref::random<double>({p.n, p.c, p.h, p.w}, rng));
    Tensor<double> coef = asFloat(ref::random<double>({p.c}, rng)),
                   b = asFloat(ref::random<double>({p.c}, rng));
    Func fin = toFunc(in, "in");
    Tensor<double> avg = ref::pool(in, p.size, p.stride, ref::Pool::Avg);
    expectClose(realize(hl::avgpool("a", fin, window(p)), avg.shape), avg, kForwardTol,
                "avgpool " + describe(p));
    Tensor<double> mx = ref::pool(in, p.size, p.stride, ref::Pool::Max);
    expectClose(realize(hl::maxpool("m", fin, window(p)), mx.shape), mx, kForwardTol,
                "maxpool " + describe(p));
    Tensor<double> sub = ref::subsample(in, coef, b, p.size, p.stride);
    expectClose(realize(hl::subsample("s", fin, toFunc(coef, "coef"), toFunc(b, "b"), window(p)), sub.shape),
                sub, kForwardTol, "subsample " + describe(p));
  }
}

TEST(HalideOps, PoolingGradients) {
  std::mt19937 rng(4);
  for (const auto &p : poolCases()) {
    Tensor<double> in = asFloat(ref::random<double>({p.n, p.c, p.h, p.w}, rng));
    Tensor<double> coef = asFloat(ref::random<double>({p.c}, rng)),
                   b = asFloat(ref::random<double>({p.c}, rng));
    Tensor<double> out = ref::pool(in, p.size, p.stride, ref::Pool::Avg);
    Tensor<double> dout = asFloat(ref::random<double>(out.shape, rng));
    Func fin = toFunc(in, "in"), fdout = toFunc(dout, "dout"), fcoef = toFunc(coef, "coef"),
         fb = toFunc(b, "b");
    Expr batch = p.n;

    // average pooling
    Tensor<double> g = realize(hl::avgpoolGrad("ga", fdout, window(p)), in.shape);
    expectClose(g,
                ref::finiteDifference(
                    in, dout,
                    [&](const Tensor<double> &v) { return ref::pool(v, p.size, p.stride, ref::Pool::Avg); }),
                kGradTol, "avgpool grad vs finite differences " + describe(p));
    expectClose(g, adjoints(hl::avgpool("a", fin, window(p)), dout, {fin}, {in.shape})[0], kGradTol,
                "avgpool grad vs propagate_adjoints " + describe(p));

    // max pooling (random inputs: no ties, so the maximum is unique and differentiable)
    g = realize(hl::maxpoolGrad("gm", fdout, fin, window(p)), in.shape);
    expectClose(g,
                ref::finiteDifference(
                    in, dout,
                    [&](const Tensor<double> &v) { return ref::pool(v, p.size, p.stride, ref::Pool::Max); }),
                kGradTol, "maxpool grad vs finite differences " + describe(p));
    expectClose(g, adjoints(hl::maxpool("m", fin, window(p)), dout, {fin}, {in.shape})[0], kGradTol,
                "maxpool grad vs propagate_adjoints " + describe(p));

    // trainable subsampling: input, coefficient, bias
    Tensor<double> gi = realize(hl::subsampleGradInput("gsi", fdout, fcoef, window(p)), in.shape);
    Tensor<double> gc = realize(hl::subsampleGradCoef("gsc", fdout, fin, window(p), batch), coef.shape);
    Tensor<double> gb = realize(hl::biasGrad("gsb", fdout, 4, out.shape[2], out.shape[3], batch), b.shape);
    auto sub = [&](const Tensor<double> &i, const Tensor<double> &c, const Tensor<double> &bb) {
      return ref::subsample(i, c, bb, p.size, p.stride);
    };
    expectClose(gi, ref::finiteDifference(in, dout, [&](const Tensor<double> &v) { return sub(v, coef, b); }),
                kGradTol, "subsample d/dinput " + describe(p));
    expectClose(gc, ref::finiteDifference(coef, dout, [&](const Tensor<double> &v) { return sub(in, v, b); }),
                kGradTol, "subsample d/dcoef " + describe(p));
    expectClose(gb, ref::finiteDifference(b, dout, [&](const Tensor<double> &v) { return sub(in, coef, v); }),
                kGradTol, "subsample d/dbias " + describe(p));
    auto ad = adjoints(hl::subsample("s", fin, fcoef, fb, window(p)), dout, {fin, fcoef, fb},
                       {in.shape, coef.shape, b.shape});
    expectClose(gi, ad[0], kGradTol, "subsample d/dinput vs propagate_adjoints " + describe(p));
    expectClose(gc, ad[1], kGradTol, "subsample d/dcoef vs propagate_adjoints " + describe(p));
    expectClose(gb, ad[2], kGradTol, "subsample d/dbias vs propagate_adjoints " + describe(p));
  }
}

// --- dense and flatten ------------------------------------------------------------------

TEST(HalideOps, DenseForwardAndGradients) {
  std::mt19937 rng(5);
  const int N = 3, I = 7, U = 5;
  Tensor<double> in = asFloat(ref::random<double>({N, I}, rng)),
                 w = asFloat(ref::random<double>({U, I}, rng));
  Tensor<double> b = asFloat(ref::random<double>({U}, rng));
  Func fin = toFunc(in, "in"), fw = toFunc(w, "w"), fb = toFunc(b, "b");
  Tensor<double> want = ref::dense(in, w, b);
  expectClose(realize(hl::dense("d", fin, fw, fb, I), want.shape), want, kForwardTol, "dense");

  Tensor<double> dout = asFloat(ref::random<double>(want.shape, rng));
  Func fdout = toFunc(dout, "dout");
  Tensor<double> gi = realize(hl::denseGradInput("gi", fdout, fw, U), in.shape);
  Tensor<double> gw = realize(hl::denseGradWeight("gw", fdout, fin, N), w.shape);
  Tensor<double> gb = realize(hl::biasGrad("gb", fdout, 2, 1, 1, N), b.shape);
  expectClose(gi,
              ref::finiteDifference(in, dout, [&](const Tensor<double> &v) { return ref::dense(v, w, b); }),
              kGradTol, "dense d/dinput");
  expectClose(gw,
              ref::finiteDifference(w, dout, [&](const Tensor<double> &v) { return ref::dense(in, v, b); }),
              kGradTol, "dense d/dweight");
  expectClose(gb,
              ref::finiteDifference(b, dout, [&](const Tensor<double> &v) { return ref::dense(in, w, v); }),
              kGradTol, "dense d/dbias");
  auto ad = adjoints(hl::dense("d", fin, fw, fb, I), dout, {fin, fw, fb}, {in.shape, w.shape, b.shape});
  expectClose(gi, ad[0], kGradTol, "dense d/dinput vs propagate_adjoints");
  expectClose(gw, ad[1], kGradTol, "dense d/dweight vs propagate_adjoints");
  expectClose(gb, ad[2], kGradTol, "dense d/dbias vs propagate_adjoints");
}

// --- batchnorm and dropout ----------------------------------------------------------------

// A helper Func an op's algorithm made (`bn__mean`), as the lowering finds it: among the
// Funcs it calls, by name (Halide appends `$N` to a name made again).
Func helperOf(Func f, const std::string &name) {
  std::string names;
  for (const auto &[n, function] : Internal::find_transitive_calls(f.function())) {
    if (n == name || n.rfind(name + "$", 0) == 0)
      return Func(function);
    names += " " + n;
  }
  throw std::runtime_error("no helper " + name + " among" + names);
}

TEST(HalideOps, BatchNormTrainingForwardGradientsAndRunningStatistics) {
  std::mt19937 rng(11);
  const double eps = 1e-5, momentum = 0.1;
  for (std::vector<int> shape : {std::vector<int>{3, 2, 3, 4}, std::vector<int>{5, 4}}) {
    const int N = shape[0], C = shape[1];
    std::string what = shape.size() == 4 ? "batchnorm [N, C, H, W]" : "batchnorm [N, F]";
    hl::ChannelLayout l;
    l.rank = static_cast<int>(shape.size());
    if (l.rank == 4) {
      l.height = shape[2];
      l.width = shape[3];
    }
    // Inputs away from 0 and of a spread of their own per channel, as a conv's output.
    Tensor<double> in = asFloat(ref::random<double>(shape, rng, 0.5, 3.0));
    Tensor<double> scale = asFloat(ref::random<double>({C}, rng, 0.5, 1.5)), shift = asFloat(ref::random<double>({C}, rng));
    Func fin = toFunc(in, "in"), fscale = toFunc(scale, "scale"), fshift = toFunc(shift, "shift");
    Func out = hl::batchNorm("bn", fin, fscale, fshift, l, eps, N);
    Tensor<double> mean({C}), var({C});
    Tensor<double> want = ref::batchNorm<double>(in, scale, shift, eps, nullptr, nullptr, &mean, &var);
    expectClose(realize(out, want.shape), want, kForwardTol, what);

    // Gradients: dout weighted so that the sums over the batch do not cancel by symmetry.
    Tensor<double> dout = asFloat(ref::random<double>(want.shape, rng));
    Func fdout = toFunc(dout, "dout");
    Func fmean = helperOf(out, "bn__mean"), finvstd = helperOf(out, "bn__invstd");
    Func gscale = hl::batchNormGradScale("gscale", fdout, fin, fmean, finvstd, l, N);
    Func gshift = hl::biasGrad("gshift", fdout, l.rank, l.height, l.width, N);
    Func gin = hl::batchNormGradInput("gin", fdout, fin, fmean, finvstd, fscale, helperOf(gscale, "gscale__sum"),
                                      helperOf(gshift, "gshift__sum"), l, N);
    Tensor<double> gi = realize(gin, in.shape), gs = realize(gscale, scale.shape), gb = realize(gshift, shift.shape);
    auto f = [&](const Tensor<double> &i, const Tensor<double> &s, const Tensor<double> &b) {
      return ref::batchNorm(i, s, b, eps);
    };
    expectClose(gi, ref::finiteDifference(in, dout, [&](const Tensor<double> &v) { return f(v, scale, shift); }),
                kGradTol, what + " d/dinput");
    expectClose(gs, ref::finiteDifference(scale, dout, [&](const Tensor<double> &v) { return f(in, v, shift); }),
                kGradTol, what + " d/dscale");
    expectClose(gb, ref::finiteDifference(shift, dout, [&](const Tensor<double> &v) { return f(in, scale, v); }),
                kGradTol, what + " d/dshift");
    auto ad = adjoints(out, dout, {fin, fscale, fshift}, {in.shape, scale.shape, shift.shape});
    expectClose(gi, ad[0], kGradTol, what + " d/dinput vs propagate_adjoints");
    expectClose(gs, ad[1], kGradTol, what + " d/dscale vs propagate_adjoints");
    expectClose(gb, ad[2], kGradTol, what + " d/dshift vs propagate_adjoints");

    // The running statistics move toward the batch's mean and unbiased variance.
    Tensor<double> oldMean = asFloat(ref::random<double>({C}, rng)), oldVar = asFloat(ref::random<double>({C}, rng, 0.5, 2));
    double count = double(in.count() / size_t(C));
    Func nextMean = hl::batchNormRunning("next_mean", toFunc(oldMean, "old_mean"), fmean, momentum, Expr(1.0));
    Func nextVar = hl::batchNormRunning("next_var", toFunc(oldVar, "old_var"), helperOf(out, "bn__var"), momentum,
                                        Expr(count / (count - 1)));
    Tensor<double> wantMean({C}), wantVar({C});
    for (int c = 0; c < C; ++c) {
      wantMean.data[c] = (1 - momentum) * oldMean.data[c] + momentum * mean.data[c];
      wantVar.data[c] = (1 - momentum) * oldVar.data[c] + momentum * var.data[c];
    }
    expectClose(realize(nextMean, {C}), wantMean, kForwardTol, what + " running mean");
    expectClose(realize(nextVar, {C}), wantVar, kForwardTol, what + " running variance");

    // Inference: the running statistics, not the batch's.
    Tensor<double> want2 = ref::batchNorm(in, scale, shift, eps, &oldMean, &oldVar);
    expectClose(realize(hl::batchNormInference("bn_infer", fin, fscale, fshift, toFunc(oldMean, "m"),
                                               toFunc(oldVar, "v"), l, eps),
                        want2.shape),
                want2, kForwardTol, what + " inference");
  }
}

TEST(HalideOps, DropoutMasksAreSeededAndTheSameForAnyMicroBatch) {
  const int N = 6, C = 3, H = 5, W = 7;
  const double rate = 0.3;
  std::mt19937 rng(12);
  Tensor<double> in = asFloat(ref::random<double>({N, C, H, W}, rng));
  hl::ChannelLayout l{4, H, W};
  auto noiseFunc = [](int32_t seed, int32_t first) {
    Buffer<int32_t> b(2);
    b(0) = seed;
    b(1) = first;
    Func f;
    f(_) = b(_);
    return f;
  };
  Func out = hl::dropout("drop", toFunc(in, "in"), noiseFunc(1234, 0), l, rate);
  Tensor<double> got = realize(out, in.shape);
  // The mask the output implies, against the reference with it: in * keep / (1 - rate).
  Tensor<double> keep(in.shape);
  for (size_t i = 0; i < in.data.size(); ++i)
    keep.data[i] = got.data[i] != 0;
  expectClose(got, ref::dropout(in, keep, rate), kForwardTol, "dropout forward");
  // Its gradient passes dout through the same mask.
  Tensor<double> dout = asFloat(ref::random<double>(in.shape, rng));
  expectClose(realize(hl::dropoutGrad("drop_grad", toFunc(dout, "dout"), helperOf(out, "drop__keep"), 4), in.shape),
              ref::dropout(dout, keep, rate), kForwardTol, "dropout gradient");
  // Examples 2..5 as a micro-batch of their own (first = 2) get the same masks.
  Tensor<double> part({4, C, H, W});
  std::copy(in.data.begin() + 2 * C * H * W, in.data.end(), part.data.begin());
  Tensor<double> gotPart = realize(hl::dropout("drop2", toFunc(part, "part"), noiseFunc(1234, 2), l, rate), part.shape);
  for (size_t i = 0; i < part.data.size(); ++i)
    ASSERT_EQ(gotPart.data[i], got.data[i + 2 * C * H * W]) << "value " << i;
  // Another seed, another mask; the share dropped near the rate over many values.
  Tensor<double> other = realize(hl::dropout("drop3", toFunc(in, "in3"), noiseFunc(1235, 0), l, rate), in.shape);
  EXPECT_NE(other.data, got.data);
  Tensor<double> ones({64, 1, 32, 32}, 1.0);
  Tensor<double> many = realize(hl::dropout("drop4", toFunc(ones, "ones"), noiseFunc(7, 0), hl::ChannelLayout{4, 32, 32}, rate),
                                ones.shape);
  double dropped = double(std::count(many.data.begin(), many.data.end(), 0.0)) / double(many.data.size());
  EXPECT_NEAR(dropped, rate, 0.01); // 65,536 values: 5 standard deviations
}

TEST(HalideOps, FlattenIsRowMajorAndItsGradientReshapesBack) {
  std::mt19937 rng(6);
  Tensor<double> in = asFloat(ref::random<double>({2, 3, 4, 5}, rng));
  Func fin = toFunc(in, "in");
  Tensor<double> flat = ref::flatten(in);
  expectClose(realize(hl::flatten("f", fin, 3, 4, 5), flat.shape), flat, 0, "flatten");
  Tensor<double> dout = asFloat(ref::random<double>(flat.shape, rng));
  Tensor<double> g = realize(hl::flattenGrad("g", toFunc(dout, "dout"), 4, 5), in.shape);
  Tensor<double> want = dout;
  want.shape = in.shape;
  expectClose(g, want, 0, "flatten grad");
}

// --- activations ----------------------------------------------------------------------

TEST(HalideOps, ActivationsForwardAndGradients) {
  std::mt19937 rng(7);
  Tensor<double> in = asFloat(ref::random<double>({2, 3, 4, 5}, rng, -2, 2));
  Tensor<double> dout = asFloat(ref::random<double>(in.shape, rng));
  Func fin = toFunc(in, "in"), fdout = toFunc(dout, "dout");
  const double A = 1.7159, S = 2.0 / 3.0;

  struct Act {
    const char *name;
    hl::ActivationParams params;
    std::function<Tensor<double>(const Tensor<double> &)> reference;
  };
  std::vector<Act> acts = {
      {"sigmoid", {}, [](const Tensor<double> &v) { return ref::sigmoid(v); }},
      {"tanh", {}, [](const Tensor<double> &v) { return ref::tanh(v); }},
      {"relu", {}, [](const Tensor<double> &v) { return ref::relu(v); }},
      {"scaled_tanh", {{"amplitude", A}, {"slope", S}}, [&](const Tensor<double> &v) { return ref::scaledTanh(v, A, S); }},
      {"leaky_relu", {{"alpha", 0.01}}, [](const Tensor<double> &v) { return ref::leakyRelu(v, 0.01); }},
      {"leaky_relu", {{"alpha", 0.3}}, [](const Tensor<double> &v) { return ref::leakyRelu(v, 0.3); }},
      {"elu", {{"alpha", 1.0}}, [](const Tensor<double> &v) { return ref::elu(v, 1.0); }},
      {"elu", {{"alpha", 0.5}}, [](const Tensor<double> &v) { return ref::elu(v, 0.5); }},
      {"gelu", {}, [](const Tensor<double> &v) { return ref::gelu(v); }},
  };
  std::set<std::string> tested;
  for (const auto &a : acts) {
    SCOPED_TRACE(a.name);
    hl::ActivationFormula formula;
    ASSERT_TRUE(hl::findActivation(a.name, a.params, formula));
    tested.insert(a.name);
    Tensor<double> want = a.reference(in);
    Func out = hl::activation("a", fin, 4, formula);
    expectClose(realize(out, in.shape), want, kForwardTol, a.name);
    Tensor<double> g = realize(hl::activationGrad("g", fdout, fin, out, 4, formula), in.shape);
    expectClose(g, ref::finiteDifference(in, dout, a.reference), kGradTol,
                std::string(a.name) + " grad vs fd");
    expectClose(g, adjoints(hl::activation("a", fin, 4, formula), dout, {fin}, {in.shape})[0], kGradTol,
                std::string(a.name) + " grad vs propagate_adjoints");
  }
  // Every activation the table knows is tested here.
  for (const auto &name : hl::activationNames())
    EXPECT_TRUE(tested.count(name)) << name << " has no test";
}

// Every op with the Activation trait has a formula (with every attribute it declares) and
// a signature in the model language: the three places an activation is written.
TEST(HalideOps, EveryActivationOpHasAFormulaAndASignature) {
  mlir::MLIRContext ctx;
  ctx.getOrLoadDialect<lenet::LenetDialect>();
  std::set<std::string> language;
  for (const auto &op : lenetc::languageOps())
    language.insert(op.name);
  int activations = 0;
  for (mlir::RegisteredOperationName op : ctx.getRegisteredOperations()) {
    if (!op.hasTrait<lenet::Activation>())
      continue;
    ++activations;
    std::string mnemonic = op.getStringRef().drop_front(std::string("lenet.").size()).str();
    hl::ActivationParams params;
    for (mlir::StringAttr attr : op.getAttributeNames())
      if (attr.getValue() != "name")
        params[attr.getValue().str()] = 0.5;
    hl::ActivationFormula formula;
    EXPECT_TRUE(hl::findActivation(mnemonic, params, formula)) << mnemonic;
    EXPECT_TRUE(language.count(mnemonic)) << mnemonic << " is not in the model language";
  }
  EXPECT_EQ(activations, static_cast<int>(hl::activationNames().size()));
}

TEST(HalideOps, ActivationsNeedTheirParameters) {
  hl::ActivationFormula formula;
  EXPECT_FALSE(hl::findActivation("leaky_relu", {}, formula));
  EXPECT_FALSE(hl::findActivation("swish", {}, formula));
}

// --- loss, softmax, correct count --------------------------------------------------------

TEST(HalideOps, SoftmaxCrossEntropyAndItsGradient) {
  std::mt19937 rng(8);
  const int N = 5, K = 4;
  Tensor<double> logits = asFloat(ref::random<double>({N, K}, rng, -3, 3));
  std::vector<int> labels = {0, 3, 1, 1, 2};
  Func fl = toFunc(logits, "logits"), fy = labelFunc(labels);
  EXPECT_NEAR(realizeScalar(hl::softmaxCrossEntropy("loss", fl, fy, K, N)),
              ref::softmaxCrossEntropy(logits, labels), 1e-5);
  expectClose(realize(hl::softmax("p", fl, K), {N, K}), ref::softmax(logits), kForwardTol, "softmax");

  Tensor<double> g = realize(hl::softmaxCrossEntropyGrad("g", fl, fy, K, N), logits.shape);
  Tensor<double> one({1});
  one.data[0] = 1;
  auto fd = ref::finiteDifference(logits, one, [&](const Tensor<double> &v) {
    Tensor<double> l({1});
    l.data[0] = ref::softmaxCrossEntropy(v, labels);
    return l;
  });
  expectClose(g, fd, kGradTol, "softmax cross-entropy grad vs finite differences");

  Func loss = hl::softmaxCrossEntropy("loss", fl, fy, K, N);
  Derivative d = propagate_adjoints(loss);
  expectClose(g, realize(d(fl), logits.shape), kGradTol, "softmax cross-entropy grad vs propagate_adjoints");
}

TEST(HalideOps, CorrectCountTakesTheFirstMaximum) {
  Tensor<double> logits({4, 3});
  logits.data = {0, 2, 1, /**/ 5, 5, 0, /**/ 1, 0, 0, /**/ 0, 0, 3};
  std::vector<int> labels = {1, 1, 0, 1}; // right, wrong (tie -> class 0), right, wrong
  Buffer<int32_t> count = hl::correctCount("correct", toFunc(logits, "l"), labelFunc(labels), 3, 4).realize();
  EXPECT_EQ(count(), 2);
  EXPECT_EQ(count(), ref::correctCount(logits, labels));
}

TEST(HalideOps, HalideNamesReplaceDots) {
  EXPECT_EQ(hl::halideName("c3.grad_w"), "c3__grad_w");
  EXPECT_EQ(hl::halideName("loss"), "loss");
}

} // namespace
