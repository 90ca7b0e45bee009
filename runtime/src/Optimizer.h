// Optimizers and learning-rate schedules, applied by the runtime to the gradients the
// training-step pipeline returns. Semantics follow PyTorch's SGD (momentum, Nesterov) and
// Keras' Adam (epsilon-hat form), RMSprop (sqrt(ms + eps)) and ReduceLROnPlateau; weight
// decay is an L2 term added to the gradient.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lenetc {

struct OptimizerConfig {
  std::string name = "sgd"; // sgd | adam | rmsprop
  double lr = 0.01, momentum = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-7, rho = 0.9, weightDecay = 0;
  bool nesterov = false;
};

class Optimizer {
public:
  // `state[p]`: parameter p is state (batchnorm's running statistics), not trained (empty:
  // none is).
  Optimizer(OptimizerConfig config, const std::vector<int64_t> &paramSizes, std::vector<bool> state = {});
  // One update of every trainable parameter with its gradient, at learning rate `lr`; a
  // state parameter takes the value the training step returned for it (`grads[p]`).
  void step(std::vector<std::vector<float>> &params, const std::vector<std::vector<float>> &grads, double lr);

  const OptimizerConfig &config() const { return config_; }
  // State for checkpoints: the step count and the per-parameter moment buffers.
  int64_t steps() const { return steps_; }
  std::vector<std::vector<float>> &slots() { return slots_; }
  const std::vector<std::vector<float>> &slots() const { return slots_; }
  void setSteps(int64_t s) { steps_ = s; }
  int slotsPerParam() const;

private:
  OptimizerConfig config_;
  int64_t steps_ = 0;
  std::vector<std::vector<float>> slots_; // slotsPerParam() buffers per parameter, in order
  std::vector<bool> state_;
};

struct ScheduleConfig {
  std::string name = "constant"; // constant | step | plateau
  int64_t every = 10;
  double gamma = 0.1, factor = 0.1, minLr = 0;
  int64_t patience = 10;
};

// The learning rate epoch by epoch.
class LrSchedule {
public:
  LrSchedule(ScheduleConfig config, double baseLr) : config_(config), base_(baseLr), lr_(baseLr) {}
  double lr() const { return lr_; }
  // Called after each epoch with the monitored loss (validation if any, else training).
  void endEpoch(int64_t epochsDone, double monitoredLoss);

  // State for checkpoints.
  double best = 1e300;
  int64_t wait = 0;
  void setLr(double lr) { lr_ = lr; }

private:
  ScheduleConfig config_;
  double base_, lr_;
};

} // namespace lenetc
