#include "tune/Autotune.h"

#include "lenetc/ModelInfo.h"

#include "halide/Schedule.h"
#include "tune/Generator.h"
#include "tune/Measure.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

namespace H = Halide;

namespace lenetc {

std::string describeMachine() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  return model + ", " + std::to_string(std::thread::hardware_concurrency()) + " cores";
}

std::string todayUtc() {
  std::time_t t = std::time(nullptr);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&t));
  return buf;
}

namespace {

using Clock = std::chrono::steady_clock;

std::string formatMs(double ms) {
  if (ms < 0)
    return "failed";
  std::ostringstream os;
  os << std::fixed << std::setprecision(2) << ms;
  return os.str();
}

std::string formatDuration(double s) {
  std::ostringstream os;
  int m = static_cast<int>(s) / 60;
  os << m << "m" << std::setw(2) << std::setfill('0') << static_cast<int>(s) % 60 << "s";
  return os.str();
}

// The knob values the search tries, per knob.
struct Knob {
  const char *name;
  int CpuKnobs::*field;
  std::vector<int> values;
};

std::vector<Knob> knobSpace(const CpuKnobs &start) {
  int L = start.lanes;
  std::vector<Knob> space = {
      {"accumulators", &CpuKnobs::accumulators, L >= 16 ? std::vector<int>{8, 12, 16, 20, 24} : std::vector<int>{6, 8, 10, 12, 14}},
      {"denseTileI", &CpuKnobs::denseTileI, {1, 2, 3, 4}},
      {"denseTileU", &CpuKnobs::denseTileU, {2, 3, 4, 6, 8}},
      {"gradInRows", &CpuKnobs::gradInRows, {1, 2, 3}},
      {"batchTask", &CpuKnobs::batchTask, {1, 2, 4, 8, 16}},
      {"lanes", &CpuKnobs::lanes, {L, L / 2}},
  };
  return space;
}

class Tuner {
public:
  Tuner(mlir::ModuleOp module, const H::Target &target, const AutotuneOptions &o, std::ostream &log)
      : module_(module), target_(target), o_(o), log_(log), journalPath_(o.output + ".journal") {}

  int run() {
    model_ = modelNameOf(module_);
    targetClass_ = scheduleTargetClass(target_, false);
    if (!loadJournal())
      return 1;
    journal_.open(journalPath_, std::ios::app);
    if (!journal_) {
      log_ << "lenetc: error: cannot write the journal '" << journalPath_ << "'\n";
      return 1;
    }
    if (journalEmpty_)
      journal_ << journalHeader() << "\n";
    log_ << "autotune " << model_ << " for " << targetClass_ << " on " << describeMachine() << ": " << conditions()
         << ", budget " << formatDuration(o_.budgetSeconds) << ", " << o_.samples
         << " calls per candidate alternated with the default schedule's (the median ratio of neighbouring calls)"
         << (measured_.empty() ? "" : ", resuming (" + std::to_string(measured_.size()) + " candidates measured)") << "\n";
    start_ = Clock::now();
    // Most of the budget goes to the training step, the rest to inference.
    CpuKnobs bestTrain = search("train_step", o_.budgetSeconds * 0.75);
    CpuKnobs bestInfer = search("infer", o_.budgetSeconds);
    if (!writeSchedule(bestTrain, bestInfer))
      return 1;
    if (o_.baselines) {
      printBaselines(bestTrain, bestInfer);
      // The baselines' calls of the reference may find it faster than the search did (a
      // slow spell during the search): the header is rewritten in the units of the table.
      if (!writeSchedule(bestTrain, bestInfer))
        return 1;
    }
    return 0;
  }

private:
  // The training step is timed as the trainer runs a batch on a CPU: in micro-batches of at
  // most kMicroBatch, one per thread, each call's parallel loops in order on its thread
  // (runtime/src/MicroBatch.h); so one call of one micro-batch, serially. Inference as
  // evaluation runs it: whole batches on every thread.
  int batchOf(const std::string &key) const {
    return key == "train_step" ? static_cast<int>(std::min<int64_t>(o_.batch, kMicroBatch)) : o_.batch;
  }
  bool serialOf(const std::string &key) const { return key == "train_step"; }
  std::string conditions() const {
    return "train_step batch " + std::to_string(batchOf("train_step")) + " on one thread, infer batch " +
           std::to_string(batchOf("infer")) + " on " + std::to_string(std::thread::hardware_concurrency()) + " threads";
  }
  std::string journalHeader() const {
    return "# lenetc autotune journal: " + model_ + " " + targetClass_ + " " + conditions() + " vs default";
  }

  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  bool loadJournal() {
    if (o_.fresh)
      std::filesystem::remove(journalPath_);
    std::ifstream in(journalPath_);
    if (!in)
      return true;
    std::string line;
    int lineNo = 0;
    while (std::getline(in, line)) {
      ++lineNo;
      if (line.empty())
        continue;
      journalEmpty_ = false;
      if (line[0] == '#') {
        if (lineNo == 1 && line != journalHeader()) {
          log_ << "lenetc: error: '" << journalPath_ << "' is the journal of another search (" << line.substr(2)
               << "): remove it or pass --fresh\n";
          return false;
        }
        continue;
      }
      std::istringstream fields(line);
      std::string key, knobs, ms;
      if (!std::getline(fields, key, '\t') || !std::getline(fields, knobs, '\t') || !std::getline(fields, ms)) {
        log_ << journalPath_ << ":" << lineNo << ": warning: unreadable line skipped\n";
        continue;
      }
      measured_[key + "\t" + knobs] = std::stod(ms);
    }
    return true;
  }

