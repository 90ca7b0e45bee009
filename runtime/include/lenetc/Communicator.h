// How the processes ("ranks") of a data-parallel run talk: what the training loop needs of
// MPI and nothing more. This class is the run of one process, which talks to no one; a
// trainer built with `lenetc build --distributed mpi` gets the Open MPI one
// (lenetc/MpiCommunicator.h) from its main().
//
// Every collective here combines in rank order, whatever order the network delivers in, so
// that a run with N ranks gives the same numbers on every repeat (MPI_Allreduce does not
// promise that).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <string>
#include <vector>

namespace lenetc {

class Communicator {
public:
  virtual ~Communicator() = default;
  virtual int rank() const { return 0; }
  virtual int size() const { return 1; }
  // Ranks on this host (they share its cores).
  virtual int localSize() const { return 1; }
  // "2 MPI ranks" for the run's header; "" for one process.
  virtual std::string describe() const { return ""; }

  // Every rank's values summed element-wise (rank 0's + rank 1's + ..., in that order), the
  // result on every rank. The same count on every rank.
  virtual void sum(float *values, size_t count) { (void)values, (void)count; }
  virtual void sum(double *values, size_t count) { (void)values, (void)count; }
  // Every rank's text, in rank order, on every rank.
  virtual std::vector<std::string> allGather(const std::string &text) { return {text}; }
  // Rank 0's text, on every rank.
  virtual void broadcast(std::string &text) { (void)text; }
  // Every rank's values, concatenated in rank order, on rank 0 (empty elsewhere).
  virtual std::vector<float> gather(const std::vector<float> &values) { return values; }

  // Stops every rank of the job at once: for a failure of this rank alone, which the others,
  // waiting for it in a collective, would never see.
  [[noreturn]] virtual void abort(int exitCode) { std::exit(exitCode); }
  // The end of a run on every rank (MPI_Finalize).
  virtual void finish() {}
};

} // namespace lenetc
