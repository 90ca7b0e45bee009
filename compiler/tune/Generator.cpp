#include "tune/Generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

namespace lenetc {

std::string CpuKnobs::describe() const {
  return fmt::format("lanes={} accumulators={} denseTileI={} denseTileU={} gradInRows={} batchTask={} filtersInner={}",
                     lanes, accumulators, denseTileI, denseTileU, gradInRows, batchTask, filtersInner ? 1 : 0);
}

bool CpuKnobs::parse(const std::string &text) {
  std::istringstream is(text);
  std::string item;
  std::map<std::string, int *> fields = {{"lanes", &lanes},           {"accumulators", &accumulators},
                                          {"denseTileI", &denseTileI}, {"denseTileU", &denseTileU},
                                          {"gradInRows", &gradInRows},
                                          {"batchTask", &batchTask}};
  int inner = filtersInner;
  fields["filtersInner"] = &inner;
  while (is >> item) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || !fields.count(item.substr(0, eq)))
      return false;
    try {
      *fields[item.substr(0, eq)] = std::stoi(item.substr(eq + 1));
    } catch (...) {
      return false;
    }
  }
  filtersInner = inner != 0;
  return lanes >= 1 && accumulators >= 1 && denseTileI >= 1 && denseTileU >= 1 && gradInRows >= 1 &&
         batchTask >= 1;
}

CpuKnobs defaultCpuKnobs(const Halide::Target &target) {
  CpuKnobs k;
  k.lanes = target.natural_vector_size(Halide::Float(32));
  // AVX2 has 16 vector registers, AVX-512 32: leave room for the operands.
  k.accumulators = k.lanes >= 16 ? 20 : 10;
  return k;
}

namespace {

// The generator writes schedules as structures (StageSchedule, as the parser makes them):
// directives are built from names and numbers, never from text to be parsed back.
// An argument: a name or a number; an empty name is left out (an optional tail strategy).
struct Arg {
  std::string text;
  bool isNumber = false;
  Arg(const char *t) : text(t ? t : "") {}
  Arg(std::string t) : text(std::move(t)) {}
  Arg(int v) : text(std::to_string(v)), isNumber(true) {}
  Arg(long v) : text(std::to_string(v)), isNumber(true) {}
};

// A chain of directives, as one line of a schedule file has them.
using Calls = std::vector<ScheduleCall>;

Calls call(const std::string &name, std::initializer_list<Arg> args = {}) {
  ScheduleCall c;
  c.name = name;
  for (const Arg &a : args)
    if (!a.text.empty())
      c.args.push_back(ScheduleArg{a.text, Loc{}, a.isNumber});
  return {c};
}

Calls operator+(Calls a, const Calls &b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const Calls kNone; // an absent directive, in a conditional


// One schedule, written stage by stage, from the pipeline's op records: an op's producer,
// activation or forward op is found through the records' links, never through its name.
class CpuWriter {
public:
  CpuWriter(const LoweredPipeline &p, const CpuKnobs &k) : p_(p), k_(k), L(k.lanes) {}

  std::vector<StageSchedule> run() {
    // Ops first, in the order of their names (as schedule files list them): each may
    // schedule its helpers and its activation.
    std::vector<int> order(p_.ops.size());
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = static_cast<int>(i);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return p_.ops[a].name < p_.ops[b].name; });
    for (int i : order)
      if (!done_.count(p_.ops[i].name))
        scheduleOp(p_.ops[i]);
    // Helpers no rule named are computed at root (the schedule format's rule), in parallel
    // over the batch when they have one.
    for (const auto &[name, f] : p_.funcs)
      if (!done_.count(name) && !f.args().empty() && f.args().back().name() == "n" && f.num_update_definitions() == 0)
        line(name, call("compute_root") + parallelN(1)); // small: per-example sums, softmax parts
    return stages_;
  }

private:
  const LoweredOp *operand(const LoweredOp &op, size_t i) const {
    return i < op.operands.size() && op.operands[i] >= 0 ? &p_.ops[op.operands[i]] : nullptr;
  }
  // A helper's model name, as schedules name it: `c1.padded`.
  static std::string helper(const LoweredOp &op, const std::string &role) { return op.name + "." + role; }
  bool onlyActivationGradsRead(const LoweredOp &op) const {
    return !op.users.empty() &&
           std::all_of(op.users.begin(), op.users.end(), [&](int u) { return p_.ops[u].activationGrad; });
  }
  bool trains() const {
    return std::any_of(p_.ops.begin(), p_.ops.end(), [](const LoweredOp &op) { return op.kind == "dense_grad_weight"; });
  }
  void line(const std::string &func, Calls calls) { add(func, -1, std::move(calls)); }
  void update(const std::string &func, int k, Calls calls) { add(func, k, std::move(calls)); }
  void add(const std::string &func, int update, Calls calls) {
    StageSchedule s;
    s.func = func;
    s.update = update;
    s.calls = std::move(calls);
    stages_.push_back(std::move(s));
    done_.insert(func);
  }
  // The tile size, at most `most`, that splits `extent` into the fewest and most even tiles:
  // 25 window offsets with 20 accumulators are 13 + 12, not 20 + a pass of 5 that reads the
  // whole input again for a quarter of the work.
  static int balancedTile(int extent, int most) {
    int tiles = (extent + most - 1) / most;
    return (extent + tiles - 1) / tiles;
  }
  // A pipeline for one example (infer_one) runs serially: a parallel loop's tasks cost
  // more than its work.
  bool oneExample() const { return p_.fixedBatch == 1; }
  // In parallel over the batch, in tasks of several examples (the last may be short: any
  // batch size, even 1): at least `batchTask`, and enough that a task does ~64K operations
  // of `work` per example. Handing a task to a thread costs about a microsecond: per-example
  // tasks of the logits' 840 multiply-adds made that stage cost as much as C3's
  // convolution (batch 256, 2 threads; the JIT timings did not show it).
  Calls parallelN(long work) const {
    if (oneExample())
      return kNone;
    long k = examplesPerTask(work);
    return k > 1 ? call("parallel", {"n", k, "GuardWithIf"}) : call("parallel", {"n"});
  }
  long examplesPerTask(long work) const {
    const long taskWork = 1 << 16, most = 32;
    return std::max<long>(k_.batchTask, std::min(most, (taskWork + work - 1) / std::max(1L, work)));
  }
  // Values one example has in an op's result (its extents but the batch).
  static long exampleSize(const LoweredOp &op) {
    long size = 1;
    for (size_t d = 0; d + 1 < op.extents.size(); ++d)
      size *= std::max(1, op.extents[d]);
    return size;
  }
  // The size of the reduction domain of `f`'s first update (1 without one). Func::rvars
  // gives the variables' names only; the definition's schedule has the domain.
  static long reductionSize(Halide::Func f) {
    long size = 1;
    if (f.num_update_definitions() > 0)
      for (const Halide::Internal::ReductionVariable &r : f.update(0).get_schedule().rvars())
        if (const int64_t *e = Halide::Internal::as_const_int(r.extent))
          size *= *e;
    return size;
  }
  // Operations per example of an op: its values times its reduction's (or, for a gradient
  // summed in its accumulator, that one's) domain.
  static long exampleWork(const LoweredOp &op) {
    return exampleSize(op) * reductionSize(op.has("acc") ? op.helpers.at("acc") : op.func);
  }
  // A vector width for a dimension of `extent`: the target's, or the widest power of two
  // that fits (at least 4), or 0 when the dimension is too short to vectorize.
  int widthFor(int extent) const {
    int w = L;
    while (w > extent && w > 4)
      w /= 2;
    return w <= extent ? w : 0;
  }
  // The lanes for a row of `extent` outputs that a masked last vector would otherwise end:
  // Halide 14 runs a masked vector (GuardWithIf) lane by lane, so the row is cut into equal
  // vectors of fewer lanes where it divides into as many as whole ones would need (28 on
  // AVX-512: 2 x 14; 10: one vector of 10 lanes, or 2 x 5 on AVX2). An unpadded input
  // cannot be read past its edge, so rounding the row up is no way out there.
  int equalRowWidth(int extent) const {
    int w = widthFor(extent);
    if (!w || extent % w == 0)
      return w;
    int vectors = (extent + L - 1) / L;
    return extent % vectors == 0 ? extent / vectors : w;
  }
  Calls vec(const std::string &v, int extent, const char *tail = "ShiftInwards") const {
    int w = widthFor(extent);
    if (!w)
      return kNone;
    return call("vectorize", {v, w, w == extent || extent % w == 0 ? "" : tail});
  }
  // The activation an op's result goes through and nothing else reads: the op is computed
  // inside it (`c1 = conv(...) |> relu`, however the model writes or names it). None when
  // another op reads the result too (an activation whose gradient reads its input).
  const LoweredOp *activationOf(const LoweredOp &op) const {
    if (op.users.size() != 1)
      return nullptr;
    const LoweredOp *user = &p_.ops[op.users[0]];
    // An inference batchnorm (a per-channel affine map) between a conv stored filters
    // innermost and its activation is computed inline; narrower convs run faster stored,
    // the batchnorm and the activation after them (docs/schedules.md has the timings).
    if (inferenceNorm(*user) && user->users.size() == 1 && filtersInner(op))
      user = &p_.ops[user->users[0]];
    return user->activation ? user : nullptr;
  }
  // Batchnorm in inference: scale and shift per channel, nothing summed over the batch.
  static bool inferenceNorm(const LoweredOp &op) { return op.kind == "batchnorm" && !op.has("squares"); }
  // The op whose result `op` reads, looking through an inference batchnorm.
  const LoweredOp *producer(const LoweredOp &op) const {
    const LoweredOp *in = operand(op, 0);
    return in && inferenceNorm(*in) ? operand(*in, 0) : in;
  }
  bool filtersInner(const LoweredOp &conv) const {
    return k_.filtersInner && conv.kind == "conv" && conv.extents[2] >= L;
  }
  // Whether `op`'s maps are stored channels innermost: a conv stored filters innermost, what
  // follows it value by value (a training batchnorm, an activation) and their gradients.
  // (A one-position conv's activation keeps its order, the same memory for 1 x 1 maps; an
  // input gradient channelsGradInput stores so is not asked about.)
  bool channelsInner(const LoweredOp &op) const {
    if (op.extents.size() != 4)
      return false;
    if (op.kind == "conv")
      return filtersInner(op);
    const LoweredOp *like = op.activation || (op.kind == "batchnorm" && op.has("squares")) ? producer(op)
                            : op.activationGrad || op.kind == "batchnorm_grad_input"   ? operand(op, 1)
                                                                                        : nullptr;
    return like && channelsInner(*like);
  }

