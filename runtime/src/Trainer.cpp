// The training loop: data in memory, the compiled training step per batch, the optimizer
// in the runtime, evaluation, metrics and checkpoints each epoch.
#include "lenetc/Trainer.h"

#include "BinaryFile.h"
#include "Checkpoint.h"
#include "Data.h"
#include "Error.h"
#include "Image.h"
#include "Init.h"
#include "Metrics.h"
#include "OnnxExport.h"
#include "MicroBatch.h"
#include "Optimizer.h"
#include "Options.h"
#include "Report.h"
#include "ThreadTeam.h"
#include "Together.h"
#include "lenetc/Memory.h"

#include "HalideBuffer.h"
#include "HalideRuntime.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace lenetc {

namespace {

using Halide::Runtime::Buffer;

// Examples laid out as the model's input: C x H x W floats each.
struct Examples {
  int64_t count = 0;
  std::vector<float> x;
  std::vector<int32_t> y;
};

int64_t exampleSize(const ModelInfo &m) {
  int64_t n = 1;
  for (int i = 0; i < m.inputRank; ++i)
    n *= m.inputShape[i];
  return n;
}

// Scales and places images as the model's input: centred (padded with the background when
// the input is larger, as 28x28 digits in LeNet-5's 32x32), `lecun` mapping the background
// to -0.1 and full ink to 1.175.
Examples prepare(const ModelInfo &m, const Dataset &d, int64_t first, int64_t count,
                 const std::string &normalize) {
  int64_t channels = m.inputRank == 3 ? m.inputShape[0] : 1;
  int64_t H = m.inputRank == 3 ? m.inputShape[1] : 1,
          W = m.inputRank == 3 ? m.inputShape[2] : m.inputShape[0];
  if (m.inputRank == 1 && W != int64_t(d.height) * d.width)
    throw Error("the model takes " + std::to_string(W) + " features; the images have " +
                std::to_string(d.height * d.width) + " pixels");
  if (m.inputRank == 3 && (channels != 1 || H < d.height || W < d.width))
    throw Error("the model's input " + std::to_string(channels) + "x" + std::to_string(H) + "x" +
                std::to_string(W) + " cannot hold the data's 1x" + std::to_string(d.height) + "x" +
                std::to_string(d.width) + " images");
  bool lecun = normalize == "lecun";
  float background = lecun ? -0.1f : 0.0f, scale = lecun ? 1.275f : 1.0f;
  int64_t top = m.inputRank == 3 ? (H - d.height) / 2 : 0, left = m.inputRank == 3 ? (W - d.width) / 2 : 0;
  Examples e;
  e.count = count;
  int64_t size = exampleSize(m);
  e.x.assign(static_cast<size_t>(count * size), background);
  e.y.assign(d.labels.begin() + first, d.labels.begin() + first + count);
  for (int64_t n = 0; n < count; ++n) {
    const float *src = d.images.data() + (first + n) * d.height * d.width;
    float *dst = e.x.data() + n * size;
    for (int r = 0; r < d.height; ++r)
      for (int c = 0; c < d.width; ++c)
        dst[m.inputRank == 3 ? (top + r) * W + left + c : r * d.width + c] =
            background + scale * src[r * d.width + c];
  }
  return e;
}

std::vector<int> reversedDims(const int64_t *shape, int rank) {
  std::vector<int> dims;
  for (int d = rank - 1; d >= 0; --d)
    dims.push_back(static_cast<int>(shape[d]));
  return dims;
}

// A batch buffer of the model's input shape viewing `data`.
Buffer<float> inputBuffer(const ModelInfo &m, float *data, int64_t batch) {
  std::vector<int> dims = reversedDims(m.inputShape, m.inputRank);
  dims.push_back(static_cast<int>(batch));
  return Buffer<float>(data, dims);
}

// Buffers viewing each parameter's values (or gradient) in place, in the model's order.
std::vector<Buffer<float>> paramBuffers(const ModelInfo &m, std::vector<std::vector<float>> &values) {
  std::vector<Buffer<float>> buffers;
  for (int i = 0; i < m.numParams; ++i)
    buffers.emplace_back(values[i].data(), reversedDims(m.params[i].shape, m.params[i].rank));
  return buffers;
}

// Halide runtime errors go to stderr, or, while a GPU is being probed, into this string.
std::string *capturedHalideErrors = nullptr;
void reportHalideError(void *, const char *message) {
  if (capturedHalideErrors) {
    std::string m = message;
    while (!m.empty() && (m.back() == '\n' || m.back() == ' '))
      m.pop_back();
    *capturedHalideErrors += (capturedHalideErrors->empty() ? "" : "; ") + m;
  } else
    std::fprintf(stderr, "halide: %s", message);
}

// The pipelines a run calls: the GPU variants when the trainer has them and a GPU answers.
struct Pipelines {
  int (*trainStep)(void **) = nullptr;
  int (*infer)(void **) = nullptr;
  int (*inferOne)(void **) = nullptr; // one example (predict): the latency pipeline on a CPU
  bool gpu = false;
};

// One call of a pipeline whose first `inputs` arguments are inputs: they are marked as
// changed on the host (a GPU copies them again), the outputs are brought back to the host,
// and the device copies of the per-call `transient` buffers are freed.
int callPipeline(int (*fn)(void **), std::vector<void *> &args, size_t inputs,
                 std::initializer_list<halide_buffer_t *> transient) {
  for (size_t i = 0; i < inputs; ++i)
    static_cast<halide_buffer_t *>(args[i])->set_host_dirty(true);
  int rc = fn(args.data());
  for (size_t i = inputs; rc == 0 && i < args.size(); ++i)
    rc = halide_copy_to_host(nullptr, static_cast<halide_buffer_t *>(args[i]));
  for (halide_buffer_t *b : transient)
    halide_device_free(nullptr, b);
  return rc;
}

// --device: auto uses the GPU variants if one answers a probe (one inference), else the CPU
// ones with a notice; gpu insists; cpu never tries.
Pipelines choosePipelines(const ModelInfo &m, const std::string &device) {
  Pipelines cpu{m.trainStep, m.infer, m.inferOne, false};
  if (device == "cpu")
    return cpu;
  if (!m.trainStepGpu) {
    if (device == "gpu")
      throw UsageError(std::string("--device gpu: this trainer was built for ") + m.target +
                       ", without GPU kernels (build one with lenetc build --target host-opencl or "
                       "host-cuda-cuda_capability_80)");
    return cpu;
  }
  std::vector<std::vector<float>> zeros;
  for (int i = 0; i < m.numParams; ++i)
    zeros.emplace_back(static_cast<size_t>(m.params[i].count), 0.0f);
  std::vector<Buffer<float>> pb = paramBuffers(m, zeros);
  std::vector<float> example(static_cast<size_t>(exampleSize(m)), 0.0f);
  Buffer<float> x = inputBuffer(m, example.data(), 1), probs(m.classes, 1);
  std::vector<void *> args = inferArgs(x, pb, probs);
  std::string errors;
  capturedHalideErrors = &errors;
  std::vector<halide_buffer_t *> all;
  for (void *a : args)
    all.push_back(static_cast<halide_buffer_t *>(a));
  int rc = callPipeline(m.inferGpu, args, args.size() - 1, {});
  for (halide_buffer_t *b : all)
    halide_device_free(nullptr, b);
  capturedHalideErrors = nullptr;
  if (rc == 0)
    return {m.trainStepGpu, m.inferGpu, m.inferGpu, true};
  while (!errors.empty() && (errors.back() == '\n' || errors.back() == ' '))
    errors.pop_back();
  if (errors.empty())
    errors = "error " + std::to_string(rc);
  if (device == "gpu")
    throw Error("--device gpu: no usable GPU (" + errors + ")");
  std::fprintf(stderr, "%s: no usable GPU (%s); using the CPU kernels\n", m.name, errors.c_str());
  return cpu;
}

struct Evaluation {
  double loss = 0, accuracy = 0;
};

// The loss and accuracy on `e`; with `probsOut`, every example's class probabilities too
// (count x classes, on rank 0). In a distributed run each rank evaluates its share of the
// examples and the sums are combined.
Evaluation evaluate(const ModelInfo &m, const Pipelines &pipes, std::vector<std::vector<float>> &params,
                    Examples &e, Communicator &comm, std::vector<float> *probsOut = nullptr) {
  Evaluation r;
  const int64_t chunk = 500, size = exampleSize(m);
  const int64_t first = e.count * comm.rank() / comm.size(), last = e.count * (comm.rank() + 1) / comm.size();
  std::vector<float> probs;
  if (probsOut)
    probs.assign(static_cast<size_t>((last - first) * m.classes), 0.0f);
  std::vector<Buffer<float>> pb = paramBuffers(m, params);
  double sums[2] = {0, 0}; // loss, correct
  for (int64_t start = first; start < last; start += chunk) {
    int64_t n = std::min(chunk, last - start);
    Buffer<float> x = inputBuffer(m, e.x.data() + start * size, n);
    Buffer<float> p(m.classes, static_cast<int>(n));
    std::vector<void *> args = inferArgs(x, pb, p);
    if ((pipes.gpu ? callPipeline(pipes.infer, args, args.size() - 1, {x.raw_buffer(), p.raw_buffer()})
                   : inferSideBySide(pipes.infer, x, pb, p)) != 0)
      throw Error("the inference pipeline failed");
    for (int64_t i = 0; i < n; ++i) {
      int label = e.y[start + i], best = 0;
      for (int k = 1; k < m.classes; ++k)
        if (p(k, static_cast<int>(i)) > p(best, static_cast<int>(i)))
          best = k;
      sums[1] += best == label;
      sums[0] -= std::log(std::max(double(p(label, static_cast<int>(i))), 1e-30));
      if (probsOut)
        for (int k = 0; k < m.classes; ++k)
          probs[static_cast<size_t>((start - first + i) * m.classes + k)] = p(k, static_cast<int>(i));
    }
  }
  comm.sum(sums, 2);
  if (probsOut)
    *probsOut = comm.gather(probs);
  if (e.count > 0) {
    r.loss = sums[0] / double(e.count);
    r.accuracy = sums[1] / double(e.count);
  }
  return r;
}

std::string formatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

int runPredict(const ModelInfo &m, const Options &options) {
  Options o = options;
  TrainState s;
  if (o.initFrom.empty()) {
    s = loadCheckpoint(o.checkpoint, m);
    adoptRunSettings(o, s.settings, o.checkpoint); // the normalisation it was trained with
  } else {
    setParamsFrom(m, readWholeFile(o.initFrom, "weights file"), o.initFrom, s.params);
  }
  GrayImage img = readImage(o.image);
  Dataset d;
  d.count = 1;
  d.height = img.height;
  d.width = img.width;
  d.images = img.pixels;
  d.labels = {0};
  int64_t H = m.inputRank == 3 ? m.inputShape[1] : 28, W = m.inputRank == 3 ? m.inputShape[2] : 28;
  if (!((img.height == 28 && img.width == 28) || (img.height == H && img.width == W)))
    throw Error("'" + o.image + "' is " + std::to_string(img.width) + "x" + std::to_string(img.height) +
                " pixels; the model reads 28x28 images");
  Examples e = prepare(m, d, 0, 1, o.normalize);
  Pipelines pipes = choosePipelines(m, o.device);
  Buffer<float> probs(m.classes, 1);
  std::vector<Buffer<float>> pb = paramBuffers(m, s.params);
  Buffer<float> x = inputBuffer(m, e.x.data(), 1);
  std::vector<void *> args = inferArgs(x, pb, probs);
  if (callPipeline(pipes.inferOne, args, args.size() - 1, {x.raw_buffer(), probs.raw_buffer()}) != 0)
    throw Error("the inference pipeline failed");
  // The classes of the data set the checkpoint was trained on, or (a directory) the model's own.
  std::string dataName =
      s.data == "fashion-mnist" || s.data == "mnist" ? s.data : std::string(m.defaults.data);
  std::vector<std::string> names =
      classNames(dataName == "fashion_mnist" ? "fashion-mnist" : dataName, m.classes);
  int best = 0;
  for (int k = 0; k < m.classes; ++k) {
    if (probs(k, 0) > probs(best, 0))
      best = k;
    std::printf("%-12s %.4f\n", names[k].c_str(), probs(k, 0));
  }
  std::printf("predicted: %s\n", names[best].c_str());
  return kExitOk;
}

// export: the checkpoint's (or --init-from's) parameters in the model's ONNX graph.
int runExport(const ModelInfo &m, const Options &o) {
  std::vector<std::vector<float>> params;
  if (o.initFrom.empty())
    params = loadCheckpoint(o.checkpoint, m).params;
  else
    setParamsFrom(m, readWholeFile(o.initFrom, "weights file"), o.initFrom, params);
  saveFileAtomically(o.image, onnxModel(m, params), "ONNX file");
  std::vector<int64_t> input(m.inputShape, m.inputShape + m.inputRank);
  fmt::print("{}: wrote {} (ONNX opset 13): input [batch, {}], output 'logits' [batch, {}] (the class scores "
             "before softmax)\n",
             m.name, o.image, fmt::join(input, ", "), m.classes);
  return kExitOk;
}

// What the run report says of every run; its status and results are set as it goes.
ReportContent reportContent(const ModelInfo &m, const TrainState &s, const DataSplits &data, int64_t epochsPlanned) {
  ReportContent c;
  c.model = &m;
  c.state = &s;
  c.dataDescription = data.description;
  c.classNames = classNames(data.name, m.classes);
  c.epochsPlanned = epochsPlanned;
  return c;
}

// report: the run report of a checkpoint, its test answers evaluated anew.
int runReport(const ModelInfo &m, const Options &options) {
  Options o = options;
  if (!std::filesystem::exists(o.checkpoint))
    throw Error("no checkpoint '" + o.checkpoint + "' to report on");
  TrainState s = loadCheckpoint(o.checkpoint, m);
  adoptRunSettings(o, s.settings, o.checkpoint);
  DataSplits data = loadData(o.given.count("--data") ? o.data : s.data, m.classes, /*withTrainingSet=*/false);
  if (data.test.count == 0)
    throw Error("the data set '" + data.name + "' has no test examples");
  Pipelines pipes = choosePipelines(m, o.device);
  setThreads(o.threads);
  int64_t testCount = o.limitTest > 0 ? std::min(o.limitTest, data.test.count) : data.test.count;
  Examples test = prepare(m, data.test, 0, testCount, o.normalize);
  TestPredictions answers{&data.test, testCount, {}};
  Communicator oneProcess;
  evaluate(m, pipes, s.params, test, oneProcess, &answers.probs);
  ReportContent c = reportContent(m, s, data, s.epochsDone);
  c.status = RunStatus::FromCheckpoint;
  c.statusNote = o.checkpoint;
  c.params = &s.params;
  c.test = &answers;
  writeFileAtomically(o.report, reportHtml(c));
  fmt::print("{}: wrote the report of checkpoint '{}' (epoch {}) to '{}'\n", m.name, o.checkpoint, s.epochsDone,
             o.report);
  return kExitOk;
}

// An output file is checked before a run spends an epoch on it: its directory exists and
// takes files.
void checkWritable(const std::string &path, const std::string &flag) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty())
    dir = ".";
  std::error_code ec;
  std::string what = flag + ": cannot write '" + path + "'";
  if (!fs::is_directory(dir, ec))
    throw Error(what + ": there is no directory '" + dir.string() + "'");
  if (fs::is_directory(path, ec))
    throw Error(what + ": it is a directory");
  if (::access(dir.c_str(), W_OK) != 0)
    throw Error(what + ": " + std::strerror(errno));
}

