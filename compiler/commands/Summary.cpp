// lenetc summary MODEL.nn: layers, shapes and parameter counts.
#include "commands/Command.h"

#include "tools/Layers.h"

#include <iostream>

namespace lenetc {

void printSummaryHelp(std::ostream &os) {
  os << "Usage: lenetc summary MODEL.nn\n\n"
        "Prints the model's layers (an activation that follows an op shares its row), each\n"
        "layer's per-example output shape and parameter count, the total, and the training\n"
        "defaults of the model's train block.\n";
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

} // namespace lenetc
