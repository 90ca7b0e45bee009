// This machine's single-precision FMA peak, measured: independent fused multiply-adds on the
// widest vectors the compiler targets (-march=native), on N threads.
//   fma_peak --threads N    prints {"threads": N, "gflops": G}
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {
// The widest vector the target has, and as many independent accumulators as hide the FMA
// latency (latency x FMA units: 4 x 2 on recent x86) while they all stay in registers (an
// AVX2 machine has 16 of them: 16 chains of 16 floats spilled and measured 6 GFLOP/s on a
// 2-core EPYC).
#if defined(__AVX512F__)
constexpr int kLanes = 16, kChains = 16;
#elif defined(__AVX__)
constexpr int kLanes = 8, kChains = 12;
#else
constexpr int kLanes = 4, kChains = 12;
#endif
using V = float __attribute__((vector_size(kLanes * sizeof(float))));

double run(long iterations) {
  V acc[kChains];
  V a, b;
  for (int l = 0; l < kLanes; ++l) {
    a[l] = 1.0000001f;
    b[l] = 0.9999999f;
  }
  for (auto &v : acc)
    v = a;
  for (long i = 0; i < iterations; ++i)
    for (auto &v : acc)
      v = v * a + b;
  double s = 0;
  for (auto &v : acc)
    for (int l = 0; l < kLanes; ++l)
      s += v[l];
  return s;
}
} // namespace

int main(int argc, char **argv) {
  int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  const long iterations = 200000000 / kChains;
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    std::vector<std::thread> pool;
    std::vector<double> sink(threads);
    auto t0 = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] { sink[t] = run(iterations); });
    for (auto &t : pool)
      t.join();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double flops = 2.0 * kLanes * kChains * double(iterations) * threads;
    best = std::max(best, flops / secs / 1e9);
    if (sink[0] == 42)
      std::puts("");
  }
  std::printf("{\"threads\": %d, \"gflops\": %.1f}\n", threads, best);
}
