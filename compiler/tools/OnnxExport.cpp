#include "tools/OnnxExport.h"

#include "dialect/Dialect.h"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <map>

using namespace mlir;

namespace lenetc {

namespace {

constexpr int64_t kOpset = 13;

int64_t intAttr(Operation *op, llvm::StringRef name) { return op->getAttrOfType<IntegerAttr>(name).getInt(); }
double floatAttr(Operation *op, llvm::StringRef name) {
  return op->getAttrOfType<FloatAttr>(name).getValueAsDouble();
}
std::string opName(Operation *op) { return op->getAttrOfType<StringAttr>("name").getValue().str(); }
std::vector<int64_t> shapeOf(Value v) {
  auto s = v.getType().cast<RankedTensorType>().getShape();
  return {s.begin(), s.end()};
}

class Exporter {
public:
  Exporter(OnnxExportPlan &plan, std::map<std::string, int> paramIndex)
      : plan_(plan), paramIndex_(std::move(paramIndex)) {}

  bool run(FuncOp infer, const std::string &model, std::string &error) {
    graph_.set_name(model);
    Value input = infer.getArgument(0);
    auto inputName = infer.getArgAttrOfType<StringAttr>(0, "lenet.name");
    names_[input.getAsOpaquePointer()] = inputName ? inputName.getValue().str() : "x";
    addValueInfo(graph_.add_input(), names_[input.getAsOpaquePointer()], shapeOf(input));
    for (Operation &op : infer.getBody().front()) {
      if (isa<lenet::ParamOp>(op))
        continue;
      if (auto softmax = dyn_cast<lenet::SoftmaxOp>(op)) {
        logits_ = softmax.getOperand();
        continue;
      }
      if (isa<lenet::ReturnOp>(op))
        break;
      if (!convert(&op)) {
        error = fmt::format("op '{}' ({}) has no ONNX form", opName(&op), op.getName().getStringRef().str());
        return false;
      }
    }
    if (!logits_) {
      error = "the inference function does not end in a softmax";
      return false;
    }
    // The scores before softmax are the graph's output, "logits"; another value of that name
    // (a hidden layer called logits, the input) gives it up first.
    std::string scores = name(logits_);
    auto renameAll = [&](const std::string &from, const std::string &to) {
      for (auto &node : *graph_.mutable_node()) {
        for (auto &in : *node.mutable_input())
          if (in == from)
            in = to;
        for (auto &out : *node.mutable_output())
          if (out == from)
            out = to;
      }
      for (auto &in : *graph_.mutable_input())
        if (in.name() == from)
          in.set_name(to);
    };
    if (scores != "logits") {
      renameAll("logits", "logits.hidden");
      renameAll(scores, "logits");
    }
    addValueInfo(graph_.add_output(), "logits", shapeOf(logits_));

    onnx::ModelProto m;
    m.set_ir_version(onnx::IR_VERSION); // 8, ONNX 1.12's
    m.set_producer_name("lenetc");
    m.set_producer_version("0.1.0");
    m.set_doc_string(fmt::format("lenetc model {}: inference; input pixels scaled as the trainer's --normalize; "
                                 "output logits (softmax gives the class probabilities)",
                                 model));
    auto *opset = m.add_opset_import();
    opset->set_domain("");
    opset->set_version(kOpset);
    plan_.modelHead = m.SerializeAsString();
    plan_.graph = graph_.SerializeAsString();
    return true;
  }

private:
  static void addValueInfo(onnx::ValueInfoProto *info, const std::string &name, const std::vector<int64_t> &shape) {
    info->set_name(name);
    auto *t = info->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    for (size_t i = 0; i < shape.size(); ++i) {
      auto *d = t->mutable_shape()->add_dim();
      if (i == 0)
        d->set_dim_param("batch");
      else
        d->set_dim_value(shape[i]);
    }
  }

  std::string &name(Value v) { return names_[v.getAsOpaquePointer()]; }

