// Lowering: a function of the lenet dialect (after autodiff) -> one Halide pipeline.
//
// Inputs become ImageParams in the function's argument order, then one per `lenet.param`
// in program order; outputs are the function's results. Every op becomes the Func its
// name gives (halideName: `c3.grad_w` -> `c3__grad_w`), so schedules and tests address Funcs
// by the model's names. The batch extent is the input's last Halide dimension, known only
// at run time.
#pragma once

#include "Halide.h"

#include "mlir/IR/BuiltinOps.h"

#include <map>
#include <string>
#include <vector>

namespace lenetc {

struct LoweredPipeline {
  std::string name;                          // the MLIR function's name: lenet5_train_step
  std::vector<Halide::ImageParam> inputs;    // x, [labels], then the parameters
  std::vector<std::string> inputNames;       // model names: "x", "y", "c1.w", ...
  // Halide-order extents of each input and output; -1 is the run-time batch.
  std::vector<std::vector<int>> inputExtents, outputExtents;
  std::vector<Halide::Func> outputs;         // the function's results, in order
  std::vector<std::string> outputNames;      // "loss", "correct", "c1.grad_w", ... / "probs"
  std::map<std::string, Halide::Func> funcs; // every op's Func, by model name
  // Of each op's Func (not helpers): the op it lowers ("conv", "dense_grad_weight", ...)
  // and its Halide-order extents (-1: the batch). Schedule generators read them.
  std::map<std::string, std::string> kinds;
  std::map<std::string, std::vector<int>> extents;
  Halide::Expr batch;                        // the run-time batch extent
  int fixedBatch = 0;                        // > 0: compiled for exactly this batch (fixBatch)
  Halide::Target target;                     // what it is compiled for

  Halide::Pipeline pipeline() const { return Halide::Pipeline(outputs); }
  std::vector<Halide::Argument> arguments() const;
};

// Lowers `func`; on an op it cannot lower, emits an error at the op and returns false.
bool lowerToHalide(mlir::FuncOp func, LoweredPipeline &out);

// Makes `p` a pipeline for exactly `batch` examples: the batch dimension of its inputs and
// outputs is bound to [0, batch), and the extents that were -1 become `batch`. Halide then
// sees constant extents everywhere: no loops over a run-time count, and intermediate
// buffers of constant size (small ones on the stack, not the heap). Calls with another
// batch fail Halide's bounds check.
void fixBatch(LoweredPipeline &p, int batch);

} // namespace lenetc
