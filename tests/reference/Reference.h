// A plain C++ reference of every op, written from the definitions (not from the Halide
// code) with naive loops, in any precision: float to compare the forward passes, double to
// take finite differences of. Tensors are row-major, NCHW like PyTorch.
#pragma once

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

namespace ref {

template <typename T> struct Tensor {
  std::vector<int> shape;
  std::vector<T> data;

  Tensor() = default;
  explicit Tensor(std::vector<int> s, T fill = T(0)) : shape(std::move(s)) { data.assign(count(), fill); }
  size_t count() const {
    size_t n = 1;
    for (int d : shape)
      n *= static_cast<size_t>(d);
    return n;
  }
  T &at4(int a, int b, int c, int d) {
    return data[((size_t(a) * shape[1] + b) * shape[2] + c) * shape[3] + d];
  }
  T at4(int a, int b, int c, int d) const {
    return data[((size_t(a) * shape[1] + b) * shape[2] + c) * shape[3] + d];
  }
  T &at2(int a, int b) { return data[size_t(a) * shape[1] + b]; }
  T at2(int a, int b) const { return data[size_t(a) * shape[1] + b]; }

  template <typename U> Tensor<U> as() const {
    Tensor<U> t;
    t.shape = shape;
    t.data.assign(data.begin(), data.end());
    return t;
  }
};

template <typename T>
Tensor<T> random(std::vector<int> shape, std::mt19937 &rng, double lo = -1, double hi = 1) {
  Tensor<T> t(std::move(shape));
  std::uniform_real_distribution<double> dist(lo, hi);
  for (auto &v : t.data)
    v = static_cast<T>(dist(rng));
  return t;
}

inline int outExtent(int extent, int window, int stride, int pad) {
  return (extent + 2 * pad - window) / stride + 1;
}

// A table conv's weight [connections, k, k] as the dense [F, C, k, k] weight it stands for.
template <typename T>
Tensor<T> expandTable(const Tensor<T> &w, const std::vector<std::vector<int>> &table, int channels) {
  int k = w.shape[1];
  Tensor<T> dense({static_cast<int>(table.size()), channels, k, k});
  int j = 0;
  for (size_t f = 0; f < table.size(); ++f)
    for (int c : table[f]) {
      for (int i = 0; i < k * k; ++i)
        dense.data[((f * channels + c) * k * k) + i] = w.data[size_t(j) * k * k + i];
      ++j;
    }
  return dense;
}

// in [N, C, H, W], w [F, C, k, k], b [F] -> [N, F, OH, OW]; zero outside the input.
template <typename T>
Tensor<T> conv(const Tensor<T> &in, const Tensor<T> &w, const Tensor<T> &b, int stride, int pad) {
  int N = in.shape[0], C = in.shape[1], H = in.shape[2], W = in.shape[3], F = w.shape[0], k = w.shape[2];
  int OH = outExtent(H, k, stride, pad), OW = outExtent(W, k, stride, pad);
  Tensor<T> out({N, F, OH, OW});
  for (int n = 0; n < N; ++n)
    for (int f = 0; f < F; ++f)
      for (int oy = 0; oy < OH; ++oy)
        for (int ox = 0; ox < OW; ++ox) {
          T acc = b.data[f];
          for (int c = 0; c < C; ++c)
            for (int ky = 0; ky < k; ++ky)
              for (int kx = 0; kx < k; ++kx) {
                int y = oy * stride + ky - pad, x = ox * stride + kx - pad;
                if (y >= 0 && y < H && x >= 0 && x < W)
                  acc += w.at4(f, c, ky, kx) * in.at4(n, c, y, x);
              }
          out.at4(n, f, oy, ox) = acc;
        }
  return out;
}

enum class Pool { Avg, Max, Sum };

template <typename T> Tensor<T> pool(const Tensor<T> &in, int size, int stride, Pool kind) {
  int N = in.shape[0], C = in.shape[1], H = in.shape[2], W = in.shape[3];
  int OH = outExtent(H, size, stride, 0), OW = outExtent(W, size, stride, 0);
  Tensor<T> out({N, C, OH, OW});
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int oy = 0; oy < OH; ++oy)
        for (int ox = 0; ox < OW; ++ox) {
          T acc = kind == Pool::Max ? -INFINITY : T(0);
          for (int i = 0; i < size; ++i)
            for (int j = 0; j < size; ++j) {
              T v = in.at4(n, c, oy * stride + i, ox * stride + j);
              acc = kind == Pool::Max ? std::max(acc, v) : acc + v;
            }
          out.at4(n, c, oy, ox) = kind == Pool::Avg ? acc / T(size * size) : acc;
        }
  return out;
}

