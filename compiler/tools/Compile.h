// The compiler driver: a model file through each stage, stopping at the first that fails.
//   read -> lex/parse (AST) -> MLIR generation -> shape inference + verification (MLIR)
//        -> autodiff: training step and inference functions (MLIRGrad)
// A file ending in .mlir is read as the lenet dialect's text instead of the model language
// (it enters at shape inference), as the Toy tutorial's toyc does.
// Every stage reports through one DiagnosticEngine, MLIR's own diagnostics included.
#pragma once

#include "frontend/AST.h"
#include "frontend/Diagnostics.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

namespace mlir {
class ScopedDiagnosticHandler;
} // namespace mlir

namespace lenetc {

enum class Stage { AST, MLIR, MLIRGrad };

class Compilation {
public:
  // Diagnostics go to `diagOut` (may be null: recorded only). With `sharedContext`, MLIR
  // work happens in that context instead of a new one per compilation (the fuzzer's case:
  // making a context costs more than compiling a small model).
  explicit Compilation(std::ostream *diagOut, mlir::MLIRContext *sharedContext = nullptr);
  ~Compilation();

  // Compiles the file at `path` up to `stage`. False after an error has been reported.
  bool compileFile(const std::string &path, Stage stage);
  // The same for text in memory, shown in messages as `path` (tests use this).
  bool compileText(const std::string &path, const std::string &text, Stage stage);

  const ModelAST &ast() const { return *ast_; }
  mlir::ModuleOp module() { return *module_; }
  // Whether the module carries the train block's settings (a .nn model always does; a
  // .mlir file may not): what a trainer's glue and a summary read. Reports when not.
  bool checkTrainSettings();
  DiagnosticEngine &diag() { return *diag_; }
  mlir::MLIRContext &context() { return *context_; }

private:
  bool run(Stage stage);
  void makeContext();
  bool parseMLIR(const std::string &text);
  bool runPasses(Stage stage);

  std::ostream *diagOut_;
  std::unique_ptr<SourceFile> file_;
  std::unique_ptr<DiagnosticEngine> diag_;
  std::unique_ptr<mlir::MLIRContext> ownContext_;
  mlir::MLIRContext *context_ = nullptr;
  std::unique_ptr<mlir::ScopedDiagnosticHandler> handler_; // destroyed before the context
  std::optional<ModelAST> ast_;
  mlir::OwningOpRef<mlir::ModuleOp> module_;
};

// "" when `module` has the train settings a trainer and a summary read, else what is missing.
std::string missingTrainSettings(mlir::ModuleOp module);

} // namespace lenetc
