#include "commands/Command.h"

#include "tools/Glue.h"
#include "tools/Graph.h"
#include "tools/Link.h"
#include "tools/Layers.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace lenetc {

const std::vector<Command> &commands() {
  static const std::vector<Command> all = {
      {"summary", printSummaryHelp, runSummary}, {"graph", printGraphHelp, runGraph},
      {"compile", printCompileHelp, runCompile}, {"build", printBuildHelp, runBuild},
      {"time", printTimeHelp, runTime},          {"autotune", printAutotuneHelp, runAutotune},
      {"import", printImportHelp, runImport}};
  return all;
}

int usageError(const std::string &message, const char *helpCommand) {
  std::cerr << "lenetc: error: " << message << "\n"
            << "Run 'lenetc " << helpCommand << "--help' for usage.\n";
  return 2;
}

bool isHelp(const std::string &a) { return a == "-h" || a == "--help"; }

int compileOrFail(Compilation &c, const std::string &path, Stage stage) {
  return c.compileFile(path, stage) ? 0 : 1;
}

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

ScheduleOptions cliScheduleOptions() {
  ScheduleOptions o;
  o.directory = defaultScheduleDirectory();
  o.messages = &std::cerr;
  return o;
}

// What the trainer's run report shows of the model: the summary and the graph, drawn from a
// compilation of its own (they read the forward function, before autodiff). The SVG is also
// left in `dir`; without Graphviz there is none, and the report says so.
static ModelDrawings drawModel(const std::string &path, const std::string &dir, const std::string &model) {
  ModelDrawings d;
  Compilation forward(nullptr);
  if (!forward.compileFile(path, Stage::MLIR))
    return d;
  ModelSummary summary = summarize(forward.module());
  std::ostringstream table;
  printSummary(summary, table);
  d.summary = table.str();
  std::string svgPath = dir + "/" + model + "_graph.svg", error;
  if (writeGraph(summary, svgPath, error)) {
    std::ifstream in(svgPath);
    std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Inline in HTML: the <svg> element itself, without the XML prolog and DOCTYPE.
    if (size_t start = svg.find("<svg"); start != std::string::npos)
      d.graphSvg = svg.substr(start);
  }
  return d;
}

bool distributedOption(const std::vector<std::string> &args, size_t &i, bool &mpi, std::string &error) {
  if (args[i] != "--distributed")
    return false;
  if (i + 1 >= args.size())
    error = "--distributed needs a value: mpi";
  else if (args[++i] != "mpi")
    error = "--distributed must be mpi, not '" + args[i] + "'";
  else if (!mpiAvailable())
    error = "--distributed mpi: this lenetc was built without MPI (install libopenmpi-dev and build it again)";
  else
    mpi = true;
  return true;
}

int compileInto(const std::string &path, const std::string &dir, const Halide::Target &target,
                const ScheduleOptions &schedules, std::string &model, bool log, bool mpi) {
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
      !writeModelGlue(c.module(), path, target.to_string(), target.has_gpu_feature(), drawModel(path, dir, model),
                      glue, error) ||
      !writeTrainerMain(model, mpi, main, error)) {
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

int parseOutputArgs(const std::vector<std::string> &args, const char *command, void (*help)(std::ostream &),
                    const char *outputWhat, OutputArgs &out, const ExtraOptions &extra) {
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

} // namespace lenetc
