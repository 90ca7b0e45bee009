// The training settings a model's train block and the trainer's flags share: each one's
// name in the train block, its flag, and the values it takes. lenetc checks the train
// block against this table (compiler/dialect/MLIRGen.cpp) and the trainer its flags
// (runtime/src/Options.cpp): one definition, two phrasings of the same rule. The defaults
// are the train block's, compiled into each trainer (lenetc::TrainDefaults).
#pragma once

#include <cstring>
#include <string>
#include <vector>

namespace lenetc {

enum class SettingRange {
  Word,        // one of `choices`
  Text,        // any text (a data set's name or directory, a file)
  Count,       // an integer >= 0
  Positive,    // an integer >= 1
  Number,      // a number >= 0
  Above0,      // a number > 0
  Rate,        // a number in [0, 1): a decay rate
  Fraction,    // a number in (0, 1): a factor that reduces
  Switch,      // on or off (a call's true/false, the trainer's flag without a value)
};

struct TrainSettingSpec {
  const char *name;  // in the train block: `batch`, or a call's argument: `lr` of sgd(...)
  const char *flag;  // the trainer's flag: --batch, --lr
  SettingRange range;
  std::vector<std::string> choices; // Word: the values it takes
};

inline const std::vector<TrainSettingSpec> &trainSettingSpecs() {
  static const std::vector<TrainSettingSpec> specs = {
      {"data", "--data", SettingRange::Text, {}},
      {"val", "--val", SettingRange::Count, {}},
      {"normalize", "--normalize", SettingRange::Word, {"unit", "lecun"}},
      {"epochs", "--epochs", SettingRange::Positive, {}},
      {"batch", "--batch", SettingRange::Positive, {}},
      {"seed", "--seed", SettingRange::Count, {}},
      {"init", "--init", SettingRange::Word, {"xavier_uniform", "lecun_uniform"}},
      {"bias_init", "--bias-init", SettingRange::Word, {"zero", "fan_in_uniform"}},
      {"optimizer", "--optimizer", SettingRange::Word, {"sgd", "adam", "rmsprop"}},
      {"lr", "--lr", SettingRange::Above0, {}},
      {"momentum", "--momentum", SettingRange::Number, {}},
      {"nesterov", "--nesterov", SettingRange::Switch, {}},
      {"beta1", "--beta1", SettingRange::Rate, {}},
      {"beta2", "--beta2", SettingRange::Rate, {}},
      {"rho", "--rho", SettingRange::Rate, {}},
      {"eps", "--eps", SettingRange::Above0, {}},
      {"weight_decay", "--weight-decay", SettingRange::Number, {}},
      {"lr_schedule", "--lr-schedule", SettingRange::Word, {"constant", "step", "plateau"}},
      {"every", "--step-every", SettingRange::Positive, {}},
      {"gamma", "--step-gamma", SettingRange::Above0, {}},
      {"factor", "--plateau-factor", SettingRange::Fraction, {}},
      {"patience", "--plateau-patience", SettingRange::Count, {}},
      {"min_lr", "--min-lr", SettingRange::Number, {}},
  };
  return specs;
}

// The setting of a train-block name or of a flag; null when there is none.
inline const TrainSettingSpec *findTrainSetting(const std::string &nameOrFlag) {
  for (const auto &s : trainSettingSpecs())
    if (nameOrFlag == s.name || nameOrFlag == s.flag)
      return &s;
  return nullptr;
}

// Whether a number is within a numeric range (Count and Positive: integers are checked
// as such by the caller).
inline bool inSettingRange(SettingRange r, double v) {
  switch (r) {
  case SettingRange::Count:
  case SettingRange::Number:
    return v >= 0;
  case SettingRange::Positive:
    return v >= 1;
  case SettingRange::Above0:
    return v > 0;
  case SettingRange::Rate:
    return v >= 0 && v < 1;
  case SettingRange::Fraction:
    return v > 0 && v < 1;
  default:
    return true;
  }
}

} // namespace lenetc
