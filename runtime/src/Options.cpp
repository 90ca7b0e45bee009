#include "Options.h"

#include "Error.h"
#include "lenetc/TrainSettings.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>

namespace lenetc {

namespace {

std::string shortNumber(double v) { return fmt::format("{:g}", v); }

int64_t parseInt(const std::string &flag, const std::string &v, int64_t min) {
  char *end = nullptr;
  errno = 0;
  long long n = std::strtoll(v.c_str(), &end, 10);
  const int64_t max = int64_t(1) << 40;
  if (v.empty() || *end || n < min)
    throw UsageError(flag + " needs an integer >= " + std::to_string(min) + ", got '" + v + "'");
  if (errno == ERANGE || n > max)
    throw UsageError(flag + " needs an integer no larger than 2^40 (" + std::to_string(max) + "), got '" + v +
                     "'");
  return n;
}

// A number in [0, 1): a decay rate (Adam's betas, RMSprop's rho).
// A limit on a set's size: a count, or "all" (-1).
int64_t parseLimit(const std::string &flag, const std::string &v) { return v == "all" ? -1 : parseInt(flag, v, 1); }

// A plateau's factor: it must reduce the rate (Keras rejects a factor >= 1 too).
double parseFactor(const std::string &flag, const std::string &v) {
  char *end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || !(d > 0 && d < 1))
    throw UsageError(flag + " needs a number in (0, 1), got '" + v + "'");
  return d;
}

double parseRate(const std::string &flag, const std::string &v) {
  char *end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || !(d >= 0 && d < 1))
    throw UsageError(flag + " needs a number in [0, 1), got '" + v + "'");
  return d;
}

double parseFloat(const std::string &flag, const std::string &v, double min, bool strict) {
  char *end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || !std::isfinite(d) || d < min || (strict && d == min))
    throw UsageError(flag + " needs a number " + (strict ? "> " : ">= ") + shortNumber(min) + ", got '" + v + "'");
  return d;
}

std::string parseWord(const std::string &flag, const std::string &v,
                      const std::vector<std::string> &allowed) {
  for (const auto &a : allowed)
    if (v == a)
      return v;
  std::string list;
  for (const auto &a : allowed)
    list += (list.empty() ? "" : ", ") + a;
  throw UsageError(flag + " must be one of " + list + ", got '" + v + "'");
}

// A train setting's flag and value, checked against its entry in lenetc/TrainSettings.h.
const TrainSettingSpec &spec(const std::string &flag) {
  const TrainSettingSpec *s = findTrainSetting(flag);
  if (!s)
    throw std::logic_error("no train setting " + flag);
  return *s;
}
int64_t integerSetting(const std::string &flag, const std::string &v) {
  return parseInt(flag, v, spec(flag).range == SettingRange::Positive ? 1 : 0);
}
double numberSetting(const std::string &flag, const std::string &v) {
  switch (spec(flag).range) {
  case SettingRange::Rate:
    return parseRate(flag, v);
  case SettingRange::Fraction:
    return parseFactor(flag, v);
  default:
    return parseFloat(flag, v, 0, spec(flag).range == SettingRange::Above0);
  }
}
std::string wordSetting(const std::string &flag, const std::string &v) { return parseWord(flag, v, spec(flag).choices); }

