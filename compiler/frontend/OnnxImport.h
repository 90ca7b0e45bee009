// `lenetc import`: an ONNX model (opsets 9-17) as a model description in lenetc's language
// and its initializers as a weights file (lenetc/Weights.h) the trainer starts from.
//
// The graph is read in its (topological) order. Each Conv, Gemm or MatMul, BatchNormalization,
// pooling and subsampling becomes a statement named after the node's scope ("/conv1/Conv":
// conv1); activations and dropout join their input's statement as `|> stages`. PyTorch's
// export idioms are recognised: an Add of a constant after Conv or MatMul is its bias; a
// zero Pad ahead of AveragePool is dropped; Reshape to [batch, -1] (also through
// Shape/Gather/Unsqueeze/Concat) is a flatten; Mul, Tanh, Mul by constants is a scaled
// tanh; AveragePool times a per-map constant plus one is LeCun's subsampling; a final
// Softmax or LogSoftmax is dropped (the loss is softmax cross-entropy).
#pragma once

#include "lenetc/Weights.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace lenetc {

// Why an ONNX model cannot be imported: one line, naming the node when one is to blame.
struct ImportError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ImportedModel {
  std::string text;                 // the .nn file
  std::vector<NamedTensor> weights; // every parameter of the model, by its lenetc name
};

// `bytes`: a serialized onnx.ModelProto; `source` names it in the file's comment and errors;
// `modelName` is the model's name (a valid identifier). Throws ImportError.
ImportedModel importOnnx(const std::string &bytes, const std::string &source, const std::string &modelName);

// `text` made a valid identifier of the language: other characters become '_', one that
// starts with a digit gets a prefix ("0" -> "layer0"); "" for text with nothing usable.
std::string toIdentifier(const std::string &text);

} // namespace lenetc
