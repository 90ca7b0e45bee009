// Errors the trainer reports to its user: one line, and the exit status that goes with it.
#pragma once

#include <stdexcept>
#include <string>

namespace lenetc {

enum ExitCode { kExitOk = 0, kExitError = 1, kExitUsage = 2, kExitDiverged = 3 };

struct Error : std::runtime_error {
  Error(const std::string &message, int exitCode = kExitError)
      : std::runtime_error(message), exitCode(exitCode) {}
  int exitCode;
};

struct UsageError : Error {
  explicit UsageError(const std::string &message) : Error(message, kExitUsage) {}
};

// An error every rank of a distributed run raises alike, having agreed on it (Together.h):
// rank 0 reports it, and every rank exits with its status.
struct SharedError : Error {
  SharedError(const std::string &message, int exitCode) : Error(message, exitCode) {}
};

} // namespace lenetc
