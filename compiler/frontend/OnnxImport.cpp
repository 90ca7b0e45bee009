#include "frontend/OnnxImport.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <google/protobuf/stubs/logging.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>

namespace lenetc {

std::string toIdentifier(const std::string &text) {
  std::string id;
  for (char ch : text)
    id += std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' ? ch : '_';
  // Runs of '_' (from "/" and "." in ONNX names) and the ends' are noise.
  id.erase(std::unique(id.begin(), id.end(), [](char a, char b) { return a == '_' && b == '_'; }), id.end());
  while (!id.empty() && id.front() == '_')
    id.erase(id.begin());
  while (!id.empty() && id.back() == '_')
    id.pop_back();
  if (!id.empty() && std::isdigit(static_cast<unsigned char>(id[0])))
    id = "layer" + id;
  return id;
}

namespace {

using Shape = std::vector<int64_t>;

// Shape's batch dimension inside folded integer constants (Shape of a tensor).
constexpr int64_t kBatch = std::numeric_limits<int64_t>::min();
// Larger initializers than this are refused before their values are read (a LeNet has
// about 10^5 parameters; a damaged file may claim anything).
constexpr int64_t kMaxElements = int64_t(1) << 28;

// Words a statement may not be named: the language's keywords and ops.
const std::set<std::string> kReserved = {
    "model", "train", "input", "label", "conv", "avgpool", "maxpool", "subsample", "dense", "flatten",
    "batchnorm", "dropout", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "scaled_tanh",
    "softmax_cross_entropy", "loss", "true", "false"};

std::string shapeText(const Shape &s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

// A number as the model file writes it: the shortest text that reads back as the same float.
std::string number(double v) { return fmt::format("{}", static_cast<float>(v)); }

// Text from the file for a comment or a message: one line, without control characters.
std::string printable(const std::string &text) {
  std::string out;
  for (char ch : text.substr(0, 200))
    out += static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f ? '?' : ch;
  return out;
}

// The largest filters, units and kernel a layer may have (the language's own limit).
constexpr int64_t kMaxExtent = int64_t(1) << 24;

struct Constant {
  Shape dims;
  std::vector<float> floats;   // float tensors
  std::vector<int64_t> ints;   // integer tensors (shapes, axes, indices)
  bool isInt = false;
  int64_t size() const { return isInt ? int64_t(ints.size()) : int64_t(floats.size()); }
};

// One tensor of the graph as lenetc will compute it: `ref` names it (a statement, the
// input, or an inline expression like "flatten(s4)"), unless an operation is still pending
// on `ref` -- one that the nodes after it may still change (a tanh's amplitude, an average
// pool that turns out to be a subsampling, a bias to add).
struct Tensor {
  Shape shape; // per example: [C, H, W] or [F]
  std::string ref;
  int stmt = -1; // the statement `ref` names, -1 for the input or an inline expression
  enum class Pending { None, Scaled, Tanh, AvgPool, Subsample } pending = Pending::None;
  double scale = 1;            // Scaled, Tanh, AvgPool: times this
  double slope = 1;            // Tanh: tanh(slope * ref)
  int64_t poolSize = 0, poolStride = 0;
  std::vector<float> coef, bias; // Subsample
  bool biased = false;           // Subsample: its bias added (a Mul after it scales what follows)
  std::string originNode;        // the node that made the pending operation (for errors)
  std::string originName;        // what its statement will be called ("" = after its op)
  std::string biasParam;         // a conv or dense layer's output: its bias, which an Add may add to
};

struct Statement {
  std::string name, text;
  std::string end; // the ONNX value at its end: a stage may be appended to it
};

class Importer {
public:
  Importer(const std::string &source, const std::string &modelName) : source_(source), modelName_(modelName) {}

  ImportedModel run(const std::string &bytes) {
    onnx::ModelProto model;
    // Protobuf logs what it rejects; the error below says it once.
    google::protobuf::LogSilencer silence;
    if (bytes.size() > size_t(std::numeric_limits<int>::max()) || !model.ParseFromString(bytes))
      throw ImportError(fmt::format("'{}' is not an ONNX model (it does not parse as one)", source_));
    checkOpset(model);
    const onnx::GraphProto &g = model.graph();
    if (g.node_size() == 0)
      throw ImportError(fmt::format("'{}' has no nodes: is it an ONNX model?", source_));
    for (const auto &init : g.initializer())
      constants_[init.name()] = readTensor(init, fmt::format("initializer '{}'", printable(init.name())));
    readInput(g);
    for (const auto &node : g.node())
      for (const auto &in : node.input())
        ++consumers_[in];
    if (g.output_size() != 1)
      throw ImportError(fmt::format("the graph has {} outputs; lenetc imports a model with one (the logits)",
                                    g.output_size()));
    output_ = g.output(0).name();
    ++consumers_[output_];
    for (nodeIndex_ = 0; nodeIndex_ < g.node_size(); ++nodeIndex_)
      convert(g.node(nodeIndex_));
    return finish(model);
  }

private:
  // --- reading the file ---------------------------------------------------------------

  void checkOpset(const onnx::ModelProto &model) {
    int64_t opset = -1;
    for (const auto &o : model.opset_import())
      if (o.domain().empty() || o.domain() == "ai.onnx")
        opset = o.version();
    if (opset < 0)
      throw ImportError(fmt::format("'{}' imports no ONNX opset", source_));
    if (opset < 9 || opset > 17)
      throw ImportError(fmt::format("'{}' uses opset {}; lenetc imports opsets 9 to 17", source_, opset));
    opset_ = opset;
  }

  Constant readTensor(const onnx::TensorProto &t, const std::string &what) {
    Constant c;
    // Every dimension bounded, and the product of the non-zero ones: a zero cannot hide a
    // huge dimension after it.
    int64_t count = 1, nonZero = 1;
    for (int64_t d : t.dims()) {
      if (d < 0 || d > kMaxElements || (d > 0 && nonZero > kMaxElements / d))
        throw ImportError(fmt::format("{}: shape {} is not a LeNet's", what, fmt::join(t.dims(), "x")));
      c.dims.push_back(d);
      nonZero *= std::max<int64_t>(d, 1);
      count *= d;
    }
    if (t.data_location() == onnx::TensorProto::EXTERNAL)
      throw ImportError(fmt::format("{}: its data is in an external file; export it with the model", what));
    const std::string &raw = t.raw_data();
    auto fromRaw = [&](auto zero, auto &out) {
      using T = decltype(zero);
      if (raw.size() != size_t(count) * sizeof(T))
        throw ImportError(fmt::format("{}: {} bytes of data for {} values", what, raw.size(), count));
      std::vector<T> v(static_cast<size_t>(count));
      if (count > 0)
        std::memcpy(v.data(), raw.data(), raw.size());
      out.assign(v.begin(), v.end());
    };
    auto fromField = [&](const auto &field, auto &out) {
      if (field.size() != count)
        throw ImportError(fmt::format("{}: {} values for {}", what, field.size(), count));
      out.assign(field.begin(), field.end());
    };
    switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      raw.empty() && count > 0 ? fromField(t.float_data(), c.floats) : fromRaw(float{}, c.floats);
      break;
    case onnx::TensorProto::DOUBLE:
      raw.empty() && count > 0 ? fromField(t.double_data(), c.floats) : fromRaw(double{}, c.floats);
      break;
    case onnx::TensorProto::INT64:
      c.isInt = true;
      raw.empty() && count > 0 ? fromField(t.int64_data(), c.ints) : fromRaw(int64_t{}, c.ints);
      break;
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::BOOL: // stored as int32_data, or one byte each in raw_data
      if (t.data_type() == onnx::TensorProto::BOOL && !raw.empty()) {
        c.isInt = true;
        fromRaw(uint8_t{}, c.ints);
        break;
      }
      c.isInt = true;
      raw.empty() && count > 0 ? fromField(t.int32_data(), c.ints) : fromRaw(int32_t{}, c.ints);
      break;
    default:
      throw ImportError(fmt::format("{}: element type {} is not supported (float32, float64, int32, int64, bool)", what,
                                    t.data_type()));
    }
    return c;
  }

  void readInput(const onnx::GraphProto &g) {
    const onnx::ValueInfoProto *input = nullptr;
    for (const auto &in : g.input()) {
      if (constants_.count(in.name()))
        continue; // an initializer listed as an input (older exporters)
      if (input)
        throw ImportError(fmt::format("the graph has inputs '{}' and '{}'; lenetc imports a model with one",
                                      printable(input->name()), printable(in.name())));
      input = &in;
    }
    if (!input)
      throw ImportError("the graph has no input");
    const auto &type = input->type();
    if (!type.has_tensor_type() || type.tensor_type().elem_type() != onnx::TensorProto::FLOAT)
      throw ImportError(fmt::format("input '{}' is not a float32 tensor", printable(input->name())));
    const auto &dims = type.tensor_type().shape().dim();
    if (dims.size() != 4 && dims.size() != 2)
      throw ImportError(fmt::format("input '{}' has rank {}; lenetc imports [batch, C, H, W] or [batch, F] inputs",
                                    printable(input->name()), dims.size()));
    Tensor t;
    for (int i = 1; i < dims.size(); ++i) {
      if (!dims[i].has_dim_value() || dims[i].dim_value() <= 0 || dims[i].dim_value() > 4096)
        throw ImportError(fmt::format("input '{}': dimension {} is not a fixed size", printable(input->name()), i));
      t.shape.push_back(dims[i].dim_value());
    }
    inputName_ = uniqueName(toIdentifier(input->name()), "x");
    inputShape_ = t.shape;
    t.ref = inputName_;
    tensors_[input->name()] = t;
  }

  // --- names ----------------------------------------------------------------------------

  std::string uniqueName(std::string base, const std::string &fallback) {
    if (base.empty())
      base = fallback;
    if (kReserved.count(base))
      base += "_";
    std::string name = base;
    for (int i = 2; used_.count(name); ++i)
      name = fmt::format("{}_{}", base, i);
    used_.insert(name);
    return name;
  }

  // A name for a statement of `kind` ("conv"): `base`, else the kind and a count.
  std::string freshName(const std::string &base, const std::string &kind) {
    return uniqueName(base, fmt::format("{}{}", kind, ++kindCount_[kind]));
  }

  // A statement's name from its node: the scope of PyTorch's node names ("/conv1/Conv" ->
  // conv1, "/features/features.0/Conv" -> features_0), else its weight's ("fc.weight" -> fc),
  // else the op and a count.
  std::string statementName(const onnx::NodeProto &node, const std::string &kind) {
    return freshName(baseName(node), kind);
  }
  std::string baseName(const onnx::NodeProto &node) {
    std::string base;
    const std::string &n = node.name();
    if (size_t slash = n.rfind('/'); slash != std::string::npos && slash > 0) {
      std::string scope = n.substr(0, slash);
      base = toIdentifier(scope.substr(scope.rfind('/') + 1));
    }
    if (base.empty() && node.input_size() > 1) {
      std::string w = node.input(1);
      if (size_t dot = w.rfind('.'); dot != std::string::npos && dot > 0 && w.find("::") == std::string::npos)
        base = toIdentifier(w.substr(0, dot));
    }
    return base;
  }

  // --- values ---------------------------------------------------------------------------

  // A node as messages name it: its name, else its first output, else its place in the graph.
  std::string label(const onnx::NodeProto &node) const {
    if (!node.name().empty())
      return printable(node.name());
    if (node.output_size() > 0 && !node.output(0).empty())
      return printable(node.output(0));
    return fmt::format("#{}", nodeIndex_ + 1);
  }

  [[noreturn]] void fail(const onnx::NodeProto &node, const std::string &why) const {
    throw ImportError(fmt::format("node '{}': {} {}", label(node), printable(node.op_type()), why));
  }

  Tensor &tensor(const onnx::NodeProto &node, int i) {
    if (i >= node.input_size() || node.input(i).empty())
      fail(node, fmt::format("has no input {}", i + 1));
    auto found = tensors_.find(node.input(i));
    if (found == tensors_.end()) {
      if (constants_.count(node.input(i)))
        fail(node, fmt::format("reads the constant '{}' where lenetc expects a tensor computed from the input",
                               printable(node.input(i))));
      fail(node, fmt::format("reads '{}', which no node before it computes", printable(node.input(i))));
    }
    return found->second;
  }

  const Constant *constant(const onnx::NodeProto &node, int i) {
    if (i >= node.input_size() || node.input(i).empty())
      return nullptr;
    auto found = constants_.find(node.input(i));
    return found == constants_.end() ? nullptr : &found->second;
  }

  const Constant &requireConstant(const onnx::NodeProto &node, int i, const char *what) {
    const Constant *c = constant(node, i);
    if (!c)
      fail(node, fmt::format("needs its {} as a constant (an initializer)", what));
    return *c;
  }

  const onnx::AttributeProto *attribute(const onnx::NodeProto &node, const char *name) {
    for (const auto &a : node.attribute())
      if (a.name() == name)
        return &a;
    return nullptr;
  }
  int64_t intAttr(const onnx::NodeProto &node, const char *name, int64_t otherwise) {
    const auto *a = attribute(node, name);
    return a ? a->i() : otherwise;
  }
  double floatAttr(const onnx::NodeProto &node, const char *name, double otherwise) {
    const auto *a = attribute(node, name);
    return a ? a->f() : otherwise;
  }
  std::vector<int64_t> intsAttr(const onnx::NodeProto &node, const char *name) {
    const auto *a = attribute(node, name);
    return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::vector<int64_t>{};
  }
  std::string stringAttr(const onnx::NodeProto &node, const char *name, const char *otherwise) {
    const auto *a = attribute(node, name);
    return a ? a->s() : otherwise;
  }

  void define(const onnx::NodeProto &node, Tensor t) {
    if (node.output_size() < 1 || node.output(0).empty())
      fail(node, "has no output");
    tensors_[node.output(0)] = std::move(t);
  }

  // A new statement `name = text` holding `end`.
  Tensor statement(const std::string &name, const std::string &text, const std::string &end, Shape shape) {
    statements_.push_back({name, text, end});
    Tensor t;
    t.shape = std::move(shape);
    t.ref = name;
    t.stmt = int(statements_.size()) - 1;
    return t;
  }

  void addWeight(const std::string &name, Shape shape, std::vector<float> values) {
    weights_.push_back({name, std::move(shape), std::move(values)});
  }
  NamedTensor *weight(const std::string &name) {
    for (auto &w : weights_)
      if (w.name == name)
        return &w;
    return nullptr;
  }

  // `t` with every pending operation written out: what it names can be read.
  const std::string &settle(const std::string &value, Tensor &t) {
    using P = Tensor::Pending;
    switch (t.pending) {
    case P::None:
      break;
    case P::Scaled:
      if (t.scale != 1)
        throw ImportError(fmt::format("node '{}': Mul by the constant {} is supported only around a Tanh (scaled "
                                      "tanh) and after an AveragePool (subsampling)",
                                      printable(t.originNode), number(t.scale)));
      break;
    case P::Tanh: {
      if (!std::isfinite(float(t.scale)) || !std::isfinite(float(t.slope)))
        throw ImportError(fmt::format("node '{}': a Tanh scaled by {} and {} is not a number lenetc takes",
                                      printable(t.originNode), t.slope, t.scale));
      std::string stage = t.scale == 1 && t.slope == 1 ? "tanh" : "scaled_tanh";
      std::vector<std::string> args;
      if (stage == "scaled_tanh") {
        if (float(t.scale) != float(1.7159))
          args.push_back("amplitude=" + number(t.scale));
        if (float(t.slope) != float(2.0 / 3.0))
          args.push_back("slope=" + number(t.slope));
      }
      if (!args.empty())
        stage += fmt::format("({})", fmt::join(args, ", "));
      t = appendStage(value, t, stage, t.originName);
      break;
    }
    case P::AvgPool:
      if (t.scale == 1) {
        std::string name = freshName(t.originName, "avgpool");
        t = statement(name, fmt::format("avgpool({}, size={}{})", t.ref, t.poolSize, strideText(t)), value,
                      t.shape);
        break;
      }
      // A scaled average is a subsampling with one coefficient for every map.
      t.coef.assign(size_t(t.shape[0]), float(t.scale / double(t.poolSize * t.poolSize)));
      t.bias.assign(size_t(t.shape[0]), 0.0f);
      [[fallthrough]];
    case P::Subsample: {
      std::string name = freshName(t.originName, "subsample");
      addWeight(name + ".coef", {t.shape[0]}, t.coef);
      addWeight(name + ".b", {t.shape[0]}, t.bias);
      std::string size = t.poolSize == 2 ? "" : fmt::format(", size={}", t.poolSize);
      t = statement(name, fmt::format("subsample({}{}{})", t.ref, size, strideText(t)), value, t.shape);
      break;
    }
    }
    t.pending = P::None;
    t.scale = 1;
    return t.ref;
  }

  static std::string strideText(const Tensor &t) {
    return t.poolStride == t.poolSize ? "" : fmt::format(", stride={}", t.poolStride);
  }

  // `t` (the ONNX value `value`, settled) through `stage` (an activation or dropout): appended
  // to its statement when nothing else reads it there, else a statement of its own.
  // Whether a stage may join the statement that holds `t`: it ends with `value`, which
  // nothing else reads.
  bool canAppend(const std::string &value, const Tensor &t) {
    return t.stmt >= 0 && statements_[size_t(t.stmt)].end == value && consumers_[value] == 1;
  }

  Tensor appendStage(const std::string &value, const Tensor &t, const std::string &stage, const std::string &origin) {
    if (canAppend(value, t)) {
      statements_[size_t(t.stmt)].text += " |> " + stage;
      Tensor out = t;
      out.biasParam.clear();
      return out;
    }
    std::string call = stage.find('(') == std::string::npos
                           ? fmt::format("{}({})", stage, t.ref)
                           : fmt::format("{}({}, {}", stage.substr(0, stage.find('(')), t.ref, stage.substr(stage.find('(') + 1));
    return statement(freshName(origin, stage.substr(0, stage.find('('))), call, value, t.shape);
  }

  // The pending statement's end moves with the value it now holds.
  void moveEnd(const Tensor &t, const std::string &value) {
    if (t.stmt >= 0)
      statements_[size_t(t.stmt)].end = value;
  }

  // --- the ops ----------------------------------------------------------------------------

  void convert(const onnx::NodeProto &node) {
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      fail(node, fmt::format("is from the domain '{}', not ONNX's", printable(node.domain())));
    if (node.output_size() < 1 || node.output(0).empty())
      fail(node, "has no output");
    const std::string &op = node.op_type();
    if (op == "Constant")
      return convertConstant(node);
    // Integer arithmetic on shapes (PyTorch's x.view(x.size(0), -1)), folded here.
    if (op == "Shape" || op == "Gather" || op == "Unsqueeze" || op == "Concat" || op == "Cast" || op == "Squeeze")
      if (foldShapeOp(node))
        return;
    if (op == "Identity") {
      if (const Constant *c = constant(node, 0)) {
        constants_[node.output(0)] = *c;
        return;
      }
      return alias(node);
    }
    if (op == "Conv")
      return convertConv(node);
    if (op == "Gemm")
      return convertGemm(node);
    if (op == "MatMul")
      return convertMatMul(node);
    if (op == "Add")
      return convertAdd(node);
    if (op == "Mul" || op == "Div")
      return convertMul(node, op == "Div");
    if (op == "AveragePool" || op == "MaxPool")
      return convertPool(node, op == "MaxPool");
    if (op == "Pad")
      return convertPad(node);
    if (op == "Flatten" || op == "Reshape")
      return convertFlatten(node, op == "Reshape");
    if (op == "BatchNormalization")
      return convertBatchNorm(node);
    if (op == "Dropout")
      return convertDropout(node);
    if (op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "LeakyRelu" || op == "Elu")
      return convertActivation(node);
    if (op == "Softmax" || op == "LogSoftmax")
      return convertSoftmax(node);
    fail(node, "is not supported (lenetc imports Conv, Gemm, MatMul, Add, Mul, Flatten, Reshape, AveragePool, "
               "MaxPool, BatchNormalization, Dropout, Relu, Sigmoid, Tanh, LeakyRelu, Elu and a final Softmax)");
  }

  void alias(const onnx::NodeProto &node) {
    Tensor t = tensor(node, 0);
    moveEnd(t, node.output(0));
    define(node, t);
  }

  void convertConstant(const onnx::NodeProto &node) {
    Constant c;
    if (const auto *a = attribute(node, "value"))
      c = readTensor(a->t(), fmt::format("node '{}'", label(node)));
    else if (const auto *f = attribute(node, "value_float"))
      c.floats = {f->f()};
    else if (const auto *fs = attribute(node, "value_floats"))
      c.floats.assign(fs->floats().begin(), fs->floats().end()), c.dims = {int64_t(c.floats.size())};
    else if (const auto *i = attribute(node, "value_int"))
      c.isInt = true, c.ints = {i->i()};
    else if (const auto *is = attribute(node, "value_ints"))
      c.isInt = true, c.ints.assign(is->ints().begin(), is->ints().end()), c.dims = {int64_t(c.ints.size())};
    else
      fail(node, "has no value lenetc reads (value, value_float(s), value_int(s))");
    if (node.output_size() < 1)
      fail(node, "has no output");
    constants_[node.output(0)] = std::move(c);
  }

  // Shape, Gather, Unsqueeze, Concat, Cast, Squeeze on integer constants: false when the
  // node is not such arithmetic.
  bool foldShapeOp(const onnx::NodeProto &node) {
    const std::string &op = node.op_type();
    Constant out;
    out.isInt = true;
    if (op == "Shape") {
      auto found = tensors_.find(node.input_size() ? node.input(0) : "");
      if (found == tensors_.end())
        return false;
      if (attribute(node, "start") || attribute(node, "end"))
        fail(node, "with start or end is not supported");
      out.ints = {kBatch};
      out.ints.insert(out.ints.end(), found->second.shape.begin(), found->second.shape.end());
      out.dims = {int64_t(out.ints.size())};
    } else {
      std::vector<const Constant *> ins;
      for (int i = 0; i < node.input_size(); ++i) {
        const Constant *c = constant(node, i);
        if (!c || !c->isInt)
          return false;
        ins.push_back(c);
      }
      if (ins.empty())
        return false;
      if (op == "Gather") {
        if (ins.size() != 2 || intAttr(node, "axis", 0) != 0 || ins[0]->dims.size() != 1)
          return false;
        for (int64_t i : ins[1]->ints) {
          int64_t n = int64_t(ins[0]->ints.size());
          if (i < -n || i >= n)
            fail(node, fmt::format("index {} is out of range", i));
          out.ints.push_back(ins[0]->ints[size_t(i < 0 ? i + n : i)]);
        }
        out.dims = ins[1]->dims;
      } else if (op == "Concat") {
        for (const Constant *c : ins) {
          // Shapes have a few values; a long chain of Concats must not grow without bound.
          if (out.ints.size() + c->ints.size() > 8)
            fail(node, "of more than 8 shape values is not supported");
          out.ints.insert(out.ints.end(), c->ints.begin(), c->ints.end());
        }
        out.dims = {int64_t(out.ints.size())};
      } else { // Unsqueeze, Squeeze, Cast: the values stay, only the rank changes
        out.ints = ins[0]->ints;
        out.dims = {int64_t(out.ints.size())};
      }
    }
    if (node.output_size() < 1)
      fail(node, "has no output");
    constants_[node.output(0)] = std::move(out);
    return true;
  }

  // Square kernels, equal strides, no dilation: the one number each that lenetc takes.
  int64_t square(const onnx::NodeProto &node, const std::vector<int64_t> &v, const char *what, int64_t otherwise) {
    if (v.empty())
      return otherwise;
    for (int64_t x : v)
      if (x != v[0])
        fail(node, fmt::format("with {} {} is not supported (lenetc takes square ones)", what, fmt::join(v, "x")));
    if (v[0] <= 0)
      fail(node, fmt::format("has {} {}", what, v[0]));
    return v[0];
  }

  // The padding of a Conv or a pool: one number for all four sides.
  int64_t padding(const onnx::NodeProto &node, int64_t kernel, int64_t stride) {
    std::string autoPad = stringAttr(node, "auto_pad", "NOTSET");
    if (autoPad == "VALID")
      return 0;
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      if (kernel % 2 == 0 || stride != 1)
        fail(node, "with auto_pad SAME is supported for odd kernels at stride 1 only");
      return (kernel - 1) / 2;
    }
    if (autoPad != "NOTSET")
      fail(node, fmt::format("with auto_pad {} is not supported", autoPad));
    std::vector<int64_t> pads = intsAttr(node, "pads");
    if (pads.empty())
      return 0;
    if (pads.size() != 4 || std::any_of(pads.begin(), pads.end(), [&](int64_t p) { return p != pads[0]; }))
      fail(node, fmt::format("with pads {} is not supported (lenetc pads all four sides alike)", shapeText(pads)));
    if (pads[0] < 0 || pads[0] >= kernel)
      fail(node, fmt::format("has pads {}", pads[0]));
    return pads[0];
  }

