// MLIR generation: the model's syntax tree -> a `lenet` dialect module (shapes not yet
// inferred). All semantic errors that need no shapes are reported here, located in the
// source: undefined or duplicate names, unknown ops and arguments, bad argument values,
// a missing input, label or loss, and unknown train settings.
#pragma once

#include "frontend/AST.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace lenetc {

// Returns a null module after reporting errors.
mlir::OwningOpRef<mlir::ModuleOp> mlirGen(mlir::MLIRContext &ctx, const ModelAST &model,
                                          const std::string &fileName, DiagnosticEngine &diag);

// The ops the language has and their signatures, for `lenetc --help` and "did you mean".
struct OpHelp {
  std::string name;
  std::string signature; // "conv(input, filters, kernel, stride=1, pad=0, table=none)"
  std::string summary;
};
const std::vector<OpHelp> &languageOps();

} // namespace lenetc
