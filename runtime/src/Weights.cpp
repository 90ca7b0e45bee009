#include "lenetc/Weights.h"

#include "BinaryFile.h"
#include "Error.h"

#include <fmt/format.h>

namespace lenetc {

namespace {
const char kMagic[] = "LENETC-WEIGHTS 1\n";
constexpr uint64_t kMaxRank = 4;
} // namespace

bool isWeightsFile(const std::string &bytes) { return bytes.compare(0, sizeof kMagic - 1, kMagic) == 0; }

std::string encodeWeights(const std::vector<NamedTensor> &tensors) {
  ByteWriter w;
  w.bytes(kMagic, sizeof kMagic - 1);
  w.u64(tensors.size());
  for (const NamedTensor &t : tensors) {
    w.str(t.name);
    w.u64(t.shape.size());
    for (int64_t d : t.shape)
      w.u64(static_cast<uint64_t>(d));
    w.floats(t.values);
  }
  w.checksum();
  return std::move(w.data());
}

std::vector<NamedTensor> decodeWeights(std::string bytes, const std::string &path) {
  if (!isWeightsFile(bytes))
    throw Error(fmt::format("'{}' is not a lenetc weights file", path));
  if (!removeChecksum(bytes))
    throw Error(fmt::format("weights file '{}' is damaged (checksum mismatch)", path));
  ByteReader r(bytes, "weights file", path);
  std::string magic(sizeof kMagic - 1, '\0');
  r.bytes(magic.data(), magic.size());
  uint64_t count = r.u64();
  if (count > bytes.size())
    throw Error(fmt::format("weights file '{}' is damaged (tensor count)", path));
  std::vector<NamedTensor> tensors(count);
  for (NamedTensor &t : tensors) {
    t.name = r.str();
    uint64_t rank = r.u64();
    if (rank > kMaxRank)
      throw Error(fmt::format("weights file '{}' is damaged ('{}' has rank {})", path, t.name, rank));
    uint64_t size = 1;
    for (uint64_t i = 0; i < rank; ++i) {
      uint64_t d = r.u64();
      if (d > bytes.size())
        throw Error(fmt::format("weights file '{}' is damaged ('{}''s shape)", path, t.name));
      t.shape.push_back(static_cast<int64_t>(d));
      size *= d;
    }
    t.values = r.floats();
    if (t.values.size() != size)
      throw Error(fmt::format("weights file '{}' is damaged ('{}' has {} values for its shape's {})", path,
                              t.name, t.values.size(), size));
  }
  if (!r.atEnd())
    throw Error(fmt::format("weights file '{}' is damaged (bytes after the last tensor)", path));
  return tensors;
}

void saveWeights(const std::string &path, const std::vector<NamedTensor> &tensors) {
  saveFileAtomically(path, encodeWeights(tensors), "weights file");
}

} // namespace lenetc