// A run whose accuracy has sat at chance for two epochs has almost always died: its ReLUs
// no longer fire after an early large step (about 1 run in 10 of the ReLU LeNet-5 recipe,
// in PyTorch too: README, Accuracy). Said once, on stderr; training goes on as the user asked.
void warnIfAtChance(const ModelInfo &m, const std::vector<EpochMetrics> &history, const Options &o) {
  auto atChance = [&](const EpochMetrics &e) {
    return e.trainAcc < 1.2 / m.classes && e.testAcc < 1.2 / m.classes;
  };
  size_t n = history.size();
  if (n < 2 || !atChance(history[n - 1]) || !atChance(history[n - 2]) || (n > 2 && atChance(history[n - 3])))
    return;
  std::fprintf(stderr,
               "%s: warning: the accuracy has stayed at chance level (1 in %d) for two epochs: the network "
               "has probably died (units that no longer fire); a smaller --lr (now %s) or another --seed "
               "usually trains\n",
               m.name, m.classes, formatNumber(o.optimizer.lr).c_str());
}

// The state a run starts from: the checkpoint's (--resume, --eval), whose run settings it
// adopts, or fresh parameters and shuffling state. In a distributed run rank 0 reads the
// checkpoint and sends it to the others (which need not see its file).
TrainState startingState(const ModelInfo &m, Options &o, bool &resumed, Communicator &comm) {
  TrainState s;
  s.model = m.name;
  resumed = o.resume || (o.eval && o.initFrom.empty());
  if (resumed) {
    std::string bytes;
    together(comm, [&] {
      if (comm.rank() != 0)
        return;
      if (!std::filesystem::exists(o.checkpoint))
        throw Error("no checkpoint '" + o.checkpoint + "' to " + (o.eval ? "evaluate" : "resume from"));
      bytes = readCheckpointFile(o.checkpoint);
    });
    comm.broadcast(bytes);
    together(comm, [&] {
      s = decodeCheckpoint(bytes, o.checkpoint, m);
      adoptRunSettings(o, s.settings, o.checkpoint);
    });
    if (!o.eval && comm.rank() == 0)
      removeStaleTemporaries(o.checkpoint);
  } else {
    s.params = initialParams(m, o.init, o.biasInit, o.seed);
    if (!o.initFrom.empty()) {
      std::string bytes;
      together(comm, [&] {
        if (comm.rank() == 0)
          bytes = readWholeFile(o.initFrom, "weights file");
      });
      comm.broadcast(bytes);
      together(comm, [&] { setParamsFrom(m, bytes, o.initFrom, s.params); });
    }
    std::ostringstream rng;
    rng << std::mt19937_64(static_cast<uint64_t>(o.seed));
    s.rng = rng.str();
    s.lr = o.optimizer.lr;
  }
  s.settings = runSettings(o);
  return s;
}

