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

namespace lenetc {

// --init-from: `params` (in the model's order) take the values of `bytes`, a weights file
// (lenetc/Weights.h: every parameter by name and shape, nothing else) or a checkpoint of
// this model (its parameters; the rest of its state is left). `path` names it in errors.
void setParamsFrom(const ModelInfo &m, const std::string &bytes, const std::string &path,
                   std::vector<std::vector<float>> &params);

} // namespace lenetc
