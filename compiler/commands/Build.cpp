// lenetc build MODEL.nn -o PROGRAM: a standalone trainer.
#include "commands/Command.h"

#include "tools/Link.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

namespace lenetc {

void printBuildHelp(std::ostream &os) {
  os << "Usage: lenetc build MODEL.nn -o PROGRAM [--target T] [--schedule FILE] [--distributed mpi]\n\n"
        "Compiles the model (as 'lenetc compile') and links it with the lenetc runtime into one\n"
        "standalone training executable, using the system C++ compiler ($CXX, or c++). The\n"
        "program needs neither Halide's compiler, LLVM nor MLIR to run:\n"
        "  ./PROGRAM --help      its options, with the defaults of the model's train block\n"
        "  ./PROGRAM             train on the model's data set\n\n"
        "Options:\n"
        "  -o, --output PROGRAM  the executable to write (required)\n"
        "  --target T            a Halide target (default: host, this machine's CPU)\n"
        "  --schedule FILE       a schedule file (docs/schedules.md); given twice, one for the CPU\n"
        "                        and one for the GPU variant. Default: the matching file in\n"
        "                        " << defaultScheduleDirectory() << "\n"
        "  --default-schedule    ignore tuned schedules: use the default schedule\n"
        "  --distributed mpi     a trainer that also trains data-parallel under mpirun\n"
        "                        (mpirun -np N ./PROGRAM ...; Open MPI), and alone as one process\n";
}

int runBuild(const std::vector<std::string> &args) {
  OutputArgs a;
  bool mpi = false;
  auto distributed = [&](const std::vector<std::string> &all, size_t &i, std::string &error) {
    return distributedOption(all, i, mpi, error);
  };
  if (int rc = parseOutputArgs(args, "build", printBuildHelp, "an output program: -o PROGRAM", a, distributed);
      rc >= 0)
    return rc;
  const Halide::Target &target = a.target;
  std::string error, model;
  if (!outputFileUsable(a.output, error))
    return usageError(error, "build ");
  auto start = std::chrono::steady_clock::now();
  std::error_code tmpError;
  std::filesystem::path tmp = std::filesystem::temp_directory_path(tmpError);
  std::string pattern = ((tmpError ? std::filesystem::path("/tmp") : tmp) / "lenetc-build-XXXXXX").string();
  if (!mkdtemp(pattern.data())) {
    std::cerr << "lenetc: error: cannot create a temporary directory: " << std::strerror(errno) << "\n";
    return 1;
  }
  std::string dir = pattern;
  struct RemoveOnExit {
    std::string dir;
    ~RemoveOnExit() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir};
  int rc = compileInto(a.path, dir, target, a.schedules, model, false, mpi);
  if (rc == 0 && !linkTrainer(dir, model, a.output, mpi, error)) {
    std::cerr << "lenetc: error: " << error << "\n";
    rc = 1;
  }
  if (rc == 0)
    std::cerr
        << "wrote " << a.output << " (" << model << ", target " << target.to_string() << ", "
        << std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count()
        << " s)\n";
  return rc;
}

} // namespace lenetc
