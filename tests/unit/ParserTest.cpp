#include "frontend/Parser.h"
#include "TestUtil.h"

using namespace lenetc;
using lenetc::test::firstError;

namespace {

std::optional<ModelAST> parse(const std::string &text, std::vector<Diagnostic> *diags = nullptr) {
  SourceFile file("t.nn", text);
  DiagnosticEngine diag(file, nullptr);
  auto m = parseModel(file, diag);
  if (diags)
    *diags = diag.diagnostics();
  return m;
}

TEST(Parser, ModelInputsAndStatements) {
  auto m = parse("model net { input x: f32[1, 28, 28]  label y: class[10]\n"
                 "  c1 = conv(x, filters=6, kernel=5) |> sigmoid\n"
                 "  loss = softmax_cross_entropy(c1, y) }");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name, "net");
  ASSERT_EQ(m->inputs.size(), 2u);
  EXPECT_FALSE(m->inputs[0].isLabel);
  EXPECT_EQ(m->inputs[0].type.elementType, "f32");
  EXPECT_EQ(m->inputs[0].type.dims, (std::vector<int64_t>{1, 28, 28}));
  EXPECT_TRUE(m->inputs[1].isLabel);
  EXPECT_EQ(m->inputs[1].type.dims, (std::vector<int64_t>{10}));
  ASSERT_EQ(m->statements.size(), 2u);
  EXPECT_EQ(m->statements[0].name, "c1");
  EXPECT_FALSE(m->hasTrainBlock);
}

TEST(Parser, PipeBecomesCallWithThePipedValueFirst) {
  auto m = parse("model n { a = x |> conv(filters=2, kernel=3) |> relu }");
  ASSERT_TRUE(m);
  const Expr &relu = *m->statements[0].value;
  ASSERT_EQ(relu.kind, Expr::Kind::Call);
  EXPECT_EQ(relu.text, "relu");
  EXPECT_TRUE(relu.piped);
  ASSERT_EQ(relu.args.size(), 1u);
  const Expr &conv = *relu.args[0].value;
  EXPECT_EQ(conv.text, "conv");
  EXPECT_TRUE(conv.piped);
  ASSERT_EQ(conv.args.size(), 3u);
  EXPECT_EQ(conv.args[0].value->kind, Expr::Kind::Name);
  EXPECT_EQ(conv.args[0].value->text, "x");
  EXPECT_EQ(conv.args[1].key, "filters");
  EXPECT_EQ(conv.args[2].value->intValue, 3);
  EXPECT_EQ(exprToString(relu), "x |> conv(filters=2, kernel=3) |> relu");
}

TEST(Parser, NestedCallsListsAndNumbers) {
  auto m = parse("model n { f = dense(flatten(s4), 120)  c = conv(s, table=[[0, 1], [2]], pad=same) }");
  ASSERT_TRUE(m);
  const Expr &dense = *m->statements[0].value;
  EXPECT_EQ(dense.args[0].value->text, "flatten");
  EXPECT_EQ(dense.args[1].value->intValue, 120);
  const Expr &table = *m->statements[1].value->args[1].value;
  ASSERT_EQ(table.kind, Expr::Kind::List);
  ASSERT_EQ(table.items.size(), 2u);
  EXPECT_EQ(table.items[0]->items.size(), 2u);
  EXPECT_EQ(m->statements[1].value->args[2].value->text, "same");
}

TEST(Parser, TrainBlock) {
  auto m =
      parse("model n { } train { data = fashion_mnist  optimizer = sgd(lr=0.9); batch = 256, seed = 0 }");
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->hasTrainBlock);
  ASSERT_EQ(m->train.size(), 4u);
  EXPECT_EQ(m->train[1].key, "optimizer");
  EXPECT_EQ(m->train[1].value->text, "sgd");
  EXPECT_DOUBLE_EQ(m->train[1].value->args[0].value->floatValue, 0.9);
  EXPECT_EQ(m->train[2].value->intValue, 256);
}

// --- syntax errors: line, column and message ------------------------------------------

TEST(ParserErrors, MissingModelKeyword) {
  EXPECT_EQ(firstError("modle m { }", Stage::AST),
            "1:1: expected 'model <name> { ... }' at the start of the file, found 'modle'");
}

TEST(ParserErrors, EmptyFile) {
  EXPECT_EQ(firstError("", Stage::AST),
            "1:1: expected 'model <name> { ... }' at the start of the file, found end of file");
}

TEST(ParserErrors, MissingCommaBetweenArguments) {
  EXPECT_EQ(firstError("model m {\n  c = conv(x, filters=6 kernel=5)\n}", Stage::AST),
            "2:25: expected ',' or ')' in the arguments of 'conv', found 'kernel'");
}

TEST(ParserErrors, MissingEquals) {
  EXPECT_EQ(firstError("model m {\n  c1 conv(x)\n}", Stage::AST),
            "2:6: expected '=' after 'c1', found 'conv'");
}

TEST(ParserErrors, UnclosedModel) {
  EXPECT_EQ(firstError("model m {\n  a = relu(x)\n", Stage::AST),
            "3:1: expected '}' to close model 'm', found end of file");
}

TEST(ParserErrors, BadType) {
  EXPECT_EQ(firstError("model m { input x: f32[1, 28 28] }", Stage::AST),
            "1:30: expected ']' to close the shape, found number 28");
  EXPECT_EQ(firstError("model m { input x: f32[] }", Stage::AST),
            "1:24: expected a dimension (a positive integer), found ']'");
}

TEST(ParserErrors, PipeWithoutOp) {
  EXPECT_EQ(firstError("model m { a = x |> 3 }", Stage::AST),
            "1:20: expected an op after '|>', found number 3");
}

TEST(ParserErrors, BadValue) {
  EXPECT_EQ(firstError("model m { a = relu(,) }", Stage::AST),
            "1:20: expected a value (a name, an op call, a number or a list), found ','");
}

TEST(ParserErrors, TextAfterTrainBlock) {
  EXPECT_EQ(firstError("model m { } train { } train { }", Stage::AST),
            "1:23: only one model and one train block may appear in a file");
}

TEST(ParserErrors, LexicalErrorIsReportedOnce) {
  std::vector<Diagnostic> diags;
  EXPECT_FALSE(parse("model m { a = relu(x) $ }", &diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].message, "unexpected character '$'");
}

TEST(ParserErrors, DeepNestingIsAnErrorNotACrash) {
  std::string deep = "model m { a = ";
  for (int i = 0; i < 10000; ++i)
    deep += "relu(";
  EXPECT_EQ(firstError(deep, Stage::AST).substr(0, 43), "1:335: expression nested too deeply (more t");
  std::string chain = "model m { a = x";
  for (int i = 0; i < 10000; ++i)
    chain += " |> relu";
  EXPECT_NE(firstError(chain, Stage::AST).find("pipe chain too long"), std::string::npos);
}

} // namespace
