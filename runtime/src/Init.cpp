#include "Init.h"

#include "Checkpoint.h"
#include "Error.h"
#include "lenetc/Weights.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <cmath>
#include <random>

namespace lenetc {

namespace {
double uniform01(std::mt19937_64 &rng) { return double(rng() >> 11) * (1.0 / 9007199254740992.0); }
} // namespace

// Xavier uniform (PyTorch's: bound sqrt(6 / (fan_in + fan_out))) or LeCun's uniform (2.4 /
// fan_in) for weights; biases at zero or, as PyTorch's layers start them, uniform in
// +-1/sqrt(fan_in); batchnorm's scale and running variance at 1, its shift and running mean
// at 0; a subsampling coefficient at 1 / window, so that the layer starts as
// average pooling. Parameters draw from one stream in the pipelines' order.
std::vector<std::vector<float>> initialParams(const ModelInfo &m, const std::string &init,
                                              const std::string &biasInit, int64_t seed) {
  std::mt19937_64 rng(static_cast<uint64_t>(seed) * 0x9E3779B97F4A7C15ull + 0x1234567ull);
  std::vector<std::vector<float>> params;
  for (int i = 0; i < m.numParams; ++i) {
    const ParamInfo &p = m.params[i];
    std::vector<float> v(static_cast<size_t>(p.count), 0.0f);
    std::string role = p.role;
    if (role == "weight") {
      double bound =
          init == "lecun_uniform" ? 2.4 / double(p.fanIn) : std::sqrt(6.0 / double(p.fanIn + p.fanOut));
      for (auto &w : v)
        w = static_cast<float>((2 * uniform01(rng) - 1) * bound);
    } else if (role == "bias" && biasInit == "fan_in_uniform") {
      double bound = 1.0 / std::sqrt(double(p.fanIn));
      for (auto &b : v)
        b = static_cast<float>((2 * uniform01(rng) - 1) * bound);
    } else if (role == "coef") {
      for (auto &w : v)
        w = 1.0f / float(p.fanIn);
    } else if (role == "scale" || role == "running_var") { // batchnorm's, as PyTorch's
      std::fill(v.begin(), v.end(), 1.0f);
    }
    params.push_back(std::move(v));
  }
  return params;
}

} // namespace lenetc

namespace lenetc {

namespace {
std::string shapeText(const std::vector<int64_t> &shape) {
  return shape.empty() ? "a scalar" : fmt::format("[{}]", fmt::join(shape, ", "));
}
} // namespace

void setParamsFrom(const ModelInfo &m, const std::string &bytes, const std::string &path,
                   std::vector<std::vector<float>> &params) {
  if (!isWeightsFile(bytes)) {
    if (bytes.compare(0, 12, "LENETC-CKPT ") != 0)
      throw Error(fmt::format("'{}' is neither a lenetc weights file nor a checkpoint", path));
    params = decodeCheckpoint(bytes, path, m).params;
    return;
  }
  std::vector<NamedTensor> tensors = decodeWeights(bytes, path);
  std::map<std::string, const NamedTensor *> byName;
  for (const NamedTensor &t : tensors)
    byName[t.name] = &t;
  params.resize(static_cast<size_t>(m.numParams));
  for (int i = 0; i < m.numParams; ++i) {
    const ParamInfo &p = m.params[i];
    auto found = byName.find(p.name);
    if (found == byName.end())
      throw Error(fmt::format("weights file '{}' has no '{}' (model '{}' has {} parameter tensors)", path, p.name,
                              m.name, m.numParams));
    const NamedTensor &t = *found->second;
    std::vector<int64_t> want(p.shape, p.shape + p.rank);
    if (t.shape != want)
      throw Error(fmt::format("weights file '{}': '{}' is {}, model '{}' wants {}", path, p.name, shapeText(t.shape),
                              m.name, shapeText(want)));
    params[static_cast<size_t>(i)] = t.values;
    byName.erase(found);
  }
  if (!byName.empty())
    throw Error(fmt::format("weights file '{}' has '{}', which model '{}' has no parameter of that name", path,
                            byName.begin()->first, m.name));
}

} // namespace lenetc
