// Each op's derivative, next to the op: the autodiff pass asks an op for the gradient ops
// of its operands instead of knowing every op (as shape inference asks through
// ShapeInferenceInterface.td).
#ifndef LENET_GRADIENT_INTERFACE
#define LENET_GRADIENT_INTERFACE

include "mlir/IR/OpBase.td"

def GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let description = [{
    Reverse mode: given dL/d(result) (`g.dout()`), the op builds the gradient ops of the
    operands that need one (`g.needs(v)`) and hands each to `g.add(v, grad)`, which sums
    the contributions of a value used more than once. An op without this interface has no
    gradient rule: a model that needs one cannot be trained.
  }];
  let cppNamespace = "::lenet";
  let methods = [
    InterfaceMethod<"Build the gradients of the operands that need one.",
                    "void", "buildGradients", (ins "::lenet::GradientBuilder &":$g)>
  ];
}

#endif // LENET_GRADIENT_INTERFACE
