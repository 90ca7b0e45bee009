// lenetc autotune MODEL.nn -o FILE: a schedule searched for on this machine.
#include "commands/Command.h"

#include "tune/Autotune.h"
#include "tune/Measure.h"

#include <cmath>
#include <cstdlib>
#include <iostream>

namespace lenetc {

void printAutotuneHelp(std::ostream &os) {
  os << "Usage: lenetc autotune MODEL.nn -o FILE.sched [--target T] [--budget 10m]\n\n"
        "Searches the schedule generator's knobs (tile sizes, vector width, task size) for the\n"
        "model's training step, then its inference, by compiling candidates and timing them on\n"
        "this machine (repeated calls alternated with the default schedule's, so that both see\n"
        "the same machine: the median ratio of neighbouring calls), and writes the fastest as\n"
        "a schedule file\n"
        "(one-example inference gets the target's default knobs: JIT timings cannot rank it).\n"
        "The training step is timed as the trainer runs it: one micro-batch (at most 64\n"
        "examples) on one thread, its parallel loops in order; inference on every thread.\n"
        "Each timing is appended to FILE.sched.journal: an interrupted run resumes from it.\n"
        "Then it times, on the same pipelines, every Func at root (naive), Halide's three\n"
        "autoschedulers, the default and the tuned schedule, and prints the table.\n\n"
        "Options:\n"
        "  -o, --output FILE   the schedule to write, e.g. schedules/<model>.<target class>.sched\n"
        "  --target T          a Halide CPU target (default: host)\n"
        "  --budget TIME       the search's time budget: 90s, 10m, 1h (default: 10m)\n"
        "  --batch N           examples per timed inference call; the training step's\n"
        "                      micro-batch is the smaller of N and 64 (default: 256)\n"
        "  --samples N         timed calls per candidate (default: 15)\n"
        "  --threads N         Halide worker threads for inference (default: all cores)\n"
        "  --no-baselines      skip the baseline table\n"
        "  --fresh             ignore the journal of an earlier run\n";
}

namespace {

// "90s", "10m", "1h", "600" -> seconds; -1 when malformed.
double parseDuration(const std::string &text) {
  char *end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !(v > 0) || !std::isfinite(v) || v > 1e7)
    return -1;
  std::string unit(end);
  if (unit.empty() || unit == "s")
    return v;
  if (unit == "m")
    return v * 60;
  if (unit == "h")
    return v * 3600;
  return -1;
}

} // namespace

int runAutotune(const std::vector<std::string> &args) {
  OutputArgs a;
  AutotuneOptions o;
  int threads = 0;
  auto extra = [&](const std::vector<std::string> &as, size_t &i, std::string &error) {
    if (as[i] == "--no-baselines")
      return !(o.baselines = false);
    if (as[i] == "--fresh")
      return o.fresh = true;
    if (as[i] == "--budget") {
      if (i + 1 >= as.size() || (o.budgetSeconds = parseDuration(as[i + 1])) <= 0)
        error = "--budget needs a duration such as 90s, 10m or 1h";
      ++i;
      return true;
    }
    return positiveOption(as, i, "--batch", o.batch, error) || positiveOption(as, i, "--threads", threads, error) ||
           positiveOption(as, i, "--samples", o.samples, error);
  };
  if (int rc = parseOutputArgs(args, "autotune", printAutotuneHelp, "an output schedule: -o FILE.sched", a, extra);
      rc >= 0)
    return rc;
  std::string error;
  if (!a.target.has_gpu_feature() && !runsOnThisMachine(a.target, error))
    return usageError(error + " (autotune times the pipelines on this machine)", "autotune ");
  if (!outputFileUsable(a.output, error))
    return usageError(error, "autotune ");
  if (threads > 0)
    setJitThreads(threads);
  o.output = a.output;
  Compilation c(&std::cerr);
  if (int rc = compileOrFail(c, a.path, Stage::MLIRGrad))
    return rc;
  return autotune(c.module(), a.target, o, std::cerr);
}

} // namespace lenetc
