// One test per kind of semantic error: where it is reported and what it says.
#include "TestUtil.h"

using namespace lenetc;
using lenetc::test::firstError;
using lenetc::test::wrapModel;

namespace {

const char *kLoss = "  logits = dense(flatten(c1), 10)\n  loss = softmax_cross_entropy(logits, y)\n";

TEST(SemanticErrors, UndefinedName) {
  EXPECT_EQ(firstError(wrapModel("  c1 = conv(xx, filters=6, kernel=5)\n")),
            "4:13: undefined name 'xx'; did you mean 'x'?");
}

TEST(SemanticErrors, DuplicateName) {
  EXPECT_EQ(firstError(wrapModel("  c1 = relu(x)\n  c1 = tanh(x)\n")),
            "5:3: 'c1' is already defined (at line 4)");
  EXPECT_EQ(firstError(wrapModel("  x = relu(x)\n")), "4:3: 'x' is already defined (at line 2)");
  EXPECT_EQ(firstError(wrapModel("  l = dense(flatten(x), 10)\n  loss = softmax_cross_entropy(l, y)\n"
                                 "  z = relu(loss)\n")),
            "6:7: the loss cannot be the input of another op (it is defined at line 5)");
}

TEST(SemanticErrors, BatchNormAndDropoutArguments) {
  // At the argument's value: momentum in (0, 1], eps > 0, rate in [0, 1).
  const std::string conv = "  c1 = conv(x, filters=6, kernel=5) |> ";
  const std::string at = "4:" + std::to_string(conv.size() + 1);
  EXPECT_EQ(firstError(wrapModel(conv + "batchnorm(momentum=0)\n")),
            "4:" + std::to_string(conv.size() + 20) + ": 'momentum' must be in (0, 1], got 0");
  EXPECT_EQ(firstError(wrapModel(conv + "batchnorm(momentum=1.5)\n")),
            "4:" + std::to_string(conv.size() + 20) + ": 'momentum' must be in (0, 1], got 1.5");
  EXPECT_EQ(firstError(wrapModel(conv + "batchnorm(eps=0)\n")),
            "4:" + std::to_string(conv.size() + 15) + ": 'eps' must be positive, got 0");
  EXPECT_EQ(firstError(wrapModel(conv + "dropout(rate=1)\n")),
            "4:" + std::to_string(conv.size() + 14) + ": 'rate' must be in [0, 1), got 1");
  EXPECT_EQ(firstError(wrapModel(conv + "dropout(rate=-0.1)\n")),
            "4:" + std::to_string(conv.size() + 14) + ": 'rate' must be in [0, 1), got -0.1");
  EXPECT_EQ(firstError(wrapModel(conv + "dropout\n")), at + ": 'dropout' needs the argument 'rate'");
  EXPECT_EQ(firstError(wrapModel(conv + "batchnorm(momentum=fast)\n")),
            "4:" + std::to_string(conv.size() + 20) + ": 'momentum' must be a number, got fast");
}

TEST(SemanticErrors, UnknownOp) {
  EXPECT_EQ(firstError(wrapModel("  c1 = convolution(x)\n")),
            "4:8: unknown op 'convolution' (ops: conv, avgpool, maxpool, subsample, dense, flatten, "
            "batchnorm, dropout, sigmoid, tanh, relu, leaky_relu, elu, gelu, scaled_tanh, softmax_cross_entropy)");
  EXPECT_EQ(firstError(wrapModel("  c1 = x |> sigmod\n")),
            "4:13: unknown op 'sigmod'; did you mean 'sigmoid'?");
}

TEST(SemanticErrors, ActivationParameters) {
  EXPECT_EQ(firstError(wrapModel("  c1 = x |> leaky_relu(alpha=-0.5)\n")),
            "4:30: 'alpha' must not be negative, got -0.5");
  EXPECT_EQ(firstError(wrapModel("  c1 = x |> elu(alpha=true)\n")), "4:23: 'alpha' must be a number, got true");
  EXPECT_EQ(firstError(wrapModel("  c1 = x |> gelu(approximate=1)\n")),
            "4:18: unknown argument 'approximate' to 'gelu' (it takes input)");
}

TEST(SemanticErrors, UnknownArgument) {
  EXPECT_EQ(firstError(wrapModel("  c1 = conv(x, filters=6, kernal=5)\n")),
            "4:27: unknown argument 'kernal' to 'conv'; did you mean 'kernel'? (it takes input, filters, "
            "kernel, stride, pad, table)");
}

TEST(SemanticErrors, MissingArgument) {
  EXPECT_EQ(firstError(wrapModel("  c1 = conv(x, filters=6)\n")), "4:8: 'conv' needs the argument 'kernel'");
}

TEST(SemanticErrors, ArgumentGivenTwice) {
  EXPECT_EQ(firstError(wrapModel("  f = dense(flatten(x), 10, units=5)\n")),
            "4:29: argument 'units' of 'dense' is given twice");
}

TEST(SemanticErrors, TooManyArguments) {
  EXPECT_EQ(firstError(wrapModel("  f = flatten(x, 3)\n")),
            "4:18: too many arguments to 'flatten' (it takes 1: input)");
}

TEST(SemanticErrors, BadArgumentValues) {
  EXPECT_EQ(firstError(wrapModel("  c1 = conv(x, filters=0, kernel=5)\n")),
            "4:24: 'filters' must be positive, got 0");
  EXPECT_EQ(firstError(wrapModel("  c1 = conv(x, filters=2.5, kernel=5)\n")),
            "4:24: 'filters' must be an integer, got 2.5");
  EXPECT_EQ(
      firstError(wrapModel("  c1 = conv(x, filters=2, kernel=4, pad=same)\n")),
      "4:41: pad=same needs an odd kernel and stride 1 (kernel 4, stride 1); give the padding as a number");
  EXPECT_EQ(firstError(wrapModel("  c1 = conv(x, filters=2, kernel=3, pad=-1)\n")),
            "4:41: 'pad' must not be negative, got -1");
  EXPECT_EQ(firstError(wrapModel("  c1 = conv(x, filters=2, kernel=3, table=[[0], 1])\n")),
            "4:49: each row of 'table' must be a non-empty list of input maps, got 1");
}

TEST(SemanticErrors, TensorExpectedButNumberGiven) {
  EXPECT_EQ(firstError(wrapModel("  c1 = relu(3)\n")),
            "4:13: expected a tensor (a name or an op call), got integer 3");
}

TEST(SemanticErrors, MissingLoss) {
  EXPECT_EQ(firstError(wrapModel("  c1 = relu(x)\n")),
            "1:7: model 'm' has no loss: add 'loss = softmax_cross_entropy(logits, y)'");
}

TEST(SemanticErrors, MissingInputOrLabel) {
  EXPECT_EQ(firstError("model m {\n  label y: class[10]\n}"),
            "1:7: model 'm' has no input (add 'input x: f32[1, 28, 28]')");
  EXPECT_EQ(firstError("model m {\n  input x: f32[1, 28, 28]\n}"),
            "1:7: model 'm' has no label (add 'label y: class[10]')");
}

TEST(SemanticErrors, BadInputTypes) {
  EXPECT_EQ(firstError("model m { input x: f64[1, 28, 28] }"),
            "1:20: the input 'x' must have type f32[channels, height, width], got 'f64'");
  EXPECT_EQ(firstError("model m { input x: f32[1, 0, 28] }"),
            "1:27: a dimension must be between 1 and 65536, got 0");
  EXPECT_EQ(firstError("model m { input x: f32[1, 28, 28] label y: class[10, 2] }"),
            "1:44: a label has one dimension: class[classes]");
}

TEST(SemanticErrors, TwoLosses) {
  EXPECT_EQ(firstError(wrapModel("  l = dense(flatten(x), 10)\n  a = softmax_cross_entropy(l, y)\n"
                                 "  b = softmax_cross_entropy(l, y)\n")),
            "6:7: a model has one loss; another softmax_cross_entropy is at line 5");
}

TEST(SemanticErrors, UnknownTrainSetting) {
  std::string m = wrapModel("  l = dense(flatten(x), 10)\n  loss = softmax_cross_entropy(l, y)\n");
  EXPECT_EQ(firstError(m + "train { epoch = 3 }"),
            "7:9: unknown train setting 'epoch'; did you mean 'epochs'? (settings: data, optimizer, "
            "lr_schedule, batch, epochs, init, bias_init, seed, val, normalize)");
  EXPECT_EQ(firstError(m + "train { optimizer = sgdd(lr=1) }"),
            "7:21: unknown optimizer 'sgdd'; did you mean 'sgd'? (sgd, adam, rmsprop)");
  EXPECT_EQ(firstError(m + "train { optimizer = adam(lr=0) }"), "7:29: 'lr' must be positive");
  EXPECT_EQ(firstError(m + "train { optimizer = adam(beta2=1) }"), "7:32: 'beta2' must be in [0, 1)");
  EXPECT_EQ(firstError(m + "train { lr_schedule = plateau(factor=1) }"),
            "7:38: 'factor' must be in (0, 1)");
  EXPECT_EQ(firstError(m + "train { lr_schedule = step(gamma=0) }"), "7:34: 'gamma' must be positive");
  EXPECT_EQ(firstError(m + "train { batch = 0 }"), "7:17: 'batch' must be a positive integer, got 0");
  EXPECT_EQ(firstError(m + "train { init = glorot }"),
            "7:16: 'init' must be an initialiser (xavier_uniform, lecun_uniform), got glorot");
  EXPECT_EQ(firstError(m + "train { bias_init = one }"),
            "7:21: 'bias_init' must be a bias initialiser (zero, fan_in_uniform), got one");
  EXPECT_EQ(firstError(m + "train { seed = 1 seed = 2 }"), "7:18: train setting 'seed' is given twice");
}

// --- shape errors, found by shape inference and reported at the op -------------------

TEST(ShapeErrors, KernelLargerThanInput) {
  EXPECT_EQ(
      firstError(wrapModel("  c1 = conv(x, filters=6, kernel=5)\n" + std::string(kLoss), "f32[1, 4, 4]")),
      "4:8: conv 'c1': the kernel (5x5) is larger than its input (4x4)");
}

TEST(ShapeErrors, PoolWindowLargerThanInput) {
  EXPECT_EQ(firstError(wrapModel("  c1 = maxpool(x, size=3)\n" + std::string(kLoss), "f32[1, 2, 2]")),
            "4:8: maxpool 'c1': the window (3x3) is larger than its input (2x2)");
}

TEST(ShapeErrors, DenseNeedsFlatInput) {
  EXPECT_EQ(firstError(wrapModel("  c1 = dense(x, 10)\n  loss = softmax_cross_entropy(c1, y)\n")),
            "4:8: dense 'c1': expects a flat input [features], got [1, 28, 28]; flatten it first: "
            "dense(flatten(...), 10)");
}

TEST(ShapeErrors, ConvNeedsAnImage) {
  EXPECT_EQ(firstError(wrapModel("  c1 = conv(flatten(x), filters=2, kernel=3)\n" + std::string(kLoss))),
            "4:8: conv 'c1': expects an image input [channels, height, width], got [784]");
}

TEST(ShapeErrors, ConnectionTableNamesMissingChannel) {
  EXPECT_EQ(
      firstError(wrapModel("  c1 = conv(x, filters=2, kernel=3, table=[[0], [0, 2]])\n" + std::string(kLoss),
                           "f32[2, 8, 8]")),
      "4:8: conv 'c1': row 1 of the connection table names input map 2, but the input has 2 maps (0 to 1)");
}

TEST(ShapeErrors, LogitsVersusLabels) {
  EXPECT_EQ(firstError(wrapModel("  l = dense(flatten(x), 12)\n  loss = softmax_cross_entropy(l, y)\n")),
            "5:10: softmax_cross_entropy 'loss': the logits have 12 classes, but the labels have 10");
  EXPECT_EQ(firstError(wrapModel("  loss = softmax_cross_entropy(x, y)\n")),
            "4:10: softmax_cross_entropy 'loss': expects flat logits [classes], got [1, 28, 28]");
  EXPECT_EQ(
      firstError(wrapModel("  l = dense(flatten(x), 10)\n  loss = softmax_cross_entropy(l, l)\n")),
      "5:10: softmax_cross_entropy 'loss': the second operand must be a label input (label y: class[N])");
}

TEST(Warnings, UnusedValueIsAWarningNotAnError) {
  Compilation c(nullptr);
  ASSERT_TRUE(c.compileText("t.nn",
                            wrapModel("  unused = relu(x)\n  l = dense(flatten(x), 10)\n"
                                      "  loss = softmax_cross_entropy(l, y)\n"),
                            Stage::MLIR));
  ASSERT_EQ(c.diag().diagnostics().size(), 1u);
  EXPECT_EQ(c.diag().diagnostics()[0].severity, Severity::Warning);
  EXPECT_EQ(c.diag().diagnostics()[0].message, "'unused' is computed but never used");
}

} // namespace