// --outputs: one line per example, its label, the predicted class and the probabilities.
void writeOutputs(const std::string &path, const ModelInfo &m, const Examples &test, const std::vector<float> &probs) {
  std::string csv = "example,label,predicted";
  for (int k = 0; k < m.classes; ++k)
    csv += fmt::format(",p{}", k);
  csv += "\n";
  for (int64_t i = 0; i < test.count; ++i) {
    const float *p = probs.data() + i * m.classes;
    csv += fmt::format("{},{},{}", i, test.y[i], std::max_element(p, p + m.classes) - p);
    for (int k = 0; k < m.classes; ++k)
      csv += fmt::format(",{}", p[k]);
    csv += "\n";
  }
  saveFileAtomically(path, csv, "outputs file");
}

// --eval: the test loss and accuracy of the checkpoint (or of --init-from's parameters).
int evaluateCheckpoint(const ModelInfo &m, const Options &o, TrainState &s, const DataSplits &data,
                       const Pipelines &pipes, Communicator &comm) {
  if (data.test.count == 0)
    throw Error("the data set '" + data.name + "' has no test examples");
  int64_t testCount = o.limitTest > 0 ? std::min(o.limitTest, data.test.count) : data.test.count;
  Examples test = prepare(m, data.test, 0, testCount, o.normalize);
  std::vector<float> probs;
  Evaluation t = evaluate(m, pipes, s.params, test, comm, o.outputs.empty() ? nullptr : &probs);
  std::string source = o.initFrom.empty() ? fmt::format("checkpoint '{}' (epoch {})", o.checkpoint, s.epochsDone)
                                          : fmt::format("parameters from '{}'", o.initFrom);
  fmt::print("{}: {}: test loss {:.4f}, accuracy {:.4f} on {} examples\n", m.name, source, t.loss, t.accuracy,
             formatCount(test.count));
  if (!o.outputs.empty() && comm.rank() == 0)
    writeOutputs(o.outputs, m, test, probs);
  return kExitOk;
}

