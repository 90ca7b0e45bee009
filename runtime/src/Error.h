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

} // namespace lenetc
