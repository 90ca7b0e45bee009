#include "tools/Layers.h"

#include "dialect/Dialect.h"

#include "mlir/IR/BuiltinAttributes.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <map>
#include <ostream>
#include <sstream>

using namespace mlir;

namespace lenetc {

std::string withThousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// The op's row in the summary: its kind and window (`conv 5x5 pad 2 table(60)`, `avgpool 2x2/2`).
static std::string describeOp(Operation *op) {
  std::string out = op->getName().stripDialect().str();
  auto window = [&](IntegerAttr size, IntegerAttr stride) {
    out += fmt::format(" {0}x{0}/{1}", size.getInt(), stride.getInt());
  };
  if (auto conv = dyn_cast<lenet::ConvOp>(op)) {
    out += fmt::format(" {0}x{0}", conv.kernelAttr().getInt());
    if (conv.strideAttr().getInt() != 1)
      out += fmt::format("/{}", conv.strideAttr().getInt());
    if (conv.padAttr().getInt())
      out += fmt::format(" pad {}", conv.padAttr().getInt());
    if (auto table = conv.tableAttr())
      out += fmt::format(" table({})", lenet::tableConnections(table));
  } else if (auto pool = dyn_cast<lenet::AvgPoolOp>(op)) {
    window(pool.sizeAttr(), pool.strideAttr());
  } else if (auto pool = dyn_cast<lenet::MaxPoolOp>(op)) {
    window(pool.sizeAttr(), pool.strideAttr());
  } else if (auto sub = dyn_cast<lenet::SubsampleOp>(op)) {
    window(sub.sizeAttr(), sub.strideAttr());
  }
  return out;
}

// A train-block value as the model file would write it (numbers as %g).
static std::string formatTrainValue(Attribute a) {
  if (auto s = a.dyn_cast<StringAttr>())
    return s.getValue().str();
  if (auto i = a.dyn_cast<IntegerAttr>())
    return i.getType().isInteger(1) ? (i.getValue().getBoolValue() ? "true" : "false") : fmt::format("{}", i.getInt());
  if (auto f = a.dyn_cast<FloatAttr>())
    return fmt::format("{:g}", f.getValueAsDouble());
  if (auto b = a.dyn_cast<BoolAttr>())
    return b.getValue() ? "true" : "false";
  if (auto d = a.dyn_cast<DictionaryAttr>()) {
    // A call: its name and its settings.
    std::vector<std::string> settings;
    for (NamedAttribute na : d)
      if (na.getName() != "name")
        settings.push_back(fmt::format("{}={}", na.getName().str(), formatTrainValue(na.getValue())));
    return fmt::format("{}({})", d.getAs<StringAttr>("name").getValue().str(), fmt::join(settings, ", "));
  }
  return "";
}

ModelSummary summarize(ModuleOp module) {
  ModelSummary summary;
  FuncOp func = *module.getOps<FuncOp>().begin();
  summary.name = func.getName().str();

  std::map<void *, size_t> rowOf; // Value (opaque pointer) -> the layer row that produces it
  auto key = [](Value v) { return v.getAsOpaquePointer(); };
  auto shapeOf = [](Value v) {
    auto s = lenet::exampleShape(v.getType());
    return s ? std::vector<int64_t>(s->begin(), s->end()) : std::vector<int64_t>{};
  };

  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    if (func.getArgAttr(i, lenet::kNoiseAttr))
      continue; // dropout's seed, not a layer
    Layer l;
    l.name = func.getArgAttrOfType<StringAttr>(i, lenet::kArgNameAttr).getValue().str();
    if (auto classes = func.getArgAttrOfType<IntegerAttr>(i, lenet::kClassesAttr)) {
      l.op = "label";
      l.shape = {};
      l.note = "class[" + std::to_string(classes.getInt()) + "]";
    } else {
      l.op = "input";
      l.shape = shapeOf(func.getArgument(i));
    }
    rowOf[key(func.getArgument(i))] = summary.layers.size();
    summary.layers.push_back(l);
  }