  void scheduleOp(const LoweredOp &op) {
    const std::string &name = op.name, &kind = op.kind;
    if (kind == "conv")
      return conv(op);
    if (kind == "dense")
      return dense(op);
    if (kind == "conv_grad_weight")
      return convGradWeight(op);
    if (kind == "conv_grad_input")
      return convGradInput(op);
    if (kind == "dense_grad_weight" || kind == "dense_grad_input")
      return denseGrad(op, kind == "dense_grad_weight" ? "u" : "n");
    // A training step stores the flattened input of a dense layer: its weight gradient
    // reads it along i, which, inline, would gather from the (x, y, c) layout (so does a
    // one-example product, `denseOneExample`).
    if (kind == "flatten" && (trains() || oneExample()))
      return line(name, call("compute_root") + parallelN(exampleSize(op)) + vec("i", op.extents[0], "GuardWithIf"));
    if (kind == "flatten" || kind == "flatten_grad")
      return line(name, call("compute_inline"));
    if (kind == "avgpool" || kind == "subsample")
      return pool(op);
    if (kind == "maxpool_grad") {
      line(helper(op, "is_max"), call("compute_inline"));
      line(helper(op, "argmax"), call("compute_root") + parallelN(exampleSize(op)));
    }
    // A pooling gradient read only by its activation's gradient is computed inside it: one
    // pass over the largest maps of the backward pass instead of two.
    if ((kind == "avgpool_grad" || kind == "maxpool_grad" || kind == "subsample_grad_input") &&
        onlyActivationGradsRead(op))
      return line(name, call("compute_inline"));
    if (kind == "maxpool_grad")
      return elementwise(op);
    if (kind == "batchnorm" && op.has("squares"))
      return batchNorm(op);
    if (inferenceNorm(op)) {
      line(helper(op, "factor"), call("compute_root"));
      const LoweredOp *in = operand(op, 0);
      if (in && activationOf(*in)) // the conv or dense layer computed inside the activation
        return line(name, call("compute_inline"));
    }
    const std::vector<int> &e = op.extents;
    bool perExample = e.size() >= 2 && (e.back() < 0 || oneExample());
    if (perExample && op.func.num_update_definitions() == 0)
      return elementwise(op);
    if (kind == "bias_grad" && op.has("sum"))
      return biasGrad(op);
    if (kind == "batchnorm_grad_scale") {
      line(name, call("compute_root"));
      const LoweredOp *dout = operand(op, 0);
      return channelSum(op, "sum", dout, dout && channelsInner(*dout));
    }
    line(name, call("compute_root")); // scalars, sums
  }

  // Per-example maps: parallel over the batch, vectorized along the innermost dimension;
  // maps that follow a filters-innermost conv (channelsInner) keep that layout.
  void elementwise(const LoweredOp &op) {
    const std::string &name = op.name;
    const std::vector<int> &e = op.extents;
    std::string inner = e.size() == 4 ? "x" : "i";
    if (channelsInner(op)) {
      line(name, call("compute_root") + call("reorder_storage", {"c", "x", "y", "n"}) +
                     call("reorder", {"c", "x", "y", "n"}) + parallelN(exampleSize(op)) + vec("c", e[2], "GuardWithIf"));
      return;
    }
    line(name, call("compute_root") + parallelN(exampleSize(op)) +
                   vec(inner, e[0], e.size() == 4 ? "ShiftInwards" : "GuardWithIf"));
  }

