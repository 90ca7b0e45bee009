#include "halide/Schedule.h"

#include <fmt/format.h>

#include <cerrno>
#include <algorithm>
#include <cctype>
#include <functional>
#include <set>
#include <sstream>

namespace H = Halide;

namespace lenetc {

const std::vector<std::string> &scheduleDirectives() {
  static const std::vector<std::string> names = {
      "compute_root", "compute_inline", "compute_at", "store_root", "store_at", "split", "fuse", "tile",
      "reorder", "reorder_storage", "vectorize", "unroll", "parallel", "serial", "bound", "rfactor",
      "gpu_blocks", "gpu_threads", "gpu_tile", "gpu_single_thread", "store_in", "atomic"};
  return names;
}

namespace {
// "unknown directive 'x' (did you mean 'y'?)", or "" for a directive of the table.
std::string unknownDirective(const std::string &name) {
  const auto &known = scheduleDirectives();
  if (std::find(known.begin(), known.end(), name) != known.end())
    return "";
  std::string hint = closestMatch(name, known);
  return "unknown directive '" + name + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)");
}
} // namespace

const std::vector<std::string> &scheduleHeaderKeys() {
  static const std::vector<std::string> keys = {"model", "target", "machine", "date", "measured"};
  return keys;
}

// --- parsing ---------------------------------------------------------------------------

namespace {

bool isNameChar(char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.'; }

// "[train_step], [infer] or [infer_one]" for messages.
std::string sectionList(const std::string &lastSeparator) {
  const auto &keys = pipelineKeys();
  std::string out;
  for (size_t i = 0; i < keys.size(); ++i)
    out += (i == 0 ? "" : i + 1 == keys.size() ? lastSeparator : ", ") + "[" + keys[i] + "]";
  return out;
}

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r"), e = s.find_last_not_of(" \t\r");
  return b == std::string_view::npos ? "" : std::string(s.substr(b, e - b + 1));
}

// One line of a schedule, scanned left to right with its column.
class LineScanner {
public:
  LineScanner(std::string_view text, int line) : text_(text), line_(line) {}
  void skipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool atEnd() {
    skipSpace();
    return pos_ >= text_.size() || text_[pos_] == '#';
  }
  Loc loc() const { return {line_, static_cast<int>(pos_) + 1}; }
  bool accept(char ch) {
    skipSpace();
    if (pos_ < text_.size() && text_[pos_] == ch) {
      ++pos_;
      return true;
    }
    return false;
  }
  // A name (letters, digits, '_', '.') or a signed integer; "" when neither is here.
  std::string word(bool *isNumber = nullptr) {
    skipSpace();
    size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '-')
      ++pos_;
    while (pos_ < text_.size() && isNameChar(text_[pos_]))
      ++pos_;
    std::string w(text_.substr(start, pos_ - start));
    bool number = !w.empty();
    for (size_t i = 0; i < w.size(); ++i)
      number = number && (std::isdigit(static_cast<unsigned char>(w[i])) || (i == 0 && w[i] == '-' && w.size() > 1));
    if (!number && !w.empty() && w[0] == '-') { // a '-' only starts numbers
      pos_ = start;
      return "";
    }
    if (isNumber)
      *isNumber = number;
    return w;
  }
  char peek() {
    skipSpace();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }

private:
  std::string_view text_;
  int line_;
  size_t pos_ = 0;
};

