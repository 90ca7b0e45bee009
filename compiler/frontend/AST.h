// The model language's syntax tree: what the parser read, before any meaning is given.
//
//   model lenet5 {
//     input x: f32[1, 28, 28]            -> InputDecl
//     label y: class[10]                 -> InputDecl (isLabel)
//     c1 = conv(x, filters=6, kernel=5) |> sigmoid      -> Statement with an Expr
//   }
//   train { optimizer = sgd(lr=0.9)  batch = 256 }      -> TrainSetting list
//
// `a |> f(k=v)` is kept as a pipe in the tree (Expr::Kind::Call with `piped` set on
// its first argument) so that the later stages can name the stages of a chain.
#pragma once

#include "frontend/Diagnostics.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lenetc {

struct Expr;

struct Arg {
  std::string key; // empty for a positional argument
  Loc keyLoc;
  std::unique_ptr<Expr> value;
};

struct Expr {
  enum class Kind { Int, Float, String, Name, List, Call };
  Kind kind;
  Loc loc;
  int64_t intValue = 0;
  double floatValue = 0;
  std::string text;                         // Name: the name; Call: the callee; String: contents
  std::vector<Arg> args;                    // Call
  std::vector<std::unique_ptr<Expr>> items; // List
  bool piped = false;                       // Call: its first argument came from `|>`

  bool isNumber() const { return kind == Kind::Int || kind == Kind::Float; }
};

const char *exprKindName(Expr::Kind kind);

struct TypeSpec {
  std::string elementType; // "f32" or "class"
  Loc loc;
  std::vector<int64_t> dims;
  std::vector<Loc> dimLocs;
};

struct InputDecl {
  bool isLabel = false;
  std::string name;
  Loc loc; // of the name
  TypeSpec type;
};

struct Statement {
  std::string name;
  Loc loc; // of the name
  std::unique_ptr<Expr> value;
};

struct TrainSetting {
  std::string key;
  Loc loc;
  std::unique_ptr<Expr> value;
};

struct ModelAST {
  std::string name;
  Loc loc;
  std::vector<InputDecl> inputs;
  std::vector<Statement> statements;
  bool hasTrainBlock = false;
  Loc trainLoc;
  std::vector<TrainSetting> train;
};

// Prints the tree in an indented form (lenetc --emit=ast).
void dumpAST(const ModelAST &model, std::ostream &os);
// Prints an expression in the language's own syntax.
std::string exprToString(const Expr &e);

} // namespace lenetc
