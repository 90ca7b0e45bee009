#include "lenetc/Weights.h"

#include "BinaryFile.h"
#include "Error.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

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
  // Each tensor takes at least 24 bytes (its name's length, rank and value count).
  uint64_t count = r.u64();
  if (count > bytes.size() / 24)
    throw Error(fmt::format("weights file '{}' is damaged (tensor count)", path));
  std::vector<NamedTensor> tensors(count);
  std::set<std::string> names;
  for (NamedTensor &t : tensors) {
    t.name = r.str();
    if (!names.insert(t.name).second)
      throw Error(fmt::format("weights file '{}' is damaged ('{}' twice)", path, t.name));
    uint64_t rank = r.u64();
    if (rank > kMaxRank)
      throw Error(fmt::format("weights file '{}' is damaged ('{}' has rank {})", path, t.name, rank));
    // The shape's product, which bytes.size() bounds (or a dimension is 0): no overflow.
    uint64_t size = 1;
    bool zero = false;
    for (uint64_t i = 0; i < rank; ++i) {
      uint64_t d = r.u64();
      zero = zero || d == 0;
      if (d > bytes.size() || (d > 0 && size > bytes.size() / d))
        throw Error(fmt::format("weights file '{}' is damaged ('{}''s shape)", path, t.name));
      t.shape.push_back(static_cast<int64_t>(d));
      size *= std::max<uint64_t>(d, 1);
    }
    if (zero)
      size = 0;
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
