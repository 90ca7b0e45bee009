#include "dialect/MLIRGen.h"

#include "dialect/Dialect.h"
#include "lenetc/TrainSettings.h"

#include "mlir/IR/Builders.h"

#include <map>
#include <set>

using namespace mlir;

namespace lenetc {
namespace {

// --- Signatures: one table for the ops and for the calls of the train block ------------

enum class Kind {
  Tensor, // a name or an op call
  Int,    // a positive integer
  Count,  // a non-negative integer
  Float,  // a number
  NonNegative, // a number >= 0
  Bool,   // true | false
  Pad,    // a non-negative integer, same or valid
  Table,  // a list of lists of input-map indices
};

struct Param {
  const char *name;
  Kind kind;
  bool required;
  double defaultValue = 0; // Int/Count/Float/Bool; "stride defaults to size" is handled in code
};

struct Signature {
  const char *name;
  std::vector<Param> params;
  const char *summary;
};

const std::vector<Signature> &opSignatures() {
  static const std::vector<Signature> sigs = {
      {"conv",
       {{"input", Kind::Tensor, true},
        {"filters", Kind::Int, true},
        {"kernel", Kind::Int, true},
        {"stride", Kind::Int, false, 1},
        {"pad", Kind::Pad, false, 0},
        {"table", Kind::Table, false}},
       "2-D convolution; pad = int | same | valid; table = [[input maps of output 0], ...]"},
      {"avgpool",
       {{"input", Kind::Tensor, true}, {"size", Kind::Int, true}, {"stride", Kind::Int, false}},
       "average pooling (stride defaults to size)"},
      {"maxpool",
       {{"input", Kind::Tensor, true}, {"size", Kind::Int, true}, {"stride", Kind::Int, false}},
       "max pooling (stride defaults to size)"},
      {"subsample",
       {{"input", Kind::Tensor, true}, {"size", Kind::Int, false, 2}, {"stride", Kind::Int, false}},
       "LeCun 1998 trainable subsampling: coef * (sum of the window) + bias, per map"},
      {"dense", {{"input", Kind::Tensor, true}, {"units", Kind::Int, true}}, "fully connected layer"},
      {"flatten", {{"input", Kind::Tensor, true}}, "flattens [C, H, W] into [C*H*W]"},
      {"batchnorm",
       {{"input", Kind::Tensor, true}, {"momentum", Kind::Float, false, 0.1}, {"eps", Kind::Float, false, 1e-5}},
       "batch normalization per channel of [C, H, W] or per feature of [F], as PyTorch's "
       "BatchNorm2d/1d (momentum in (0, 1], eps > 0); trainable scale and shift, running statistics as state"},
      {"dropout",
       {{"input", Kind::Tensor, true}, {"rate", Kind::Float, true}},
       "inverted dropout while training (rate in [0, 1)), the identity in inference"},
      {"sigmoid", {{"input", Kind::Tensor, true}}, "1 / (1 + exp(-x))"},
      {"tanh", {{"input", Kind::Tensor, true}}, "tanh(x)"},
      {"relu", {{"input", Kind::Tensor, true}}, "max(x, 0)"},
      {"leaky_relu",
       {{"input", Kind::Tensor, true}, {"alpha", Kind::NonNegative, false, 0.01}},
       "x if x > 0, else alpha * x (alpha >= 0)"},
      {"elu",
       {{"input", Kind::Tensor, true}, {"alpha", Kind::NonNegative, false, 1.0}},
       "x if x > 0, else alpha * (exp(x) - 1) (alpha >= 0)"},
      {"gelu", {{"input", Kind::Tensor, true}}, "x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), PyTorch's approximate='tanh'"},
      {"scaled_tanh",
       {{"input", Kind::Tensor, true},
        {"amplitude", Kind::Float, false, 1.7159},
        {"slope", Kind::Float, false, 2.0 / 3.0}},
       "amplitude * tanh(slope * x) (LeCun 1998: 1.7159 tanh(2x/3))"},
      {"softmax_cross_entropy",
       {{"logits", Kind::Tensor, true}, {"labels", Kind::Tensor, true}},
       "mean over the batch of -log softmax(logits)[label]; the model's loss"},
  };
  return sigs;
}

// Keras' defaults where Keras has the same thing.
const std::vector<Signature> &optimizerSignatures() {
  static const std::vector<Signature> sigs = {
      {"sgd",
       {{"lr", Kind::Float, false, 0.01},
        {"momentum", Kind::Float, false, 0.0},
        {"nesterov", Kind::Bool, false, 0},
        {"weight_decay", Kind::Float, false, 0.0}},
       "stochastic gradient descent, optionally with (Nesterov) momentum"},
      {"adam",
       {{"lr", Kind::Float, false, 0.001},
        {"beta1", Kind::Float, false, 0.9},
        {"beta2", Kind::Float, false, 0.999},
        {"eps", Kind::Float, false, 1e-7},
        {"weight_decay", Kind::Float, false, 0.0}},
       "Adam"},
      {"rmsprop",
       {{"lr", Kind::Float, false, 0.001},
        {"rho", Kind::Float, false, 0.9},
        {"momentum", Kind::Float, false, 0.0},
        {"eps", Kind::Float, false, 1e-7},
        {"weight_decay", Kind::Float, false, 0.0}},
       "RMSprop"},
  };
  return sigs;
}

const std::vector<Signature> &scheduleSignatures() {
  static const std::vector<Signature> sigs = {
      {"constant", {}, "a constant learning rate"},
      {"step",
       {{"every", Kind::Int, false, 10}, {"gamma", Kind::Float, false, 0.1}},
       "multiply the learning rate by gamma every `every` epochs"},
      {"plateau",
       {{"factor", Kind::Float, false, 0.1},
        {"patience", Kind::Count, false, 10},
        {"min_lr", Kind::Float, false, 0.0}},
       "ReduceLROnPlateau on the validation (or training) loss"},
  };
  return sigs;
}

const Signature *findSignature(const std::vector<Signature> &sigs, const std::string &name) {
  for (const auto &s : sigs)
    if (name == s.name)
      return &s;
  return nullptr;
}

std::vector<std::string> signatureNames(const std::vector<Signature> &sigs) {
  std::vector<std::string> names;
  for (const auto &s : sigs)
    names.push_back(s.name);
  return names;
}

std::string didYouMean(const std::string &word, const std::vector<std::string> &candidates) {
  std::string best = closestMatch(word, candidates);
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

std::string joinNames(const std::vector<std::string> &names) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i)
    s += (i ? ", " : "") + names[i];
  return s;
}

// The arguments of one call, bound to its signature's parameters by position or keyword.
struct Bound {
  const Signature *sig = nullptr;
  Loc callLoc;
  std::map<std::string, const Expr *> args;
  const Expr *get(const char *name) const {
    auto it = args.find(name);
    return it == args.end() ? nullptr : it->second;
  }
};

class Generator {
public:
  Generator(MLIRContext &ctx, const std::string &fileName, DiagnosticEngine &diag)
      : ctx_(ctx), builder_(&ctx), fileName_(fileName), diag_(diag) {}

