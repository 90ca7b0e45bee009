// Shape inference (the MLIR Toy tutorial's chapter 4, simplified): the model is one block
// in SSA order, so one walk in program order sees every operand inferred before its user.
#include "passes/Passes.h"

#include "dialect/Dialect.h"

#include "mlir/Pass/Pass.h"

using namespace mlir;

namespace {

struct ShapeInferencePass : public PassWrapper<ShapeInferencePass, OperationPass<FuncOp>> {
  StringRef getArgument() const final { return "lenet-shape-inference"; }
  StringRef getDescription() const final { return "Infer per-example shapes of lenet ops"; }

  void runOnOperation() override {
    FuncOp func = getOperation();
    WalkResult result = func.walk([](Operation *op) -> WalkResult {
      if (auto shaped = dyn_cast<lenet::ShapeInference>(op))
        if (failed(shaped.inferShapes()))
          return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();

    // Every value now has a ranked type; the function's results follow its terminator.
    Operation *terminator = func.getBody().back().getTerminator();
    for (Operation &op : func.getBody().front())
      for (Value v : op.getResults())
        if (!v.getType().isa<RankedTensorType>()) {
          op.emitError() << "internal error: shape inference left '" << lenet::opName(&op)
                         << "' without a shape";
          return signalPassFailure();
        }
    func.setType(
        FunctionType::get(func.getContext(), func.getArgumentTypes(), terminator->getOperandTypes()));
  }
};

} // namespace

std::unique_ptr<Pass> lenet::createShapeInferencePass() { return std::make_unique<ShapeInferencePass>(); }
