#include "frontend/Lexer.h"

#include <gtest/gtest.h>

using namespace lenetc;

namespace {

struct Lexed {
  std::vector<Token> tokens;
  std::vector<Diagnostic> diags;
};

Lexed lex(const std::string &text) {
  SourceFile file("t.nn", text);
  DiagnosticEngine diag(file, nullptr);
  Lexer lexer(file.text(), diag);
  Lexed out;
  out.tokens = lexer.all();
  out.diags = diag.diagnostics();
  return out;
}

std::vector<Tok> kinds(const Lexed &l) {
  std::vector<Tok> k;
  for (const auto &t : l.tokens)
    k.push_back(t.kind);
  return k;
}

TEST(Lexer, PunctuationAndPipe) {
  auto l = lex("{ } ( ) [ ] , : ; = |>");
  EXPECT_EQ(kinds(l), (std::vector<Tok>{Tok::LBrace, Tok::RBrace, Tok::LParen, Tok::RParen, Tok::LBracket,
                                        Tok::RBracket, Tok::Comma, Tok::Colon, Tok::Semi, Tok::Equal,
                                        Tok::Pipe, Tok::Eof}));
  EXPECT_TRUE(l.diags.empty());
}

TEST(Lexer, IdentifiersAndPositions) {
  auto l = lex("model lenet5\n  c_1 = x");
  ASSERT_EQ(l.tokens.size(), 6u);
  EXPECT_EQ(l.tokens[0].text, "model");
  EXPECT_EQ(l.tokens[1].text, "lenet5");
  EXPECT_EQ(l.tokens[2].text, "c_1");
  EXPECT_EQ(l.tokens[2].loc.line, 2);
  EXPECT_EQ(l.tokens[2].loc.col, 3);
  EXPECT_EQ(l.tokens[4].loc.col, 9);
}

TEST(Lexer, Numbers) {
  auto l = lex("5 -3 0.9 1e-3 -2.5E+2 +7");
  ASSERT_EQ(l.tokens.size(), 7u);
  EXPECT_EQ(l.tokens[0].kind, Tok::Int);
  EXPECT_EQ(l.tokens[0].intValue, 5);
  EXPECT_EQ(l.tokens[1].intValue, -3);
  EXPECT_EQ(l.tokens[2].kind, Tok::Float);
  EXPECT_DOUBLE_EQ(l.tokens[2].floatValue, 0.9);
  EXPECT_DOUBLE_EQ(l.tokens[3].floatValue, 1e-3);
  EXPECT_DOUBLE_EQ(l.tokens[4].floatValue, -250.0);
  EXPECT_EQ(l.tokens[5].intValue, 7);
}

TEST(Lexer, CommentsRunToEndOfLine) {
  auto l = lex("a # b c ( \n d");
  ASSERT_EQ(l.tokens.size(), 3u);
  EXPECT_EQ(l.tokens[1].text, "d");
  EXPECT_EQ(l.tokens[1].loc.line, 2);
}

TEST(Lexer, Strings) {
  auto l = lex(R"("/data/mnist" "a\"b")");
  ASSERT_EQ(l.tokens.size(), 3u);
  EXPECT_EQ(l.tokens[0].kind, Tok::String);
  EXPECT_EQ(l.tokens[0].text, "/data/mnist");
  EXPECT_EQ(l.tokens[1].text, "a\"b");
}

TEST(Lexer, UnexpectedCharacter) {
  auto l = lex("a\n  @");
  ASSERT_EQ(l.diags.size(), 1u);
  EXPECT_EQ(l.diags[0].loc.line, 2);
  EXPECT_EQ(l.diags[0].loc.col, 3);
  EXPECT_EQ(l.diags[0].message, "unexpected character '@'");
}

TEST(Lexer, NonAsciiByteIsNamedInHex) {
  auto l = lex("\xff");
  ASSERT_EQ(l.diags.size(), 1u);
  EXPECT_EQ(l.diags[0].message, "unexpected character byte 0xff");
}

TEST(Lexer, LonePipeBar) {
  auto l = lex("a | b");
  ASSERT_EQ(l.diags.size(), 1u);
  EXPECT_EQ(l.diags[0].loc.col, 3);
  EXPECT_EQ(l.diags[0].message, "unexpected '|' (the pipe operator is '|>')");
}

TEST(Lexer, UnterminatedString) {
  auto l = lex("data = \"abc\nx");
  ASSERT_EQ(l.diags.size(), 1u);
  EXPECT_EQ(l.diags[0].loc.col, 8);
  EXPECT_EQ(l.diags[0].message, "unterminated string");
}

TEST(Lexer, NumberGluedToLetters) {
  auto l = lex("kernel=5x5");
  ASSERT_EQ(l.diags.size(), 1u);
  EXPECT_EQ(l.diags[0].loc.col, 8);
  EXPECT_EQ(l.diags[0].message, "invalid number '5x5'");
}

TEST(Lexer, IntegerOutOfRange) {
  auto l = lex("99999999999999999999999");
  ASSERT_EQ(l.diags.size(), 1u);
  EXPECT_EQ(l.diags[0].message, "integer '99999999999999999999999' is out of range");
}

TEST(Lexer, LeadingDotNumber) {
  auto l = lex("lr=.5");
  ASSERT_EQ(l.diags.size(), 1u);
  EXPECT_EQ(l.diags[0].loc.col, 4);
  EXPECT_EQ(l.diags[0].message, "a number needs a digit before the '.' (write 0.5, not .5)");
}

} // namespace
