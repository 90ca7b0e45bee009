// The runtime's pieces on their own: the data loaders on the real files, the optimizers'
// update rules against hand-computed steps, the initialisers' bounds, checkpoints
// round-trip and refuse damage.
#include "Checkpoint.h"
#include "Data.h"
#include "Error.h"
#include "Init.h"
#include "Optimizer.h"
#include "Options.h"
#include "ThreadTeam.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace lenetc;

namespace {

TEST(Data, RealFashionMnist) {
  DataSplits d = loadData("fashion-mnist", 10);
  EXPECT_EQ(d.train.count, 60000);
  EXPECT_EQ(d.test.count, 10000);
  EXPECT_EQ(d.train.height, 28);
  EXPECT_EQ(d.train.images.size(), size_t(60000 * 784));
  // The first training example is an ankle boot (9), the first test example too.
  EXPECT_EQ(d.train.labels[0], 9);
  EXPECT_EQ(d.test.labels[0], 9);
  int counts[10] = {};
  for (int32_t l : d.train.labels)
    ++counts[l];
  for (int c : counts)
    EXPECT_EQ(c, 6000); // Fashion-MNIST is balanced
  float lo = 1, hi = 0;
  for (float v : d.train.images) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_EQ(lo, 0.0f);
  EXPECT_EQ(hi, 1.0f);
  EXPECT_EQ(classNames("fashion-mnist", 10)[9], "Ankle boot");
}

TEST(Data, RealMnistDigitsFromNpm) {
  DataSplits d = loadData("mnist", 10);
  EXPECT_EQ(d.train.count + d.test.count, 10000);
  EXPECT_EQ(d.train.count, 8495); // the first 85% of each digit, rounded down
  EXPECT_EQ(d.test.count, 1505);
  EXPECT_EQ(d.train.images.size(), size_t(d.train.count * 784));
  int counts[10] = {};
  for (int32_t l : d.test.labels)
    ++counts[l];
  for (int c : counts)
    EXPECT_GT(c, 100);
  // The files hold one digit after another; the sets are mixed, so that the first 1,000
  // (--limit-train) and the last 1,000 (--val) examples hold every digit, in about MNIST's
  // proportions. The order is fixed: loading again gives the same.
  for (int64_t first : {int64_t(0), d.train.count - 1000}) {
    int seen[10] = {};
    for (int64_t i = first; i < first + 1000; ++i)
      ++seen[d.train.labels[i]];
    for (int digit = 0; digit < 10; ++digit)
      EXPECT_GT(seen[digit], 60) << "digit " << digit << " in the 1,000 examples from " << first;
  }
  DataSplits again = loadData("mnist", 10);
  EXPECT_EQ(again.train.labels, d.train.labels);
  EXPECT_EQ(again.test.images, d.test.images);
}

TEST(Data, MalformedMnistJson) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "lenetc-json-test";
  std::filesystem::create_directories(dir / "digits");
  for (int d = 0; d < 10; ++d)
    std::ofstream(dir / "digits" / (std::to_string(d) + ".json")) << "{\"data\": [0, 0.5, 1";
  try {
    loadMnistJson(dir.string(), 10);
    FAIL() << "a truncated JSON file was accepted";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("truncated or malformed"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

TEST(Data, UnknownDirectoryAndModelWithFewerClasses) {
  EXPECT_THROW(loadData("/nonexistent/dir", 10), Error);
  try {
    loadData("fashion-mnist", 5);
    FAIL() << "labels beyond the model's classes were accepted";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("out of range for a model with 5 classes"), std::string::npos);
  }
}

// --- optimizers ---------------------------------------------------------------------

std::vector<std::vector<float>> one(float v) { return {{v}}; }

TEST(Optimizer, SgdWithMomentumAndNesterov) {
  OptimizerConfig c;
  c.name = "sgd";
  c.momentum = 0.9;
  Optimizer plain(c, {1});
  auto w = one(1.0f);
  plain.step(w, one(0.5f), 0.1); // v = 0.5, w = 1 - 0.05
  EXPECT_NEAR(w[0][0], 0.95, 1e-7);
  plain.step(w, one(0.5f), 0.1); // v = 0.95, w = 0.95 - 0.095
  EXPECT_NEAR(w[0][0], 0.855, 1e-6);
  c.nesterov = true;
  Optimizer nesterov(c, {1});
  w = one(1.0f);
  nesterov.step(w, one(0.5f), 0.1); // v = 0.5, step g + m v = 0.95
  EXPECT_NEAR(w[0][0], 1 - 0.095, 1e-7);
}

TEST(Optimizer, WeightDecayAddsToTheGradient) {
  OptimizerConfig c;
  c.weightDecay = 0.1;
  Optimizer sgd(c, {1});
  auto w = one(2.0f);
  sgd.step(w, one(0.0f), 0.5); // g = 0 + 0.1 * 2 = 0.2
  EXPECT_NEAR(w[0][0], 1.9, 1e-7);
}

TEST(Optimizer, AdamFirstStepsMatchTheFormula) {
  OptimizerConfig c;
  c.name = "adam";
  Optimizer adam(c, {1});
  auto w = one(1.0f);
  double m = 0, v = 0, ref = 1;
  for (int t = 1; t <= 3; ++t) {
    double g = 0.3 * t;
    m = 0.9 * m + 0.1 * g;
    v = 0.999 * v + 0.001 * g * g;
    // Keras: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t); w -= lr_t m / (sqrt(v) + eps)
    ref -= 0.01 * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.9, t)) * m / (std::sqrt(v) + 1e-7);
    adam.step(w, one(float(g)), 0.01);
    EXPECT_NEAR(w[0][0], ref, 1e-6) << "step " << t;
  }
}