// `c3.grad_w.flat.update(0): rfactor(r.z, example, p).parallel(example)`
bool parseStageLine(LineScanner &sc, DiagnosticEngine &diag, StageSchedule &out) {
  out.loc = sc.loc();
  std::string name = sc.word();
  if (name.empty()) {
    diag.error(sc.loc(), "expected a Func name, '[pipeline]' or 'key = value'");
    return false;
  }
  const std::string update = ".update";
  if (name.size() > update.size() && name.compare(name.size() - update.size(), update.size(), update) == 0 &&
      sc.peek() == '(') {
    name.resize(name.size() - update.size());
    sc.accept('(');
    bool number = false;
    Loc at = sc.loc();
    std::string k = sc.word(&number);
    if (!number || k[0] == '-' || k.size() > 4) {
      diag.error(at, "expected the update's index: update(0), update(1), ...");
      return false;
    }
    out.update = std::stoi(k);
    if (!sc.accept(')')) {
      diag.error(sc.loc(), "expected ')' after the update's index");
      return false;
    }
  }
  out.func = name;
  if (!sc.accept(':')) {
    diag.error(sc.loc(), "expected ':' after the stage '" + name + "'");
    return false;
  }
  do {
    ScheduleCall call;
    call.loc = sc.loc();
    call.name = sc.word();
    if (call.name.empty() || call.name.find('.') != std::string::npos) {
      diag.error(call.loc, "expected a directive (split, vectorize, compute_at, ...)");
      return false;
    }
    if (std::string unknown = unknownDirective(call.name); !unknown.empty()) {
      diag.error(call.loc, unknown);
      return false;
    }
    if (!sc.accept('(')) {
      diag.error(sc.loc(), "expected '(' after '" + call.name + "'");
      return false;
    }
    if (!sc.accept(')')) {
      do {
        ScheduleArg arg;
        arg.loc = sc.loc();
        arg.text = sc.word(&arg.isNumber);
        if (arg.text.empty()) {
          diag.error(arg.loc, "expected a variable, Func, number or keyword in the arguments of '" +
                                  call.name + "'");
          return false;
        }
        call.args.push_back(arg);
      } while (sc.accept(','));
      if (!sc.accept(')')) {
        diag.error(sc.loc(), "expected ',' or ')' in the arguments of '" + call.name + "'");
        return false;
      }
    }
    out.calls.push_back(std::move(call));
  } while (sc.accept('.'));
  if (!sc.atEnd()) {
    diag.error(sc.loc(), "expected '.' before the next directive, or the end of the line");
    return false;
  }
  return true;
}

} // namespace

bool parseSchedule(const SourceFile &file, DiagnosticEngine &diag, ScheduleFile &out) {
  out.path = file.path();
  std::vector<StageSchedule> *section = nullptr;
  int lines = 1;
  for (char ch : file.text())
    lines += ch == '\n';
  for (int line = 1; line <= lines; ++line) {
    std::string_view text = file.line(line);
    LineScanner sc(text, line);
    if (sc.atEnd())
      continue;
    if (sc.peek() == '[') {
      sc.accept('[');
      Loc at = sc.loc();
      std::string name = sc.word();
      if (name.empty() || !sc.accept(']') || !sc.atEnd()) {
        diag.error(at, "expected a pipeline section: " + sectionList(" or "));
        return false;
      }
      const auto &keys = pipelineKeys();
      if (std::find(keys.begin(), keys.end(), name) == keys.end()) {
        diag.error(at, "unknown pipeline '" + name + "' (a schedule has sections " + sectionList(" and ") + ")");
        return false;
      }
      if (out.pipelines.count(name)) {
        diag.error(at, "the pipeline [" + name + "] is scheduled twice in this file");
        return false;
      }
      section = &out.pipelines[name];
      out.pipelineLoc[name] = at;
      continue;
    }
    size_t eq = text.find('=');
    size_t colon = text.find(':');
    if (!section && eq != std::string_view::npos && (colon == std::string_view::npos || eq < colon)) {
      Loc at = sc.loc();
      std::string key = trim(text.substr(0, eq));
      std::string value = trim(text.substr(eq + 1));
      const auto &keys = scheduleHeaderKeys();
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        std::string hint = closestMatch(key, keys);
        diag.error(at, "unknown header key '" + key + "'" +
                           (hint.empty() ? " (keys: model, target, machine, date, measured)"
                                         : " (did you mean '" + hint + "'?)"));
        return false;
      }
      if (value.empty()) {
        diag.error(at, "the header key '" + key + "' has no value");
        return false;
      }
      out.header[key] = value;
      out.headerLoc[key] = at;
      continue;
    }
    if (!section) {
      diag.error(sc.loc(), "a stage's directives must follow a pipeline section (" + sectionList(" or ") + ")");
      return false;
    }
    StageSchedule stage;
    if (!parseStageLine(sc, diag, stage))
      return false;
    section->push_back(std::move(stage));
  }
  for (const auto &key : scheduleHeaderKeys())
    if (!out.header.count(key)) {
      diag.error({1, 1}, "the schedule does not say its '" + key +
                             "' (every schedule states model, target, machine, date and measured)");
      return false;
    }
  if (out.pipelines.empty()) {
    diag.error({1, 1}, "the schedule has no pipeline section (" + sectionList(" or ") + ")");
    return false;
  }
  return true;
}

