// From the lenet dialect to Halide pipelines and ahead-of-time libraries.
//   lowerModule:  @m_train_step and @m_infer (after autodiff) -> LoweredPipelines: the training
//                 step, inference, one-example inference (and GPU variants of the first two)
//   printStmt:    the lowered loop nest (lenetc --emit=halide)
//   compileAOT:   static libraries and headers, linked later without libHalide or LLVM
#pragma once

#include "halide/Lower.h"

#include <iosfwd>
#include <string>
#include <vector>

namespace lenetc {

// Parses a Halide target string ("host", "x86-64-linux-avx2-fma", "host-cuda-cuda_capability_80").
// False, with `error` set, for a string Halide 14 does not know.
// Also false for a target without a schedule class (not x86 or ARM; a GPU API other than
// CUDA, OpenCL or Metal).
bool parseTarget(const std::string &text, Halide::Target &target, std::string &error);

// The target without its GPU features: what the CPU variant of a GPU build is compiled for.
Halide::Target hostPart(Halide::Target t);

// Whether code for `t` runs on this machine's CPU (what `time` and `autotune` JIT-compile
// and call): the same architecture, word size and OS, no instruction set the CPU lacks.
bool runsOnThisMachine(const Halide::Target &t, std::string &error);

// Where the schedules come from (docs/schedules.md).
struct ScheduleOptions {
  // Schedule files given by the user (--schedule FILE): each applies to the variant its
  // `target` names (a GPU API: the GPU variant; otherwise the CPU one).
  std::vector<std::string> files;
  // Where schedules/<model>.<target class>.sched are looked for ("": nowhere).
  std::string directory;
  // Ignore tuned schedules: every pipeline gets the default schedule.
  bool defaultOnly = false;
  // Leave the pipelines unscheduled (lenetc --emit=schedule lists their Funcs).
  bool unscheduled = false;
  // Notices (which schedule is used, fallbacks) and schedule diagnostics; null: silent.
  std::ostream *messages = nullptr;
};

// The directory of the checked-in schedules (this source tree's schedules/).
std::string defaultScheduleDirectory();

// Lowers the training step and the inference function and schedules them: with the
// schedule file that matches the model and target, else the default schedule (with a
// notice). False on an error (reported at the op, or at the schedule file's line).
bool lowerModule(mlir::ModuleOp module, const Halide::Target &target, const ScheduleOptions &schedules,
                 std::vector<LoweredPipeline> &out);

// The default schedule (the generators of tune/Generator.h with the target's default
// knobs), applied as a schedule file would be. False, reported, if Halide rejects it.
bool applyDefaultSchedule(LoweredPipeline &p, const Halide::Target &target, bool gpu, std::ostream *messages);

// The model's name, from its functions (@lenet5_train_step -> lenet5).
std::string modelNameOf(mlir::ModuleOp module);

// The loop nest Halide lowers `p` to, as text.
bool printStmt(const LoweredPipeline &p, const Halide::Target &target, std::ostream &os, std::string &error);

// Writes dir/<pipeline>.a and .h for each pipeline (without the Halide runtime) and
// dir/<runtimeName>.a, the one Halide runtime they share.
bool compileAOT(const std::vector<LoweredPipeline> &pipelines, const Halide::Target &target,
                const std::string &dir, const std::string &runtimeName, std::string &error);

} // namespace lenetc
