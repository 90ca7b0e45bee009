#include "tune/Generator.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

namespace lenetc {

std::string CpuKnobs::describe() const {
  std::ostringstream os;
  os << "lanes=" << lanes << " accumulators=" << accumulators << " denseTileI=" << denseTileI
     << " denseTileU=" << denseTileU << " gradInRows=" << gradInRows
     << " batchTask=" << batchTask << " filtersInner=" << (filtersInner ? 1 : 0);
  return os.str();
}

bool CpuKnobs::parse(const std::string &text) {
  std::istringstream is(text);
  std::string item;
  std::map<std::string, int *> fields = {{"lanes", &lanes},           {"accumulators", &accumulators},
                                          {"denseTileI", &denseTileI}, {"denseTileU", &denseTileU},
                                          {"gradInRows", &gradInRows},
                                          {"batchTask", &batchTask}};
  int inner = filtersInner;
  fields["filtersInner"] = &inner;
  while (is >> item) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || !fields.count(item.substr(0, eq)))
      return false;
    try {
      *fields[item.substr(0, eq)] = std::stoi(item.substr(eq + 1));
    } catch (...) {
      return false;
    }
  }
  filtersInner = inner != 0;
  return lanes >= 1 && accumulators >= 1 && denseTileI >= 1 && denseTileU >= 1 && gradInRows >= 1 &&
         batchTask >= 1;
}

CpuKnobs defaultCpuKnobs(const Halide::Target &target) {
  CpuKnobs k;
  k.lanes = target.natural_vector_size(Halide::Float(32));
  // AVX2 has 16 vector registers, AVX-512 32: leave room for the operands.
  k.accumulators = k.lanes >= 16 ? 20 : 10;
  return k;
}

namespace {

const std::set<std::string> kActivations = {"sigmoid", "tanh", "relu", "scaled_tanh"};

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string str(int v) { return std::to_string(v); }

// One schedule, written stage by stage.
class CpuWriter {
public:
  CpuWriter(const LoweredPipeline &p, const CpuKnobs &k) : p_(p), k_(k), L(k.lanes) {
    // Who reads each Func, by model names.
    std::map<std::string, std::string> byHalideName;
    for (const auto &[name, f] : p.funcs)
      byHalideName[f.name()] = name;
    for (const auto &[name, f] : p.funcs)
      for (const auto &[callee, function] : Halide::Internal::find_direct_calls(f.function()))
        if (auto it = byHalideName.find(callee); it != byHalideName.end() && it->second != name)
          consumers_[it->second].insert(name);
  }

