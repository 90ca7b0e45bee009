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
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "dialect/ShapeInferenceInterface.td"
include "dialect/GradientInterface.td"
include "dialect/LoweringInterface.td"

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
        DeclareOpInterfaceMethods<ShapeInferenceOpInterface>,
        DeclareOpInterfaceMethods<HalideLoweringOpInterface>])> {
  let verifier = [{ return ::verify(*this); }];
}

// A forward op with parameters or a shape of its own: shape inference and its gradient rule
// are written in Dialect.cpp, side by side.
class Lenet_LayerOp<string mnemonic, list<Trait> traits = []>
    : Lenet_ShapedOp<mnemonic, !listconcat(traits, [DeclareOpInterfaceMethods<GradientOpInterface>])>;

def ParamOp : Lenet_NamedOp<"param", [NoSideEffect]> {
  let summary = "a parameter or a state tensor of the model";
  let description = [{
    A tensor of the model. `role` is `weight`, `bias`, `coef` (the trainable coefficient of a
    subsampling layer), `scale` or `shift` (batchnorm's): trainable, initialised from the role
    and the fan-in and fan-out that the owning op's shape implies; or `running_mean` or
    `running_var`: state, not trained, that the training step updates (batchnorm's).
  }];
  let arguments = (ins StrAttr:$name, StrAttr:$role);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$name `,` $role attr-dict `:` type($result)";
  let verifier = [{ return ::verify(*this); }];
}

def ConvOp : Lenet_LayerOp<"conv"> {
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

class Lenet_PoolOp<string mnemonic, string what> : Lenet_LayerOp<mnemonic> {
  let summary = what # " pooling over size x size windows";
  let arguments = (ins AnyTensor:$input, StrAttr:$name, I64Attr:$size, I64Attr:$stride);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def AvgPoolOp : Lenet_PoolOp<"avgpool", "average">;
def MaxPoolOp : Lenet_PoolOp<"maxpool", "maximum">;

def SubsampleOp : Lenet_LayerOp<"subsample"> {
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

def DenseOp : Lenet_LayerOp<"dense"> {
  let summary = "fully connected layer";
  let description = [{ out[n, u] = b[u] + sum_i w[u, i] * in[n, i]  (weight `[units, in]`). }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$weight, AnyTensor:$bias,
                   StrAttr:$name, I64Attr:$units);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$input `,` $weight `,` $bias attr-dict `:` functional-type(operands, results)";
}

def FlattenOp : Lenet_LayerOp<"flatten"> {
  let summary = "flattens the per-example dimensions (C, H, W) into one, row-major";
  let arguments = (ins AnyTensor:$input, StrAttr:$name);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def BatchNormOp : Lenet_LayerOp<"batchnorm"> {
  let summary = "batch normalization, per channel of [C, H, W] or per feature of [F]";
  let description = [{
    out = (in - mean[c]) / sqrt(var[c] + eps) * scale[c] + shift[c]. While `training`, mean
    and var are the batch's (over examples and positions; var biased), as PyTorch's
    BatchNorm2d/1d in train mode; otherwise the running statistics, which are state, not
    parameters: the training step returns their next values (`lenet.batchnorm_running`).
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$scale, AnyTensor:$shift, AnyTensor:$running_mean,
                   AnyTensor:$running_var, StrAttr:$name, F64Attr:$momentum, F64Attr:$eps, BoolAttr:$training);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$input `,` $scale `,` $shift `,` $running_mean `,` $running_var attr-dict `:` functional-type(operands, results)";
}

def DropoutOp : Lenet_LayerOp<"dropout"> {
  let summary = "inverted dropout: zeroes each value with probability `rate` while training";
  let description = [{
    out = in * keep / (1 - rate), keep = 0 or 1 from a hash of the step's seed, the example's
    index in the whole batch and the value's index in the example (`noise` = [seed, index of
    the first example]): the same mask on any number of threads, micro-batches or ranks.
  }];
  let arguments = (ins AnyTensor:$input, AnyTensor:$noise, StrAttr:$name, F64Attr:$rate);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$input `,` $noise attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Activations: one `defm` line each. It defines the op (`lenet.relu`) and its gradient op
// (`lenet.relu_grad`, from dL/dy and the activation's output y; the input x is the
// activation's operand), both with the activation's own attributes. Shape inference and
// the gradient rule are shared here, and so is the lowering (halide/Lower.cpp); the formula
// and its derivative are in halide/Activations.cpp; the language's signature in MLIRGen.cpp.
//===----------------------------------------------------------------------===//

def Activation : NativeOpTrait<"Activation"> { let cppNamespace = "::lenet"; }
def ActivationGrad : NativeOpTrait<"ActivationGrad"> { let cppNamespace = "::lenet"; }

multiclass Lenet_Activation<string mnemonic, string formula, dag params = (ins)> {
  def Op : Lenet_Op<mnemonic, [NoSideEffect, OpAsmOpInterface, ShapeInferenceOpInterface,
                               GradientOpInterface, HalideLoweringOpInterface, Activation]> {
    let summary = "elementwise " # formula;
    let arguments = !con((ins AnyTensor:$input, StrAttr:$name), params);
    let results = (outs AnyTensor:$result);
    let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
    let verifier = [{ return ::lenet::checkElementwise(getOperation(), input(), false); }];
    let extraClassDeclaration = [{
      void getAsmResultNames(::llvm::function_ref<void(::mlir::Value, ::llvm::StringRef)> setName) {
        setName(getResult(), name());
      }
      ::mlir::LogicalResult inferShapes() { return ::lenet::checkElementwise(getOperation(), input(), true); }
      void buildGradients(::lenet::GradientBuilder &g) {
        g.addActivationGradient(getOperation(), "lenet.}] # mnemonic # [{_grad");
      }
      void lowerToHalide(::lenetc::OpLowering &cx) { ::lenetc::lowerActivation(cx, getOperation()); }
    }];
  }
  def GradOp : Lenet_NamedOp<mnemonic # "_grad", [NoSideEffect, ActivationGrad, SameOperandsAndResultType,
                                                  HalideLoweringOpInterface]> {
    let summary = "gradient of " # mnemonic # " from its output y: dout * d(" # formula # ")/dx";
    let arguments = !con((ins AnyTensor:$dout, AnyTensor:$out, StrAttr:$name), params);
    let results = (outs AnyTensor:$result);
    let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
    let verifier = [{ return ::lenet::verifyActivationGrad(getOperation(), "lenet.}] # mnemonic # [{"); }];
    let extraClassDeclaration = [{
      void getAsmResultNames(::llvm::function_ref<void(::mlir::Value, ::llvm::StringRef)> setName) {
        setName(getResult(), name());
      }
      void lowerToHalide(::lenetc::OpLowering &cx) { ::lenetc::lowerActivationGrad(cx, getOperation()); }
    }];
  }
}

defm Sigmoid : Lenet_Activation<"sigmoid", "1 / (1 + exp(-x))">;
defm Tanh : Lenet_Activation<"tanh", "tanh(x)">;
defm Relu : Lenet_Activation<"relu", "max(x, 0)">;
defm ScaledTanh : Lenet_Activation<"scaled_tanh", "amplitude * tanh(slope * x) (LeCun 1998: 1.7159 tanh(2x/3))",
                                   (ins F64Attr:$amplitude, F64Attr:$slope)>;
defm LeakyRelu : Lenet_Activation<"leaky_relu", "x if x > 0, else alpha * x", (ins F64Attr:$alpha)>;
defm Elu : Lenet_Activation<"elu", "x if x > 0, else alpha * (exp(x) - 1)", (ins F64Attr:$alpha)>;
defm Gelu : Lenet_Activation<"gelu", "x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (PyTorch's approximate='tanh')">;

def SoftmaxCrossEntropyOp : Lenet_ShapedOp<"softmax_cross_entropy"> {
  let summary = "mean over the batch of -log softmax(logits)[label]";
  let arguments = (ins AnyTensor:$logits, AnyTensor:$labels, StrAttr:$name);
  let results = (outs AnyTensor:$result);
  let assemblyFormat = "$logits `,` $labels attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Training ops: the backward graph (made by the autodiff pass) and the metrics.
// A gradient op's result has the type of what it is the gradient of; its `name` is the
// forward op's name with `.grad_in`, `.grad_w`, `.grad_b` or `.grad_coef`.
//===----------------------------------------------------------------------===//

// Ops the autodiff pass adds: gradients, and what the training and inference functions
// compute besides (sums of gradients, probabilities, the correct count).
class Lenet_DerivedOp<string mnemonic, list<Trait> traits = []>
    : Lenet_NamedOp<mnemonic, !listconcat(traits, [NoSideEffect,
        DeclareOpInterfaceMethods<HalideLoweringOpInterface>])> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

class Lenet_GradOp<string mnemonic, list<Trait> traits = []> : Lenet_DerivedOp<mnemonic, traits> {
  let verifier = [{ return ::verify(*this); }];
}

def ConvGradInputOp : Lenet_GradOp<"conv_grad_input"> {
  let summary = "gradient of a conv with respect to its input (a transposed convolution)";
  let arguments = (ins AnyTensor:$dout, AnyTensor:$weight, StrAttr:$name, I64Attr:$kernel,
                   I64Attr:$stride, I64Attr:$pad, OptionalAttr<ArrayAttr>:$table);
  let results = (outs AnyTensor:$result);
}

def ConvGradWeightOp : Lenet_GradOp<"conv_grad_weight"> {
  let summary = "gradient of a conv with respect to its weight (input correlated with dout)";
  let arguments = (ins AnyTensor:$dout, AnyTensor:$input, StrAttr:$name, I64Attr:$kernel,
                   I64Attr:$stride, I64Attr:$pad, OptionalAttr<ArrayAttr>:$table);
  let results = (outs AnyTensor:$result);
}

def BiasGradOp : Lenet_GradOp<"bias_grad"> {
  let summary = "gradient of a per-channel bias: dout summed over all but the channel dimension";
  let arguments = (ins AnyTensor:$dout, StrAttr:$name);
  let results = (outs AnyTensor:$result);
}

def DenseGradInputOp : Lenet_GradOp<"dense_grad_input"> {
  let summary = "gradient of a dense layer with respect to its input: dout x weight";
  let arguments = (ins AnyTensor:$dout, AnyTensor:$weight, StrAttr:$name);
  let results = (outs AnyTensor:$result);
}

def DenseGradWeightOp : Lenet_GradOp<"dense_grad_weight"> {
  let summary = "gradient of a dense layer with respect to its weight: dout^T x input";
  let arguments = (ins AnyTensor:$dout, AnyTensor:$input, StrAttr:$name);
  let results = (outs AnyTensor:$result);
}

def AvgPoolGradOp : Lenet_GradOp<"avgpool_grad"> {
  let summary = "gradient of average pooling: dout spread evenly over each window";
  let arguments = (ins AnyTensor:$dout, StrAttr:$name, I64Attr:$size, I64Attr:$stride);
  let results = (outs AnyTensor:$result);
}

def MaxPoolGradOp : Lenet_GradOp<"maxpool_grad"> {
  let summary = "gradient of max pooling: dout routed to the first maximum of each window";
  let arguments = (ins AnyTensor:$dout, AnyTensor:$input, StrAttr:$name, I64Attr:$size, I64Attr:$stride);
  let results = (outs AnyTensor:$result);
}

def SubsampleGradInputOp : Lenet_GradOp<"subsample_grad_input"> {
  let summary = "gradient of trainable subsampling with respect to its input";
  let arguments = (ins AnyTensor:$dout, AnyTensor:$coef, StrAttr:$name, I64Attr:$size, I64Attr:$stride);
  let results = (outs AnyTensor:$result);
}

def SubsampleGradCoefOp : Lenet_GradOp<"subsample_grad_coef"> {
  let summary = "gradient of trainable subsampling with respect to its coefficients";
  let arguments = (ins AnyTensor:$dout, AnyTensor:$input, StrAttr:$name, I64Attr:$size, I64Attr:$stride);
  let results = (outs AnyTensor:$result);
}

def BatchNormGradInputOp : Lenet_GradOp<"batchnorm_grad_input"> {
  let summary = "gradient of training-mode batchnorm with respect to its input";
  let description = [{
    dx = scale * invstd * (dout - (grad_shift + xhat * grad_scale) / count), count the values
    each statistic is taken over; `out` is the batchnorm's result (its statistics are read
    from it), grad_scale and grad_shift its parameters' gradients.
  }];
  let arguments = (ins AnyTensor:$dout, AnyTensor:$out, AnyTensor:$scale, AnyTensor:$grad_scale,
                   AnyTensor:$grad_shift, StrAttr:$name);
  let results = (outs AnyTensor:$result);
}

def BatchNormGradScaleOp : Lenet_GradOp<"batchnorm_grad_scale"> {
  let summary = "gradient of batchnorm's scale: dout * xhat summed over all but the channel";
  let arguments = (ins AnyTensor:$dout, AnyTensor:$out, StrAttr:$name);
  let results = (outs AnyTensor:$result);
}

def BatchNormRunningOp : Lenet_GradOp<"batchnorm_running"> {
  let summary = "a running statistic after one training step: (1 - momentum) old + momentum batch's";
  let description = [{
    `statistic` is `mean` or `var`; the batch's variance enters unbiased (count / (count - 1)),
    as PyTorch's. `out` is the batchnorm's result, `old` the running statistic.
  }];
  let arguments = (ins AnyTensor:$out, AnyTensor:$old, StrAttr:$name, StrAttr:$statistic);
  let results = (outs AnyTensor:$result);
}

def DropoutGradOp : Lenet_GradOp<"dropout_grad"> {
  let summary = "gradient of dropout: dout through the forward's mask, scaled by 1 / (1 - rate)";
  let arguments = (ins AnyTensor:$dout, AnyTensor:$out, StrAttr:$name);
  let results = (outs AnyTensor:$result);
}

def FlattenGradOp : Lenet_GradOp<"flatten_grad"> {
  let summary = "gradient of flatten: dout reshaped back to the input's shape";
  let arguments = (ins AnyTensor:$dout, StrAttr:$name);
  let results = (outs AnyTensor:$result);
}

def SoftmaxCrossEntropyGradOp : Lenet_GradOp<"softmax_cross_entropy_grad"> {
  let summary = "gradient of the mean softmax cross-entropy: (softmax(logits) - onehot(labels)) / batch";
  let arguments = (ins AnyTensor:$logits, AnyTensor:$labels, StrAttr:$name);
  let results = (outs AnyTensor:$result);
}

def AddOp : Lenet_DerivedOp<"add", [SameOperandsAndResultType, DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = "elementwise sum: accumulates the gradients of a value used more than once";
  let arguments = (ins AnyTensor:$lhs, AnyTensor:$rhs, StrAttr:$name);
  let results = (outs AnyTensor:$result);
}

def SoftmaxOp : Lenet_DerivedOp<"softmax"> {
  let verifier = [{ return ::verify(*this); }];
  let summary = "class probabilities from logits (the inference pipeline's output)";
  let arguments = (ins AnyTensor:$logits, StrAttr:$name);
  let results = (outs AnyTensor:$result);
}

def CorrectCountOp : Lenet_DerivedOp<"correct_count"> {
  let verifier = [{ return ::verify(*this); }];
  let summary = "how many examples of the batch the logits classify correctly (first maximum)";
  let arguments = (ins AnyTensor:$logits, AnyTensor:$labels, StrAttr:$name);
  let results = (outs AnyTensor:$result);
}

def ReturnOp : Lenet_Op<"return", [NoSideEffect, Terminator, HasParent<"::mlir::FuncOp">]> {
  let summary = "ends a function of the model: returns its outputs";
  let arguments = (ins Variadic<AnyTensor>:$operands);
  let assemblyFormat = "attr-dict ($operands^ `:` type($operands))?";
}

#endif // LENET_OPS
