#include "tools/Compile.h"

#include "dialect/Dialect.h"
#include "dialect/MLIRGen.h"
#include "frontend/Parser.h"
#include "passes/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <ostream>

namespace lenetc {

Compilation::Compilation(std::ostream *diagOut, mlir::MLIRContext *sharedContext)
    : diagOut_(diagOut), context_(sharedContext) {}
Compilation::~Compilation() = default;

bool Compilation::compileFile(const std::string &path, Stage stage) {
  std::string error;
  SourceFile file("", "");
  if (!SourceFile::read(path, file, error)) {
    file_ = std::make_unique<SourceFile>(path, "");
    diag_ = std::make_unique<DiagnosticEngine>(*file_, diagOut_);
    diag_->error({}, error);
    return false;
  }
  return compileText(path, file.text(), stage);
}

// The first file position in an MLIR location (ops made by lenetc carry FileLineColLocs,
// possibly wrapped by passes in name, call-site or fused locations).
static Loc toLoc(mlir::Location loc) {
  Loc out;
  loc->walk([&](mlir::Location l) {
    if (auto flc = l.dyn_cast<mlir::FileLineColLoc>()) {
      out = Loc{static_cast<int>(flc.getLine()), static_cast<int>(flc.getColumn())};
      return mlir::WalkResult::interrupt();
    }
    return mlir::WalkResult::advance();
  });
  return out;
}

static Severity toSeverity(mlir::DiagnosticSeverity s) {
  switch (s) {
  case mlir::DiagnosticSeverity::Error:
    return Severity::Error;
  case mlir::DiagnosticSeverity::Warning:
    return Severity::Warning;
  default:
    return Severity::Note;
  }
}

bool Compilation::compileText(const std::string &path, const std::string &text, Stage stage) {
  file_ = std::make_unique<SourceFile>(path, text);
  diag_ = std::make_unique<DiagnosticEngine>(*file_, diagOut_);
  return run(stage);
}

void Compilation::makeContext() {
  if (!context_) {
    ownContext_ = std::make_unique<mlir::MLIRContext>();
    context_ = ownContext_.get();
  }
  context_->getOrLoadDialect<lenet::LenetDialect>();
  // Users see our one-line diagnostics, not MLIR's dump of the failing op.
  context_->printOpOnDiagnostic(false);
  // Kept for the compilation's lifetime: later stages report through it too.
  handler_ = std::make_unique<mlir::ScopedDiagnosticHandler>(context_, [this](mlir::Diagnostic &d) {
    diag_->report(toSeverity(d.getSeverity()), toLoc(d.getLocation()), d.str());
    for (auto &note : d.getNotes())
      diag_->note(toLoc(note.getLocation()), note.str());
    return mlir::success();
  });
}

bool Compilation::parseMLIR(const std::string &text) {
  module_ = mlir::parseSourceString<mlir::ModuleOp>(text, context_);
  if (!module_ && !diag_->hadError())
    diag_->error({}, "cannot parse the MLIR in '" + file_->path() + "'");
  return static_cast<bool>(module_);
}

// A .mlir file is lenetc's own IR only if it has what the passes read: one model function
// whose arguments are named, the second a label. (The dialect's verifiers check the ops;
// this checks the frame. The train settings are checked where they are read:
// missingTrainSettings.)
static std::string notLenetIR(mlir::ModuleOp module) {
  int models = 0;
  for (auto func : module.getOps<mlir::FuncOp>()) {
    if (func.getName().endswith("_train_step"))
      continue;
    ++models;
    if (func.getNumArguments() < 2 || !func.getArgAttrOfType<mlir::IntegerAttr>(1, lenet::kClassesAttr))
      return "function @" + func.getName().str() + " does not take an input and a label";
    if (func.getNumArguments() > 3 || (func.getNumArguments() == 3 && !func.getArgAttr(2, lenet::kNoiseAttr)))
      return "function @" + func.getName().str() + " takes arguments besides an input, a label and dropout's noise";
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      if (!func.getArgAttrOfType<mlir::StringAttr>(i, lenet::kArgNameAttr))
        return "argument " + std::to_string(i) + " of @" + func.getName().str() + " has no '" +
               lenet::kArgNameAttr + "'";
  }
  if (models != 1)
    return "it has " + std::to_string(models) + " model functions, not one";
  return "";
}

std::string missingTrainSettings(mlir::ModuleOp module) {
  auto train = module->getAttrOfType<mlir::DictionaryAttr>(lenet::kTrainAttr);
  if (!train)
    return std::string("the module has no '") + lenet::kTrainAttr + "' attribute (the train block's settings)";
  for (const char *key : {"data", "init", "normalize", "bias_init"})
    if (!train.getAs<mlir::StringAttr>(key))
      return std::string("its train settings have no '") + key + "'";
  for (const char *key : {"optimizer", "lr_schedule"}) {
    auto call = train.getAs<mlir::DictionaryAttr>(key);
    if (!call || !call.getAs<mlir::StringAttr>("name"))
      return std::string("its train settings have no '") + key + "' with a name";
  }
  return "";
}

bool Compilation::checkTrainSettings() {
  if (std::string why = missingTrainSettings(*module_); !why.empty()) {
    diag_->error({}, "'" + file_->path() + "' cannot make a trainer or a summary: " + why +
                         " (write it with lenetc --emit=mlir MODEL.nn)");
    return false;
  }
  return true;
}

bool Compilation::runPasses(Stage stage) {
  mlir::PassManager pm(context_);
  pm.addNestedPass<mlir::FuncOp>(lenet::createShapeInferencePass());
  if (stage == Stage::MLIRGrad)
    pm.addPass(lenet::createAutodiffPass());
  if (mlir::failed(pm.run(*module_)) || mlir::failed(mlir::verify(*module_))) {
    if (!diag_->hadError())
      diag_->error({}, "internal error: the model's IR did not verify");
    return false;
  }
  return !diag_->hadError();
}

bool Compilation::run(Stage stage) {
  bool isMLIR = llvm::StringRef(file_->path()).endswith(".mlir");
  if (isMLIR) {
    if (stage == Stage::AST) {
      diag_->error({},
                   "'" + file_->path() + "' is MLIR: it has no syntax tree (--emit=ast needs a .nn file)");
      return false;
    }
    makeContext();
    if (!parseMLIR(file_->text()))
      return false;
    if (std::string why = notLenetIR(*module_); !why.empty()) {
      diag_->error({}, "'" + file_->path() + "' is not lenetc's IR: " + why +
                           " (write it with lenetc --emit=mlir MODEL.nn)");
      return false;
    }
    return runPasses(stage);
  }
  ast_ = parseModel(*file_, *diag_);
  if (!ast_)
    return false;
  if (stage == Stage::AST)
    return true;
  makeContext();
  module_ = mlirGen(*context_, *ast_, file_->path(), *diag_);
  return module_ && runPasses(stage);
}

} // namespace lenetc
