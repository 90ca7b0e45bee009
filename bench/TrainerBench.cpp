// Speed of a compiled model's pipelines on real Fashion-MNIST batches held in memory, the
// way lenet_torch.py's `bench` times PyTorch: training steps (forward, backward and the SGD
// update) and inference, examples per second (median of repeats), and batch-1 latency (the
// one-example pipeline, infer_one).
//   lenetc_bench --threads N [--repeat-s S] [--repeats R] [--only train|infer[:BATCH]]
// prints one JSON object per line; --only runs one mode (and batch), e.g. under `perf record`.
#include "Data.h"
#include "Optimizer.h"
#include "lenetc/ModelInfo.h"

#include "HalideBuffer.h"
#include "HalideRuntime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

extern "C" const lenetc::ModelInfo MODEL_SYMBOL;

namespace {

using Halide::Runtime::Buffer;
using Clock = std::chrono::steady_clock;
const lenetc::ModelInfo &model = MODEL_SYMBOL;

std::vector<int> dims(const int64_t *shape, int rank) {
  std::vector<int> d;
  for (int i = rank - 1; i >= 0; --i)
    d.push_back(static_cast<int>(shape[i]));
  return d;
}

// Runs fn(step) for about `seconds`, `repeats` times; examples/s of each repeat, sorted.
std::vector<double> measure(const std::function<void(int)> &fn, int64_t batch, double seconds, int repeats) {
  for (int i = 0; i < 5; ++i)
    fn(i);
  auto t0 = Clock::now();
  int n = 0;
  while (std::chrono::duration<double>(Clock::now() - t0).count() < 0.3)
    fn(n++);
  double perStep = std::chrono::duration<double>(Clock::now() - t0).count() / n;
  int steps = std::max(3, static_cast<int>(seconds / perStep));
  std::vector<double> eps;
  for (int r = 0; r < repeats; ++r) {
    auto start = Clock::now();
    for (int i = 0; i < steps; ++i)
      fn(i);
    eps.push_back(double(steps) * double(batch) / std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::sort(eps.begin(), eps.end());
  return eps;
}

} // namespace

int main(int argc, char **argv) {
  int threads = 2, repeats = 7;
  double repeatSeconds = 1.5;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (a == "--repeats")
      repeats = std::atoi(argv[i + 1]);
    else if (a == "--repeat-s")
      repeatSeconds = std::atof(argv[i + 1]);
    else if (a == "--only")
      only = argv[i + 1];
  }
  auto wanted = [&](const std::string &mode, int64_t batch) {
    return only.empty() || only == mode || only == mode + ":" + std::to_string(batch);
  };
  halide_set_num_threads(threads);
  lenetc::DataSplits data = lenetc::loadData("fashion-mnist", model.classes);
  const int64_t size = 784;

  std::vector<std::vector<float>> params, grads;
  std::vector<Buffer<float>> pb, gb;
  for (int i = 0; i < model.numParams; ++i) {
    params.emplace_back(model.params[i].count, 0.01f * float(i + 1));
    grads.emplace_back(model.params[i].count, 0.0f);
  }
  for (int i = 0; i < model.numParams; ++i) {
    pb.emplace_back(params[i].data(), dims(model.params[i].shape, model.params[i].rank));
    gb.emplace_back(grads[i].data(), dims(model.params[i].shape, model.params[i].rank));
  }
  std::vector<int64_t> sizes;
  for (int i = 0; i < model.numParams; ++i)
    sizes.push_back(model.params[i].count);
  lenetc::OptimizerConfig sgd;
  lenetc::Optimizer opt(sgd, sizes);

  auto report = [&](const char *mode, int64_t batch, const std::vector<double> &eps) {
    std::printf("{\"mode\": \"%s\", \"batch\": %lld, \"threads\": %d, \"ex_per_s_min\": %.1f, \"ex_per_s_median\": %.1f, "
                "\"ex_per_s_max\": %.1f, \"ms_per_step_median\": %.4f}\n",
                mode, (long long)batch, threads, eps.front(), eps[eps.size() / 2], eps.back(),
                1e3 * double(batch) / eps[eps.size() / 2]);
    std::fflush(stdout);
  };

  for (int64_t batch : {256, 64, 1}) {
    if (!wanted("train", batch))
      continue;
    int64_t nb = std::min<int64_t>(data.train.count / batch, 512);
    auto loss = Buffer<float>::make_scalar();
    auto correct = Buffer<int32_t>::make_scalar();
    auto step = [&](int i) {
      int64_t first = (i % nb) * batch;
      Buffer<float> x(data.train.images.data() + first * size, 28, 28, 1, static_cast<int>(batch));
      Buffer<int32_t> y(data.train.labels.data() + first, static_cast<int>(batch));
      std::vector<void *> args = lenetc::trainStepArgs(x, y, pb, loss, correct, gb);
      model.trainStep(args.data());
      opt.step(params, grads, 1e-6); // a tiny rate: the parameters stay sane over many steps
    };
    report("train", batch, measure(step, batch, repeatSeconds, repeats));
  }
  for (int64_t batch : {256, 1}) {
    if (!wanted("infer", batch))
      continue;
    int64_t nb = std::min<int64_t>(data.train.count / batch, 512);
    Buffer<float> probs(model.classes, static_cast<int>(batch));
    auto infer = [&](int i) {
      int64_t first = (i % nb) * batch;
      Buffer<float> x(data.train.images.data() + first * size, 28, 28, 1, static_cast<int>(batch));
      std::vector<void *> args = lenetc::inferArgs(x, pb, probs);
      // One example goes through the latency pipeline, as the trainer's predict does.
      (batch == 1 ? model.inferOne : model.infer)(args.data());
    };
    report("infer", batch, measure(infer, batch, repeatSeconds, repeats));
  }
  return 0;
}