template <typename T>
Tensor<T> subsample(const Tensor<T> &in, const Tensor<T> &coef, const Tensor<T> &b, int size, int stride) {
  Tensor<T> s = pool(in, size, stride, Pool::Sum);
  for (int n = 0; n < s.shape[0]; ++n)
    for (int c = 0; c < s.shape[1]; ++c)
      for (int y = 0; y < s.shape[2]; ++y)
        for (int x = 0; x < s.shape[3]; ++x)
          s.at4(n, c, y, x) = coef.data[c] * s.at4(n, c, y, x) + b.data[c];
  return s;
}

// in [N, I], w [U, I], b [U] -> [N, U]
template <typename T> Tensor<T> dense(const Tensor<T> &in, const Tensor<T> &w, const Tensor<T> &b) {
  int N = in.shape[0], I = in.shape[1], U = w.shape[0];
  Tensor<T> out({N, U});
  for (int n = 0; n < N; ++n)
    for (int u = 0; u < U; ++u) {
      T acc = b.data[u];
      for (int i = 0; i < I; ++i)
        acc += w.at2(u, i) * in.at2(n, i);
      out.at2(n, u) = acc;
    }
  return out;
}

template <typename T> Tensor<T> flatten(const Tensor<T> &in) {
  Tensor<T> out = in;
  out.shape = {in.shape[0], static_cast<int>(in.count() / in.shape[0])};
  return out;
}

template <typename T, typename F> Tensor<T> map(const Tensor<T> &in, F f) {
  Tensor<T> out = in;
  for (auto &v : out.data)
    v = f(v);
  return out;
}

template <typename T> Tensor<T> sigmoid(const Tensor<T> &in) {
  return map(in, [](T v) { return T(1) / (T(1) + std::exp(-v)); });
}
template <typename T> Tensor<T> tanh(const Tensor<T> &in) {
  return map(in, [](T v) { return std::tanh(v); });
}
template <typename T> Tensor<T> relu(const Tensor<T> &in) {
  return map(in, [](T v) { return v > 0 ? v : T(0); });
}
template <typename T> Tensor<T> scaledTanh(const Tensor<T> &in, double a, double s) {
  return map(in, [=](T v) { return T(a) * std::tanh(T(s) * v); });
}
template <typename T> Tensor<T> leakyRelu(const Tensor<T> &in, double alpha) {
  return map(in, [=](T v) { return v > 0 ? v : T(alpha) * v; });
}
template <typename T> Tensor<T> elu(const Tensor<T> &in, double alpha) {
  return map(in, [=](T v) { return v > 0 ? v : T(alpha) * (std::exp(v) - T(1)); });
}
// PyTorch's gelu(approximate='tanh').
template <typename T> Tensor<T> gelu(const Tensor<T> &in) {
  return map(in, [](T v) {
    const T k = std::sqrt(T(2) / T(3.14159265358979323846));
    return T(0.5) * v * (T(1) + std::tanh(k * (v + T(0.044715) * v * v * v)));
  });
}

template <typename T> Tensor<T> softmax(const Tensor<T> &logits) {
  Tensor<T> p = logits;
  int N = logits.shape[0], K = logits.shape[1];
  for (int n = 0; n < N; ++n) {
    T m = logits.at2(n, 0), s = 0;
    for (int k = 1; k < K; ++k)
      m = std::max(m, logits.at2(n, k));
    for (int k = 0; k < K; ++k)
      s += std::exp(logits.at2(n, k) - m);
    for (int k = 0; k < K; ++k)
      p.at2(n, k) = std::exp(logits.at2(n, k) - m) / s;
  }
  return p;
}