// The examples a run trains, validates and tests on (--val, --limit-train, --limit-test).
struct Splits {
  Examples train, val, test;
};

Splits splitData(const ModelInfo &m, const Options &o, const DataSplits &data) {
  if (data.train.count == 0 || data.test.count == 0)
    throw Error("the data set '" + data.name + "' has " + std::to_string(data.train.count) + " training and " +
                std::to_string(data.test.count) + " test examples; training needs some of each");
  if (o.val >= data.train.count)
    throw UsageError("--val " + std::to_string(o.val) + " would leave no training examples (the data set has " +
                     std::to_string(data.train.count) + ")");
  int64_t trainCount = data.train.count - o.val;
  if (o.limitTrain > 0)
    trainCount = std::min(trainCount, o.limitTrain);
  int64_t testCount = o.limitTest > 0 ? std::min(o.limitTest, data.test.count) : data.test.count;
  return {prepare(m, data.train, 0, trainCount, o.normalize),
          prepare(m, data.train, data.train.count - o.val, o.val, o.normalize),
          prepare(m, data.test, 0, testCount, o.normalize)};
}

// A resumed run continues the checkpoint's optimizer, learning rate and data; anything else
// would silently be another run.
void restoreTraining(const TrainState &s, const Options &o, const DataSplits &data, Optimizer &opt,
                     LrSchedule &schedule) {
  if (s.optimizer != o.optimizer.name || s.optimizerSlots.size() != opt.slots().size())
    throw Error("checkpoint '" + o.checkpoint + "' was trained with " + s.optimizer +
                "; resume with the same optimizer settings (--optimizer " + s.optimizer + ")");
  for (size_t j = 0; j < s.optimizerSlots.size(); ++j)
    if (s.optimizerSlots[j].size() != opt.slots()[j].size())
      throw Error("checkpoint '" + o.checkpoint + "' is damaged (optimizer state sizes)");
  if (s.data != data.name || s.batch != o.batch)
    throw Error("checkpoint '" + o.checkpoint + "' was trained on " + s.data + " with batch " +
                std::to_string(s.batch) + "; resume with the same --data and --batch");
  opt.slots() = s.optimizerSlots;
  opt.setSteps(s.optimizerSteps);
  schedule.setLr(s.lr);
  schedule.best = s.plateauBest;
  schedule.wait = s.plateauWait;
}

