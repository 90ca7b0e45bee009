// The passes of lenetc, in pipeline order. Each stage's output is printable (--emit=).
#pragma once

#include "mlir/Pass/Pass.h"

#include <memory>

namespace lenet {

// Gives every value its per-example shape and every `lenet.param` its shape, in program
// order; reports the first operand that does not fit its op (at that op's location).
std::unique_ptr<mlir::Pass> createShapeInferencePass();

// Adds @<model>_train_step (loss, correct count and every parameter's gradient, through
// explicit gradient ops) and @<model>_infer (class probabilities) next to the forward
// function. Fails, located, on an op that has no gradient rule.
std::unique_ptr<mlir::Pass> createAutodiffPass();

} // namespace lenet
