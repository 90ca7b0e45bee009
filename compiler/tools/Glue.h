// The model's glue for the runtime: a C++ source defining the lenetc::ModelInfo of a
// compiled model (runtime/include/lenetc/ModelInfo.h) -- its input, its parameter table
// with shapes and fan-in/fan-out, and the entry points of its two AOT pipelines.
#pragma once

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace lenetc {

// The ModelInfo's symbol for a model: lenetc_model_<name>.
std::string modelSymbol(const std::string &modelName);

// What the trainer's run report shows of the model: `lenetc summary`'s table and `lenetc
// graph`'s SVG ("" if it could not be drawn).
struct ModelDrawings {
  std::string summary, graphSvg;
};

// Needs the module after autodiff. Writes `path`; false with `error` set on failure.
// `target` is the Halide target's name; `gpu` says whether GPU variants (<pipeline>_gpu) exist.
bool writeModelGlue(mlir::ModuleOp module, const std::string &sourcePath, const std::string &target, bool gpu,
                    const ModelDrawings &drawings, const std::string &path, std::string &error);

// The trainer's main(): calls lenetc::trainerMain with the model's ModelInfo; with `mpi`,
// and the Open MPI communicator (lenetc/MpiCommunicator.h).
bool writeTrainerMain(const std::string &modelName, bool mpi, const std::string &path, std::string &error);

} // namespace lenetc
