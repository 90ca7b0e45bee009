// Pictures for `predict`: binary or text PGM, or PNG (any colour type, made gray).
#pragma once

#include <string>
#include <vector>

namespace lenetc {

struct GrayImage {
  int width = 0, height = 0;
  std::vector<float> pixels; // row-major, in [0, 1]
};

// Throws lenetc::Error on a missing, unreadable or malformed file.
GrayImage readImage(const std::string &path);

} // namespace lenetc
