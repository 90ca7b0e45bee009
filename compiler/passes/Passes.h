// The passes of lenetc, in pipeline order. Each stage's output is printable (--emit=).
#pragma once

#include "mlir/Pass/Pass.h"

#include <memory>

namespace lenet {

// Gives every value its per-example shape and every `lenet.param` its shape, in program
// order; reports the first operand that does not fit its op (at that op's location).
std::unique_ptr<mlir::Pass> createShapeInferencePass();

} // namespace lenet