  // Average pooling (and subsampling): the window's sum per output vector, vectorized as
  // the output is, its update too. After maps stored channels innermost (channelsInner),
  // along the channels (whole vectors, contiguous loads); otherwise along x.
  void pool(const LoweredOp &op) {
    const std::string &name = op.name;
    const std::vector<int> &e = op.extents; // x, y, c, n
    std::string window = helper(op, "window_sum");
    const LoweredOp *in = operand(op, 0);
    if (!in || !channelsInner(*in)) {
      line(window, call("compute_at", {name, "x"}) + vec("x", e[0]));
      update(window, 0, call("reorder", {"x", "win.x", "win.y"}) + vec("x", e[0], "GuardWithIf"));
      return elementwise(op);
    }
    line(window, call("compute_at", {name, "x"}) + vec("c", e[2], "GuardWithIf"));
    update(window, 0, call("reorder", {"c", "win.x", "win.y"}) + vec("c", e[2], "GuardWithIf"));
    line(name, call("compute_root") + call("reorder", {"c", "x", "y", "n"}) + parallelN(exampleSize(op)) +
                   vec("c", e[2], "GuardWithIf"));
  }

  // Forward convolution, computed a row of its activation at a time into accumulators that
  // stay in registers: vectorized over filters when there are enough of them, else along x.
  void conv(const LoweredOp &op) {
    const std::string &name = op.name;
    const std::vector<int> &e = op.extents; // x, y, filters, n
    int W = e[0], F = e[2];
    const LoweredOp *activation = activationOf(op);
    std::string act = activation ? activation->name : "";
    long work = exampleWork(op);
    bool onePosition = W == 1 && e[1] == 1 && widthFor(F) && !act.empty();
    if (op.has("weights"))
      line(helper(op, "weights"), call("compute_root") + (filtersInner(op) || onePosition
                                                              ? call("reorder_storage", {"co", "kx", "ky", "ci"})
                                                              : kNone));
    if (act.empty())
      return storedConv(op);
    if (onePosition)
      return onePositionConv(op, act);
    if (op.has("padded"))
      line(helper(op, "padded"), call("compute_at", {act, "n"}));
    if (filtersInner(op)) {
      int vectors = (F + L - 1) / L;
      int xt = std::max(1, std::min(W, k_.accumulators / vectors));
      const char *tail = F % L ? "GuardWithIf" : "";
      line(act, call("compute_root") + call("reorder_storage", {"c", "x", "y", "n"}) +
                    call("reorder", {"c", "x", "y", "n"}) + parallelN(work) + call("vectorize", {"c", L, tail}));
      line(name, call("compute_at", {act, "y"}) + call("reorder_storage", {"c", "x", "y", "n"}) +
                     call("vectorize", {"c", L, tail}));
      update(name, 0,
             call("split", {"x", "xo", "xi", xt, "GuardWithIf"}) + call("split", {"c", "co", "ci", L, "GuardWithIf"}) +
                 call("reorder", {"ci", "co", "xi", "r.x", "r.y", "r.z", "xo", "y", "n"}) + call("vectorize", {"ci"}) +
                 (vectors > 1 ? call("unroll", {"co"}) : kNone) + call("unroll", {"xi"}));
      return;
    }
    int w = widthFor(W);
    if (!w) {
      line(act, call("compute_root") + parallelN(work));
      line(name, call("compute_at", {act, "n"}));
      return;
    }
    if (!op.has("padded"))
      w = equalRowWidth(W);
    int vectors = (W + w - 1) / w;
    // A row's vectors times a tile of filters accumulate in registers, the window loops
    // inside the tile: every filter (C1 on AVX-512: 2 vectors x 6), else as many as the
    // accumulators allow (C1 on AVX2: 4 vectors x 2 filters; with the filters inside the
    // window loops, 24 accumulators would go through memory).
    bool unrollFilters = vectors * F <= k_.accumulators;
    int filterTile = unrollFilters ? F : balancedTile(F, std::max(1, k_.accumulators / vectors));
    // Rounding the row up to whole vectors reads past the input's edge: only a padded
    // input (a Func defined everywhere) allows it; otherwise the last vector is masked.
    const char *tail = W % w == 0 ? "" : op.has("padded") ? "RoundUp" : "GuardWithIf";
    // The rounded row is declared (bound): Halide 14 then computes `.padded` as far as the
    // row's last vector reads. Without it, it allocates that far but fills only what the
    // unrounded row needs, and the extra lanes read uninitialised memory (denormal garbage:
    // slow arithmetic on lanes that are thrown away).
    Calls bound = std::string(tail) == "RoundUp" ? call("bound", {"x", 0, vectors * w}) : kNone;
    line(act, call("compute_root") + call("reorder", {"x", "c", "y", "n"}) + parallelN(work) + vec("x", W));
    line(name, call("compute_at", {act, "y"}) + bound + call("vectorize", {"x", w, tail}));
    Calls split = call("split", {"x", "xo", "xi", w, tail});
    if (unrollFilters)
      update(name, 0, split + call("reorder", {"xi", "xo", "c", "r.x", "r.y", "r.z", "y", "n"}) +
                          call("vectorize", {"xi"}) + call("unroll", {"xo"}) + call("unroll", {"c"}));
    else if (filterTile == 1)
      update(name, 0, split + call("reorder", {"xi", "xo", "r.x", "r.y", "r.z", "c", "y", "n"}) +
                          call("vectorize", {"xi"}) + call("unroll", {"xo"}));
    else
      update(name, 0, split + call("split", {"c", "co", "ci", filterTile, F % filterTile ? "GuardWithIf" : ""}) +
                          call("reorder", {"xi", "xo", "ci", "r.x", "r.y", "r.z", "co", "y", "n"}) +
                          call("vectorize", {"xi"}) + call("unroll", {"xo"}) + call("unroll", {"ci"}));
  }