  // Lowers the model afresh (Funcs take one schedule each) and returns the pipeline `key`.
  bool lowerFresh(const std::string &key, LoweredPipeline &out) {
    ScheduleOptions none;
    none.unscheduled = true;
    std::vector<LoweredPipeline> pipelines;
    if (!lowerModule(module_, target_, none, pipelines))
      return false;
    for (auto &p : pipelines)
      if (pipelineKey(p.name) == key) {
        out = std::move(p);
        return true;
      }
    return false;
  }

  // The time of one candidate schedule, or -1 when it fails: its fastest call. On a shared
  // machine other work only ever slows a call down, and the median of a few calls moved by
  // 15% between identical runs here, more than most knobs change. Once the pipeline has a
  // reference (the default schedule, compiled and kept), a candidate's calls alternate with
  // the reference's and its time is their ratio times the reference's first timing: every
  // number of one run is then in the same conditions' units.
  double measure(const std::string &key, const std::function<bool(LoweredPipeline &)> &schedule, std::string &error) {
    LoweredPipeline p;
    if (!lowerFresh(key, p)) {
      error = "cannot lower the model";
      return -1;
    }
    try {
      if (!schedule(p)) {
        error = "the schedule does not apply";
        return -1;
      }
      auto ref = reference_.find(key);
      if (ref == reference_.end()) {
        Timing t;
        if (!timePipeline(p, batchOf(key), o_.samples, t, error, serialOf(key)))
          return -1;
        return t.minMs;
      }
      CompiledPipeline candidate(std::move(p), batchOf(key), serialOf(key));
      double &fastest = referenceFastest_.emplace(key, initial_.at(key)).first->second;
      return timeRatio(candidate, *ref->second, o_.samples, &fastest) * initial_.at(key);
    } catch (const H::Error &e) {
      error = e.what();
      return -1;
    }
  }

  // A time of the search (in the units of the reference's first timing) in those of the
  // reference's fastest call of the run: the first timing may fall in a slow spell (17.3
  // ms where the same schedule's calls later took 10), and the search's ratios hold anyway.
  double inFastestUnits(const std::string &key, double ms) const {
    auto f = referenceFastest_.find(key);
    auto i = initial_.find(key);
    if (ms <= 0 || f == referenceFastest_.end() || i == initial_.end() || i->second <= 0)
      return ms;
    return ms * std::min(1.0, f->second / i->second);
  }

  // Compiles the default schedule of `key` as the reference later timings alternate with.
  bool setReference(const std::string &key, const CpuKnobs &k) {
    LoweredPipeline p;
    if (!lowerFresh(key, p) || !applyKnobs(p, k, key))
      return false;
    try {
      reference_[key] = std::make_unique<CompiledPipeline>(std::move(p), batchOf(key), serialOf(key));
    } catch (const H::Error &e) {
      log_ << "lenetc: warning: the reference of " << key << " does not run: " << e.what() << "\n";
      return false;
    }
    return true;
  }

  double measureKnobs(const std::string &key, const CpuKnobs &k) {
    std::string id = key + "\t" + k.describe();
    if (auto it = measured_.find(id); it != measured_.end())
      return it->second;
    std::string error;
    double ms = measure(key, [&](LoweredPipeline &p) { return applyKnobs(p, k, key); }, error);
    measured_[id] = ms;
    journal_ << id << "\t" << ms << "\n" << std::flush;
    return ms;
  }

  bool applyKnobs(LoweredPipeline &p, const CpuKnobs &k, const std::string &key) {
    return applyStages("<candidate>", generateCpuSchedule(p, k), p, nullptr);
  }

