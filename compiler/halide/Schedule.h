// Schedules as files (schedules/<model>.<target class>.sched): what lenetc build applies
// instead of the default schedule, and what lenetc autotune writes.
//
//   # a comment
//   model = lenet5
//   target = x86-avx512
//   machine = Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz, 2 cores
//   date = 2026-11-22
//   measured = train_step 4.10 ms, infer 0.90 ms (batch 256, 2 threads, median of 20)
//
//   [train_step]
//   c1: compute_root().reorder_storage(c, x, y, n).parallel(n)
//   c1.update(0): reorder(c, r.x, r.y, x, y, n).vectorize(x, 16)
//   c3.grad_w.flat.update(0): rfactor(r.z, example, c3.grad_w.flat.partial)
//
// Funcs are named by the model's value names (`c3.grad_w`, helpers `c3.grad_w.flat`); a
// reduction domain's variables are `r.x`, `r.y`, ... Each line schedules one stage (the Func
// or its update(K)) with Halide's own directive names, chained with '.'. A Func that no line
// names is computed at root (inlining is asked for: compute_inline()).
// docs/schedules.md lists the directives.
#pragma once

#include "frontend/Diagnostics.h"
#include "halide/Lower.h"

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

namespace lenetc {

struct ScheduleArg {
  std::string text; // an identifier (`x`, `r.x`, `c3.grad_w.flat`) or an integer
  Loc loc;
  bool isNumber = false;
};

struct ScheduleCall {
  std::string name; // split, vectorize, compute_at, ...
  std::vector<ScheduleArg> args;
  Loc loc;
};

struct StageSchedule {
  std::string func; // model name
  int update = -1;  // -1: the pure definition; K: update(K)
  Loc loc;
  std::vector<ScheduleCall> calls;
};

struct ScheduleFile {
  std::string path;
  std::map<std::string, std::string> header; // model, target, machine, date, measured
  std::map<std::string, Loc> headerLoc;
  // Per pipeline ("train_step", "infer"): its lines in file order.
  std::map<std::string, std::vector<StageSchedule>> pipelines;
  std::map<std::string, Loc> pipelineLoc;
};

// The header keys every schedule file states.
const std::vector<std::string> &scheduleHeaderKeys();

// Parses a schedule file; syntax errors are reported through `diag` (file:line:col, caret).
bool parseSchedule(const SourceFile &file, DiagnosticEngine &diag, ScheduleFile &out);

// Checks the header against the model and target class being built: a schedule for
// another model is an error, one for another target class a warning.
bool checkScheduleHeader(const ScheduleFile &s, const std::string &model, const std::string &targetClass,
                         DiagnosticEngine &diag);

// Applies the section `key` ("train_step" or "infer") to `p`. Unknown Funcs, variables or
// directives and directives Halide rejects are errors at their line and column.
bool applySchedule(const ScheduleFile &s, const std::string &key, LoweredPipeline &p, DiagnosticEngine &diag);

// The directives a stage may use (Halide's names): the parser, the applier and the
// generators know these and no others.
const std::vector<std::string> &scheduleDirectives();

// One stage as its line in a schedule file: `c1.update(0): split(x, xo, xi, 8).vectorize(xi)`.
std::string formatStage(const StageSchedule &stage);

// A schedule file's text: the comment, the header, then each pipeline's section with its
// stages and, after them, that section's `notes` (comment lines, as they are).
std::string formatSchedule(const std::map<std::string, std::string> &header,
                           const std::map<std::string, std::vector<StageSchedule>> &sections,
                           const std::string &comment = "",
                           const std::map<std::string, std::vector<std::string>> &notes = {});

// Applies stages made in memory (the generators') to `p`, as applySchedule applies a file's
// section; errors go to `messages`, located in the stages' text as formatStage prints them.
bool applyStages(const std::string &what, std::vector<StageSchedule> stages, LoweredPipeline &p,
                 std::ostream *messages);

// Parses `text` (named `path` in messages) and applies its section `key` to `p`; errors go
// to `messages`.
bool applyScheduleText(const std::string &path, const std::string &text, const std::string &key,
                       LoweredPipeline &p, std::ostream *messages);

// The Funcs of `p` a schedule may name, with their variables and update stages, as comment
// lines (lenetc --emit=schedule lists them under the generated schedule). `p` unscheduled.
std::vector<std::string> scheduleSkeleton(const LoweredPipeline &p);

// What a schedule file's `target` names: x86-avx512, x86-avx2, x86-sse41, arm-neon,
// cuda, opencl (the GPU variant's API), or "" for a target no schedule covers.
std::string scheduleTargetClass(const Halide::Target &target, bool gpuVariant);

// The pipelines a schedule file may have sections for: train_step, infer (any batch) and
// infer_one (one example: the latency pipeline, CPU only).
const std::vector<std::string> &pipelineKeys();

// The pipeline key of a lowered pipeline's name: lenet5_train_step_gpu -> train_step.
std::string pipelineKey(const std::string &pipelineName);

} // namespace lenetc