  OwningOpRef<ModuleOp> run(const ModelAST &model);

private:
  Location loc(Loc l) { return FileLineColLoc::get(&ctx_, fileName_, l.line, l.col); }
  bool error(Loc l, const std::string &message) {
    diag_.error(l, message);
    return false;
  }

  // Binds a call's arguments; reports unknown, repeated, missing and surplus arguments.
  bool bind(const Expr &call, const Signature &sig, Bound &out);
  bool intArg(const Bound &b, const char *name, int64_t &out);
  bool floatArg(const Bound &b, const char *name, double &out);
  bool boolArg(const Bound &b, const char *name, bool &out);
  const Param &param(const Bound &b, const char *name);

  bool declareInputs(const ModelAST &model, FuncOp &func);
  // Generates `e`, part of statement `stmt`: the chain's head (head_) takes the statement's
  // name, every other op `<stmt>.<op>`.
  Value genExpr(const Expr &e, const std::string &stmt);
  Value genCall(const Expr &call, const std::string &stmt);
  Value makeParam(const std::string &owner, const char *suffix, const char *role, Loc l);
  // The function's noise argument (dropout's seed), added on first use.
  Value noise();
  std::string uniqueName(const std::string &base);
  bool genTrain(const ModelAST &model, ModuleOp module);
  bool trainValue(const TrainSetting &t, NamedAttrList &attrs);
  bool callAttrs(const Expr &e, const std::vector<Signature> &sigs, const char *what, DictionaryAttr &out);

  MLIRContext &ctx_;
  OpBuilder builder_;
  std::string fileName_;
  DiagnosticEngine &diag_;

