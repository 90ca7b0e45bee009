#include "dialect/Dialect.h"
#include "dialect/Shapes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#include <string>

using namespace mlir;

#include "dialect/LenetDialect.cpp.inc"
#include "dialect/GradientInterface.cpp.inc"
#include "dialect/LoweringInterface.cpp.inc"
#include "dialect/ShapeInferenceInterface.cpp.inc"

namespace lenet {

void LenetDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialect/LenetOps.cpp.inc"
      >();
}

llvm::Optional<llvm::SmallVector<int64_t, 4>> exampleShape(Type type) {
  auto ranked = type.dyn_cast<RankedTensorType>();
  if (!ranked || ranked.getRank() < 1)
    return llvm::None;
  auto shape = ranked.getShape().drop_front();
  return llvm::SmallVector<int64_t, 4>(shape.begin(), shape.end());
}

RankedTensorType batchedType(MLIRContext *ctx, llvm::ArrayRef<int64_t> shape) {
  llvm::SmallVector<int64_t, 4> dims{ShapedType::kDynamicSize};
  dims.append(shape.begin(), shape.end());
  return RankedTensorType::get(dims, FloatType::getF32(ctx));
}

std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    s += shape[i] < 0 ? std::string("?") : std::to_string(shape[i]);
  }
  return s + "]";
}

int64_t tableConnections(ArrayAttr table) {
  int64_t n = 0;
  if (table)
    for (Attribute row : table)
      if (auto maps = row.dyn_cast<ArrayAttr>())
        n += maps.size();
  return n;
}

llvm::StringRef opName(Operation *op) {
  if (auto attr = op->getAttrOfType<StringAttr>("name"))
    return attr.getValue();
  return {};
}

} // namespace lenet

using namespace lenet;

namespace {

// Shape checking and inference share one code path per op: `Checker` either sets the
// types it computes (inference) or compares them with the types already there (verifier).
// Comparisons are skipped for values not yet inferred (unranked), so the verifier accepts
// the IR as MLIRGen emits it as well as after shape inference.
class Checker {
public:
  Checker(Operation *op, bool infer) : op_(op), infer_(infer) {}

  // "conv 'c3'" — how messages name the op for a user.
  std::string what() const { return op_->getName().stripDialect().str() + " '" + opName(op_).str() + "'"; }

  InFlightDiagnostic error() { return op_->emitError() << what() << ": "; }

  // The per-example shape of an operand, which must be a batched f32 tensor. During
  // inference every operand is already inferred (ops are visited in order).
  LogicalResult operandShape(Value v, StringRef role, llvm::SmallVectorImpl<int64_t> &shape, bool &known) {
    known = false;
    auto ranked = v.getType().dyn_cast<RankedTensorType>();
    if (!ranked) {
      if (infer_)
        return error() << "internal error: the " << role << " has no inferred shape";
      return success();
    }
    if (!ranked.getElementType().isF32())
      return error() << "the " << role << " must be a tensor of f32, got " << ranked;
    if (ranked.getRank() < 2 || !ShapedType::isDynamic(ranked.getDimSize(0)))
      return error() << "the " << role << " must be a batch of examples (tensor<?x...xf32>), got " << ranked;
    for (int64_t d : ranked.getShape().drop_front())
      if (ShapedType::isDynamic(d) || d <= 0)
        return error() << "the " << role << " must have a static per-example shape, got " << ranked;
    auto s = ranked.getShape().drop_front();
    shape.assign(s.begin(), s.end());
    known = true;
    return success();
  }

  // Sets (inference) or checks (verifier) the type of `v`.
  LogicalResult setOrCheck(Value v, Type expected, StringRef role) {
    if (infer_) {
      v.setType(expected);
      return success();
    }
    if (v.getType().isa<RankedTensorType>() && v.getType() != expected)
      return error() << "the " << role << " has type " << v.getType() << ", expected " << expected;
    return success();
  }

  LogicalResult setOrCheckParam(Value v, llvm::ArrayRef<int64_t> shape, StringRef role) {
    if (failed(checkSize(shape, role)))
      return failure();
    return setOrCheck(v, RankedTensorType::get(shape, FloatType::getF32(op_->getContext())), role);
  }

