// Recursive-descent parser for the model language. Grammar (newlines are not significant):
//
//   file      := model train? EOF
//   model     := 'model' IDENT '{' stmt* '}'
//   stmt      := ('input' | 'label') IDENT ':' type
//              | IDENT '=' expr
//   type      := IDENT '[' INT (',' INT)* ']'            f32[1, 28, 28]  class[10]
//   expr      := term ('|>' IDENT ('(' args? ')')?)*     a |> f(k=v) means f(a, k=v)
//   term      := INT | FLOAT | STRING | list | IDENT ('(' args? ')')?
//   list      := '[' (expr (',' expr)*)? ','? ']'
//   args      := arg (',' arg)* ','?
//   arg       := IDENT '=' expr | expr
//   train     := 'train' '{' (IDENT '=' expr (';' | ',')?)* '}'
//
// The parser stops at the first syntax error (reported through the DiagnosticEngine).
#pragma once

#include "frontend/AST.h"
#include "frontend/Lexer.h"

#include <optional>

namespace lenetc {

class Parser {
public:
  Parser(const SourceFile &file, DiagnosticEngine &diag);
  // Returns nullopt after reporting an error.
  std::optional<ModelAST> parseFile();

private:
  const Token &cur() const { return tokens_[pos_]; }
  const Token &peekTok(size_t ahead = 1) const;
  Token take();
  bool at(Tok kind) const { return cur().kind == kind; }
  bool atWord(const char *word) const { return at(Tok::Ident) && cur().text == word; }
  bool expect(Tok kind, const char *context);
  bool fail(const std::string &message);
  bool fail(Loc loc, const std::string &message);

  bool parseModel(ModelAST &model);
  bool parseInput(ModelAST &model, bool isLabel);
  bool parseStatement(ModelAST &model);
  bool parseType(TypeSpec &type);
  bool parseTrain(ModelAST &model);
  std::unique_ptr<Expr> parseExpr();
  std::unique_ptr<Expr> parseTerm();
  bool parseArgs(Expr &call);

  DiagnosticEngine &diag_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  bool failed_ = false;
  int depth_ = 0; // nesting depth, bounded so that hostile input cannot overflow the stack
};

// Convenience: lex and parse a whole file.
std::optional<ModelAST> parseModel(const SourceFile &file, DiagnosticEngine &diag);

} // namespace lenetc
