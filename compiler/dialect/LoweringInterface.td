// Each op's lowering to Halide, asked of the op: the lowering pass calls it instead of
// knowing every op. The implementations need Halide and live in halide/Lower.cpp, beside
// the lowering they serve (the dialect's own library stays free of Halide's headers).
#ifndef LENET_LOWERING_INTERFACE
#define LENET_LOWERING_INTERFACE

include "mlir/IR/OpBase.td"

def HalideLoweringOpInterface : OpInterface<"HalideLoweringOpInterface"> {
  let description = [{
    The op defines its result's Halide Func (`cx.define(f)`) from its operands' Funcs
    (`cx.in(i)`), with the algorithm of halide/Ops.h; an identity op passes its operand's
    Func on (`cx.same(v)`).
  }];
  let cppNamespace = "::lenet";
  let methods = [
    InterfaceMethod<"Define the op's result as a Halide Func.",
                    "void", "lowerToHalide", (ins "::lenetc::OpLowering &":$cx)>
  ];
}

#endif // LENET_LOWERING_INTERFACE
