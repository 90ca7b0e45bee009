// A fresh model's parameters: seeded initialisers for weights, biases and subsampling
// coefficients.
#pragma once

#include "lenetc/ModelInfo.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lenetc {

// `init`: "xavier_uniform" | "lecun_uniform" (weights); `biasInit`: "zero" |
// "fan_in_uniform" (biases). The same seed gives the same parameters.
std::vector<std::vector<float>> initialParams(const ModelInfo &m, const std::string &init,
                                              const std::string &biasInit, int64_t seed);

} // namespace lenetc
