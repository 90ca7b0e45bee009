// lenetc: compiles LeNet-family model descriptions (models/*.nn).
//
//   lenetc [--emit=ast|mlir] MODEL.nn      print a compiler stage (the Toy tutorial's habit)
//   lenetc summary MODEL.nn                layers, shapes and parameter counts
//   lenetc graph MODEL.nn -o FILE.svg      draw the graph
//
// Exit status: 0 success, 1 the model has errors (or an output could not be written),
// 2 the command line is wrong.
#include "dialect/MLIRGen.h"
#include "halide/Emit.h"
#include "halide/Schedule.h"
#include "tune/Autotune.h"
#include "tune/Generator.h"
#include "tune/Measure.h"
#include "tools/Compile.h"
#include "tools/Glue.h"
#include "tools/Graph.h"
#include "tools/Layers.h"
#include "tools/Link.h"

#include "llvm/Support/raw_os_ostream.h"

#include "frontend/Diagnostics.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

using namespace lenetc;

namespace {

const char *kVersion = "lenetc 0.1.0 (MLIR 14, Halide 14)";

void printMainHelp(std::ostream &os) {
  os << "lenetc - compile LeNet-family model descriptions into fast native trainers\n"
        "\n"
        "Usage:\n"
        "  lenetc [--emit=STAGE] MODEL.nn      print one stage of the compiler (default: mlir);\n"
        "                                      MODEL may also be lenet-dialect MLIR (.mlir)\n"
        "  lenetc summary MODEL.nn             print layers, output shapes and parameter counts\n"
        "  lenetc graph MODEL.nn -o FILE       draw the model's graph (.svg, .png, .pdf or .dot)\n"
        "  lenetc build MODEL.nn -o PROGRAM    compile the model into a standalone trainer\n"
        "  lenetc compile MODEL.nn -o DIR      compile the training step and inference pipelines\n"
        "                                      ahead of time (static libraries and headers)\n"
        "  lenetc time MODEL.nn                time the scheduled pipelines on this machine\n"
        "  lenetc autotune MODEL.nn -o FILE    search for a faster schedule; write it to FILE\n"
        "  lenetc help [COMMAND]               this help, or a command's\n"
        "\n"
        "Options:\n"
        "  --emit=ast      the syntax tree, as parsed\n"
        "  --emit=mlir     the lenet dialect after shape inference and verification\n"
        "  --emit=mlir-grad  with the training step (backward graph) and inference functions\n"
        "  --emit=halide   the Halide loop nests of every pipeline, as scheduled\n"
        "  --emit=schedule the default schedule of every pipeline as a schedule file, with\n"
        "                  the Funcs it may name (for --target, GPU targets included)\n"
        "  --target=T      the Halide target for --emit=halide (default: host)\n"
        "  --schedule=FILE  a schedule file for --emit=halide (default: the matching one in\n"
        "                  schedules/, else the default schedule)\n"
        "  --default-schedule  ignore tuned schedules\n"
        "  -h, --help      show help\n"
        "  --version       show the version\n"
        "\n"
        "Ops of the model language (see docs/language.md):\n";
  for (const auto &op : languageOps())
    os << "  " << op.signature << "\n      " << op.summary << "\n";
  os << "\nExit status: 0 success, 1 errors in the model, 2 a bad command line.\n";
}

void printSummaryHelp(std::ostream &os) {
  os << "Usage: lenetc summary MODEL.nn\n\n"
        "Prints the model's layers (an activation that follows an op shares its row), each\n"
        "layer's per-example output shape and parameter count, the total, and the training\n"
        "defaults of the model's train block.\n";
}

void printGraphHelp(std::ostream &os) {
  os << "Usage: lenetc graph MODEL.nn -o FILE\n\n"
        "Draws the model's layers and their connections with Graphviz. FILE's extension picks\n"
        "the format: .svg, .png or .pdf (rendered by Graphviz' dot), or .dot (the DOT text).\n\n"
        "Options:\n"
        "  -o, --output FILE   where to write the drawing (required)\n";
}

int usageError(const std::string &message, const char *helpCommand) {
  std::cerr << "lenetc: error: " << message << "\n"
            << "Run 'lenetc " << helpCommand << "--help' for usage.\n";
  return 2;
}

bool isHelp(const std::string &a) { return a == "-h" || a == "--help"; }

// Compiles `path` to MLIR; diagnostics go to stderr.
int compileOrFail(Compilation &c, const std::string &path, Stage stage) {
  return c.compileFile(path, stage) ? 0 : 1;
}

// An output file is checked before the work that writes it (a build, a search): its
// directory exists and the path is not a directory.
bool outputFileUsable(const std::string &path, std::string &error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path dir = fs::path(path).parent_path();
  if (fs::is_directory(path, ec))
    error = "cannot write '" + path + "': it is a directory";
  else if (!dir.empty() && !fs::is_directory(dir, ec))
    error = "cannot write '" + path + "': there is no directory '" + dir.string() + "'";
  return error.empty();
}

// The command line's schedules: the checked-in ones, notices on stderr.
ScheduleOptions cliScheduleOptions() {
  ScheduleOptions o;
  o.directory = defaultScheduleDirectory();
  o.messages = &std::cerr;
  return o;
}

int runEmit(const std::vector<std::string> &args) {
  std::string emit = "mlir", path, targetName = "host";
  ScheduleOptions schedules = cliScheduleOptions();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (isHelp(a)) {
      printMainHelp(std::cout);
      return 0;
    }
    if (a.rfind("--emit=", 0) == 0) {
      emit = a.substr(7);
    } else if (a.rfind("--target=", 0) == 0) {
      targetName = a.substr(9);
    } else if (a == "--schedule" || a.rfind("--schedule=", 0) == 0) {
      if (a == "--schedule" && i + 1 >= args.size())
        return usageError("--schedule needs a file", "");
      schedules.files.push_back(a == "--schedule" ? args[++i] : a.substr(11));
    } else if (a == "--default-schedule") {
      schedules.defaultOnly = true;
    } else if (a == "--emit") {
      return usageError("--emit needs a value: --emit=ast, mlir, mlir-grad, halide or schedule", "");
    } else if (!a.empty() && a[0] == '-') {
      return usageError("unknown option '" + a + "'", "");
    } else if (path.empty()) {
      path = a;
    } else {
      return usageError("more than one model file given ('" + path + "' and '" + a + "')", "");
    }
  }
  Stage stage;
  if (emit == "ast")
    stage = Stage::AST;
  else if (emit == "mlir")
    stage = Stage::MLIR;
  else if (emit == "mlir-grad" || emit == "halide" || emit == "schedule")
    stage = Stage::MLIRGrad;
  else
    return usageError("unknown stage '" + emit + "' for --emit (stages: ast, mlir, mlir-grad, halide, schedule)", "");
  Halide::Target target;
  std::string error;
  if (!parseTarget(targetName, target, error))
    return usageError(error, "");
  if (path.empty())
    return usageError("no model file given", "");
  Compilation c(&std::cerr);
  if (int rc = compileOrFail(c, path, stage))
    return rc;
  if (emit == "ast") {
    dumpAST(c.ast(), std::cout);
  } else if (emit == "schedule") {
    // The default schedule the generator writes for this target, as a schedule file, with
    // the Funcs it may name: a starting point for hand tuning.
    std::vector<LoweredPipeline> pipelines;
    schedules.defaultOnly = schedules.unscheduled = true;
    if (!lowerModule(c.module(), target, schedules, pipelines))
      return 1;
    bool gpu = target.has_gpu_feature();
    std::map<std::string, std::vector<StageSchedule>> sections;
    std::map<std::string, std::vector<std::string>> notes;
    for (const auto &p : pipelines) {
      if ((p.name.size() > 4 && p.name.compare(p.name.size() - 4, 4, "_gpu") == 0) != gpu)
        continue;
      std::string key = pipelineKey(p.name);
      sections[key] = gpu ? generateGpuSchedule(p, GpuKnobs{}) : generateCpuSchedule(p, defaultCpuKnobs(p.target));
      notes[key] = scheduleSkeleton(p);
      notes[key].insert(notes[key].begin(), "# The Funcs of this pipeline, with their variables:");
    }
    std::map<std::string, std::string> header = {
        {"model", modelNameOf(c.module())},
        {"target", scheduleTargetClass(gpu ? target : pipelines[0].target, gpu)},
        {"machine", gpu ? "(none: generated without a GPU; proved on PoCL and by ptxas, never timed)"
                        : "(generated by lenetc --emit=schedule; not timed)"},
        {"date", todayUtc()},
        {"measured", "(not measured)"}};
    std::cout << formatSchedule(header, sections,
                                "The default schedule lenetc's generator writes for this target (docs/schedules.md).",
                                notes);
  } else if (emit == "halide") {
    std::vector<LoweredPipeline> pipelines;
    if (!lowerModule(c.module(), target, schedules, pipelines))
      return 1;
    for (const auto &p : pipelines)
      if (!printStmt(p, target, std::cout, error)) {
        std::cerr << "lenetc: error: " << error << "\n";
        return 1;
      }
  } else {
    llvm::raw_os_ostream os(std::cout);
    c.module().print(os);
    os << "\n";
  }
  return 0;
}

