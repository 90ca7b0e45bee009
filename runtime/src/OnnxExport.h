// The trainer's `export`: the model's inference graph as an ONNX file, its initializers made
// from the parameters (ModelInfo::onnx says how).
#pragma once

#include "lenetc/ModelInfo.h"

#include <string>
#include <vector>

namespace lenetc {

// The ONNX file's bytes; Error when the model has no ONNX form.
std::string onnxModel(const ModelInfo &m, const std::vector<std::vector<float>> &params);

} // namespace lenetc