  // A conv with one output position (the classic LeNet-5's C5: a 5x5 window on 5x5 maps) is
  // a dense layer over its window, scheduled as `dense` is: tiles of filter
  // vectors x examples accumulate in registers, each weight vector loaded serving several
  // examples. The last tile of filters is shifted inwards (a few recomputed), not masked:
  // Halide 14 runs a masked vector lane by lane (C5's 120 filters are 7.5 vectors).
  void onePositionConv(const LoweredOp &op, const std::string &act) {
    const std::string &name = op.name;
    const int F = op.extents[2], w = widthFor(F);
    int ti = std::min({k_.denseTileI, F / w, k_.accumulators}), tn = oneExample() ? 1 : k_.denseTileU;
    while (ti * tn > k_.accumulators && tn > 1)
      --tn;
    line(act, call("compute_root") + call("split", {"c", "co", "ci", ti * w, "ShiftInwards"}) +
                  call("split", {"n", "no", "ni", tn, "GuardWithIf"}) + call("reorder", {"ci", "ni", "x", "y", "co", "no"}) +
                  call("vectorize", {"ci", w}) + (oneExample() ? kNone : call("parallel", {"no"})));
    if (op.has("padded"))
      line(helper(op, "padded"), call("compute_at", {act, "no"}));
    Calls tile = call("vectorize", {"c", w}) + call("unroll", {"c"}) + call("unroll", {"n"});
    line(name, call("compute_at", {act, "co"}) + call("store_in", {"Stack"}) + tile);
    update(name, 0, call("reorder", {"c", "n", "x", "y", "r.x", "r.y", "r.z"}) + tile);
  }

  // A convolution no activation alone reads (a batchnorm follows: its statistics, the
  // normalization and its gradients all read the conv's output), stored whole. Its tiles of
  // row vectors x filters accumulate over the window with the window loops innermost of the
  // tile's own, as in conv(): the tile's addresses do not change inside them, so they stay
  // in registers, not each window position accumulated over whole rows in memory.
  void storedConv(const LoweredOp &op) {
    const std::string &name = op.name;
    const std::vector<int> &e = op.extents; // x, y, filters, n
    int W = e[0], F = e[2];
    long work = exampleWork(op);
    if (op.has("padded"))
      line(helper(op, "padded"), call("compute_root") + parallelN(work));
    if (filtersInner(op)) {
      // Filters innermost, as conv() stores them for an activation: a tile of a row's
      // positions x the filter vectors per window offset (the BN LeNet's C3, 8 wide, was
      // 8-lane vectors along x, and its weight gradient gathered the maps a filter vector at
      // a time).
      int vectors = (F + L - 1) / L;
      int xt = balancedTile(W, std::max(1, k_.accumulators / vectors));
      const char *tail = F % L ? "GuardWithIf" : "";
      line(name, call("compute_root") + call("reorder_storage", {"c", "x", "y", "n"}) +
                     call("reorder", {"c", "x", "y", "n"}) + parallelN(work) + call("vectorize", {"c", L, tail}));
      return update(name, 0,
                    call("split", {"x", "xo", "xi", xt, "GuardWithIf"}) + call("split", {"c", "co", "ci", L, "GuardWithIf"}) +
                        call("reorder", {"ci", "co", "xi", "r.x", "r.y", "r.z", "xo", "y", "n"}) +
                        call("vectorize", {"ci"}) + (vectors > 1 ? call("unroll", {"co"}) : kNone) +
                        call("unroll", {"xi"}) + parallelN(work));
    }
    int w = equalRowWidth(W);
    line(name, call("compute_root") + parallelN(work) + vec("x", W));
    if (!w)
      return update(name, 0, call("reorder", {"x", "r.x", "r.y", "r.z", "c", "y", "n"}) + parallelN(work));
    int vectors = (W + w - 1) / w;
    int filterTile = vectors * F <= k_.accumulators ? F : balancedTile(F, std::max(1, k_.accumulators / vectors));
    const char *tail = W % w == 0 ? "" : "GuardWithIf";
    update(name, 0, call("split", {"x", "xo", "xi", w, tail}) +
                        call("split", {"c", "co", "ci", filterTile, F % filterTile ? "GuardWithIf" : ""}) +
                        call("reorder", {"xi", "xo", "ci", "r.x", "r.y", "r.z", "co", "y", "n"}) +
                        call("vectorize", {"xi"}) + call("unroll", {"xo"}) + call("unroll", {"ci"}) + parallelN(work));
  }

  // Forward dense layer: per example, vectorized over its units, the weight stored
  // transposed (units innermost) so that each input's column is one load per vector.
  void dense(const LoweredOp &op) {
    const std::string &name = op.name;
    const std::vector<int> &e = op.extents; // units, n
    int U = e[0];
    const LoweredOp *activation = activationOf(op);
    std::string act = activation ? activation->name : "";
    if (oneExample())
      return denseOneExample(op, act);
    int w = widthFor(U);
    long work = exampleWork(op);
    if (op.has("weights"))
      line(helper(op, "weights"), call("compute_root") + call("reorder_storage", {"ko", "ki"}));
    bool unroll = w && (U + w - 1) / w <= k_.accumulators;
    Calls product = w ? call("split", {"i", "io", "ii", w, U % w ? "GuardWithIf" : ""}) +
                            call("reorder", {"ii", "io", "r", "n"}) + call("vectorize", {"ii"}) +
                            (unroll ? call("unroll", {"io"}) : kNone)
                      : call("reorder", {"i", "r", "n"});
    if (act.empty()) {
      line(name, call("compute_root") + parallelN(work));
      update(name, 0, storedDenseProduct(U, work, product));
      return;
    }
    // Tiles of units x examples, like the gradients' (`denseGrad`): each weight vector
    // loaded serves `tn` examples, where one example a time streams the whole weight
    // through L2 per example.
    int ti = std::min(k_.denseTileI, U / L), tn = k_.denseTileU;
    while (ti * tn > k_.accumulators && tn > 1)
      --tn;
    if (ti >= 1 && tn > 1) {
      line(act, call("compute_root") + call("split", {"i", "io", "ii", ti * L, "ShiftInwards"}) +
                    call("split", {"n", "no", "ni", tn, "GuardWithIf"}) + call("reorder", {"ii", "ni", "io", "no"}) +
                    call("vectorize", {"ii", L}) + call("parallel", {"no"}));
      // The tile is small but, with a guarded last tile, not of constant size: Halide would
      // allocate it on the heap per tile (a malloc and free per 4 examples x 32 units).
      line(name, call("compute_at", {act, "io"}) + call("store_in", {"Stack"}) + call("vectorize", {"i", L}) +
                     call("unroll", {"i"}) + call("unroll", {"n"}));
      update(name, 0, call("reorder", {"i", "n", "r"}) + call("vectorize", {"i", L}) + call("unroll", {"i"}) +
                          call("unroll", {"n"}));
      return;
    }
    line(act, call("compute_root") + parallelN(work) + vec("i", U, "GuardWithIf"));
    line(name, call("compute_at", {act, "n"}));
    update(name, 0, product);
  }