  LogicalResult setOrCheckResult(llvm::ArrayRef<int64_t> shape) {
    if (failed(checkSize(shape, "result (per example)")))
      return failure();
    return setOrCheck(op_->getResult(0), batchedType(op_->getContext(), shape), "result");
  }

  // Keeps every tensor far below what could overflow element counts and byte sizes later.
  LogicalResult checkSize(llvm::ArrayRef<int64_t> shape, StringRef role) {
    constexpr int64_t kMaxElements = int64_t(1) << 31;
    int64_t n = 1;
    for (int64_t d : shape) {
      if (d <= 0 || n > kMaxElements / d)
        return error() << "the " << role << " would have more than 2^31 elements " << formatShape(shape);
      n *= d;
    }
    return success();
  }

  bool inferring() const { return infer_; }

private:
  Operation *op_;
  bool infer_;
};

LogicalResult positive(Checker &c, int64_t value, StringRef attr) {
  if (value <= 0)
    return c.error() << attr << " must be positive, got " << value;
  return success();
}

// Output extent of a window of `window` sliding by `stride` over `extent` (with `pad` on each
// side); fails when the window does not fit.
LogicalResult windowExtent(Checker &c, StringRef windowName, int64_t extent, int64_t pad, int64_t window,
                           int64_t stride, int64_t &out) {
  out = lenetc::slidingExtent(extent, pad, window, stride);
  if (out < 0) {
    int64_t padded = extent + 2 * pad;
    return c.error() << "the " << windowName << " (" << window << "x" << window << ") is larger than its "
                     << (pad ? "padded " : "") << "input (" << padded << "x" << padded << ")";
  }
  return success();
}

LogicalResult imageInput(Checker &c, Value input, llvm::SmallVectorImpl<int64_t> &shape, bool &known) {
  if (failed(c.operandShape(input, "input", shape, known)))
    return failure();
  if (known && shape.size() != 3)
    return c.error() << "expects an image input [channels, height, width], got " << formatShape(shape);
  if (known && shape[1] != shape[2])
    return c.error() << "expects a square image, got " << formatShape(shape);
  return success();
}

// Runs `body` on the input's per-example shape once it is known; before shape inference
// (an unranked input) there is nothing to check.
template <typename Body> LogicalResult withInputShape(Checker &c, Value input, Body body) {
  llvm::SmallVector<int64_t, 4> in;
  bool known;
  if (failed(c.operandShape(input, "input", in, known)))
    return failure();
  return known ? body(llvm::ArrayRef<int64_t>(in)) : success();
}

// --- per-op checks --------------------------------------------------------------------

LogicalResult checkConv(ConvOp op, bool infer) {
  Checker c(op, infer);
  int64_t filters = op.filtersAttr().getInt(), k = op.kernelAttr().getInt(),
          stride = op.strideAttr().getInt(), pad = op.padAttr().getInt();
  if (failed(positive(c, filters, "filters")) || failed(positive(c, k, "kernel")) ||
      failed(positive(c, stride, "stride")))
    return failure();
  if (pad < 0)
    return c.error() << "pad must not be negative, got " << pad;

  llvm::SmallVector<int64_t, 4> in;
  bool known;
  if (failed(imageInput(c, op.input(), in, known)))
    return failure();

  // The connection table: one row per output map, listing the input maps it reads.
  if (auto table = op.tableAttr()) {
    if (static_cast<int64_t>(table.size()) != filters)
      return c.error() << "the connection table has " << table.size() << " rows, but filters = " << filters
                       << " (one row per output map)";
    for (size_t f = 0; f < table.size(); ++f) {
      auto maps = table[f].dyn_cast<ArrayAttr>();
      if (!maps || maps.empty())
        return c.error() << "row " << f << " of the connection table must be a non-empty list";
      llvm::SmallVector<int64_t, 8> seen;
      for (Attribute a : maps) {
        auto i = a.dyn_cast<IntegerAttr>();
        if (!i)
          return c.error() << "row " << f << " of the connection table must list integers";
        int64_t m = i.getInt();
        if (m < 0 || (known && m >= in[0]))
          return c.error() << "row " << f << " of the connection table names input map " << m
                           << ", but the input has " << (known ? in[0] : 0) << " maps (0 to "
                           << (known ? in[0] - 1 : -1) << ")";
        if (llvm::is_contained(seen, m))
          return c.error() << "row " << f << " of the connection table names input map " << m << " twice";
        seen.push_back(m);
      }
    }
  }
  int64_t connections = tableConnections(op.tableAttr());
  if (!known)
    return success();

  int64_t oh, ow;
  if (failed(windowExtent(c, "kernel", in[1], pad, k, stride, oh)) ||
      failed(windowExtent(c, "kernel", in[2], pad, k, stride, ow)))
    return failure();
  if (op.tableAttr()) {
    if (failed(c.setOrCheckParam(op.weight(), {connections, k, k}, "weight")))
      return failure();
  } else if (failed(c.setOrCheckParam(op.weight(), {filters, in[0], k, k}, "weight"))) {
    return failure();
  }
  if (failed(c.setOrCheckParam(op.bias(), {filters}, "bias")))
    return failure();
  return c.setOrCheckResult({filters, oh, ow});
}

template <typename PoolOp> LogicalResult checkPool(PoolOp op, bool infer) {
  Checker c(op, infer);
  int64_t size = op.sizeAttr().getInt(), stride = op.strideAttr().getInt();
  if (failed(positive(c, size, "size")) || failed(positive(c, stride, "stride")))
    return failure();
  llvm::SmallVector<int64_t, 4> in;
  bool known;
  if (failed(imageInput(c, op.input(), in, known)))
    return failure();
  if (!known) // the verifier, before shape inference
    return success();
  int64_t oh, ow;
  if (failed(windowExtent(c, "window", in[1], 0, size, stride, oh)) ||
      failed(windowExtent(c, "window", in[2], 0, size, stride, ow)))
    return failure();
  return c.setOrCheckResult({in[0], oh, ow});
}

LogicalResult checkSubsample(SubsampleOp op, bool infer) {
  if (failed(checkPool(op, infer)))
    return failure();
  Checker c(op, infer);
  return withInputShape(c, op.input(), [&](llvm::ArrayRef<int64_t> in) {
    if (failed(c.setOrCheckParam(op.coef(), {in[0]}, "coefficient")))
      return failure();
    return c.setOrCheckParam(op.bias(), {in[0]}, "bias");
  });
}

LogicalResult checkDense(DenseOp op, bool infer) {
  Checker c(op, infer);
  int64_t units = op.unitsAttr().getInt();
  if (failed(positive(c, units, "units")))
    return failure();
  return withInputShape(c, op.input(), [&](llvm::ArrayRef<int64_t> in) -> LogicalResult {
    if (in.size() != 1)
      return c.error() << "expects a flat input [features], got " << formatShape(in)
                       << "; flatten it first: dense(flatten(...), " << units << ")";
    if (failed(c.setOrCheckParam(op.weight(), {units, in[0]}, "weight")) ||
        failed(c.setOrCheckParam(op.bias(), {units}, "bias")))
      return failure();
    return c.setOrCheckResult({units});
  });
}

LogicalResult checkFlatten(FlattenOp op, bool infer) {
  Checker c(op, infer);
  return withInputShape(c, op.input(), [&](llvm::ArrayRef<int64_t> in) {
    int64_t n = 1;
    for (int64_t d : in)
      n *= d; // each factor was bounded when its producer was checked
    return c.setOrCheckResult({n});
  });
}

// Per channel of an image [C, H, W] or per feature of [F]: four parameters of [C].
LogicalResult checkBatchNorm(BatchNormOp op, bool infer) {
  Checker c(op, infer);
  double momentum = op.momentumAttr().getValueAsDouble(), eps = op.epsAttr().getValueAsDouble();
  if (!(momentum > 0 && momentum <= 1))
    return c.error() << "momentum must be in (0, 1], got " << momentum;
  if (!(eps > 0))
    return c.error() << "eps must be positive, got " << eps;
  return withInputShape(c, op.input(), [&](llvm::ArrayRef<int64_t> in) -> LogicalResult {
    if (in.size() != 1 && in.size() != 3)
      return c.error() << "normalizes an image [channels, height, width] or features [features], got "
                       << formatShape(in);
    for (auto [v, role] : {std::pair{op.scale(), "scale"}, {op.shift(), "shift"},
                           {op.running_mean(), "running mean"}, {op.running_var(), "running variance"}})
      if (failed(c.setOrCheckParam(v, {in[0]}, role)))
        return failure();
    return c.setOrCheckResult(in);
  });
}

LogicalResult checkDropout(DropoutOp op, bool infer) {
  Checker c(op, infer);
  double rate = op.rateAttr().getValueAsDouble();
  if (!(rate >= 0 && rate < 1))
    return c.error() << "rate must be in [0, 1), got " << rate;
  auto noise = op.noise().getType().dyn_cast<RankedTensorType>();
  if (!noise || noise.getShape() != llvm::ArrayRef<int64_t>{2} || !noise.getElementType().isInteger(32))
    return c.error() << "its second operand must be the training step's noise (tensor<2xi32>)";
  return withInputShape(c, op.input(), [&](llvm::ArrayRef<int64_t> in) { return c.setOrCheckResult(in); });
}

LogicalResult checkLoss(SoftmaxCrossEntropyOp op, bool infer) {
  Checker c(op, infer);
  llvm::SmallVector<int64_t, 4> logits;
  bool known;
  if (failed(c.operandShape(op.logits(), "logits", logits, known)))
    return failure();
  if (known && logits.size() != 1)
    return c.error() << "expects flat logits [classes], got " << formatShape(logits);

  // The labels are a model input declared `label y: class[N]`: a batch of i32 class indices.
  auto labelsType = op.labels().getType().dyn_cast<RankedTensorType>();
  auto arg = op.labels().dyn_cast<BlockArgument>();
  auto func = arg ? dyn_cast<FuncOp>(arg.getOwner()->getParentOp()) : FuncOp();
  IntegerAttr classes =
      func ? func.getArgAttrOfType<IntegerAttr>(arg.getArgNumber(), kClassesAttr) : IntegerAttr();
  if (!labelsType || labelsType.getRank() != 1 || !labelsType.getElementType().isInteger(32) || !classes)
    return c.error() << "the second operand must be a label input (label y: class[N])";
  if (known && logits[0] != classes.getInt())
    return c.error() << "the logits have " << logits[0] << " classes, but the labels have "
                     << classes.getInt();
  return c.setOrCheck(op.getResult(), RankedTensorType::get({}, FloatType::getF32(op.getContext())),
                      "result");
}

} // namespace