  for (Operation &op : func.getBody().front()) {
    if (isa<lenet::ParamOp, lenet::ReturnOp>(op))
      continue;
    Value input = op.getNumOperands() ? op.getOperand(0) : Value();
    // Fold an activation into the row of the op it follows, if that op feeds only it.
    if (op.hasTrait<lenet::Activation>() && input && input.getDefiningOp() && input.hasOneUse() &&
        !input.getDefiningOp()->hasTrait<lenet::Activation>() && rowOf.count(key(input)) &&
        rowOf[key(input)] == summary.layers.size() - 1) {
      Layer &row = summary.layers.back();
      row.op += " |> " + describeOp(&op);
      row.shape = shapeOf(op.getResult(0));
      rowOf[key(op.getResult(0))] = summary.layers.size() - 1;
      continue;
    }
    Layer l;
    l.name = lenet::opName(&op).str();
    l.op = describeOp(&op);
    l.shape = shapeOf(op.getResult(0));
    for (Value operand : op.getOperands()) {
      if (auto param = operand.getDefiningOp<lenet::ParamOp>()) {
        auto type = param.getType().cast<RankedTensorType>();
        l.params += type.getNumElements();
        if (lenet::isStateRole(param.role()))
          summary.nonTrainableParams += type.getNumElements();
      } else if (rowOf.count(key(operand))) {
        l.inputs.push_back(rowOf[key(operand)]);
      }
    }
    summary.totalParams += l.params;
    rowOf[key(op.getResult(0))] = summary.layers.size();
    summary.layers.push_back(l);
  }

  if (auto train = module->getAttrOfType<DictionaryAttr>(lenet::kTrainAttr)) {
    std::string s;
    for (const char *k : {"data", "optimizer", "batch", "epochs", "init", "bias_init", "seed"})
      if (Attribute a = train.get(k))
        s += std::string(s.empty() ? "" : "  ") + k + "=" + formatTrainValue(a);
    summary.trainDefaults = s;
  }
  return summary;
}

void printSummary(const ModelSummary &summary, std::ostream &os) {
  std::vector<std::string> shapes;
  size_t wName = 5, wOp = 2, wShape = 12, wParams = 6;
  for (const auto &l : summary.layers) {
    std::string shape = l.note.empty() ? (l.shape.empty() ? "scalar" : lenet::formatShape(l.shape)) : l.note;
    shapes.push_back(shape);
    wName = std::max(wName, l.name.size());
    wOp = std::max(wOp, l.op.size());
    wShape = std::max(wShape, shape.size());
    wParams = std::max(wParams, withThousands(l.params).size());
  }
  size_t width = wName + wOp + wShape + wParams + 6;
  std::string rule(width, '='), thin(width, '-');
  fmt::print(os, "Model: {}\n{}\n", summary.name, rule);
  fmt::print(os, "{:<{}}  {:<{}}  {:<{}}  {:>{}}\n{}\n", "Layer", wName, "Op", wOp, "Output shape", wShape, "Params",
             wParams, thin);
  for (size_t i = 0; i < summary.layers.size(); ++i) {
    const Layer &l = summary.layers[i];
    fmt::print(os, "{:<{}}  {:<{}}  {:<{}}  {:>{}}\n", l.name, wName, l.op, wOp, shapes[i], wShape,
               withThousands(l.params), wParams);
  }
  fmt::print(os, "{}\n", rule);
  fmt::print(os, "Total params: {} ({:.2f} KB as f32)\n", withThousands(summary.totalParams),
             summary.totalParams * 4 / 1024.0);
  // As Keras: state that the optimizer does not touch (batchnorm's running statistics).
  fmt::print(os, "Trainable params: {}\nNon-trainable params: {}\n",
             withThousands(summary.totalParams - summary.nonTrainableParams), withThousands(summary.nonTrainableParams));
  if (!summary.trainDefaults.empty())
    fmt::print(os, "Training defaults: {}\n", summary.trainDefaults);
}

} // namespace lenetc