  // The product of a dense layer stored whole (a batchnorm reads it): tiles of `ti` vectors
  // of units x `tn` examples accumulate in registers while the inputs run, each weight
  // vector loaded serving `tn` examples (one example at a time streams the whole weight
  // through L2 per example). `fallback`: one example at a time.
  Calls storedDenseProduct(int U, long work, const Calls &fallback) const {
    const int w = equalRowWidth(U);
    if (!w || U % w)
      return fallback + parallelN(work);
    const int vectors = U / w;
    int ti = 0, tn = 0;
    for (int i = 1; i <= vectors; ++i)
      for (int n = 2; n <= k_.denseTileU; ++n)
        if (vectors % i == 0 && i * n <= k_.accumulators && i * n >= ti * tn)
          ti = i, tn = n;
    if (!ti)
      return fallback + parallelN(work);
    // Tasks of about as many examples as parallelN's, in whole tiles.
    const int tilesPerTask = static_cast<int>(std::max<long>(1, examplesPerTask(work) / tn));
    return call("split", {"n", "no", "ni", tn, "GuardWithIf"}) + call("split", {"i", "io", "ii", w * ti}) +
           call("split", {"ii", "iv", "il", w}) + call("reorder", {"il", "iv", "ni", "r", "io", "no"}) +
           call("vectorize", {"il"}) + call("unroll", {"iv"}) + call("unroll", {"ni"}) +
           call("parallel", {"no", tilesPerTask});
  }

  // Dense layer on one example, a matrix-vector product: the weight is read as stored (a
  // row of K inputs per unit), in vectors along K whose lanes are summed apart (rfactor),
  // a tile of units at a time in registers; then each unit's lanes are added up. The batch
  // schedule's transposed copy of the weight would cost more than the product itself.
  void denseOneExample(const LoweredOp &op, const std::string &act) {
    const std::string &name = op.name;
    int U = op.extents[0];
    long K = reductionSize(op.func); // the layer's inputs
    int lanes = 0;
    for (int w = L; w >= 4 && !lanes; w /= 2)
      if (K % w == 0)
        lanes = w;
    int units = 1;
    for (int t = std::min(8, k_.accumulators); t > 1 && units == 1; --t)
      if (U % t == 0)
        units = t;
    if (op.has("weights"))
      line(helper(op, "weights"), call("compute_inline"));
    if (!act.empty())
      line(act, call("compute_root") + vec("i", U, "GuardWithIf"));
    line(name, call("compute_root"));
    if (!lanes) {
      update(name, 0, call("reorder", {"i", "r", "n"}));
      return;
    }
    std::string lanesF = name + ".lanes";
    update(name, 0, call("split", {"r", "ro", "ri", lanes}) + call("rfactor", {"ri", "lane", lanesF}) +
                        call("split", {"i", "io", "ii", units}) + call("reorder", {"ri", "ii", "io", "n"}));
    line(lanesF, call("compute_at", {name, "io"}) + call("reorder_storage", {"lane", "i", "n"}) +
                     call("vectorize", {"lane", lanes}) + call("unroll", {"i"}));
    update(lanesF, 0, call("reorder", {"lane", "i", "ro", "n"}) + call("vectorize", {"lane"}) + call("unroll", {"i"}));
  }

  // Dense gradients (i, u) or (i, n): tiles of the result, each with its accumulator tile
  // (`.acc`) in registers while the reduction runs.
  void denseGrad(const LoweredOp &op, const std::string &rows) {
    const std::string &name = op.name, acc = helper(op, "acc");
    const std::vector<int> &e = op.extents;
    int I = e[0];
    int ti = std::min(k_.denseTileI, I / L), tu = k_.denseTileU;
    while (ti * tu > k_.accumulators && tu > 1)
      --tu;
    if (ti < 1 || !op.has("acc")) {
      line(name, call("compute_root") + call("parallel", {rows}) + vec("i", I, "GuardWithIf"));
      if (op.has("acc")) {
        line(acc, call("compute_at", {name, rows}) + vec("i", I, "GuardWithIf"));
        update(acc, 0, call("reorder", {"i", "r", rows}) + vec("i", I, "GuardWithIf"));
      }
      return;
    }
    const char *rowTail = e[1] < 0 || e[1] % tu ? "GuardWithIf" : "RoundUp";
    line(name, call("compute_root") + call("split", {"i", "io", "ii", ti * L, "ShiftInwards"}) +
                   call("split", {rows, "ro", "ri", tu, rowTail}) + call("reorder", {"ii", "ri", "io", "ro"}) +
                   call("vectorize", {"ii", L}) + call("parallel", {"ro"}));
    line(acc, call("compute_at", {name, "io"}) + call("store_in", {"Stack"}) + call("vectorize", {"i", L}) +
                  call("unroll", {"i"}) + call("unroll", {rows}));
    update(acc, 0, call("reorder", {"i", rows, "r"}) + call("vectorize", {"i", L}) + call("unroll", {"i"}) +
                       call("unroll", {rows}));
  }

  // A bias gradient, summed in double over positions and examples (channelSum). Its dout,
  // the gradient of the layer's output, may be stored channels innermost (channelsInner).
  void biasGrad(const LoweredOp &op) {
    line(op.name, call("compute_root"));
    const LoweredOp *dout = operand(op, 0);
    channelSum(op, "sum", dout, dout && channelsInner(*dout));
  }

  // A sum per channel in double (helper `role` of `op`) over positions and examples of a
  // map like `over`: a partial sum per example (rfactor), in parallel, its channels
  // innermost so that their sums run side by side (vectors of them when the map is stored
  // channels innermost), then the examples' partial sums in order: the same bits on any
  // number of threads. A sum over examples only (features): channels innermost.
  void channelSum(const LoweredOp &op, const std::string &role, const LoweredOp *over, bool channelsInner) {
    // (`<op>.per_example` for an op's one sum, as the schedule files name a bias gradient's.)
    const std::string sumName = helper(op, role),
                      perExample = (role == "sum" ? op.name : sumName) + ".per_example";
    // (A batchnorm's extents are its maps', a gradient's its channels'.)
    const int C = op.extents.size() == 4 ? op.extents[2] : op.extents[0];
    int dl = L / 2; // doubles per vector
    Halide::Func sum = op.helpers.at(role); // a handle
    if (sum.update(0).get_schedule().rvars().size() == 1) {
      line(sumName, call("compute_root"));
      update(sumName, 0, call("reorder", {"c", "r"}) + (C >= dl ? call("vectorize", {"c", dl, "GuardWithIf"}) : kNone));
      return;
    }
    long size = over ? exampleSize(*over) : 1;
    line(sumName, call("compute_root"));
    update(sumName, 0, call("rfactor", {"r.z", "n", perExample}));
    line(perExample, call("compute_root") + parallelN(size));
    // Few channels stored planes apart (C1's 6): an example's sums run in vectors along x,
    // a vector of lanes per channel (rfactor), summed into the channel's at the end.
    const int W = over && over->extents.size() == 4 ? over->extents[0] : 0;
    const int lanes = W <= 0 ? 0 : W % dl == 0 ? dl : W % (dl / 2) == 0 ? dl / 2 : 0;
    if (!channelsInner && C <= 16 && lanes >= 2) {
      const std::string lanesName = perExample + ".lanes";
      update(perExample, 0,
             call("split", {"r.x", "rxo", "rxi", lanes}) + call("rfactor", {"rxi", "lane", lanesName}) +
                 call("reorder", {"rxi", "c", "n"}) + parallelN(size));
      line(lanesName, call("compute_at", {perExample, "n"}) + call("reorder_storage", {"lane", "c", "n"}) +
                          call("vectorize", {"lane", lanes}));
      update(lanesName, 0,
             call("reorder", {"lane", "c", "rxo", "r.y", "n"}) + call("vectorize", {"lane"}) + call("unroll", {"c"}));
      return;
    }
    update(perExample, 0,
           call("reorder", {"c", "r.x", "r.y", "n"}) + parallelN(size) +
               (channelsInner && C >= dl ? call("vectorize", {"c", dl, "GuardWithIf"})
                : C <= 16                ? call("unroll", {"c"})
                                         : kNone));
  }

