// Lexer for the model language (models/*.nn). Newlines are not significant; `#` starts a
// comment that runs to the end of the line. Words such as `model` or `input` are ordinary
// identifiers: the parser gives them meaning where they stand.
#pragma once

#include "frontend/Diagnostics.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lenetc {

enum class Tok {
  Eof,
  Ident,    // [A-Za-z_][A-Za-z0-9_]*
  Int,      // 123, -4
  Float,    // 0.9, 1e-3, -2.5E+2
  String,   // "text" (no escapes but \" and \\)
  LBrace,   // {
  RBrace,   // }
  LParen,   // (
  RParen,   // )
  LBracket, // [
  RBracket, // ]
  Comma,    // ,
  Colon,    // :
  Semi,     // ;
  Equal,    // =
  Pipe,     // |>
  Error,    // a character or literal the lexer could not read (already reported)
};

const char *tokName(Tok t);

struct Token {
  Tok kind = Tok::Eof;
  std::string text; // identifier, string contents, or the literal's spelling
  int64_t intValue = 0;
  double floatValue = 0;
  Loc loc;
};

class Lexer {
public:
  Lexer(const std::string &text, DiagnosticEngine &diag);
  Token next();
  // Lexes the whole text (the final token is Eof).
  std::vector<Token> all();

private:
  char peek(size_t ahead = 0) const;
  char advance();
  Token make(Tok kind, Loc loc, std::string text = {});
  Token lexNumber(Loc loc);

  const std::string &text_;
  DiagnosticEngine &diag_;
  size_t pos_ = 0;
  int line_ = 1;
  int col_ = 1;
};

} // namespace lenetc