  std::vector<std::string> run() {
    // Ops first: each may schedule its helpers and its activation.
    for (const auto &[name, kind] : p_.kinds)
      if (!done_.count(name))
        scheduleOp(name, kind);
    // Helpers no rule named are computed at root (the schedule format's rule), in parallel
    // over the batch when they have one.
    for (const auto &[name, f] : p_.funcs)
      if (!done_.count(name) && !f.args().empty() && f.args().back().name() == "n" && f.num_update_definitions() == 0)
        line(name, "compute_root()" + parallelN(1)); // small: per-example sums, softmax parts
    return lines_;
  }

private:
  bool has(const std::string &name) const { return p_.funcs.count(name) > 0; }
  bool onlyActivationGradsRead(const std::string &name) const {
    auto it = consumers_.find(name);
    return it != consumers_.end() && std::all_of(it->second.begin(), it->second.end(), [&](const std::string &c) {
      auto k = p_.kinds.find(c);
      return k != p_.kinds.end() && endsWith(k->second, "_grad") && kActivations.count(k->second.substr(0, k->second.size() - 5));
    });
  }
  bool trains() const {
    return std::any_of(p_.kinds.begin(), p_.kinds.end(), [](const auto &k) { return k.second == "dense_grad_weight"; });
  }
  const std::vector<int> &extents(const std::string &name) const { return p_.extents.at(name); }
  void line(const std::string &stage, const std::string &directives) {
    lines_.push_back(stage + ": " + directives);
    std::string func = stage;
    if (size_t u = func.find(".update("); u != std::string::npos)
      func.resize(u);
    done_.insert(func);
  }
  // The tile size, at most `most`, that splits `extent` into the fewest and most even tiles:
  // 25 window offsets with 20 accumulators are 13 + 12, not 20 + a pass of 5 that reads the
  // whole input again for a quarter of the work.
  static int balancedTile(int extent, int most) {
    int tiles = (extent + most - 1) / most;
    return (extent + tiles - 1) / tiles;
  }
  // A pipeline for one example (infer_one) runs serially: a parallel loop's tasks cost
  // more than its work.
  bool oneExample() const { return p_.fixedBatch == 1; }
  // In parallel over the batch, in tasks of several examples (the last may be short: any
  // batch size, even 1): at least `batchTask`, and enough that a task does ~64K operations
  // of `work` per example. Handing a task to a thread costs about a microsecond: per-example
  // tasks of the logits' 840 multiply-adds made that stage cost as much as C3's
  // convolution (batch 256, 2 threads; the JIT timings did not show it).
  std::string parallelN(long work) const {
    if (oneExample())
      return "";
    const long taskWork = 1 << 16, most = 32;
    long k = std::max<long>(k_.batchTask, std::min(most, (taskWork + work - 1) / std::max(1L, work)));
    return ".parallel(n" + (k > 1 ? ", " + std::to_string(k) + ", GuardWithIf" : std::string()) + ")";
  }
  // Values one example has in op `name`'s result (its extents but the batch).
  long exampleSize(const std::string &name) const {
    long size = 1;
    const std::vector<int> &e = extents(name);
    for (size_t d = 0; d + 1 < e.size(); ++d)
      size *= std::max(1, e[d]);
    return size;
  }
  // The size of the reduction domain of `func`'s first update (1 without one). Func::rvars
  // gives the variables' names only; the definition's schedule has the domain.
  long reductionSize(const std::string &func) const {
    long size = 1;
    Halide::Func f = p_.funcs.at(func); // a handle
    if (f.num_update_definitions() > 0)
      for (const Halide::Internal::ReductionVariable &r : f.update(0).get_schedule().rvars())
        if (const int64_t *e = Halide::Internal::as_const_int(r.extent))
          size *= *e;
    return size;
  }
  // Operations per example of op `name`: its values times its reduction's (or, for a
  // gradient summed in `.acc`, that one's) domain.
  long exampleWork(const std::string &name) const {
    return exampleSize(name) * reductionSize(has(name + ".acc") ? name + ".acc" : name);
  }
  // A vector width for a dimension of `extent`: the target's, or the widest power of two
  // that fits (at least 4), or 0 when the dimension is too short to vectorize.
  int widthFor(int extent) const {
    int w = L;
    while (w > extent && w > 4)
      w /= 2;
    return w <= extent ? w : 0;
  }
  std::string vec(const std::string &v, int extent, const char *tail = "ShiftInwards") const {
    int w = widthFor(extent);
    if (!w)
      return "";
    return ".vectorize(" + v + ", " + str(w) + (w == extent || extent % w == 0 ? "" : ", " + std::string(tail)) + ")";
  }
  // The activation applied to `name`'s result, if its Func exists (`c1` -> `c1.sigmoid`).
  std::string activationOf(const std::string &name) const {
    for (const auto &a : kActivations)
      if (has(name + "." + a) && p_.kinds.count(name + "." + a))
        return name + "." + a;
    return "";
  }
  bool filtersInner(const std::string &conv) const {
    return k_.filtersInner && p_.kinds.count(conv) && p_.kinds.at(conv) == "conv" && extents(conv)[2] >= L;
  }

