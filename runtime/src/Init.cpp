#include "Init.h"

#include <algorithm>
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
