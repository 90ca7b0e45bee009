// lenetc serialized the graph with ONNX's own classes when it built the trainer; what is
// left is to append the parameters as initializers, and that needs only protobuf's wire
// format for one message (TensorProto: dims, data_type, name, raw_data), written here so
// that a trainer links no protobuf. Fields of a message may come in any order: the graph
// field follows the model's others, and the initializers follow the graph's.
#include "OnnxExport.h"

#include "Error.h"

#include <cstring>

namespace lenetc {

namespace {

// Protobuf's wire format: a field's key is (number << 3 | wire type); 0 = varint, 2 = bytes.
void varint(std::string &out, uint64_t v) {
  while (v >= 0x80) {
    out += char((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += char(v);
}
void bytesField(std::string &out, int field, const std::string &bytes) {
  varint(out, uint64_t(field) << 3 | 2);
  varint(out, bytes.size());
  out += bytes;
}
void varintField(std::string &out, int field, uint64_t v) {
  varint(out, uint64_t(field) << 3);
  varint(out, v);
}

// onnx.TensorProto's field numbers and FLOAT's code; GraphProto.initializer, ModelProto.graph.
enum { kDims = 1, kDataType = 2, kName = 8, kRawData = 9, kFloat = 1, kInitializer = 5, kGraph = 7 };

std::string tensor(const OnnxInitializerInfo &t, const std::vector<float> &values) {
  int64_t count = 1;
  for (int i = 0; i < t.rank; ++i)
    count *= t.shape[i];
  std::vector<float> data(size_t(count), 0.0f);
  if (t.blocks) {
    if (int64_t(t.numBlocks) * t.blockSize != int64_t(values.size()))
      throw Error(std::string("ONNX export: '") + t.name + "' does not fit its parameter");
    for (int j = 0; j < t.numBlocks; ++j)
      for (int64_t i = 0; i < t.blockSize; ++i)
        data[size_t(t.blocks[j] * t.blockSize + i)] = values[size_t(j * t.blockSize + i)] * t.scale;
  } else {
    if (count != int64_t(values.size()))
      throw Error(std::string("ONNX export: '") + t.name + "' does not fit its parameter");
    for (size_t i = 0; i < data.size(); ++i)
      data[i] = values[i] * t.scale;
  }
  std::string out;
  for (int i = 0; i < t.rank; ++i)
    varintField(out, kDims, uint64_t(t.shape[i]));
  varintField(out, kDataType, kFloat);
  bytesField(out, kName, t.name);
  std::string raw(data.size() * sizeof(float), '\0'); // little-endian, as this machine's floats
  std::memcpy(raw.data(), data.data(), raw.size());
  bytesField(out, kRawData, raw);
  return out;
}

} // namespace

std::string onnxModel(const ModelInfo &m, const std::vector<std::vector<float>> &params) {
  if (!m.onnx)
    throw Error(std::string("model '") + m.name + "' has no ONNX form (see its generated glue)");
  const OnnxExportInfo &x = *m.onnx;
  std::string graph(reinterpret_cast<const char *>(x.graph), size_t(x.graphSize));
  for (int i = 0; i < x.numInitializers; ++i)
    bytesField(graph, kInitializer, tensor(x.initializers[i], params.at(size_t(x.initializers[i].param))));
  std::string model(reinterpret_cast<const char *>(x.modelHead), size_t(x.modelHeadSize));
  bytesField(model, kGraph, graph);
  return model;
}

} // namespace lenetc
