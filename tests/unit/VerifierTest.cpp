// The op verifiers, on IR written by hand (not produced by lenetc's own generator): each
// op rejects operands and results whose shapes do not fit, once they are known.
#include "dialect/Dialect.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser.h"

#include <gtest/gtest.h>

namespace {

std::string verifyError(const std::string &body, const std::string &args = "%x: tensor<?x1x8x8xf32>") {
  mlir::MLIRContext ctx;
  ctx.getOrLoadDialect<lenet::LenetDialect>();
  ctx.printOpOnDiagnostic(false);
  std::string error;
  mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic &d) {
    if (error.empty())
      error = d.str();
    return mlir::success();
  });
  std::string text = "func @m(" + args + ") {\n" + body + "\n  lenet.return\n}\n";
  auto module = mlir::parseSourceString<mlir::ModuleOp>(text, &ctx);
  return module ? "verified" : error;
}

const char *kConvParams = "  %w = lenet.param \"c.w\", \"weight\" : tensor<2x1x3x3xf32>\n"
                          "  %b = lenet.param \"c.b\", \"bias\" : tensor<2xf32>\n";

TEST(Verifier, AcceptsConsistentConv) {
  EXPECT_EQ(
      verifyError(std::string(kConvParams) +
                  "  %c = lenet.conv %x, %w, %b {name = \"c\", filters = 2, kernel = 3, stride = 1, pad = 0}"
                  " : (tensor<?x1x8x8xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<?x2x6x6xf32>"),
      "verified");
}

TEST(Verifier, AcceptsUnrankedTypesBeforeShapeInference) {
  EXPECT_EQ(
      verifyError("  %w = lenet.param \"c.w\", \"weight\" : tensor<*xf32>\n"
                  "  %b = lenet.param \"c.b\", \"bias\" : tensor<*xf32>\n"
                  "  %c = lenet.conv %x, %w, %b {name = \"c\", filters = 2, kernel = 3, stride = 1, pad = 0}"
                  " : (tensor<?x1x8x8xf32>, tensor<*xf32>, tensor<*xf32>) -> tensor<*xf32>"),
      "verified");
}

TEST(Verifier, ConvResultShape) {
  EXPECT_EQ(
      verifyError(std::string(kConvParams) +
                  "  %c = lenet.conv %x, %w, %b {name = \"c\", filters = 2, kernel = 3, stride = 1, pad = 0}"
                  " : (tensor<?x1x8x8xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<?x2x8x8xf32>"),
      "conv 'c': the result has type 'tensor<?x2x8x8xf32>', expected 'tensor<?x2x6x6xf32>'");
}

TEST(Verifier, ConvWeightChannels) {
  EXPECT_EQ(
      verifyError("  %w = lenet.param \"c.w\", \"weight\" : tensor<2x3x3x3xf32>\n"
                  "  %b = lenet.param \"c.b\", \"bias\" : tensor<2xf32>\n"
                  "  %c = lenet.conv %x, %w, %b {name = \"c\", filters = 2, kernel = 3, stride = 1, pad = 0}"
                  " : (tensor<?x1x8x8xf32>, tensor<2x3x3x3xf32>, tensor<2xf32>) -> tensor<*xf32>"),
      "conv 'c': the weight has type 'tensor<2x3x3x3xf32>', expected 'tensor<2x1x3x3xf32>'");
}

TEST(Verifier, ConvAttributes) {
  EXPECT_EQ(
      verifyError(std::string(kConvParams) +
                  "  %c = lenet.conv %x, %w, %b {name = \"c\", filters = 2, kernel = 3, stride = 0, pad = 0}"
                  " : (tensor<?x1x8x8xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<*xf32>"),
      "conv 'c': stride must be positive, got 0");
}

TEST(Verifier, InputMustBeABatch) {
  EXPECT_EQ(verifyError("  %r = lenet.relu %x {name = \"r\"} : (tensor<4x1x8x8xf32>) -> tensor<*xf32>",
                        "%x: tensor<4x1x8x8xf32>"),
            "relu 'r': the input must be a batch of examples (tensor<?x...xf32>), got 'tensor<4x1x8x8xf32>'");
}

TEST(Verifier, ElementwiseKeepsShape) {
  EXPECT_EQ(
      verifyError("  %r = lenet.sigmoid %x {name = \"r\"} : (tensor<?x1x8x8xf32>) -> tensor<?x1x4x4xf32>"),
      "sigmoid 'r': the result has type 'tensor<?x1x4x4xf32>', expected 'tensor<?x1x8x8xf32>'");
}

TEST(Verifier, PoolAndFlatten) {
  EXPECT_EQ(verifyError("  %p = lenet.avgpool %x {name = \"p\", size = 2, stride = 2} : "
                        "(tensor<?x1x8x8xf32>) -> tensor<?x1x3x3xf32>"),
            "avgpool 'p': the result has type 'tensor<?x1x3x3xf32>', expected 'tensor<?x1x4x4xf32>'");
  EXPECT_EQ(verifyError("  %f = lenet.flatten %x {name = \"f\"} : (tensor<?x1x8x8xf32>) -> tensor<?x60xf32>"),
            "flatten 'f': the result has type 'tensor<?x60xf32>', expected 'tensor<?x64xf32>'");
}

TEST(Verifier, DenseWeight) {
  EXPECT_EQ(verifyError("  %w = lenet.param \"d.w\", \"weight\" : tensor<10x63xf32>\n"
                        "  %b = lenet.param \"d.b\", \"bias\" : tensor<10xf32>\n"
                        "  %d = lenet.dense %x, %w, %b {name = \"d\", units = 10}"
                        " : (tensor<?x64xf32>, tensor<10x63xf32>, tensor<10xf32>) -> tensor<*xf32>",
                        "%x: tensor<?x64xf32>"),
            "dense 'd': the weight has type 'tensor<10x63xf32>', expected 'tensor<10x64xf32>'");
}

TEST(Verifier, ParamRole) {
  EXPECT_EQ(verifyError("  %w = lenet.param \"w\", \"kernel\" : tensor<2xf32>"),
            "'lenet.param' op role must be weight, bias, coef, scale, shift, running_mean or running_var, got 'kernel'");
}

TEST(Verifier, LossNeedsLabels) {
  EXPECT_EQ(verifyError("  %l = lenet.softmax_cross_entropy %x, %x {name = \"l\"} : (tensor<?x10xf32>, "
                        "tensor<?x10xf32>) -> tensor<f32>",
                        "%x: tensor<?x10xf32>"),
            "softmax_cross_entropy 'l': the second operand must be a label input (label y: class[N])");
}

} // namespace