int runSummary(const std::vector<std::string> &args) {
  std::string path;
  for (const auto &a : args) {
    if (isHelp(a)) {
      printSummaryHelp(std::cout);
      return 0;
    }
    if (!a.empty() && a[0] == '-')
      return usageError("unknown option '" + a + "' for summary", "summary ");
    if (!path.empty())
      return usageError("summary takes one model file", "summary ");
    path = a;
  }
  if (path.empty())
    return usageError("summary needs a model file", "summary ");
  Compilation c(&std::cerr);
  if (int rc = compileOrFail(c, path, Stage::MLIR))
    return rc;
  if (!c.checkTrainSettings())
    return 1;
  printSummary(summarize(c.module()), std::cout);
  return 0;
}

int runGraph(const std::vector<std::string> &args) {
  std::string path, output;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (isHelp(a)) {
      printGraphHelp(std::cout);
      return 0;
    }
    if (a == "-o" || a == "--output") {
      if (i + 1 >= args.size())
        return usageError(a + " needs a file name", "graph ");
      output = args[++i];
    } else if (a.rfind("--output=", 0) == 0) {
      output = a.substr(9);
    } else if (!a.empty() && a[0] == '-') {
      return usageError("unknown option '" + a + "' for graph", "graph ");
    } else if (path.empty()) {
      path = a;
    } else {
      return usageError("graph takes one model file", "graph ");
    }
  }
  if (path.empty())
    return usageError("graph needs a model file", "graph ");
  if (output.empty())
    return usageError("graph needs an output file: -o FILE.svg", "graph ");
  Compilation c(&std::cerr);
  if (int rc = compileOrFail(c, path, Stage::MLIR))
    return rc;
  if (!c.checkTrainSettings())
    return 1;
  std::string error;
  if (!writeGraph(summarize(c.module()), output, error)) {
    std::cerr << "lenetc: error: " << error << "\n";
    return 1;
  }
  std::cerr << "wrote " << output << "\n";
  return 0;
}