  struct Symbol {
    Value value;
    Loc loc;
    bool used = false;
    bool isInput = false;
  };
  std::map<std::string, Symbol> symbols_;
  std::vector<std::string> symbolOrder_;
  std::set<std::string> opNames_;
  std::vector<std::pair<Operation *, Loc>> losses_;
  const Expr *head_ = nullptr;
  FuncOp func_;
};

// The head of a statement's chain `a |> f |> g`: its first call (f if `a` is a name, `a`
// itself if it is a call). Calls nested as arguments are never heads.
const Expr *chainHead(const Expr &e) {
  const Expr *cur = &e, *head = nullptr;
  while (cur->kind == Expr::Kind::Call) {
    head = cur;
    if (!cur->piped)
      break;
    cur = cur->args[0].value.get();
  }
  return head;
}

bool Generator::bind(const Expr &call, const Signature &sig, Bound &out) {
  out.sig = &sig;
  out.callLoc = call.loc;
  size_t positional = 0;
  bool sawKeyword = false;
  std::vector<std::string> names;
  for (const auto &p : sig.params)
    names.push_back(p.name);
  for (const auto &a : call.args) {
    const char *pname = nullptr;
    Loc where = a.key.empty() ? a.value->loc : a.keyLoc;
    if (a.key.empty()) {
      if (sawKeyword)
        return error(where, "positional argument after a keyword argument in '" + call.text + "'");
      if (positional >= sig.params.size())
        return error(where, "too many arguments to '" + call.text + "' (it takes " +
                                std::to_string(sig.params.size()) + ": " + joinNames(names) + ")");
      pname = sig.params[positional++].name;
    } else {
      sawKeyword = true;
      for (const auto &p : sig.params)
        if (a.key == p.name)
          pname = p.name;
      if (!pname)
        return error(where, "unknown argument '" + a.key + "' to '" + call.text + "'" +
                                didYouMean(a.key, names) + " (it takes " + joinNames(names) + ")");
    }
    if (!out.args.emplace(pname, a.value.get()).second)
      return error(where, "argument '" + std::string(pname) + "' of '" + call.text + "' is given twice");
  }
  for (const auto &p : sig.params)
    if (p.required && !out.args.count(p.name))
      return error(call.loc, "'" + call.text + "' needs the argument '" + p.name + "'");
  return true;
}

const Param &Generator::param(const Bound &b, const char *name) {
  for (const auto &p : b.sig->params)
    if (std::string(p.name) == name)
      return p;
  static const Param none{"", Kind::Int, false};
  return none;
}

bool Generator::intArg(const Bound &b, const char *name, int64_t &out) {
  const Param &p = param(b, name);
  const Expr *e = b.get(name);
  if (!e) {
    out = static_cast<int64_t>(p.defaultValue);
    return true;
  }
  if (e->kind != Expr::Kind::Int)
    return error(e->loc, "'" + std::string(name) + "' must be an integer, got " + exprToString(*e));
  out = e->intValue;
  if (p.kind == Kind::Int && out <= 0)
    return error(e->loc, "'" + std::string(name) + "' must be positive, got " + std::to_string(out));
  if (out < 0)
    return error(e->loc, "'" + std::string(name) + "' must not be negative, got " + std::to_string(out));
  // Keep every extent small enough that shape arithmetic cannot overflow.
  if (out > (int64_t(1) << 24))
    return error(e->loc, "'" + std::string(name) + "' is too large (" + std::to_string(out) + ")");
  return true;
}

bool Generator::floatArg(const Bound &b, const char *name, double &out) {
  const Expr *e = b.get(name);
  if (!e) {
    out = param(b, name).defaultValue;
    return true;
  }
  if (!e->isNumber())
    return error(e->loc, "'" + std::string(name) + "' must be a number, got " + exprToString(*e));
  out = e->floatValue;
  if (param(b, name).kind == Kind::NonNegative && out < 0)
    return error(e->loc, "'" + std::string(name) + "' must not be negative, got " + exprToString(*e));
  return true;
}

bool Generator::boolArg(const Bound &b, const char *name, bool &out) {
  const Expr *e = b.get(name);
  if (!e) {
    out = param(b, name).defaultValue != 0;
    return true;
  }
  if (e->kind != Expr::Kind::Name || (e->text != "true" && e->text != "false"))
    return error(e->loc, "'" + std::string(name) + "' must be true or false, got " + exprToString(*e));
  out = e->text == "true";
  return true;
}

std::string Generator::uniqueName(const std::string &base) {
  std::string name = base;
  for (int i = 2; opNames_.count(name); ++i)
    name = base + "." + std::to_string(i);
  opNames_.insert(name);
  return name;
}

Value Generator::makeParam(const std::string &owner, const char *suffix, const char *role, Loc l) {
  std::string name = uniqueName(owner + "." + suffix);
  return builder_.create<lenet::ParamOp>(loc(l), UnrankedTensorType::get(builder_.getF32Type()),
                                         builder_.getStringAttr(name), builder_.getStringAttr(role));
}

Value Generator::noise() {
  if (func_.getNumArguments() == 2) {
    auto type = RankedTensorType::get({2}, builder_.getIntegerType(32));
    func_.insertArgument(2, type, builder_.getDictionaryAttr({builder_.getNamedAttr(lenet::kNoiseAttr, builder_.getUnitAttr()),
                                                              builder_.getNamedAttr(lenet::kArgNameAttr, builder_.getStringAttr("step.noise"))}),
                         func_.getLoc());
  }
  return func_.getArgument(2);
}

bool Generator::declareInputs(const ModelAST &model, FuncOp &func) {
  const InputDecl *input = nullptr, *label = nullptr;
  for (const auto &in : model.inputs) {
    if (symbols_.count(in.name))
      return error(in.loc, "'" + in.name + "' is already defined");
    const InputDecl *&slot = in.isLabel ? label : input;
    if (slot)
      return error(in.loc, std::string("a model has one ") + (in.isLabel ? "label" : "input") + "; '" +
                               slot->name + "' is declared already");
    slot = &in;
    const TypeSpec &t = in.type;
    const char *expected = in.isLabel ? "class" : "f32";
    if (t.elementType != expected)
      return error(t.loc, std::string("the ") + (in.isLabel ? "label" : "input") + " '" + in.name +
                              "' must have type " + expected +
                              (in.isLabel ? "[classes]" : "[channels, height, width]") + ", got '" +
                              t.elementType + "'");
    if (in.isLabel ? t.dims.size() != 1 : (t.dims.size() != 1 && t.dims.size() != 3))
      return error(t.loc, in.isLabel ? "a label has one dimension: class[classes]"
                                     : "an input is f32[channels, height, width] or f32[features]");
    for (size_t i = 0; i < t.dims.size(); ++i)
      if (t.dims[i] <= 0 || t.dims[i] > 65536)
        return error(t.dimLocs[i],
                     "a dimension must be between 1 and 65536, got " + std::to_string(t.dims[i]));
    int64_t elements = 1;
    for (int64_t d : t.dims)
      elements *= d; // at most 65536^3: no overflow
    if (elements > (int64_t(1) << 31))
      return error(t.loc, "the input '" + in.name + "' is too large (" + std::to_string(elements) +
                              " values per example; the limit is 2^31)");
    if (in.isLabel && t.dims[0] < 2)
      return error(t.dimLocs[0], "a label needs at least 2 classes");
    symbols_[in.name] = Symbol{Value(), in.loc, false, true};
    symbolOrder_.push_back(in.name);
  }
  if (!input)
    return error(model.loc, "model '" + model.name + "' has no input (add 'input x: f32[1, 28, 28]')");
  if (!label)
    return error(model.loc, "model '" + model.name + "' has no label (add 'label y: class[10]')");

  auto f32 = builder_.getF32Type();
  llvm::SmallVector<Type, 2> argTypes{
      lenet::batchedType(&ctx_, input->type.dims),
      RankedTensorType::get({ShapedType::kDynamicSize}, builder_.getIntegerType(32))};
  (void)f32;
  func = FuncOp::create(loc(model.loc), model.name, builder_.getFunctionType(argTypes, {}));
  func.setArgAttr(0, lenet::kArgNameAttr, builder_.getStringAttr(input->name));
  func.setArgAttr(1, lenet::kArgNameAttr, builder_.getStringAttr(label->name));
  func.setArgAttr(1, lenet::kClassesAttr, builder_.getI64IntegerAttr(label->type.dims[0]));
  Block *entry = func.addEntryBlock();
  func_ = func;
  symbols_[input->name].value = entry->getArgument(0);
  symbols_[label->name].value = entry->getArgument(1);
  opNames_.insert(input->name);
  opNames_.insert(label->name);
  builder_.setInsertionPointToStart(entry);
  return true;
}

Value Generator::genExpr(const Expr &e, const std::string &stmt) {
  switch (e.kind) {
  case Expr::Kind::Name: {
    auto it = symbols_.find(e.text);
    if (it == symbols_.end()) {
      std::vector<std::string> known(symbolOrder_.begin(), symbolOrder_.end());
      if (findSignature(opSignatures(), e.text))
        error(e.loc, "'" + e.text + "' is an op: call it as " + e.text + "(...)");
      else
        error(e.loc, "undefined name '" + e.text + "'" + didYouMean(e.text, known));
      return {};
    }
    it->second.used = true;
    return it->second.value;
  }
  case Expr::Kind::Call:
    return genCall(e, stmt);
  default:
    error(e.loc, std::string("expected a tensor (a name or an op call), got ") + exprKindName(e.kind) + " " +
                     exprToString(e));
    return {};
  }
}

Value Generator::genCall(const Expr &call, const std::string &stmt) {
  const Signature *sig = findSignature(opSignatures(), call.text);
  if (!sig) {
    std::string hint = didYouMean(call.text, signatureNames(opSignatures()));
    error(call.loc, "unknown op '" + call.text + "'" +
                        (hint.empty() ? " (ops: " + joinNames(signatureNames(opSignatures())) + ")" : hint));
    return {};
  }
  Bound b;
  if (!bind(call, *sig, b))
    return {};

  // Operands first, so that they are defined (and named) before this op.
  llvm::SmallVector<Value, 2> inputs;
  for (const auto &p : sig->params)
    if (p.kind == Kind::Tensor) {
      Value v = genExpr(*b.get(p.name), stmt);
      if (!v)
        return {};
      inputs.push_back(v);
    }
  std::string name = uniqueName(&call == head_ ? stmt : stmt + "." + call.text);

  Location l = loc(call.loc);
  auto unranked = UnrankedTensorType::get(builder_.getF32Type());
  auto nameAttr = builder_.getStringAttr(name);
  const std::string &op = call.text;
  auto i64 = [&](int64_t v) { return builder_.getI64IntegerAttr(v); };

  if (op == "conv") {
    int64_t filters, kernel, stride, pad = 0;
    if (!intArg(b, "filters", filters) || !intArg(b, "kernel", kernel) || !intArg(b, "stride", stride))
      return {};
    if (const Expr *p = b.get("pad")) {
      if (p->kind == Expr::Kind::Name && p->text == "valid") {
        pad = 0;
      } else if (p->kind == Expr::Kind::Name && p->text == "same") {
        if (kernel % 2 == 0 || stride != 1) {
          error(p->loc, "pad=same needs an odd kernel and stride 1 (kernel " + std::to_string(kernel) +
                            ", stride " + std::to_string(stride) + "); give the padding as a number");
          return {};
        }
        pad = (kernel - 1) / 2;
      } else if (p->kind == Expr::Kind::Int) {
        if (!intArg(b, "pad", pad))
          return {};
      } else {
        error(p->loc, "'pad' must be a non-negative integer, same or valid, got " + exprToString(*p));
        return {};
      }
    }
    ArrayAttr table;
    if (const Expr *t = b.get("table")) {
      if (t->kind != Expr::Kind::List || t->items.empty()) {
        error(t->loc, "'table' must be a list of rows, one per output map, each listing input maps: "
                      "[[0, 1, 2], [1, 2, 3], ...]");
        return {};
      }
      llvm::SmallVector<Attribute, 16> rows;
      for (const auto &row : t->items) {
        if (row->kind != Expr::Kind::List || row->items.empty()) {
          error(row->loc,
                "each row of 'table' must be a non-empty list of input maps, got " + exprToString(*row));
          return {};
        }
        llvm::SmallVector<int64_t, 8> maps;
        for (const auto &m : row->items) {
          if (m->kind != Expr::Kind::Int || m->intValue < 0 || m->intValue > 65535) {
            error(m->loc, "an input map index must be a non-negative integer, got " + exprToString(*m));
            return {};
          }
          if (llvm::is_contained(maps, m->intValue)) {
            error(m->loc, "input map " + std::to_string(m->intValue) + " is listed twice in this row");
            return {};
          }
          maps.push_back(m->intValue);
        }
        rows.push_back(builder_.getI64ArrayAttr(maps));
      }
      if (static_cast<int64_t>(rows.size()) != filters) {
        error(t->loc, "'table' has " + std::to_string(rows.size()) +
                          " rows, but filters = " + std::to_string(filters) + " (one row per output map)");
        return {};
      }
      table = builder_.getArrayAttr(rows);
    }
    Value w = makeParam(name, "w", "weight", call.loc);
    Value bias = makeParam(name, "b", "bias", call.loc);
    return builder_.create<lenet::ConvOp>(l, unranked, inputs[0], w, bias, nameAttr, i64(filters),
                                          i64(kernel), i64(stride), i64(pad), table);
  }
  if (op == "avgpool" || op == "maxpool" || op == "subsample") {
    int64_t size, stride;
    if (!intArg(b, "size", size))
      return {};
    stride = size;
    if (b.get("stride") && !intArg(b, "stride", stride))
      return {};
    if (op == "avgpool")
      return builder_.create<lenet::AvgPoolOp>(l, unranked, inputs[0], nameAttr, i64(size), i64(stride));
    if (op == "maxpool")
      return builder_.create<lenet::MaxPoolOp>(l, unranked, inputs[0], nameAttr, i64(size), i64(stride));
    Value coef = makeParam(name, "coef", "coef", call.loc);
    Value bias = makeParam(name, "b", "bias", call.loc);
    return builder_.create<lenet::SubsampleOp>(l, unranked, inputs[0], coef, bias, nameAttr, i64(size),
                                               i64(stride));
  }
  if (op == "dense") {
    int64_t units;
    if (!intArg(b, "units", units))
      return {};
    Value w = makeParam(name, "w", "weight", call.loc);
    Value bias = makeParam(name, "b", "bias", call.loc);
    return builder_.create<lenet::DenseOp>(l, unranked, inputs[0], w, bias, nameAttr, i64(units));
  }
  if (op == "flatten")
    return builder_.create<lenet::FlattenOp>(l, unranked, inputs[0], nameAttr);
  if (op == "batchnorm") {
    double momentum, eps;
    if (!floatArg(b, "momentum", momentum) || !floatArg(b, "eps", eps))
      return {};
    if (!(momentum > 0 && momentum <= 1)) {
      error(b.get("momentum")->loc, "'momentum' must be in (0, 1], got " + exprToString(*b.get("momentum")));
      return {};
    }
    if (!(eps > 0)) {
      error(b.get("eps")->loc, "'eps' must be positive, got " + exprToString(*b.get("eps")));
      return {};
    }
    Value scale = makeParam(name, "scale", "scale", call.loc);
    Value shift = makeParam(name, "shift", "shift", call.loc);
    Value mean = makeParam(name, "running_mean", "running_mean", call.loc);
    Value var = makeParam(name, "running_var", "running_var", call.loc);
    return builder_.create<lenet::BatchNormOp>(l, unranked, inputs[0], scale, shift, mean, var, nameAttr,
                                               builder_.getF64FloatAttr(momentum), builder_.getF64FloatAttr(eps),
                                               builder_.getBoolAttr(true));
  }
  if (op == "dropout") {
    double rate;
    if (!floatArg(b, "rate", rate))
      return {};
    if (!(rate >= 0 && rate < 1)) {
      error(b.get("rate")->loc, "'rate' must be in [0, 1), got " + exprToString(*b.get("rate")));
      return {};
    }
    return builder_.create<lenet::DropoutOp>(l, unranked, inputs[0], noise(), nameAttr, builder_.getF64FloatAttr(rate));
  }
  // Activations (the Activation trait): the op of the same name, its numbers as attributes.
  auto registered = RegisteredOperationName::lookup("lenet." + op, builder_.getContext());
  if (registered && registered->hasTrait<lenet::Activation>()) {
    OperationState state(l, registered->getStringRef());
    state.addOperands(inputs[0]);
    state.addAttribute("name", nameAttr);
    for (const Param &p : b.sig->params) {
      if (p.kind == Kind::Tensor)
        continue;
      double v;
      if (!floatArg(b, p.name, v))
        return {};
      state.addAttribute(p.name, builder_.getF64FloatAttr(v));
    }
    state.addTypes(unranked);
    return builder_.createOperation(state)->getResult(0);
  }
  if (op == "softmax_cross_entropy") {
    auto loss = builder_.create<lenet::SoftmaxCrossEntropyOp>(l, unranked, inputs[0], inputs[1], nameAttr);
    losses_.push_back({loss, call.loc});
    return loss;
  }
  error(call.loc, "internal error: op '" + op + "' has a signature but no generator");
  return {};
}

// A call in the train block (`sgd(lr=0.9)`, or a bare `adam`) -> {name = "sgd", lr = 0.9, ...}
// with every parameter present (defaults filled in).
bool Generator::callAttrs(const Expr &e, const std::vector<Signature> &sigs, const char *what,
                          DictionaryAttr &out) {
  if (e.kind != Expr::Kind::Call && e.kind != Expr::Kind::Name)
    return error(e.loc, std::string("expected an ") + what + " (" + joinNames(signatureNames(sigs)) +
                            "), got " + exprToString(e));
  const Signature *sig = findSignature(sigs, e.text);
  if (!sig)
    return error(e.loc, "unknown " + std::string(what) + " '" + e.text + "'" +
                            didYouMean(e.text, signatureNames(sigs)) + " (" +
                            joinNames(signatureNames(sigs)) + ")");
  Bound b;
  b.sig = sig;
  if (e.kind == Expr::Kind::Call && !bind(e, *sig, b))
    return false;
  NamedAttrList attrs;
  attrs.append("name", builder_.getStringAttr(sig->name));
  for (const auto &p : sig->params) {
    if (p.kind == Kind::Float) {
      double v;
      if (!floatArg(b, p.name, v))
        return false;
      // The range the trainer's flag checks too (lenetc/TrainSettings.h).
      const TrainSettingSpec *spec = findTrainSetting(p.name);
      SettingRange range = spec ? spec->range : SettingRange::Number;
      if (!inSettingRange(SettingRange::Number, v) || !inSettingRange(range, v))
        return error(b.get(p.name)->loc, "'" + std::string(p.name) + "' must be " +
                                             (range == SettingRange::Rate       ? "in [0, 1)"
                                              : range == SettingRange::Fraction ? "in (0, 1)"
                                              : range == SettingRange::Above0   ? "positive"
                                                                                : "non-negative"));
      attrs.append(p.name, builder_.getF64FloatAttr(v));
    } else if (p.kind == Kind::Bool) {
      bool v;
      if (!boolArg(b, p.name, v))
        return false;
      attrs.append(p.name, builder_.getBoolAttr(v));
    } else {
      int64_t v;
      if (!intArg(b, p.name, v))
        return false;
      attrs.append(p.name, builder_.getI64IntegerAttr(v));
    }
  }
  out = attrs.getDictionary(&ctx_);
  return true;
}

bool Generator::trainValue(const TrainSetting &t, NamedAttrList &attrs) {
  const Expr &e = *t.value;
  auto word = [&](const std::vector<std::string> &allowed, const char *what) -> bool {
    if (e.kind == Expr::Kind::Name && llvm::is_contained(allowed, e.text)) {
      attrs.set(t.key, builder_.getStringAttr(e.text));
      return true;
    }
    std::string hint = e.kind == Expr::Kind::Name ? didYouMean(e.text, allowed) : "";
    return error(e.loc, std::string("'") + t.key + "' must be " + what + " (" + joinNames(allowed) +
                            "), got " + exprToString(e) + hint);
  };
  auto count = [&](bool positive) -> bool {
    if (e.kind != Expr::Kind::Int || e.intValue < (positive ? 1 : 0) || e.intValue > (int64_t(1) << 31))
      return error(e.loc, "'" + t.key + "' must be a " + (positive ? "positive" : "non-negative") +
                              " integer, got " + exprToString(e));
    attrs.set(t.key, builder_.getI64IntegerAttr(e.intValue));
    return true;
  };
  if (t.key == "data") {
    // A known data set by name, or a directory given as a string.
    if (e.kind == Expr::Kind::String) {
      attrs.set("data", builder_.getStringAttr(e.text));
      return true;
    }
    return word({"fashion_mnist", "mnist"}, "a data set or a path in quotes");
  }
  if (t.key == "optimizer" || t.key == "lr_schedule") {
    DictionaryAttr d;
    bool isOpt = t.key == "optimizer";
    if (!callAttrs(e, isOpt ? optimizerSignatures() : scheduleSignatures(),
                   isOpt ? "optimizer" : "learning-rate schedule", d))
      return false;
    attrs.set(t.key, d);
    return true;
  }
  // The rest as lenetc/TrainSettings.h says: the table the trainer's flags are checked by.
  static const std::map<std::string, const char *> what = {
      {"init", "an initialiser"}, {"bias_init", "a bias initialiser"}, {"normalize", "a normalisation"}};
  const TrainSettingSpec *spec = findTrainSetting(t.key);
  if (spec && what.count(t.key))
    return word(spec->choices, what.at(t.key));
  if (spec && (spec->range == SettingRange::Positive || spec->range == SettingRange::Count))
    return count(spec->range == SettingRange::Positive);
  static const std::vector<std::string> keys = {"data", "optimizer", "lr_schedule", "batch", "epochs",
                                                "init", "bias_init", "seed",        "val",   "normalize"};
  return error(t.loc, "unknown train setting '" + t.key + "'" + didYouMean(t.key, keys) +
                          " (settings: " + joinNames(keys) + ")");
}

bool Generator::genTrain(const ModelAST &model, ModuleOp module) {
  // Defaults first; the train block overrides them, and the trainer's flags override both.
  NamedAttrList attrs;
  attrs.set("data", builder_.getStringAttr("fashion_mnist"));
  DictionaryAttr sgd, constant;
  Expr sgdCall, constCall;
  sgdCall.kind = constCall.kind = Expr::Kind::Name;
  sgdCall.text = "sgd";
  constCall.text = "constant";
  callAttrs(sgdCall, optimizerSignatures(), "", sgd);
  callAttrs(constCall, scheduleSignatures(), "", constant);
  attrs.set("optimizer", sgd);
  attrs.set("lr_schedule", constant);
  attrs.set("batch", builder_.getI64IntegerAttr(32));
  attrs.set("epochs", builder_.getI64IntegerAttr(10));
  attrs.set("init", builder_.getStringAttr("xavier_uniform"));
  attrs.set("bias_init", builder_.getStringAttr("zero"));
  attrs.set("normalize", builder_.getStringAttr("unit"));
  attrs.set("seed", builder_.getI64IntegerAttr(0));
  attrs.set("val", builder_.getI64IntegerAttr(0));
  std::set<std::string> seen;
  for (const auto &t : model.train) {
    if (!seen.insert(t.key).second)
      return error(t.loc, "train setting '" + t.key + "' is given twice");
    if (!trainValue(t, attrs))
      return false;
  }
  module->setAttr(lenet::kTrainAttr, attrs.getDictionary(&ctx_));
  return true;
}

OwningOpRef<ModuleOp> Generator::run(const ModelAST &model) {
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc(model.loc));
  FuncOp func;
  if (!declareInputs(model, func))
    return nullptr;
  module->push_back(func);

