// Reverse-mode differentiation at the graph level, and the two functions the trainer runs.
//
// From the model's forward function @m(x, y) -> (loss, logits) it adds:
//   @m_train_step(x, y[, noise]) -> (loss, correct, for every parameter p in program order
//                                    dL/dp, or a state's next value)
//   @m_infer(x)                   -> probabilities
// The backward graph is made of explicit gradient ops (lenet.conv_grad_input, ...), built
// by each forward op's own rule (GradientOpInterface, dialect/Dialect.cpp), so that every later stage (printing, lowering, scheduling) sees
// and names each gradient. Gradients are made only where they are used: a value that no
// parameter influences (the model's input, for one) gets none, so the first layer has no
// input gradient.
#include "passes/Passes.h"

#include "dialect/Dialect.h"

#include "mlir/IR/BlockAndValueMapping.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/Pass.h"

#include <map>

using namespace mlir;
using namespace lenet;

namespace {

// Removes ops whose results nobody uses (statements that do not lead to the outputs).
void eraseDeadOps(FuncOp func) {
  bool changed = true;
  while (changed) {
    changed = false;
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(func.getBody().front()))) {
      if (op.hasTrait<OpTrait::IsTerminator>() || !op.use_empty())
        continue;
      op.erase();
      changed = true;
    }
  }
}

FuncOp cloneAs(FuncOp forward, StringRef name) {
  FuncOp clone = forward.clone();
  clone.setName(name);
  return clone;
}

class Differentiator {
public:
  explicit Differentiator(FuncOp func) : func_(func), builder_(func.getContext()) {}

  LogicalResult run();

  bool needsGrad(Value v) const { return varied_.count(v.getAsOpaquePointer()); }
  void addGrad(Value v, Value g);

private:
  StringAttr name(Operation *forward, StringRef suffix) {
    return builder_.getStringAttr(opName(forward).str() + suffix.str());
  }
  LogicalResult backprop(Operation *op, Value dout);
  Value nextState(ParamOp p);

  FuncOp func_;
  OpBuilder builder_;
  llvm::DenseSet<void *> varied_; // values some parameter influences
  std::map<void *, Value> grads_; // value -> dL/dvalue
  int sums_ = 0;
};

void Differentiator::addGrad(Value v, Value g) {
  auto [it, inserted] = grads_.emplace(v.getAsOpaquePointer(), g);
  if (inserted)
    return;
  // A value used more than once: its gradient is the sum over its uses.
  Operation *def = v.getDefiningOp();
  std::string base = def ? opName(def).str() : "input";
  it->second = builder_.create<AddOp>(g.getLoc(), g.getType(), it->second, g,
                                      builder_.getStringAttr(base + ".grad_sum." + std::to_string(++sums_)));
}

// The op's own rule (GradientOpInterface), with this pass's bookkeeping.
class OpGradients : public GradientBuilder {
public:
  OpGradients(Differentiator &d, OpBuilder &builder, Operation *op, Value dout)
      : GradientBuilder(builder, op, dout), d_(d) {}
  bool needs(Value v) const override { return d_.needsGrad(v); }
  void add(Value v, Value grad) override { d_.addGrad(v, grad); }

private:
  Differentiator &d_;
};

// A state tensor's value after the step: batchnorm's running statistic moved toward the
// batch's. (Only batchnorm makes state, and a batchnorm that does not lead to the loss was
// erased with its parameters before differentiation; lenet-dialect input may still misuse
// one: null, reported.)
Value Differentiator::nextState(ParamOp p) {
  auto bn = dyn_cast<BatchNormOp>(*p.getResult().getUsers().begin());
  if (!bn || (p.getResult() != bn.running_mean() && p.getResult() != bn.running_var())) {
    p.emitError() << "state '" << p.name() << "' must be a batchnorm's running statistic";
    return {};
  }
  bool mean = p.getResult() == bn.running_mean();
  return builder_.create<BatchNormRunningOp>(p.getLoc(), p.getType(), bn.getResult(), p.getResult(),
                                             name(bn, mean ? ".running_mean.next" : ".running_var.next"),
                                             builder_.getStringAttr(mean ? "mean" : "var"));
}

LogicalResult Differentiator::backprop(Operation *op, Value dout) {
  auto rule = dyn_cast<GradientOpInterface>(op);
  if (!rule)
    return op->emitError() << op->getName() << " '" << opName(op)
                           << "' has no gradient rule, so the model cannot be trained";
  OpGradients g(*this, builder_, op, dout);
  rule.buildGradients(g);
  return success();
}