  void scheduleOp(const std::string &name, const std::string &kind) {
    if (kind == "conv")
      return conv(name);
    if (kind == "dense")
      return dense(name);
    if (kind == "conv_grad_weight")
      return convGradWeight(name);
    if (kind == "conv_grad_input")
      return convGradInput(name);
    if (kind == "dense_grad_weight" || kind == "dense_grad_input")
      return denseGrad(name, kind == "dense_grad_weight" ? "u" : "n");
    // A training step stores the flattened input of a dense layer: its weight gradient
    // reads it along i, which, inline, would gather from the (x, y, c) layout (so does a
    // one-example product, `denseOneExample`).
    if (kind == "flatten" && (trains() || oneExample()))
      return line(name, "compute_root()" + parallelN(exampleSize(name)) + vec("i", extents(name)[0], "GuardWithIf"));
    if (kind == "flatten" || kind == "flatten_grad")
      return line(name, "compute_inline()");
    if (kind == "avgpool" || kind == "subsample")
      return pool(name);
    if (kind == "maxpool_grad") {
      line(name + ".is_max", "compute_inline()");
      line(name + ".argmax", "compute_root()" + parallelN(exampleSize(name)));
    }
    // A pooling gradient read only by its activation's gradient is computed inside it: one
    // pass over the largest maps of the backward pass instead of two.
    if ((kind == "avgpool_grad" || kind == "maxpool_grad" || kind == "subsample_grad_input") &&
        onlyActivationGradsRead(name))
      return line(name, "compute_inline()");
    if (kind == "maxpool_grad")
      return elementwise(name);
    const std::vector<int> &e = extents(name);
    bool perExample = e.size() >= 2 && (e.back() < 0 || oneExample());
    if (perExample && p_.funcs.at(name).num_update_definitions() == 0)
      return elementwise(name);
    if (kind == "bias_grad" && has(name + ".sum"))
      return biasGrad(name);
    line(name, "compute_root()"); // scalars, sums
  }

  // Per-example maps: parallel over the batch, vectorized along the innermost dimension;
  // gradients of filters-innermost activations keep that layout.
  void elementwise(const std::string &name) {
    const std::vector<int> &e = extents(name);
    std::string inner = e.size() == 4 ? "x" : "i";
    std::string base = name;
    if (endsWith(base, ".grad_in"))
      base.resize(base.size() - 8);
    if (e.size() == 4 && storedFiltersInner(base)) {
      line(name, "compute_root().reorder_storage(c, x, y, n).reorder(c, x, y, n)" + parallelN(exampleSize(name)) +
                     vec("c", e[2], "GuardWithIf"));
      return;
    }
    line(name, "compute_root()" + parallelN(exampleSize(name)) +
                   vec(inner, e[0], e.size() == 4 ? "ShiftInwards" : "GuardWithIf"));
  }

  // An activation of a conv stored filters innermost (`c3.sigmoid`).
  bool storedFiltersInner(const std::string &func) const {
    std::string conv = func.substr(0, func.find('.'));
    return func != conv && kActivations.count(func.substr(conv.size() + 1)) && filtersInner(conv);
  }

  // Average pooling (and subsampling): the window's sum per output vector, vectorized as
  // the output is, its update too. After an activation stored filters innermost, along the
  // channels (whole vectors, contiguous loads); otherwise along x.
  void pool(const std::string &name) {
    const std::vector<int> &e = extents(name); // x, y, c, n
    std::string window = name + ".window_sum";
    bool channelsInner = false;
    for (const auto &[producer, readers] : consumers_)
      if (readers.count(window) && storedFiltersInner(producer))
        channelsInner = true;
    if (!channelsInner) {
      line(window, "compute_at(" + name + ", x)" + vec("x", e[0]));
      line(window + ".update(0)", "reorder(x, win.x, win.y)" + vec("x", e[0], "GuardWithIf"));
      return elementwise(name);
    }
    line(window, "compute_at(" + name + ", x)" + vec("c", e[2], "GuardWithIf"));
    line(window + ".update(0)", "reorder(c, win.x, win.y)" + vec("c", e[2], "GuardWithIf"));
    line(name, "compute_root().reorder(c, x, y, n)" + parallelN(exampleSize(name)) + vec("c", e[2], "GuardWithIf"));
  }

