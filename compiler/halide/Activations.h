// The formulas of the activations: each one's value and gradient as Halide expressions,
// keyed by the op's mnemonic (`relu`, `leaky_relu`, ...). The ops themselves are one `defm`
// line each in dialect/LenetOps.td; lowering, fusion and scheduling treat every
// activation alike through this table and the `Activation` trait.
#pragma once

#include "Halide.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace lenetc::hl {

// An activation's float attributes by name (`alpha`, `amplitude`, ...).
using ActivationParams = std::map<std::string, double>;

struct ActivationFormula {
  // y = f(x)
  std::function<Halide::Expr(Halide::Expr x)> value;
  // dL/dx from dL/dy, x and y.
  std::function<Halide::Expr(Halide::Expr dout, Halide::Expr x, Halide::Expr y)> gradient;
  // Whether the gradient reads x: then the backward pass needs the activation's input
  // kept, not only its output (a schedule may not compute x inside the activation alone).
  bool gradientReadsInput = false;
};

// The formula of the activation `mnemonic` with `params`; false for an unknown name or a
// missing parameter.
bool findActivation(const std::string &mnemonic, const ActivationParams &params, ActivationFormula &out);

// The mnemonics this table knows (a test checks that every Activation op has a formula).
std::vector<std::string> activationNames();

} // namespace lenetc::hl
