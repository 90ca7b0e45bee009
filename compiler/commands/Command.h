// The commands of lenetc, one file each (commands/<Command>.cpp): its help text, its
// options and what it runs; main.cpp dispatches through commands(). What several commands
// share is declared here and defined in commands/Common.cpp.
#pragma once

#include "halide/Emit.h"
#include "tools/Compile.h"

#include "Halide.h"

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace lenetc {

struct Command {
  const char *name;
  void (*help)(std::ostream &);
  int (*run)(const std::vector<std::string> &args); // the arguments after the command's name
};

// summary, graph, compile, build, time, autotune, import (not the default one, emit).
const std::vector<Command> &commands();

// `lenetc [--emit=STAGE] MODEL.nn`: what runs when no command is named, and the main help.
int runEmit(const std::vector<std::string> &args);
void printMainHelp(std::ostream &os);

// The commands' entry points (each in its own file).
void printSummaryHelp(std::ostream &os);
int runSummary(const std::vector<std::string> &args);
void printGraphHelp(std::ostream &os);
int runGraph(const std::vector<std::string> &args);
void printCompileHelp(std::ostream &os);
int runCompile(const std::vector<std::string> &args);
void printBuildHelp(std::ostream &os);
int runBuild(const std::vector<std::string> &args);
void printTimeHelp(std::ostream &os);
int runTime(const std::vector<std::string> &args);
void printAutotuneHelp(std::ostream &os);
int runAutotune(const std::vector<std::string> &args);
void printImportHelp(std::ostream &os);
int runImport(const std::vector<std::string> &args);

// --- shared by the commands ---------------------------------------------------------

// "lenetc: error: MESSAGE" and where to find the usage; returns 2 (a bad command line).
int usageError(const std::string &message, const char *helpCommand);
bool isHelp(const std::string &arg);
// Compiles `path` to MLIR; diagnostics go to stderr. Returns the exit status.
int compileOrFail(Compilation &c, const std::string &path, Stage stage);
// An output file is checked before the work that writes it (a build, a search): its
// directory exists and the path is not a directory.
bool outputFileUsable(const std::string &path, std::string &error);
// The command line's schedules: the checked-in ones, notices on stderr.
ScheduleOptions cliScheduleOptions();

// The options `compile`, `build`, `time` and `autotune` share: MODEL, -o, --target and the
// schedule options.
struct OutputArgs {
  std::string path, output, targetName = "host";
  Halide::Target target;
  ScheduleOptions schedules = cliScheduleOptions();
};
// Returns -1 when parsing went through, else the exit status (help printed: 0; error: 2).
// `extra` takes a command's own options: it returns false when args[i] is not one, and
// sets `error` when it is one with a bad value. A null `outputWhat`: -o is optional.
using ExtraOptions = std::function<bool(const std::vector<std::string> &args, size_t &i, std::string &error)>;
int parseOutputArgs(const std::vector<std::string> &args, const char *command, void (*help)(std::ostream &),
                    const char *outputWhat, OutputArgs &out, const ExtraOptions &extra = {});
// A positive integer option `name` at args[i] (and its value): false when args[i] is
// another option; `error` set when the value is bad.
bool positiveOption(const std::vector<std::string> &args, size_t &i, const std::string &name, int &out,
                    std::string &error);
// `--distributed mpi` at args[i] (compile, build): false when args[i] is another option;
// `error` set when the value is not mpi or this lenetc was built without MPI.
bool distributedOption(const std::vector<std::string> &args, size_t &i, bool &mpi, std::string &error);
// Compiles the model at `path` into `dir`: its pipelines, their runtime, the glue and the
// trainer's main() (with `mpi`, one that runs under mpirun). Returns the exit status; `model`
// gets the model's name.
int compileInto(const std::string &path, const std::string &dir, const Halide::Target &target,
                const ScheduleOptions &schedules, std::string &model, bool log, bool mpi = false);

} // namespace lenetc
