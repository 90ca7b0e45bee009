// lenetc [--emit=STAGE] MODEL.nn: print one stage of the compiler (the Toy tutorial's
// habit); the main help, which lists the language's ops.
#include "commands/Command.h"

#include "dialect/MLIRGen.h"
#include "halide/Schedule.h"
#include "tune/Autotune.h"
#include "tune/Generator.h"

#include "llvm/Support/raw_os_ostream.h"

#include <iostream>

namespace lenetc {

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
        "  lenetc import MODEL.onnx -o FILE.nn write an ONNX model as a model description and\n"
        "                                      its weights as a file the trainer starts from\n"
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

} // namespace lenetc