  // Forward convolution, computed a row of its activation at a time into accumulators that
  // stay in registers: vectorized over filters when there are enough of them, else along x.
  void conv(const std::string &name) {
    const std::vector<int> &e = extents(name); // x, y, filters, n
    int W = e[0], F = e[2];
    std::string act = activationOf(name);
    if (has(name + ".weights"))
      line(name + ".weights", filtersInner(name) ? "compute_root().reorder_storage(co, kx, ky, ci)" : "compute_root()");
    if (act.empty()) {
      line(name, "compute_root()" + parallelN(exampleWork(name)) + vec("x", W));
      line(name + ".update(0)", "reorder(x, r.x, r.y, r.z, y, c, n)" + parallelN(exampleWork(name)) + vec("x", W, "GuardWithIf"));
      if (has(name + ".padded"))
        line(name + ".padded", "compute_root()" + parallelN(exampleWork(name)));
      return;
    }
    if (has(name + ".padded"))
      line(name + ".padded", "compute_at(" + act + ", n)");
    if (filtersInner(name)) {
      int vectors = (F + L - 1) / L;
      int xt = std::max(1, std::min(W, k_.accumulators / vectors));
      std::string tail = F % L ? ", GuardWithIf" : "";
      line(act, "compute_root().reorder_storage(c, x, y, n).reorder(c, x, y, n)" + parallelN(exampleWork(name)) +
                    ".vectorize(c, " + str(L) + tail + ")");
      line(name, "compute_at(" + act + ", y).reorder_storage(c, x, y, n).vectorize(c, " + str(L) + tail + ")");
      line(name + ".update(0)", "split(x, xo, xi, " + str(xt) + ", GuardWithIf).split(c, co, ci, " + str(L) +
                                    ", GuardWithIf).reorder(ci, co, xi, r.x, r.y, r.z, xo, y, n).vectorize(ci)" +
                                    (vectors > 1 ? ".unroll(co)" : "") + ".unroll(xi)");
      return;
    }
    int w = widthFor(W);
    if (!w) {
      line(act, "compute_root()" + parallelN(exampleWork(name)));
      line(name, "compute_at(" + act + ", n)");
      return;
    }
    int vectors = (W + w - 1) / w;
    // A row's vectors times a tile of filters accumulate in registers, the window loops
    // inside the tile: every filter (C1 on AVX-512: 2 vectors x 6), else as many as the
    // accumulators allow (C1 on AVX2: 4 vectors x 2 filters; with the filters inside the
    // window loops, 24 accumulators went through memory and C1 took 2.2x as long, EPYC).
    bool unrollFilters = vectors * F <= k_.accumulators;
    int filterTile = unrollFilters ? F : balancedTile(F, std::max(1, k_.accumulators / vectors));
    // Rounding the row up to whole vectors reads past the input's edge: only a padded
    // input (a Func defined everywhere) allows it; otherwise the last vector is masked.
    std::string tail = W % w == 0 ? "" : has(name + ".padded") ? ", RoundUp" : ", GuardWithIf";
    // The rounded row is declared (bound): Halide 14 then computes `.padded` as far as the
    // row's last vector reads. Without it, it allocates that far but fills only what the
    // unrounded row needs, and the extra lanes read uninitialised memory (denormal garbage
    // made C1 25x slower in one-example inference).
    std::string bound = tail == ", RoundUp" ? ".bound(x, 0, " + str(vectors * w) + ")" : "";
    line(act, "compute_root().reorder(x, c, y, n)" + parallelN(exampleWork(name)) + vec("x", W));
    line(name, "compute_at(" + act + ", y)" + bound + ".vectorize(x, " + str(w) + tail + ")");
    std::string split = "split(x, xo, xi, " + str(w) + tail + ")";
    if (unrollFilters)
      line(name + ".update(0)", split + ".reorder(xi, xo, c, r.x, r.y, r.z, y, n).vectorize(xi).unroll(xo).unroll(c)");
    else if (filterTile == 1)
      line(name + ".update(0)", split + ".reorder(xi, xo, r.x, r.y, r.z, c, y, n).vectorize(xi).unroll(xo)");
    else
      line(name + ".update(0)", split + ".split(c, co, ci, " + str(filterTile) + (F % filterTile ? ", GuardWithIf" : "") +
                                    ").reorder(xi, xo, ci, r.x, r.y, r.z, co, y, n).vectorize(xi).unroll(xo).unroll(ci)");
  }