void printHelp(const ModelInfo &m, const std::string &prog) {
  const TrainDefaults &d = m.defaults;
  fmt::print(
      "Usage: {} [OPTIONS]                      train, evaluating each epoch\n"
      "       {} --eval [--checkpoint FILE | --init-from FILE] [--outputs FILE.csv]\n"
      "                                         evaluate a checkpoint (or weights) on the test set\n"
      "       {} predict IMAGE [--checkpoint FILE | --init-from FILE]\n"
      "                                         class probabilities of a 28x28 .pgm or .png\n"
      "       {} report [--checkpoint FILE] [-o FILE.html]   the run report of a checkpoint\n"
      "       {} export FILE.onnx [--checkpoint FILE | --init-from FILE]\n"
      "                                         the inference graph as ONNX (opset 13): output\n"
      "                                         'logits', the class scores before softmax\n\n"
      "Trains {}, compiled by lenetc from {} ({} parameter tensors). Defaults come from the\n"
      "model's train block; every flag overrides them.\n\n"
      "Data:\n"
      "  --data NAME|DIR         fashion-mnist, mnist, or a directory of IDX files (default: {})\n"
      "  --val N                 hold out the last N training examples for validation (default: {})\n"
      "  --limit-train N         train on the first N training examples only (default: all)\n"
      "  --limit-test N          evaluate on the first N test examples only (default: all)\n"
      "  --normalize unit|lecun  pixels in [0,1], or background -0.1 / ink 1.175 (default: {})\n\n"
      "Training:\n"
      "  --epochs N              (default: {})\n"
      "  --batch N               (default: {})\n"
      "  --seed N                initialisation and shuffling (default: {})\n"
      "  --init xavier_uniform|lecun_uniform   weights (default: {})\n"
      "  --bias-init zero|fan_in_uniform       biases: zero, or PyTorch's uniform +-1/sqrt(fan-in)\n"
      "                          (default: {})\n"
      "  --optimizer sgd|adam|rmsprop          (default: {})\n"
      "  --lr X                  learning rate (default: {})\n"
      "  --momentum X            sgd, rmsprop (default: {})\n"
      "  --nesterov              Nesterov momentum for sgd (default: {})\n"
      "  --beta1 X, --beta2 X    adam (default: {}, {})\n"
      "  --rho X                 rmsprop (default: {})\n"
      "  --eps X                 adam, rmsprop (default: {})\n"
      "  --weight-decay X        L2 penalty added to the gradient (default: {})\n"
      "  --init-from FILE        start from these parameters: a weights file (lenetc import) or\n"
      "                          another run's checkpoint; the optimizer starts afresh (fine-tuning)\n"
      "  --ghost-batch-norm      batchnorm: normalize each micro-batch of {} by its own statistics\n"
      "                          (\"ghost batch norm\": faster on several threads; default: over\n"
      "                          the whole batch, as PyTorch)\n"
      "  --lr-schedule constant|step|plateau   (default: {})\n"
      "  --step-every N, --step-gamma X        step: lr *= gamma every N epochs (default: {}, {})\n"
      "  --plateau-factor X, --plateau-patience N, --min-lr X\n"
      "                          plateau (Keras' ReduceLROnPlateau): lr *= factor after N\n"
      "                          epochs without a validation (or training) loss better by\n"
      "                          1e-4 (default: {}, {}, {})\n\n"
      "Output:\n"
      "  --checkpoint FILE       saved after every epoch, atomically (default: {}.ckpt)\n"
      "  --no-checkpoint         save none\n"
      "  --resume                continue from the checkpoint where it stopped, with the\n"
      "                          settings it keeps (a flag may repeat them, not change them)\n"
      "  --metrics FILE.csv      per-epoch metrics\n"
      "  --plot FILE.svg         loss and accuracy curves\n"
      "  --report FILE.html      the run report, one page rewritten after every epoch: curves,\n"
      "                          confusion matrix, the test images most wrong, the first\n"
      "                          layer's filters (default: the checkpoint's name with .html)\n"
      "  --no-report             write none\n"
      "  --outputs FILE.csv      --eval: each test example's label, predicted class and class\n"
      "                          probabilities, one line each\n"
      "  --threads N             worker threads (default: all cores)\n"
      "  --device auto|cpu|gpu   (default: auto)\n"
      "  --quiet                 no progress bar\n"
      "  -h, --help\n\n"
      "Exit status: 0 success, 1 an error (data, checkpoint, I/O), 2 a bad command line,\n"
      "3 training diverged (the last good checkpoint is kept).\n",
      prog, prog, prog, prog, prog, m.name, m.source, m.numParams,
      std::string(d.data) == "fashion_mnist" ? "fashion-mnist" : d.data, d.val,
      d.normalize, d.epochs, d.batch, d.seed, d.init, d.biasInit, d.optimizer,
      shortNumber(d.lr), shortNumber(d.momentum), d.nesterov ? "on" : "off", shortNumber(d.beta1),
      shortNumber(d.beta2), shortNumber(d.rho), shortNumber(d.eps), shortNumber(d.weightDecay),
      kMicroBatch, d.lrSchedule,
      d.stepEvery, shortNumber(d.stepGamma), shortNumber(d.plateauFactor),
      d.plateauPatience, shortNumber(d.minLr), m.name);
}

