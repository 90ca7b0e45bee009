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

// The formula of an activation op, with its float attributes as parameters.
hl::ActivationFormula activationFormula(Operation *op) {
  hl::ActivationParams params;
  for (NamedAttribute a : op->getAttrs())
    if (auto f = a.getValue().dyn_cast<FloatAttr>())
      params[a.getName().str()] = f.getValueAsDouble();
  hl::ActivationFormula formula;
  if (!hl::findActivation(op->getName().stripDialect().str(), params, formula))
    llvm::report_fatal_error("activation without a formula in halide/Activations.cpp: " +
                             op->getName().getStringRef());
  return formula;
}

class Lowering {
public:
  explicit Lowering(LoweredPipeline &out) : out_(out) {}
  bool run(FuncOp func);

private:
  H::Func get(Value v) { return values_.at(v.getAsOpaquePointer()); }
  void set(Value v, H::Func f) { values_[v.getAsOpaquePointer()] = f; }
  // `v` is `same` (an identity op): the same Func and the same producing op.
  void alias(Value v, Value same) {
    set(v, get(same));
    if (auto p = producers_.find(same.getAsOpaquePointer()); p != producers_.end())
      producers_[v.getAsOpaquePointer()] = p->second;
  }
  class OneOp;
  H::ImageParam addInput(H::Type type, Value v, const std::string &name);
  bool lowerOp(Operation *op);
  std::map<std::string, H::Func> helpersOf(const std::string &name, H::Func f);

  LoweredPipeline &out_;
  std::map<void *, H::Func> values_;
  std::map<void *, int> producers_; // value -> the index of the op record that computes it
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

// The lowering of one op, through its HalideLoweringOpInterface.
class Lowering::OneOp : public OpLowering {
public:
  OneOp(Lowering &l, Operation *op) : l_(l), op_(op), name_(opName(op).str()) {}
  H::Func in(unsigned i) override { return l_.get(op_->getOperand(i)); }
  H::Func of(Value v) override { return l_.get(v); }
  H::Func helper(Value v, const std::string &role) override {
    return l_.out_.ops.at(l_.producers_.at(v.getAsOpaquePointer())).helpers.at(role);
  }
  const std::string &name() const override { return name_; }
  H::Expr batch() const override { return l_.out_.batch; }
  void define(H::Func f) override { result = f; }
  void same(Value v) override { identity = v; }

  H::Func result;
  Value identity;

private:
  Lowering &l_;
  Operation *op_;
  std::string name_;
};

bool Lowering::lowerOp(Operation *op) {
  std::string name = opName(op).str();
  auto lowering = dyn_cast<HalideLoweringOpInterface>(op);
  if (!lowering) {
    op->emitError() << op->getName() << " '" << name << "' cannot be lowered to Halide";
    return false;
  }
  OneOp cx(*this, op);
  lowering.lowerToHalide(cx);
  if (cx.identity) {
    alias(op->getResult(0), cx.identity);
    return true;
  }
  H::Func f = cx.result;
  set(op->getResult(0), f);
  out_.funcs[name] = f;
  LoweredOp record;
  record.name = name;
  record.kind = op->getName().stripDialect().str();
  record.func = f;
  record.extents = halideExtents(shapeOf(op->getResult(0)));
  record.activation = op->hasTrait<Activation>();
  record.activationGrad = op->hasTrait<ActivationGrad>();
  record.gradientReadsInput = record.activation && activationFormula(op).gradientReadsInput;
  int index = static_cast<int>(out_.ops.size());
  llvm::SmallVector<Value, 4> reads(op->getOperands());
  // An activation gradient that reads x reads a value that is not its operand: linked too.
  if (record.activationGrad) {
    Operation *forward = op->getOperand(1).getDefiningOp();
    if (activationFormula(forward).gradientReadsInput)
      reads.push_back(forward->getOperand(0));
  }
  for (Value operand : reads) {
    auto producer = producers_.find(operand.getAsOpaquePointer());
    int p = producer == producers_.end() ? -1 : producer->second;
    record.operands.push_back(p);
    if (p >= 0 && !llvm::is_contained(out_.ops[p].users, index))
      out_.ops[p].users.push_back(index);
  }
  record.helpers = helpersOf(name, f);
  for (const auto &[role, helper] : record.helpers)
    out_.funcs.emplace(name + "." + role, helper);
  producers_[op->getResult(0).getAsOpaquePointer()] = index;
  out_.ops.push_back(std::move(record));
  return true;
}

// The Funcs an op's algorithm made besides its result (`c3.grad_w.flat`, `s2.window_sum`,
// ...): those it calls, directly or through each other, short of the Funcs of other values
// (operands, parameters). Each is named `<op>__<role>` (halide/Ops.h): its role is read
// here, once, so that no later stage reads a Func's name to learn what it belongs to.
std::map<std::string, H::Func> Lowering::helpersOf(const std::string &name, H::Func f) {
  std::set<std::string> values;
  for (const auto &[value, func] : values_)
    values.insert(func.name());
  std::map<std::string, H::Func> helpers;
  std::string prefix = hl::halideName(name) + "__";
  std::set<std::string> seen;
  std::vector<H::Internal::Function> pending{f.function()};
  while (!pending.empty()) {
    H::Internal::Function caller = pending.back();
    pending.pop_back();
    for (const auto &[fname, function] : H::Internal::find_direct_calls(caller)) {
      if (values.count(fname) || !seen.insert(fname).second)
        continue;
      pending.push_back(function);
      if (fname.compare(0, prefix.size(), prefix) != 0)
        continue; // Halide's own (a boundary condition's)
      std::string role = fname.substr(prefix.size());
      // Halide makes a name unique with "$N" when it is made again (lowering twice, for
      // the CPU and the GPU variant): the helper is the same helper.
      if (size_t dollar = role.find('$'); dollar != std::string::npos)
        role.resize(dollar);
      for (size_t at; (at = role.find("__")) != std::string::npos;)
        role.replace(at, 2, ".");
      helpers.emplace(role, H::Func(function));
    }
  }
  return helpers;
}

bool Lowering::run(FuncOp func) {
  out_.name = func.getName().str();
  Block &body = func.getBody().front();
  for (BlockArgument arg : func.getArguments()) {
    auto nameAttr = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), kArgNameAttr);
    std::string name = nameAttr ? nameAttr.getValue().str() : "arg" + std::to_string(arg.getArgNumber());
    bool integers = arg.getType().cast<RankedTensorType>().getElementType().isInteger(32); // labels, noise
    H::ImageParam p = addInput(integers ? H::Int(32) : H::Float(32), arg, name);
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

// --- Each op's lowering (HalideLoweringOpInterface): its algorithm from halide/Ops.h ------

namespace {
int rank(Value v) { return static_cast<int>(shapeOf(v).size()); }
hl::Window windowOf(Value input, IntegerAttr size, IntegerAttr stride) {
  return windowOf(input, size.getInt(), stride.getInt(), 0);
}
} // namespace

void lowerActivation(OpLowering &cx, Operation *activation) {
  cx.define(hl::activation(cx.name(), cx.in(0), rank(activation->getResult(0)), activationFormula(activation)));
}

void lowerActivationGrad(OpLowering &cx, Operation *grad) {
  Operation *forward = grad->getOperand(1).getDefiningOp(); // the verifier makes it the activation
  cx.define(hl::activationGrad(cx.name(), cx.in(0), cx.of(forward->getOperand(0)), cx.in(1),
                               rank(grad->getResult(0)), activationFormula(forward)));
}

} // namespace lenetc

