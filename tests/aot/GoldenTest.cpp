// The whole model, compiled ahead of time by lenetc and linked without libHalide or LLVM,
// against PyTorch: for the batch, weights and labels of tests/golden/make_golden.py, the
// training step's loss, correct count and every parameter gradient, and the inference
// pipeline's probabilities, match PyTorch's (double precision) to 1e-4 relative, in the
// measure  max |got - want| / max(|want|, max|want over the array| / 10)
// (values under a tenth of the array's largest are held to that tenth). Where PyTorch's own
// float32 result is further than 1e-4 from its double one (sums with cancellation, which
// no float32 computation resolves), the bound is 4x PyTorch's float32 deviation instead.
// Built once per model: MODEL_SYMBOL names its lenetc::ModelInfo, GOLDEN_FILE its data.
#include "MicroBatch.h"
#include "ThreadTeam.h"
#include "lenetc/ModelInfo.h"

#include "HalideBuffer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

extern "C" const lenetc::ModelInfo MODEL_SYMBOL;

namespace {

using Halide::Runtime::Buffer;
const lenetc::ModelInfo &model = MODEL_SYMBOL;
#ifndef GOLDEN_BATCH
#define GOLDEN_BATCH 4
#endif
#ifndef GOLDEN_FREQUENCY
#define GOLDEN_FREQUENCY 1.3 // make_golden.py's FREQUENCY for the model
#endif
constexpr int kBatch = GOLDEN_BATCH; // make_golden.py's BATCH for the model
constexpr int32_t kNoiseSeed = 1234; // make_golden.py's SEED (dropout's masks)
constexpr double kZeroBelow = 1e-12; // make_golden.py's ZERO_BELOW

std::map<std::string, std::vector<float>> readGolden(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::map<std::string, std::vector<float>> arrays;
  std::string line;
  if (!std::getline(in, line) || line != "LENETC-GOLDEN 1")
    return arrays;
  while (std::getline(in, line)) {
    std::istringstream header(line);
    std::string name;
    size_t count = 0;
    header >> name >> count;
    std::vector<float> values(count);
    in.read(reinterpret_cast<char *>(values.data()), static_cast<std::streamsize>(count * sizeof(float)));
    arrays[name] = values;
  }
  return arrays;
}

// make_golden.py's formulas, computed in double and rounded to float.
Buffer<float> inputBatch() {
  std::vector<int> dims;
  for (int d = model.inputRank - 1; d >= 0; --d)
    dims.push_back(static_cast<int>(model.inputShape[d]));
  dims.push_back(kBatch);
  Buffer<float> x(dims);
  for (size_t i = 0; i < x.number_of_elements(); ++i)
    x.data()[i] = static_cast<float>(0.5 + 0.5 * std::sin(0.37 * double(i) + 0.11));
  return x;
}

Buffer<float> paramBuffer(const lenetc::ParamInfo &p, int index, bool fill) {
  std::vector<int> dims;
  for (int d = p.rank - 1; d >= 0; --d)
    dims.push_back(static_cast<int>(p.shape[d]));
  Buffer<float> b(dims);
  if (fill) {
    std::string role = p.role;
    double amp = role == "weight" ? 1.0 / std::sqrt(double(p.count) / double(p.shape[0])) : 0.5;
    double base = role == "scale" || role == "running_var" ? 1.0 : 0.0;
    for (int64_t k = 0; k < p.count; ++k)
      b.data()[k] = static_cast<float>(base + amp * std::sin(GOLDEN_FREQUENCY * double(k) + 0.7 * index + 0.1));
  }
  return b;
}

void expectMatches(const float *got, const std::vector<float> &want, double float32Deviation,
                   const std::string &what) {
  double scale = 0;
  for (float w : want)
    scale = std::max(scale, double(std::abs(w)));
  // An array that is zero but for rounding (a bias's gradient ahead of batchnorm, which
  // subtracts the mean): held absolutely, to 4x PyTorch's float32 values or 1e-7.
  const bool zero = scale < kZeroBelow;
  double bound = std::max(zero ? 1e-7 : 1e-4, 4 * float32Deviation);
  size_t bad = 0, worst = 0;
  double worstErr = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    double err = zero ? std::abs(double(got[i]))
                      : std::abs(double(got[i]) - want[i]) / std::max(double(std::abs(want[i])), 0.1 * scale);
    if (err > bound)
      ++bad;
    if (err > worstErr) {
      worstErr = err;
      worst = i;
    }
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << want.size() << " values off (bound " << bound
                     << "); worst [" << worst << "] got " << got[worst] << ", PyTorch " << want[worst];
}

class Golden : public ::testing::Test {
protected:
  void SetUp() override {
    golden = readGolden(GOLDEN_FILE);
    ASSERT_FALSE(golden.empty()) << "cannot read " << GOLDEN_FILE;
    x = inputBatch();
    y = Buffer<int32_t>(kBatch);
    ASSERT_EQ(golden["labels"].size(), size_t(kBatch));
    for (int n = 0; n < kBatch; ++n)
      y(n) = static_cast<int32_t>(golden["labels"][n]);
    for (int i = 0; i < model.numParams; ++i)
      params.push_back(paramBuffer(model.params[i], i, true));
    noise(0) = kNoiseSeed;
    noise(1) = 0;
  }

