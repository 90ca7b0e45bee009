// Weights files: a model's parameters by name, with their shapes -- what `lenetc import`
// writes from an ONNX model's initializers and a trainer starts from (--init-from). The
// format: "LENETC-WEIGHTS 1\n", the number of tensors, each one's name, rank, dimensions
// (outermost first, as the dialect writes them) and float32 values, then a CRC-32.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lenetc {

struct NamedTensor {
  std::string name; // "c1.w"
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// The file's bytes, and the tensors back from them (Error naming `path` when they are not
// a weights file, damaged or truncated).
std::string encodeWeights(const std::vector<NamedTensor> &tensors);
std::vector<NamedTensor> decodeWeights(std::string bytes, const std::string &path);
// Whether `bytes` start as a weights file does.
bool isWeightsFile(const std::string &bytes);

// Saved atomically (the previous file stays when the save fails).
void saveWeights(const std::string &path, const std::vector<NamedTensor> &tensors);

} // namespace lenetc