namespace lenet {
using lenetc::OpLowering;
namespace hl = lenetc::hl;

void ConvOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::conv(cx.name(), cx.in(0), cx.in(1), cx.in(2), lenetc::convSpec(*this, input(), filters())));
}
void ConvGradInputOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::convGradInput(cx.name(), cx.in(0), cx.in(1),
                              lenetc::convSpec(*this, getResult(), lenetc::shapeOf(dout())[1]), cx.batch()));
}
void ConvGradWeightOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::convGradWeight(cx.name(), cx.in(0), cx.in(1),
                               lenetc::convSpec(*this, input(), lenetc::shapeOf(dout())[1]), cx.batch()));
}
void AvgPoolOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::avgpool(cx.name(), cx.in(0), lenetc::windowOf(input(), sizeAttr(), strideAttr())));
}
void MaxPoolOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::maxpool(cx.name(), cx.in(0), lenetc::windowOf(input(), sizeAttr(), strideAttr())));
}
void SubsampleOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::subsample(cx.name(), cx.in(0), cx.in(1), cx.in(2), lenetc::windowOf(input(), sizeAttr(), strideAttr())));
}
void AvgPoolGradOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::avgpoolGrad(cx.name(), cx.in(0), lenetc::windowOf(getResult(), sizeAttr(), strideAttr())));
}
void MaxPoolGradOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::maxpoolGrad(cx.name(), cx.in(0), cx.in(1), lenetc::windowOf(input(), sizeAttr(), strideAttr())));
}
void SubsampleGradInputOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::subsampleGradInput(cx.name(), cx.in(0), cx.in(1), lenetc::windowOf(getResult(), sizeAttr(), strideAttr())));
}
void SubsampleGradCoefOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::subsampleGradCoef(cx.name(), cx.in(0), cx.in(1), lenetc::windowOf(input(), sizeAttr(), strideAttr()),
                                  cx.batch()));
}
void DenseOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::dense(cx.name(), cx.in(0), cx.in(1), cx.in(2), static_cast<int>(lenetc::shapeOf(input())[1])));
}
void DenseGradInputOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::denseGradInput(cx.name(), cx.in(0), cx.in(1), static_cast<int>(lenetc::shapeOf(dout())[1])));
}
void DenseGradWeightOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::denseGradWeight(cx.name(), cx.in(0), cx.in(1), cx.batch()));
}
void BiasGradOp::lowerToHalide(OpLowering &cx) {
  auto s = lenetc::shapeOf(dout());
  cx.define(hl::biasGrad(cx.name(), cx.in(0), static_cast<int>(s.size()), s.size() == 4 ? s[2] : 1,
                         s.size() == 4 ? s[3] : 1, cx.batch()));
}
void FlattenOp::lowerToHalide(OpLowering &cx) {
  auto s = lenetc::shapeOf(input());
  if (s.size() == 2) // already flat: flatten is the identity
    return cx.same(input());
  cx.define(hl::flatten(cx.name(), cx.in(0), s[1], s[2], s[3]));
}
void FlattenGradOp::lowerToHalide(OpLowering &cx) {
  auto s = lenetc::shapeOf(getResult());
  if (s.size() == 2)
    return cx.same(dout());
  cx.define(hl::flattenGrad(cx.name(), cx.in(0), s[2], s[3]));
}
void AddOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::add(cx.name(), cx.in(0), cx.in(1), lenetc::rank(getResult())));
}
void SoftmaxCrossEntropyOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::softmaxCrossEntropy(cx.name(), cx.in(0), cx.in(1), lenetc::shapeOf(logits())[1], cx.batch()));
}
void SoftmaxCrossEntropyGradOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::softmaxCrossEntropyGrad(cx.name(), cx.in(0), cx.in(1), lenetc::shapeOf(logits())[1], cx.batch()));
}
void SoftmaxOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::softmax(cx.name(), cx.in(0), lenetc::shapeOf(logits())[1]));
}
namespace {
lenetc::hl::ChannelLayout channelLayout(Value input) {
  auto s = lenetc::shapeOf(input);
  lenetc::hl::ChannelLayout l;
  l.rank = static_cast<int>(s.size());
  if (l.rank == 4) {
    l.height = static_cast<int>(s[2]);
    l.width = static_cast<int>(s[3]);
  }
  return l;
}
} // namespace