  Tensor &imageInput(const onnx::NodeProto &node) {
    Tensor &in = tensor(node, 0);
    if (in.shape.size() != 3)
      fail(node, fmt::format("reads a tensor of shape {}; it needs maps [C, H, W]", shapeText(in.shape)));
    return in;
  }

  void convertConv(const onnx::NodeProto &node) {
    Tensor &in = imageInput(node);
    const Constant &w = requireConstant(node, 1, "weight");
    if (intAttr(node, "group", 1) != 1)
      fail(node, fmt::format("with group={} is not supported", intAttr(node, "group", 1)));
    if (square(node, intsAttr(node, "dilations"), "dilations", 1) != 1)
      fail(node, "with dilations is not supported");
    if (w.dims.size() != 4 || w.isInt || w.dims[2] != w.dims[3])
      fail(node, fmt::format("has a weight of shape {}; lenetc takes [F, C, k, k]", shapeText(w.dims)));
    int64_t filters = w.dims[0], kernel = square(node, intsAttr(node, "kernel_shape"), "kernel", w.dims[2]);
    if (filters < 1 || filters > kMaxExtent || kernel < 1 || kernel > kMaxExtent)
      fail(node, fmt::format("has a weight of shape {}", shapeText(w.dims)));
    if (kernel != w.dims[2] || w.dims[1] != in.shape[0])
      fail(node, fmt::format("has a weight of shape {} for {} input maps", shapeText(w.dims), in.shape[0]));
    int64_t stride = square(node, intsAttr(node, "strides"), "strides", 1);
    int64_t pad = padding(node, kernel, stride);
    int64_t h = (in.shape[1] + 2 * pad - kernel) / stride + 1, wd = (in.shape[2] + 2 * pad - kernel) / stride + 1;
    if (in.shape[1] + 2 * pad < kernel || in.shape[2] + 2 * pad < kernel)
      fail(node, fmt::format("has a {}x{} kernel for {}x{} maps", kernel, kernel, in.shape[1], in.shape[2]));
    std::vector<float> bias(size_t(filters), 0.0f);
    if (const Constant *b = constant(node, 2)) {
      if (b->isInt || b->size() != filters)
        fail(node, fmt::format("has a bias of shape {} for {} filters", shapeText(b->dims), filters));
      bias = b->floats;
    } else if (node.input_size() > 2 && !node.input(2).empty()) {
      fail(node, "needs its bias as a constant (an initializer)");
    }
    std::string x = settle(node.input(0), in);
    std::string name = statementName(node, "conv");
    std::string text = fmt::format("conv({}, filters={}, kernel={}{}{})", x, filters, kernel,
                                   stride == 1 ? "" : fmt::format(", stride={}", stride),
                                   pad == 0 ? "" : fmt::format(", pad={}", pad));
    addWeight(name + ".w", w.dims, w.floats);
    addWeight(name + ".b", {filters}, bias);
    Tensor out = statement(name, text, node.output(0), {filters, h, wd});
    out.biasParam = name + ".b";
    define(node, out);
  }

