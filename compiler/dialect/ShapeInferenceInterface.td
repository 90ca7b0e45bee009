// Per-example shape inference, in the manner of the MLIR Toy tutorial (chapter 4), with one
// addition in the manner of Keras' lazy `build`: an op that owns parameters also gives its
// `lenet.param` operands their shapes, since a conv's weight shape depends on the channel
// count of its input.
#ifndef LENET_SHAPE_INFERENCE_INTERFACE
#define LENET_SHAPE_INFERENCE_INTERFACE

include "mlir/IR/OpBase.td"

def ShapeInferenceOpInterface : OpInterface<"ShapeInference"> {
  let description = [{
    Infers the op's result type from its (already inferred) operand types, sets the types
    of the parameters it owns, and reports a located error when the operands do not fit.
  }];
  let cppNamespace = "::lenet";
  let methods = [
    InterfaceMethod<"Infer result and parameter types; emit an error and fail on a mismatch.",
                    "::mlir::LogicalResult", "inferShapes">
  ];
}

#endif // LENET_SHAPE_INFERENCE_INTERFACE