void BatchNormOp::lowerToHalide(OpLowering &cx) {
  double e = epsAttr().getValueAsDouble();
  if (training())
    cx.define(hl::batchNorm(cx.name(), cx.in(0), cx.in(1), cx.in(2), channelLayout(input()), e, cx.batch()));
  else
    cx.define(hl::batchNormInference(cx.name(), cx.in(0), cx.in(1), cx.in(2), cx.in(3), cx.in(4),
                                     channelLayout(input()), e));
}
void BatchNormGradScaleOp::lowerToHalide(OpLowering &cx) {
  auto bn = out().getDefiningOp<BatchNormOp>();
  cx.define(hl::batchNormGradScale(cx.name(), cx.in(0), cx.of(bn.input()), cx.helper(out(), "mean"),
                                   cx.helper(out(), "invstd"), channelLayout(bn.input()), cx.batch()));
}
void BatchNormGradInputOp::lowerToHalide(OpLowering &cx) {
  auto bn = out().getDefiningOp<BatchNormOp>();
  // The parameters' gradients are read from their sums, not from the results: those are
  // the pipeline's outputs, in the caller's buffers (whose alignment Halide 14's vector loads
  // of an output read back take for granted: a misaligned one faults).
  cx.define(hl::batchNormGradInput(cx.name(), cx.in(0), cx.of(bn.input()), cx.helper(out(), "mean"),
                                   cx.helper(out(), "invstd"), cx.in(2), cx.helper(grad_scale(), "sum"),
                                   cx.helper(grad_shift(), "sum"), channelLayout(bn.input()), cx.batch()));
}
void BatchNormRunningOp::lowerToHalide(OpLowering &cx) {
  auto bn = out().getDefiningOp<BatchNormOp>();
  bool mean = statistic() == "mean";
  // The variance enters unbiased, count / (count - 1), as PyTorch's (a batch of one value
  // per channel has none: its biased variance, 0, enters as it is).
  H::Expr count = hl::batchNormCount(channelLayout(bn.input()), cx.batch());
  H::Expr one = H::cast<double>(1);
  H::Expr factor = mean ? one : H::select(count > 1, H::cast<double>(count) / H::cast<double>(count - 1), one);
  cx.define(hl::batchNormRunning(cx.name(), cx.in(1), cx.helper(out(), mean ? "mean" : "var"),
                                 bn.momentumAttr().getValueAsDouble(), factor));
}
void DropoutOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::dropout(cx.name(), cx.in(0), cx.in(1), channelLayout(input()), rateAttr().getValueAsDouble()));
}
void DropoutGradOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::dropoutGrad(cx.name(), cx.in(0), cx.helper(out(), "keep"), lenetc::rank(getResult())));
}
void CorrectCountOp::lowerToHalide(OpLowering &cx) {
  cx.define(hl::correctCount(cx.name(), cx.in(0), cx.in(1), lenetc::shapeOf(logits())[1], cx.batch()));
}

} // namespace lenet

namespace lenetc {

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
  for (LoweredOp &op : p.ops)
    fix(op.extents);
  p.fixedBatch = batch;
}

} // namespace lenetc