  Tensor &featureInput(const onnx::NodeProto &node) {
    Tensor &in = tensor(node, 0);
    if (in.shape.size() != 1)
      fail(node, fmt::format("reads a tensor of shape {} per example; it needs features [F] (flatten first)",
                             shapeText(in.shape)));
    return in;
  }

  // A dense layer from `in` (features) with weight [units, in] and bias [units].
  void dense(const onnx::NodeProto &node, Tensor &in, int64_t units, std::vector<float> weight,
             std::vector<float> bias) {
    std::string x = settle(node.input(0), in);
    int64_t inputs = in.shape[0];
    std::string name = statementName(node, "dense");
    addWeight(name + ".w", {units, inputs}, std::move(weight));
    addWeight(name + ".b", {units}, std::move(bias));
    Tensor out = statement(name, fmt::format("dense({}, {})", x, units), node.output(0), {units});
    out.biasParam = name + ".b";
    define(node, out);
  }

  // B as [units, inputs]: transposed from [inputs, units] unless `transposed`.
  std::vector<float> denseWeight(const onnx::NodeProto &node, const Constant &b, bool transposed, int64_t inputs,
                                 double alpha, int64_t &units) {
    if (b.dims.size() != 2 || b.isInt || b.dims[transposed ? 1 : 0] != inputs)
      fail(node, fmt::format("has a weight of shape {} for {} input features", shapeText(b.dims), inputs));
    units = b.dims[transposed ? 0 : 1];
    if (units < 1 || units > kMaxExtent)
      fail(node, fmt::format("has a weight of shape {}", shapeText(b.dims)));
    std::vector<float> w(size_t(units * inputs));
    for (int64_t u = 0; u < units; ++u)
      for (int64_t i = 0; i < inputs; ++i)
        w[size_t(u * inputs + i)] = float(alpha * b.floats[size_t(transposed ? u * inputs + i : i * units + u)]);
    return w;
  }

