#include "halide/Ops.h"

namespace lenetc::hl {

using namespace Halide;

std::string halideName(const std::string &modelName) {
  std::string out;
  for (char ch : modelName) {
    if (ch == '.')
      out += "__";
    else
      out += ch;
  }
  return out;
}

int ConvSpec::connections() const {
  int n = 0;
  for (const auto &row : table)
    n += static_cast<int>(row.size());
  return n;
}

std::vector<Var> activationVars(int rank) {
  if (rank == 4)
    return {Var("x"), Var("y"), Var("c"), Var("n")};
  return {Var("i"), Var("n")};
}

namespace {

Func named(const std::string &name) { return Func(halideName(name)); }

// `in` with zeros outside [0, width) x [0, height) (only when there is padding to read).
// Named `<name>.padded` so that a schedule can store it (no bounds tests in the op's loops).
Func zeroPadded(const std::string &name, Func in, int width, int height, int pad) {
  if (pad == 0)
    return in;
  Func bounded = BoundaryConditions::constant_exterior(in, 0.f, {{0, width}, {0, height}});
  Var x("x"), y("y"), c("c"), n("n");
  Func padded(halideName(name) + "__padded");
  padded(x, y, c, n) = bounded(x, y, c, n);
  return padded;
}

// For a table conv: the input map each connection reads, the output map it feeds, and, for
// each (input map, output map), the connection (or -1). Constant lookup tables.
struct TableIndex {
  Buffer<int32_t> connOf;   // (c, f) -> j or -1
  Buffer<int32_t> mapOf;    // j -> c
  Buffer<int32_t> filterOf; // j -> f
};

TableIndex indexTable(const ConvSpec &s) {
  TableIndex t{Buffer<int32_t>(s.window.channels, s.filters), Buffer<int32_t>(s.connections()),
               Buffer<int32_t>(s.connections())};
  t.connOf.fill(-1);
  int j = 0;
  for (int f = 0; f < s.filters; ++f)
    for (int c : s.table[f]) {
      t.connOf(c, f) = j;
      t.mapOf(j) = c;
      t.filterOf(j) = f;
      ++j;
    }
  return t;
}

// The conv weight as a dense (kx, ky, c, f) Func: a table conv's absent connections are 0.
Func denseWeight(const std::string &name, Func w, const ConvSpec &s) {
  if (s.table.empty())
    return w;
  TableIndex t = indexTable(s);
  Var kx("kx"), ky("ky"), c("c"), f("f");
  Func dw(halideName(name) + "__dense_w");
  Expr j = t.connOf(c, f);
  dw(kx, ky, c, f) = select(j >= 0, w(kx, ky, clamp(j, 0, s.connections() - 1)), 0.f);
  return dw;
}

// The sum, over the windows of `w` that cover (x, y), of dout at those windows: the
// gather form of spreading each window's gradient over its inputs. Windows outside the
// output (or, with a stride, not aligned) contribute nothing.
Expr windowGather(Func dout, const Window &w, Expr x, Expr y, Expr c, Expr n, Func *weightOf = nullptr) {
  Func bounded = BoundaryConditions::constant_exterior(dout, 0.f, {{0, w.outWidth()}, {0, w.outHeight()}});
  // Windows that tile the input (LeNet's 2x2 pools, stride 2, no padding): one window covers
  // each position, so the sum is its one term. The general sum below adds the other offsets'
  // zeros through a select and a modulo per term, inside C1's and C3's activation gradients,
  // where the pools' gradients are inlined.
  if (w.stride == w.size && w.pad == 0) {
    Expr ox = x / w.stride, oy = y / w.stride;
    Expr term = bounded(ox, oy, c, n);
    if (weightOf)
      term = term * (*weightOf)(x % w.stride, y % w.stride, ox, oy, c, n);
    return term;
  }
  RDom r(0, w.size, 0, w.size, "win");
  Expr ox = x + w.pad - r.x, oy = y + w.pad - r.y;
  Expr term = bounded(ox / w.stride, oy / w.stride, c, n);
  if (weightOf)
    term = term * (*weightOf)(r.x, r.y, ox / w.stride, oy / w.stride, c, n);
  if (w.stride > 1)
    term = select(ox % w.stride == 0 && oy % w.stride == 0, term, 0.f);
  return sum(term);
}

Func windowSum(const std::string &name, Func in, const Window &w) {
  Var x("x"), y("y"), c("c"), n("n");
  RDom r(0, w.size, 0, w.size, "win");
  Func s(halideName(name) + "__window_sum");
  s(x, y, c, n) = 0.f;
  s(x, y, c, n) += in(x * w.stride + r.x, y * w.stride + r.y, c, n);
  return s;
}

} // namespace

// --- forward -------------------------------------------------------------------------

Func conv(const std::string &name, Func in, Func w, Func b, const ConvSpec &s) {
  Var x("x"), y("y"), f("c"), n("n");
  const Window &win = s.window;
  Func padded = zeroPadded(name, in, win.width, win.height, win.pad);
  // The weight as a Func of its own (inline unless a schedule stores it, e.g. filters
  // innermost so that a product vectorized over filters loads whole vectors).
  Func wd = denseWeight(name, w, s);
  Var kx("kx"), ky("ky"), ci("ci"), co("co");
  Func wk(halideName(name) + "__weights");
  wk(kx, ky, ci, co) = wd(kx, ky, ci, co);
  RDom r(0, win.size, 0, win.size, 0, win.channels, "r");
  Func out = named(name);
  out(x, y, f, n) = b(f);
  out(x, y, f, n) +=
      wk(r.x, r.y, r.z, f) * padded(x * win.stride + r.x - win.pad, y * win.stride + r.y - win.pad, r.z, n);
  return out;
}

Func avgpool(const std::string &name, Func in, const Window &w) {
  Var x("x"), y("y"), c("c"), n("n");
  Func s = windowSum(name, in, w);
  Func out = named(name);
  out(x, y, c, n) = s(x, y, c, n) * (1.f / float(w.size * w.size));
  return out;
}

Func maxpool(const std::string &name, Func in, const Window &w) {
  Var x("x"), y("y"), c("c"), n("n");
  // Windows are small (2x2, 3x3): one max expression over the window, no reduction, which
  // also keeps the forward differentiable by Halide's propagate_adjoints (tests use it).
  Expr m;
  for (int j = 0; j < w.size; ++j)
    for (int i = 0; i < w.size; ++i) {
      Expr v = in(x * w.stride + i, y * w.stride + j, c, n);
      m = m.defined() ? max(m, v) : v;
    }
  Func out = named(name);
  out(x, y, c, n) = m;
  return out;
}

Func subsample(const std::string &name, Func in, Func coef, Func b, const Window &w) {
  Var x("x"), y("y"), c("c"), n("n");
  Func s = windowSum(name, in, w);
  Func out = named(name);
  out(x, y, c, n) = coef(c) * s(x, y, c, n) + b(c);
  return out;
}

Func dense(const std::string &name, Func in, Func w, Func b, int inFeatures) {
  Var u("i"), n("n");
  RDom r(0, inFeatures, "r");
  // The weight as a Func of its own, as conv's.
  Var ki("ki"), ko("ko");
  Func wk(halideName(name) + "__weights");
  wk(ki, ko) = w(ki, ko);
  Func out = named(name);
  out(u, n) = b(u);
  out(u, n) += wk(r, u) * in(r, n);
  return out;
}

Func flatten(const std::string &name, Func in, int channels, int height, int width) {
  Var i("i"), n("n");
  Func out = named(name);
  (void)channels;
  out(i, n) = in(i % width, (i / width) % height, i / (width * height), n);
  return out;
}

namespace {
template <typename F> Func elementwise(const std::string &name, int rank, F body) {
  std::vector<Var> v = activationVars(rank);
  Func out = named(name);
  out(v) = body(std::vector<Expr>(v.begin(), v.end()));
  return out;
}

} // namespace

Func activation(const std::string &name, Func in, int rank, const ActivationFormula &f) {
  return elementwise(name, rank, [&](const std::vector<Expr> &v) { return f.value(in(v)); });
}

namespace {
// Per example: the largest logit, and log(sum(exp(logit - max))): a stable log-sum-exp.
struct LogSumExp {
  Func max, logSum;
};
LogSumExp logSumExp(const std::string &name, Func logits, int classes) {
  Var n("n");
  RDom r(0, classes, "k");
  LogSumExp l{Func(halideName(name) + "__max"), Func(halideName(name) + "__log_sum")};
  if (classes <= 32) {
    // A max expression rather than a reduction: Halide's autodiff (a test oracle) cannot
    // differentiate through maximum().
    Expr m = logits(0, n);
    for (int k = 1; k < classes; ++k)
      m = max(m, logits(k, n));
    l.max(n) = m;
  } else {
    l.max(n) = maximum(logits(r, n));
  }
  l.logSum(n) = log(sum(exp(logits(r, n) - l.max(n))));
  return l;
}
Expr clampedLabel(Func labels, Expr n, int classes) { return clamp(labels(n), 0, classes - 1); }
} // namespace

Func softmaxCrossEntropy(const std::string &name, Func logits, Func labels, int classes, Expr batch) {
  LogSumExp l = logSumExp(name, logits, classes);
  RDom r(0, batch, "batch");
  Func loss = named(name);
  // The runtime checks every label is in range; the clamp keeps reads in bounds regardless.
  loss() = sum(l.max(r) + l.logSum(r) - logits(clampedLabel(labels, r, classes), r)) / cast<float>(batch);
  return loss;
}

Func softmax(const std::string &name, Func logits, int classes) {
  Var k("i"), n("n");
  LogSumExp l = logSumExp(name, logits, classes);
  Func p = named(name);
  p(k, n) = exp(logits(k, n) - l.max(n) - l.logSum(n));
  return p;
}

Func correctCount(const std::string &name, Func logits, Func labels, int classes, Expr batch) {
  Var n("n");
  RDom k(0, classes, "k");
  Func predicted(halideName(name) + "__predicted");
  predicted(n) = argmax(logits(k, n))[0];
  RDom r(0, batch, "batch");
  Func count = named(name);
  count() = sum(select(predicted(r) == labels(r), 1, 0));
  return count;
}

// --- backward ------------------------------------------------------------------------

Func convGradInput(const std::string &name, Func dout, Func w, const ConvSpec &s, Expr batch) {
  Var x("x"), y("y"), c("c"), n("n"), kx("kx"), ky("ky"), ci("ci"), co("co"), ox("ox"), oy("oy"), f("f");
  const Window &win = s.window;
  const int k = win.size;
  // The transposed convolution, as a direct sum: each input position gathers dout over the
  // windows that cover it, weighted by the filter entry that joined them. It costs what the
  // forward conv costs, with no im2col matrix in between. The weight is a Func of its own
  // (`.weights`: a table conv's expanded).
  Func wd = denseWeight(name, w, s);
  Func wk(halideName(name) + "__weights");
  wk(kx, ky, ci, co) = wd(kx, ky, ci, co);
  const bool onePosition = win.stride == 1 && win.outWidth() < k && win.outHeight() < k;
  // An input of fewer channels than the narrowest CPU vector (8 floats) has no vectors of
  // channels, and a row of it is wider than dout's by the window: vectorized along x, a
  // third to a half of the multiply-adds would read zeros. Its sum runs over exactly the
  // window offsets that reach dout, for a schedule that vectorizes over examples: dout is
  // copied per block of them (`.dout`, zero past the batch: a block may round it up).
  const bool exact = !onePosition && win.channels < kFewChannels;
  Region inside = {{0, win.outWidth()}, {0, win.outHeight()}};
  if (exact)
    inside.insert(inside.end(), {Range(), Range(0, batch)}); // any channel; the batch
  Func bounded = BoundaryConditions::constant_exterior(dout, 0.f, inside);
  // Otherwise dout is zero outside the conv's output (`.padded`, a Func a schedule can store
  // per example) and the sum vectorizes along x like the forward conv.
  Func padded(halideName(name) + (exact ? "__dout" : "__padded"));
  padded(ox, oy, f, n) = bounded(ox, oy, f, n);
  Expr term;
  if (onePosition) {
    // Fewer output positions than window offsets (the classic LeNet-5's C5: a 5x5 window on
    // 5x5 maps, one output position): the sum runs over dout's positions instead, each
    // reaching the input through one filter entry (zero outside the window), where C5's
    // window would mostly multiply `.padded`'s zeros.
    RDom r(0, win.outWidth(), 0, win.outHeight(), 0, s.filters, "r");
    // The zero exterior also covers lanes a schedule rounds past the row (RoundUp): they read
    // zeros, never the weight copy's unfilled rounded-up allocation.
    Func wz = BoundaryConditions::constant_exterior(wk, 0.f, {{0, k}, {0, k}});
    term = wz(x + win.pad - r.x, y + win.pad - r.y, c, r.z) * padded(r.x, r.y, r.z, n);
  } else {
    RDom r(0, k, 0, k, 0, s.filters, "r");
    // ox * stride + kx - pad = x
    Expr px = x + win.pad - r.x, py = y + win.pad - r.y;
    // Only the window rows that reach dout's rows: Halide trims the r.y loop to them for
    // each row y (a condition on the row alone, uniform across a vector along x). Near the
    // top and bottom edges the full window would mostly multiply `.padded`'s zeros: C3's
    // 14 rows would run 70 window rows where 50 reach dout. The exact sum trims r.x too.
    Expr rows = py >= 0 && py <= (win.outHeight() - 1) * win.stride;
    r.where(exact ? rows && px >= 0 && px <= (win.outWidth() - 1) * win.stride : rows);
    term = wk(r.x, r.y, c, r.z) * padded(px / win.stride, py / win.stride, r.z, n);
    if (win.stride > 1)
      term = select(px % win.stride == 0 && py % win.stride == 0, term, 0.f);
  }
  // The sum accumulates in `.acc`, which a schedule computes per tile of rows, in registers.
  Func acc(halideName(name) + "__acc");
  acc(x, y, c, n) = 0.f;
  acc(x, y, c, n) += term;
  Func din = named(name);
  din(x, y, c, n) = acc(x, y, c, n);
  return din;
}

Func convGradWeight(const std::string &name, Func dout, Func in, const ConvSpec &s, Expr batch) {
  Var kx("kx"), ky("ky"), c("c"), f("f"), j("j"), ox("ox"), oy("oy"), n("n");
  const Window &win = s.window;
  const int k = win.size;
  Func padded = zeroPadded(name, in, win.width, win.height, win.pad);
  // Each output position's receptive field as one row (im2col), j = kx + k (ky + k c): the
  // weight gradient is then the matrix product dW[f, j] = sum over (ox, oy, n) of
  // dout[f] * patch[j], whose j runs along a weight's memory order.
  Func patches(halideName(name) + "__patches");
  patches(j, ox, oy, n) =
      padded(ox * win.stride + j % k - win.pad, oy * win.stride + (j / k) % k - win.pad, j / (k * k), n);
  RDom r(0, win.outWidth(), 0, win.outHeight(), 0, batch, "r");
  Func flat(halideName(name) + "__flat");
  flat(j, f) = 0.f;
  flat(j, f) += dout(r.x, r.y, f, r.z) * patches(j, r.x, r.y, r.z);
  Func dw = named(s.table.empty() ? name : name + ".dense");
  dw(kx, ky, c, f) = flat(kx + k * (ky + k * c), f);
  if (s.table.empty())
    return dw;
  // A table conv's weight holds only its connections: gather them from the dense gradient.
  TableIndex t = indexTable(s);
  Func sparse = named(name);
  sparse(kx, ky, j) =
      dw(kx, ky, clamp(t.mapOf(j), 0, win.channels - 1), clamp(t.filterOf(j), 0, s.filters - 1));
  return sparse;
}

// Bias and coefficient gradients sum many terms (a whole batch of feature maps) for few
// outputs: they accumulate in double, which costs little here and keeps them as accurate as
// PyTorch's cascaded sums.
Func biasGrad(const std::string &name, Func dout, int rank, int height, int width, Expr batch) {
  Var c("c");
  Func total(halideName(name) + "__sum");
  total(c) = cast<double>(0);
  if (rank == 4) {
    RDom r(0, width, 0, height, 0, batch, "r");
    total(c) += cast<double>(dout(r.x, r.y, c, r.z));
  } else {
    RDom r(0, batch, "r");
    total(c) += cast<double>(dout(c, r));
  }
  Func db = named(name);
  db(c) = cast<float>(total(c));
  return db;
}

// The dense gradients accumulate in a Func of their own (`.acc`) that the result copies: a
// schedule can compute the accumulator per tile of the result, in registers.
Func denseGradInput(const std::string &name, Func dout, Func w, int units) {
  Var i("i"), n("n");
  RDom r(0, units, "r");
  Func acc(halideName(name) + "__acc");
  acc(i, n) = 0.f;
  acc(i, n) += w(i, r) * dout(r, n);
  Func din = named(name);
  din(i, n) = acc(i, n);
  return din;
}

Func denseGradWeight(const std::string &name, Func dout, Func in, Expr batch) {
  Var i("i"), u("u");
  RDom r(0, batch, "r");
  Func acc(halideName(name) + "__acc");
  acc(i, u) = 0.f;
  acc(i, u) += dout(u, r) * in(i, r);
  Func dw = named(name);
  dw(i, u) = acc(i, u);
  return dw;
}

Func avgpoolGrad(const std::string &name, Func dout, const Window &w) {
  Var x("x"), y("y"), c("c"), n("n");
  Func din = named(name);
  din(x, y, c, n) = windowGather(dout, w, x, y, c, n) * (1.f / float(w.size * w.size));
  return din;
}

Func maxpoolGrad(const std::string &name, Func dout, Func in, const Window &w) {
  Var x("x"), y("y"), c("c"), n("n");
  // The window offset of each window's first maximum (row-major scan, as PyTorch's).
  RDom r(0, w.size, 0, w.size, "win");
  Func where(halideName(name) + "__argmax");
  where(x, y, c, n) = argmax(r, in(x * w.stride + r.x, y * w.stride + r.y, c, n));
  // A weight of 1 for the input position (i, j) of the window that holds its maximum.
  Var i("wi"), j("wj"), ox("ox"), oy("oy");
  Expr cx = clamp(ox, 0, w.outWidth() - 1), cy = clamp(oy, 0, w.outHeight() - 1);
  Func isMax(halideName(name) + "__is_max");
  isMax(i, j, ox, oy, c, n) = select(where(cx, cy, c, n)[0] == i && where(cx, cy, c, n)[1] == j, 1.f, 0.f);
  Func din = named(name);
  din(x, y, c, n) = windowGather(dout, w, x, y, c, n, &isMax);
  return din;
}

Func subsampleGradInput(const std::string &name, Func dout, Func coef, const Window &w) {
  Var x("x"), y("y"), c("c"), n("n");
  Func din = named(name);
  din(x, y, c, n) = coef(c) * windowGather(dout, w, x, y, c, n);
  return din;
}

Func subsampleGradCoef(const std::string &name, Func dout, Func in, const Window &w, Expr batch) {
  Func s = windowSum(name, in, w);
  Var c("c");
  RDom r(0, w.outWidth(), 0, w.outHeight(), 0, batch, "r");
  Func total(halideName(name) + "__sum"); // in double, as biasGrad
  total(c) = cast<double>(0);
  total(c) += cast<double>(dout(r.x, r.y, c, r.z) * s(r.x, r.y, c, r.z));
  Func dcoef = named(name);
  dcoef(c) = cast<float>(total(c));
  return dcoef;
}

Func flattenGrad(const std::string &name, Func dout, int height, int width) {
  Var x("x"), y("y"), c("c"), n("n");
  Func din = named(name);
  din(x, y, c, n) = dout(x + width * (y + height * c), n);
  return din;
}

Func activationGrad(const std::string &name, Func dout, Func in, Func out, int rank, const ActivationFormula &f) {
  return elementwise(name, rank, [&](const std::vector<Expr> &v) { return f.gradient(dout(v), in(v), out(v)); });
}

Func softmaxCrossEntropyGrad(const std::string &name, Func logits, Func labels, int classes, Expr batch) {
  Var k("i"), n("n");
  LogSumExp l = logSumExp(name, logits, classes);
  Func d = named(name);
  Expr p = exp(logits(k, n) - l.max(n) - l.logSum(n));
  d(k, n) = (p - select(k == clampedLabel(labels, n, classes), 1.f, 0.f)) / cast<float>(batch);
  return d;
}

Func add(const std::string &name, Func a, Func b, int rank) {
  return elementwise(name, rank, [&](const std::vector<Expr> &v) { return a(v) + b(v); });
}

// --- batchnorm and dropout ----------------------------------------------------------

namespace {
// The channel of an activation's coordinates, and a sum per channel over the others.
Expr channelOf(const std::vector<Expr> &v) { return v.size() == 4 ? v[2] : v[0]; }

template <typename Body> Func sumPerChannel(const std::string &funcName, const ChannelLayout &l, Expr batch, Body body) {
  Var c("c");
  Func total(funcName);
  total(c) = cast<double>(0);
  if (l.rank == 4) {
    RDom r(0, l.width, 0, l.height, 0, batch, "r");
    total(c) += cast<double>(body(std::vector<Expr>{r.x, r.y, c, r.z}));
  } else {
    RDom r(0, batch, "r");
    total(c) += cast<double>(body(std::vector<Expr>{c, r}));
  }
  return total;
}

Expr perChannel(Func f, const std::vector<Expr> &v) { return f(channelOf(v)); }
} // namespace

Expr batchNormCount(const ChannelLayout &l, Expr batch) { return batch * (l.height * l.width); }

Func batchNorm(const std::string &name, Func in, Func scale, Func shift, const ChannelLayout &l, double eps, Expr batch) {
  Var c("c");
  Expr count = cast<double>(batchNormCount(l, batch));
  Func sum = sumPerChannel(halideName(name) + "__sum", l, batch, [&](const std::vector<Expr> &v) { return in(v); });
  Func mean(halideName(name) + "__mean");
  mean(c) = cast<float>(sum(c) / count);
  Func squares = sumPerChannel(halideName(name) + "__squares", l, batch, [&](const std::vector<Expr> &v) {
    Expr d = in(v) - perChannel(mean, v);
    return d * d;
  });
  Func var(halideName(name) + "__var");
  var(c) = cast<float>(squares(c) / count);
  Func invstd(halideName(name) + "__invstd");
  invstd(c) = 1.f / sqrt(var(c) + float(eps));
  return elementwise(name, l.rank, [&](const std::vector<Expr> &v) {
    return (in(v) - perChannel(mean, v)) * (perChannel(invstd, v) * perChannel(scale, v)) + perChannel(shift, v);
  });
}

Func batchNormInference(const std::string &name, Func in, Func scale, Func shift, Func mean, Func var,
                        const ChannelLayout &l, double eps) {
  Var c("c");
  Func factor(halideName(name) + "__factor"); // scale / sqrt(var + eps)
  factor(c) = scale(c) / sqrt(var(c) + float(eps));
  return elementwise(name, l.rank, [&](const std::vector<Expr> &v) {
    return (in(v) - perChannel(mean, v)) * perChannel(factor, v) + perChannel(shift, v);
  });
}

Func batchNormRunning(const std::string &name, Func old, Func stat, double momentum, Expr factor) {
  Var c("c");
  Func next = named(name);
  next(c) = float(1 - momentum) * old(c) + float(momentum) * (stat(c) * cast<float>(factor));
  return next;
}

Func batchNormGradScale(const std::string &name, Func dout, Func in, Func mean, Func invstd, const ChannelLayout &l,
                        Expr batch) {
  Var c("c");
  Func sum = sumPerChannel(halideName(name) + "__sum", l, batch, [&](const std::vector<Expr> &v) {
    return dout(v) * ((in(v) - perChannel(mean, v)) * perChannel(invstd, v));
  });
  Func dscale = named(name);
  dscale(c) = cast<float>(sum(c));
  return dscale;
}

Func batchNormGradInput(const std::string &name, Func dout, Func in, Func mean, Func invstd, Func scale,
                        Func gradScale, Func gradShift, const ChannelLayout &l, Expr batch) {
  Expr count = cast<float>(batchNormCount(l, batch));
  return elementwise(name, l.rank, [&](const std::vector<Expr> &v) {
    Expr xhat = (in(v) - perChannel(mean, v)) * perChannel(invstd, v);
    return perChannel(scale, v) * perChannel(invstd, v) *
           (dout(v) - (cast<float>(perChannel(gradShift, v)) + xhat * cast<float>(perChannel(gradScale, v))) / count);
  });
}

namespace {
// A 32-bit integer hash (Chris Wellons' "lowbias32"): every input bit moves every output bit.
Expr mix32(Expr h) {
  h = h ^ (h >> 16);
  h = h * Internal::make_const(UInt(32), 0x7feb352du);
  h = h ^ (h >> 15);
  h = h * Internal::make_const(UInt(32), 0x846ca68bu);
  return h ^ (h >> 16);
}
} // namespace

Expr dropoutUniform(Expr seed, Expr example, Expr index) {
  Expr h = mix32(cast<uint32_t>(index) + mix32(cast<uint32_t>(example) + mix32(cast<uint32_t>(seed))));
  return cast<float>(h >> 8) * (1.f / 16777216.f);
}

Func dropout(const std::string &name, Func in, Func noise, const ChannelLayout &l, double rate) {
  std::vector<Var> v = activationVars(l.rank);
  Expr n = v.back();
  Expr index = l.rank == 4 ? v[0] + l.width * (v[1] + l.height * v[2]) : Expr(v[0]);
  Func keep(halideName(name) + "__keep");
  keep(v) = select(dropoutUniform(noise(0), noise(1) + n, index) >= float(rate), float(1 / (1 - rate)), 0.f);
  return elementwise(name, l.rank, [&](const std::vector<Expr> &e) { return in(e) * keep(e); });
}

Func dropoutGrad(const std::string &name, Func dout, Func keep, int rank) {
  return elementwise(name, rank, [&](const std::vector<Expr> &v) { return dout(v) * keep(v); });
}

} // namespace lenetc::hl
