// The `lenet` MLIR dialect (ODS in LenetOps.td).
#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "mlir/IR/Builders.h"

#include "dialect/LenetDialect.h.inc"

namespace lenetc {
// What an op's lowering works with (halide/Lower.h), and the lowering every activation and
// activation gradient shares (halide/Lower.cpp).
class OpLowering;
void lowerActivation(OpLowering &cx, mlir::Operation *activation);
void lowerActivationGrad(OpLowering &cx, mlir::Operation *grad);
} // namespace lenetc

namespace lenet {

// What an op's gradient rule (GradientOpInterface) works with: dL/d(result), which of its
// operands need a gradient, and where to hand the gradients it builds (in the autodiff
// pass, which sums the gradients of a value used more than once).
class GradientBuilder {
public:
  virtual ~GradientBuilder() = default;
  mlir::OpBuilder &builder() { return builder_; }
  mlir::Value dout() const { return dout_; }
  // Whether some parameter influences `v` (only those values get a gradient).
  virtual bool needs(mlir::Value v) const = 0;
  virtual void add(mlir::Value v, mlir::Value grad) = 0;
  // The gradient op's name: the forward op's name with `suffix` (".grad_w").
  mlir::StringAttr name(llvm::StringRef suffix) const;
  // The rule every activation shares: its gradient op `gradOpName` from (dout, y), with the
  // activation's attributes.
  void addActivationGradient(mlir::Operation *activation, llvm::StringRef gradOpName);

protected:
  GradientBuilder(mlir::OpBuilder &builder, mlir::Operation *op, mlir::Value dout)
      : builder_(builder), op_(op), dout_(dout) {}
  mlir::OpBuilder &builder_;
  mlir::Operation *op_;
  mlir::Value dout_;
};

// Marks an elementwise activation op (lenet.relu, ...): fusion, the schedule generator and
// the summary ask for this trait rather than keep lists of their own.
template <typename ConcreteType> class Activation : public mlir::OpTrait::TraitBase<ConcreteType, Activation> {};
// Marks an activation's gradient op (lenet.relu_grad, ...): operands (dL/dy, y).
template <typename ConcreteType>
class ActivationGrad : public mlir::OpTrait::TraitBase<ConcreteType, ActivationGrad> {};

// An elementwise op's result type is its input's: set it (`infer`) or check it.
mlir::LogicalResult checkElementwise(mlir::Operation *op, mlir::Value input, bool infer);
// An activation gradient's `out` operand must be the result of `activation`.
mlir::LogicalResult verifyActivationGrad(mlir::Operation *op, llvm::StringRef activation);

} // namespace lenet

#include "dialect/GradientInterface.h.inc"
#include "dialect/LoweringInterface.h.inc"
#include "dialect/ShapeInferenceInterface.h.inc"

#define GET_OP_CLASSES
#include "dialect/LenetOps.h.inc"

namespace lenet {

// Names of the attributes lenetc puts on the model's func and its arguments.
inline constexpr const char *kArgNameAttr = "lenet.name";    // the input's name in the model
inline constexpr const char *kClassesAttr = "lenet.classes"; // a label argument's class count
inline constexpr const char *kTrainAttr = "lenet.train";     // module: the train block, resolved
// The training step's argument that seeds dropout: tensor<2xi32>, [seed, first example].
inline constexpr const char *kNoiseAttr = "lenet.noise";

// Whether a parameter's role makes it state (batchnorm's running statistics: updated by the
// training step, never by the optimizer) rather than a trainable parameter.
inline bool isStateRole(llvm::StringRef role) { return role == "running_mean" || role == "running_var"; }

// The per-example shape of a batched tensor type (the type without its first dimension), or
// nothing when the type is unranked.
llvm::Optional<llvm::SmallVector<int64_t, 4>> exampleShape(mlir::Type type);
// tensor<?x{shape}xf32>: a batch of examples of `shape`.
mlir::RankedTensorType batchedType(mlir::MLIRContext *ctx, llvm::ArrayRef<int64_t> shape);
// "[6, 28, 28]"
std::string formatShape(llvm::ArrayRef<int64_t> shape);
// The connections of a conv's table (its rows' lengths added up); 0 without a table.
int64_t tableConnections(mlir::ArrayAttr table);
// The `name` attribute every lenet op has ("" for others).
llvm::StringRef opName(mlir::Operation *op);

} // namespace lenet