TEST(Optimizer, RmspropMatchesTheFormula) {
  OptimizerConfig c;
  c.name = "rmsprop";
  Optimizer rms(c, {1});
  auto w = one(1.0f);
  rms.step(w, one(0.5f), 0.01);                                         // s = 0.1 * 0.25 = 0.025
  EXPECT_NEAR(w[0][0], 1 - 0.01 * 0.5 / std::sqrt(0.025 + 1e-7), 1e-6); // Keras: sqrt(ms + eps)
}

TEST(Optimizer, ThreadsGiveTheSameBits) {
  // The team's threads update ranges of every parameter: on 1, 2 and 3 threads, every
  // optimizer gives the same bits, and a state tensor (batchnorm's running statistics) is
  // copied whole, not trained.
  const int threadsBefore = teamThreads();
  const std::vector<int64_t> sizes{1001, 7, 1, 5};
  const std::vector<bool> state{false, false, false, true};
  std::vector<std::vector<float>> grads;
  for (int64_t size : sizes) {
    grads.emplace_back();
    for (int64_t i = 0; i < size; ++i)
      grads.back().push_back(std::sin(0.37f * float(i + size)));
  }
  for (const char *name : {"sgd", "adam", "rmsprop"}) {
    OptimizerConfig c;
    c.name = name;
    c.momentum = 0.9;
    c.weightDecay = 1e-3;
    std::vector<std::vector<std::vector<float>>> results;
    for (int threads : {1, 2, 3}) {
      setThreads(threads);
      Optimizer opt(c, sizes, state);
      std::vector<std::vector<float>> w;
      for (int64_t size : sizes)
        w.emplace_back(static_cast<size_t>(size), 0.5f);
      for (int step = 0; step < 3; ++step)
        opt.step(w, grads, 0.01);
      results.push_back(w);
    }
    EXPECT_EQ(results[0][3], grads[3]) << name << ": the state tensor is copied";
    EXPECT_NE(results[0][0], std::vector<float>(1001, 0.5f)) << name << ": trained";
    for (size_t t = 1; t < results.size(); ++t)
      for (size_t p = 0; p < sizes.size(); ++p)
        EXPECT_EQ(0, std::memcmp(results[0][p].data(), results[t][p].data(), results[0][p].size() * sizeof(float)))
            << name << ", parameter " << p << ", " << t + 1 << " threads";
  }
  setThreads(threadsBefore);
}

