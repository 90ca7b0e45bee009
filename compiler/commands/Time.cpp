// lenetc time MODEL.nn: the scheduled pipelines timed on this machine (JIT).
#include "commands/Command.h"

#include "tune/Measure.h"

#include <cstdio>
#include <iostream>

namespace lenetc {

void printTimeHelp(std::ostream &os) {
  os << "Usage: lenetc time MODEL.nn [--target T] [--schedule FILE] [--batch N] [--threads N]\n\n"
        "Times the model's training step, inference and one-example inference (always one\n"
        "example) on this machine as lenetc build would schedule them (JIT-compiled, random\n"
        "inputs): the median and fastest of repeated calls. A JIT call has an overhead of its\n"
        "own (~0.1 ms): bench/ times the compiled trainer's pipelines for small calls.\n\n"
        "Options:\n"
        "  --target T          a Halide CPU target (default: host)\n"
        "  --schedule FILE     time this schedule (default: the matching one in schedules/)\n"
        "  --default-schedule  time the default schedule\n"
        "  --batch N           examples per call (default: 256)\n"
        "  --threads N         Halide worker threads (default: all cores)\n"
        "  --samples N         timed calls per pipeline (default: 20)\n"
        "  --profile           print Halide's per-Func profile of each pipeline\n";
}

int runTime(const std::vector<std::string> &args) {
  OutputArgs a;
  int batch = 256, threads = 0, samples = 20;
  bool profile = false;
  auto extra = [&](const std::vector<std::string> &as, size_t &i, std::string &error) {
    if (as[i] == "--profile")
      return profile = true;
    return positiveOption(as, i, "--batch", batch, error) || positiveOption(as, i, "--threads", threads, error) ||
           positiveOption(as, i, "--samples", samples, error);
  };
  if (int rc = parseOutputArgs(args, "time", printTimeHelp, nullptr, a, extra); rc >= 0)
    return rc;
  if (a.target.has_gpu_feature())
    return usageError("time runs on the CPU: give a CPU target", "time ");
  if (!a.output.empty())
    return usageError("time writes no file (it prints its timings): drop -o", "time ");
  if (std::string error; !runsOnThisMachine(a.target, error))
    return usageError(error + " (time runs the pipelines on this machine)", "time ");
  if (threads > 0)
    setJitThreads(threads);
  Compilation c(&std::cerr);
  if (int rc = compileOrFail(c, a.path, Stage::MLIRGrad))
    return rc;
  Halide::Target target = profile ? a.target.with_feature(Halide::Target::Profile) : a.target;
  std::vector<LoweredPipeline> pipelines;
  if (!lowerModule(c.module(), target, a.schedules, pipelines))
    return 1;
  for (auto &p : pipelines) {
    Timing t;
    std::string error;
    int examples = p.fixedBatch ? p.fixedBatch : batch; // infer_one takes one example
    if (!timePipeline(p, examples, samples, t, error)) {
      std::cerr << "lenetc: error: " << p.name << ": " << error << "\n";
      return 1;
    }
    std::printf("%-24s batch %d: median %.3f ms, fastest %.3f ms (%d calls; %.0f examples/s; compiled in %.1f s)\n",
                p.name.c_str(), examples, t.medianMs, t.minMs, t.samples, examples * 1000.0 / t.medianMs,
                t.compileSeconds);
    std::fflush(stdout);
  }
  return 0;
}

} // namespace lenetc