LogicalResult lenet::checkElementwise(Operation *op, Value input, bool infer) {
  Checker c(op, infer);
  return withInputShape(c, input, [&](llvm::ArrayRef<int64_t> in) { return c.setOrCheckResult(in); });
}

// --- verifiers (ODS calls ::verify) and shape inference (the interface) --------------

static LogicalResult verify(ParamOp op) {
  StringRef role = op.role();
  const llvm::StringRef trainable[] = {"weight", "bias", "coef", "scale", "shift"};
  if (!llvm::is_contained(trainable, role) && !isStateRole(role))
    return op.emitOpError() << "role must be weight, bias, coef, scale, shift, running_mean or running_var, got '"
                            << role << "'";
  auto type = op.getType().dyn_cast<RankedTensorType>();
  if (type && (!type.hasStaticShape() || !type.getElementType().isF32()))
    return op.emitOpError() << "a parameter must have a static f32 shape, got " << type;
  return success();
}
static LogicalResult verify(ConvOp op) { return checkConv(op, false); }
static LogicalResult verify(AvgPoolOp op) { return checkPool(op, false); }
static LogicalResult verify(MaxPoolOp op) { return checkPool(op, false); }
static LogicalResult verify(SubsampleOp op) { return checkSubsample(op, false); }
static LogicalResult verify(DenseOp op) { return checkDense(op, false); }
static LogicalResult verify(FlattenOp op) { return checkFlatten(op, false); }
static LogicalResult verify(SoftmaxCrossEntropyOp op) { return checkLoss(op, false); }
static LogicalResult verify(BatchNormOp op) { return checkBatchNorm(op, false); }
static LogicalResult verify(DropoutOp op) { return checkDropout(op, false); }