  std::map<std::string, std::string> header(const std::string &measuredText = "(searching)") const {
    return {{"model", model_},     {"target", targetClass_},   {"machine", describeMachine()},
            {"date", todayUtc()},     {"measured", measuredText}};
  }

  // Coordinate descent from the target's default knobs: each knob in turn takes the value
  // that times fastest with the others fixed, until a whole pass finds nothing faster or
  // the budget (seconds since the start) runs out.
  CpuKnobs search(const std::string &key, double until) {
    CpuKnobs best = defaultCpuKnobs(target_);
    double bestMs = measureKnobs(key, best);
    report(key, best, bestMs, bestMs);
    if (bestMs < 0) {
      log_ << "lenetc: warning: the default schedule of " << key << " failed to run\n";
      return best;
    }
    initial_[key] = bestMs;
    setReference(key, best);
    // Resuming: go on from the fastest candidate the journal knows.
    for (const auto &[id, ms] : measured_) {
      CpuKnobs k;
      if (id.compare(0, key.size() + 1, key + "\t") == 0 && ms > 0 && ms < bestMs &&
          k.parse(id.substr(key.size() + 1))) {
        best = k;
        bestMs = ms;
      }
    }
    std::vector<Knob> space = knobSpace(best);
    for (bool improved = true; improved;) {
      improved = false;
      for (const Knob &knob : space)
        for (int v : knob.values) {
          if (elapsed() > until) {
            log_ << "  " << key << ": budget spent; best " << formatMs(bestMs) << " ms\n";
            best_[key] = bestMs;
            return best;
          }
          CpuKnobs c = best;
          c.*knob.field = v;
          if (c.describe() == best.describe())
            continue;
          double ms = measureKnobs(key, c);
          report(key, c, ms, bestMs);
          if (ms > 0 && ms < bestMs * 0.99) {
            best = c;
            bestMs = ms;
            improved = true;
          }
        }
    }
    log_ << "  " << key << ": converged (no knob makes it faster); best " << formatMs(bestMs) << " ms\n";
    best_[key] = bestMs;
    return best;
  }

  void report(const std::string &key, const CpuKnobs &k, double ms, double bestMs) {
    log_ << "  [" << formatDuration(elapsed()) << "/" << formatDuration(o_.budgetSeconds) << "] " << key << " "
         << k.describe() << ": " << formatMs(ms) << " ms" << (ms > 0 && ms < bestMs * 0.99 ? "  (new best)" : "")
         << "\n" << std::flush;
  }

  bool writeSchedule(const CpuKnobs &train, const CpuKnobs &infer) {
    LoweredPipeline pt, pi, po;
    if (!lowerFresh("train_step", pt) || !lowerFresh("infer", pi) || !lowerFresh("infer_one", po))
      return false;
    std::ostringstream measured;
    measured << "train_step " << formatMs(inFastestUnits("train_step", best_["train_step"])) << " ms, infer "
             << formatMs(inFastestUnits("infer", best_["infer"]))
             << " ms (" << conditions() << "; " << o_.samples << " calls alternated with the default's)";
    std::string comment = "Written by lenetc autotune (" + std::to_string(measured_.size()) +
                          " candidates measured).\ntrain_step knobs: " + train.describe() +
                          "\ninfer knobs: " + infer.describe() +
                          "\ninfer_one: the target's default knobs, not searched (a JIT call's own overhead is"
                          "\nseveral times one example's work; bench/ measures it AOT)";
    std::string text = formatSchedule(header(measured.str()),
                                      {{"train_step", generateCpuSchedule(pt, train)},
                                       {"infer", generateCpuSchedule(pi, infer)},
                                       {"infer_one", generateCpuSchedule(po, defaultCpuKnobs(target_))}},
                                      comment);
    // Written beside the target and renamed over it: an interrupted run leaves the old file.
    std::string tmp = o_.output + ".tmp";
    {
      std::ofstream out(tmp);
      out << text;
      if (!out.flush()) {
        log_ << "lenetc: error: cannot write '" << tmp << "'\n";
        return false;
      }
    }
    std::error_code renamed;
    std::filesystem::rename(tmp, o_.output, renamed);
    if (renamed) {
      log_ << "lenetc: error: cannot write '" << o_.output << "': " << renamed.message() << "\n";
      std::filesystem::remove(tmp, renamed);
      return false;
    }
    log_ << "wrote " << o_.output << ": train_step " << formatMs(inFastestUnits("train_step", best_["train_step"]))
         << " ms (default " << formatMs(inFastestUnits("train_step", initial_["train_step"])) << "), infer "
         << formatMs(inFastestUnits("infer", best_["infer"])) << " ms (default "
         << formatMs(inFastestUnits("infer", initial_["infer"])) << ")\n";
    return true;
  }