  // Training-mode batchnorm: its statistics' two sums over the batch (channelSum), then the
  // normalization, elementwise. The statistics are per channel: small, at root. Read only by
  // activations, the normalization (a multiply-add) is computed inside them, not stored: its
  // gradients read the batchnorm's input, not its result, and a pass over maps the size of
  // C1's costs more than the multiply-add computed again in an activation's gradient.
  void batchNorm(const LoweredOp &op) {
    const LoweredOp *in = operand(op, 0);
    for (const char *role : {"sum", "squares"})
      channelSum(op, role, in, in && channelsInner(*in));
    for (const char *role : {"mean", "var", "invstd"})
      line(helper(op, role), call("compute_root"));
    // (Its gradients and running statistics name its result to reach its statistics, and
    // read its input.)
    const bool onlyActivations = std::all_of(op.users.begin(), op.users.end(), [&](int u) {
      const std::string &kind = p_.ops[u].kind;
      return p_.ops[u].activation || kind == "batchnorm_grad_input" || kind == "batchnorm_grad_scale" ||
             kind == "batchnorm_running";
    });
    if (onlyActivations)
      return line(op.name, call("compute_inline"));
    elementwise(op);
  }

  // A conv's weight gradient dW[f][j] = sum over positions and examples of dout[f] patch[j].
  void convGradWeight(const LoweredOp &op) {
    const std::string &name = op.name;
    std::string dw = op.has("dense") ? helper(op, "dense") : name; // (kx, ky, c, f)
    // dout, the gradient of the conv's output, has the conv's extents: x, y, filters, n.
    const LoweredOp *dout = operand(op, 0);
    if (!dout)
      return line(name, call("compute_root"));
    const std::vector<int> &ce = dout->extents;
    int W = ce[0], F = ce[2];
    // Vectorized over filters as the conv is (filtersInner).
    bool overFilters = k_.filtersInner && F >= L;
    if (op.has("patches"))
      line(helper(op, "patches"), call("compute_inline"));
    if (op.has("padded"))
      line(helper(op, "padded"), call("compute_root") + parallelN(exampleSize(*dout)));
    if (dw != name)
      line(name, call("compute_root"));
    if (overFilters) {
      // Vectorized over filters (dout stored filters innermost), per input channel: the
      // channel's k*k window offsets times the filter vectors accumulate in registers.
      const int k = op.extents[0];
      // Filters in tiles of whole vectors: all of them when they are whole vectors, else
      // tiles whose last is shifted inwards (a few filters computed twice) where a masked
      // vector would run lane by lane (the classic C5's 120): the tile that recomputes the
      // fewest, then the widest.
      const bool whole = F % L == 0;
      int ti = whole ? F / L : 1;
      auto computed = [&](int t) { return (F + t * L - 1) / (t * L) * t; };
      for (int t = 2; !whole && t <= F / L && t <= k_.accumulators; ++t)
        if (computed(t) <= computed(ti))
          ti = t;
      int jt = balancedTile(k * k, std::max(1, k_.accumulators / ti));
      line(dw, call("compute_root") +
                   (whole ? call("reorder", {"kx", "ky", "f", "c"})
                          : call("split", {"f", "fo", "fi", ti * L, "ShiftInwards"}) +
                                call("reorder", {"kx", "ky", "fi", "fo", "c"})) +
                   call("parallel", {"c"}));
      line(helper(op, "flat"), call("compute_at", {dw, whole ? "c" : "fo"}) + call("reorder_storage", {"f", "j"}) +
                                   call("vectorize", {"f", L}));
      update(helper(op, "flat"), 0,
             call("split", {"j", "jo", "ji", jt, "GuardWithIf"}) +
                 call("split", {"f", "fo", "fi", L, whole ? "GuardWithIf" : ""}) +
                 call("reorder", {"fi", "fo", "ji", "r.x", "r.y", "r.z", "jo"}) + call("vectorize", {"fi"}) +
                 (ti > 1 ? call("unroll", {"fo"}) : kNone) + call("unroll", {"ji"}));
      return;
    }
    // Few filters: a GEMM of few rows (filters) and columns (window offsets) over a long sum
    // (positions x examples). Examples are summed in parallel chunks (rfactor); per example,
    // tiles of filters x window offsets accumulate in registers, the sum along x split into
    // vector lanes (rfactor again), while one example's input and gradient stay in L1 for
    // every tile (per filter over the whole batch, each tile would stream the batch from L3).
    int lanes = 0;
    for (int d = std::min(L, W); d >= 4; --d)
      if (W % d == 0) {
        lanes = d;
        break;
      }
    if (!lanes) {
      line(dw, call("compute_root") + call("parallel", {"f"}));
      line(helper(op, "flat"), call("compute_at", {dw, "f"}));
      update(helper(op, "flat"), 0, call("reorder", {"j", "f", "r.x", "r.y", "r.z"}));
      return;
    }
    // A lane count that is not a power of two (28 = 2 x 14) makes LLVM assemble every vector
    // from 8 + 4 + 2 pieces. With a padded input (defined everywhere) the lanes are rounded
    // up to a whole vector instead: the extra lanes read past the row and are never summed.
    // Without one, a power of two that divides the row is next best.
    int laneVector = lanes;
    const char *laneTail = "";
    if (lanes & (lanes - 1)) {
      int pow2 = 0;
      for (int d = L; d >= 8 && !pow2; d /= 2)
        if (W % d == 0)
          pow2 = d;
      if (op.has("padded") && 2 * lanes > L)
        laneVector = L, laneTail = "RoundUp";
      else if (pow2)
        lanes = pow2, laneVector = pow2;
    }
    // The register tile: filters (a divisor of F) x window offsets, as many as the
    // accumulators allow (AVX2: 2 x 5 of C1's 6 x 25).
    const std::vector<int> &we = op.extents; // kx, ky, c, f (a table conv's: kx, ky, j)
    int J = dw == name ? we[0] * we[1] * we[2] : k_.accumulators;
    int ft = 1, jt = balancedTile(J, std::max(1, k_.accumulators));
    for (int t = 2; t <= F && t <= k_.accumulators; ++t)
      if (F % t == 0 && t * balancedTile(J, k_.accumulators / t) > ft * jt)
        ft = t, jt = balancedTile(J, k_.accumulators / t);
    const int examplesPerTask = 8;
    std::string partial = name + ".partial", lanesF = name + ".lanes";
    line(dw, call("compute_root"));
    line(helper(op, "flat"), call("compute_root"));
    update(helper(op, "flat"), 0,
           call("split", {"r.z", "rzo", "rzi", examplesPerTask, "GuardWithIf"}) + call("rfactor", {"rzo", "chunk", partial}));
    // rfactor puts `chunk` where the chunks' variable was, inside j and f: moved outermost.
    line(partial, call("compute_root") + call("parallel", {"chunk"}));
    update(partial, 0, call("split", {"r.x", "rxo", "rxi", lanes}) + call("rfactor", {"rxi", "lane", lanesF}) +
                           call("reorder", {"rxi", "j", "f", "chunk"}) + call("parallel", {"chunk"}));
    line(lanesF, call("compute_at", {partial, "chunk"}) + call("reorder_storage", {"lane", "j", "f", "chunk"}) +
                     call("vectorize", {"lane", laneVector, laneTail}));
    update(lanesF, 0, call("split", {"j", "jo", "ji", jt, "GuardWithIf"}) + call("split", {"f", "fo", "fi", ft}) +
                          call("reorder", {"lane", "ji", "fi", "rxo", "r.y", "jo", "fo", "rzi", "chunk"}) +
                          call("vectorize", {"lane", laneVector, laneTail}) + call("unroll", {"ji"}) +
                          call("unroll", {"fi"}));
  }