  void convertGemm(const onnx::NodeProto &node) {
    Tensor &in = featureInput(node);
    if (intAttr(node, "transA", 0) != 0)
      fail(node, "with transA=1 is not supported");
    const Constant &b = requireConstant(node, 1, "weight (B)");
    int64_t units;
    std::vector<float> w =
        denseWeight(node, b, intAttr(node, "transB", 0) != 0, in.shape[0], floatAttr(node, "alpha", 1.0), units);
    std::vector<float> bias(size_t(units), 0.0f);
    if (const Constant *c = constant(node, 2)) {
      double beta = floatAttr(node, "beta", 1.0);
      if (c->isInt || (c->size() != units && c->size() != 1))
        fail(node, fmt::format("has a bias (C) of shape {} for {} units", shapeText(c->dims), units));
      for (int64_t u = 0; u < units; ++u)
        bias[size_t(u)] = float(beta * c->floats[size_t(c->size() == 1 ? 0 : u)]);
    } else if (node.input_size() > 2 && !node.input(2).empty()) {
      fail(node, "needs its bias (C) as a constant (an initializer)");
    }
    dense(node, in, units, std::move(w), std::move(bias));
  }

  void convertMatMul(const onnx::NodeProto &node) {
    Tensor &in = featureInput(node);
    const Constant &b = requireConstant(node, 1, "weight");
    int64_t units;
    std::vector<float> w = denseWeight(node, b, false, in.shape[0], 1.0, units);
    dense(node, in, units, std::move(w), std::vector<float>(size_t(units), 0.0f));
  }

