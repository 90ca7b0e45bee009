// lenetc import on small ONNX graphs built here: what each op becomes, how weights are laid
// out, and the one-line errors for what lenetc cannot import. (PyTorch's real exports of
// every model are checked end to end, logits included, by tests/lit/onnx.)
#include "frontend/OnnxImport.h"
#include "tools/Compile.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace lenetc;

namespace {

// A graph with one float input [batch, dims...] named "x", built node by node.
class GraphBuilder {
public:
  explicit GraphBuilder(std::vector<int64_t> dims, int64_t opset = 13) {
    model_.set_ir_version(8);
    model_.set_producer_name("test");
    auto *o = model_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    auto *in = graph()->add_input();
    in->set_name("x");
    auto *t = in->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    t->mutable_shape()->add_dim()->set_dim_param("batch");
    for (int64_t d : dims)
      t->mutable_shape()->add_dim()->set_dim_value(d);
  }
  onnx::GraphProto *graph() { return model_.mutable_graph(); }

  // An initializer of `dims` with values 0, 1, 2, ... times `step` (or all `fill`).
  void init(const std::string &name, std::vector<int64_t> dims, float step, float fill = 0) {
    auto *t = graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    int64_t n = 1;
    for (int64_t d : dims) {
      t->add_dims(d);
      n *= d;
    }
    for (int64_t i = 0; i < n; ++i)
      t->add_float_data(fill + step * float(i));
  }
  void initInts(const std::string &name, std::vector<int64_t> values) {
    auto *t = graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(int64_t(values.size()));
    for (int64_t v : values)
      t->add_int64_data(v);
  }
  onnx::NodeProto *node(const std::string &op, const std::string &name, std::vector<std::string> inputs,
                        std::string output = "") {
    auto *n = graph()->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (auto &i : inputs)
      n->add_input(i);
    n->add_output(output.empty() ? name + "_out" : output);
    last_ = n->output(0);
    return n;
  }
  static void ints(onnx::NodeProto *n, const char *name, std::vector<int64_t> v) {
    auto *a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v)
      a->add_ints(x);
  }
  static void integer(onnx::NodeProto *n, const char *name, int64_t v) {
    auto *a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void real(onnx::NodeProto *n, const char *name, float v) {
    auto *a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  const std::string &last() const { return last_; }

  std::string bytes(const std::string &output = "") {
    graph()->add_output()->set_name(output.empty() ? last_ : output);
    return model_.SerializeAsString();
  }

private:
  onnx::ModelProto model_;
  std::string last_ = "x";
};

// A [1, 6, 6] input through Conv 2@3x3 and a Gemm to 4 classes, with `extra` nodes put
// between them (on the conv's output, which they must keep [2, 4, 4]).
std::string convThenGemm(const std::function<void(GraphBuilder &)> &extra = {}, int64_t group = 1) {
  GraphBuilder g({1, 6, 6});
  g.init("conv.weight", {2, 1, 3, 3}, 0.01f);
  g.init("conv.bias", {2}, 0.5f);
  auto *conv = g.node("Conv", "/conv/Conv", {"x", "conv.weight", "conv.bias"});
  GraphBuilder::ints(conv, "kernel_shape", {3, 3});
  if (group != 1)
    GraphBuilder::integer(conv, "group", group);
  if (extra)
    extra(g);
  g.node("Flatten", "/Flatten", {g.last()});
  g.init("fc.weight", {4, 32}, 0.001f);
  g.init("fc.bias", {4}, 0.0f, 0.25f);
  auto *gemm = g.node("Gemm", "/fc/Gemm", {g.last(), "fc.weight", "fc.bias"});
  GraphBuilder::integer(gemm, "transB", 1);
  return g.bytes();
}

std::string importError(const std::string &bytes) {
  try {
    importOnnx(bytes, "test.onnx", "test");
  } catch (const ImportError &e) {
    return e.what();
  }
  return "(no error)";
}

const NamedTensor *find(const ImportedModel &m, const std::string &name) {
  for (const auto &w : m.weights)
    if (w.name == name)
      return &w;
  return nullptr;
}

// The imported text compiles, through autodiff.
void expectCompiles(const ImportedModel &m) {
  Compilation c(nullptr);
  EXPECT_TRUE(c.compileText("imported.nn", m.text, Stage::MLIRGrad)) << m.text;
}

} // namespace

TEST(OnnxImport, ConvAndGemmBecomeStatementsNamedAfterTheirScopes) {
  ImportedModel m = importOnnx(convThenGemm(), "test.onnx", "test");
  EXPECT_NE(m.text.find("model test {"), std::string::npos) << m.text;
  EXPECT_NE(m.text.find("  input  x: f32[1, 6, 6]"), std::string::npos) << m.text;
  EXPECT_NE(m.text.find("  conv_ = conv(x, filters=2, kernel=3)\n"), std::string::npos) << m.text;
  EXPECT_NE(m.text.find("  fc = dense(flatten(conv_), 4)\n"), std::string::npos) << m.text;
  EXPECT_NE(m.text.find("  loss = softmax_cross_entropy(fc, y)"), std::string::npos) << m.text;
  ASSERT_NE(find(m, "conv_.w"), nullptr);
  EXPECT_EQ(find(m, "conv_.w")->shape, (std::vector<int64_t>{2, 1, 3, 3}));
  EXPECT_FLOAT_EQ(find(m, "conv_.w")->values[17], 0.17f);
  EXPECT_FLOAT_EQ(find(m, "fc.b")->values[3], 0.25f);
  expectCompiles(m);
}

TEST(OnnxImport, GemmWithoutTransposeAndWithAlphaBetaIsLaidOutAsUnitsByInputs) {
  GraphBuilder g({3});
  g.init("B", {3, 2}, 1.0f); // [inputs, units]: B[i][u] = 2i + u
  g.init("C", {2}, 1.0f, 10.0f);
  auto *gemm = g.node("Gemm", "/fc/Gemm", {"x", "B", "C"});
  GraphBuilder::real(gemm, "alpha", 2.0f);
  GraphBuilder::real(gemm, "beta", 0.5f);
  ImportedModel m = importOnnx(g.bytes(), "test.onnx", "test");
  const NamedTensor *w = find(m, "fc.w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 3}));
  // w[u][i] = alpha * B[i][u]
  EXPECT_EQ(w->values, (std::vector<float>{0, 4, 8, 2, 6, 10}));
  EXPECT_EQ(find(m, "fc.b")->values, (std::vector<float>{5, 5.5f}));
  expectCompiles(m);
}

TEST(OnnxImport, MatMulThenAddIsADenseLayerWithItsBias) {
  GraphBuilder g({3});
  g.init("w", {3, 2}, 1.0f);
  g.init("b", {2}, 1.0f, 7.0f);
  g.node("MatMul", "/fc1/MatMul", {"x", "w"});
  g.node("Add", "/fc1/Add", {g.last(), "b"});
  g.node("Relu", "/Relu", {g.last()});
  g.init("w2", {2, 2}, 1.0f);
  g.node("MatMul", "/fc2/MatMul", {g.last(), "w2"});
  ImportedModel m = importOnnx(g.bytes(), "test.onnx", "test");
  EXPECT_NE(m.text.find("  fc1 = dense(x, 2) |> relu\n"), std::string::npos) << m.text;
  EXPECT_EQ(find(m, "fc1.b")->values, (std::vector<float>{7, 8}));
  EXPECT_EQ(find(m, "fc2.b")->values, (std::vector<float>{0, 0}));
  expectCompiles(m);
}

TEST(OnnxImport, DropoutTakesItsRatioFromTheInputOrTheAttribute) {
  for (int64_t opset : {11, 13}) {
    SCOPED_TRACE(opset);
    GraphBuilder g({4}, opset);
    g.init("w", {4, 3}, 0.1f);
    g.node("MatMul", "/fc/MatMul", {"x", "w"});
    g.node("Relu", "/Relu", {g.last()});
    onnx::NodeProto *d;
    if (opset >= 12) {
      g.init("ratio", {}, 0.0f, 0.25f);
      d = g.node("Dropout", "/drop/Dropout", {g.last(), "ratio"});
    } else {
      d = g.node("Dropout", "/drop/Dropout", {g.last()});
      GraphBuilder::real(d, "ratio", 0.25f);
    }
    g.init("w2", {3, 2}, 0.1f);
    g.node("MatMul", "/out/MatMul", {g.last(), "w2"});
    ImportedModel m = importOnnx(g.bytes(), "test.onnx", "test");
    EXPECT_NE(m.text.find("  fc = dense(x, 3) |> relu |> dropout(rate=0.25)\n"), std::string::npos) << m.text;
    expectCompiles(m);
  }
}

TEST(OnnxImport, ActivationsKeepTheirParameters) {
  ImportedModel m = importOnnx(convThenGemm([](GraphBuilder &g) {
                                 auto *leaky = g.node("LeakyRelu", "/LeakyRelu", {g.last()});
                                 GraphBuilder::real(leaky, "alpha", 0.125f);
                                 g.node("Elu", "/Elu", {g.last()});
                                 g.node("Sigmoid", "/Sigmoid", {g.last()});
                               }),
                               "test.onnx", "test");
  EXPECT_NE(m.text.find("conv_ = conv(x, filters=2, kernel=3) |> leaky_relu(alpha=0.125) |> elu |> sigmoid"),
            std::string::npos)
      << m.text;
  expectCompiles(m);
}

// [1, 6, 6] -> Conv 2@3x3 -> [2, 4, 4] -> `pool` nodes to [2, 2, 2] -> Flatten -> Gemm to 4.
std::string convPoolGemm(const std::function<void(GraphBuilder &)> &pool) {
  GraphBuilder g({1, 6, 6});
  g.init("conv.weight", {2, 1, 3, 3}, 0.01f);
  auto *conv = g.node("Conv", "/conv/Conv", {"x", "conv.weight"});
  GraphBuilder::ints(conv, "kernel_shape", {3, 3});
  pool(g);
  g.node("Flatten", "/Flatten", {g.last()});
  g.init("fc.weight", {4, 8}, 0.001f);
  auto *gemm = g.node("Gemm", "/fc/Gemm", {g.last(), "fc.weight"});
  GraphBuilder::integer(gemm, "transB", 1);
  return g.bytes();
}

onnx::NodeProto *averagePool2x2(GraphBuilder &g) {
  auto *pool = g.node("AveragePool", "/s/AveragePool", {g.last()});
  GraphBuilder::ints(pool, "kernel_shape", {2, 2});
  GraphBuilder::ints(pool, "strides", {2, 2});
  return pool;
}

TEST(OnnxImport, AnAveragePoolTimesAndPlusPerMapConstantsIsASubsampling) {
  // AveragePool 2x2, Mul by 3, Mul by [2, 1, 1] = (1, 2), Add [1, 2, 1, 1] = (0.5, 1.5): the
  // coefficients multiply the window's sum, so 3 * (1, 2) / 4.
  ImportedModel m = importOnnx(convPoolGemm([](GraphBuilder &g) {
                                 averagePool2x2(g);
                                 g.init("three", {}, 0.0f, 3.0f);
                                 g.node("Mul", "/s/Mul", {g.last(), "three"});
                                 g.init("coef", {2, 1, 1}, 1.0f, 1.0f);
                                 g.node("Mul", "/s/Mul_1", {g.last(), "coef"});
                                 g.init("bias", {1, 2, 1, 1}, 1.0f, 0.5f);
                                 g.node("Add", "/s/Add", {g.last(), "bias"});
                               }),
                               "test.onnx", "test");
  EXPECT_NE(m.text.find("  s = subsample(conv_)\n"), std::string::npos) << m.text;
  EXPECT_EQ(find(m, "s.coef")->values, (std::vector<float>{0.75f, 1.5f}));
  EXPECT_EQ(find(m, "s.b")->values, (std::vector<float>{0.5f, 1.5f}));
  expectCompiles(m);
}

TEST(OnnxImport, AnAveragePoolPlusPerMapConstantsIsASubsamplingOfOneCoefficient) {
  ImportedModel m = importOnnx(convPoolGemm([](GraphBuilder &g) {
                                 averagePool2x2(g);
                                 g.init("bias", {2, 1, 1}, 1.0f, 0.5f);
                                 g.node("Add", "/s/Add", {g.last(), "bias"});
                               }),
                               "test.onnx", "test");
  EXPECT_EQ(find(m, "s.coef")->values, (std::vector<float>{0.25f, 0.25f})) << m.text;
  EXPECT_EQ(find(m, "s.b")->values, (std::vector<float>{0.5f, 1.5f}));
}

TEST(OnnxImport, AConstantAlongTheLastAxisIsNotPerMap) {
  // ONNX broadcasts a [2] constant along W (of 2 columns here), not along the maps.
  EXPECT_EQ(importError(convPoolGemm([](GraphBuilder &g) {
              averagePool2x2(g);
              g.init("bias", {2}, 1.0f);
              g.node("Add", "/s/Add", {g.last(), "bias"});
            })),
            "node '/s/Add': Add of a constant of shape [2] to a tensor of shape [2, 2, 2] is not supported");
}

TEST(OnnxImport, BatchNormalizationsMomentumIsPyTorchs) {
  // ONNX weighs the running value by momentum; lenetc (as PyTorch) the batch's.
  ImportedModel m = importOnnx(convPoolGemm([](GraphBuilder &g) {
                                 for (const char *p : {"bn.weight", "bn.bias", "bn.mean", "bn.var"})
                                   g.init(p, {2}, 0.0f, 1.0f);
                                 auto *bn = g.node("BatchNormalization", "/bn/BatchNormalization",
                                                   {g.last(), "bn.weight", "bn.bias", "bn.mean", "bn.var"});
                                 GraphBuilder::real(bn, "momentum", 0.99f);
                                 GraphBuilder::real(bn, "epsilon", 0.001f);
                                 averagePool2x2(g);
                               }),
                               "test.onnx", "test");
  EXPECT_NE(m.text.find("  bn = batchnorm(conv_, momentum=0.01, eps=0.001)\n"), std::string::npos) << m.text;
  ASSERT_NE(find(m, "bn.running_var"), nullptr);
  expectCompiles(m);
}

TEST(OnnxImport, WhatCannotBeImportedIsOneLineNamingTheNode) {
  EXPECT_EQ(importError(convThenGemm({}, 2)), "node '/conv/Conv': Conv with group=2 is not supported");
  EXPECT_EQ(importError(convThenGemm([](GraphBuilder &g) { g.node("Sqrt", "/Sqrt", {g.last()}); })),
            "node '/Sqrt': Sqrt is not supported (lenetc imports Conv, Gemm, MatMul, Add, Mul, Flatten, Reshape, "
            "AveragePool, MaxPool, BatchNormalization, Dropout, Relu, Sigmoid, Tanh, LeakyRelu, Elu and a final "
            "Softmax)");
  EXPECT_EQ(importError(convThenGemm([](GraphBuilder &g) { g.node("Softmax", "/Softmax", {g.last()}); })),
            "node '/Softmax': Softmax is supported only as the graph's last node (the loss applies softmax)");
  EXPECT_EQ(importError(convThenGemm([](GraphBuilder &g) {
              auto *pool = g.node("MaxPool", "/pool/MaxPool", {g.last()});
              GraphBuilder::ints(pool, "kernel_shape", {2, 3});
            })),
            "node '/pool/MaxPool': MaxPool with kernel 2x3 is not supported (lenetc takes square ones)");
  EXPECT_EQ(importError(convThenGemm([](GraphBuilder &g) {
              g.initInts("shape", {2, -1});
              g.node("Reshape", "/Reshape", {g.last(), "shape"});
            })),
            "node '/Reshape': Reshape to [2, -1] from [batch, 2, 4, 4] is not supported (only a flatten to "
            "[batch, 32])");
  EXPECT_EQ(importError(convThenGemm([](GraphBuilder &g) { g.node("Add", "/Add", {g.last(), g.last()}); })),
            "node '/Add': Add of two computed tensors is not supported (one operand must be a constant)");
}

TEST(OnnxImport, FilesThatAreNoModelsAreOneLine) {
  EXPECT_EQ(importError("not a protobuf \xff\xff\xff"), "'test.onnx' is not an ONNX model (it does not parse as one)");
  std::string good = convThenGemm();
  EXPECT_EQ(importError(good.substr(0, good.size() / 2)),
            "'test.onnx' is not an ONNX model (it does not parse as one)");
  GraphBuilder old({4}, 8);
  old.init("w", {4, 2}, 1.0f);
  old.node("MatMul", "/MatMul", {"x", "w"});
  EXPECT_EQ(importError(old.bytes()), "'test.onnx' uses opset 8; lenetc imports opsets 9 to 17");
  EXPECT_EQ(importError(""), "'test.onnx' imports no ONNX opset");
}

TEST(OnnxImport, NamesBecomeIdentifiers) {
  EXPECT_EQ(toIdentifier("conv1"), "conv1");
  EXPECT_EQ(toIdentifier("features.0"), "features_0");
  EXPECT_EQ(toIdentifier("0"), "layer0");
  EXPECT_EQ(toIdentifier("input.1"), "input_1");
  EXPECT_EQ(toIdentifier("/a//b/"), "a_b");
  EXPECT_EQ(toIdentifier("::"), "");
}

// Inputs that once broke, or could break, the importer (tests/fuzz/onnx-regressions: the
// fuzzer's finds): each must end in a model or in an ImportError.
TEST(OnnxImport, FuzzRegressionsEndInAModelOrAnError) {
  int replayed = 0;
  for (const auto &entry : std::filesystem::directory_iterator(LENETC_ONNX_REGRESSIONS_DIR)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    SCOPED_TRACE(entry.path().string());
    try {
      importOnnx(bytes.str(), "fuzz.onnx", "fuzz");
    } catch (const ImportError &e) {
      EXPECT_GT(std::string(e.what()).size(), 10u);
    }
    ++replayed;
  }
  EXPECT_GE(replayed, 1);
}