using Setter = std::function<void(const std::string &)>;

// The flags that take a value, each setting its part of `o`.
std::map<std::string, Setter> valueFlags(Options &o) {
  return {
      {"--data", [&](const std::string &v) { o.data = v; }},
      {"--val", [&](const std::string &v) { o.val = integerSetting("--val", v); }},
      {"--limit-train", [&](const std::string &v) { o.limitTrain = parseLimit("--limit-train", v); }},
      {"--limit-test", [&](const std::string &v) { o.limitTest = parseLimit("--limit-test", v); }},
      {"--normalize",
       [&](const std::string &v) {
         o.normalize = wordSetting("--normalize", v);
       }},
      {"--epochs", [&](const std::string &v) { o.epochs = integerSetting("--epochs", v); }},
      {"--batch", [&](const std::string &v) { o.batch = integerSetting("--batch", v); }},
      {"--seed", [&](const std::string &v) { o.seed = integerSetting("--seed", v); }},
      {"--init",
       [&](const std::string &v) {
         o.init = wordSetting("--init", v);
       }},
      {"--bias-init",
       [&](const std::string &v) {
         o.biasInit = wordSetting("--bias-init", v);
       }},
      {"--optimizer",
       [&](const std::string &v) {
         o.optimizer.name = wordSetting("--optimizer", v);
       }},
      {"--lr", [&](const std::string &v) { o.optimizer.lr = numberSetting("--lr", v); }},
      {"--momentum",
       [&](const std::string &v) { o.optimizer.momentum = numberSetting("--momentum", v); }},
      {"--beta1", [&](const std::string &v) { o.optimizer.beta1 = numberSetting("--beta1", v); }},
      {"--beta2", [&](const std::string &v) { o.optimizer.beta2 = numberSetting("--beta2", v); }},
      {"--rho", [&](const std::string &v) { o.optimizer.rho = numberSetting("--rho", v); }},
      {"--eps", [&](const std::string &v) { o.optimizer.eps = numberSetting("--eps", v); }},
      {"--weight-decay",
       [&](const std::string &v) { o.optimizer.weightDecay = numberSetting("--weight-decay", v); }},
      {"--lr-schedule",
       [&](const std::string &v) {
         o.schedule.name = wordSetting("--lr-schedule", v);
       }},
      {"--step-every", [&](const std::string &v) { o.schedule.every = integerSetting("--step-every", v); }},
      {"--step-gamma",
       [&](const std::string &v) { o.schedule.gamma = numberSetting("--step-gamma", v); }},
      {"--plateau-factor",
       [&](const std::string &v) { o.schedule.factor = numberSetting("--plateau-factor", v); }},
      {"--plateau-patience",
       [&](const std::string &v) { o.schedule.patience = integerSetting("--plateau-patience", v); }},
      {"--min-lr", [&](const std::string &v) { o.schedule.minLr = numberSetting("--min-lr", v); }},
      {"--checkpoint", [&](const std::string &v) { o.checkpoint = v; }},
      {"--init-from", [&](const std::string &v) { o.initFrom = v; }},
      {"--outputs", [&](const std::string &v) { o.outputs = v; }},
      {"--metrics", [&](const std::string &v) { o.metrics = v; }},
      {"--plot", [&](const std::string &v) { o.plot = v; }},
      {"--report", [&](const std::string &v) { o.report = v; }},
      {"--threads",
       [&](const std::string &v) {
         o.threads = static_cast<int>(std::min<int64_t>(parseInt("--threads", v, 1), 1024));
       }},
      {"--device",
       [&](const std::string &v) {
         o.device = parseWord("--device", v, {"auto", "cpu", "gpu"});
       }},
  };
}