  // Forward dense layer: per example, vectorized over its units, the weight stored
  // transposed (units innermost) so that each input's column is one load per vector.
  void dense(const std::string &name) {
    const std::vector<int> &e = extents(name); // units, n
    int U = e[0];
    std::string act = activationOf(name);
    if (oneExample())
      return denseOneExample(name, act);
    int w = widthFor(U);
    if (has(name + ".weights"))
      line(name + ".weights", "compute_root().reorder_storage(ko, ki)");
    bool unroll = w && (U + w - 1) / w <= k_.accumulators;
    std::string product = w ? "split(i, io, ii, " + str(w) + (U % w ? ", GuardWithIf" : "") +
                                  ").reorder(ii, io, r, n).vectorize(ii)" + (unroll ? ".unroll(io)" : "")
                            : "reorder(i, r, n)";
    if (act.empty()) {
      line(name, "compute_root()" + parallelN(exampleWork(name)));
      line(name + ".update(0)", product + parallelN(exampleWork(name)));
      return;
    }
    // Tiles of units x examples, like the gradients' (`denseGrad`): each weight vector
    // loaded serves `tn` examples, where one example a time streams the whole weight
    // through L2 per example.
    int ti = std::min(k_.denseTileI, U / L), tn = k_.denseTileU;
    while (ti * tn > k_.accumulators && tn > 1)
      --tn;
    if (ti >= 1 && tn > 1) {
      line(act, "compute_root().split(i, io, ii, " + str(ti * L) + ", ShiftInwards).split(n, no, ni, " + str(tn) +
                    ", GuardWithIf).reorder(ii, ni, io, no).vectorize(ii, " + str(L) + ").parallel(no)");
      // The tile is small but, with a guarded last tile, not of constant size: Halide would
      // allocate it on the heap per tile (a malloc and free per 4 examples x 32 units).
      line(name, "compute_at(" + act + ", io).store_in(Stack).vectorize(i, " + str(L) + ").unroll(i).unroll(n)");
      line(name + ".update(0)", "reorder(i, n, r).vectorize(i, " + str(L) + ").unroll(i).unroll(n)");
      return;
    }
    line(act, "compute_root()" + parallelN(exampleWork(name)) + vec("i", U, "GuardWithIf"));
    line(name, "compute_at(" + act + ", n)");
    line(name + ".update(0)", product);
  }

  // Dense layer on one example, a matrix-vector product: the weight is read as stored (a
  // row of K inputs per unit), in vectors along K whose lanes are summed apart (rfactor),
  // a tile of units at a time in registers; then each unit's lanes are added up. The batch
  // schedule's transposed copy of the weight would cost more than the product itself.
  void denseOneExample(const std::string &name, const std::string &act) {
    int U = extents(name)[0];
    long K = reductionSize(name); // the layer's inputs
    int lanes = 0;
    for (int w = L; w >= 4 && !lanes; w /= 2)
      if (K % w == 0)
        lanes = w;
    int units = 1;
    for (int t = std::min(8, k_.accumulators); t > 1 && units == 1; --t)
      if (U % t == 0)
        units = t;
    if (has(name + ".weights"))
      line(name + ".weights", "compute_inline()");
    if (!act.empty())
      line(act, "compute_root()" + vec("i", U, "GuardWithIf"));
    line(name, "compute_root()");
    if (!lanes) {
      line(name + ".update(0)", "reorder(i, r, n)");
      return;
    }
    line(name + ".update(0)", "split(r, ro, ri, " + str(lanes) + ").rfactor(ri, lane, " + name + ".lanes).split(i, io, ii, " +
                                  str(units) + ").reorder(ri, ii, io, n)");
    line(name + ".lanes", "compute_at(" + name + ", io).reorder_storage(lane, i, n).vectorize(lane, " + str(lanes) +
                              ").unroll(i)");
    line(name + ".lanes.update(0)", "reorder(lane, i, ro, n).vectorize(lane).unroll(i)");
  }