void printRunHeader(const ModelInfo &m, const Options &o, const TrainState &s, bool resumed,
                    const DataSplits &data, const Splits &d, const Pipelines &pipes, double lr,
                    const Communicator &comm, int threads) {
  int64_t trainable = 0, state = 0;
  for (int i = 0; i < m.numParams; ++i)
    (isTrainable(m.params[i]) ? trainable : state) += m.params[i].count;
  fmt::print("{}: {} parameters{}; {}: {} train, {} validation, {} test examples\n", m.name,
             formatCount(trainable + state),
             state ? fmt::format(" ({} trainable, {} running statistics)", formatCount(trainable), formatCount(state))
                   : "",
             data.description, formatCount(d.train.count), formatCount(d.val.count), formatCount(d.test.count));
  std::string momentum = o.optimizer.name != "adam" && o.optimizer.momentum > 0
                             ? " momentum " + formatNumber(o.optimizer.momentum) +
                                   (o.optimizer.nesterov && o.optimizer.name == "sgd" ? " (Nesterov)" : "")
                             : "";
  std::printf("%s lr %g%s, batch %lld, %lld epoch%s, %s init (biases %s), seed %lld, on the %s%s\n",
              o.optimizer.name.c_str(), lr, momentum.c_str(), (long long)o.batch, (long long)o.epochs,
              o.epochs == 1 ? "" : "s", o.init.c_str(), o.biasInit.c_str(), (long long)o.seed,
              (std::string(pipes.gpu ? "GPU" : "CPU") +
               (comm.size() > 1 ? fmt::format(", {} x {} thread{}", comm.describe(), threads, threads == 1 ? "" : "s")
                                : ""))
                  .c_str(),
              resumed ? (", resuming after epoch " + std::to_string(s.epochsDone)).c_str() : "");
  std::fflush(stdout);
}

// The error of a run whose loss or parameters stopped being finite: what became so, where,
// and which checkpoint is intact.
Error divergence(const std::string &what, int64_t epoch, int64_t step, const std::string &note, double lr,
                 const TrainState &s, const Options &o) {
  std::string kept = s.epochsDone > 0 && !o.checkpoint.empty()
                         ? "the last good checkpoint, '" + o.checkpoint + "' (epoch " + std::to_string(s.epochsDone) +
                               "), is intact"
                         : "no checkpoint was saved yet";
  return Error("training diverged: " + what + " at epoch " + std::to_string(epoch) + ", step " +
                   std::to_string(step) + " (" + note + "learning rate " + formatNumber(lr) + "); " + kept,
               kExitDiverged);
}

// The training step's buffers: one batch of inputs (this rank's share of it), the
// parameters and their gradients in place, and the step split into micro-batches.
struct StepBuffers {
  // A GPU wants its batches whole; so does batchnorm's whole-batch normalization (ghost batch
  // norm's micro-batches are its statistics' batches: not split further per thread).
  StepBuffers(const ModelInfo &m, const Options &o, TrainState &s, const Pipelines &pipes, int64_t batchCap,
              int threads)
      : x(static_cast<size_t>(batchCap * exampleSize(m))), y(static_cast<size_t>(batchCap)), grads(gradients(m)),
        params(paramBuffers(m, s.params)), gradBuffers(paramBuffers(m, grads)),
        step(gradBuffers, pipes.gpu || (m.batchStatistics && !o.ghostBatchNorm) ? batchCap : kMicroBatch, threads,
             !pipes.gpu && !m.batchStatistics) {}
  static std::vector<std::vector<float>> gradients(const ModelInfo &m) {
    std::vector<std::vector<float>> g;
    for (int i = 0; i < m.numParams; ++i)
      g.emplace_back(static_cast<size_t>(m.params[i].count));
    return g;
  }
  std::vector<float> x;
  std::vector<int32_t> y;
  std::vector<std::vector<float>> grads;
  std::vector<Buffer<float>> params, gradBuffers;
  MicroBatchedStep step;
  std::vector<float> flat; // every gradient in one array, for combining across ranks
};

