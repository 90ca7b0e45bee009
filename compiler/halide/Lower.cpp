#include "halide/Lower.h"

#include "dialect/Dialect.h"
#include "halide/Ops.h"

#include <set>

using namespace mlir;
using namespace lenet;
namespace H = Halide;

namespace lenetc {

std::vector<H::Argument> LoweredPipeline::arguments() const {
  std::vector<H::Argument> args;
  for (const auto &p : inputs)
    args.push_back(p);
  return args;
}

namespace {

std::vector<int64_t> shapeOf(Value v) {
  auto t = v.getType().cast<RankedTensorType>();
  return std::vector<int64_t>(t.getShape().begin(), t.getShape().end());
}

// Halide's dimension d of a tensor with `shape` (the dialect's order, outermost first).
int64_t halideExtent(const std::vector<int64_t> &shape, int d) { return shape[shape.size() - 1 - d]; }

// All of a shape's Halide extents, -1 for the dynamic batch.
std::vector<int> halideExtents(const std::vector<int64_t> &shape) {
  std::vector<int> out;
  for (int d = 0; d < static_cast<int>(shape.size()); ++d) {
    int64_t e = halideExtent(shape, d);
    out.push_back(ShapedType::isDynamic(e) ? -1 : static_cast<int>(e));
  }
  return out;
}

// Constrains a buffer's static dimensions (all but a leading dynamic batch) to min 0 and
// their extents; the batch dimension starts at 0 too.
template <typename Dims> void constrainDims(Dims dimOf, const std::vector<int64_t> &shape) {
  for (int d = 0; d < static_cast<int>(shape.size()); ++d) {
    int64_t e = halideExtent(shape, d);
    if (ShapedType::isDynamic(e)) {
      dimOf(d).set_min(0);
    } else {
      dimOf(d).set_bounds(0, static_cast<int>(e));
      dimOf(d).set_estimate(0, static_cast<int>(e));
    }
  }
}

hl::Window windowOf(Value input, int64_t size, int64_t stride, int64_t pad) {
  auto s = shapeOf(input); // [?, C, H, W]
  hl::Window w;
  w.channels = s[1];
  w.height = s[2];
  w.width = s[3];
  w.size = size;
  w.stride = stride;
  w.pad = pad;
  return w;
}

template <typename ConvLike> hl::ConvSpec convSpec(ConvLike op, Value input, int64_t filters) {
  hl::ConvSpec s;
  s.window = windowOf(input, op.kernelAttr().getInt(), op.strideAttr().getInt(), op.padAttr().getInt());
  s.filters = filters;
  if (auto table = op.tableAttr())
    for (Attribute row : table) {
      std::vector<int> maps;
      for (Attribute m : row.cast<ArrayAttr>())
        maps.push_back(m.cast<IntegerAttr>().getInt());
      s.table.push_back(maps);
    }
  return s;
}

class Lowering {
public:
  explicit Lowering(LoweredPipeline &out) : out_(out) {}
  bool run(FuncOp func);

private:
  H::Func get(Value v) { return values_.at(v.getAsOpaquePointer()); }
  void set(Value v, H::Func f) { values_[v.getAsOpaquePointer()] = f; }
  H::ImageParam addInput(H::Type type, Value v, const std::string &name);
  bool lowerOp(Operation *op);
  void registerHelpers(const std::string &name, H::Func f);
  int rank(Value v) { return static_cast<int>(shapeOf(v).size()); }