// --- verifiers of the training ops: each result has the type of what it is the gradient of

namespace {

// The shape of a ranked f32 (or i32 labels) tensor, or an error naming the operand.
LogicalResult rankedShape(Operation *op, Value v, StringRef role, llvm::SmallVectorImpl<int64_t> &shape) {
  auto t = v.getType().dyn_cast<RankedTensorType>();
  if (!t)
    return op->emitOpError() << "the " << role << " must be a ranked tensor, got " << v.getType();
  shape.assign(t.getShape().begin(), t.getShape().end());
  return success();
}

LogicalResult expectShape(Operation *op, Value v, llvm::ArrayRef<int64_t> expected, StringRef role) {
  llvm::SmallVector<int64_t, 4> got;
  if (failed(rankedShape(op, v, role, got)))
    return failure();
  if (llvm::ArrayRef<int64_t>(got) != expected)
    return op->emitOpError() << "the " << role << " has shape " << formatShape(got) << ", expected "
                             << formatShape(expected);
  return success();
}

// `image` ([N, C, H, W]) under a window gives `out`'s spatial extents.
LogicalResult expectWindowed(Operation *op, llvm::ArrayRef<int64_t> image, llvm::ArrayRef<int64_t> out,
                             int64_t pad, int64_t window, int64_t stride) {
  if (image.size() != 4 || out.size() != 4)
    return op->emitOpError() << "expects 4-d tensors, got " << formatShape(image) << " and "
                             << formatShape(out);
  if (lenetc::slidingExtent(image[2], pad, window, stride) != out[2] ||
      lenetc::slidingExtent(image[3], pad, window, stride) != out[3])
    return op->emitOpError() << "a window of " << window << " (stride " << stride << ", pad " << pad
                             << ") over " << formatShape(image) << " does not give " << formatShape(out);
  return success();
}

int64_t tableConnections(ArrayAttr table) {
  int64_t n = 0;
  for (Attribute row : table)
    n += row.cast<ArrayAttr>().size();
  return n;
}

template <typename ConvGradOp>
LogicalResult verifyConvGrad(ConvGradOp op, Value image, llvm::ArrayRef<int64_t> weight) {
  llvm::SmallVector<int64_t, 4> dout, in;
  if (failed(rankedShape(op, op.dout(), "output gradient", dout)) ||
      failed(rankedShape(op, image, "input", in)))
    return failure();
  int64_t k = op.kernelAttr().getInt();
  if (failed(expectWindowed(op, in, dout, op.padAttr().getInt(), k, op.strideAttr().getInt())))
    return failure();
  llvm::SmallVector<int64_t, 4> expected;
  if (auto table = op.tableAttr())
    expected = {tableConnections(table), k, k};
  else
    expected = {dout[1], in[1], k, k};
  if (llvm::ArrayRef<int64_t>(expected) != weight)
    return op->emitOpError() << "the weight has shape " << formatShape(weight) << ", expected "
                             << formatShape(expected);
  return success();
}

} // namespace