// The flags without a value.
std::map<std::string, std::function<void()>> switchFlags(Options &o) {
  return {
      {"--nesterov", [&] { o.optimizer.nesterov = true; }},
      {"--ghost-batch-norm", [&] { o.ghostBatchNorm = true; }},
      {"--no-checkpoint", [&] { o.checkpoint.clear(); }},
      {"--resume", [&] { o.resume = true; }},
      {"--eval", [&] { o.eval = true; }},
      {"--quiet", [&] { o.quiet = true; }},
      {"--no-report", [&] { o.report.clear(); }},
  };
}

} // namespace

bool parseOptions(const ModelInfo &m, int argc, char **argv, Options &o) {
  const TrainDefaults &d = m.defaults;
  o.data = d.data;
  o.val = d.val;
  o.epochs = d.epochs;
  o.batch = d.batch;
  o.seed = d.seed;
  o.init = d.init;
  o.biasInit = d.biasInit;
  o.normalize = d.normalize;
  o.optimizer = {d.optimizer, d.lr, d.momentum, d.beta1, d.beta2, d.eps, d.rho, d.weightDecay, d.nesterov};
  o.schedule = {d.lrSchedule, d.stepEvery, d.stepGamma, d.plateauFactor, d.minLr, d.plateauPatience};
  o.checkpoint = std::string(m.name) + ".ckpt";
  std::string prog = argc > 0 ? argv[0] : m.name;
  if (size_t slash = prog.rfind('/'); slash != std::string::npos)
    prog = prog.substr(slash + 1);

  const auto withValue = valueFlags(o);
  const auto switches = switchFlags(o);

  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      printHelp(m, prog);
      return false;
    }
    if (i == 1 && (a == "predict" || a == "report" || a == "export")) {
      o.command = a;
      continue;
    }
    if (o.command == "report" && (a == "-o" || a == "--output")) {
      if (i + 1 >= argc)
        throw UsageError(a + " needs a file");
      o.report = argv[++i];
      o.given.insert("--report");
      continue;
    }
    if (a.rfind("--", 0) != 0) {
      if ((o.command == "predict" || o.command == "export") && o.image.empty()) {
        o.image = a;
        continue;
      }
      throw UsageError("unexpected argument '" + a + "'");
    }
    std::string value;
    bool inlineValue = false;
    if (size_t eq = a.find('='); eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      inlineValue = true;
    }
    if (auto s = switches.find(a); s != switches.end()) {
      if (inlineValue)
        throw UsageError(a + " takes no value");
      s->second();
    } else if (auto f = withValue.find(a); f != withValue.end()) {
      if (!inlineValue) {
        if (i + 1 >= argc)
          throw UsageError(a + " needs a value");
        value = argv[++i];
      }
      f->second(value);
    } else {
      throw UsageError("unknown option '" + a + "' (see --help)");
    }
    o.given.insert(a);
  }
  if (o.command == "predict" && o.image.empty())
    throw UsageError("predict needs an image: predict IMAGE.pgm|IMAGE.png");
  if (o.command == "export" && o.image.empty())
    throw UsageError("export needs an output file: export FILE.onnx");
  if (!o.initFrom.empty() && (o.resume || o.command == "report"))
    throw UsageError("--init-from starts from a file's parameters; --resume and report read a checkpoint "
                     "(--checkpoint FILE)");
  if (!o.outputs.empty() && !o.eval)
    throw UsageError("--outputs writes --eval's answers: give --eval");
  auto samePath = [](const std::string &a, const std::string &b) {
    std::error_code ec;
    return !b.empty() && std::filesystem::weakly_canonical(a, ec) == std::filesystem::weakly_canonical(b, ec);
  };
  for (const auto &[path, what] : {std::pair{o.outputs, "--outputs"}, {o.command == "export" ? o.image : "", "export"}})
    if (!path.empty() && (samePath(path, o.checkpoint) || samePath(path, o.initFrom)))
      throw UsageError(std::string(what) + " '" + path + "' would overwrite the parameters it reads; name another file");
  if (o.initFrom.empty() && (o.resume || o.eval || o.command != "train") && o.checkpoint.empty())
    throw UsageError("--resume, --eval, predict, report and export need a checkpoint (--checkpoint FILE)");
  // The report follows the checkpoint unless --report or --no-report said otherwise.
  if (!o.given.count("--report") && !o.given.count("--no-report") && !o.checkpoint.empty())
    o.report = std::filesystem::path(o.checkpoint).replace_extension(".html").string();
  if (!o.report.empty() && o.report == o.checkpoint) {
    if (o.given.count("--report"))
      throw UsageError("--report '" + o.report + "' is the checkpoint; name another file");
    o.report += ".html";
  }
  if (o.command == "report" && o.report.empty())
    throw UsageError("report needs an output file (-o FILE.html)");
  return true;
}

