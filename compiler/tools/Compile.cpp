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
    return parseMLIR(file_->text()) && runPasses(stage);
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