bool checkScheduleHeader(const ScheduleFile &s, const std::string &model, const std::string &targetClass,
                         DiagnosticEngine &diag) {
  if (s.header.at("model") != model) {
    diag.error(s.headerLoc.at("model"),
               "this schedule is for the model '" + s.header.at("model") + "', not '" + model + "'");
    return false;
  }
  if (s.header.at("target") != targetClass)
    diag.warning(s.headerLoc.at("target"), "this schedule was tuned for '" + s.header.at("target") +
                                               "', the build is for '" + targetClass + "'");
  return true;
}

// --- applying ---------------------------------------------------------------------------

namespace {

// A scheduling variable by its schedule-file name: Halide's RDom variables are `r$x`.
std::string fileName(const std::string &halideVar) {
  std::string out = halideVar;
  for (char &ch : out)
    if (ch == '$')
      ch = '.';
  return out;
}

struct Var {
  std::string halideName;
  bool isRVar = false;
  H::VarOrRVar get() const { return isRVar ? H::VarOrRVar(H::RVar(halideName)) : H::VarOrRVar(H::Var(halideName)); }
};

class Applier {
public:
  Applier(LoweredPipeline &p, DiagnosticEngine &diag) : p_(p), diag_(diag) {
    for (auto &[name, f] : p.funcs)
      funcs_.emplace(name, f);
  }

  bool apply(const std::vector<StageSchedule> &stages) {
    for (const auto &stage : stages)
      if (!applyStage(stage))
        return false;
    computeUnnamedAtRoot();
    return true;
  }

private:
  using Vars = std::map<std::string, Var>;