namespace {
// A double as the shortest text that reads back as the same double.
std::string exact(double v) {
  char buf[40];
  for (int digits = 6; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v)
      break;
  }
  return buf;
}
} // namespace

std::vector<std::pair<std::string, std::string>> runSettings(const Options &o) {
  auto count = [](int64_t n) { return n < 0 ? std::string("all") : std::to_string(n); };
  return {
      {"--val", count(o.val)},
      {"--limit-train", count(o.limitTrain)},
      {"--normalize", o.normalize},
      {"--batch", count(o.batch)},
      {"--seed", count(o.seed)},
      {"--init", o.init},
      {"--bias-init", o.biasInit},
      {"--optimizer", o.optimizer.name},
      {"--lr", exact(o.optimizer.lr)},
      {"--momentum", exact(o.optimizer.momentum)},
      {"--nesterov", o.optimizer.nesterov ? "on" : "off"},
      {"--ghost-batch-norm", o.ghostBatchNorm ? "on" : "off"},
      {"--beta1", exact(o.optimizer.beta1)},
      {"--beta2", exact(o.optimizer.beta2)},
      {"--rho", exact(o.optimizer.rho)},
      {"--eps", exact(o.optimizer.eps)},
      {"--weight-decay", exact(o.optimizer.weightDecay)},
      {"--lr-schedule", o.schedule.name},
      {"--step-every", count(o.schedule.every)},
      {"--step-gamma", exact(o.schedule.gamma)},
      {"--plateau-factor", exact(o.schedule.factor)},
      {"--plateau-patience", count(o.schedule.patience)},
      {"--min-lr", exact(o.schedule.minLr)},
  };
}

void adoptRunSettings(Options &o, const std::vector<std::pair<std::string, std::string>> &saved,
                      const std::string &checkpoint) {
  std::map<std::string, std::string> now;
  for (const auto &[flag, value] : runSettings(o))
    now[flag] = value;
  const auto setters = valueFlags(o);
  std::string conflicts;
  for (const auto &[flag, value] : saved) {
    auto current = now.find(flag);
    if (current == now.end() || current->second == value)
      continue; // a setting this trainer does not know (a newer one's), or the same
    if (o.given.count(flag)) {
      conflicts += (conflicts.empty() ? "" : ", ") + flag + " " + value + " (this command line: " + flag + " " +
                   current->second + ")";
    } else if (flag == "--nesterov") {
      o.optimizer.nesterov = value == "on";
    } else if (flag == "--ghost-batch-norm") {
      o.ghostBatchNorm = value == "on";
    } else if (auto set = setters.find(flag); set != setters.end()) {
      try {
        set->second(value);
      } catch (const UsageError &) {
        throw Error("checkpoint '" + checkpoint + "' is damaged (its setting " + flag + " " + value + ")");
      }
    }
  }
  if (!conflicts.empty())
    throw UsageError("checkpoint '" + checkpoint + "' was trained with " + conflicts +
                     "; a checkpoint goes on with the settings it was trained with: drop those flags (to change them, "
                     "train afresh)");
}

} // namespace lenetc
