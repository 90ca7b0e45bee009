// Shape inference: per-example shapes of values and shapes of parameters.
#include "TestUtil.h"

#include "dialect/Dialect.h"

#include "llvm/Support/raw_ostream.h"

using namespace lenetc;
using lenetc::test::wrapModel;

namespace {

// "tensor<?x6x14x14xf32>" for the op named `name`, after shape inference.
class Shapes {
public:
  explicit Shapes(const std::string &text) { ok = c.compileText("t.nn", text, Stage::MLIR); }
  std::string of(const std::string &name) {
    std::string out = "no op named " + name;
    c.module().walk([&](mlir::Operation *op) {
      if (lenet::opName(op) == name && op->getNumResults() == 1) {
        out.clear();
        llvm::raw_string_ostream os(out);
        os << op->getResult(0).getType();
      }
    });
    return out;
  }
  std::string funcType() {
    std::string out;
    llvm::raw_string_ostream os(out);
    os << (*c.module().getOps<mlir::FuncOp>().begin()).getType();
    return out;
  }
  Compilation c{nullptr};
  bool ok = false;
};

const std::string kTail = "  logits = dense(flatten(h), 10)\n  loss = softmax_cross_entropy(logits, y)\n";

TEST(ShapeInference, ConvStridePadding) {
  Shapes s(wrapModel("  a = conv(x, filters=3, kernel=3, stride=2, pad=1)\n"
                     "  b = conv(a, filters=4, kernel=3, pad=same)\n"
                     "  h = conv(b, filters=5, kernel=2, stride=3, pad=valid)\n" +
                         kTail,
                     "f32[2, 28, 28]"));
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.of("a"), "tensor<?x3x14x14xf32>"); // (28 + 2 - 3) / 2 + 1
  EXPECT_EQ(s.of("a.w"), "tensor<3x2x3x3xf32>");
  EXPECT_EQ(s.of("a.b"), "tensor<3xf32>");
  EXPECT_EQ(s.of("b"), "tensor<?x4x14x14xf32>"); // same: pad 1
  EXPECT_EQ(s.of("h"), "tensor<?x5x5x5xf32>");   // (14 - 2) / 3 + 1
}

TEST(ShapeInference, PoolingFloorsOddSizes) {
  Shapes s(wrapModel("  a = avgpool(x, size=2)\n  b = maxpool(a, size=3, stride=2)\n"
                     "  h = subsample(b)\n" +
                         kTail,
                     "f32[3, 15, 15]"));
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.of("a"), "tensor<?x3x7x7xf32>");
  EXPECT_EQ(s.of("b"), "tensor<?x3x3x3xf32>");
  EXPECT_EQ(s.of("h"), "tensor<?x3x1x1xf32>");
  EXPECT_EQ(s.of("h.coef"), "tensor<3xf32>");
  EXPECT_EQ(s.of("h.b"), "tensor<3xf32>");
}

TEST(ShapeInference, ConnectionTableWeightHasOneKernelPerConnection) {
  Shapes s(wrapModel("  h = conv(x, filters=3, kernel=5, table=[[0], [1, 2], [0, 1, 2]])\n" + kTail,
                     "f32[3, 9, 9]"));
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.of("h.w"), "tensor<6x5x5xf32>");
  EXPECT_EQ(s.of("h.b"), "tensor<3xf32>");
  EXPECT_EQ(s.of("h"), "tensor<?x3x5x5xf32>");
}

TEST(ShapeInference, FlattenDenseAndActivations) {
  Shapes s(wrapModel("  h = conv(x, filters=2, kernel=3) |> scaled_tanh |> relu\n" + kTail, "f32[1, 6, 6]"));
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.of("h"), "tensor<?x2x4x4xf32>");
  EXPECT_EQ(s.of("h.scaled_tanh"), "tensor<?x2x4x4xf32>");
  EXPECT_EQ(s.of("h.relu"), "tensor<?x2x4x4xf32>");
  EXPECT_EQ(s.of("logits.flatten"), "tensor<?x32xf32>");
  EXPECT_EQ(s.of("logits.w"), "tensor<10x32xf32>");
  EXPECT_EQ(s.of("logits"), "tensor<?x10xf32>");
  EXPECT_EQ(s.of("loss"), "tensor<f32>");
  EXPECT_EQ(s.funcType(), "(tensor<?x1x6x6xf32>, tensor<?xi32>) -> (tensor<f32>, tensor<?x10xf32>)");
}

TEST(ShapeInference, FlatInputFeedsDenseDirectly) {
  Shapes s(wrapModel("  h = dense(x, 32) |> relu\n  logits = dense(h, 10)\n"
                     "  loss = softmax_cross_entropy(logits, y)\n",
                     "f32[784]"));
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.of("h.w"), "tensor<32x784xf32>");
}

TEST(ShapeInference, ChainNaming) {
  // The head of a chain takes the statement's name; later stages and nested calls are
  // `<stmt>.<op>`, numbered when an op repeats.
  Shapes s(wrapModel("  h = x |> relu |> flatten |> relu\n  logits = dense(h, 10)\n"
                     "  loss = softmax_cross_entropy(logits, y)\n"));
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.of("h"), "tensor<?x1x28x28xf32>");
  EXPECT_EQ(s.of("h.flatten"), "tensor<?x784xf32>");
  EXPECT_EQ(s.of("h.relu"), "tensor<?x784xf32>");
}

} // namespace