  for (const auto &s : model.statements) {
    auto it = symbols_.find(s.name);
    if (it != symbols_.end()) {
      error(s.loc,
            "'" + s.name + "' is already defined (at line " + std::to_string(it->second.loc.line) + ")");
      return nullptr;
    }
    if (findSignature(opSignatures(), s.name) || s.name == "true" || s.name == "false") {
      error(s.loc, "'" + s.name + "' is a reserved word and cannot name a value");
      return nullptr;
    }
    head_ = chainHead(*s.value);
    Value v = genExpr(*s.value, s.name);
    if (!v)
      return nullptr;
    if (v.isa<BlockArgument>() || s.value->kind != Expr::Kind::Call) {
      error(s.value->loc, "'" + s.name + "' must be computed by an op, not be another name for '" +
                              exprToString(*s.value) + "'");
      return nullptr;
    }
    symbols_[s.name] = Symbol{v, s.loc};
    symbolOrder_.push_back(s.name);
  }

  if (losses_.empty()) {
    error(model.loc, "model '" + model.name + "' has no loss: add 'loss = softmax_cross_entropy(logits, " +
                         (model.inputs.size() > 1 ? model.inputs[1].name : std::string("y")) + ")'");
    return nullptr;
  }
  if (losses_.size() > 1) {
    error(losses_[1].second, "a model has one loss; another softmax_cross_entropy is at line " +
                                 std::to_string(losses_[0].second.line));
    return nullptr;
  }
  auto loss = cast<lenet::SoftmaxCrossEntropyOp>(losses_[0].first);
  if (!loss->use_empty()) {
    // Reported where the loss is used (each op carries its statement's position).
    Loc at = losses_[0].second;
    if (auto l = (*loss->user_begin())->getLoc().dyn_cast<FileLineColLoc>())
      at = Loc{static_cast<int>(l.getLine()), static_cast<int>(l.getColumn())};
    error(at, "the loss cannot be the input of another op (it is defined at line " +
                  std::to_string(losses_[0].second.line) + ")");
    return nullptr;
  }
  // Every value must lead to the loss: warn about dead statements (Keras would too).
  for (const auto &name : symbolOrder_) {
    const Symbol &s = symbols_[name];
    if (!s.used && !s.isInput && s.value != loss.getResult())
      diag_.warning(s.loc, "'" + name + "' is computed but never used");
  }
  builder_.create<lenet::ReturnOp>(loc(losses_[0].second), ValueRange{loss.getResult(), loss.logits()});
  func.setType(builder_.getFunctionType(func.getArgumentTypes(),
                                        {loss.getResult().getType(), loss.logits().getType()}));
  if (!genTrain(model, *module))
    return nullptr;
  return module;
}

} // namespace

OwningOpRef<ModuleOp> mlirGen(MLIRContext &ctx, const ModelAST &model, const std::string &fileName,
                              DiagnosticEngine &diag) {
  ctx.getOrLoadDialect<lenet::LenetDialect>();
  Generator gen(ctx, fileName, diag);
  return gen.run(model);
}

const std::vector<OpHelp> &languageOps() {
  static const std::vector<OpHelp> ops = [] {
    std::vector<OpHelp> out;
    for (const auto &s : opSignatures()) {
      std::string sig = std::string(s.name) + "(";
      for (size_t i = 0; i < s.params.size(); ++i) {
        const Param &p = s.params[i];
        sig += (i ? ", " : "") + std::string(p.name);
        if (!p.required)
          sig += p.kind == Kind::Table ? "=none" : "=...";
      }
      out.push_back({s.name, sig + ")", s.summary});
    }
    return out;
  }();
  return ops;
}

} // namespace lenetc
