// From the lenet dialect to Halide pipelines and ahead-of-time libraries.
//   lowerModule:  @m_train_step and @m_infer (after autodiff) -> two LoweredPipelines
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
bool parseTarget(const std::string &text, Halide::Target &target, std::string &error);

// Lowers the training step and the inference function and applies the default schedule.
bool lowerModule(mlir::ModuleOp module, const Halide::Target &target, std::vector<LoweredPipeline> &out);

// The loop nest Halide lowers `p` to, as text.
bool printStmt(const LoweredPipeline &p, const Halide::Target &target, std::ostream &os, std::string &error);

// Writes dir/<pipeline>.a and .h for each pipeline (without the Halide runtime) and
// dir/<runtimeName>.a, the one Halide runtime they share.
bool compileAOT(const std::vector<LoweredPipeline> &pipelines, const Halide::Target &target,
                const std::string &dir, const std::string &runtimeName, std::string &error);

} // namespace lenetc
