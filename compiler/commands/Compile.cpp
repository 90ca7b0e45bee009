// lenetc compile MODEL.nn -o DIR: the pipelines ahead of time, with the model's glue.
#include "commands/Command.h"

#include "tools/Glue.h"

#include <iostream>

namespace lenetc {

void printCompileHelp(std::ostream &os) {
  os << "Usage: lenetc compile MODEL.nn -o DIR [--target T] [--schedule FILE] [--distributed mpi]\n\n"
        "Derives the training step, lowers it and the inference function to Halide with the\n"
        "schedule that matches the model and target (schedules/<model>.<target class>.sched,\n"
        "else the default schedule), and compiles them ahead of time into DIR:\n"
        "  <model>_train_step.a/.h   x, labels, parameters -> loss, correct count, gradients\n"
        "  <model>_infer.a/.h        x, parameters -> class probabilities\n"
        "  <model>_infer_one.a/.h    the same for exactly one example, scheduled for latency\n"
        "  <model>_runtime.a         the Halide runtime they share\n"
        "  <model>_model.cpp         the model's description for the runtime (lenetc::ModelInfo)\n"
        "Nothing of Halide's compiler or LLVM is needed to link or run them.\n\n"
        "Options:\n"
        "  -o, --output DIR   where to write the libraries (required)\n"
        "  --target T         a Halide target (default: host, this machine's CPU)\n"
        "  --schedule FILE    a schedule file (docs/schedules.md); given twice, one for the CPU\n"
        "                     and one for the GPU variant. Default: the matching file in\n"
        "                     " << defaultScheduleDirectory() << "\n"
        "  --default-schedule ignore tuned schedules: use the default schedule\n"
        "  --distributed mpi  <model>_main.cpp for a trainer that runs under mpirun (link it with\n"
        "                     lenetc_runtime_mpi and MPI)\n";
}

int runCompile(const std::vector<std::string> &args) {
  OutputArgs a;
  bool mpi = false;
  auto distributed = [&](const std::vector<std::string> &all, size_t &i, std::string &error) {
    return distributedOption(all, i, mpi, error);
  };
  if (int rc = parseOutputArgs(args, "compile", printCompileHelp, "an output directory: -o DIR", a, distributed);
      rc >= 0)
    return rc;
  std::string model;
  return compileInto(a.path, a.output, a.target, a.schedules, model, true, mpi);
}

} // namespace lenetc
