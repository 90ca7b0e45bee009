#include "frontend/Parser.h"

namespace lenetc {

static constexpr int kMaxNesting = 64;

Parser::Parser(const SourceFile &file, DiagnosticEngine &diag) : diag_(diag) {
  Lexer lexer(file.text(), diag);
  tokens_ = lexer.all();
  // A lexical error has been reported already; the parser stops at the bad token quietly.
}

const Token &Parser::peekTok(size_t ahead) const {
  size_t i = pos_ + ahead;
  return i < tokens_.size() ? tokens_[i] : tokens_.back();
}

Token Parser::take() {
  Token t = tokens_[pos_];
  if (pos_ + 1 < tokens_.size())
    ++pos_;
  return t;
}

static std::string describe(const Token &t) {
  switch (t.kind) {
  case Tok::Ident:
    return "'" + t.text + "'";
  case Tok::Int:
  case Tok::Float:
    return "number " + t.text;
  case Tok::String:
    return "string \"" + t.text + "\"";
  default:
    return tokName(t.kind);
  }
}

bool Parser::fail(Loc loc, const std::string &message) {
  if (!failed_ && cur().kind != Tok::Error)
    diag_.error(loc, message);
  failed_ = true;
  return false;
}

bool Parser::fail(const std::string &message) { return fail(cur().loc, message); }

bool Parser::expect(Tok kind, const char *context) {
  if (at(kind)) {
    take();
    return true;
  }
  return fail(std::string("expected ") + tokName(kind) + " " + context + ", found " + describe(cur()));
}

std::optional<ModelAST> Parser::parseFile() {
  ModelAST model;
  if (!parseModel(model))
    return std::nullopt;
  if (atWord("train")) {
    if (!parseTrain(model))
      return std::nullopt;
  }
  if (!at(Tok::Eof)) {
    if (atWord("train") || atWord("model"))
      fail("only one model and one train block may appear in a file");
    else
      fail("expected 'train' block or end of file, found " + describe(cur()));
    return std::nullopt;
  }
  return model;
}

bool Parser::parseModel(ModelAST &model) {
  if (!atWord("model"))
    return fail("expected 'model <name> { ... }' at the start of the file, found " + describe(cur()));
  take();
  if (!at(Tok::Ident))
    return fail("expected the model's name after 'model', found " + describe(cur()));
  model.loc = cur().loc;
  model.name = take().text;
  if (!expect(Tok::LBrace, "to open the model's body"))
    return false;
  while (!at(Tok::RBrace)) {
    if (at(Tok::Eof))
      return fail("expected '}' to close model '" + model.name + "', found end of file");
    bool ok;
    if (atWord("input") && peekTok().kind == Tok::Ident)
      ok = parseInput(model, false);
    else if (atWord("label") && peekTok().kind == Tok::Ident)
      ok = parseInput(model, true);
    else
      ok = parseStatement(model);
    if (!ok)
      return false;
    if (at(Tok::Semi))
      take();
  }
  take(); // '}'
  return true;
}

bool Parser::parseInput(ModelAST &model, bool isLabel) {
  take(); // 'input' | 'label'
  InputDecl in;
  in.isLabel = isLabel;
  in.loc = cur().loc;
  in.name = take().text;
  if (!expect(Tok::Colon, isLabel ? "before the label's type (label y: class[10])"
                                  : "before the input's type (input x: f32[1, 28, 28])"))
    return false;
  if (!parseType(in.type))
    return false;
  model.inputs.push_back(std::move(in));
  return true;
}

bool Parser::parseType(TypeSpec &type) {
  if (!at(Tok::Ident))
    return fail("expected a type such as f32[1, 28, 28] or class[10], found " + describe(cur()));
  type.loc = cur().loc;
  type.elementType = take().text;
  if (!expect(Tok::LBracket, "after the element type"))
    return false;
  for (;;) {
    if (!at(Tok::Int))
      return fail("expected a dimension (a positive integer), found " + describe(cur()));
    type.dimLocs.push_back(cur().loc);
    type.dims.push_back(take().intValue);
    if (at(Tok::Comma)) {
      take();
      continue;
    }
    break;
  }
  return expect(Tok::RBracket, "to close the shape");
}

bool Parser::parseStatement(ModelAST &model) {
  if (!at(Tok::Ident))
    return fail("expected a statement ('name = op(...)', 'input' or 'label'), found " + describe(cur()));
  if (peekTok().kind != Tok::Equal) {
    const Token &n = peekTok();
    if (cur().text == "input" || cur().text == "label")
      return fail(n.loc, "expected a name after '" + cur().text + "', found " + describe(n));
    return fail(n.loc, "expected '=' after '" + cur().text + "', found " + describe(n));
  }
  Statement s;
  s.loc = cur().loc;
  s.name = take().text;
  take(); // '='
  s.value = parseExpr();
  if (!s.value)
    return false;
  model.statements.push_back(std::move(s));
  return true;
}

bool Parser::parseTrain(ModelAST &model) {
  model.hasTrainBlock = true;
  model.trainLoc = cur().loc;
  take(); // 'train'
  if (!expect(Tok::LBrace, "to open the train block"))
    return false;
  while (!at(Tok::RBrace)) {
    if (at(Tok::Eof))
      return fail("expected '}' to close the train block, found end of file");
    if (!at(Tok::Ident))
      return fail("expected a setting ('key = value') in the train block, found " + describe(cur()));
    TrainSetting t;
    t.loc = cur().loc;
    t.key = take().text;
    if (!expect(Tok::Equal, "after the setting's name"))
      return false;
    t.value = parseExpr();
    if (!t.value)
      return false;
    model.train.push_back(std::move(t));
    if (at(Tok::Semi) || at(Tok::Comma))
      take();
  }
  take(); // '}'
  return true;
}

std::unique_ptr<Expr> Parser::parseExpr() {
  auto lhs = parseTerm();
  if (!lhs)
    return nullptr;
  int stages = 0;
  while (at(Tok::Pipe)) {
    // Later stages walk a chain recursively: bound its length like any nesting.
    if (++stages > kMaxNesting) {
      fail("pipe chain too long (more than " + std::to_string(kMaxNesting) + " stages)");
      return nullptr;
    }
    take();
    if (!at(Tok::Ident)) {
      fail("expected an op after '|>', found " + describe(cur()));
      return nullptr;
    }
    auto call = std::make_unique<Expr>();
    call->kind = Expr::Kind::Call;
    call->loc = cur().loc;
    call->text = take().text;
    call->piped = true;
    Arg first;
    first.value = std::move(lhs);
    call->args.push_back(std::move(first));
    if (at(Tok::LParen) && !parseArgs(*call))
      return nullptr;
    lhs = std::move(call);
  }
  return lhs;
}

std::unique_ptr<Expr> Parser::parseTerm() {
  if (++depth_ > kMaxNesting) {
    fail("expression nested too deeply (more than " + std::to_string(kMaxNesting) + " levels)");
    return nullptr;
  }
  struct DepthGuard {
    int &d;
    ~DepthGuard() { --d; }
  } guard{depth_};

  auto e = std::make_unique<Expr>();
  e->loc = cur().loc;
  switch (cur().kind) {
  case Tok::Int:
    e->kind = Expr::Kind::Int;
    e->intValue = cur().intValue;
    e->floatValue = cur().floatValue;
    take();
    return e;
  case Tok::Float:
    e->kind = Expr::Kind::Float;
    e->floatValue = cur().floatValue;
    take();
    return e;
  case Tok::String:
    e->kind = Expr::Kind::String;
    e->text = take().text;
    return e;
  case Tok::LBracket:
    take();
    e->kind = Expr::Kind::List;
    while (!at(Tok::RBracket)) {
      auto item = parseExpr();
      if (!item)
        return nullptr;
      e->items.push_back(std::move(item));
      if (at(Tok::Comma)) {
        take();
        continue;
      }
      if (!at(Tok::RBracket)) {
        fail("expected ',' or ']' in the list, found " + describe(cur()));
        return nullptr;
      }
    }
    take();
    return e;
  case Tok::Ident:
    e->text = take().text;
    if (at(Tok::LParen)) {
      e->kind = Expr::Kind::Call;
      if (!parseArgs(*e))
        return nullptr;
    } else {
      e->kind = Expr::Kind::Name;
    }
    return e;
  default:
    fail("expected a value (a name, an op call, a number or a list), found " + describe(cur()));
    return nullptr;
  }
}

bool Parser::parseArgs(Expr &call) {
  take(); // '('
  while (!at(Tok::RParen)) {
    Arg a;
    if (at(Tok::Ident) && peekTok().kind == Tok::Equal) {
      a.keyLoc = cur().loc;
      a.key = take().text;
      take(); // '='
    }
    a.value = parseExpr();
    if (!a.value)
      return false;
    call.args.push_back(std::move(a));
    if (at(Tok::Comma)) {
      take();
      continue;
    }
    if (!at(Tok::RParen))
      return fail("expected ',' or ')' in the arguments of '" + call.text + "', found " + describe(cur()));
  }
  take(); // ')'
  return true;
}

std::optional<ModelAST> parseModel(const SourceFile &file, DiagnosticEngine &diag) {
  Parser parser(file, diag);
  auto model = parser.parseFile();
  if (diag.hadError())
    return std::nullopt;
  return model;
}

} // namespace lenetc
