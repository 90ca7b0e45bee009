// libFuzzer target for `lenetc import`: any bytes as an ONNX file, through protobuf's parser
// and the importer (frontend/OnnxImport.h). It must never crash, hang or leak; every input
// ends in a model description and weights or in an ImportError. Run it with
// `bash tests/fuzz/run.sh onnx`, from a corpus of PyTorch's exports (tests/onnx).
#include "frontend/OnnxImport.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    lenetc::importOnnx(std::string(reinterpret_cast<const char *>(data), size), "fuzz.onnx", "fuzz");
  } catch (const lenetc::ImportError &) {
  }
  return 0;
}