void printCompileHelp(std::ostream &os) {
  os << "Usage: lenetc compile MODEL.nn -o DIR [--target T] [--schedule FILE]\n\n"
        "Derives the training step, lowers it and the inference function to Halide with the\n"
        "schedule that matches the model and target (schedules/<model>.<target class>.sched,\n"
        "else the default schedule), and compiles them ahead of time into DIR:\n"
        "  <model>_train_step.a/.h   x, labels, parameters -> loss, correct count, gradients\n"
        "  <model>_infer.a/.h        x, parameters -> class probabilities\n"
        "  <model>_infer_one.a/.h    the same for exactly one example, scheduled for latency\n"
        "  <model>_runtime.a         the Halide runtime they share\n"
        "  <model>_model.cpp         the model's description for the runtime (lenetc::ModelInfo)\n"
        "Nothing of Halide's compiler or LLVM is needed to link or run them.\n\n"
        "Options:\n"
        "  -o, --output DIR   where to write the libraries (required)\n"
        "  --target T         a Halide target (default: host, this machine's CPU)\n"
        "  --schedule FILE    a schedule file (docs/schedules.md); given twice, one for the CPU\n"
        "                     and one for the GPU variant. Default: the matching file in\n"
        "                     " << defaultScheduleDirectory() << "\n"
        "  --default-schedule ignore tuned schedules: use the default schedule\n";
}

