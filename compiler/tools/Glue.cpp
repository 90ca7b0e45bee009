#include "tools/Glue.h"

#include "dialect/Dialect.h"
#include "tools/OnnxExport.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

using namespace mlir;

namespace lenetc {

std::string modelSymbol(const std::string &modelName) { return "lenetc_model_" + modelName; }

namespace {

std::string quoted(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (c == '\n')
      out += "\\n";
    else if (c == '\r' || c == '\t')
      out += ' ';
    else
      out += c;
  }
  return out + "\"";
}

// A text of many lines as adjacent string literals, a line each.
std::string quotedLines(const std::string &s) {
  if (s.empty())
    return "\"\"";
  std::string out;
  for (size_t start = 0; start < s.size();) {
    size_t end = s.find('\n', start);
    end = end == std::string::npos ? s.size() : end + 1;
    out += (out.empty() ? "" : "\n    ") + quoted(s.substr(start, end - start));
    start = end;
  }
  return out;
}

// Fan-in and fan-out of a parameter, from the op that owns it (as PyTorch computes them
// for Xavier: a conv weight's receptive field counts; a table conv averages over maps).
// A bias has its layer's fan-in (PyTorch's default bias bound is 1/sqrt of it).
void fans(lenet::ParamOp p, int64_t &fanIn, int64_t &fanOut) {
  auto shape = p.getType().cast<RankedTensorType>().getShape();
  fanIn = fanOut = shape[0];
  if (p.role() == "bias") {
    for (Operation *user : p.getResult().getUsers()) {
      Value weight;
      if (auto conv = dyn_cast<lenet::ConvOp>(user); conv && conv.bias() == p.getResult())
        weight = conv.weight();
      else if (auto dense = dyn_cast<lenet::DenseOp>(user); dense && dense.bias() == p.getResult())
        weight = dense.weight();
      else if (auto sub = dyn_cast<lenet::SubsampleOp>(user); sub && sub.bias() == p.getResult())
        fanIn = sub.sizeAttr().getInt() * sub.sizeAttr().getInt();
      if (auto w = weight ? weight.getDefiningOp<lenet::ParamOp>() : lenet::ParamOp()) {
        int64_t unusedFanOut;
        fans(w, fanIn, unusedFanOut);
      }
    }
    return;
  }
  if (p.role() == "coef") {
    for (Operation *user : p.getResult().getUsers())
      if (auto sub = dyn_cast<lenet::SubsampleOp>(user))
        fanIn = sub.sizeAttr().getInt() * sub.sizeAttr().getInt();
    return;
  }
  if (p.role() != "weight")
    return;
  // The forward op that owns the weight (gradient ops use it too).
  Operation *owner = nullptr;
  for (Operation *user : p.getResult().getUsers())
    if (isa<lenet::ConvOp, lenet::DenseOp>(user))
      owner = user;
  if (!owner)
    return;
  if (auto conv = dyn_cast<lenet::ConvOp>(owner)) {
    int64_t k2 = conv.kernelAttr().getInt() * conv.kernelAttr().getInt();
    int64_t filters = conv.filtersAttr().getInt();
    int64_t channels = conv.input().getType().cast<RankedTensorType>().getShape()[1];
    int64_t connections = conv.tableAttr() ? shape[0] : filters * channels;
    fanIn = connections * k2 / filters;
    fanOut = connections * k2 / channels;
  } else if (isa<lenet::DenseOp>(owner)) {
    fanIn = shape[1];
    fanOut = shape[0];
  }
}

// The train block as a lenetc::TrainDefaults initializer.
std::string trainDefaults(ModuleOp module) {
  auto train = module->getAttrOfType<DictionaryAttr>(lenet::kTrainAttr);
  auto str = [&](DictionaryAttr d, const char *k) { return quoted(d.getAs<StringAttr>(k).getValue().str()); };
  auto num = [&](DictionaryAttr d, const char *k, double fallback) {
    std::ostringstream os;
    os.precision(17);
    if (auto f = d.getAs<FloatAttr>(k))
      os << f.getValueAsDouble();
    else if (auto i = d.getAs<IntegerAttr>(k))
      os << i.getInt();
    else
      os << fallback;
    return os.str();
  };
  auto opt = train.getAs<DictionaryAttr>("optimizer");
  auto sched = train.getAs<DictionaryAttr>("lr_schedule");
  auto nesterov = opt.getAs<BoolAttr>("nesterov");
  std::ostringstream os;
  os << "{" << str(train, "data") << ", " << str(opt, "name") << ", " << num(opt, "lr", 0.01) << ", "
     << num(opt, "momentum", 0) << ", " << num(opt, "beta1", 0.9) << ", " << num(opt, "beta2", 0.999) << ", "
     << num(opt, "eps", 1e-7) << ", " << num(opt, "rho", 0.9) << ", " << num(opt, "weight_decay", 0) << ", "
     << (nesterov && nesterov.getValue() ? "true" : "false") << ", " << str(sched, "name") << ", "
     << num(sched, "every", 10) << ", " << num(sched, "gamma", 0.1) << ", " << num(sched, "factor", 0.1)
     << ", " << num(sched, "patience", 10) << ", " << num(sched, "min_lr", 0) << ", "
     << num(train, "batch", 32) << ", " << num(train, "epochs", 10) << ", " << str(train, "init") << ", "
     << num(train, "seed", 0) << ", " << num(train, "val", 0) << ", " << str(train, "normalize") << ", "
     << str(train, "bias_init") << "}";
  return os.str();
}

} // namespace

