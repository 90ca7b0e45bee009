// lenetc import MODEL.onnx -o MODEL.nn [--weights FILE]: an ONNX model as a model
// description and a weights file (frontend/OnnxImport.h).
#include "commands/Command.h"

#include "dialect/Dialect.h"
#include "frontend/OnnxImport.h"
#include "tools/Layers.h"

#include "lenetc/Files.h"
#include "lenetc/Weights.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace lenetc {

void printImportHelp(std::ostream &os) {
  os << "Usage: lenetc import MODEL.onnx -o MODEL.nn [--weights FILE] [--name NAME]\n\n"
        "Writes an ONNX model (opsets 9-17; PyTorch's torch.onnx.export in eval mode, for one) as a\n"
        "model description, and its initializers as a weights file that a trainer starts from\n"
        "(--init-from FILE: to fine-tune, evaluate with --eval, or predict).\n\n"
        "Maps Conv (group 1, square kernels, equal pads), Gemm, MatMul + Add, Flatten, the Reshape\n"
        "of x.view(batch, -1), AveragePool, MaxPool, Relu, Sigmoid, Tanh, LeakyRelu, Elu,\n"
        "BatchNormalization, Dropout, LeCun's scaled tanh and subsampling (Mul, Add by constants),\n"
        "and drops a final Softmax or LogSoftmax (the loss applies it). Anything else is an error\n"
        "naming the node; then nothing is written.\n\n"
        "  -o FILE.nn       the model description (its name: the file's, unless --name)\n"
        "  --weights FILE   the weights file (default: FILE.nn with .weights for .nn)\n"
        "  --name NAME      the model's name\n\n"
        "Then: lenetc build FILE.nn -o FILE-train && ./FILE-train --init-from FILE.weights\n";
}

namespace {

// Every parameter of the compiled model has its tensor in the weights, with its shape: the
// importer's names and layouts checked against the compiler's own.
bool weightsFit(mlir::ModuleOp module, const std::vector<NamedTensor> &weights, std::string &error) {
  std::map<std::string, const NamedTensor *> byName;
  for (const NamedTensor &w : weights)
    byName[w.name] = &w;
  bool ok = true;
  module.walk([&](lenet::ParamOp p) {
    auto shape = p.getType().cast<mlir::RankedTensorType>().getShape();
    auto found = byName.find(p.name().str());
    if (!ok)
      return;
    if (found == byName.end() || found->second->shape != std::vector<int64_t>(shape.begin(), shape.end())) {
      error = fmt::format("the imported model's parameter '{}' has no weights of its shape", p.name().str());
      ok = false;
      return;
    }
    byName.erase(found);
  });
  if (ok && !byName.empty()) {
    error = fmt::format("weights '{}' belong to no parameter of the imported model", byName.begin()->first);
    ok = false;
  }
  return ok;
}

} // namespace

int runImport(const std::vector<std::string> &args) {
  std::string input, output, weightsPath, name;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (isHelp(a)) {
      printImportHelp(std::cout);
      return 0;
    }
    if (a == "-o" || a == "--output" || a == "--weights" || a == "--name") {
      if (i + 1 >= args.size())
        return usageError(a + " needs a value", "import ");
      (a == "--weights" ? weightsPath : a == "--name" ? name : output) = args[++i];
    } else if (!a.empty() && a[0] == '-') {
      return usageError("unknown option '" + a + "' for import", "import ");
    } else if (!input.empty()) {
      return usageError("import takes one ONNX file", "import ");
    } else {
      input = a;
    }
  }
  if (input.empty())
    return usageError("import needs an ONNX file", "import ");
  if (output.empty())
    return usageError("import needs an output model file (-o MODEL.nn)", "import ");
  if (weightsPath.empty())
    weightsPath = std::filesystem::path(output).replace_extension(".weights").string();
  if (name.empty())
    name = toIdentifier(std::filesystem::path(output).stem().string());
  if (name.empty() || toIdentifier(name) != name)
    return usageError("'" + name + "' is not a model name (letters, digits and _); give --name", "import ");
  auto same = [](const std::string &a, const std::string &b) {
    std::error_code ec;
    return std::filesystem::weakly_canonical(a, ec) == std::filesystem::weakly_canonical(b, ec);
  };
  if (same(weightsPath, output) || same(weightsPath, input) || same(output, input))
    return usageError("the ONNX file, the model file and the weights file must be three files", "import ");
  std::string error;
  if (!outputFileUsable(output, error) || !outputFileUsable(weightsPath, error)) {
    std::cerr << "lenetc: error: " << error << "\n";
    return 1;
  }

  std::ifstream in(input, std::ios::binary);
  if (!in) {
    fmt::print(std::cerr, "lenetc: error: cannot open '{}'\n", input);
    return 1;
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  ImportedModel imported;
  try {
    imported = importOnnx(bytes.str(), std::filesystem::path(input).filename().string(), name);
  } catch (const ImportError &e) {
    fmt::print(std::cerr, "lenetc: error: {}: {}\n", input, e.what());
    return 1;
  }
  // What was written must compile, and its parameters must be the weights'.
  Compilation c(&std::cerr);
  if (!c.compileText(output, imported.text, Stage::MLIR) || !weightsFit(c.module(), imported.weights, error)) {
    fmt::print(std::cerr, "lenetc: error: {}: the imported model does not compile{}{} (a bug of lenetc import)\n",
               input, error.empty() ? "" : ": ", error);
    return 1;
  }
  // Both files are written beside their targets first, then renamed one after the other:
  // a failure leaves neither (and the previous files as they were).
  std::string weightsTmp = weightsPath + ".import.tmp", outputTmp = output + ".import.tmp";
  std::error_code ec;
  try {
    saveWeights(weightsTmp, imported.weights);
    saveFileAtomically(outputTmp, imported.text, "model file");
    std::filesystem::rename(weightsTmp, weightsPath);
    std::filesystem::rename(outputTmp, output);
  } catch (...) {
    std::filesystem::remove(weightsTmp, ec);
    std::filesystem::remove(outputTmp, ec);
    throw;
  }
  ModelSummary summary = summarize(c.module());
  fmt::print(std::cerr, "lenetc: imported {}: {} layers, {} parameters; wrote {} and {}\n", input,
             summary.layers.size(), withThousands(summary.totalParams), output, weightsPath);
  return 0;
}

} // namespace lenetc