// Compiles the model at `path` into `dir`: its pipelines, their runtime, the glue and the
// trainer's main(). Returns the exit status; `model` gets the model's name.
int compileInto(const std::string &path, const std::string &dir, const Halide::Target &target,
                const ScheduleOptions &schedules, std::string &model, bool log) {
  Compilation c(&std::cerr);
  if (int rc = compileOrFail(c, path, Stage::MLIRGrad))
    return rc;
  if (!c.checkTrainSettings())
    return 1;
  std::vector<LoweredPipeline> pipelines;
  if (!lowerModule(c.module(), target, schedules, pipelines))
    return 1;
  model = modelNameOf(c.module()); // a .mlir input has no AST
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string error, glue = dir + "/" + model + "_model.cpp", main = dir + "/" + model + "_main.cpp";
  if (!compileAOT(pipelines, target, dir, model + "_runtime", error) ||
      !writeModelGlue(c.module(), path, target.to_string(), target.has_gpu_feature(), glue, error) ||
      !writeTrainerMain(model, main, error)) {
    std::cerr << "lenetc: error: " << error << "\n";
    return 1;
  }
  if (log) {
    for (const auto &p : pipelines)
      std::cerr << "wrote " << dir << "/" << p.name << ".a, .h\n";
    std::cerr << "wrote " << dir << "/" << model << "_runtime.a, " << glue << ", " << main << "\n";
  }
  return 0;
}

// The options `compile` and `build` share: MODEL, -o, --target.
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
                    const char *outputWhat, OutputArgs &out, const ExtraOptions &extra = {}) {
  std::string usage = std::string(command) + " ";
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (isHelp(a)) {
      help(std::cout);
      return 0;
    }
    if (a == "-o" || a == "--output" || a == "--target") {
      if (i + 1 >= args.size())
        return usageError(a + " needs a value", usage.c_str());
      (a == "--target" ? out.targetName : out.output) = args[++i];
    } else if (a == "--schedule") {
      if (i + 1 >= args.size())
        return usageError("--schedule needs a file", usage.c_str());
      out.schedules.files.push_back(args[++i]);
    } else if (a.rfind("--schedule=", 0) == 0) {
      out.schedules.files.push_back(a.substr(11));
    } else if (a == "--default-schedule") {
      out.schedules.defaultOnly = true;
    } else if (std::string error; extra && extra(args, i, error)) {
      if (!error.empty())
        return usageError(error, usage.c_str());
    } else if (a.rfind("--target=", 0) == 0) {
      out.targetName = a.substr(9);
    } else if (a.rfind("--output=", 0) == 0) {
      out.output = a.substr(9);
    } else if (!a.empty() && a[0] == '-') {
      return usageError("unknown option '" + a + "' for " + command, usage.c_str());
    } else if (out.path.empty()) {
      out.path = a;
    } else {
      return usageError(std::string(command) + " takes one model file", usage.c_str());
    }
  }
  if (out.path.empty())
    return usageError(std::string(command) + " needs a model file", usage.c_str());
  if (out.output.empty() && outputWhat)
    return usageError(std::string(command) + " needs " + outputWhat, usage.c_str());
  std::string error;
  if (!parseTarget(out.targetName, out.target, error))
    return usageError(error, usage.c_str());
  return -1;
}

int runCompile(const std::vector<std::string> &args) {
  OutputArgs a;
  if (int rc = parseOutputArgs(args, "compile", printCompileHelp, "an output directory: -o DIR", a); rc >= 0)
    return rc;
  std::string model;
  return compileInto(a.path, a.output, a.target, a.schedules, model, true);
}

void printBuildHelp(std::ostream &os) {
  os << "Usage: lenetc build MODEL.nn -o PROGRAM [--target T] [--schedule FILE]\n\n"
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
        "  --default-schedule    ignore tuned schedules: use the default schedule\n";
}