  // A conv's input gradient, the transposed conv: per example, R rows at a time, all the
  // input channels and the row's vectors along x accumulate in registers while the sum runs
  // over filters and window offsets; dout, zero-padded, is stored per example (it fits in L1).
  void convGradInput(const LoweredOp &op) {
    const std::string &name = op.name;
    const std::vector<int> &e = op.extents; // x, y, c, n
    int W = e[0], H = e[1], C = e[2];
    const LoweredOp *dout = operand(op, 0);
    if (dout && dout->extents[0] == 1 && dout->extents[1] == 1 && onePositionGradInput(op))
      return;
    if (op.has("dout"))
      return examplesGradInput(op);
    if (k_.filtersInner && C >= L && C % L == 0 && C / L <= k_.accumulators)
      return channelsGradInput(op);
    line(helper(op, "weights"), call("compute_root"));
    line(helper(op, "padded"), call("compute_at", {name, "n"}));
    // A row rounded up to whole vectors: reads of `.padded` past it are zeros, and the few
    // extra lanes' results are discarded. A short row is one vector of its own width
    // (C5's 5: 5 lanes, not two vectors of 4), which leaves accumulators for every channel.
    int w = W >= (3 * L) / 4 ? L : std::max(1, equalRowWidth(W));
    int vectors = (W + w - 1) / w;
    int rows = std::max(1, std::min({k_.gradInRows, H, k_.accumulators / std::max(1, vectors * C)}));
    bool unrollChannels = vectors * C * rows <= k_.accumulators;
    const char *xTail = W % w ? "RoundUp" : "";
    Calls xv = w > 1 ? call("vectorize", {"x", w, xTail}) : kNone;
    const char *rowTail = H % rows ? "GuardWithIf" : "RoundUp";
    line(name, call("compute_root") + call("split", {"y", "yo", "yi", rows, rowTail}) +
                   call("reorder", {"x", "c", "yi", "yo", "n"}) + parallelN(exampleWork(op)) + xv);
    line(helper(op, "acc"), call("compute_at", {name, "yo"}) + xv);
    Calls inner = w > 1 ? call("split", {"x", "xo", "xi", w, xTail}) +
                              call("reorder", {"xi", "xo", "c", "y", "r.x", "r.y", "r.z", "n"}) +
                              call("vectorize", {"xi"}) + call("unroll", {"xo"})
                        : call("reorder", {"x", "c", "y", "r.x", "r.y", "r.z", "n"});
    update(helper(op, "acc"), 0, inner + (unrollChannels ? call("unroll", {"c"}) : kNone) + call("unroll", {"y"}));
  }

  // The exact input gradient of a conv with few input channels (C3 reads C1's 6 maps),
  // vectorized over examples: a block of them x every channel of one input position
  // accumulates in registers, over the filters and the window offsets that reach dout (no
  // multiply-add reads a zero). dout is copied per block, examples innermost, from its
  // layout (`.dout`: along its innermost dimension, each value stored to its place); the
  // result is stored to the (x, y, c, n) layout a value at a time (a store per tile's
  // hundreds of multiply-adds). Along x, a third to a half of the lanes would multiply
  // zeros (C3's 14-wide rows in 16 lanes of which 10 reach dout per window column).
  void examplesGradInput(const LoweredOp &op) {
    const std::string &name = op.name, acc = helper(op, "acc"), copy = helper(op, "dout");
    const int C = op.extents[2];
    // A power of two of vectors (blocks that divide the batches people use: 256, 64), on
    // at least 12 accumulators: the tile's other operands are one dout vector and one
    // broadcast weight, so 12 fit in AVX2's 16 registers where the knob's default leaves
    // room for wider operand sets (LeNet-5's step with 6 on AVX2: 6% slower).
    int vectors = 1;
    while (2 * vectors * C <= std::max(k_.accumulators, 12))
      vectors *= 2;
    const int block = vectors * L;
    line(helper(op, "weights"), call("compute_root"));
    line(name, call("compute_root") + call("split", {"n", "no", "ni", block, "RoundUp"}) +
                   call("reorder", {"ni", "c", "x", "y", "no"}) + call("parallel", {"no"}) +
                   call("vectorize", {"ni", L}));
    const LoweredOp *dout = operand(op, 0);
    const bool filtersInnermost = dout && channelsInner(*dout);
    const int F = dout ? dout->extents[2] : 0, OW = dout ? dout->extents[0] : 0;
    line(copy, call("compute_at", {name, "no"}) + call("reorder_storage", {"n", "f", "ox", "oy"}) +
                   (filtersInnermost ? call("reorder", {"f", "n", "ox", "oy"}) + vec("f", F, "GuardWithIf")
                                     : call("reorder", {"ox", "n", "f", "oy"}) + vec("ox", OW, "GuardWithIf")));
    Calls tile = call("vectorize", {"n", L}) + call("unroll", {"c"});
    line(acc, call("compute_at", {name, "x"}) + call("store_in", {"Stack"}) +
                  call("reorder_storage", {"n", "c", "x", "y"}) + tile);
    update(acc, 0,
           call("split", {"n", "nv", "nl", L}) + call("reorder", {"nl", "nv", "c", "r.z", "r.x", "r.y", "x", "y"}) +
               call("vectorize", {"nl"}) + (vectors > 1 ? call("unroll", {"nv"}) : kNone) + call("unroll", {"c"}));
  }

