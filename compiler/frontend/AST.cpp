#include "frontend/AST.h"

#include <ostream>
#include <sstream>

namespace lenetc {

const char *exprKindName(Expr::Kind kind) {
  switch (kind) {
  case Expr::Kind::Int:
    return "integer";
  case Expr::Kind::Float:
    return "number";
  case Expr::Kind::String:
    return "string";
  case Expr::Kind::Name:
    return "name";
  case Expr::Kind::List:
    return "list";
  case Expr::Kind::Call:
    return "call";
  }
  return "expression";
}

static std::string formatNumber(double v) {
  std::ostringstream os;
  os << v;
  std::string s = os.str();
  if (s.find_first_of(".eE") == std::string::npos)
    s += ".0";
  return s;
}

std::string exprToString(const Expr &e) {
  switch (e.kind) {
  case Expr::Kind::Int:
    return std::to_string(e.intValue);
  case Expr::Kind::Float:
    return formatNumber(e.floatValue);
  case Expr::Kind::String:
    return "\"" + e.text + "\"";
  case Expr::Kind::Name:
    return e.text;
  case Expr::Kind::List: {
    std::string s = "[";
    for (size_t i = 0; i < e.items.size(); ++i)
      s += (i ? ", " : "") + exprToString(*e.items[i]);
    return s + "]";
  }
  case Expr::Kind::Call: {
    std::string s;
    size_t first = 0;
    if (e.piped && !e.args.empty()) {
      s = exprToString(*e.args[0].value) + " |> ";
      first = 1;
    }
    s += e.text;
    if (e.piped && e.args.size() == 1)
      return s;
    s += "(";
    for (size_t i = first; i < e.args.size(); ++i) {
      if (i > first)
        s += ", ";
      if (!e.args[i].key.empty())
        s += e.args[i].key + "=";
      s += exprToString(*e.args[i].value);
    }
    return s + ")";
  }
  }
  return "?";
}

static void indent(std::ostream &os, int depth) {
  for (int i = 0; i < depth; ++i)
    os << "  ";
}

static void at(std::ostream &os, Loc loc) { os << " @" << loc.line << ":" << loc.col; }

static void dumpExpr(const Expr &e, std::ostream &os, int depth, const std::string &key) {
  indent(os, depth);
  if (!key.empty())
    os << key << "=";
  switch (e.kind) {
  case Expr::Kind::Call:
    os << "Call " << e.text << (e.piped ? " (pipe)" : "");
    at(os, e.loc);
    os << "\n";
    for (const auto &a : e.args)
      dumpExpr(*a.value, os, depth + 1, a.key);
    return;
  case Expr::Kind::List:
    os << "List";
    at(os, e.loc);
    os << "\n";
    for (const auto &item : e.items)
      dumpExpr(*item, os, depth + 1, "");
    return;
  case Expr::Kind::Name:
    os << "Name " << e.text;
    break;
  case Expr::Kind::String:
    os << "String \"" << e.text << "\"";
    break;
  case Expr::Kind::Int:
    os << "Int " << e.intValue;
    break;
  case Expr::Kind::Float:
    os << "Float " << formatNumber(e.floatValue);
    break;
  }
  at(os, e.loc);
  os << "\n";
}

void dumpAST(const ModelAST &model, std::ostream &os) {
  os << "Model " << model.name;
  at(os, model.loc);
  os << "\n";
  for (const auto &in : model.inputs) {
    indent(os, 1);
    os << (in.isLabel ? "Label " : "Input ") << in.name << ": " << in.type.elementType << "[";
    for (size_t i = 0; i < in.type.dims.size(); ++i)
      os << (i ? ", " : "") << in.type.dims[i];
    os << "]";
    at(os, in.loc);
    os << "\n";
  }
  for (const auto &s : model.statements) {
    indent(os, 1);
    os << "Let " << s.name;
    at(os, s.loc);
    os << "\n";
    dumpExpr(*s.value, os, 2, "");
  }
  if (model.hasTrainBlock) {
    os << "Train";
    at(os, model.trainLoc);
    os << "\n";
    for (const auto &t : model.train)
      dumpExpr(*t.value, os, 1, t.key);
  }
}

} // namespace lenetc