  LoweredPipeline &out_;
  std::map<void *, H::Func> values_;
};

H::ImageParam Lowering::addInput(H::Type type, Value v, const std::string &name) {
  auto shape = shapeOf(v);
  H::ImageParam p(type, static_cast<int>(shape.size()), hl::halideName(name));
  constrainDims([&](int d) { return p.dim(d); }, shape);
  out_.inputs.push_back(p);
  out_.inputNames.push_back(name);
  out_.inputExtents.push_back(halideExtents(shape));
  set(v, p);
  return p;
}

bool Lowering::lowerOp(Operation *op) {
  std::string name = opName(op).str();
  H::Expr batch = out_.batch;
  auto in = [&](unsigned i) { return get(op->getOperand(i)); };
  H::Func f;
  if (auto c = dyn_cast<ConvOp>(op)) {
    f = hl::conv(name, in(0), in(1), in(2), convSpec(c, c.input(), c.filtersAttr().getInt()));
  } else if (auto c = dyn_cast<ConvGradInputOp>(op)) {
    f = hl::convGradInput(name, in(0), in(1), convSpec(c, c.getResult(), shapeOf(c.dout())[1]));
  } else if (auto c = dyn_cast<ConvGradWeightOp>(op)) {
    f = hl::convGradWeight(name, in(0), in(1), convSpec(c, c.input(), shapeOf(c.dout())[1]), batch);
  } else if (auto p = dyn_cast<AvgPoolOp>(op)) {
    f = hl::avgpool(name, in(0), windowOf(p.input(), p.sizeAttr().getInt(), p.strideAttr().getInt(), 0));
  } else if (auto p = dyn_cast<MaxPoolOp>(op)) {
    f = hl::maxpool(name, in(0), windowOf(p.input(), p.sizeAttr().getInt(), p.strideAttr().getInt(), 0));
  } else if (auto p = dyn_cast<SubsampleOp>(op)) {
    f = hl::subsample(name, in(0), in(1), in(2),
                      windowOf(p.input(), p.sizeAttr().getInt(), p.strideAttr().getInt(), 0));
  } else if (auto p = dyn_cast<AvgPoolGradOp>(op)) {
    f = hl::avgpoolGrad(name, in(0),
                        windowOf(p.getResult(), p.sizeAttr().getInt(), p.strideAttr().getInt(), 0));
  } else if (auto p = dyn_cast<MaxPoolGradOp>(op)) {
    f = hl::maxpoolGrad(name, in(0), in(1),
                        windowOf(p.input(), p.sizeAttr().getInt(), p.strideAttr().getInt(), 0));
  } else if (auto p = dyn_cast<SubsampleGradInputOp>(op)) {
    f = hl::subsampleGradInput(name, in(0), in(1),
                               windowOf(p.getResult(), p.sizeAttr().getInt(), p.strideAttr().getInt(), 0));
  } else if (auto p = dyn_cast<SubsampleGradCoefOp>(op)) {
    f = hl::subsampleGradCoef(name, in(0), in(1),
                              windowOf(p.input(), p.sizeAttr().getInt(), p.strideAttr().getInt(), 0), batch);
  } else if (auto d = dyn_cast<DenseOp>(op)) {
    f = hl::dense(name, in(0), in(1), in(2), static_cast<int>(shapeOf(d.input())[1]));
  } else if (auto d = dyn_cast<DenseGradInputOp>(op)) {
    f = hl::denseGradInput(name, in(0), in(1), static_cast<int>(shapeOf(d.dout())[1]));
  } else if (isa<DenseGradWeightOp>(op)) {
    f = hl::denseGradWeight(name, in(0), in(1), batch);
  } else if (auto b = dyn_cast<BiasGradOp>(op)) {
    auto s = shapeOf(b.dout());
    f = hl::biasGrad(name, in(0), static_cast<int>(s.size()), s.size() == 4 ? s[2] : 1,
                     s.size() == 4 ? s[3] : 1, batch);
  } else if (auto fl = dyn_cast<FlattenOp>(op)) {
    auto s = shapeOf(fl.input());
    if (s.size() == 2) { // already flat: flatten is the identity
      set(op->getResult(0), in(0));
      return true;
    }
    f = hl::flatten(name, in(0), s[1], s[2], s[3]);
  } else if (auto fl = dyn_cast<FlattenGradOp>(op)) {
    auto s = shapeOf(fl.getResult());
    if (s.size() == 2) {
      set(op->getResult(0), in(0));
      return true;
    }
    f = hl::flattenGrad(name, in(0), s[2], s[3]);
  } else if (isa<SigmoidOp>(op)) {
    f = hl::sigmoid(name, in(0), rank(op->getResult(0)));
  } else if (isa<TanhOp>(op)) {
    f = hl::tanh(name, in(0), rank(op->getResult(0)));
  } else if (isa<ReluOp>(op)) {
    f = hl::relu(name, in(0), rank(op->getResult(0)));
  } else if (auto s = dyn_cast<ScaledTanhOp>(op)) {
    f = hl::scaledTanh(name, in(0), rank(op->getResult(0)), s.amplitudeAttr().getValueAsDouble(),
                       s.slopeAttr().getValueAsDouble());
  } else if (isa<SigmoidGradOp>(op)) {
    f = hl::sigmoidGrad(name, in(0), in(1), rank(op->getResult(0)));
  } else if (isa<TanhGradOp>(op)) {
    f = hl::tanhGrad(name, in(0), in(1), rank(op->getResult(0)));
  } else if (isa<ReluGradOp>(op)) {
    f = hl::reluGrad(name, in(0), in(1), rank(op->getResult(0)));
  } else if (auto s = dyn_cast<ScaledTanhGradOp>(op)) {
    f = hl::scaledTanhGrad(name, in(0), in(1), rank(op->getResult(0)), s.amplitudeAttr().getValueAsDouble(),
                           s.slopeAttr().getValueAsDouble());
  } else if (isa<AddOp>(op)) {
    f = hl::add(name, in(0), in(1), rank(op->getResult(0)));
  } else if (auto l = dyn_cast<SoftmaxCrossEntropyOp>(op)) {
    f = hl::softmaxCrossEntropy(name, in(0), in(1), shapeOf(l.logits())[1], batch);
  } else if (auto l = dyn_cast<SoftmaxCrossEntropyGradOp>(op)) {
    f = hl::softmaxCrossEntropyGrad(name, in(0), in(1), shapeOf(l.logits())[1], batch);
  } else if (auto s = dyn_cast<SoftmaxOp>(op)) {
    f = hl::softmax(name, in(0), shapeOf(s.logits())[1]);
  } else if (auto c = dyn_cast<CorrectCountOp>(op)) {
    f = hl::correctCount(name, in(0), in(1), shapeOf(c.logits())[1], batch);
  } else {
    op->emitError() << op->getName() << " '" << name << "' cannot be lowered to Halide";
    return false;
  }
  set(op->getResult(0), f);
  out_.funcs[name] = f;
  registerHelpers(name, f);
  return true;
}

// The Funcs an op's algorithm made besides its result (`c3.grad_w.flat`, `s2.window_sum`, ...)
// are named `<op>__<what>`: record them under `<op>.<what>` so that schedules reach them too.
void Lowering::registerHelpers(const std::string &name, H::Func f) {
  std::string prefix = hl::halideName(name) + "__";
  for (const auto &[fname, function] : H::Internal::find_transitive_calls(f.function())) {
    if (fname.compare(0, prefix.size(), prefix) != 0)
      continue;
    std::string what = fname.substr(prefix.size());
    // Halide makes a name unique with "$N" when it is made again (lowering twice, for the
    // CPU and the GPU variant): the helper is the same helper.
    if (size_t dollar = what.find('$'); dollar != std::string::npos)
      what.resize(dollar);
    if (what == "w_im" || what == "b_im" || what == "coef_im")
      continue; // a parameter's ImageParam, not a Func of the algorithm
    for (size_t at; (at = what.find("__")) != std::string::npos;)
      what.replace(at, 2, ".");
    out_.funcs.emplace(name + "." + what, H::Func(function));
  }
}

bool Lowering::run(FuncOp func) {
  out_.name = func.getName().str();
  Block &body = func.getBody().front();
  for (BlockArgument arg : func.getArguments()) {
    auto nameAttr = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), kArgNameAttr);
    std::string name = nameAttr ? nameAttr.getValue().str() : "arg" + std::to_string(arg.getArgNumber());
    bool isLabel = func.getArgAttr(arg.getArgNumber(), kClassesAttr) != nullptr;
    H::ImageParam p = addInput(isLabel ? H::Int(32) : H::Float(32), arg, name);
    if (arg.getArgNumber() == 0)
      out_.batch = p.dim(p.dimensions() - 1).extent();
  }
  for (Operation &op : body)
    if (auto p = dyn_cast<ParamOp>(op))
      addInput(H::Float(32), p.getResult(), p.name().str());
  for (Operation &op : body) {
    if (isa<ParamOp, ReturnOp>(op))
      continue;
    if (!lowerOp(&op))
      return false;
  }
  for (Value v : body.getTerminator()->getOperands()) {
    Operation *def = v.getDefiningOp();
    H::Func f = get(v);
    out_.outputs.push_back(f);
    out_.outputNames.push_back(def ? opName(def).str() : "input");
    auto shape = shapeOf(v);
    out_.outputExtents.push_back(halideExtents(shape));
    constrainDims([&](int d) { return f.output_buffer().dim(d); }, shape);
  }
  return true;
}

} // namespace