bool writeModelGlue(ModuleOp module, const std::string &sourcePath, const std::string &target, bool gpu,
                    const ModelDrawings &drawings, const std::string &path, std::string &error) {
  FuncOp train;
  for (auto f : module.getOps<FuncOp>())
    if (f.getName().endswith("_train_step"))
      train = f;
  if (!train) {
    error = "internal error: no training step to describe";
    return false;
  }
  std::string model = train.getName().drop_back(std::string("_train_step").size()).str();
  auto input = train.getArgument(0).getType().cast<RankedTensorType>().getShape().drop_front();
  auto classes = train.getArgAttrOfType<IntegerAttr>(1, lenet::kClassesAttr).getInt();

  std::string text;
  auto os = std::back_inserter(text);
  fmt::format_to(os, "// Generated by lenetc from {}: do not edit.\n#include \"lenetc/ModelInfo.h\"\n", sourcePath);
  std::vector<std::string> headers = {model + "_infer", model + "_infer_one", model + "_train_step"};
  if (gpu)
    headers.insert(headers.end(), {model + "_infer_gpu", model + "_train_step_gpu"});
  for (const auto &h : headers)
    fmt::format_to(os, "#include \"{}.h\"\n", h);
  fmt::format_to(os, "\nnamespace {{\nconst lenetc::ParamInfo kParams[] = {{\n");
  int numParams = 0;
  for (auto p : train.getBody().front().getOps<lenet::ParamOp>()) {
    auto shape = p.getType().cast<RankedTensorType>().getShape();
    int64_t fanIn, fanOut;
    fans(p, fanIn, fanOut);
    std::vector<int64_t> dims(4, 0);
    std::copy(shape.begin(), shape.end(), dims.begin());
    fmt::format_to(os, "    {{{}, {}, {}, {{{}}}, {}, {}, {}}},\n", quoted(p.name().str()), quoted(p.role().str()),
                   shape.size(), fmt::join(dims, ", "), p.getType().cast<RankedTensorType>().getNumElements(), fanIn,
                   fanOut);
    ++numParams;
  }
  // The ONNX export (tools/OnnxExport.h): its bytes and the initializers' recipes.
  OnnxExportPlan onnx;
  std::string onnxError;
  bool hasOnnx = planOnnxExport(module, onnx, onnxError);
  if (hasOnnx) {
    auto bytes = [](const std::string &b) {
      std::vector<int> v(b.begin(), b.end());
      for (int &x : v)
        x &= 0xff;
      return fmt::format("{}", fmt::join(v, ","));
    };
    fmt::format_to(os, "}};\n\nconst unsigned char kOnnxHead[] = {{{}}};\nconst unsigned char kOnnxGraph[] = {{{}}};\n",
                   bytes(onnx.modelHead), bytes(onnx.graph));
    for (size_t i = 0; i < onnx.initializers.size(); ++i)
      if (!onnx.initializers[i].blocks.empty())
        fmt::format_to(os, "const int32_t kOnnxBlocks{}[] = {{{}}};\n", i, fmt::join(onnx.initializers[i].blocks, ", "));
    fmt::format_to(os, "const lenetc::OnnxInitializerInfo kOnnxInitializers[] = {{\n");
    for (size_t i = 0; i < onnx.initializers.size(); ++i) {
      const OnnxParamInitializer &t = onnx.initializers[i];
      std::vector<int64_t> dims(4, 0);
      std::copy(t.shape.begin(), t.shape.end(), dims.begin());
      fmt::format_to(os, "    {{{}, {}, {}, {{{}}}, {:.9g}, {}, {}, {}}},\n", quoted(t.name), t.param, t.shape.size(),
                     fmt::join(dims, ", "), t.scale, t.blocks.empty() ? "nullptr" : fmt::format("kOnnxBlocks{}", i),
                     t.blocks.size(), t.blockSize);
    }
    fmt::format_to(os, "}};\nconst lenetc::OnnxExportInfo kOnnx = {{kOnnxHead, sizeof kOnnxHead, kOnnxGraph, "
                       "sizeof kOnnxGraph, {}, kOnnxInitializers}};\n",
                   onnx.initializers.size());
  } else {
    fmt::format_to(os, "}};\n// No ONNX export: {}.\n", onnxError);
  }
  bool batchStatistics = !train.getBody().front().getOps<lenet::BatchNormOp>().empty();
  bool noise = train.getNumArguments() > 2 && train.getArgAttr(2, lenet::kNoiseAttr);
  std::vector<int64_t> inputDims(3, 0);
  std::copy(input.begin(), input.end(), inputDims.begin());
  fmt::format_to(os,
                 "}} // namespace\n\n"
                 "extern \"C\" const lenetc::ModelInfo {} = {{\n"
                 "    {},\n    {},\n    {}, {{{}}},\n    {},\n    {}, kParams,\n"
                 "    {}_train_step_argv,\n    {}_infer_argv,\n    {},\n    {},\n    {},\n    {},\n"
                 "    {}_infer_one_argv,\n    {},\n    {},\n    {},\n    {},\n    {},\n}};\n",
                 modelSymbol(model), quoted(model), quoted(sourcePath), input.size(), fmt::join(inputDims, ", "),
                 classes, numParams, model, model, trainDefaults(module),
                 gpu ? model + "_train_step_gpu_argv" : "nullptr", gpu ? model + "_infer_gpu_argv" : "nullptr",
                 quoted(target), model, quotedLines(drawings.summary), quotedLines(drawings.graphSvg),
                 batchStatistics, noise, hasOnnx ? "&kOnnx" : "nullptr");

  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    error = "cannot write '" + path + "'";
    return false;
  }
  return true;
}

