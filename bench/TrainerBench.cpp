// Speed of a compiled model's pipelines on real Fashion-MNIST batches held in memory, the
// way lenet_torch.py's `bench` times PyTorch: training steps (forward, backward and the SGD
// update) and inference, examples per second (median of repeats), and batch-1 latency (the
// one-example pipeline, infer_one). A training step runs as the trainer runs it: in
// micro-batches of --micro-batch examples (default: the trainer's, runtime/src/MicroBatch.h;
// 0: the whole batch in one call), at least one per thread side by side, and inference as
// the trainer's evaluation runs it, in shares side by side (--side-by-side 0: a batch of at
// most one micro-batch, and inference, as one call whose parallel loops the threads share).
//   lenetc_bench --threads N [--repeat-s S] [--repeats R] [--micro-batch M] [--side-by-side 0|1]
//                [--only train|infer[:BATCH]]
// prints one JSON object per line; --only runs one mode (and batch), e.g. under `perf record`.
// Repeats during which other processes were busy are discarded and retried, as in the PyTorch
// reference's benchmark.
#include "Data.h"
#include "MicroBatch.h"
#include "Optimizer.h"
#include "ThreadTeam.h"
#include "lenetc/Memory.h"
#include "lenetc/ModelInfo.h"

#include "Bench.h"
#include "HalideBuffer.h"
#include "HalideRuntime.h"

#include <cstdlib>
#include <string>
#include <vector>

extern "C" const lenetc::ModelInfo MODEL_SYMBOL;

namespace {

using Halide::Runtime::Buffer;
const lenetc::ModelInfo &model = MODEL_SYMBOL;

std::vector<int> dims(const int64_t *shape, int rank) {
  std::vector<int> d;
  for (int i = rank - 1; i >= 0; --i)
    d.push_back(static_cast<int>(shape[i]));
  return d;
}

} // namespace

int main(int argc, char **argv) {
  lenetc::keepFreedMemoryForReuse(); // as the trainer
  int threads = 2, repeats = 7;
  double repeatSeconds = 1.5;
  std::string only;
  bool sideBySide = true;
  // The trainer's default: micro-batches of 64, or whole batches when batchnorm normalizes
  // over them (--micro-batch 64 then times ghost batch norm).
  int64_t microBatch = model.batchStatistics ? 0 : lenetc::kMicroBatch;
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
    else if (a == "--micro-batch")
      microBatch = std::atoll(argv[i + 1]);
    else if (a == "--side-by-side")
      sideBySide = std::atoi(argv[i + 1]) != 0;
  }
  auto wanted = [&](const std::string &mode, int64_t batch) {
    return only.empty() || only == mode || only == mode + ":" + std::to_string(batch);
  };
  threads = lenetc::setThreads(threads);
  lenetc::DataSplits data = lenetc::loadData("fashion-mnist", model.classes);
  // Fashion-MNIST whatever the model trains on (only the speed is measured), centred in the
  // model's input (LeNet-5's 32x32).
  if (model.inputRank != 3 || model.inputShape[0] != 1) {
    fmt::print(stderr, "lenetc_bench: {} does not take one-channel images\n", model.name);
    return 2;
  }
  const int height = int(model.inputShape[1]), width = int(model.inputShape[2]);
  const int64_t size = int64_t(height) * width;
  const std::vector<float> images = bench::centredImages(data.train.images, data.train.count, data.train.height,
                                                         data.train.width, height, width);

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
  std::vector<bool> state;
  for (int i = 0; i < model.numParams; ++i) {
    sizes.push_back(model.params[i].count);
    state.push_back(!lenetc::isTrainable(model.params[i]));
  }
  lenetc::OptimizerConfig sgd;
  lenetc::Optimizer opt(sgd, sizes, state);
  const int32_t noise[2] = {1, 0};

  auto report = [&](const char *mode, int64_t batch, const bench::Measured &m) {
    bench::report("lenetc", model.name, mode, batch, threads, m);
  };

  for (int64_t batch : {256, 64, 1}) {
    if (!wanted("train", batch))
      continue;
    int64_t nb = std::min<int64_t>(data.train.count / batch, 512);
    lenetc::MicroBatchedStep micro(gb, microBatch > 0 ? microBatch : batch, threads,
                                   sideBySide && !model.batchStatistics);
    lenetc::MicroBatchedStep::Call call = [&](std::vector<void *> &args, halide_buffer_t *, halide_buffer_t *) {
      return model.trainStep(args.data());
    };
    auto step = [&](int i) {
      int64_t first = (i % nb) * batch;
      Buffer<float> x(const_cast<float *>(images.data()) + first * size, width, height, 1, static_cast<int>(batch));
      Buffer<int32_t> y(data.train.labels.data() + first, static_cast<int>(batch));
      micro.run(call, x, y, pb, model.noise ? noise : nullptr);
      opt.step(params, grads, 1e-6); // a tiny rate: the parameters stay sane over many steps
    };
    report("train", batch, bench::measure(step, batch, repeatSeconds, repeats));
  }
  for (int64_t batch : {256, 1}) {
    if (!wanted("infer", batch))
      continue;
    int64_t nb = std::min<int64_t>(data.train.count / batch, 512);
    Buffer<float> probs(model.classes, static_cast<int>(batch));
    auto infer = [&](int i) {
      int64_t first = (i % nb) * batch;
      Buffer<float> x(const_cast<float *>(images.data()) + first * size, width, height, 1, static_cast<int>(batch));
      // One example goes through the latency pipeline, as the trainer's predict does; a batch
      // as the trainer's evaluation runs it.
      std::vector<void *> args = lenetc::inferArgs(x, pb, probs);
      if (batch == 1)
        model.inferOne(args.data());
      else if (sideBySide)
        lenetc::inferSideBySide(model.infer, x, pb, probs);
      else
        model.infer(args.data());
    };
    report("infer", batch, bench::measure(infer, batch, repeatSeconds, repeats));
  }
  return 0;
}
