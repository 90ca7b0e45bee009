// The `lenet` MLIR dialect (ODS in LenetOps.td).
#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialect/LenetDialect.h.inc"
#include "dialect/ShapeInferenceInterface.h.inc"

#define GET_OP_CLASSES
#include "dialect/LenetOps.h.inc"

namespace lenet {

// Names of the attributes lenetc puts on the model's func and its arguments.
inline constexpr const char *kArgNameAttr = "lenet.name";    // the input's name in the model
inline constexpr const char *kClassesAttr = "lenet.classes"; // a label argument's class count
inline constexpr const char *kTrainAttr = "lenet.train";     // module: the train block, resolved

// The per-example shape of a batched tensor type (the type without its first dimension), or
// nothing when the type is unranked.
llvm::Optional<llvm::SmallVector<int64_t, 4>> exampleShape(mlir::Type type);
// tensor<?x{shape}xf32>: a batch of examples of `shape`.
mlir::RankedTensorType batchedType(mlir::MLIRContext *ctx, llvm::ArrayRef<int64_t> shape);
// "[6, 28, 28]"
std::string formatShape(llvm::ArrayRef<int64_t> shape);
// The `name` attribute every lenet op has ("" for others).
llvm::StringRef opName(mlir::Operation *op);

} // namespace lenet