  // Dense gradients (i, u) or (i, n): tiles of the result, each with its accumulator tile
  // (`.acc`) in registers while the reduction runs.
  void denseGrad(const std::string &name, const std::string &rows) {
    const std::vector<int> &e = extents(name);
    int I = e[0];
    int ti = std::min(k_.denseTileI, I / L), tu = k_.denseTileU;
    while (ti * tu > k_.accumulators && tu > 1)
      --tu;
    if (ti < 1 || !has(name + ".acc")) {
      line(name, "compute_root().parallel(" + rows + ")" + vec("i", I, "GuardWithIf"));
      if (has(name + ".acc")) {
        line(name + ".acc", "compute_at(" + name + ", " + rows + ")" + vec("i", I, "GuardWithIf"));
        line(name + ".acc.update(0)", "reorder(i, r, " + rows + ")" + vec("i", I, "GuardWithIf"));
      }
      return;
    }
    std::string rowTail = e[1] < 0 || e[1] % tu ? "GuardWithIf" : "RoundUp";
    line(name, "compute_root().split(i, io, ii, " + str(ti * L) + ", ShiftInwards).split(" + rows + ", ro, ri, " +
                   str(tu) + ", " + rowTail + ").reorder(ii, ri, io, ro).vectorize(ii, " + str(L) +
                   ").parallel(ro)");
    line(name + ".acc", "compute_at(" + name + ", io).store_in(Stack).vectorize(i, " + str(L) + ").unroll(i).unroll(" + rows + ")");
    line(name + ".acc.update(0)", "reorder(i, " + rows + ", r).vectorize(i, " + str(L) + ").unroll(i).unroll(" + rows + ")");
  }

  // A bias gradient, summed in double over positions and examples: a partial sum per
  // example (rfactor), in parallel, its channels innermost so that their sums run side by
  // side (vectors of them when the map is stored channels innermost), then the examples'
  // partial sums in order. A dense bias sums over examples only: units innermost.
  void biasGrad(const std::string &name) {
    const std::vector<int> &e = extents(name); // c
    int C = e[0];
    int dl = L / 2; // doubles per vector
    Halide::Func sum = p_.funcs.at(name + ".sum"); // a handle
    line(name, "compute_root()");
    if (sum.update(0).get_schedule().rvars().size() == 1) {
      line(name + ".sum", "compute_root()");
      line(name + ".sum.update(0)", "reorder(c, r)" + (C >= dl ? ".vectorize(c, " + str(dl) + ", GuardWithIf)" : ""));
      return;
    }
    std::string conv = name.substr(0, name.find('.'));
    bool channelsInner = filtersInner(conv);
    line(name + ".sum", "compute_root()");
    line(name + ".sum.update(0)", "rfactor(r.z, n, " + name + ".per_example)");
    line(name + ".per_example", "compute_root()" + parallelN(exampleSize(conv)));
    line(name + ".per_example.update(0)",
         "reorder(c, r.x, r.y, n)" + parallelN(exampleSize(conv)) +
             (channelsInner && C >= dl ? ".vectorize(c, " + str(dl) + ", GuardWithIf)" : C <= 16 ? ".unroll(c)" : ""));
  }