TEST(LrSchedule, StepAndPlateau) {
  ScheduleConfig step;
  step.name = "step";
  step.every = 2;
  step.gamma = 0.5;
  LrSchedule s(step, 1.0);
  s.endEpoch(1, 0);
  EXPECT_DOUBLE_EQ(s.lr(), 1.0);
  s.endEpoch(2, 0);
  EXPECT_DOUBLE_EQ(s.lr(), 0.5);
  s.endEpoch(4, 0);
  EXPECT_DOUBLE_EQ(s.lr(), 0.25);

  ScheduleConfig plateau;
  plateau.name = "plateau";
  plateau.patience = 1;
  plateau.factor = 0.1;
  LrSchedule p(plateau, 1.0);
  p.endEpoch(1, 1.0); // best
  EXPECT_DOUBLE_EQ(p.lr(), 1.0);
  p.endEpoch(2, 1.0); // no better: wait 1 >= patience (Keras)
  EXPECT_DOUBLE_EQ(p.lr(), 0.1);
  p.endEpoch(3, 0.5); // better: no change
  EXPECT_DOUBLE_EQ(p.lr(), 0.1);
  p.endEpoch(4, 0.49995); // better by less than min_delta 1e-4: not an improvement
  EXPECT_NEAR(p.lr(), 0.01, 1e-12);

  // min_lr is a floor: it never raises a rate already below it (Keras: reduce only while
  // lr > min_lr).
  plateau.minLr = 0.05;
  LrSchedule q(plateau, 1.0);
  q.endEpoch(1, 1.0);
  q.endEpoch(2, 1.0);
  EXPECT_DOUBLE_EQ(q.lr(), 0.1);
  q.endEpoch(3, 1.0);
  EXPECT_DOUBLE_EQ(q.lr(), 0.05);
  LrSchedule low(plateau, 0.001);
  low.endEpoch(1, 1.0);
  low.endEpoch(2, 1.0);
  EXPECT_DOUBLE_EQ(low.lr(), 0.001);
}

// --- checkpoints --------------------------------------------------------------------

const ParamInfo kParams[] = {{"d.w", "weight", 2, {2, 3, 0, 0}, 6, 3, 2},
                             {"d.b", "bias", 1, {2, 0, 0, 0}, 2, 2, 2}};
const ModelInfo kModel = {"tiny", "tiny.nn", 1, {3, 0, 0}, 2, 2, kParams, nullptr, nullptr, {}};

// --- initialisation -----------------------------------------------------------------

// A conv layer's weight (6 filters of 1x5x5: fan-in 25, fan-out 150) and bias (its layer's
// fan-in, 25), and a subsampling coefficient over a 2x2 window.
const ParamInfo kInitParams[] = {{"c.w", "weight", 4, {6, 1, 5, 5}, 150, 25, 150},
                                 {"c.b", "bias", 1, {6, 0, 0, 0}, 6, 25, 6},
                                 {"s.coef", "coef", 1, {6, 0, 0, 0}, 6, 4, 6}};
const ModelInfo kInitModel = {"conv", "conv.nn", 3, {1, 5, 5}, 10, 3, kInitParams, nullptr, nullptr, {}};

void expectWithin(const std::vector<float> &v, double bound, const std::string &what) {
  double largest = 0;
  for (float x : v)
    largest = std::max(largest, double(std::fabs(x)));
  EXPECT_LE(largest, bound) << what;
  EXPECT_GT(largest, 0.5 * bound) << what << ": the values should spread over the bound";
}

