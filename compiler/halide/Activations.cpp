#include "halide/Activations.h"

namespace lenetc::hl {

using namespace Halide;

namespace {

// 1/d for d >= 1: the CPU's approximate reciprocal (12-14 bits) refined by one Newton step
// (~22 bits, within float rounding of 1/d for the sigmoid's range): three pipelined
// instructions where a 16-wide division issues only once per ~10 cycles on AVX-512.
// d must stay finite (inf * 0 is NaN in the Newton step): callers bound it.
Expr reciprocalAtLeastOne(Expr d) {
  Expr r = fast_inverse(d);
  return r * (2.f - d * r);
}

// 1 / (1 + exp(-x)) with Halide's fast_exp (a shorter polynomial: good to the last 5 bits of
// the mantissa, a few 1e-6 relative) and the refined reciprocal. fast_exp needs an argument
// far from overflow: clamped to [-80, 80], where the sigmoid is 1 - 1.8e-35 or 1.8e-35 (1
// and ~0 in float: no sum can tell).
Expr fastSigmoid(Expr x) { return reciprocalAtLeastOne(1.f + fast_exp(clamp(-x, -80.f, 80.f))); }

// tanh(x) = 2 sigmoid(2x) - 1: the sigmoid's cost, where Halide's tanh has an exp and a
// division of its own (docs/schedules.md: what it saved LeNet-1). Near 0 the subtraction
// leaves an absolute error of ~2e-7.
Expr fastTanh(Expr x) { return 2.f * fastSigmoid(2.f * x) - 1.f; }

// exp(x) - 1 for x <= 0 (ELU's negative side): fast_exp, its argument bounded below where
// exp(x) is 0 in float anyway.
Expr expMinusOne(Expr x) { return fast_exp(max(x, -80.f)) - 1.f; }

// GELU's tanh approximation (PyTorch's approximate='tanh'): u = sqrt(2/pi) (x + 0.044715 x^3).
const float kGeluScale = 0.7978845608028654f, kGeluCubic = 0.044715f;
Expr geluInner(Expr x) { return kGeluScale * (x + kGeluCubic * x * x * x); }

using Maker = std::function<ActivationFormula(const ActivationParams &)>;

// One entry per activation; `p` holds the op's attributes (checked present by the caller).
const std::map<std::string, std::pair<std::vector<std::string>, Maker>> &table() {
  static const std::map<std::string, std::pair<std::vector<std::string>, Maker>> t = {
      {"sigmoid",
       {{},
        [](const ActivationParams &) {
          return ActivationFormula{[](Expr x) { return fastSigmoid(x); },
                                   [](Expr dout, Expr, Expr y) { return dout * y * (1.f - y); }};
        }}},
      {"tanh",
       {{},
        [](const ActivationParams &) {
          // (1 - y)(1 + y) rather than 1 - y^2: exact subtraction where tanh saturates.
          return ActivationFormula{[](Expr x) { return fastTanh(x); },
                                   [](Expr dout, Expr, Expr y) { return dout * ((1.f - y) * (1.f + y)); }};
        }}},
      {"relu",
       {{},
        [](const ActivationParams &) {
          return ActivationFormula{[](Expr x) { return max(x, 0.f); },
                                   [](Expr dout, Expr, Expr y) { return select(y > 0.f, dout, 0.f); }};
        }}},
      {"scaled_tanh",
       {{"amplitude", "slope"},
        [](const ActivationParams &p) {
          float a = float(p.at("amplitude")), s = float(p.at("slope"));
          float sOverA = float(p.at("slope") / p.at("amplitude"));
          // y = A tanh(s x)  =>  dy/dx = (s / A) (A - y) (A + y), the factored form exact
          // where the unit saturates (|y| near A).
          return ActivationFormula{[=](Expr x) { return a * fastTanh(s * x); },
                                   [=](Expr dout, Expr, Expr y) { return dout * (sOverA * ((a - y) * (a + y))); }};
        }}},
      {"leaky_relu",
       {{"alpha"},
        [](const ActivationParams &p) {
          float alpha = float(p.at("alpha"));
          // alpha >= 0 (the language checks it): y > 0 exactly where x > 0.
          return ActivationFormula{[=](Expr x) { return select(x > 0.f, x, alpha * x); },
                                   [=](Expr dout, Expr, Expr y) { return select(y > 0.f, dout, alpha * dout); }};
        }}},
      {"elu",
       {{"alpha"},
        [](const ActivationParams &p) {
          float alpha = float(p.at("alpha"));
          // For x <= 0, dy/dx = alpha exp(x) = y + alpha; alpha >= 0, so y > 0 exactly where x > 0.
          return ActivationFormula{[=](Expr x) { return select(x > 0.f, x, alpha * expMinusOne(x)); },
                                   [=](Expr dout, Expr, Expr y) { return select(y > 0.f, dout, dout * (y + alpha)); }};
        }}},
      {"gelu",
       {{},
        [](const ActivationParams &) {
          ActivationFormula f;
          f.value = [](Expr x) { return 0.5f * x * (1.f + fastTanh(geluInner(x))); };
          // d/dx [x/2 (1 + t)] = (1 + t)/2 + x/2 (1 - t^2) u'(x), t = tanh(u(x)): needs x.
          f.gradient = [](Expr dout, Expr x, Expr) {
            Expr t = fastTanh(geluInner(x));
            Expr du = kGeluScale * (1.f + 3.f * kGeluCubic * x * x);
            return dout * (0.5f * (1.f + t) + 0.5f * x * ((1.f - t) * (1.f + t)) * du);
          };
          f.gradientReadsInput = true;
          return f;
        }}},
  };
  return t;
}

} // namespace

bool findActivation(const std::string &mnemonic, const ActivationParams &params, ActivationFormula &out) {
  auto it = table().find(mnemonic);
  if (it == table().end())
    return false;
  for (const auto &name : it->second.first)
    if (!params.count(name))
      return false;
  out = it->second.second(params);
  return true;
}

std::vector<std::string> activationNames() {
  std::vector<std::string> names;
  for (const auto &[name, entry] : table())
    names.push_back(name);
  return names;
}

} // namespace lenetc::hl