  // A conv's weight gradient dW[f][j] = sum over positions and examples of dout[f] patch[j].
  void convGradWeight(const std::string &name) {
    std::string conv = name.substr(0, name.find('.'));
    std::string dw = has(name + ".dense") ? name + ".dense" : name; // (kx, ky, c, f)
    const std::vector<int> &ce = extents(conv); // the forward conv: x, y, filters, n
    int W = ce[0], F = ce[2];
    if (has(name + ".patches"))
      line(name + ".patches", "compute_inline()");
    if (has(name + ".padded"))
      line(name + ".padded", "compute_root()" + parallelN(exampleSize(conv)));
    if (dw != name)
      line(name, "compute_root()");
    if (filtersInner(conv)) {
      // Vectorized over filters (dout stored filters innermost), per input channel: the
      // channel's k*k window offsets times the filter vectors accumulate in registers.
      int vectors = (F + L - 1) / L;
      const int k = extents(name)[0];
      int jt = balancedTile(k * k, std::max(1, k_.accumulators / vectors));
      std::string tail = F % L ? ", GuardWithIf" : "";
      line(dw, "compute_root().reorder(kx, ky, f, c).parallel(c)");
      line(name + ".flat", "compute_at(" + dw + ", c).reorder_storage(f, j).vectorize(f, " + str(L) + tail + ")");
      line(name + ".flat.update(0)", "split(j, jo, ji, " + str(jt) + ", GuardWithIf).split(f, fo, fi, " + str(L) +
                                         ", GuardWithIf).reorder(fi, fo, ji, r.x, r.y, r.z, jo).vectorize(fi)" +
                                         (vectors > 1 ? ".unroll(fo)" : "") + ".unroll(ji)");
      return;
    }
    // Few filters: a GEMM of few rows (filters) and columns (window offsets) over a long sum
    // (positions x examples). Examples are summed in parallel chunks (rfactor); per example,
    // tiles of filters x window offsets accumulate in registers, the sum along x split into
    // vector lanes (rfactor again), while one example's input and gradient stay in L1 for
    // every tile. (Per filter over the whole batch, each tile streamed the batch from L3:
    // C1's weight gradient took 1.4 ms of a 2-thread step, 0.85 ms this way, EPYC.)
    int lanes = 0;
    for (int d = std::min(L, W); d >= 4; --d)
      if (W % d == 0) {
        lanes = d;
        break;
      }
    if (!lanes) {
      line(dw, "compute_root().parallel(f)");
      line(name + ".flat", "compute_at(" + dw + ", f)");
      line(name + ".flat.update(0)", "reorder(j, f, r.x, r.y, r.z)");
      return;
    }
    // A lane count that is not a power of two (28 = 2 x 14) makes LLVM assemble every vector
    // from 8 + 4 + 2 pieces. With a padded input (defined everywhere) the lanes are rounded
    // up to a whole vector instead: the extra lanes read past the row and are never summed.
    // Without one, a power of two that divides the row is next best.
    std::string laneVec = str(lanes);
    if (lanes & (lanes - 1)) {
      int pow2 = 0;
      for (int d = L; d >= 8 && !pow2; d /= 2)
        if (W % d == 0)
          pow2 = d;
      if (has(name + ".padded") && 2 * lanes > L)
        laneVec = str(L) + ", RoundUp";
      else if (pow2)
        lanes = pow2, laneVec = str(pow2);
    }
    // The register tile: filters (a divisor of F) x window offsets, as many as the
    // accumulators allow (AVX2: 2 x 5 of C1's 6 x 25).
    const std::vector<int> &we = extents(name); // kx, ky, c, f (a table conv's: kx, ky, j)
    int J = dw == name ? we[0] * we[1] * we[2] : k_.accumulators;
    int ft = 1, jt = balancedTile(J, std::max(1, k_.accumulators));
    for (int t = 2; t <= F && t <= k_.accumulators; ++t)
      if (F % t == 0 && t * balancedTile(J, k_.accumulators / t) > ft * jt)
        ft = t, jt = balancedTile(J, k_.accumulators / t);
    const int examplesPerTask = 8;
    std::string partial = name + ".partial", lanesF = name + ".lanes";
    line(dw, "compute_root()");
    line(name + ".flat", "compute_root()");
    line(name + ".flat.update(0)", "split(r.z, rzo, rzi, " + str(examplesPerTask) + ", GuardWithIf).rfactor(rzo, chunk, " +
                                       partial + ")");
    // rfactor puts `chunk` where the chunks' variable was, inside j and f: moved outermost.
    line(partial, "compute_root().parallel(chunk)");
    line(partial + ".update(0)", "split(r.x, rxo, rxi, " + str(lanes) + ").rfactor(rxi, lane, " + lanesF +
                                     ").reorder(rxi, j, f, chunk).parallel(chunk)");
    line(lanesF, "compute_at(" + partial + ", chunk).reorder_storage(lane, j, f, chunk).vectorize(lane, " + laneVec + ")");
    line(lanesF + ".update(0)", "split(j, jo, ji, " + str(jt) + ", GuardWithIf).split(f, fo, fi, " + str(ft) +
                                    ").reorder(lane, ji, fi, rxo, r.y, jo, fo, rzi, chunk).vectorize(lane, " + laneVec +
                                    ").unroll(ji).unroll(fi)");
  }