bool lowerToHalide(FuncOp func, LoweredPipeline &out) { return Lowering(out).run(func); }

namespace {
bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
} // namespace

void applyDefaultSchedule(LoweredPipeline &p, const H::Target &target) {
  const int lanes = target.natural_vector_size(H::Float(32));
  auto vectorize = [&](H::Stage s, H::VarOrRVar v) { s.vectorize(v, lanes, H::TailStrategy::GuardWithIf); };
  for (auto &[name, f] : p.funcs) {
    // Helpers cheap enough to recompute where they are used stay inline; a conv's patches
    // are computed with the weight gradient that reads them (below).
    if (endsWith(name, ".patches") || endsWith(name, ".is_max"))
      continue;
    if (endsWith(name, ".cols")) {
      // A conv's input gradient, per receptive field: computed per example where the
      // input gradient needs it, the matrix product's row vectorized.
      H::Func din = p.funcs.at(name.substr(0, name.size() - 5));
      H::Var j = f.args()[0];
      f.compute_at(din, din.args().back());
      vectorize(f, j);
      H::RVar rf = f.rvars(0)[0];
      f.update(0).reorder(j, rf, f.args()[1], f.args()[2]);
      vectorize(f.update(0), j);
      continue;
    }
    f.compute_root();
    std::vector<H::Var> args = f.args();
    int dims = static_cast<int>(args.size());
    if (dims == 0)
      continue;
    H::Var outer = args.back(), inner = args.front();
    if (endsWith(name, ".flat")) {
      // A conv's weight gradient as a matrix product over (ox, oy, example): each example
      // reduced apart and in parallel (rfactor), its patches computed once per output
      // position, the row of the product vectorized along the weight's memory order.
      std::vector<H::RVar> r = f.rvars(0);
      H::Var example("example");
      H::Func partial = f.update(0).rfactor(r[2], example);
      partial.compute_root().parallel(example);
      vectorize(partial, partial.args()[0]);
      std::vector<H::RVar> pr = partial.rvars(0);
      partial.update(0)
          .reorder(partial.args()[0], partial.args()[1], pr[0], pr[1], example)
          .parallel(example);
      vectorize(partial.update(0), partial.args()[0]);
      p.funcs.at(name.substr(0, name.size() - 5) + ".patches")
          .compute_at(partial, pr[0])
          .vectorize(H::Var("j"), lanes, H::TailStrategy::GuardWithIf);
      vectorize(f, inner);
      vectorize(f.update(0), inner);
      continue;
    }
    bool isActivation = args.back().name() == "n";
    if (isActivation || f.num_update_definitions() == 0) {
      // Activations (..., n): parallel over the batch, vectorized along the innermost dim.
      auto schedule = [&](H::Stage s) {
        if (dims > 1)
          s.parallel(outer);
        vectorize(s, inner);
      };
      schedule(f);
      for (int u = 0; u < f.num_update_definitions(); ++u)
        schedule(f.update(u));
      continue;
    }
    // Other parameter gradients: reductions whose last reduction variable is the batch.
    std::vector<H::RVar> rvars = f.rvars(0);
    if (rvars.size() == 1) {
      // Over the batch only (dense layers): parallel over the output units, the batch
      // loop outside the vectorized inputs, as a matrix product streams.
      vectorize(f, inner);
      if (dims > 1) {
        f.parallel(outer);
        f.update(0).reorder(inner, rvars[0], outer).parallel(outer);
      }
      vectorize(f.update(0), inner);
      continue;
    }
    // Over image positions and the batch: each example is reduced apart, in parallel
    // (rfactor), then the partials are summed.
    H::Var example("example");
    H::Func partial = f.update(0).rfactor(rvars.back(), example);
    partial.compute_root().parallel(example);
    vectorize(partial, partial.args().front());
    partial.update(0).parallel(example);
    vectorize(partial.update(0), partial.args().front());
    vectorize(f, inner);
    vectorize(f.update(0), inner);
  }
}

