// libFuzzer target for the front end: any bytes as a model file, through the lexer, parser,
// MLIR generation, verifiers, shape inference and autodiff. It must never crash, hang or
// leak; every input ends in a model or in diagnostics. Run it with tests/fuzz/run.sh.
#include "tools/Compile.h"

#include "mlir/IR/MLIRContext.h"

#include <cstdint>
#include <memory>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // One MLIR context for many inputs (making one costs more than compiling a model), renewed
  // now and then so that what it uniques (names, attributes) cannot grow without bound.
  static std::unique_ptr<mlir::MLIRContext> context;
  static unsigned uses = 0;
  if (!context || ++uses % 5000 == 0)
    context = std::make_unique<mlir::MLIRContext>();
  lenetc::Compilation c(nullptr, context.get());
  c.compileText("fuzz.nn", std::string(reinterpret_cast<const char *>(data), size), lenetc::Stage::MLIRGrad);
  return 0;
}
