// lenetc autotune: searches the CPU schedule generator's knobs by compiling candidates
// and timing them on this machine, then writes the best schedule file; also times Halide's
// autoschedulers on the same pipelines as baselines.
#pragma once

#include "halide/Emit.h"

#include <iosfwd>
#include <string>

namespace lenetc {

struct AutotuneOptions {
  std::string output;          // the schedule file to write
  double budgetSeconds = 600;  // the search's time budget (baselines not included)
  int batch = 256;
  int samples = 15;            // timed calls per candidate (the median counts)
  bool baselines = true;       // also time naive and the autoschedulers
  bool fresh = false;          // ignore the journal of an earlier run
};

// Runs the search (resuming from `<output>.journal` unless `fresh`) and writes `output`.
// Progress goes to `log`. Returns the exit status.
int autotune(mlir::ModuleOp module, const Halide::Target &target, const AutotuneOptions &options, std::ostream &log);

// This machine, for a schedule's header: "Intel(R) Xeon(R) Processor, 2 cores".
std::string describeMachine();

// Today's date, UTC: 2026-11-22.
std::string todayUtc();

} // namespace lenetc