  // The input gradient of a conv with one output position, a dense layer's input gradient:
  // each input position is one weight entry times dout, summed over filters. Vectorized over
  // the input channels (the weight copy stored channels innermost), a tile of a row's
  // positions x vectors of channels x examples accumulates in registers; along x, a short
  // row (C5's 5) would fill a third of each vector. False when the channels are no whole
  // vectors or a row's tile does not fit.
  bool onePositionGradInput(const LoweredOp &op) {
    const std::string &name = op.name, acc = helper(op, "acc");
    const int W = op.extents[0], C = op.extents[2], w = equalRowWidth(C);
    if (!w || C % w || W * (C / w) > k_.accumulators)
      return false;
    int tn = oneExample() ? 1 : std::max(1, std::min(k_.denseTileU, k_.accumulators / (W * (C / w))));
    line(helper(op, "weights"), call("compute_root") + call("reorder_storage", {"ci", "kx", "ky", "co"}));
    line(name, call("compute_root") + call("split", {"n", "no", "ni", tn, "GuardWithIf"}) +
                   call("reorder", {"c", "x", "ni", "y", "no"}) + call("vectorize", {"c", w}) +
                   (oneExample() ? kNone : call("parallel", {"no"})));
    line(helper(op, "padded"), call("compute_at", {name, "no"}));
    Calls tile = call("vectorize", {"c", w}) + call("unroll", {"c"}) + call("unroll", {"x"}) + call("unroll", {"n"});
    line(acc, call("compute_at", {name, "y"}) + call("store_in", {"Stack"}) +
                  call("reorder_storage", {"c", "x", "y", "n"}) + tile);
    update(acc, 0, call("reorder", {"c", "x", "n", "r.x", "r.y", "r.z", "y"}) + tile);
    return true;
  }

  // Whether the gradient `op` is read only by activation gradients laid out channels
  // innermost, directly or through pooling gradients computed inside them.
  bool readChannelsInner(const LoweredOp &op) const {
    return !op.users.empty() && std::all_of(op.users.begin(), op.users.end(), [&](int u) {
      const LoweredOp &user = p_.ops[u];
      if (user.activationGrad)
        return channelsInner(user);
      bool pooling = user.kind == "avgpool_grad" || user.kind == "maxpool_grad" || user.kind == "subsample_grad_input";
      return pooling && onlyActivationGradsRead(user) && readChannelsInner(user);
    });
  }

  // The input gradient of a conv whose input has whole vectors of channels (the wide
  // LeNet's C3 reads 32 maps), vectorized over them. A tile of a row's positions x the
  // channel vectors accumulates in registers: per filter and window offset, one weight
  // vector load per channel vector and one dout value per position; along x, a row of 14
  // was one vector of 16 lanes, its channels in a loop, a weight and a row loaded per
  // multiply-add. Stored channels innermost when its readers are laid out so (the wide
  // LeNet's C1 activation), else as it is read (scattered stores: one per value, against
  // filters x window offsets multiply-adds).
  void channelsGradInput(const LoweredOp &op) {
    const std::string &name = op.name, acc = helper(op, "acc");
    const int W = op.extents[0], vectors = op.extents[2] / L;
    const int xt = balancedTile(W, std::max(1, k_.accumulators / vectors));
    line(helper(op, "weights"), call("compute_root") + call("reorder_storage", {"ci", "kx", "ky", "co"}));
    line(name, call("compute_root") +
                   (readChannelsInner(op) ? call("reorder_storage", {"c", "x", "y", "n"}) : kNone) +
                   call("split", {"x", "xo", "xi", xt, "ShiftInwards"}) + call("reorder", {"c", "xi", "xo", "y", "n"}) +
                   parallelN(exampleWork(op)) + call("vectorize", {"c", L}));
    line(helper(op, "padded"), call("compute_at", {name, "n"}));
    Calls tile = call("vectorize", {"c", L}) + (vectors > 1 ? call("unroll", {"c"}) : kNone) + call("unroll", {"x"});
    line(acc, call("compute_at", {name, "xo"}) + call("reorder_storage", {"c", "x", "y", "n"}) + tile);
    update(acc, 0, call("reorder", {"c", "x", "r.x", "r.y", "r.z", "y", "n"}) + tile);
  }

  const LoweredPipeline &p_;
  const CpuKnobs &k_;
  const int L;
  std::vector<StageSchedule> stages_;
  std::set<std::string> done_;
};

} // namespace

std::vector<StageSchedule> generateCpuSchedule(const LoweredPipeline &p, const CpuKnobs &k) {
  return CpuWriter(p, k).run();
}

std::vector<StageSchedule> generateGpuSchedule(const LoweredPipeline &p, const GpuKnobs &k) {
  // Every Func a kernel of its own: its two innermost dimensions tiled over threads and
  // blocks, the rest fused into a third block dimension; reductions run inside the kernels.
  // Double-precision sums, scalars and what reads them stay on the host (OpenCL devices
  // need not have doubles); helpers cheap to recompute are inlined into their kernels.
  // What each Func is: inlined helpers and flattens, and the ops summed in a helper.
  std::set<std::string> inlined, summed;
  for (const LoweredOp &op : p.ops) {
    if (op.kind == "flatten")
      inlined.insert(op.name);
    if (op.has("sum"))
      summed.insert(op.name);
    for (const char *role : {"patches", "is_max", "weights", "padded", "dout"})
      if (op.has(role))
        inlined.insert(op.name + "." + role);
  }
  std::vector<StageSchedule> out;
  auto add = [&](const std::string &func, int update, Calls calls) {
    StageSchedule s;
    s.func = func;
    s.update = update;
    s.calls = std::move(calls);
    out.push_back(std::move(s));
  };
  std::set<std::string> seen;
  for (const auto &[name, f] : p.funcs) {
    if (!seen.insert(f.name()).second)
      continue;
    if (inlined.count(name)) {
      add(name, -1, call("compute_inline"));
      continue;
    }
    std::vector<Halide::Var> args = f.args();
    bool host = args.empty() || f.output_types()[0] == Halide::Float(64) || summed.count(name);
    if (host) {
      add(name, -1, call("compute_root"));
      continue;
    }
    Calls kernel;
    if (args.size() == 1) {
      kernel = call("gpu_tile", {args[0].name(), "bx", "tx", k.block1D, "GuardWithIf"});
    } else {
      kernel = call("gpu_tile",
                    {args[0].name(), args[1].name(), "bx", "by", "tx", "ty", k.blockX, k.blockY, "GuardWithIf"});
      if (args.size() >= 3) {
        std::string fused = args[2].name();
        for (size_t i = 3; i < args.size(); ++i) {
          std::string next = "f" + std::to_string(i);
          kernel = kernel + call("fuse", {fused, args[i].name(), next});
          fused = next;
        }
        kernel = kernel + call("gpu_blocks", {fused});
      }
    }
    add(name, -1, call("compute_root") + kernel);
    for (int u = 0; u < f.num_update_definitions(); ++u)
      add(name, u, kernel);
  }
  return out;
}

} // namespace lenetc