// Data parallelism: the ranks' gradients of their shares' mean losses, weighted by their
// shares of the batch, summed in rank order: the gradient of the whole batch's mean loss,
// as one process would compute it up to float rounding. `stats` (loss, correct) likewise.
void combineAcrossRanks(Communicator &comm, StepBuffers &b, double share, double stats[2]) {
  b.flat.clear();
  for (const auto &g : b.grads)
    for (float v : g)
      b.flat.push_back(float(share) * v);
  comm.sum(b.flat.data(), b.flat.size());
  size_t at = 0;
  for (auto &g : b.grads)
    for (float &v : g)
      v = b.flat[at++];
  comm.sum(stats, 2);
}

// The seed of dropout's masks at a step of the run: the same for a resumed run.
int32_t stepSeed(int64_t seed, int64_t epoch, int64_t step) {
  uint64_t z = uint64_t(seed) * 0x9E3779B97F4A7C15ull + uint64_t(epoch) * 0xBF58476D1CE4E5B9ull + uint64_t(step);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull; // splitmix64's finalizer
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<int32_t>(static_cast<uint32_t>(z ^ (z >> 31)));
}

// One epoch of training in the order `order`: a step and an optimizer update per batch.
// Each rank steps its share of every batch (ranks in order, shares balanced) and the
// gradients are combined, so every rank takes the same optimizer step. Sets the epoch's
// training loss and accuracy and its speed in `em`; returns its steps.
int64_t trainEpoch(const ModelInfo &m, const Options &o, TrainState &s, const Examples &train,
                   const std::vector<int64_t> &order, const Pipelines &pipes, StepBuffers &b, Optimizer &opt,
                   const LrSchedule &schedule, Progress &progress, int64_t epoch, EpochMetrics &em,
                   Communicator &comm) {
  const int64_t size = exampleSize(m);
  MicroBatchedStep::Call callStep = [&](std::vector<void *> &args, halide_buffer_t *x, halide_buffer_t *y) {
    return callPipeline(pipes.trainStep, args, (m.noise ? 3 : 2) + b.params.size(), {x, y});
  };
  auto start = std::chrono::steady_clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  double lossSum = 0;
  int64_t correct = 0, seen = 0, step = 0;
  for (int64_t first = 0; first < train.count; first += o.batch, ++step) {
    const int64_t n = std::min(o.batch, train.count - first);
    const int64_t mine = first + n * comm.rank() / comm.size(), count = first + n * (comm.rank() + 1) / comm.size() - mine;
    for (int64_t i = 0; i < count; ++i) {
      int64_t ex = order[mine + i];
      std::copy(train.x.begin() + ex * size, train.x.begin() + (ex + 1) * size, b.x.begin() + i * size);
      b.y[i] = train.y[ex];
    }
    double stats[2] = {0, 0}; // this share's loss (its mean) and right answers
    if (count > 0) {
      Buffer<float> x = inputBuffer(m, b.x.data(), count);
      Buffer<int32_t> y(b.y.data(), static_cast<int>(count));
      // Dropout's masks: a seed per step of the run, and this share's place in the batch.
      const int32_t noise[2] = {stepSeed(o.seed, epoch, step), static_cast<int32_t>(mine - first)};
      if (b.step.run(callStep, x, y, b.params, m.noise ? noise : nullptr) != 0)
        throw Error("the training-step pipeline failed at epoch " + std::to_string(epoch));
      stats[0] = b.step.loss();
      stats[1] = double(b.step.correct());
    } else {
      for (auto &g : b.grads)
        std::fill(g.begin(), g.end(), 0.0f);
    }
    if (comm.size() > 1) {
      const double share = double(count) / double(n);
      stats[0] *= share;
      combineAcrossRanks(comm, b, share, stats);
    }
    double loss = stats[0];
    if (!std::isfinite(loss)) {
      progress.clear();
      throw divergence(std::string("the loss became ") + (std::isnan(loss) ? "NaN" : "infinite"), epoch, step + 1,
                       "", schedule.lr(), s, o);
    }
    lossSum += loss * double(n);
    correct += static_cast<int64_t>(stats[1]);
    seen += n;
    opt.step(s.params, b.grads, schedule.lr());
    progress.update(epoch, o.epochs, seen, train.count, lossSum / double(seen), double(correct) / double(seen),
                    double(seen) / std::max(seconds(), 1e-9));
  }
  em.seconds = seconds();
  progress.clear();
  em.epoch = epoch;
  em.trainLoss = lossSum / double(seen);
  em.trainAcc = double(correct) / double(seen);
  em.lr = schedule.lr();
  em.examplesPerSecond = double(seen) / em.seconds;
  return step;
}

void printEpoch(const EpochMetrics &em, int64_t epochs, bool validated) {
  std::printf("epoch %2lld/%lld  train loss %.4f acc %.4f", (long long)em.epoch, (long long)epochs, em.trainLoss,
              em.trainAcc);
  if (validated)
    std::printf(" | val loss %.4f acc %.4f", em.valLoss, em.valAcc);
  std::printf(" | test loss %.4f acc %.4f | lr %g | %.1f s, %.0f ex/s\n", em.testLoss, em.testAcc, em.lr, em.seconds,
              em.examplesPerSecond);
  std::fflush(stdout);
}