TEST(Init, BoundsOfEachInitialiser) {
  auto xavier = initialParams(kInitModel, "xavier_uniform", "zero", 0);
  expectWithin(xavier[0], std::sqrt(6.0 / (25 + 150)), "xavier weight");
  EXPECT_EQ(xavier[1], std::vector<float>(6, 0.0f)) << "zero biases";
  EXPECT_EQ(xavier[2], std::vector<float>(6, 0.25f)) << "coefficients start as average pooling";

  auto lecun = initialParams(kInitModel, "lecun_uniform", "zero", 0);
  expectWithin(lecun[0], 2.4 / 25, "lecun weight");

  // PyTorch's default bias: uniform in +-1/sqrt(fan-in).
  auto torchBias = initialParams(kInitModel, "xavier_uniform", "fan_in_uniform", 0);
  expectWithin(torchBias[1], 1.0 / 5, "fan-in uniform bias");
  EXPECT_EQ(torchBias[0], xavier[0]) << "the weights drawn before the bias are the same";
}

TEST(Init, SeededAndRepeatable) {
  EXPECT_EQ(initialParams(kInitModel, "xavier_uniform", "fan_in_uniform", 7),
            initialParams(kInitModel, "xavier_uniform", "fan_in_uniform", 7));
  EXPECT_NE(initialParams(kInitModel, "xavier_uniform", "zero", 7)[0],
            initialParams(kInitModel, "xavier_uniform", "zero", 8)[0]);
}

TrainState sampleState() {
  TrainState s;
  s.model = "tiny";
  s.data = "fashion-mnist";
  s.epochsDone = 3;
  s.params = {{1, 2, 3, 4, 5, 6}, {7, 8}};
  s.optimizer = "adam";
  s.optimizerSteps = 42;
  s.optimizerSlots = {{0.1f}, {0.2f}};
  s.lr = 0.5;
  s.rng = "123 456";
  EpochMetrics m;
  m.epoch = 3;
  m.testAcc = 0.75;
  s.history = {m};
  s.settings = {{"--lr", "0.5"}, {"--nesterov", "on"}};
  return s;
}

std::string tempPath(const char *name) { return (std::filesystem::temp_directory_path() / name).string(); }

TEST(Checkpoint, RoundTrip) {
  std::string path = tempPath("lenetc-ckpt-test.ckpt");
  saveCheckpoint(path, kModel, sampleState());
  TrainState s = loadCheckpoint(path, kModel);
  EXPECT_EQ(s.epochsDone, 3);
  EXPECT_EQ(s.params[1], (std::vector<float>{7, 8}));
  EXPECT_EQ(s.optimizerSteps, 42);
  EXPECT_EQ(s.rng, "123 456");
  EXPECT_EQ(s.history.at(0).testAcc, 0.75);
  EXPECT_EQ(s.settings, sampleState().settings);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp." + std::to_string(getpid())));
  std::remove(path.c_str());
}

TEST(Checkpoint, EveryFlippedByteIsCaught) {
  std::string path = tempPath("lenetc-ckpt-flip.ckpt");
  saveCheckpoint(path, kModel, sampleState());
  std::string good;
  {
    std::ifstream in(path, std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (size_t i = 0; i < good.size(); i += 7) {
    std::string bad = good;
    bad[i] ^= 0x10;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
    EXPECT_THROW(loadCheckpoint(path, kModel), Error) << "byte " << i;
  }
  for (size_t n : {size_t(0), size_t(10), good.size() / 2, good.size() - 1}) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << good.substr(0, n);
    EXPECT_THROW(loadCheckpoint(path, kModel), Error) << "truncated to " << n;
  }
  std::remove(path.c_str());
}

TEST(Checkpoint, OtherModelIsRefused) {
  std::string path = tempPath("lenetc-ckpt-other.ckpt");
  saveCheckpoint(path, kModel, sampleState());
  ModelInfo other = kModel;
  other.name = "other";
  try {
    loadCheckpoint(path, other);
    FAIL();
  } catch (const Error &e) {
    EXPECT_STREQ(e.what(), ("checkpoint '" + path + "' is from model 'tiny', not 'other'").c_str());
  }
  std::remove(path.c_str());
}

TEST(Checkpoint, UnwritableDirectoryKeepsNothingHalfWritten) {
  EXPECT_THROW(saveCheckpoint("/nonexistent-dir/x.ckpt", kModel, sampleState()), Error);
}

} // namespace