static LogicalResult verify(ConvGradInputOp op) {
  llvm::SmallVector<int64_t, 4> w;
  if (failed(rankedShape(op, op.weight(), "weight", w)))
    return failure();
  return verifyConvGrad(op, op.getResult(), w);
}
static LogicalResult verify(ConvGradWeightOp op) {
  llvm::SmallVector<int64_t, 4> w;
  if (failed(rankedShape(op, op.getResult(), "result", w)))
    return failure();
  return verifyConvGrad(op, op.input(), w);
}
static LogicalResult verify(BiasGradOp op) {
  llvm::SmallVector<int64_t, 4> dout;
  if (failed(rankedShape(op, op.dout(), "output gradient", dout)))
    return failure();
  if (dout.size() < 2)
    return op.emitOpError() << "expects a batch of examples";
  return expectShape(op, op.getResult(), {dout[1]}, "result");
}
static LogicalResult verify(DenseGradInputOp op) {
  llvm::SmallVector<int64_t, 4> dout, w;
  if (failed(rankedShape(op, op.dout(), "output gradient", dout)) ||
      failed(rankedShape(op, op.weight(), "weight", w)))
    return failure();
  if (dout.size() != 2 || w.size() != 2 || w[0] != dout[1])
    return op.emitOpError() << "a weight " << formatShape(w) << " does not fit the output gradient "
                            << formatShape(dout);
  return expectShape(op, op.getResult(), {ShapedType::kDynamicSize, w[1]}, "result");
}
static LogicalResult verify(DenseGradWeightOp op) {
  llvm::SmallVector<int64_t, 4> dout, in;
  if (failed(rankedShape(op, op.dout(), "output gradient", dout)) ||
      failed(rankedShape(op, op.input(), "input", in)))
    return failure();
  if (dout.size() != 2 || in.size() != 2)
    return op.emitOpError() << "expects flat inputs";
  return expectShape(op, op.getResult(), {dout[1], in[1]}, "result");
}
template <typename PoolGradOp> static LogicalResult verifyPoolGrad(PoolGradOp op) {
  llvm::SmallVector<int64_t, 4> dout, in;
  if (failed(rankedShape(op, op.dout(), "output gradient", dout)) ||
      failed(rankedShape(op, op.getResult(), "result", in)))
    return failure();
  if (failed(expectWindowed(op, in, dout, 0, op.sizeAttr().getInt(), op.strideAttr().getInt())))
    return failure();
  if (in[1] != dout[1])
    return op.emitOpError() << "pooling keeps the channels: " << formatShape(in) << " vs "
                            << formatShape(dout);
  return success();
}
static LogicalResult verify(AvgPoolGradOp op) { return verifyPoolGrad(op); }
static LogicalResult verify(MaxPoolGradOp op) {
  if (op.input().getType() != op.getResult().getType())
    return op.emitOpError() << "the result must have the input's type";
  return verifyPoolGrad(op);
}
static LogicalResult verify(SubsampleGradInputOp op) {
  if (failed(verifyPoolGrad(op)))
    return failure();
  llvm::SmallVector<int64_t, 4> dout;
  (void)rankedShape(op, op.dout(), "output gradient", dout);
  return expectShape(op, op.coef(), {dout[1]}, "coefficient");
}
static LogicalResult verify(SubsampleGradCoefOp op) {
  llvm::SmallVector<int64_t, 4> dout, in;
  if (failed(rankedShape(op, op.dout(), "output gradient", dout)) ||
      failed(rankedShape(op, op.input(), "input", in)))
    return failure();
  if (failed(expectWindowed(op, in, dout, 0, op.sizeAttr().getInt(), op.strideAttr().getInt())))
    return failure();
  return expectShape(op, op.getResult(), {in[1]}, "result");
}
// `out` must be the result of a training-mode batchnorm (the gradient and running ops read
// its batch statistics); `in` gets that batchnorm's input shape.
static LogicalResult trainingBatchNormInput(Operation *op, Value out, llvm::SmallVectorImpl<int64_t> &in) {
  auto bn = out.getDefiningOp<BatchNormOp>();
  if (!bn || !bn.training())
    return op->emitOpError() << "its operand 'out' must be the result of a training-mode lenet.batchnorm";
  return rankedShape(op, bn.input(), "batchnorm's input", in);
}
static LogicalResult verify(BatchNormGradInputOp op) {
  llvm::SmallVector<int64_t, 4> in;
  if (failed(trainingBatchNormInput(op, op.out(), in)) || failed(expectShape(op, op.dout(), in, "output gradient")) ||
      failed(expectShape(op, op.getResult(), in, "result")))
    return failure();
  for (Value v : {op.scale(), op.grad_scale(), op.grad_shift()})
    if (failed(expectShape(op, v, {in[1]}, "per-channel operand")))
      return failure();
  return success();
}
static LogicalResult verify(BatchNormGradScaleOp op) {
  llvm::SmallVector<int64_t, 4> in;
  if (failed(trainingBatchNormInput(op, op.out(), in)) || failed(expectShape(op, op.dout(), in, "output gradient")))
    return failure();
  return expectShape(op, op.getResult(), {in[1]}, "result");
}
static LogicalResult verify(BatchNormRunningOp op) {
  llvm::SmallVector<int64_t, 4> in;
  if (failed(trainingBatchNormInput(op, op.out(), in)))
    return failure();
  if (op.statistic() != "mean" && op.statistic() != "var")
    return op.emitOpError() << "statistic must be mean or var, got '" << op.statistic() << "'";
  if (failed(expectShape(op, op.old(), {in[1]}, "old statistic")))
    return failure();
  return expectShape(op, op.getResult(), {in[1]}, "result");
}
static LogicalResult verify(DropoutGradOp op) {
  auto dropout = op.out().getDefiningOp<DropoutOp>();
  if (!dropout)
    return op.emitOpError() << "its operand 'out' must be the result of a lenet.dropout";
  llvm::SmallVector<int64_t, 4> in;
  if (failed(rankedShape(op, dropout.input(), "dropout's input", in)) ||
      failed(expectShape(op, op.dout(), in, "output gradient")))
    return failure();
  return expectShape(op, op.getResult(), in, "result");
}
static LogicalResult verify(FlattenGradOp op) {
  llvm::SmallVector<int64_t, 4> dout, in;
  if (failed(rankedShape(op, op.dout(), "output gradient", dout)) ||
      failed(rankedShape(op, op.getResult(), "result", in)))
    return failure();
  int64_t n = 1;
  for (int64_t d : llvm::ArrayRef<int64_t>(in).drop_front())
    n *= d;
  if (dout.size() != 2 || dout[1] != n)
    return op.emitOpError() << "cannot reshape " << formatShape(dout) << " to " << formatShape(in);
  return success();
}
static LogicalResult verify(SoftmaxCrossEntropyGradOp op) {
  if (op.logits().getType() != op.getResult().getType())
    return op.emitOpError() << "the result must have the logits' type";
  return success();
}
static LogicalResult verify(SoftmaxOp op) {
  if (op.logits().getType() != op.getResult().getType())
    return op.emitOpError() << "the result must have the logits' type";
  return success();
}
static LogicalResult verify(CorrectCountOp op) {
  auto t = op.getResult().getType().dyn_cast<RankedTensorType>();
  if (!t || t.getRank() != 0 || !t.getElementType().isInteger(32))
    return op.emitOpError() << "the result must be tensor<i32>";
  return success();
}

