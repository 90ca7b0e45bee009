// The `lenet` dialect: one op per operation of the model language, on tensors whose first
// dimension is the batch (dynamic, `?`) and whose other dimensions are static after shape
// inference. Parameters are explicit values (`lenet.param`) so that later passes (autodiff,
// lowering) see every tensor the model reads and writes.
//
// Every op carries `name`, the name later stages give its Halide Func: the statement's name
// for the head of a chain (`c1 = conv(...) |> sigmoid`: conv is `c1`), `<stmt>.<op>` for
// piped stages and nested calls (`c1.sigmoid`, `f5.flatten`), `<op>.w`/`.b` for parameters.
#ifndef LENET_OPS
#define LENET_OPS

include "mlir/IR/OpBase.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "dialect/ShapeInferenceInterface.td"

def Lenet_Dialect : Dialect {
  let name = "lenet";
  let cppNamespace = "::lenet";
  let summary = "LeNet-family convolutional networks, for lenetc";
  let description = [{
    Forward graphs of small convolutional networks. Activations are `tensor<?xCxHxWxf32>`
    or `tensor<?xNxf32>` (batch first), labels `tensor<?xi32>`, the loss `tensor<f32>`.
  }];
}

// Every op but the terminator names its result after its `name` (%c1, %c1.sigmoid, ...),
// so that the printed IR reads like the model file.
class Lenet_Op<string mnemonic, list<Trait> traits = []> : Op<Lenet_Dialect, mnemonic, traits>;

class Lenet_NamedOp<string mnemonic, list<Trait> traits = []>
    : Lenet_Op<mnemonic, !listconcat(traits, [OpAsmOpInterface])> {
  let extraClassDeclaration = [{
    void getAsmResultNames(::llvm::function_ref<void(::mlir::Value, ::llvm::StringRef)> setName) {
      setName(getResult(), name());
    }
  }];
}

class Lenet_ShapedOp<string mnemonic, list<Trait> traits = []>
    : Lenet_NamedOp<mnemonic, !listconcat(traits, [NoSideEffect,
        DeclareOpInterfaceMethods<ShapeInferenceOpInterface>])> {
  let verifier = [{ return ::verify(*this); }];
}

def ParamOp : Lenet_NamedOp<"param", [NoSideEffect]> {
  let summary = "a trainable parameter";
  let description = [{
    A trainable tensor of the model. `role` is `weight`, `bias` or `coef` (the trainable
    coefficient of a subsampling layer); initialisers use it with the fan-in and fan-out
    that the owning op's shape implies.
  }];
  let arguments = (ins StrAttr:$name, StrAttr:$role);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$name `,` $role attr-dict `:` type($result)";
  let verifier = [{ return ::verify(*this); }];
}

def ConvOp : Lenet_ShapedOp<"conv"> {
  let summary = "2-D convolution (cross-correlation), optionally with a connection table";
  let description = [{
    out[n, f, y, x] = b[f] + sum_{c, i, j} w[f, c, i, j] * in[n, c, y*s + i - p, x*s + j - p]
    (zero outside the input). With a `table`, output map f reads only the input maps listed in
    table[f]; the weight is then `[connections, k, k]`, connections in table order.
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$weight, AnyTensor:$bias,
                   StrAttr:$name, I64Attr:$filters, I64Attr:$kernel, I64Attr:$stride,
                   I64Attr:$pad, OptionalAttr<ArrayAttr>:$table);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$input `,` $weight `,` $bias attr-dict `:` functional-type(operands, results)";
}

class Lenet_PoolOp<string mnemonic, string what> : Lenet_ShapedOp<mnemonic> {
  let summary = what # " pooling over size x size windows";
  let arguments = (ins AnyTensor:$input, StrAttr:$name, I64Attr:$size, I64Attr:$stride);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def AvgPoolOp : Lenet_PoolOp<"avgpool", "average">;
def MaxPoolOp : Lenet_PoolOp<"maxpool", "maximum">;

def SubsampleOp : Lenet_ShapedOp<"subsample"> {
  let summary = "LeCun's trainable subsampling";
  let description = [{
    out[n, c, y, x] = coef[c] * sum_{i, j < size} in[n, c, y*s + i, x*s + j] + b[c]
    (LeCun et al. 1998, layers S2 and S4; the squashing function is a separate op).
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$coef, AnyTensor:$bias,
                   StrAttr:$name, I64Attr:$size, I64Attr:$stride);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$input `,` $coef `,` $bias attr-dict `:` functional-type(operands, results)";
}

def DenseOp : Lenet_ShapedOp<"dense"> {
  let summary = "fully connected layer";
  let description = [{ out[n, u] = b[u] + sum_i w[u, i] * in[n, i]  (weight `[units, in]`). }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$weight, AnyTensor:$bias,
                   StrAttr:$name, I64Attr:$units);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$input `,` $weight `,` $bias attr-dict `:` functional-type(operands, results)";
}

def FlattenOp : Lenet_ShapedOp<"flatten"> {
  let summary = "flattens the per-example dimensions (C, H, W) into one, row-major";
  let arguments = (ins AnyTensor:$input, StrAttr:$name);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

class Lenet_ActivationOp<string mnemonic, string formula> : Lenet_ShapedOp<mnemonic> {
  let summary = "elementwise " # formula;
  let arguments = (ins AnyTensor:$input, StrAttr:$name);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def SigmoidOp : Lenet_ActivationOp<"sigmoid", "1 / (1 + exp(-x))">;
def TanhOp : Lenet_ActivationOp<"tanh", "tanh(x)">;
def ReluOp : Lenet_ActivationOp<"relu", "max(x, 0)">;

def ScaledTanhOp : Lenet_ShapedOp<"scaled_tanh"> {
  let summary = "elementwise amplitude * tanh(slope * x) (LeCun 1998: 1.7159 tanh(2x/3))";
  let arguments = (ins AnyTensor:$input, StrAttr:$name, F64Attr:$amplitude, F64Attr:$slope);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def SoftmaxCrossEntropyOp : Lenet_ShapedOp<"softmax_cross_entropy"> {
  let summary = "mean over the batch of -log softmax(logits)[label]";
  let arguments = (ins AnyTensor:$logits, AnyTensor:$labels, StrAttr:$name);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$logits `,` $labels attr-dict `:` functional-type(operands, results)";
}

def ReturnOp : Lenet_Op<"return", [NoSideEffect, Terminator, HasParent<"::mlir::FuncOp">]> {
  let summary = "ends the model: returns the loss and the logits";
  let arguments = (ins Variadic<AnyTensor>:$operands);
  let assemblyFormat = "attr-dict ($operands^ `:` type($operands))?";
}

#endif // LENET_OPS