// Mean over the batch of -log softmax(logits)[label].
template <typename T> T softmaxCrossEntropy(const Tensor<T> &logits, const std::vector<int> &labels) {
  Tensor<T> p = softmax(logits);
  T loss = 0;
  for (int n = 0; n < logits.shape[0]; ++n)
    loss -= std::log(p.at2(n, labels[n]));
  return loss / T(logits.shape[0]);
}

template <typename T> int correctCount(const Tensor<T> &logits, const std::vector<int> &labels) {
  int correct = 0;
  for (int n = 0; n < logits.shape[0]; ++n) {
    int best = 0;
    for (int k = 1; k < logits.shape[1]; ++k)
      if (logits.at2(n, k) > logits.at2(n, best))
        best = k;
    correct += best == labels[n];
  }
  return correct;
}

// Batch normalization of [N, C, H, W] (per channel) or [N, F] (per feature), as PyTorch's
// BatchNorm2d/1d: with the batch's mean and biased variance (training), or with the given
// statistics (inference). `stats`, when given, receives the batch's mean and unbiased
// variance per channel (what the running statistics move toward).
template <typename T>
Tensor<T> batchNorm(const Tensor<T> &in, const Tensor<T> &scale, const Tensor<T> &shift, double eps,
                    const Tensor<T> *runningMean = nullptr, const Tensor<T> *runningVar = nullptr,
                    Tensor<T> *batchMean = nullptr, Tensor<T> *batchVarUnbiased = nullptr) {
  const int N = in.shape[0], C = in.shape[1];
  const int inner = static_cast<int>(in.count() / (size_t(N) * C)); // H * W, or 1
  auto at = [&](const Tensor<T> &t, int n, int c, int k) -> const T & { return t.data[(size_t(n) * C + c) * inner + k]; };
  Tensor<T> out = in;
  for (int c = 0; c < C; ++c) {
    T mean = 0, var = 0;
    if (runningMean) {
      mean = runningMean->data[c];
      var = runningVar->data[c];
    } else {
      for (int n = 0; n < N; ++n)
        for (int k = 0; k < inner; ++k)
          mean += at(in, n, c, k);
      mean /= T(N * inner);
      for (int n = 0; n < N; ++n)
        for (int k = 0; k < inner; ++k)
          var += (at(in, n, c, k) - mean) * (at(in, n, c, k) - mean);
      if (batchMean)
        batchMean->data[c] = mean;
      if (batchVarUnbiased)
        batchVarUnbiased->data[c] = var / T(N * inner - 1);
      var /= T(N * inner);
    }
    for (int n = 0; n < N; ++n)
      for (int k = 0; k < inner; ++k)
        out.data[(size_t(n) * C + c) * inner + k] =
            (at(in, n, c, k) - mean) / std::sqrt(var + T(eps)) * scale.data[c] + shift.data[c];
  }
  return out;
}

// Inverted dropout with a given mask of 0s and 1s.
template <typename T> Tensor<T> dropout(const Tensor<T> &in, const Tensor<T> &keep, double rate) {
  Tensor<T> out = in;
  for (size_t i = 0; i < in.data.size(); ++i)
    out.data[i] = in.data[i] * keep.data[i] / T(1 - rate);
  return out;
}

// d/dv of L(v) = sum(dout * f(v)) for every entry of v, by central differences in double.
// `f` maps the (perturbed) tensor to the output; `dout` weights the output entries.
inline Tensor<double> finiteDifference(Tensor<double> v, const Tensor<double> &dout,
                                       const std::function<Tensor<double>(const Tensor<double> &)> &f,
                                       double eps = 1e-6) {
  auto L = [&](const Tensor<double> &t) {
    Tensor<double> out = f(t);
    double s = 0;
    for (size_t i = 0; i < out.data.size(); ++i)
      s += dout.data[i] * out.data[i];
    return s;
  };
  Tensor<double> g(v.shape);
  for (size_t i = 0; i < v.data.size(); ++i) {
    double keep = v.data[i];
    v.data[i] = keep + eps;
    double up = L(v);
    v.data[i] = keep - eps;
    double down = L(v);
    v.data[i] = keep;
    g.data[i] = (up - down) / (2 * eps);
  }
  return g;
}

} // namespace ref