LogicalResult ConvOp::inferShapes() { return checkConv(*this, true); }
LogicalResult AvgPoolOp::inferShapes() { return checkPool(*this, true); }
LogicalResult MaxPoolOp::inferShapes() { return checkPool(*this, true); }
LogicalResult SubsampleOp::inferShapes() { return checkSubsample(*this, true); }
LogicalResult DenseOp::inferShapes() { return checkDense(*this, true); }
LogicalResult FlattenOp::inferShapes() { return checkFlatten(*this, true); }
LogicalResult SoftmaxCrossEntropyOp::inferShapes() { return checkLoss(*this, true); }
LogicalResult BatchNormOp::inferShapes() { return checkBatchNorm(*this, true); }
LogicalResult DropoutOp::inferShapes() { return checkDropout(*this, true); }

LogicalResult lenet::verifyActivationGrad(Operation *op, llvm::StringRef activation) {
  Operation *forward = op->getOperand(1).getDefiningOp();
  if (!forward || forward->getName().getStringRef() != activation)
    return op->emitOpError() << "its second operand must be the result of a " << activation;
  return success();
}

// --- Gradient rules (GradientOpInterface): each op's backward next to its shapes ---------

StringAttr GradientBuilder::name(llvm::StringRef suffix) const {
  return builder_.getStringAttr(opName(op_).str() + suffix.str());
}