LogicalResult Differentiator::run() {
  Block &body = func_.getBody().front();
  auto ret = cast<ReturnOp>(body.getTerminator());
  auto loss = ret.getNumOperands() ? ret.getOperand(0).getDefiningOp<SoftmaxCrossEntropyOp>() : nullptr;
  if (!loss)
    return func_.emitError() << "the model's function must return its loss first";

  // Forward activity: which values depend on a parameter.
  llvm::SmallVector<ParamOp, 16> params;
  for (Operation &op : body) {
    if (auto p = dyn_cast<ParamOp>(op)) {
      params.push_back(p);
      if (!isStateRole(p.role()))
        varied_.insert(p.getResult().getAsOpaquePointer());
      continue;
    }
    for (Value operand : op.getOperands())
      if (needsGrad(operand))
        for (Value r : op.getResults())
          varied_.insert(r.getAsOpaquePointer());
  }

  builder_.setInsertionPoint(ret);
  Location loc = loss.getLoc();
  Value labels = loss.labels(), logits = loss.logits();
  if (needsGrad(logits))
    addGrad(logits, builder_.create<SoftmaxCrossEntropyGradOp>(loc, logits.getType(), logits, labels,
                                                               name(loss, ".grad_in")));
  // Reverse program order: every use of a value is differentiated before the value itself.
  llvm::SmallVector<Operation *, 32> forward;
  for (Operation &op : body)
    if (&op != loss.getOperation() && !isa<ParamOp, ReturnOp>(op))
      forward.push_back(&op);
  for (Operation *op : llvm::reverse(forward)) {
    auto it = grads_.find(op->getResult(0).getAsOpaquePointer());
    if (it == grads_.end())
      continue; // does not lead to the loss
    if (failed(backprop(op, it->second)))
      return failure();
  }

  Value correct = builder_.create<CorrectCountOp>(loc, RankedTensorType::get({}, builder_.getI32Type()),
                                                  logits, labels, builder_.getStringAttr("correct"));
  llvm::SmallVector<Value, 32> results{loss.getResult(), correct};
  for (ParamOp p : params) {
    if (isStateRole(p.role())) {
      Value next = nextState(p);
      if (!next)
        return failure();
      results.push_back(next);
      continue;
    }
    auto it = grads_.find(p.getResult().getAsOpaquePointer());
    if (it == grads_.end())
      return p.emitError() << "parameter '" << p.name() << "' does not influence the loss";
    results.push_back(it->second);
  }
  builder_.create<ReturnOp>(ret.getLoc(), results);
  ret.erase();
  func_.setType(
      FunctionType::get(func_.getContext(), func_.getArgumentTypes(), ValueRange(results).getTypes()));
  return success();
}

// @m_infer(x) -> probabilities: the forward graph up to the logits, then softmax; batchnorm
// with its running statistics, dropout left out.
void buildInference(FuncOp func) {
  Block &body = func.getBody().front();
  for (Operation &op : llvm::make_early_inc_range(body)) {
    if (auto bn = dyn_cast<BatchNormOp>(op))
      bn.trainingAttr(BoolAttr::get(func.getContext(), false));
    if (auto dropout = dyn_cast<DropoutOp>(op)) {
      dropout.getResult().replaceAllUsesWith(dropout.input());
      dropout.erase();
    }
  }
  auto ret = cast<ReturnOp>(body.getTerminator());
  auto loss = ret.getOperand(0).getDefiningOp<SoftmaxCrossEntropyOp>();
  OpBuilder builder(ret);
  Value logits = loss.logits();
  Value probs =
      builder.create<SoftmaxOp>(ret.getLoc(), logits.getType(), logits, builder.getStringAttr("probs"));
  builder.create<ReturnOp>(ret.getLoc(), ValueRange{probs});
  ret.erase();
  loss.erase();
  eraseDeadOps(func);
  if (func.getNumArguments() > 2 && func.getArgAttr(2, kNoiseAttr))
    func.eraseArgument(2);
  func.eraseArgument(1); // the labels
  func.setType(FunctionType::get(func.getContext(), func.getArgumentTypes(), {probs.getType()}));
}

struct AutodiffPass : public PassWrapper<AutodiffPass, OperationPass<ModuleOp>> {
  StringRef getArgument() const final { return "lenet-autodiff"; }
  StringRef getDescription() const final { return "Derive the training step and the inference function"; }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto funcs = llvm::to_vector<1>(module.getOps<FuncOp>());
    if (funcs.size() != 1) {
      module.emitError() << "expected one model function, found " << funcs.size();
      return signalPassFailure();
    }
    FuncOp forward = funcs[0];
    FuncOp train = cloneAs(forward, (forward.getName() + "_train_step").str());
    FuncOp infer = cloneAs(forward, (forward.getName() + "_infer").str());
    module.push_back(train);
    module.push_back(infer);
    eraseDeadOps(train);
    if (failed(Differentiator(train).run()))
      return signalPassFailure();
    buildInference(infer);
  }
};

} // namespace

std::unique_ptr<Pass> lenet::createAutodiffPass() { return std::make_unique<AutodiffPass>(); }
