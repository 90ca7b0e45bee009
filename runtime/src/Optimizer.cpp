#include "Optimizer.h"

#include "ThreadTeam.h"

#include <algorithm>
#include <cmath>

namespace lenetc {

int Optimizer::slotsPerParam() const {
  if (config_.name == "adam")
    return 2; // first and second moments
  if (config_.name == "rmsprop")
    return config_.momentum > 0 ? 2 : 1; // mean square (and momentum)
  return config_.momentum > 0 ? 1 : 0;   // sgd: velocity
}

Optimizer::Optimizer(OptimizerConfig config, const std::vector<int64_t> &paramSizes, std::vector<bool> state)
    : config_(std::move(config)), state_(std::move(state)) {
  state_.resize(paramSizes.size(), false);
  for (int64_t size : paramSizes)
    for (int s = 0; s < slotsPerParam(); ++s)
      slots_.emplace_back(static_cast<size_t>(size), 0.0f);
}

void Optimizer::step(std::vector<std::vector<float>> &params, const std::vector<std::vector<float>> &grads,
                     double lr) {
  ++steps_;
  const OptimizerConfig &c = config_;
  const int k = slotsPerParam();
  // Keras' Adam: the bias corrections folded into the step size (its "epsilon hat" form).
  const double adamLr =
      lr * std::sqrt(1 - std::pow(c.beta2, double(steps_))) / (1 - std::pow(c.beta1, double(steps_)));
  // The optimizer is chosen once per step, not per element: a string compare per element
  // cost a tenth of lenetc_bench's time (most of it at small batches).
  const bool adam = c.name == "adam", rmsprop = c.name == "rmsprop";
  // Each element's update is its own: the team's threads take a range of every parameter
  // each (the same bits on any number of threads), not one thread while the others wait.
  const int threads = teamThreads();
  sideBySide(threads, [&](int t) {
    for (size_t p = 0; p < params.size(); ++p) {
      const size_t size = params[p].size();
      const size_t begin = size * size_t(t) / size_t(threads), end = size * size_t(t + 1) / size_t(threads);
      if (state_[p]) {
        std::copy(grads[p].begin() + long(begin), grads[p].begin() + long(end), params[p].begin() + long(begin));
        continue;
      }
      float *w = params[p].data();
      const float *g0 = grads[p].data();
      float *s0 = k > 0 ? slots_[p * k].data() : nullptr;
      float *s1 = k > 1 ? slots_[p * k + 1].data() : nullptr;
      if (adam) {
        for (size_t i = begin; i < end; ++i) {
          double g = g0[i] + c.weightDecay * w[i];
          s0[i] = float(c.beta1 * s0[i] + (1 - c.beta1) * g);
          s1[i] = float(c.beta2 * s1[i] + (1 - c.beta2) * g * g);
          w[i] = float(w[i] - adamLr * s0[i] / (std::sqrt(double(s1[i])) + c.eps));
        }
      } else if (rmsprop) {
        for (size_t i = begin; i < end; ++i) {
          double g = g0[i] + c.weightDecay * w[i];
          s0[i] = float(c.rho * s0[i] + (1 - c.rho) * g * g);
          double update = lr * g / std::sqrt(double(s0[i]) + c.eps); // Keras: sqrt(ms + eps)
          if (s1) {
            s1[i] = float(c.momentum * s1[i] + update);
            update = s1[i];
          }
          w[i] = float(w[i] - update);
        }
      } else if (s0) { // sgd with momentum (PyTorch: v = m v + g; Nesterov steps along g + m v)
        for (size_t i = begin; i < end; ++i) {
          double g = g0[i] + c.weightDecay * w[i];
          s0[i] = float(c.momentum * s0[i] + g);
          w[i] = float(w[i] - lr * (c.nesterov ? g + c.momentum * s0[i] : s0[i]));
        }
      } else {
        for (size_t i = begin; i < end; ++i) {
          double g = g0[i] + c.weightDecay * w[i];
          w[i] = float(w[i] - lr * g);
        }
      }
    }
    return 0;
  });
}

void LrSchedule::endEpoch(int64_t epochsDone, double monitoredLoss) {
  if (config_.name == "step") {
    lr_ = base_ * std::pow(config_.gamma, double(epochsDone / config_.every));
  } else if (config_.name == "plateau") {
    // Keras' ReduceLROnPlateau (min_delta 1e-4, no cooldown): after `patience` epochs
    // without an improvement, lr *= factor, down to min_lr (a rate already at or below
    // min_lr stays as it is).
    if (monitoredLoss < best - 1e-4) {
      best = monitoredLoss;
      wait = 0;
    } else if (++wait >= config_.patience) {
      if (lr_ > config_.minLr)
        lr_ = std::max(lr_ * config_.factor, config_.minLr);
      wait = 0;
    }
  }
}

} // namespace lenetc