// --- a checkpoint's settings ----------------------------------------------------------

// A model whose train block says: sgd lr 0.1, momentum 0.9, batch 64, 10 epochs.
const TrainDefaults kDefaults = {"fashion_mnist", "sgd", 0.1, 0.9, 0.9, 0.999, 1e-7, 0.9, 0, false, "constant", 10,
                                 0.1, 0.1, 10, 0, 64, 10, "xavier_uniform", 0, 0, "unit", "zero"};
const ModelInfo kTrainedModel = {"tiny", "tiny.nn", 1, {3, 0, 0}, 2, 2, kParams, nullptr, nullptr, kDefaults};

Options parsed(std::vector<std::string> args) {
  args.insert(args.begin(), "trainer");
  std::vector<char *> argv;
  for (auto &a : args)
    argv.push_back(a.data());
  Options o;
  parseOptions(kTrainedModel, static_cast<int>(argv.size()), argv.data(), o);
  return o;
}

TEST(RunSettings, ACheckpointsSettingsOutlastTheCommandLinesDefaults) {
  Options trained = parsed({"--lr", "0.01", "--lr-schedule", "step", "--step-gamma", "0.3", "--nesterov",
                            "--momentum", "0.5", "--val", "100", "--limit-train", "700", "--normalize", "lecun"});
  auto saved = runSettings(trained);
  // Resumed without those flags: each takes the checkpoint's value, exactly.
  Options resumed = parsed({"--resume", "--epochs", "5"});
  adoptRunSettings(resumed, saved, "c.ckpt");
  EXPECT_EQ(resumed.optimizer.lr, 0.01);
  EXPECT_EQ(resumed.schedule.name, "step");
  EXPECT_EQ(resumed.schedule.gamma, 0.3);
  EXPECT_TRUE(resumed.optimizer.nesterov);
  EXPECT_EQ(resumed.optimizer.momentum, 0.5);
  EXPECT_EQ(resumed.val, 100);
  EXPECT_EQ(resumed.limitTrain, 700);
  EXPECT_EQ(resumed.normalize, "lecun");
  EXPECT_EQ(resumed.epochs, 5); // not a setting of the run: --epochs may extend it
  EXPECT_EQ(runSettings(resumed), saved);
  // The same value given again is no conflict; another one is, naming both.
  Options same = parsed({"--resume", "--lr", "0.01"});
  EXPECT_NO_THROW(adoptRunSettings(same, saved, "c.ckpt"));
  Options other = parsed({"--resume", "--lr", "5", "--limit-train", "all"});
  try {
    adoptRunSettings(other, saved, "c.ckpt");
    FAIL() << "a different --lr was taken";
  } catch (const UsageError &e) {
    EXPECT_EQ(std::string(e.what()),
              "checkpoint 'c.ckpt' was trained with --limit-train 700 (this command line: --limit-train all), "
              "--lr 0.01 (this command line: --lr 5); a checkpoint goes on with the settings it was trained "
              "with: drop those flags (to change them, train afresh)");
  }
  // A checkpoint of format 1 has no settings: the command line's stand.
  Options old = parsed({"--resume", "--lr", "5"});
  adoptRunSettings(old, {}, "c.ckpt");
  EXPECT_EQ(old.optimizer.lr, 5);
}
