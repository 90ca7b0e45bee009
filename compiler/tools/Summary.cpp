#include "tools/Layers.h"

#include "dialect/Dialect.h"

#include "mlir/IR/BuiltinAttributes.h"

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

static std::string describeOp(Operation *op) {
  std::ostringstream os;
  std::string kind = op->getName().stripDialect().str();
  os << kind;
  if (auto conv = dyn_cast<lenet::ConvOp>(op)) {
    int64_t k = conv.kernelAttr().getInt();
    os << " " << k << "x" << k;
    if (conv.strideAttr().getInt() != 1)
      os << "/" << conv.strideAttr().getInt();
    if (conv.padAttr().getInt())
      os << " pad " << conv.padAttr().getInt();
    if (auto table = conv.tableAttr())
      os << " table(" << lenet::tableConnections(table) << ")";
  } else if (auto pool = dyn_cast<lenet::AvgPoolOp>(op)) {
    os << " " << pool.sizeAttr().getInt() << "x" << pool.sizeAttr().getInt() << "/"
       << pool.strideAttr().getInt();
  } else if (auto pool = dyn_cast<lenet::MaxPoolOp>(op)) {
    os << " " << pool.sizeAttr().getInt() << "x" << pool.sizeAttr().getInt() << "/"
       << pool.strideAttr().getInt();
  } else if (auto sub = dyn_cast<lenet::SubsampleOp>(op)) {
    os << " " << sub.sizeAttr().getInt() << "x" << sub.sizeAttr().getInt() << "/"
       << sub.strideAttr().getInt();
  }
  return os.str();
}

static std::string formatTrainValue(Attribute a) {
  std::ostringstream os;
  if (auto s = a.dyn_cast<StringAttr>()) {
    os << s.getValue().str();
  } else if (auto i = a.dyn_cast<IntegerAttr>()) {
    if (i.getType().isInteger(1))
      os << (i.getValue().getBoolValue() ? "true" : "false");
    else
      os << i.getInt();
  } else if (auto f = a.dyn_cast<FloatAttr>()) {
    os << f.getValueAsDouble();
  } else if (auto b = a.dyn_cast<BoolAttr>()) {
    os << (b.getValue() ? "true" : "false");
  } else if (auto d = a.dyn_cast<DictionaryAttr>()) {
    // A call: show the name and only the settings that differ from nothing-at-all.
    os << d.getAs<StringAttr>("name").getValue().str() << "(";
    bool first = true;
    for (NamedAttribute na : d) {
      if (na.getName() == "name")
        continue;
      os << (first ? "" : ", ") << na.getName().str() << "=" << formatTrainValue(na.getValue());
      first = false;
    }
    os << ")";
  }
  return os.str();
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
  auto pad = [](const std::string &s, size_t w) {
    return s + std::string(w > s.size() ? w - s.size() : 0, ' ');
  };
  auto rpad = [](const std::string &s, size_t w) {
    return std::string(w > s.size() ? w - s.size() : 0, ' ') + s;
  };

  os << "Model: " << summary.name << "\n" << std::string(width, '=') << "\n";
  os << pad("Layer", wName) << "  " << pad("Op", wOp) << "  " << pad("Output shape", wShape) << "  "
     << rpad("Params", wParams) << "\n"
     << std::string(width, '-') << "\n";
  for (size_t i = 0; i < summary.layers.size(); ++i) {
    const Layer &l = summary.layers[i];
    os << pad(l.name, wName) << "  " << pad(l.op, wOp) << "  " << pad(shapes[i], wShape) << "  "
       << rpad(withThousands(l.params), wParams) << "\n";
  }
  os << std::string(width, '=') << "\n";
  char kb[32];
  std::snprintf(kb, sizeof kb, "%.2f KB", summary.totalParams * 4 / 1024.0);
  os << "Total params: " << withThousands(summary.totalParams) << " (" << kb << " as f32)\n";
  if (!summary.trainDefaults.empty())
    os << "Training defaults: " << summary.trainDefaults << "\n";
}

} // namespace lenetc