  // The tensor operand of a binary node (a computed one) and its constant one (either order).
  std::pair<std::string, const Constant *> operands(const onnx::NodeProto &node) {
    if (node.input_size() != 2)
      fail(node, "needs two inputs");
    const Constant *c = constant(node, 1);
    int computed = 0;
    if (!c && node.op_type() != "Div" && (c = constant(node, 0)))
      computed = 1;
    if (!c)
      fail(node, "of two computed tensors is not supported (one operand must be a constant)");
    tensor(node, computed); // fails when nothing computes it
    return {node.input(computed), c};
  }

  // A constant as one value per map (or feature) of `t`: [C], [C,1,1], [1,C,1,1], [1,F] or a
  // scalar; nullopt for another shape.
  std::optional<std::vector<float>> perChannel(const Constant &c, const Tensor &t) {
    if (c.isInt)
      return std::nullopt;
    int64_t channels = t.shape[0];
    if (c.size() == 1)
      return std::vector<float>(size_t(channels), c.floats[0]);
    // ONNX broadcasts from the last axis: per map of [C, H, W] is [C, 1, 1] or [1, C, 1, 1]
    // ([C] would run along W); per feature of [F] is [F] or [1, F].
    Shape want = t.shape.size() == 3 ? Shape{channels, 1, 1} : Shape{channels};
    Shape d = c.dims;
    if (d.size() == want.size() + 1 && d[0] == 1)
      d.erase(d.begin());
    if (d == want)
      return c.floats;
    return std::nullopt;
  }

