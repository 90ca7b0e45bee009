// The Open MPI communicator of a trainer built with `lenetc build --distributed mpi`
// (library lenetc_runtime_mpi; trainers built without it link no MPI).
#pragma once

#include "lenetc/Communicator.h"

#include <memory>

namespace lenetc {

// Under mpirun (or another MPI launcher), MPI_COMM_WORLD; started on its own, the run of one
// process (MPI not even initialised).
std::unique_ptr<Communicator> mpiCommunicator(int *argc, char ***argv);

} // namespace lenetc