  // A node named in PyTorch's style, "/<layer>/<OpType>" (a suffix when a layer has two).
  onnx::NodeProto *node(const std::string &type, const std::string &layer, std::vector<std::string> inputs,
                        const std::string &output) {
    auto *n = graph_.add_node();
    n->set_op_type(type);
    int &count = nodeCount_[layer + "/" + type];
    n->set_name(fmt::format("/{}/{}{}", layer, type, count++ ? fmt::format("_{}", count - 1) : ""));
    for (auto &i : inputs)
      n->add_input(i);
    n->add_output(output);
    return n;
  }
  static void ints(onnx::NodeProto *n, const char *attr, std::vector<int64_t> v) {
    auto *a = n->add_attribute();
    a->set_name(attr);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v)
      a->add_ints(x);
  }
  static void integer(onnx::NodeProto *n, const char *attr, int64_t v) {
    auto *a = n->add_attribute();
    a->set_name(attr);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void real(onnx::NodeProto *n, const char *attr, double v) {
    auto *a = n->add_attribute();
    a->set_name(attr);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(float(v));
  }

  // A scalar constant, an initializer in the graph's bytes. Of shape [1], not []: OpenCV 4.6
  // cannot multiply by a tensor of rank 0.
  std::string constant(const std::string &name, double value) {
    auto *t = graph_.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_dims(1);
    t->add_float_data(float(value));
    return name;
  }

  // An initializer the trainer fills from the parameter `param`.
  std::string parameter(Value param, std::vector<int64_t> shape, float scale = 1, std::vector<int32_t> blocks = {},
                        int64_t blockSize = 0) {
    auto p = param.getDefiningOp<lenet::ParamOp>();
    std::string n = p.name().str();
    plan_.initializers.push_back({n, paramIndex_.at(n), std::move(shape), scale, std::move(blocks), blockSize});
    return n;
  }

  std::vector<int64_t> squareKernel(int64_t k) { return {k, k}; }

  bool convert(Operation *op) {
    std::string layer = opName(op), out = layer;
    name(op->getResult(0)) = out;
    if (auto conv = dyn_cast<lenet::ConvOp>(op)) {
      int64_t k = intAttr(op, "kernel"), s = intAttr(op, "stride"), p = intAttr(op, "pad");
      int64_t filters = intAttr(op, "filters"), channels = shapeOf(conv.input())[1];
      std::vector<int64_t> wshape = {filters, channels, k, k};
      std::string w;
      if (auto table = op->getAttrOfType<ArrayAttr>("table")) {
        // Connection j (in table order) is the dense weight's block (f, c) of k*k values.
        std::vector<int32_t> blocks;
        int64_t f = 0;
        for (Attribute row : table) {
          for (Attribute c : row.cast<ArrayAttr>())
            blocks.push_back(int32_t(f * channels + c.cast<IntegerAttr>().getInt()));
          ++f;
        }
        w = parameter(conv.weight(), wshape, 1, std::move(blocks), k * k);
      } else {
        w = parameter(conv.weight(), wshape);
      }
      auto *n = node("Conv", layer, {name(conv.input()), w, parameter(conv.bias(), {filters})}, out);
      ints(n, "kernel_shape", squareKernel(k));
      ints(n, "strides", {s, s});
      ints(n, "pads", {p, p, p, p});
      return true;
    }
    if (isa<lenet::AvgPoolOp, lenet::MaxPoolOp>(op)) {
      int64_t size = intAttr(op, "size"), stride = intAttr(op, "stride");
      auto *n = node(isa<lenet::MaxPoolOp>(op) ? "MaxPool" : "AveragePool", layer, {name(op->getOperand(0))}, out);
      ints(n, "kernel_shape", squareKernel(size));
      ints(n, "strides", {stride, stride});
      return true;
    }
    if (auto sub = dyn_cast<lenet::SubsampleOp>(op)) {
      // coef * (sum of the window) + bias = (coef * size^2) * average + bias, per map. The
      // per-map constants are [C, 1, 1]: OpenCV 4.6 cannot add a [1, C, 1, 1] one to a batch.
      int64_t size = intAttr(op, "size"), stride = intAttr(op, "stride"), maps = shapeOf(sub.input())[1];
      auto *pool = node("AveragePool", layer, {name(sub.input())}, layer + "/average");
      ints(pool, "kernel_shape", squareKernel(size));
      ints(pool, "strides", {stride, stride});
      node("Mul", layer, {layer + "/average", parameter(sub.coef(), {maps, 1, 1}, float(size * size))},
           layer + "/scaled");
      node("Add", layer, {layer + "/scaled", parameter(sub.bias(), {maps, 1, 1})}, out);
      return true;
    }
    if (auto dense = dyn_cast<lenet::DenseOp>(op)) {
      int64_t units = intAttr(op, "units"), inputs = shapeOf(dense.input())[1];
      auto *n = node("Gemm", layer,
                     {name(dense.input()), parameter(dense.weight(), {units, inputs}), parameter(dense.bias(), {units})},
                     out);
      integer(n, "transB", 1);
      return true;
    }
    if (isa<lenet::FlattenOp>(op)) {
      integer(node("Flatten", layer, {name(op->getOperand(0))}, out), "axis", 1);
      return true;
    }
    if (auto bn = dyn_cast<lenet::BatchNormOp>(op)) {
      int64_t channels = shapeOf(bn.input())[1];
      auto *n = node("BatchNormalization", layer,
                     {name(bn.input()), parameter(bn.scale(), {channels}), parameter(bn.shift(), {channels}),
                      parameter(bn.running_mean(), {channels}), parameter(bn.running_var(), {channels})},
                     out);
      real(n, "epsilon", floatAttr(op, "eps"));
      real(n, "momentum", 1.0 - floatAttr(op, "momentum")); // ONNX weighs the running value
      return true;
    }
    if (op->hasTrait<lenet::Activation>())
      return activation(op, layer, name(op->getOperand(0)), out);
    return false;
  }

  bool activation(Operation *op, const std::string &layer, const std::string &in, const std::string &out) {
    llvm::StringRef kind = op->getName().stripDialect();
    static const std::map<std::string, std::string> plain = {
        {"relu", "Relu"}, {"sigmoid", "Sigmoid"}, {"tanh", "Tanh"}};
    if (auto p = plain.find(kind.str()); p != plain.end()) {
      node(p->second, layer, {in}, out);
      return true;
    }
    if (kind == "leaky_relu" || kind == "elu") {
      real(node(kind == "elu" ? "Elu" : "LeakyRelu", layer, {in}, out), "alpha", floatAttr(op, "alpha"));
      return true;
    }
    if (kind == "scaled_tanh") {
      node("Mul", layer, {in, constant(layer + ".slope", floatAttr(op, "slope"))}, layer + "/scaled");
      node("Tanh", layer, {layer + "/scaled"}, layer + "/tanh");
      node("Mul", layer, {layer + "/tanh", constant(layer + ".amplitude", floatAttr(op, "amplitude"))}, out);
      return true;
    }
    if (kind == "gelu") {
      // x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as PyTorch's approximate='tanh'.
      node("Mul", layer, {in, in}, layer + "/x2");
      node("Mul", layer, {layer + "/x2", in}, layer + "/x3");
      node("Mul", layer, {layer + "/x3", constant(layer + ".cubic", 0.044715)}, layer + "/cubic");
      node("Add", layer, {in, layer + "/cubic"}, layer + "/inner");
      node("Mul", layer, {layer + "/inner", constant(layer + ".scale", 0.7978845608028654)}, layer + "/scaled");
      node("Tanh", layer, {layer + "/scaled"}, layer + "/tanh");
      node("Add", layer, {layer + "/tanh", constant(layer + ".one", 1.0)}, layer + "/gate");
      node("Mul", layer, {in, layer + "/gate"}, layer + "/gated");
      node("Mul", layer, {layer + "/gated", constant(layer + ".half", 0.5)}, out);
      return true;
    }
    return false;
  }

  OnnxExportPlan &plan_;
  std::map<std::string, int> paramIndex_;
  onnx::GraphProto graph_;
  std::map<const void *, std::string> names_;
  std::map<std::string, int> nodeCount_;
  Value logits_;
};

} // namespace

bool planOnnxExport(ModuleOp module, OnnxExportPlan &plan, std::string &error) {
  FuncOp train, infer;
  for (auto f : module.getOps<FuncOp>()) {
    if (f.getName().endswith("_train_step"))
      train = f;
    else if (f.getName().endswith("_infer"))
      infer = f;
  }
  if (!train || !infer) {
    error = "the module has no training step or inference function";
    return false;
  }
  // The parameters' order is the training step's (the glue's kParams).
  std::map<std::string, int> paramIndex;
  for (auto p : train.getBody().front().getOps<lenet::ParamOp>())
    paramIndex.emplace(p.name().str(), int(paramIndex.size()));
  plan = OnnxExportPlan();
  std::string model = infer.getName().drop_back(std::strlen("_infer")).str();
  return Exporter(plan, std::move(paramIndex)).run(infer, model, error);
}

} // namespace lenetc