void GradientBuilder::addActivationGradient(Operation *activation, llvm::StringRef gradOpName) {
  Value input = activation->getOperand(0);
  if (!needs(input))
    return;
  OperationState state(activation->getLoc(), gradOpName);
  state.addOperands({dout_, activation->getResult(0)});
  NamedAttrList attrs(activation->getAttrs());
  attrs.set("name", name(".grad_in"));
  state.addAttributes(attrs);
  state.addTypes(input.getType());
  add(input, builder_.createOperation(state)->getResult(0));
}

void ConvOp::buildGradients(GradientBuilder &g) {
  OpBuilder &b = g.builder();
  Location loc = getLoc();
  if (g.needs(input()))
    g.add(input(), b.create<ConvGradInputOp>(loc, input().getType(), g.dout(), weight(), g.name(".grad_in"),
                                             kernelAttr(), strideAttr(), padAttr(), tableAttr()));
  g.add(weight(), b.create<ConvGradWeightOp>(loc, weight().getType(), g.dout(), input(), g.name(".grad_w"),
                                             kernelAttr(), strideAttr(), padAttr(), tableAttr()));
  g.add(bias(), b.create<BiasGradOp>(loc, bias().getType(), g.dout(), g.name(".grad_b")));
}

void DenseOp::buildGradients(GradientBuilder &g) {
  OpBuilder &b = g.builder();
  Location loc = getLoc();
  if (g.needs(input()))
    g.add(input(), b.create<DenseGradInputOp>(loc, input().getType(), g.dout(), weight(), g.name(".grad_in")));
  g.add(weight(), b.create<DenseGradWeightOp>(loc, weight().getType(), g.dout(), input(), g.name(".grad_w")));
  g.add(bias(), b.create<BiasGradOp>(loc, bias().getType(), g.dout(), g.name(".grad_b")));
}