  void convertAdd(const onnx::NodeProto &node) {
    auto [value, c] = operands(node);
    Tensor t = tensors_[value];
    auto add = perChannel(*c, t);
    if (!add)
      fail(node, fmt::format("of a constant of shape {} to a tensor of shape {} is not supported", shapeText(c->dims),
                             shapeText(t.shape)));
    if (t.pending == Tensor::Pending::AvgPool) { // a subsampling with one coefficient for every map
      t.pending = Tensor::Pending::Subsample;
      t.coef.assign(add->size(), float(t.scale / double(t.poolSize * t.poolSize)));
      t.bias.assign(add->size(), 0.0f);
    }
    if (t.pending == Tensor::Pending::Subsample) {
      for (size_t i = 0; i < add->size(); ++i)
        t.bias[i] += (*add)[i];
      t.biased = true;
    } else if (t.pending == Tensor::Pending::None && !t.biasParam.empty() && consumers_[value] == 1) {
      NamedTensor *b = weight(t.biasParam);
      for (size_t i = 0; i < add->size(); ++i)
        b->values[i] += (*add)[i];
    } else {
      fail(node, "of a constant is supported only as the bias of a Conv, Gemm or MatMul, or of a subsampling "
                 "(AveragePool, Mul, Add)");
    }
    moveEnd(t, node.output(0));
    define(node, t);
  }

  void convertMul(const onnx::NodeProto &node, bool divide) {
    auto [value, c] = operands(node);
    using P = Tensor::Pending;
    if (tensors_[value].pending == P::Subsample && tensors_[value].biased)
      settle(value, tensors_[value]); // the subsampling is complete: this scales its output
    Tensor t = tensors_[value];
    auto factor = perChannel(*c, t);
    if (!factor)
      fail(node, fmt::format("by a constant of shape {} on a tensor of shape {} is not supported", shapeText(c->dims),
                             shapeText(t.shape)));
    if (divide)
      for (float &f : *factor) {
        if (f == 0)
          fail(node, "divides by zero");
        f = 1.0f / f;
      }
    bool scalar = c->size() == 1;
    if (t.pending == P::Subsample) {
      for (size_t i = 0; i < factor->size(); ++i)
        t.coef[i] *= (*factor)[i], t.bias[i] *= (*factor)[i];
    } else if (t.pending == P::AvgPool && !scalar) {
      t.pending = P::Subsample;
      for (float f : *factor)
        t.coef.push_back(float(t.scale * f / double(t.poolSize * t.poolSize)));
      t.bias.assign(t.coef.size(), 0.0f);
    } else if (scalar && (t.pending == P::AvgPool || t.pending == P::Tanh || t.pending == P::Scaled)) {
      t.scale *= divide ? 1.0 / c->floats[0] : c->floats[0];
    } else if (scalar && t.pending == P::None) {
      t.pending = P::Scaled;
      t.scale = divide ? 1.0 / c->floats[0] : c->floats[0];
      t.originNode = node.name();
    } else {
      fail(node, "by a constant is supported only around a Tanh (scaled tanh) and after an AveragePool "
                 "(subsampling)");
    }
    moveEnd(t, node.output(0));
    define(node, t);
  }

  void convertPool(const onnx::NodeProto &node, bool max) {
    Tensor &in = imageInput(node);
    if (node.output_size() > 1 && !node.output(1).empty() && consumers_[node.output(1)] > 0)
      fail(node, "with its indices output read is not supported");
    int64_t size = square(node, intsAttr(node, "kernel_shape"), "kernel", 0);
    if (size == 0)
      fail(node, "has no kernel_shape");
    int64_t stride = square(node, intsAttr(node, "strides"), "strides", 1);
    if (padding(node, size, stride) != 0)
      fail(node, "with padding is not supported");
    if (!intsAttr(node, "dilations").empty() && square(node, intsAttr(node, "dilations"), "dilations", 1) != 1)
      fail(node, "with dilations is not supported");
    if (in.shape[1] < size || in.shape[2] < size)
      fail(node, fmt::format("has a {}x{} window for {}x{} maps", size, size, in.shape[1], in.shape[2]));
    // ceil_mode rounds the output size up: the same as lenetc's when the windows fit exactly.
    if (intAttr(node, "ceil_mode", 0) != 0 && ((in.shape[1] - size) % stride != 0 || (in.shape[2] - size) % stride != 0))
      fail(node, "with ceil_mode=1 on maps the windows do not tile is not supported");
    Shape shape = {in.shape[0], (in.shape[1] - size) / stride + 1, (in.shape[2] - size) / stride + 1};
    std::string x = settle(node.input(0), in);
    if (max) {
      std::string name = statementName(node, "maxpool");
      std::string strideText = stride == size ? "" : fmt::format(", stride={}", stride);
      define(node, statement(name, fmt::format("maxpool({}, size={}{})", x, size, strideText), node.output(0), shape));
      return;
    }
    // Left pending: a Mul and an Add after it make it a subsampling.
    Tensor t;
    t.shape = shape;
    t.ref = x;
    t.pending = Tensor::Pending::AvgPool;
    t.poolSize = size;
    t.poolStride = stride;
    t.originNode = node.name();
    t.originName = baseName(node);
    define(node, t);
  }

