// The ONNX export of a model's inference graph, planned when the trainer is built: ONNX's own
// classes serialize the graph (nodes, the input and output, constants), and the generated
// glue carries those bytes with a recipe for each initializer that the trainer fills from its
// parameters (runtime/src/OnnxExport.cpp) -- so that a trainer links no protobuf.
//
// The graph: opset 13, input [batch, C, H, W] (or [batch, F]) named as the model's input,
// output "logits" (the scores before softmax, as PyTorch models return them); batchnorm with
// its running statistics, dropout left out; a connection table's convolution as a dense Conv
// whose weights are zero where the table has no connection; a subsampling as AveragePool, Mul
// and Add; scaled tanh as Mul, Tanh, Mul; gelu in its tanh form. Nodes are named in PyTorch's
// style ("/c1/Conv"), which `lenetc import` reads back as the layers' names.
#pragma once

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lenetc {

// An initializer made from a parameter: its values (times `scale`) in order, or, with
// `blocks`, block j of `blockSize` values to block blocks[j] of a zeroed tensor.
struct OnnxParamInitializer {
  std::string name;
  int param = 0; // index among the model's parameters (the glue's order)
  std::vector<int64_t> shape;
  float scale = 1;
  std::vector<int32_t> blocks;
  int64_t blockSize = 0;
};

struct OnnxExportPlan {
  std::string modelHead; // a serialized ModelProto without its graph
  std::string graph;     // the GraphProto without the parameters' initializers
  std::vector<OnnxParamInitializer> initializers;
};

// False (with `error`) for a model that has an op without an ONNX form.
bool planOnnxExport(mlir::ModuleOp module, OnnxExportPlan &plan, std::string &error);

} // namespace lenetc
