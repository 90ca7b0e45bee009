#include "tune/Measure.h"

#include "lenetc/Memory.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <random>

namespace H = Halide;

namespace lenetc {

void setJitThreads(int threads) { setenv("HL_NUM_THREADS", std::to_string(threads).c_str(), 1); }

namespace {
std::vector<int> withBatch(const std::vector<int> &extents, int batch) {
  std::vector<int> out = extents;
  for (int &e : out)
    if (e < 0)
      e = batch;
  return out;
}
double msSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
// Halide 14's Buffer::for_each_value reads an uninitialised stride when it flattens a dense
// buffer's dimensions (undefined behaviour that UBSan reports at random): these buffers are
// freshly allocated and dense, so fill them in memory order.
template <typename T, typename F> void fillDense(H::Buffer<> &b, F next) {
  T *data = b.as<T>().data();
  for (size_t i = 0, n = b.number_of_elements(); i < n; ++i)
    data[i] = next();
}
} // namespace

PipelineBuffers bindTrainingScaleInputs(LoweredPipeline &p, int batch, unsigned seed) {
  // Images in [0, 1], parameters at the scale of an initialisation (+-1/sqrt(fan-in)),
  // biases small. Arbitrary weights would saturate the activations, and a timing could
  // then depend on the data rather than on the schedule.
  keepFreedMemoryForReuse(); // the pipelines' memory as the trainer keeps it
  std::mt19937 rng(seed);
  PipelineBuffers out;
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    const std::vector<int> &extents = p.inputExtents[i];
    H::Buffer<> b(p.inputs[i].type(), withBatch(extents, batch));
    bool perExample = std::any_of(extents.begin(), extents.end(), [](int e) { return e < 0; });
    if (b.type() == H::Int(32)) {
      // Labels: any class index (the algorithms clamp them).
      int k = 0;
      fillDense<int32_t>(b, [&] { return k++ % 10; });
    } else {
      double fanIn = 1;
      for (size_t d = 0; d + 1 < extents.size(); ++d)
        fanIn *= extents[d];
      float bound = perExample ? 1.0f : extents.size() == 1 ? 0.1f : float(1 / std::sqrt(fanIn));
      std::uniform_real_distribution<float> uniform(perExample ? 0.0f : -bound, bound);
      fillDense<float>(b, [&] { return uniform(rng); });
    }
    p.inputs[i].set(b);
    out.inputs.push_back(b);
  }
  for (size_t i = 0; i < p.outputs.size(); ++i)
    out.outputs.emplace_back(p.outputs[i].output_types()[0], withBatch(p.outputExtents[i], batch));
  return out;
}

namespace {
int parForInOrder(H::JITUserContext *context, int (*task)(H::JITUserContext *, int, uint8_t *), int min, int extent,
                  uint8_t *closure) {
  for (int i = min; i < min + extent; ++i)
    if (int rc = task(context, i, closure); rc != 0)
      return rc;
  return 0;
}
} // namespace

CompiledPipeline::CompiledPipeline(LoweredPipeline p, int batch, bool serial)
    : p_(std::move(p)), buffers_(bindTrainingScaleInputs(p_, batch, 0)), pipeline_(p_.pipeline()),
      outputs_(buffers_.outputs) {
  if (serial)
    pipeline_.jit_handlers().custom_do_par_for = parForInOrder;
  auto t0 = std::chrono::steady_clock::now();
  pipeline_.compile_jit(p_.target);
  compileSeconds_ = msSince(t0) / 1000;
  pipeline_.realize(outputs_, p_.target); // warm-up
}

double CompiledPipeline::callMs() {
  auto t = std::chrono::steady_clock::now();
  pipeline_.realize(outputs_, p_.target);
  return msSince(t);
}

bool timePipeline(LoweredPipeline &p, int batch, int samples, Timing &out, std::string &error, bool serial) {
  try {
    CompiledPipeline compiled(p, batch, serial);
    out.compileSeconds = compiled.compileSeconds();
    std::vector<double> times;
    for (int s = 0; s < samples; ++s)
      times.push_back(compiled.callMs());
    std::sort(times.begin(), times.end());
    out.samples = samples;
    out.minMs = times.front();
    out.medianMs = times[times.size() / 2];
  } catch (const H::Error &e) {
    error = e.what();
    return false;
  }
  for (auto &in : p.inputs)
    in.reset();
  return true;
}

double timeRatio(CompiledPipeline &candidate, CompiledPipeline &reference, int samples, double *referenceFastest) {
  // The median of the ratios of neighbouring calls: a slow spell slows both calls of a
  // pair, and a pair that one spike hit is outvoted.
  std::vector<double> ratios;
  double r = INFINITY;
  for (int s = 0; s < std::max(1, samples); ++s) {
    double c = candidate.callMs(), ref = reference.callMs();
    ratios.push_back(c / ref);
    r = std::min(r, ref);
  }
  if (referenceFastest)
    *referenceFastest = std::min(*referenceFastest, r);
  std::sort(ratios.begin(), ratios.end());
  size_t n = ratios.size();
  return n % 2 ? ratios[n / 2] : 0.5 * (ratios[n / 2 - 1] + ratios[n / 2]);
}

} // namespace lenetc