void applyDefaultGpuSchedule(LoweredPipeline &p, const H::Target &target) {
  (void)target;
  auto schedule = [](H::Stage s, const std::vector<H::Var> &args) {
    const int dims = static_cast<int>(args.size());
    if (dims == 1) {
      H::Var o, i;
      s.gpu_tile(args[0], o, i, 64, H::TailStrategy::GuardWithIf);
      return;
    }
    H::Var bx, by, tx, ty;
    s.gpu_tile(args[0], args[1], bx, by, tx, ty, 16, 16, H::TailStrategy::GuardWithIf);
    if (dims >= 3) {
      H::Var fused = args[2];
      for (int d = 3; d < dims; ++d) {
        H::Var next;
        s.fuse(fused, args[d], next);
        fused = next;
      }
      s.gpu_blocks(fused);
    }
  };
  std::set<std::string> done; // a Func may be reachable under two names
  for (auto &[name, f] : p.funcs) {
    if (endsWith(name, ".patches") || endsWith(name, ".is_max") || !done.insert(f.name()).second)
      continue; // recomputed inside the kernels that read them
    f.compute_root();
    std::vector<H::Var> args = f.args();
    // Scalars, double sums and what reads them stay on the host (OpenCL devices need not
    // have doubles).
    if (args.empty() || f.output_types()[0] == H::Float(64) || p.funcs.count(name + ".sum"))
      continue;
    schedule(f, args);
    for (int u = 0; u < f.num_update_definitions(); ++u)
      schedule(f.update(u), args);
  }
}

} // namespace lenetc