// The end of an epoch: its state into the checkpoint (atomically), the metrics and the plot;
// the files are rank 0's alone.
void saveEpoch(const ModelInfo &m, const Options &o, TrainState &s, bool resumed, const Optimizer &opt,
               const LrSchedule &schedule, const std::mt19937_64 &rng, const std::string &dataName, bool writeFiles) {
  s.optimizer = o.optimizer.name;
  s.optimizerSteps = opt.steps();
  s.optimizerSlots = opt.slots();
  s.lr = schedule.lr();
  s.plateauBest = schedule.best;
  s.plateauWait = schedule.wait;
  std::ostringstream rs;
  rs << rng;
  s.rng = rs.str();
  if (!writeFiles)
    return;
  if (!o.checkpoint.empty()) {
    try {
      saveCheckpoint(o.checkpoint, m, s);
    } catch (const Error &e) {
      throw Error(std::string(e.what()) + (s.epochsDone > 1 || resumed
                                               ? "; the checkpoint of epoch " + std::to_string(s.epochsDone - 1) +
                                                     " is intact"
                                               : "; no checkpoint was saved"));
    }
  }
  if (!o.metrics.empty())
    writeMetricsCsv(o.metrics, s.history);
  if (!o.plot.empty())
    writePlotSvg(o.plot, std::string(m.name) + " on " + dataName, s.history);
}

// What every rank must run alike, as text: the model, the data and its splits, the epochs and
// the run's settings, and whether a report is gathered.
std::string sharedSettings(const ModelInfo &m, const Options &o, const DataSplits &data, const Splits &d) {
  std::string text = fmt::format("model {}\ndata {} ({} train, {} validation, {} test examples)\n--epochs {}\n",
                                 m.name, data.name, d.train.count, d.val.count, d.test.count, o.epochs);
  for (const auto &[flag, value] : runSettings(o))
    text += flag + " " + value + "\n";
  return text + "--report " + (o.report.empty() ? "off" : "on") + "\n";
}

// Every rank runs rank 0's settings: a rank whose differ stops the job, named with the first
// setting that differs.
void checkSameSettings(Communicator &comm, const std::string &mine) {
  if (comm.size() == 1)
    return;
  std::vector<std::string> all = comm.allGather(mine);
  auto lines = [](const std::string &text) {
    std::vector<std::string> out;
    for (size_t at = 0, end; at < text.size(); at = end + 1) {
      end = text.find('\n', at);
      out.push_back(text.substr(at, end - at));
    }
    return out;
  };
  std::vector<std::string> reference = lines(all[0]);
  for (size_t r = 1; r < all.size(); ++r) {
    std::vector<std::string> theirs = lines(all[r]);
    for (size_t i = 0; i < std::max(reference.size(), theirs.size()); ++i) {
      std::string a = i < reference.size() ? reference[i] : "", b = i < theirs.size() ? theirs[i] : "";
      if (a != b)
        throw SharedError(fmt::format("rank {} runs with other settings than rank 0: '{}' where rank 0 has '{}'; every "
                                      "rank must run the same model, data and flags",
                                      r, b, a),
                          kExitUsage);
    }
  }
}

