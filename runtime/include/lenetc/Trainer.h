// The trainer's entry point: the generated main() of every trainer calls it with the model
// the binary was built for.
#pragma once

#include "lenetc/Communicator.h"
#include "lenetc/ModelInfo.h"

namespace lenetc {

// Exit status: 0 success, 1 a run-time error (data, checkpoint, I/O), 2 a bad command line,
// 3 training diverged (the loss became NaN or infinite).
int trainerMain(const ModelInfo &model, int argc, char **argv);
// The same as one rank of a data-parallel run (a trainer built with --distributed mpi).
int trainerMain(const ModelInfo &model, int argc, char **argv, Communicator &communicator);

} // namespace lenetc