int runBuild(const std::vector<std::string> &args) {
  OutputArgs a;
  if (int rc = parseOutputArgs(args, "build", printBuildHelp, "an output program: -o PROGRAM", a); rc >= 0)
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
  int rc = compileInto(a.path, dir, target, a.schedules, model, false);
  if (rc == 0 && !linkTrainer(dir, model, a.output, error)) {
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

void printTimeHelp(std::ostream &os) {
  os << "Usage: lenetc time MODEL.nn [--target T] [--schedule FILE] [--batch N] [--threads N]\n\n"
        "Times the model's training step, inference and one-example inference (always one\n"
        "example) on this machine as lenetc build would schedule them (JIT-compiled, random\n"
        "inputs): the median and fastest of repeated calls. A JIT call has an overhead of its\n"
        "own (~0.1 ms): bench/ times the compiled trainer's pipelines for small calls.\n\n"
        "Options:\n"
        "  --target T          a Halide CPU target (default: host)\n"
        "  --schedule FILE     time this schedule (default: the matching one in schedules/)\n"
        "  --default-schedule  time the default schedule\n"
        "  --batch N           examples per call (default: 256)\n"
        "  --threads N         Halide worker threads (default: all cores)\n"
        "  --samples N         timed calls per pipeline (default: 20)\n"
        "  --profile           print Halide's per-Func profile of each pipeline\n";
}

// A positive integer option value, or an error message.
bool positiveOption(const std::vector<std::string> &args, size_t &i, const std::string &name, int &out,
                    std::string &error) {
  if (args[i] != name)
    return false;
  if (i + 1 >= args.size()) {
    error = name + " needs a value";
    return true;
  }
  const std::string &v = args[++i];
  char *end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || n < 1 || n > 1000000)
    error = name + " needs a positive integer, not '" + v + "'";
  else
    out = static_cast<int>(n);
  return true;
}

int runTime(const std::vector<std::string> &args) {
  OutputArgs a;
  int batch = 256, threads = 0, samples = 20;
  bool profile = false;
  auto extra = [&](const std::vector<std::string> &as, size_t &i, std::string &error) {
    if (as[i] == "--profile")
      return profile = true;
    return positiveOption(as, i, "--batch", batch, error) || positiveOption(as, i, "--threads", threads, error) ||
           positiveOption(as, i, "--samples", samples, error);
  };
  if (int rc = parseOutputArgs(args, "time", printTimeHelp, nullptr, a, extra); rc >= 0)
    return rc;
  if (a.target.has_gpu_feature())
    return usageError("time runs on the CPU: give a CPU target", "time ");
  if (!a.output.empty())
    return usageError("time writes no file (it prints its timings): drop -o", "time ");
  if (std::string error; !runsOnThisMachine(a.target, error))
    return usageError(error + " (time runs the pipelines on this machine)", "time ");
  if (threads > 0)
    setJitThreads(threads);
  Compilation c(&std::cerr);
  if (int rc = compileOrFail(c, a.path, Stage::MLIRGrad))
    return rc;
  Halide::Target target = profile ? a.target.with_feature(Halide::Target::Profile) : a.target;
  std::vector<LoweredPipeline> pipelines;
  if (!lowerModule(c.module(), target, a.schedules, pipelines))
    return 1;
  for (auto &p : pipelines) {
    Timing t;
    std::string error;
    int examples = p.fixedBatch ? p.fixedBatch : batch; // infer_one takes one example
    if (!timePipeline(p, examples, samples, t, error)) {
      std::cerr << "lenetc: error: " << p.name << ": " << error << "\n";
      return 1;
    }
    std::printf("%-24s batch %d: median %.3f ms, fastest %.3f ms (%d calls; %.0f examples/s; compiled in %.1f s)\n",
                p.name.c_str(), examples, t.medianMs, t.minMs, t.samples, examples * 1000.0 / t.medianMs,
                t.compileSeconds);
    std::fflush(stdout);
  }
  return 0;
}

void printAutotuneHelp(std::ostream &os) {
  os << "Usage: lenetc autotune MODEL.nn -o FILE.sched [--target T] [--budget 10m]\n\n"
        "Searches the schedule generator's knobs (tile sizes, vector width, task size) for the\n"
        "model's training step, then its inference, by compiling candidates and timing them on\n"
        "this machine (repeated calls alternated with the default schedule's, so that both see\n"
        "the same machine: the median ratio of neighbouring calls), and writes the fastest as\n"
        "a schedule file\n"
        "(one-example inference gets the target's default knobs: JIT timings cannot rank it).\n"
        "The training step is timed as the trainer runs it: one micro-batch (at most 64\n"
        "examples) on one thread, its parallel loops in order; inference on every thread.\n"
        "Each timing is appended to FILE.sched.journal: an interrupted run resumes from it.\n"
        "Then it times, on the same pipelines, every Func at root (naive), Halide's three\n"
        "autoschedulers, the default and the tuned schedule, and prints the table.\n\n"
        "Options:\n"
        "  -o, --output FILE   the schedule to write, e.g. schedules/<model>.<target class>.sched\n"
        "  --target T          a Halide CPU target (default: host)\n"
        "  --budget TIME       the search's time budget: 90s, 10m, 1h (default: 10m)\n"
        "  --batch N           examples per timed inference call; the training step's\n"
        "                      micro-batch is the smaller of N and 64 (default: 256)\n"
        "  --samples N         timed calls per candidate (default: 15)\n"
        "  --threads N         Halide worker threads for inference (default: all cores)\n"
        "  --no-baselines      skip the baseline table\n"
        "  --fresh             ignore the journal of an earlier run\n";
}

// "90s", "10m", "1h", "600" -> seconds; -1 when malformed.
double parseDuration(const std::string &text) {
  char *end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !(v > 0) || !std::isfinite(v) || v > 1e7)
    return -1;
  std::string unit(end);
  if (unit.empty() || unit == "s")
    return v;
  if (unit == "m")
    return v * 60;
  if (unit == "h")
    return v * 3600;
  return -1;
}