bool writeTrainerMain(const std::string &modelName, bool mpi, const std::string &path, std::string &error) {
  std::ofstream out(path, std::ios::trunc);
  if (mpi)
    out << fmt::format("// Generated by lenetc: the trainer of model {0}, data-parallel under mpirun.\n"
                       "#include \"lenetc/MpiCommunicator.h\"\n#include \"lenetc/Trainer.h\"\n\n"
                       "extern \"C\" const lenetc::ModelInfo {1};\n\n"
                       "int main(int argc, char **argv) {{\n"
                       "  auto communicator = lenetc::mpiCommunicator(&argc, &argv);\n"
                       "  return lenetc::trainerMain({1}, argc, argv, *communicator);\n}}\n",
                       modelName, modelSymbol(modelName));
  else
    out << fmt::format("// Generated by lenetc: the trainer of model {0}.\n#include \"lenetc/Trainer.h\"\n\n"
                       "extern \"C\" const lenetc::ModelInfo {1};\n\n"
                       "int main(int argc, char **argv) {{ return lenetc::trainerMain({1}, argc, argv); }}\n",
                       modelName, modelSymbol(modelName));
  out.close();
  if (!out) {
    error = "cannot write '" + path + "'";
    return false;
  }
  return true;
}

} // namespace lenetc
