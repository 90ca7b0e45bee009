// Shape arithmetic that shape inference, the verifiers and the Halide algorithms share
// (plain C++: the Halide side includes it without MLIR).
#pragma once

#include <cstdint>

namespace lenetc {

// The output extent of a window of `window` sliding by `stride` over `extent` with `pad` on
// each side, or -1 when the window does not fit (or the stride is not positive).
constexpr int64_t slidingExtent(int64_t extent, int64_t pad, int64_t window, int64_t stride) {
  return window > extent + 2 * pad || stride <= 0 ? -1 : (extent + 2 * pad - window) / stride + 1;
}

} // namespace lenetc
