#include "frontend/Lexer.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace lenetc {

const char *tokName(Tok t) {
  switch (t) {
  case Tok::Eof:
    return "end of file";
  case Tok::Ident:
    return "identifier";
  case Tok::Int:
    return "integer";
  case Tok::Float:
    return "number";
  case Tok::String:
    return "string";
  case Tok::LBrace:
    return "'{'";
  case Tok::RBrace:
    return "'}'";
  case Tok::LParen:
    return "'('";
  case Tok::RParen:
    return "')'";
  case Tok::LBracket:
    return "'['";
  case Tok::RBracket:
    return "']'";
  case Tok::Comma:
    return "','";
  case Tok::Colon:
    return "':'";
  case Tok::Semi:
    return "';'";
  case Tok::Equal:
    return "'='";
  case Tok::Pipe:
    return "'|>'";
  case Tok::Error:
    return "invalid token";
  }
  return "token";
}

Lexer::Lexer(const std::string &text, DiagnosticEngine &diag) : text_(text), diag_(diag) {}

char Lexer::peek(size_t ahead) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }

char Lexer::advance() {
  char c = text_[pos_++];
  if (c == '\n') {
    ++line_;
    col_ = 1;
  } else {
    ++col_;
  }
  return c;
}

Token Lexer::make(Tok kind, Loc loc, std::string text) {
  Token t;
  t.kind = kind;
  t.loc = loc;
  t.text = std::move(text);
  return t;
}

static bool isIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
static bool isIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
static bool isDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)); }

Token Lexer::lexNumber(Loc loc) {
  size_t start = pos_;
  bool isFloat = false;
  if (peek() == '-' || peek() == '+')
    advance();
  while (isDigit(peek()))
    advance();
  if (peek() == '.' && isDigit(peek(1))) {
    isFloat = true;
    advance();
    while (isDigit(peek()))
      advance();
  }
  if ((peek() == 'e' || peek() == 'E') &&
      (isDigit(peek(1)) || ((peek(1) == '-' || peek(1) == '+') && isDigit(peek(2))))) {
    isFloat = true;
    advance();
    if (peek() == '-' || peek() == '+')
      advance();
    while (isDigit(peek()))
      advance();
  }
  std::string spelling = text_.substr(start, pos_ - start);
  // A number glued to letters ("5x5", "3abc") is one bad token, not two good ones.
  if (isIdentChar(peek())) {
    while (isIdentChar(peek()))
      advance();
    std::string bad = text_.substr(start, pos_ - start);
    diag_.error(loc, "invalid number '" + bad + "'");
    return make(Tok::Error, loc, bad);
  }
  Token t = make(isFloat ? Tok::Float : Tok::Int, loc, spelling);
  errno = 0;
  if (isFloat) {
    t.floatValue = std::strtod(spelling.c_str(), nullptr);
    if (errno == ERANGE || !std::isfinite(t.floatValue)) {
      diag_.error(loc, "number '" + spelling + "' is out of range");
      t.kind = Tok::Error;
    }
  } else {
    t.intValue = std::strtoll(spelling.c_str(), nullptr, 10);
    if (errno == ERANGE) {
      diag_.error(loc, "integer '" + spelling + "' is out of range");
      t.kind = Tok::Error;
    }
    t.floatValue = static_cast<double>(t.intValue);
  }
  return t;
}

Token Lexer::next() {
  for (;;) {
    // Skip white space and comments.
    while (pos_ < text_.size()) {
      char c = peek();
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        advance();
      } else if (c == '#') {
        while (pos_ < text_.size() && peek() != '\n')
          advance();
      } else {
        break;
      }
    }
    Loc loc{line_, col_};
    if (pos_ >= text_.size())
      return make(Tok::Eof, loc);

    char c = peek();
    if (isIdentStart(c)) {
      size_t start = pos_;
      while (isIdentChar(peek()))
        advance();
      return make(Tok::Ident, loc, text_.substr(start, pos_ - start));
    }
    if (isDigit(c) || ((c == '-' || c == '+') && (isDigit(peek(1)) || (peek(1) == '.' && isDigit(peek(2))))))
      return lexNumber(loc);
    if (c == '.' && isDigit(peek(1))) {
      advance();
      diag_.error(loc, "a number needs a digit before the '.' (write 0.5, not .5)");
      while (isDigit(peek()))
        advance();
      return make(Tok::Error, loc);
    }
    if (c == '"') {
      advance();
      std::string value;
      while (pos_ < text_.size() && peek() != '"' && peek() != '\n') {
        char ch = advance();
        if (ch == '\\' && (peek() == '"' || peek() == '\\'))
          ch = advance();
        value += ch;
      }
      if (peek() != '"') {
        diag_.error(loc, "unterminated string");
        return make(Tok::Error, loc, value);
      }
      advance();
      return make(Tok::String, loc, value);
    }
    advance();
    switch (c) {
    case '{':
      return make(Tok::LBrace, loc, "{");
    case '}':
      return make(Tok::RBrace, loc, "}");
    case '(':
      return make(Tok::LParen, loc, "(");
    case ')':
      return make(Tok::RParen, loc, ")");
    case '[':
      return make(Tok::LBracket, loc, "[");
    case ']':
      return make(Tok::RBracket, loc, "]");
    case ',':
      return make(Tok::Comma, loc, ",");
    case ':':
      return make(Tok::Colon, loc, ":");
    case ';':
      return make(Tok::Semi, loc, ";");
    case '=':
      return make(Tok::Equal, loc, "=");
    case '|':
      if (peek() == '>') {
        advance();
        return make(Tok::Pipe, loc, "|>");
      }
      diag_.error(loc, "unexpected '|' (the pipe operator is '|>')");
      return make(Tok::Error, loc, "|");
    default: {
      unsigned char u = static_cast<unsigned char>(c);
      std::string shown;
      if (u >= 0x20 && u < 0x7f) {
        shown = std::string("'") + c + "'";
      } else {
        static const char hex[] = "0123456789abcdef";
        shown = std::string("byte 0x") + hex[u >> 4] + hex[u & 15];
      }
      diag_.error(loc, "unexpected character " + shown);
      return make(Tok::Error, loc, std::string(1, c));
    }
    }
  }
}

std::vector<Token> Lexer::all() {
  std::vector<Token> tokens;
  do {
    tokens.push_back(next());
  } while (tokens.back().kind != Tok::Eof);
  return tokens;
}

} // namespace lenetc