  // A conv's input gradient, the transposed conv: per example, R rows at a time, all the
  // input channels and the row's vectors along x accumulate in registers while the sum runs
  // over filters and window offsets; dout, zero-padded, is stored per example (it fits in L1).
  void convGradInput(const std::string &name) {
    const std::vector<int> &e = extents(name); // x, y, c, n
    int W = e[0], H = e[1], C = e[2];
    line(name + ".weights", "compute_root()");
    line(name + ".padded", "compute_at(" + name + ", n)");
    // A row rounded up to whole vectors: reads of `.padded` past it are zeros, and the few
    // extra lanes' results are discarded.
    int w = W >= (3 * L) / 4 ? L : std::max(1, widthFor(W));
    int vectors = (W + w - 1) / w;
    int rows = std::max(1, std::min({k_.gradInRows, H, k_.accumulators / std::max(1, vectors * C)}));
    bool unrollChannels = vectors * C * rows <= k_.accumulators;
    std::string xTail = W % w ? ", RoundUp" : "";
    std::string xv = w > 1 ? ".vectorize(x, " + str(w) + xTail + ")" : "";
    std::string rowTail = H % rows ? "GuardWithIf" : "RoundUp";
    line(name, "compute_root().split(y, yo, yi, " + str(rows) + ", " + rowTail + ").reorder(x, c, yi, yo, n)" +
                   parallelN(exampleWork(name)) + xv);
    line(name + ".acc", "compute_at(" + name + ", yo)" + xv);
    std::string inner = w > 1 ? "split(x, xo, xi, " + str(w) + xTail + ").reorder(xi, xo, c, y, r.x, r.y, r.z, n).vectorize(xi).unroll(xo)"
                              : "reorder(x, c, y, r.x, r.y, r.z, n)";
    line(name + ".acc.update(0)", inner + (unrollChannels ? ".unroll(c)" : "") + ".unroll(y)");
  }

  const LoweredPipeline &p_;
  const CpuKnobs &k_;
  const int L;
  std::vector<std::string> lines_;
  std::set<std::string> done_;
  std::map<std::string, std::set<std::string>> consumers_;
};

} // namespace

std::vector<std::string> generateCpuSchedule(const LoweredPipeline &p, const CpuKnobs &k) {
  return CpuWriter(p, k).run();
}

std::vector<std::string> generateGpuSchedule(const LoweredPipeline &p, const GpuKnobs &k) {
  // Every Func a kernel of its own: its two innermost dimensions tiled over threads and
  // blocks, the rest fused into a third block dimension; reductions run inside the kernels.
  // Double-precision sums, scalars and what reads them stay on the host (OpenCL devices
  // need not have doubles); helpers cheap to recompute are inlined into their kernels.
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto &[name, f] : p.funcs) {
    if (!seen.insert(f.name()).second)
      continue;
    if (endsWith(name, ".patches") || endsWith(name, ".is_max") || endsWith(name, ".weights") ||
        endsWith(name, ".padded") || endsWith(name, ".flatten")) {
      out.push_back(name + ": compute_inline()");
      continue;
    }
    std::vector<Halide::Var> args = f.args();
    bool host = args.empty() || f.output_types()[0] == Halide::Float(64) || p.funcs.count(name + ".sum");
    if (host) {
      out.push_back(name + ": compute_root()");
      continue;
    }
    auto stage = [&](const std::string &s) {
      if (args.size() == 1)
        return s + ": gpu_tile(" + args[0].name() + ", bx, tx, " + str(k.block1D) + ", GuardWithIf)";
      std::string d = "gpu_tile(" + args[0].name() + ", " + args[1].name() + ", bx, by, tx, ty, " + str(k.blockX) +
                      ", " + str(k.blockY) + ", GuardWithIf)";
      if (args.size() >= 3) {
        std::string fused = args[2].name();
        for (size_t i = 3; i < args.size(); ++i) {
          d += ".fuse(" + fused + ", " + args[i].name() + ", f" + str(static_cast<int>(i)) + ")";
          fused = "f" + str(static_cast<int>(i));
        }
        d += ".gpu_blocks(" + fused + ")";
      }
      return s + ": " + d;
    };
    std::string first = stage(name);
    out.push_back(name + ": compute_root()." + first.substr(name.size() + 2));
    for (int u = 0; u < f.num_update_definitions(); ++u)
      out.push_back(stage(name + ".update(" + str(u) + ")"));
  }
  return out;
}

} // namespace lenetc
