// Lowering: a function of the lenet dialect (after autodiff) -> one Halide pipeline.
//
// Inputs become ImageParams in the function's argument order, then one per `lenet.param`
// in program order; outputs are the function's results. Every op lowers itself
// (HalideLoweringOpInterface) to the Func its name gives (halideName: `c3.grad_w` ->
// `c3__grad_w`), so schedules and tests address Funcs by the model's names, and leaves a
// record (LoweredOp) that the schedule generators read. The batch extent is the input's
// last Halide dimension, known only at run time.
#pragma once

#include "Halide.h"

#include "mlir/IR/BuiltinOps.h"

#include <map>
#include <string>
#include <vector>

namespace lenetc {

// One op of a lowered pipeline: what the schedule generators work from. Ops are linked by
// index, as the MLIR graph links them, so that a generator finds an op's producer, its
// activation or the forward op of a gradient from the graph, never from how the model
// names its values.
struct LoweredOp {
  std::string name;         // the model's name of its result: "c3.grad_w" (as schedules say)
  std::string kind;         // the op's mnemonic: "conv_grad_weight"
  Halide::Func func;        // its result
  std::vector<int> extents; // Halide order; -1: the batch
  // The Funcs its algorithm made besides its result, by role: "padded", "weights", "acc",
  // "window_sum", ... (schedules name them `<name>.<role>`).
  std::map<std::string, Halide::Func> helpers;
  // The ops whose results it reads: its operands, then (an activation gradient that reads
  // x) the activation's input. Indices in LoweredPipeline::ops; -1: an input or parameter.
  std::vector<int> operands;
  std::vector<int> users;    // the ops that read its result
  bool activation = false;   // an Activation op (lenet.relu, ...)
  bool activationGrad = false; // an activation's gradient: operands (dout, y)
  bool gradientReadsInput = false; // an activation whose gradient reads its input x

  bool has(const std::string &role) const { return helpers.count(role) > 0; }
};

struct LoweredPipeline {
  std::string name;                          // the MLIR function's name: lenet5_train_step
  std::vector<Halide::ImageParam> inputs;    // x, [labels], then the parameters
  std::vector<std::string> inputNames;       // model names: "x", "y", "c1.w", ...
  // Halide-order extents of each input and output; -1 is the run-time batch.
  std::vector<std::vector<int>> inputExtents, outputExtents;
  std::vector<Halide::Func> outputs;         // the function's results, in order
  std::vector<std::string> outputNames;      // "loss", "correct", "c1.grad_w", ... / "probs"
  // Every Func a schedule may name (ops' results and their helpers), by model name.
  std::map<std::string, Halide::Func> funcs;
  std::vector<LoweredOp> ops;                // in program order
  Halide::Expr batch;                        // the run-time batch extent
  int fixedBatch = 0;                        // > 0: compiled for exactly this batch (fixBatch)
  Halide::Target target;                     // what it is compiled for

  Halide::Pipeline pipeline() const { return Halide::Pipeline(outputs); }
  std::vector<Halide::Argument> arguments() const;
};

// What an op's lowering (HalideLoweringOpInterface: `ConvOp::lowerToHalide`, ...) works
// with: its operands' Funcs, its name, the batch extent; it defines its result's Func.
class OpLowering {
public:
  virtual ~OpLowering() = default;
  virtual Halide::Func in(unsigned operand) = 0; // an operand's Func
  virtual Halide::Func of(mlir::Value v) = 0;     // any value's Func, lowered before the op
  // A helper Func of the op that computed `v` (a batchnorm's `mean`, a dropout's `keep`).
  virtual Halide::Func helper(mlir::Value v, const std::string &role) = 0;
  virtual const std::string &name() const = 0;    // the op's model name: the Func's name
  virtual Halide::Expr batch() const = 0;         // the run-time batch extent
  virtual void define(Halide::Func result) = 0;   // the op's result
  virtual void same(mlir::Value v) = 0;           // the result is `v` (an identity op)
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