  void convertPad(const onnx::NodeProto &node) {
    std::vector<int64_t> pads = opset_ >= 11 ? std::vector<int64_t>{} : intsAttr(node, "pads");
    if (opset_ >= 11) {
      const Constant &p = requireConstant(node, 1, "pads");
      pads = p.ints;
      if (!p.isInt)
        fail(node, "has pads that are not integers");
    }
    if (stringAttr(node, "mode", "constant") != "constant" ||
        std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p != 0; }))
      fail(node, "with non-zero padding is not supported (pad in the Conv instead)");
    alias(node);
  }

  void convertFlatten(const onnx::NodeProto &node, bool reshape) {
    Tensor &in = tensor(node, 0);
    int64_t features = 1;
    for (int64_t d : in.shape)
      features *= d;
    if (reshape) {
      const Constant &s = requireConstant(node, 1, "shape");
      // [batch, features]: the batch as -1, 0 (copied), or Shape's batch; the rest as -1 or
      // the number of features.
      bool ok = s.isInt && s.ints.size() == 2 &&
                (s.ints[1] == features || (s.ints[1] == -1 && (s.ints[0] == 0 || s.ints[0] == kBatch))) &&
                (s.ints[0] == -1 || s.ints[0] == 0 || s.ints[0] == kBatch);
      if (!ok) {
        std::vector<std::string> dims;
        for (int64_t d : s.ints)
          dims.push_back(d == kBatch ? "batch" : std::to_string(d));
        fail(node, fmt::format("to [{}] from [batch, {}] is not supported (only a flatten to [batch, {}])",
                               fmt::join(dims, ", "), fmt::join(in.shape, ", "), features));
      }
    } else {
      int64_t axis = intAttr(node, "axis", 1);
      if (axis != 1 && axis != -int64_t(in.shape.size()))
        fail(node, fmt::format("with axis={} is not supported (only axis=1: flattening each example)", axis));
    }
    if (in.shape.size() == 1)
      return alias(node);
    std::string x = settle(node.input(0), in);
    Tensor out;
    out.shape = {features};
    out.ref = fmt::format("flatten({})", x);
    define(node, out);
  }

  void convertBatchNorm(const onnx::NodeProto &node) {
    Tensor &in = tensor(node, 0);
    for (int i = 1; i < node.output_size(); ++i)
      if (!node.output(i).empty() && consumers_[node.output(i)] > 0)
        fail(node, "in training mode (its running statistics read) is not supported: export in eval mode");
    if (intAttr(node, "training_mode", 0) != 0)
      fail(node, "in training mode is not supported: export the model in eval mode");
    int64_t channels = in.shape[0];
    const char *roles[] = {"scale", "shift", "running_mean", "running_var"};
    std::vector<std::vector<float>> values;
    for (int i = 1; i <= 4; ++i) {
      const Constant &c = requireConstant(node, i, roles[i - 1]);
      if (c.isInt || c.size() != channels)
        fail(node, fmt::format("has a {} of shape {} for {} channels", roles[i - 1], shapeText(c.dims), channels));
      values.push_back(c.floats);
    }
    double eps = floatAttr(node, "epsilon", 1e-5), momentum = 1.0 - floatAttr(node, "momentum", 0.9);
    if (!(eps > 0 && std::isfinite(eps)) || !(momentum > 0 && momentum <= 1))
      fail(node, fmt::format("has epsilon {} and momentum {}", eps, 1 - momentum));
    std::string x = settle(node.input(0), in);
    std::vector<std::string> options;
    // ONNX keeps 1 - momentum as a float (0.9f for 0.1): five digits undo its rounding.
    if (fmt::format("{:.5g}", momentum) != "0.1")
      options.push_back(fmt::format("momentum={:.5g}", momentum));
    if (float(eps) != float(1e-5))
      options.push_back("eps=" + number(eps));
    // lenetc's own export names a `c1 = conv(...) |> batchnorm` node "/c1.batchnorm/...": it
    // comes back as that stage, its parameters named as before ("c1.batchnorm.scale").
    std::string stage = options.empty() ? "batchnorm" : fmt::format("batchnorm({})", fmt::join(options, ", "));
    if (canAppend(node.input(0), in) && scopeOf(node) == statements_[size_t(in.stmt)].name + ".batchnorm") {
      Tensor out = appendStage(node.input(0), in, stage, "");
      for (int i = 0; i < 4; ++i)
        addWeight(fmt::format("{}.batchnorm.{}", out.ref, roles[i]), {channels}, values[size_t(i)]);
      moveEnd(out, node.output(0));
      return define(node, out);
    }
    std::string name = statementName(node, "batchnorm");
    options.insert(options.begin(), x);
    for (int i = 0; i < 4; ++i)
      addWeight(fmt::format("{}.{}", name, roles[i]), {channels}, values[size_t(i)]);
    define(node, statement(name, fmt::format("batchnorm({})", fmt::join(options, ", ")), node.output(0), in.shape));
  }

  // The scope of a node's name as written ("/c1.batchnorm/BatchNormalization": c1.batchnorm).
  static std::string scopeOf(const onnx::NodeProto &node) {
    const std::string &n = node.name();
    size_t slash = n.rfind('/');
    if (slash == std::string::npos || slash == 0)
      return "";
    std::string scope = n.substr(0, slash);
    return scope.substr(scope.rfind('/') + 1);
  }

  void convertDropout(const onnx::NodeProto &node) {
    Tensor &in = tensor(node, 0);
    double rate = floatAttr(node, "ratio", 0.5);
    if (opset_ >= 12) {
      rate = 0.5;
      if (node.input_size() > 1 && !node.input(1).empty()) {
        const Constant &r = requireConstant(node, 1, "ratio");
        if (r.isInt || r.size() != 1)
          fail(node, "has a ratio that is not one number");
        rate = r.floats[0];
      }
      if (node.input_size() > 2 && !node.input(2).empty()) {
        const Constant *training = constant(node, 2);
        if (!training || training->size() != 1 || (training->isInt ? training->ints[0] != 0 : training->floats[0] != 0))
          fail(node, "in training mode is not supported: export the model in eval mode");
      }
    }
    if (node.output_size() > 1 && !node.output(1).empty() && consumers_[node.output(1)] > 0)
      fail(node, "with its mask read is not supported");
    if (!(rate >= 0 && rate < 1))
      fail(node, fmt::format("has ratio {}; lenetc takes [0, 1)", rate));
    if (rate == 0)
      return alias(node);
    settle(node.input(0), in);
    Tensor out = appendStage(node.input(0), in, fmt::format("dropout(rate={})", number(rate)), baseName(node));
    moveEnd(out, node.output(0));
    define(node, out);
  }

  void convertActivation(const onnx::NodeProto &node) {
    Tensor &in = tensor(node, 0);
    const std::string &op = node.op_type();
    if (op == "Tanh") {
      // Left pending: a Mul after it is the scaled tanh's amplitude.
      if (in.pending != Tensor::Pending::Scaled)
        settle(node.input(0), in);
      Tensor t = in;
      t.slope = in.pending == Tensor::Pending::Scaled ? in.scale : 1.0;
      t.scale = 1;
      t.pending = Tensor::Pending::Tanh;
      t.originNode = node.name();
      t.originName = baseName(node);
      t.biasParam.clear();
      moveEnd(t, node.output(0));
      define(node, t);
      return;
    }
    std::string stage;
    if (op == "Relu")
      stage = "relu";
    else if (op == "Sigmoid")
      stage = "sigmoid";
    else if (op == "Tanh")
      stage = "tanh";
    else if (op == "LeakyRelu") {
      double alpha = floatAttr(node, "alpha", 0.01);
      if (!(alpha >= 0 && std::isfinite(alpha)))
        fail(node, fmt::format("with alpha {} is not supported (alpha >= 0)", alpha));
      stage = float(alpha) == 0.01f ? "leaky_relu" : fmt::format("leaky_relu(alpha={})", number(alpha));
    } else { // Elu
      double alpha = floatAttr(node, "alpha", 1.0);
      if (!(alpha >= 0 && std::isfinite(alpha)))
        fail(node, fmt::format("with alpha {} is not supported (alpha >= 0)", alpha));
      stage = float(alpha) == 1.0f ? "elu" : fmt::format("elu(alpha={})", number(alpha));
    }
    settle(node.input(0), in);
    Tensor out = appendStage(node.input(0), in, stage, baseName(node));
    moveEnd(out, node.output(0));
    define(node, out);
  }

  void convertSoftmax(const onnx::NodeProto &node) {
    if (node.output_size() < 1 || node.output(0) != output_)
      fail(node, "is supported only as the graph's last node (the loss applies softmax)");
    Tensor &in = featureInput(node);
    int64_t axis = intAttr(node, "axis", opset_ >= 13 ? -1 : 1);
    if (axis != 1 && axis != -1)
      fail(node, fmt::format("with axis={} is not supported", axis));
    notes_.push_back(fmt::format("the graph's final {} is left out: the loss, softmax cross-entropy, applies it, "
                                 "and the trainer's inference gives probabilities",
                                 node.op_type()));
    (void)in;
    alias(node);
  }

  // --- the model file ---------------------------------------------------------------------

  ImportedModel finish(const onnx::ModelProto &model) {
    auto found = tensors_.find(output_);
    if (found == tensors_.end())
      throw ImportError(fmt::format("the graph's output '{}' is not computed by any node lenetc read", printable(output_)));
    Tensor &out = found->second;
    std::string logits = settle(output_, out);
    if (out.shape.size() != 1 || out.shape[0] < 2)
      throw ImportError(fmt::format("the graph's output '{}' has shape {} per example; lenetc needs class scores "
                                    "[K], K >= 2",
                                    printable(output_), shapeText(out.shape)));
    std::string label = uniqueName("y", "y");
    std::string text;
    text += fmt::format("# Imported by `lenetc import` from {}", printable(source_));
    std::vector<std::string> from;
    if (!model.producer_name().empty())
      from.push_back(fmt::format("made by {} {}", printable(model.producer_name()), printable(model.producer_version())));
    from.push_back(fmt::format("ONNX opset {}", opset_));
    text += fmt::format(" ({}).\n", fmt::join(from, ", "));
    for (const std::string &n : notes_)
      text += fmt::format("# Note: {}.\n", n);
    text += fmt::format("# Its initializers are in the weights file written beside it: start from them with the\n"
                        "# trainer's --init-from.\n");
    text += fmt::format("model {} {{\n", modelName_);
    text += fmt::format("  input  {}: f32[{}]\n", inputName_, fmt::join(inputShape_, ", "));
    text += fmt::format("  label  {}: class[{}]\n", label, out.shape[0]);
    for (const Statement &s : statements_)
      text += fmt::format("  {} = {}\n", s.name, s.text);
    if (logits.find('(') != std::string::npos || logits == inputName_)
      throw ImportError(fmt::format("the graph's output '{}' is not computed by a layer", printable(output_)));
    text += fmt::format("  loss = softmax_cross_entropy({}, {})\n}}\n", logits, label);
    text += "\n# ONNX keeps no training settings: these are lenetc's suggestions (any flag of the trainer\n"
            "# overrides them).\n"
            "train {\n"
            "  data = fashion_mnist\n"
            "  optimizer = sgd(lr=0.01, momentum=0.9)\n"
            "  batch = 64\n"
            "  epochs = 10\n"
            "  init = xavier_uniform\n"
            "  bias_init = fan_in_uniform\n"
            "  seed = 0\n"
            "}\n";
    return {text, weights_};
  }

  std::string source_, modelName_;
  int64_t opset_ = 0;
  std::map<std::string, Constant> constants_;
  std::map<std::string, Tensor> tensors_;
  std::map<std::string, int> consumers_;
  std::vector<Statement> statements_;
  std::vector<NamedTensor> weights_;
  std::vector<std::string> notes_;
  std::set<std::string> used_;
  std::map<std::string, int> kindCount_;
  std::string inputName_, output_;
  int nodeIndex_ = 0;
  Shape inputShape_;
};

} // namespace

ImportedModel importOnnx(const std::string &bytes, const std::string &source, const std::string &modelName) {
  return Importer(source, modelName).run(bytes);
}

} // namespace lenetc
