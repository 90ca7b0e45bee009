// lenetc graph MODEL.nn -o FILE: the model's graph, drawn by Graphviz.
#include "commands/Command.h"

#include "tools/Graph.h"
#include "tools/Layers.h"

#include <iostream>

namespace lenetc {

void printGraphHelp(std::ostream &os) {
  os << "Usage: lenetc graph MODEL.nn -o FILE\n\n"
        "Draws the model's layers and their connections with Graphviz. FILE's extension picks\n"
        "the format: .svg, .png or .pdf (rendered by Graphviz' dot), or .dot (the DOT text).\n\n"
        "Options:\n"
        "  -o, --output FILE   where to write the drawing (required)\n";
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

} // namespace lenetc
