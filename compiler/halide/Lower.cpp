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
  out_.kinds[name] = op->getName().stripDialect().str();
  out_.extents[name] = halideExtents(shapeOf(op->getResult(0)));
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

void fixBatch(LoweredPipeline &p, int batch) {
  auto fix = [batch](std::vector<int> &extents) {
    bool perExample = false;
    for (int &e : extents)
      if (e < 0)
        e = batch, perExample = true;
    return perExample;
  };
  for (size_t i = 0; i < p.inputs.size(); ++i)
    if (fix(p.inputExtents[i]))
      p.inputs[i].dim(p.inputs[i].dimensions() - 1).set_bounds(0, batch);
  for (size_t i = 0; i < p.outputs.size(); ++i)
    if (fix(p.outputExtents[i]))
      p.outputs[i].output_buffer().dim(p.outputs[i].dimensions() - 1).set_bounds(0, batch);
  for (auto &[name, extents] : p.extents)
    fix(extents);
  p.fixedBatch = batch;
}

} // namespace lenetc