  // Halide 14's autoschedulers on the same pipelines, with estimates at the tuning batch.
  double autoscheduled(const std::string &key, const std::string &name, std::string &error) {
    static bool loaded = false;
    if (!loaded) {
      for (const char *lib : {"mullapudi2016", "adams2019", "li2018"})
        H::load_plugin(std::string(LENETC_HALIDE_PLUGIN_DIR) + "/libautoschedule_" + lib + ".so");
      loaded = true;
    }
    return measure(key, [&](LoweredPipeline &p) {
      for (size_t i = 0; i < p.inputs.size(); ++i)
        for (size_t d = 0; d < p.inputExtents[i].size(); ++d)
          if (p.inputExtents[i][d] < 0)
            p.inputs[i].dim(static_cast<int>(d)).set_estimate(0, batchOf(key));
      for (size_t i = 0; i < p.outputs.size(); ++i)
        for (size_t d = 0; d < p.outputExtents[i].size(); ++d)
          if (p.outputExtents[i][d] < 0)
            p.outputs[i].output_buffer().dim(static_cast<int>(d)).set_estimate(0, batchOf(key));
      // Every core, even for a step timed on one: told of one core, Adams2019 stopped
      // scheduling LeNet-5's step ("Can only unroll for loops over a constant extent").
      H::MachineParams machine(static_cast<int>(std::thread::hardware_concurrency()), 32 * 1024 * 1024, 40);
      p.pipeline().auto_schedule(name, p.target, machine);
      return true;
    }, error);
  }

  void printBaselines(const CpuKnobs &train, const CpuKnobs &infer) {
    log_ << "\nbaselines (the same pipelines, " << conditions() << "; " << o_.samples
         << " calls alternated with the default schedule's; the table in the units of its fastest call):\n";
    // Adams2019's default beam search takes minutes on a training step: greedy here.
    setenv("HL_BEAM_SIZE", "1", 0);
    struct Row {
      std::string name;
      double ms[2];
    };
    std::vector<Row> rows;
    const char *keys[2] = {"train_step", "infer"};
    auto add = [&](const std::string &name, auto time) {
      Row r{name, {0, 0}};
      for (int i = 0; i < 2; ++i) {
        std::string error;
        r.ms[i] = time(keys[i], error);
        if (r.ms[i] < 0)
          log_ << "  " << name << " " << keys[i] << ": " << error.substr(0, 200) << "\n";
      }
      rows.push_back(r);
      log_ << "  " << std::left << std::setw(30) << name << " " << formatMs(r.ms[0]) << ", " << formatMs(r.ms[1]) << " (ms: train_step, infer)\n"
           << std::flush;
    };
    add("naive (every Func at root)", [&](const std::string &key, std::string &error) {
      return measure(key, [&](LoweredPipeline &p) {
        return applyStages("<naive>", {}, p, nullptr);
      }, error);
    });
    for (const char *a : {"Mullapudi2016", "Adams2019", "Li2018"})
      add(std::string(a) + (std::string(a) == "Adams2019" ? " (greedy)" : ""),
          [&](const std::string &key, std::string &error) { return autoscheduled(key, a, error); });
    add("default (generated)", [&](const std::string &key, std::string &) { return initial_[key]; });
    add("tuned (" + o_.output + ")", [&](const std::string &key, std::string &) {
      return measureKnobs(key, key == std::string("train_step") ? train : infer);
    });
    log_ << "\n| schedule | train_step ms | infer ms |\n|---|---|---|\n";
    for (const auto &r : rows)
      log_ << "| " << r.name << " | " << formatMs(inFastestUnits(keys[0], r.ms[0])) << " | "
           << formatMs(inFastestUnits(keys[1], r.ms[1])) << " |\n";
  }

  mlir::ModuleOp module_;
  H::Target target_;
  const AutotuneOptions &o_;
  std::ostream &log_;
  std::string journalPath_, model_, targetClass_;
  std::ofstream journal_;
  bool journalEmpty_ = true;
  std::map<std::string, double> measured_, best_, initial_;
  std::map<std::string, std::unique_ptr<CompiledPipeline>> reference_; // by pipeline key
  std::map<std::string, double> referenceFastest_;                      // its fastest call
  Clock::time_point start_;
};

} // namespace

int autotune(mlir::ModuleOp module, const H::Target &target, const AutotuneOptions &options, std::ostream &log) {
  if (target.has_gpu_feature()) {
    log << "lenetc: error: autotune times schedules on this machine's CPU: there is no GPU to time a GPU "
           "schedule on (give a CPU target)\n";
    return 2;
  }
  return Tuner(module, target, options, log).run();
}

} // namespace lenetc