int runAutotune(const std::vector<std::string> &args) {
  OutputArgs a;
  AutotuneOptions o;
  int threads = 0;
  auto extra = [&](const std::vector<std::string> &as, size_t &i, std::string &error) {
    if (as[i] == "--no-baselines")
      return !(o.baselines = false);
    if (as[i] == "--fresh")
      return o.fresh = true;
    if (as[i] == "--budget") {
      if (i + 1 >= as.size() || (o.budgetSeconds = parseDuration(as[i + 1])) <= 0)
        error = "--budget needs a duration such as 90s, 10m or 1h";
      ++i;
      return true;
    }
    return positiveOption(as, i, "--batch", o.batch, error) || positiveOption(as, i, "--threads", threads, error) ||
           positiveOption(as, i, "--samples", o.samples, error);
  };
  if (int rc = parseOutputArgs(args, "autotune", printAutotuneHelp, "an output schedule: -o FILE.sched", a, extra);
      rc >= 0)
    return rc;
  std::string error;
  if (!a.target.has_gpu_feature() && !runsOnThisMachine(a.target, error))
    return usageError(error + " (autotune times the pipelines on this machine)", "autotune ");
  if (!outputFileUsable(a.output, error))
    return usageError(error, "autotune ");
  if (threads > 0)
    setJitThreads(threads);
  o.output = a.output;
  Compilation c(&std::cerr);
  if (int rc = compileOrFail(c, a.path, Stage::MLIRGrad))
    return rc;
  return autotune(c.module(), a.target, o, std::cerr);
}

} // namespace

int main(int argc, char **argv) {
  // Graphviz may exit before reading all of its input; that is reported, not fatal.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    printMainHelp(std::cerr);
    return 2;
  }
  const std::string &first = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (isHelp(first)) {
    printMainHelp(std::cout);
    return 0;
  }
  if (first == "--version") {
    std::cout << kVersion << "\n";
    return 0;
  }
  // Each command: its name, its help, what runs it.
  struct Command {
    const char *name;
    void (*help)(std::ostream &);
    int (*run)(const std::vector<std::string> &);
  };
  static const Command commands[] = {
      {"summary", printSummaryHelp, runSummary}, {"graph", printGraphHelp, runGraph},
      {"compile", printCompileHelp, runCompile}, {"build", printBuildHelp, runBuild},
      {"time", printTimeHelp, runTime},          {"autotune", printAutotuneHelp, runAutotune}};
  if (first == "help") {
    if (rest.empty()) {
      printMainHelp(std::cout);
      return 0;
    }
    std::string names;
    for (const Command &c : commands) {
      if (rest[0] == c.name) {
        c.help(std::cout);
        return 0;
      }
      names += (names.empty() ? "" : ", ") + std::string(c.name);
    }
    return usageError("no help for '" + rest[0] + "' (commands: " + names + ")", "");
  }
  // Anything thrown past a command (file system, Halide) is one line and status 1.
  // A word that is no file but nearly a command is a typo of the command.
  std::vector<std::string> names;
  for (const Command &c : commands)
    names.push_back(c.name);
  std::error_code ec;
  if (first[0] != '-' && !std::filesystem::exists(first, ec) &&
      std::find(names.begin(), names.end(), first) == names.end())
    if (std::string near = lenetc::closestMatch(first, names); !near.empty())
      return usageError("unknown command '" + first + "'; did you mean '" + near + "'?", "");
  try {
    int rc = -1;
    for (const Command &c : commands)
      if (first == c.name)
        rc = c.run(rest);
    if (rc < 0)
      rc = runEmit(args);
    // What went to stdout (an IR dump, a schedule file) must have arrived: a full disk is
    // an error, not a silently cut file.
    std::cout.flush();
    if (rc == 0 && !std::cout) {
      std::cerr << "lenetc: error: cannot write the output: " << std::strerror(errno ? errno : EIO) << "\n";
      return 1;
    }
    return rc;
  } catch (const std::exception &e) {
    std::cerr << "lenetc: error: " << e.what() << "\n";
    return 1;
  }
}