  // The noise input's buffer for the training step, when the model takes one (dropout).
  void *noiseArg() { return model.noise ? noise.raw_buffer() : nullptr; }
  const int32_t *noiseValues() const { return model.noise ? noise.data() : nullptr; }

  // Zero-filled buffers for every parameter's gradient.
  static std::vector<Buffer<float>> gradientBuffers() {
    std::vector<Buffer<float>> grads;
    for (int i = 0; i < model.numParams; ++i)
      grads.push_back(paramBuffer(model.params[i], i, false));
    return grads;
  }

  std::map<std::string, std::vector<float>> golden;
  Buffer<float> x;
  Buffer<int32_t> y;
  Buffer<int32_t> noise{2};
  std::vector<Buffer<float>> params;
};

// What the training step returns for a parameter: its gradient, or a state's next value.
std::string stepOutputName(const lenetc::ParamInfo &p) {
  return std::string(p.name) + (lenetc::isTrainable(p) ? ".grad" : ".next");
}

TEST_F(Golden, TrainingStepMatchesPyTorch) {
  auto loss = Buffer<float>::make_scalar();
  auto correct = Buffer<int32_t>::make_scalar();
  std::vector<Buffer<float>> grads = gradientBuffers();
  std::vector<void *> args = lenetc::trainStepArgs(x, y, noiseArg(), params, loss, correct, grads);
  ASSERT_EQ(model.trainStep(args.data()), 0);

  expectMatches(loss.data(), golden["loss"], 0, "loss");
  EXPECT_EQ(correct(), static_cast<int>(golden["correct"][0]));
  for (int i = 0; i < model.numParams; ++i) {
    std::string name = stepOutputName(model.params[i]);
    ASSERT_EQ(golden[name].size(), size_t(model.params[i].count)) << name;
    ASSERT_EQ(golden[name + ".f32err"].size(), 1u) << name;
    expectMatches(grads[i].data(), golden[name], golden[name + ".f32err"][0], name);
  }
}

TEST_F(Golden, MicroBatchesGiveTheWholeBatchStep) {
  // The trainer's micro-batches (runtime/src/MicroBatch.h): the batch of 4 as 4 x 1 and as
  // 2 + 2 gives the loss, correct count and gradient of one call on all 4, up to rounding
  // (dropout's masks too: each micro-batch hashes its examples' places in the whole batch).
  if (model.batchStatistics)
    GTEST_SKIP() << "batchnorm normalizes over the whole batch: the trainer does not split its step";
  lenetc::MicroBatchedStep::Call call = [](std::vector<void *> &args, halide_buffer_t *, halide_buffer_t *) {
    return model.trainStep(args.data());
  };
  auto stepWith = [&](int64_t microBatch, std::vector<Buffer<float>> &grads) {
    grads = gradientBuffers();
    lenetc::MicroBatchedStep step(grads, microBatch);
    EXPECT_EQ(step.run(call, x, y, params, noiseValues()), 0);
    return std::make_pair(step.loss(), step.correct());
  };
  std::vector<Buffer<float>> whole;
  auto [loss, correct] = stepWith(kBatch, whole);
  for (int64_t microBatch : {1, 3}) {
    std::vector<Buffer<float>> grads;
    auto [mloss, mcorrect] = stepWith(microBatch, grads);
    EXPECT_NEAR(mloss, loss, 1e-6 * std::abs(loss)) << "micro-batch " << microBatch;
    EXPECT_EQ(mcorrect, correct) << "micro-batch " << microBatch;
    for (int i = 0; i < model.numParams; ++i) {
      std::vector<float> want(whole[i].data(), whole[i].data() + whole[i].number_of_elements());
      expectMatches(grads[i].data(), want, 0,
                    std::string(model.params[i].name) + ".grad, micro-batch " + std::to_string(microBatch));
    }
  }
  // And the whole-batch call is the pipeline's own result, not a second computation.
  auto lossBuf = Buffer<float>::make_scalar();
  auto correctBuf = Buffer<int32_t>::make_scalar();
  std::vector<Buffer<float>> direct = gradientBuffers();
  std::vector<void *> args = lenetc::trainStepArgs(x, y, noiseArg(), params, lossBuf, correctBuf, direct);
  ASSERT_EQ(model.trainStep(args.data()), 0);
  EXPECT_EQ(lossBuf(), float(loss));
  for (int i = 0; i < model.numParams; ++i)
    EXPECT_EQ(0, std::memcmp(direct[i].data(), whole[i].data(), whole[i].size_in_bytes())) << model.params[i].name;
}

TEST_F(Golden, MicroBatchesOnThreadsGiveTheSameBitsAsInOrder) {
  // Micro-batches run as tasks of the thread team, each with its parallel loops in order on
  // one thread: the same bits as running the same micro-batches one after another (a team
  // of one thread), however the team spreads them (with 4 examples: 4 x 1 on 2 and 4
  // threads, 2 x 2 on 2). (With batchnorm this is ghost batch norm: each micro-batch's own
  // statistics.)
  lenetc::MicroBatchedStep::Call call = [](std::vector<void *> &args, halide_buffer_t *, halide_buffer_t *) {
    return model.trainStep(args.data());
  };
  const int threadsBefore = lenetc::teamThreads();
  lenetc::setThreads(4);
  for (auto [microBatch, threads, onePerThread] :
       {std::tuple{1, 2, false}, {2, 2, false}, {3, 4, false}, {kBatch, 2, true}}) {
    std::vector<Buffer<float>> inOrder = gradientBuffers(), onThreads = gradientBuffers();
    lenetc::MicroBatchedStep serial(inOrder, microBatch, threads, onePerThread),
        concurrent(onThreads, microBatch, threads, onePerThread);
    lenetc::setThreads(1);
    ASSERT_EQ(serial.run(call, x, y, params, noiseValues()), 0);
    lenetc::setThreads(4);
    for (int repeat = 0; repeat < 3; ++repeat) {
      ASSERT_EQ(concurrent.run(call, x, y, params, noiseValues()), 0);
      std::string what = "micro-batch " + std::to_string(microBatch) + " on " + std::to_string(threads) + " threads";
      EXPECT_EQ(concurrent.loss(), serial.loss()) << what;
      EXPECT_EQ(concurrent.correct(), serial.correct()) << what;
      for (int i = 0; i < model.numParams; ++i)
        EXPECT_EQ(0, std::memcmp(inOrder[i].data(), onThreads[i].data(), inOrder[i].size_in_bytes()))
            << model.params[i].name << ", " << what;
    }
  }
  lenetc::setThreads(threadsBefore);
}

TEST_F(Golden, OneCallGivesTheSameBitsOnAnyNumberOfThreads) {
  // The whole batch in one call (as the trainer runs a batchnorm model), its parallel loops
  // on 1, 2 and 4 threads: the same loss and gradients to the bit.
  const int threadsBefore = lenetc::teamThreads();
  std::vector<std::vector<Buffer<float>>> grads;
  std::vector<float> losses;
  for (int threads : {1, 2, 4}) {
    lenetc::setThreads(threads);
    auto loss = Buffer<float>::make_scalar();
    auto correct = Buffer<int32_t>::make_scalar();
    grads.push_back(gradientBuffers());
    std::vector<void *> args = lenetc::trainStepArgs(x, y, noiseArg(), params, loss, correct, grads.back());
    ASSERT_EQ(model.trainStep(args.data()), 0);
    losses.push_back(loss());
  }
  lenetc::setThreads(threadsBefore);
  for (size_t t = 1; t < grads.size(); ++t) {
    EXPECT_EQ(losses[t], losses[0]) << "loss, " << (t == 1 ? 2 : 4) << " threads";
    for (int i = 0; i < model.numParams; ++i)
      EXPECT_EQ(0, std::memcmp(grads[0][i].data(), grads[t][i].data(), grads[0][i].size_in_bytes()))
          << model.params[i].name << ", " << (t == 1 ? 2 : 4) << " threads";
  }
}

TEST_F(Golden, InferenceMatchesPyTorch) {
  Buffer<float> probs(model.classes, kBatch);
  std::vector<void *> args = lenetc::inferArgs(x, params, probs);
  ASSERT_EQ(model.infer(args.data()), 0);
  expectMatches(probs.data(), golden["probs"], golden["probs.f32err"].at(0), "probabilities");
}

TEST_F(Golden, InferenceSideBySideGivesTheSameBitsOnAnyNumberOfThreads) {
  // The trainer's evaluation runs shares of each batch side by side (inferSideBySide): the
  // same bits on 1, 2 and 3 threads, and one call's probabilities up to float rounding.
  // (Shares of at most 128 examples: a batch of 300 is 3 calls.)
  const int examples = 300;
  std::vector<int> dims;
  for (int d = 0; d + 1 < x.dimensions(); ++d)
    dims.push_back(x.dim(d).extent());
  dims.push_back(examples);
  Buffer<float> many(dims); // the golden batch repeated, a little scaled each time
  const size_t size = x.number_of_elements() / kBatch;
  for (size_t n = 0; n < size_t(examples); ++n)
    for (size_t i = 0; i < size; ++i)
      many.data()[n * size + i] = x.data()[(n % kBatch) * size + i] * (1.f + 0.01f * float(n / kBatch));
  Buffer<float> whole(model.classes, examples);
  std::vector<void *> args = lenetc::inferArgs(many, params, whole);
  ASSERT_EQ(model.infer(args.data()), 0);
  const int threadsBefore = lenetc::teamThreads();
  std::vector<Buffer<float>> results;
  for (int threads : {1, 2, 3}) {
    lenetc::setThreads(threads);
    results.emplace_back(model.classes, examples);
    results.back().fill(-1.f);
    ASSERT_EQ(lenetc::inferSideBySide(model.infer, many, params, results.back()), 0);
  }
  lenetc::setThreads(threadsBefore);
  for (size_t t = 1; t < results.size(); ++t)
    EXPECT_EQ(0, std::memcmp(results[0].data(), results[t].data(), results[0].size_in_bytes())) << t + 1 << " threads";
  for (int n = 0; n < examples; ++n)
    for (int k = 0; k < model.classes; ++k)
      ASSERT_NEAR(results[0](k, n), whole(k, n), 1e-6) << "example " << n << ", class " << k;
}

TEST_F(Golden, AnyBatchSizeWithoutRecompiling) {
  // The first example alone (a partial batch) gives the first row of the full batch.
  Buffer<float> probsAll(model.classes, kBatch), probsOne(model.classes, 1);
  Buffer<float> one = x.cropped(x.dimensions() - 1, 0, 1);
  for (auto *pair : {&probsAll, &probsOne}) {
    std::vector<void *> args = lenetc::inferArgs(pair == &probsAll ? x : one, params, *pair);
    ASSERT_EQ(model.infer(args.data()), 0);
  }
  for (int k = 0; k < model.classes; ++k)
    EXPECT_NEAR(probsOne(k, 0), probsAll(k, 0), 1e-6);
}

TEST_F(Golden, OneExamplePipelineMatchesPyTorch) {
  // infer_one, the latency pipeline (its own schedule), on each example alone.
  ASSERT_NE(model.inferOne, nullptr);
  std::vector<float> got;
  for (int e = 0; e < kBatch; ++e) {
    Buffer<float> one = x.cropped(x.dimensions() - 1, e, 1), probs(model.classes, 1);
    one.translate(x.dimensions() - 1, -e); // its batch index is 0, as a lone example's
    std::vector<void *> args = lenetc::inferArgs(one, params, probs);
    ASSERT_EQ(model.inferOne(args.data()), 0) << "example " << e;
    got.insert(got.end(), probs.data(), probs.data() + model.classes);
  }
  expectMatches(got.data(), golden["probs"], golden["probs.f32err"].at(0), "probabilities (infer_one)");
}

TEST_F(Golden, OneExamplePipelineRejectsABatch) {
  // Compiled for one example: a larger batch is refused (Halide's bounds check), not misread.
  // (Halide's default error handler aborts; the trainer installs one, as here.)
  static std::string message;
  message.clear();
  halide_error_handler_t previous =
      halide_set_error_handler([](void *, const char *m) { message += m; });
  Buffer<float> probs(model.classes, kBatch);
  std::vector<void *> args = lenetc::inferArgs(x, params, probs);
  EXPECT_NE(model.inferOne(args.data()), 0);
  halide_set_error_handler(previous);
  EXPECT_NE(message.find("Constraint violated"), std::string::npos) << message; // "...extent... (4) == 1"
}

} // namespace