void SubsampleOp::buildGradients(GradientBuilder &g) {
  OpBuilder &b = g.builder();
  Location loc = getLoc();
  if (g.needs(input()))
    g.add(input(), b.create<SubsampleGradInputOp>(loc, input().getType(), g.dout(), coef(), g.name(".grad_in"),
                                                  sizeAttr(), strideAttr()));
  g.add(coef(), b.create<SubsampleGradCoefOp>(loc, coef().getType(), g.dout(), input(), g.name(".grad_coef"),
                                              sizeAttr(), strideAttr()));
  g.add(bias(), b.create<BiasGradOp>(loc, bias().getType(), g.dout(), g.name(".grad_b")));
}

void AvgPoolOp::buildGradients(GradientBuilder &g) {
  if (g.needs(input()))
    g.add(input(), g.builder().create<AvgPoolGradOp>(getLoc(), input().getType(), g.dout(), g.name(".grad_in"),
                                                     sizeAttr(), strideAttr()));
}

void MaxPoolOp::buildGradients(GradientBuilder &g) {
  if (g.needs(input()))
    g.add(input(), g.builder().create<MaxPoolGradOp>(getLoc(), input().getType(), g.dout(), input(),
                                                     g.name(".grad_in"), sizeAttr(), strideAttr()));
}

void FlattenOp::buildGradients(GradientBuilder &g) {
  if (g.needs(input()))
    g.add(input(), g.builder().create<FlattenGradOp>(getLoc(), input().getType(), g.dout(), g.name(".grad_in")));
}

// Training mode: the statistics depend on the input, hence the two sums in the input's
// gradient. (An inference-mode batchnorm is not differentiated: only @m_infer has one.)
void BatchNormOp::buildGradients(GradientBuilder &g) {
  OpBuilder &b = g.builder();
  Location loc = getLoc();
  Value gradScale = b.create<BatchNormGradScaleOp>(loc, scale().getType(), g.dout(), getResult(), g.name(".grad_scale"));
  Value gradShift = b.create<BiasGradOp>(loc, shift().getType(), g.dout(), g.name(".grad_shift"));
  if (g.needs(input()))
    g.add(input(), b.create<BatchNormGradInputOp>(loc, input().getType(), g.dout(), getResult(), scale(), gradScale,
                                                  gradShift, g.name(".grad_in")));
  g.add(scale(), gradScale);
  g.add(shift(), gradShift);
}

void DropoutOp::buildGradients(GradientBuilder &g) {
  if (g.needs(input()))
    g.add(input(), g.builder().create<DropoutGradOp>(getLoc(), input().getType(), g.dout(), getResult(),
                                                     g.name(".grad_in")));
}

void AddOp::buildGradients(GradientBuilder &g) {
  for (Value operand : {lhs(), rhs()})
    if (g.needs(operand))
      g.add(operand, g.dout());
}

#define GET_OP_CLASSES
#include "dialect/LenetOps.cpp.inc"
