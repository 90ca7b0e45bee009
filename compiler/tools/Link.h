// Linking a trainer: the generated pipelines, the model glue and main(), and the lenetc
// runtime, with the system C++ compiler ($CXX, or c++), into one standalone executable.
#pragma once

#include <string>

namespace lenetc {

// `dir` holds what `lenetc compile` writes for `model`. With `mpi`, also the Open MPI
// communicator and MPI's libraries. False, with `error` set, on failure.
bool linkTrainer(const std::string &dir, const std::string &model, const std::string &output, bool mpi,
                 std::string &error);
// Whether this lenetc was built with MPI (it can link --distributed mpi trainers).
bool mpiAvailable();

} // namespace lenetc