  bool findFunc(const std::string &name, Loc loc, H::Func &out) {
    auto it = funcs_.find(name);
    if (it != funcs_.end()) {
      out = it->second;
      return true;
    }
    std::vector<std::string> names;
    for (const auto &[n, f] : funcs_)
      names.push_back(n);
    std::string hint = closestMatch(name, names);
    diag_.error(loc, "unknown Func '" + name + "' in the pipeline '" + p_.name + "'" +
                         (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    return false;
  }

  // The variables a stage's loops are named by: its pure variables, its reduction
  // variables, and those its directives made so far.
  Vars &varsOf(H::Func f, int update) {
    std::string key = f.name() + "#" + std::to_string(update);
    auto it = vars_.find(key);
    if (it != vars_.end())
      return it->second;
    Vars &v = vars_[key];
    for (const H::Var &a : f.args())
      v[a.name()] = Var{a.name(), false};
    if (update >= 0) {
      std::vector<H::RVar> rvars = f.rvars(update);
      for (const H::RVar &r : rvars) {
        // After rfactor, a split domain's variables are `r$z.rzi`: Halide and the file call
        // them `rzi`.
        size_t dot = r.name().rfind('.');
        if (dot != std::string::npos)
          v[r.name().substr(dot + 1)] = Var{r.name().substr(dot + 1), true};
        else
          v[fileName(r.name())] = Var{r.name(), true};
      }
      // A one-dimensional domain's variable may also go by the domain's name: `r` for `r.x`.
      if (rvars.size() == 1 && rvars[0].name().find('$') != std::string::npos)
        v.emplace(rvars[0].name().substr(0, rvars[0].name().find('$')), Var{rvars[0].name(), true});
    }
    return v;
  }

  bool applyStage(const StageSchedule &stage) {
    H::Func f;
    if (!findFunc(stage.func, stage.loc, f))
      return false;
    if (stage.update >= f.num_update_definitions()) {
      diag_.error(stage.loc, "'" + stage.func + "' has " + std::to_string(f.num_update_definitions()) +
                                 " update definition(s): there is no update(" + std::to_string(stage.update) + ")");
      return false;
    }
    named_.insert(f.name());
    for (const auto &call : stage.calls) {
      try {
        if (!applyCall(f, stage, call))
          return false;
      } catch (const H::Error &e) {
        diag_.error(call.loc, "Halide rejects '" + call.name + "' here: " + trim(e.what()));
        return false;
      }
    }
    return true;
  }

  // Argument helpers: each reports at the argument and returns false when it does not fit.
  bool expectArgs(const ScheduleCall &c, size_t lo, size_t hi, const std::string &form) {
    if (c.args.size() >= lo && c.args.size() <= hi)
      return true;
    diag_.error(c.loc, "'" + c.name + "' takes " + form);
    return false;
  }
  bool var(const ScheduleCall &c, size_t i, Vars &vars, Var &out) {
    const ScheduleArg &a = c.args[i];
    auto it = vars.find(a.text);
    if (!a.isNumber && it != vars.end()) {
      out = it->second;
      return true;
    }
    std::vector<std::string> names;
    for (const auto &[n, v] : vars)
      names.push_back(n);
    std::string known;
    for (const auto &n : names)
      known += (known.empty() ? "" : ", ") + n;
    diag_.error(a.loc, "unknown variable '" + a.text + "' in this stage (it has: " + known + ")");
    return false;
  }
  // A new variable's name: a Var, or an RVar when made from an RVar.
  bool newVar(const ScheduleCall &c, size_t i, Vars &vars, bool isRVar, Var &out) {
    const ScheduleArg &a = c.args[i];
    if (a.isNumber || a.text.find('.') != std::string::npos) {
      diag_.error(a.loc, "expected a new variable's name (letters, digits, '_'), not '" + a.text + "'");
      return false;
    }
    out = Var{a.text, isRVar};
    vars[a.text] = out;
    return true;
  }
  bool number(const ScheduleCall &c, size_t i, int &out, int lo = 1) {
    const ScheduleArg &a = c.args[i];
    // Factors and extents up to 2^24 (a schedule's numbers are tile sizes, not counts).
    constexpr long long kMax = 1 << 24;
    errno = 0;
    char *end = nullptr;
    long long v = a.isNumber ? std::strtoll(a.text.c_str(), &end, 10) : 0;
    if (!a.isNumber || errno == ERANGE || *end || v < lo || v > kMax) {
      diag_.error(a.loc, "expected an integer from " + std::to_string(lo) + " to " + std::to_string(kMax) + ", not '" +
                             a.text + "'");
      return false;
    }
    out = static_cast<int>(v);
    return true;
  }
  bool tail(const ScheduleCall &c, size_t i, H::TailStrategy &out) {
    if (i >= c.args.size()) {
      out = H::TailStrategy::Auto;
      return true;
    }
    static const std::map<std::string, H::TailStrategy> names = {
        {"Auto", H::TailStrategy::Auto},
        {"GuardWithIf", H::TailStrategy::GuardWithIf},
        {"RoundUp", H::TailStrategy::RoundUp},
        {"ShiftInwards", H::TailStrategy::ShiftInwards},
        {"PredicateLoads", H::TailStrategy::PredicateLoads},
        {"PredicateStores", H::TailStrategy::PredicateStores}};
    auto it = names.find(c.args[i].text);
    if (it == names.end()) {
      diag_.error(c.args[i].loc, "unknown tail strategy '" + c.args[i].text +
                                     "' (Auto, GuardWithIf, RoundUp, ShiftInwards, PredicateLoads, PredicateStores)");
      return false;
    }
    out = it->second;
    return true;
  }
  bool pureOnly(const StageSchedule &s, const ScheduleCall &c) {
    if (s.update < 0)
      return true;
    diag_.error(c.loc, "'" + c.name + "' schedules the whole Func: write it on the line '" + s.func +
                           ":', not on an update");
    return false;
  }
  bool updateOnly(const StageSchedule &s, const ScheduleCall &c) {
    if (s.update >= 0)
      return true;
    diag_.error(c.loc, "'" + c.name + "' applies to an update: write it on '" + s.func + ".update(K):'");
    return false;
  }
  // `compute_at(F, v)` / `store_at(F, v)`: F's loop over v (in any of F's stages).
  bool loopLevel(const ScheduleCall &c, H::LoopLevel &out) {
    H::Func consumer;
    if (!findFunc(c.args[0].text, c.args[0].loc, consumer))
      return false;
    if (c.args[1].text == "root" || c.args[1].text == "inline") {
      out = c.args[1].text == "root" ? H::LoopLevel::root() : H::LoopLevel::inlined();
      return true;
    }
    for (int u = consumer.num_update_definitions() - 1; u >= -1; --u) {
      Vars &vars = varsOf(consumer, u);
      auto it = vars.find(c.args[1].text);
      if (it != vars.end()) {
        out = H::LoopLevel(consumer, it->second.get());
        return true;
      }
    }
    diag_.error(c.args[1].loc, "'" + c.args[0].text + "' has no loop '" + c.args[1].text + "'");
    return false;
  }
  bool gpuVars(const ScheduleCall &c, Vars &vars, std::vector<H::VarOrRVar> &out) {
    if (!expectArgs(c, 1, 3, "1 to 3 variables"))
      return false;
    for (size_t i = 0; i < c.args.size(); ++i) {
      Var v;
      if (!var(c, i, vars, v))
        return false;
      out.push_back(v.get());
    }
    return true;
  }

  // The arguments tile and two-dimensional gpu_tile share: (x, y, outer x, outer y,
  // inner x, inner y, x factor, y factor[, tail]); the new variables join `vars`.
  struct Tile2D {
    Var x, y, xo, yo, xi, yi;
    int fx = 0, fy = 0;
    H::TailStrategy tail = H::TailStrategy::Auto;
  };
  bool tile2D(const ScheduleCall &c, Vars &vars, const std::string &form, Tile2D &g) {
    return expectArgs(c, 8, 9, form) && var(c, 0, vars, g.x) && var(c, 1, vars, g.y) && number(c, 6, g.fx) &&
           number(c, 7, g.fy) && tail(c, 8, g.tail) && newVar(c, 2, vars, g.x.isRVar, g.xo) &&
           newVar(c, 3, vars, g.y.isRVar, g.yo) && newVar(c, 4, vars, g.x.isRVar, g.xi) &&
           newVar(c, 5, vars, g.y.isRVar, g.yi);
  }

  bool applyCall(H::Func f, const StageSchedule &s, const ScheduleCall &c) {
    Vars &vars = varsOf(f, s.update);
    H::Stage st = s.update < 0 ? H::Stage(f) : f.update(s.update);
    const std::string &n = c.name;
    Var a, b, d;
    H::TailStrategy t;
    int k1 = 0, k2 = 0;
    if (n == "compute_root" || n == "compute_inline" || n == "store_root") {
      if (!expectArgs(c, 0, 0, "no arguments") || !pureOnly(s, c))
        return false;
      if (n == "compute_root")
        f.compute_root();
      else if (n == "store_root")
        f.store_root();
      else
        f.compute_inline();
    } else if (n == "compute_at" || n == "store_at") {
      H::LoopLevel level;
      if (!expectArgs(c, 2, 2, "(Func, loop variable)") || !pureOnly(s, c) || !loopLevel(c, level))
        return false;
      if (n == "compute_at")
        f.compute_at(level);
      else
        f.store_at(level);
    } else if (n == "split") {
      if (!expectArgs(c, 4, 5, "(var, outer, inner, factor[, tail])") || !var(c, 0, vars, a) ||
          !number(c, 3, k1) || !tail(c, 4, t) || !newVar(c, 1, vars, a.isRVar, b) || !newVar(c, 2, vars, a.isRVar, d))
        return false;
      st.split(a.get(), b.get(), d.get(), k1, t);
    } else if (n == "fuse") {
      if (!expectArgs(c, 3, 3, "(inner, outer, fused)") || !var(c, 0, vars, a) || !var(c, 1, vars, b) ||
          !newVar(c, 2, vars, a.isRVar || b.isRVar, d))
        return false;
      st.fuse(a.get(), b.get(), d.get());
    } else if (n == "tile") {
      Tile2D g;
      if (!tile2D(c, vars, "(x, y, xo, yo, xi, yi, xfactor, yfactor[, tail])", g))
        return false;
      st.tile(g.x.get(), g.y.get(), g.xo.get(), g.yo.get(), g.xi.get(), g.yi.get(), g.fx, g.fy, g.tail);
    } else if (n == "reorder") {
      std::vector<H::VarOrRVar> order;
      if (!expectArgs(c, 2, 16, "two or more variables, innermost first"))
        return false;
      for (size_t i = 0; i < c.args.size(); ++i) {
        if (!var(c, i, vars, a))
          return false;
        order.push_back(a.get());
      }
      st.reorder(order);
    } else if (n == "reorder_storage") {
      std::vector<H::Var> order;
      if (!expectArgs(c, 2, 16, "the Func's variables, innermost first") || !pureOnly(s, c))
        return false;
      for (size_t i = 0; i < c.args.size(); ++i) {
        if (!var(c, i, vars, a))
          return false;
        order.push_back(H::Var(a.halideName));
      }
      f.reorder_storage(order);
    } else if (n == "vectorize" || n == "unroll") {
      if (!expectArgs(c, 1, 3, "(var[, factor[, tail]])") || !var(c, 0, vars, a))
        return false;
      if (c.args.size() == 1) {
        n == "vectorize" ? st.vectorize(a.get()) : st.unroll(a.get());
      } else {
        if (!number(c, 1, k1) || !tail(c, 2, t))
          return false;
        n == "vectorize" ? st.vectorize(a.get(), k1, t) : st.unroll(a.get(), k1, t);
      }
    } else if (n == "parallel") {
      if (!expectArgs(c, 1, 3, "(var[, task size[, tail]])") || !var(c, 0, vars, a))
        return false;
      if (c.args.size() == 1) {
        st.parallel(a.get());
      } else {
        if (!number(c, 1, k1) || !tail(c, 2, t))
          return false;
        st.parallel(a.get(), k1, t);
      }
    } else if (n == "serial") {
      if (!expectArgs(c, 1, 1, "(var)") || !var(c, 0, vars, a))
        return false;
      st.serial(a.get());
    } else if (n == "bound") {
      if (!expectArgs(c, 3, 3, "(var, min, extent)") || !pureOnly(s, c) || !var(c, 0, vars, a) ||
          !number(c, 1, k1, 0) || !number(c, 2, k2))
        return false;
      f.bound(H::Var(a.halideName), k1, k2);
    } else if (n == "rfactor") {
      if (!expectArgs(c, 3, 3, "(rvar, new var, name of the new Func)") || !updateOnly(s, c) ||
          !var(c, 0, vars, a))
        return false;
      if (!a.isRVar) {
        diag_.error(c.args[0].loc, "rfactor takes a reduction variable, not '" + c.args[0].text + "'");
        return false;
      }
      const ScheduleArg &name = c.args[2];
      if (funcs_.count(name.text)) {
        diag_.error(name.loc, "a Func named '" + name.text + "' exists already");
        return false;
      }
      if (c.args[1].isNumber) {
        diag_.error(c.args[1].loc, "expected a new variable's name, not '" + c.args[1].text + "'");
        return false;
      }
      H::Func intm = st.rfactor(H::RVar(a.halideName), H::Var(c.args[1].text));
      funcs_.emplace(name.text, intm);
    } else if (n == "gpu_blocks" || n == "gpu_threads") {
      std::vector<H::VarOrRVar> vs;
      if (!gpuVars(c, vars, vs))
        return false;
      if (n == "gpu_blocks")
        vs.size() == 1 ? st.gpu_blocks(vs[0]) : vs.size() == 2 ? st.gpu_blocks(vs[0], vs[1]) : st.gpu_blocks(vs[0], vs[1], vs[2]);
      else
        vs.size() == 1 ? st.gpu_threads(vs[0]) : vs.size() == 2 ? st.gpu_threads(vs[0], vs[1]) : st.gpu_threads(vs[0], vs[1], vs[2]);
    } else if (n == "gpu_single_thread") {
      if (!expectArgs(c, 0, 0, "no arguments"))
        return false;
      st.gpu_single_thread();
    } else if (n == "gpu_tile") {
      if (c.args.size() <= 5) {
        if (!expectArgs(c, 4, 5, "(x, bx, tx, size[, tail]) or (x, y, bx, by, tx, ty, xsize, ysize[, tail])") ||
            !var(c, 0, vars, a) || !number(c, 3, k1) || !tail(c, 4, t) || !newVar(c, 1, vars, a.isRVar, b) ||
            !newVar(c, 2, vars, a.isRVar, d))
          return false;
        st.gpu_tile(a.get(), b.get(), d.get(), k1, t);
      } else {
        Tile2D g;
        if (!tile2D(c, vars, "(x, y, bx, by, tx, ty, xsize, ysize[, tail])", g))
          return false;
        st.gpu_tile(g.x.get(), g.y.get(), g.xo.get(), g.yo.get(), g.xi.get(), g.yi.get(), g.fx, g.fy, g.tail);
      }
    } else if (n == "store_in") {
      static const std::map<std::string, H::MemoryType> types = {
          {"Auto", H::MemoryType::Auto},   {"Heap", H::MemoryType::Heap},
          {"Stack", H::MemoryType::Stack}, {"Register", H::MemoryType::Register},
          {"GPUShared", H::MemoryType::GPUShared}, {"LockedCache", H::MemoryType::LockedCache},
          {"VTCM", H::MemoryType::VTCM}};
      if (!expectArgs(c, 1, 1, "(Auto | Heap | Stack | Register | GPUShared)") || !pureOnly(s, c))
        return false;
      auto it = types.find(c.args[0].text);
      if (it == types.end()) {
        diag_.error(c.args[0].loc, "unknown memory type '" + c.args[0].text + "' (Auto, Heap, Stack, Register, GPUShared)");
        return false;
      }
      f.store_in(it->second);
    } else if (n == "atomic") {
      if (!expectArgs(c, 0, 0, "no arguments") || !updateOnly(s, c))
        return false;
      st.atomic();
    } else {
      diag_.error(c.loc, unknownDirective(n)); // a generated stage (the parser checks files)
      return false;
    }
    return true;
  }

  // A Func the schedule leaves unnamed is computed at root: inlining by default would make
  // chains of recomputation (and LLVM takes minutes over the code); say compute_inline().
  void computeUnnamedAtRoot() {
    for (auto &[name, f] : funcs_)
      if (!named_.count(f.name()))
        f.compute_root();
  }

  LoweredPipeline &p_;
  DiagnosticEngine &diag_;
  std::map<std::string, H::Func> funcs_;
  std::map<std::string, Vars> vars_;
  std::set<std::string> named_; // Halide names of the Funcs some line schedules
};

} // namespace

bool applySchedule(const ScheduleFile &s, const std::string &key, LoweredPipeline &p, DiagnosticEngine &diag) {
  auto it = s.pipelines.find(key);
  if (it == s.pipelines.end())
    return false;
  return Applier(p, diag).apply(it->second);
}

std::string formatStage(const StageSchedule &s) {
  std::vector<std::string> calls;
  for (const ScheduleCall &c : s.calls) {
    std::vector<std::string> args;
    for (const ScheduleArg &a : c.args)
      args.push_back(a.text);
    calls.push_back(fmt::format("{}({})", c.name, fmt::join(args, ", ")));
  }
  std::string stage = s.update >= 0 ? fmt::format("{}.update({})", s.func, s.update) : s.func;
  return fmt::format("{}: {}", stage, fmt::join(calls, "."));
}

std::string formatSchedule(const std::map<std::string, std::string> &header,
                           const std::map<std::string, std::vector<StageSchedule>> &sections,
                           const std::string &comment,
                           const std::map<std::string, std::vector<std::string>> &notes) {
  std::string text;
  auto out = std::back_inserter(text);
  if (!comment.empty()) {
    std::istringstream lines(comment);
    for (std::string l; std::getline(lines, l);)
      fmt::format_to(out, "# {}\n", l);
  }
  for (const auto &key : scheduleHeaderKeys())
    if (header.count(key))
      fmt::format_to(out, "{} = {}\n", key, header.at(key));
  for (const auto &[key, stages] : sections) {
    fmt::format_to(out, "\n[{}]\n", key);
    for (const auto &stage : stages)
      fmt::format_to(out, "{}\n", formatStage(stage));
    if (auto it = notes.find(key); it != notes.end())
      for (const auto &line : it->second)
        fmt::format_to(out, "{}\n", line);
  }
  return text;
}

bool applyStages(const std::string &what, std::vector<StageSchedule> stages, LoweredPipeline &p,
                 std::ostream *messages) {
  // The stages' text, one line each, and each stage and directive located in it: an error
  // (Halide rejecting a directive) is shown at its line, as a schedule file's would be.
  std::string text;
  for (size_t i = 0; i < stages.size(); ++i) {
    StageSchedule &s = stages[i];
    int line = static_cast<int>(i) + 1;
    s.loc = {line, 1};
    std::string formatted = formatStage(s);
    size_t at = formatted.find(": ") + 2;
    for (ScheduleCall &c : s.calls) {
      c.loc = {line, static_cast<int>(at) + 1};
      for (ScheduleArg &a : c.args)
        a.loc = c.loc;
      at += formatStage(StageSchedule{"", -1, {}, {c}}).size() - 2 + 1; // "name(args)" and its '.'
    }
    text += formatted + "\n";
  }
  SourceFile file(what, text);
  DiagnosticEngine diag(file, messages);
  return Applier(p, diag).apply(stages);
}

bool applyScheduleText(const std::string &path, const std::string &text, const std::string &key,
                       LoweredPipeline &p, std::ostream *messages) {
  SourceFile file(path, text);
  DiagnosticEngine diag(file, messages);
  ScheduleFile s;
  return parseSchedule(file, diag, s) && applySchedule(s, key, p, diag);
}

std::vector<std::string> scheduleSkeleton(const LoweredPipeline &p) {
  std::vector<std::string> out;
  for (const auto &[name, f] : p.funcs) {
    std::vector<std::string> vars;
    for (const H::Var &v : f.args())
      vars.push_back(v.name());
    std::string line = fmt::format("#   {}({})", name, fmt::join(vars, ", "));
    for (int u = 0; u < f.num_update_definitions(); ++u) {
      line += fmt::format("; update({}) over", u);
      for (const H::RVar &r : f.rvars(u))
        line += " " + fileName(r.name());
    }
    out.push_back(line);
  }
  return out;
}

std::string scheduleTargetClass(const H::Target &t, bool gpuVariant) {
  if (gpuVariant) {
    if (t.has_feature(H::Target::CUDA))
      return "cuda";
    if (t.has_feature(H::Target::OpenCL))
      return "opencl";
    if (t.has_feature(H::Target::Metal))
      return "metal";
    return "";
  }
  if (t.arch == H::Target::X86) {
    if (t.has_feature(H::Target::AVX512))
      return "x86-avx512";
    if (t.has_feature(H::Target::AVX2))
      return "x86-avx2";
    if (t.has_feature(H::Target::SSE41))
      return "x86-sse41";
    return "x86";
  }
  if (t.arch == H::Target::ARM)
    return "arm";
  return "";
}

const std::vector<std::string> &pipelineKeys() {
  static const std::vector<std::string> keys = {"train_step", "infer", "infer_one"};
  return keys;
}

std::string pipelineKey(const std::string &name) {
  std::string k = name;
  if (k.size() > 4 && k.compare(k.size() - 4, 4, "_gpu") == 0)
    k.resize(k.size() - 4);
  // The longest key the name ends with (lenet5_infer_one ends with infer too).
  std::string best;
  for (const std::string &key : pipelineKeys())
    if (k.size() >= key.size() && k.compare(k.size() - key.size(), key.size(), key) == 0 && key.size() > best.size())
      best = key;
  return best.empty() ? k : best;
}

} // namespace lenetc