int runTraining(const ModelInfo &m, const Options &options, Communicator &comm) {
  Options o = options;
  const bool root = comm.rank() == 0;
  // --threads, else (0) the Halide runtime's default: all cores, shared among this host's
  // ranks.
  int wanted = o.threads;
  if (wanted == 0 && comm.localSize() > 1)
    wanted = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / comm.localSize());
  const int threads = setThreads(wanted);

  bool resumed = false;
  TrainState s = startingState(m, o, resumed, comm);
  if (resumed && s.epochsDone >= o.epochs && !o.eval) {
    std::printf("%s: the checkpoint has already trained %lld of %lld epochs; nothing to do\n", m.name,
                (long long)s.epochsDone, (long long)o.epochs);
    return kExitOk;
  }
  together(comm, [&] {
    if (!o.eval && root)
      for (const auto &[path, flag] : {std::pair{o.checkpoint, "--checkpoint"}, {o.metrics, "--metrics"}, {o.plot, "--plot"}})
        if (!path.empty())
          checkWritable(path, flag);
  });

  // --eval reads the test set only.
  DataSplits data;
  Pipelines pipes;
  together(comm, [&] {
    data = loadData(o.data, m.classes, /*withTrainingSet=*/!o.eval);
    pipes = choosePipelines(m, o.device);
  });
  if (o.eval) {
    int rc = kExitOk;
    together(comm, [&] { rc = evaluateCheckpoint(m, o, s, data, pipes, comm); });
    return rc;
  }
  if (!resumed) {
    s.data = data.name;
    s.batch = o.batch;
  }
  Splits d;
  together(comm, [&] { d = splitData(m, o, data); });
  checkSameSettings(comm, sharedSettings(m, o, data, d));

  std::vector<int64_t> sizes;
  std::vector<bool> state;
  for (int i = 0; i < m.numParams; ++i) {
    sizes.push_back(m.params[i].count);
    state.push_back(!isTrainable(m.params[i]));
  }
  Optimizer opt(o.optimizer, sizes, state);
  LrSchedule schedule(o.schedule, o.optimizer.lr);
  std::mt19937_64 rng;
  together(comm, [&] {
    std::istringstream in(s.rng);
    in >> rng;
    if (!in)
      throw Error("checkpoint '" + o.checkpoint + "' is damaged (shuffling state)");
    if (resumed)
      restoreTraining(s, o, data, opt, schedule);
  });
  if (root)
    printRunHeader(m, o, s, resumed, data, d, pipes, schedule.lr(), comm, threads);

  // Each rank's share of a batch is at most this many examples.
  const int64_t shareCap = (std::min(o.batch, d.train.count) + comm.size() - 1) / comm.size();
  StepBuffers buffers(m, o, s, pipes, std::max<int64_t>(1, shareCap), threads);
  Progress progress(root && !o.quiet && isatty(2));
  // The run report shows the last epoch that finished well: its parameters and test answers.
  const bool reporting = !o.report.empty();
  ReportWriter reportWriter(o.report, m.name);
  TestPredictions lastTest{&data.test, d.test.count, {}};
  std::vector<std::vector<float>> lastParams;
  ReportContent report = reportContent(m, s, data, o.epochs);
  try {
    for (int64_t epoch = s.epochsDone + 1; epoch <= o.epochs; ++epoch) {
      const std::vector<int64_t> order = shuffledOrder(d.train.count, rng);
      EpochMetrics em;
      int64_t steps = trainEpoch(m, o, s, d.train, order, pipes, buffers, opt, schedule, progress, epoch, em, comm);
      if (d.val.count) {
        Evaluation v = evaluate(m, pipes, s.params, d.val, comm);
        em.valLoss = v.loss;
        em.valAcc = v.accuracy;
      }
      std::vector<float> testProbs;
      Evaluation t = evaluate(m, pipes, s.params, d.test, comm, reporting ? &testProbs : nullptr);
      em.testLoss = t.loss;
      em.testAcc = t.accuracy;
      // The last steps of an epoch can overflow the parameters without the loss showing it
      // yet: such a model is never saved over the last good checkpoint.
      bool finite = std::isfinite(em.trainLoss) && std::isfinite(em.testLoss);
      for (const auto &p : s.params)
        for (float v : p)
          finite = finite && std::isfinite(v);
      if (!finite)
        throw divergence("the parameters or the loss became NaN or infinite", epoch, steps, "the epoch's last; ",
                         em.lr, s, o);
      schedule.endEpoch(epoch, d.val.count ? em.valLoss : em.trainLoss);
      s.history.push_back(em);
      s.epochsDone = epoch;
      if (root) {
        printEpoch(em, o.epochs, d.val.count > 0);
        warnIfAtChance(m, s.history, o);
      }
      saveEpoch(m, o, s, resumed, opt, schedule, rng, data.name, root);
      if (reporting && root) {
        lastTest.probs = std::move(testProbs);
        lastParams = s.params;
        report.params = &lastParams;
        report.test = &lastTest;
        report.status = epoch == o.epochs ? RunStatus::Finished : RunStatus::Running;
        reportWriter.write(report);
      }
    }
  } catch (const Error &e) {
    if (e.exitCode == kExitDiverged && reporting && root) {
      report.status = RunStatus::Diverged;
      report.statusNote = e.what();
      reportWriter.write(report);
    }
    // Every rank sees the same loss and parameters, so every rank diverges alike.
    if (e.exitCode == kExitDiverged && comm.size() > 1)
      throw SharedError(e.what(), e.exitCode);
    throw;
  }
  return kExitOk;
}

} // namespace

int trainerMain(const ModelInfo &model, int argc, char **argv) {
  Communicator oneProcess;
  return trainerMain(model, argc, argv, oneProcess);
}

int trainerMain(const ModelInfo &model, int argc, char **argv, Communicator &comm) {
  keepFreedMemoryForReuse();
  // Halide runtime errors become a message and a non-zero status, not the default abort().
  halide_set_error_handler(reportHalideError);
  // Past a file-size limit, writes fail with EFBIG (reported) instead of killing the process.
  std::signal(SIGXFSZ, SIG_IGN);
  std::string prog = argc > 0 ? argv[0] : model.name;
  const bool distributed = comm.size() > 1;
  // Rank 0 speaks for a distributed run: the others' standard output goes nowhere.
  if (distributed && comm.rank() != 0 && !std::freopen("/dev/null", "w", stdout))
    comm.abort(kExitError);
  // An error of this rank alone: said with its rank, and in a distributed run it stops the
  // others, which would wait for this rank forever.
  auto fail = [&](const std::string &message, int code) {
    fmt::print(stderr, "{}: error: {}{}\n", prog, distributed ? fmt::format("rank {}: ", comm.rank()) : "", message);
    if (distributed)
      comm.abort(code);
    return code;
  };
  int code = kExitOk;
  try {
    Options o;
    bool run = true;
    together(comm, [&] { run = parseOptions(model, argc, argv, o); });
    if (!run)
      code = kExitOk;
    else if (o.command == "train")
      code = runTraining(model, o, comm);
    else if (comm.rank() == 0) // predict, report and export: rank 0 alone
      code = o.command == "predict" ? runPredict(model, o)
             : o.command == "export"  ? runExport(model, o)
                                      : runReport(model, o);
  } catch (const SharedError &e) {
    if (comm.rank() == 0)
      fmt::print(stderr, "{}: error: {}\n", prog, e.what());
    code = e.exitCode;
  } catch (const Error &e) {
    code = fail(e.what(), e.exitCode);
  } catch (const std::bad_alloc &) {
    code = fail("out of memory", kExitError);
  } catch (const std::exception &e) {
    code = fail(e.what(), kExitError);
  }
  std::fflush(stdout);
  comm.finish();
  return code;
}

} // namespace lenetc
