// Schedule files: the parser and applier report bad schedules at their line and column;
// every schedule the generator can write, whatever its knobs, computes what the model's
// algorithm defines (the same numbers as a plain schedule, on a batch with ragged tails).
#include "halide/Emit.h"
#include "halide/Schedule.h"
#include "tools/Compile.h"
#include "tune/Generator.h"
#include "tune/Measure.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

using namespace lenetc;
namespace H = Halide;

namespace {

const char *kHeader = "model = lenet1\ntarget = x86-avx2\nmachine = test\ndate = 2026-11-22\nmeasured = none\n";

// A model of models/, or of tests/unit/models/ (`test/<name>`).
std::string modelPath(const std::string &model) {
  if (model.rfind("test/", 0) == 0)
    return std::string(LENETC_TEST_MODELS_DIR) + "/" + model.substr(5) + ".nn";
  return std::string(LENETC_MODELS_DIR) + "/" + model + ".nn";
}

// The model's pipelines, lowered and not scheduled. The Compilation owns the module.
std::vector<LoweredPipeline> lowerUnscheduled(Compilation &c, const std::string &model) {
  EXPECT_TRUE(c.compileFile(modelPath(model), Stage::MLIRGrad));
  ScheduleOptions none;
  none.unscheduled = true;
  std::vector<LoweredPipeline> out;
  EXPECT_TRUE(lowerModule(c.module(), H::get_host_target(), none, out));
  return out;
}

LoweredPipeline pipelineOf(Compilation &c, const std::string &model, const std::string &key) {
  for (auto &p : lowerUnscheduled(c, model))
    if (pipelineKey(p.name) == key)
      return p;
  ADD_FAILURE() << "no pipeline " << key;
  return {};
}

// Parses and applies `body` (after the header) to `model`'s train step; returns the
// diagnostics' text ("" when it applied).
std::string applyText(const std::string &model, const std::string &body) {
  Compilation c(nullptr);
  LoweredPipeline p = pipelineOf(c, model, "train_step");
  std::ostringstream messages;
  bool ok = applyScheduleText("bad.sched", kHeader + body, "train_step", p, &messages);
  std::string text = messages.str();
  EXPECT_EQ(ok, text.find("error:") == std::string::npos) << text;
  return text;
}

TEST(ScheduleFile, ParsesHeaderSectionsAndChains) {
  SourceFile f("s.sched", std::string(kHeader) +
                              "# comment\n[train_step]\nc1: compute_root().parallel(n)  # trailing\n"
                              "c1.update(0): reorder(x, r.x, y).vectorize(x, 8, GuardWithIf)\n[infer]\n");
  DiagnosticEngine diag(f, nullptr);
  ScheduleFile s;
  ASSERT_TRUE(parseSchedule(f, diag, s));
  EXPECT_EQ(s.header.at("machine"), "test");
  ASSERT_EQ(s.pipelines.at("train_step").size(), 2u);
  const StageSchedule &u = s.pipelines.at("train_step")[1];
  EXPECT_EQ(u.func, "c1");
  EXPECT_EQ(u.update, 0);
  ASSERT_EQ(u.calls.size(), 2u);
  EXPECT_EQ(u.calls[1].name, "vectorize");
  EXPECT_EQ(u.calls[1].args[2].text, "GuardWithIf");
  EXPECT_TRUE(s.pipelines.at("infer").empty());
}

// A stage printed by formatStage parses back to the same stage: the generators' stages and
// the files they are written as say the same thing.
TEST(ScheduleFile, FormattedStagesParseBack) {
  Compilation c(nullptr);
  LoweredPipeline p = pipelineOf(c, "lenet5", "train_step");
  std::vector<StageSchedule> stages = generateCpuSchedule(p, defaultCpuKnobs(H::get_host_target()));
  ASSERT_FALSE(stages.empty());
  std::string text = formatSchedule({{"model", "m"}, {"target", "t"}, {"machine", "x"}, {"date", "d"},
                                     {"measured", "-"}},
                                    {{"train_step", stages}});
  SourceFile f("gen.sched", text);
  DiagnosticEngine diag(f, nullptr);
  ScheduleFile parsed;
  ASSERT_TRUE(parseSchedule(f, diag, parsed)) << text;
  const auto &back = parsed.pipelines.at("train_step");
  ASSERT_EQ(back.size(), stages.size());
  for (size_t i = 0; i < stages.size(); ++i) {
    EXPECT_EQ(formatStage(back[i]), formatStage(stages[i]));
    EXPECT_EQ(back[i].func, stages[i].func);
    EXPECT_EQ(back[i].update, stages[i].update);
    ASSERT_EQ(back[i].calls.size(), stages[i].calls.size());
    for (size_t k = 0; k < stages[i].calls.size(); ++k) {
      EXPECT_EQ(back[i].calls[k].name, stages[i].calls[k].name);
      ASSERT_EQ(back[i].calls[k].args.size(), stages[i].calls[k].args.size());
      for (size_t a = 0; a < stages[i].calls[k].args.size(); ++a) {
        EXPECT_EQ(back[i].calls[k].args[a].text, stages[i].calls[k].args[a].text);
        EXPECT_EQ(back[i].calls[k].args[a].isNumber, stages[i].calls[k].args[a].isNumber);
      }
    }
  }
}

// Stages made in memory are reported, when Halide or the applier refuses one, at the
// directive in their printed text.
TEST(ScheduleFile, GeneratedStagesAreLocatedInTheirText) {
  Compilation c(nullptr);
  LoweredPipeline p = pipelineOf(c, "lenet1", "train_step");
  StageSchedule root{"c1", -1, {}, {ScheduleCall{"compute_root", {}, {}}}};
  StageSchedule bad{"c3", -1, {}, {ScheduleCall{"compute_root", {}, {}},
                                   ScheduleCall{"vectorize", {ScheduleArg{"q", {}, false}, ScheduleArg{"8", {}, true}}, {}}}};
  std::ostringstream messages;
  EXPECT_FALSE(applyStages("<generated>", {root, bad}, p, &messages));
  EXPECT_NE(messages.str().find("<generated>:2:20: error: unknown variable 'q'"), std::string::npos) << messages.str();
  EXPECT_NE(messages.str().find("c3: compute_root().vectorize(q, 8)"), std::string::npos) << messages.str();
}

TEST(ScheduleFile, SyntaxErrorsAreLocated) {
  auto errorOf = [](const std::string &text) {
    SourceFile f("s.sched", text);
    std::ostringstream os;
    DiagnosticEngine diag(f, &os);
    ScheduleFile s;
    EXPECT_FALSE(parseSchedule(f, diag, s)) << text;
    return os.str();
  };
  {
    std::string e = errorOf(std::string(kHeader) + "[train_step]\nc1 compute_root()\n");
    EXPECT_NE(e.find("s.sched:7:4: error: expected ':' after the stage 'c1'"), std::string::npos) << e;
    EXPECT_NE(e.find("   ^"), std::string::npos) << e; // the caret under the column
  }
  EXPECT_NE(errorOf(std::string(kHeader) + "[train_step]\nc1: compute_root(.parallel(n)\n")
                .find("7:27: error: expected ',' or ')' in the arguments of 'compute_root'"),
            std::string::npos);
  EXPECT_NE(errorOf(std::string(kHeader) + "[backward]\n").find("unknown pipeline 'backward'"), std::string::npos);
  EXPECT_NE(errorOf("model = lenet1\n[train_step]\n").find("does not say its 'target'"), std::string::npos);
  EXPECT_NE(errorOf(std::string(kHeader) + "modle = x\n").find("did you mean 'model'?"), std::string::npos);
  EXPECT_NE(errorOf(std::string(kHeader) + "c1: compute_root()\n").find("must follow a pipeline section"),
            std::string::npos);
}

TEST(ScheduleFile, ApplyErrorsNameWhatIsWrong) {
  EXPECT_NE(applyText("lenet1", "[train_step]\nc9: compute_root()\n").find("7:1: error: unknown Func 'c9'"),
            std::string::npos);
  EXPECT_NE(applyText("lenet1", "[train_step]\nc1: vectorise(x, 8)\n").find("did you mean 'vectorize'?"),
            std::string::npos);
  std::string v = applyText("lenet1", "[train_step]\nc1.update(0): reorder(x, q, y)\n");
  EXPECT_NE(v.find("7:25: error: unknown variable 'q' in this stage (it has: c, n, r.x, r.y, r.z, x, y)"),
            std::string::npos)
      << v;
  EXPECT_NE(applyText("lenet1", "[train_step]\nc1.update(3): parallel(n)\n").find("there is no update(3)"),
            std::string::npos);
  EXPECT_NE(applyText("lenet1", "[train_step]\nc1.update(0): compute_root()\n").find("schedules the whole Func"),
            std::string::npos);
  // Halide's own refusal, at the directive it refuses.
  std::string h = applyText("lenet1", "[train_step]\nc1.update(0): split(x, xo, xi, 8, ShiftInwards)\n");
  EXPECT_NE(h.find("7:14: error: Halide rejects 'split' here"), std::string::npos) << h;
  // A good schedule applies without a word.
  EXPECT_EQ(applyText("lenet1", "[train_step]\nc1: compute_root().parallel(n).vectorize(x, 8)\n"), "");
}

TEST(ScheduleFile, HeaderMustMatchTheModel) {
  SourceFile f("s.sched", std::string(kHeader) + "[infer]\n");
  std::ostringstream os;
  DiagnosticEngine diag(f, &os);
  ScheduleFile s;
  ASSERT_TRUE(parseSchedule(f, diag, s));
  EXPECT_FALSE(checkScheduleHeader(s, "lenet5", "x86-avx2", diag));
  EXPECT_NE(os.str().find("this schedule is for the model 'lenet1', not 'lenet5'"), std::string::npos);
  EXPECT_TRUE(checkScheduleHeader(s, "lenet1", "x86-avx512", diag));
  EXPECT_NE(os.str().find("warning: this schedule was tuned for 'x86-avx2'"), std::string::npos);
}

TEST(ScheduleFile, TargetClasses) {
  EXPECT_EQ(scheduleTargetClass(H::Target("x86-64-linux-avx512-avx2-avx-sse41-fma-f16c"), false), "x86-avx512");
  EXPECT_EQ(scheduleTargetClass(H::Target("x86-64-linux-avx2-avx-sse41-fma"), false), "x86-avx2");
  EXPECT_EQ(scheduleTargetClass(H::Target("x86-64-linux-sse41"), false), "x86-sse41");
  EXPECT_EQ(scheduleTargetClass(H::Target("x86-64-linux-cuda"), true), "cuda");
  EXPECT_EQ(scheduleTargetClass(H::Target("x86-64-linux-opencl"), true), "opencl");
  EXPECT_EQ(pipelineKey("lenet5_classic_train_step_gpu"), "train_step");
  EXPECT_EQ(pipelineKey("lenet1_infer"), "infer");
}

// Runs `p` on fixed random inputs at `batch` and returns its outputs.
std::vector<H::Buffer<float>> run(LoweredPipeline &p, int batch) {
  PipelineBuffers buffers = bindTrainingScaleInputs(p, batch, 7);
  std::vector<H::Buffer<>> &outs = buffers.outputs;
  H::Realization r(outs);
  p.pipeline().realize(r, p.target);
  std::vector<H::Buffer<float>> result;
  for (auto &b : outs) {
    if (b.type() == H::Int(32)) { // the correct count, a scalar
      H::Buffer<float> f = H::Buffer<float>::make_scalar();
      f() = static_cast<float>(b.as<int32_t>()());
      result.push_back(f);
    } else {
      result.push_back(b.as<float>());
    }
  }
  return result;
}

void expectSameOutputs(const std::string &model, const CpuKnobs &k) {
  const int batch = 7; // no tile divides it (infer_one takes one example whatever this says)
  Compilation c1(nullptr), c2(nullptr);
  for (const char *key : {"train_step", "infer", "infer_one"}) {
    LoweredPipeline plain = pipelineOf(c1, model, key), tuned = pipelineOf(c2, model, key);
    std::string text = formatSchedule({{"model", model}, {"target", "x"}, {"machine", "m"}, {"date", "d"},
                                       {"measured", "m"}},
                                      {{key, generateCpuSchedule(tuned, k)}});
    std::ostringstream messages;
    ASSERT_TRUE(applyScheduleText("gen.sched", text, key, tuned, &messages)) << messages.str() << text;
    // Every Func at root, serial: the plain reading of the algorithm.
    ASSERT_TRUE(applyScheduleText("plain.sched", formatSchedule({{"model", model}, {"target", "x"}, {"machine", "m"},
                                                                  {"date", "d"}, {"measured", "m"}},
                                                                 {{key, {}}}),
                                  key, plain, &messages));
    auto a = run(plain, batch), b = run(tuned, batch);
    ASSERT_EQ(a.size(), b.size());
    // An output's error is measured against the largest value of its layer's outputs (`c3`
    // for c3.grad_w, c3.grad_b, c3.batchnorm.grad_shift; the running statistics apart): the
    // bias gradient of a layer a batchnorm follows is zero but for rounding, which is of the
    // size of its weights'.
    // Outputs are dense: compare them in memory order (Halide 14's for_each_value has
    // undefined behaviour on dense buffers, see tune/Measure.cpp).
    auto layerOf = [&](size_t o) {
      const std::string &name = plain.outputNames[o];
      return name.find(".running_") != std::string::npos ? name : name.substr(0, name.find('.'));
    };
    std::map<std::string, float> layerScale;
    for (size_t o = 0; o < a.size(); ++o)
      for (size_t i = 0, n = a[o].number_of_elements(); i < n; ++i)
        layerScale[layerOf(o)] = std::max({1e-6f, layerScale[layerOf(o)], std::abs(a[o].data()[i])});
    for (size_t o = 0; o < a.size(); ++o) {
      const float *x = a[o].data(), *y = b[o].data();
      double worst = 0;
      for (size_t i = 0, n = a[o].number_of_elements(); i < n; ++i)
        worst = std::max(worst, static_cast<double>(std::abs(x[i] - y[i])));
      EXPECT_LE(worst, 1e-4 * layerScale[layerOf(o)])
          << model << " " << key << " output " << plain.outputNames[o] << " with " << k.describe();
    }
  }
}

// Three knob settings per model, each JIT-compiled: minutes per model under the sanitizers,
// so one test per model lets ctest run them side by side.
void expectEveryKnobSettingComputesTheSameNumbers(const char *model) {
  H::Target host = H::get_host_target();
  std::vector<CpuKnobs> settings;
  CpuKnobs base = defaultCpuKnobs(host);
  settings.push_back(base);
  CpuKnobs narrow = base;
  narrow.lanes = 8;
  narrow.accumulators = 6;
  narrow.denseTileI = 3;
  narrow.denseTileU = 3;
  narrow.gradInRows = 3; // does not divide 14 or 10: the guarded last tile
  narrow.batchTask = 4;
  settings.push_back(narrow);
  CpuKnobs noLayout = base;
  noLayout.filtersInner = false;
  noLayout.lanes = 4;
  noLayout.denseTileU = 8;
  settings.push_back(noLayout);
  for (const auto &k : settings)
    expectSameOutputs(model, k);
}

TEST(ScheduleGenerator, EveryKnobSettingComputesTheSameNumbersLenet1) { expectEveryKnobSettingComputesTheSameNumbers("lenet1"); }
TEST(ScheduleGenerator, EveryKnobSettingComputesTheSameNumbersLenet5) { expectEveryKnobSettingComputesTheSameNumbers("lenet5"); }
TEST(ScheduleGenerator, EveryKnobSettingComputesTheSameNumbersLenet5Modern) {
  expectEveryKnobSettingComputesTheSameNumbers("lenet5_modern");
}
TEST(ScheduleGenerator, EveryKnobSettingComputesTheSameNumbersLenet5Classic) {
  expectEveryKnobSettingComputesTheSameNumbers("lenet5_classic");
}

TEST(ScheduleGenerator, EveryKnobSettingComputesTheSameNumbersLenet5Bn) {
  expectEveryKnobSettingComputesTheSameNumbers("lenet5_bn");
}
TEST(ScheduleGenerator, EveryKnobSettingComputesTheSameNumbersChannels) {
  expectEveryKnobSettingComputesTheSameNumbers("test/channels");
}

TEST(ScheduleGenerator, KnobsRoundTripThroughTheirText) {
  CpuKnobs k;
  k.lanes = 8;
  k.batchTask = 4;
  k.filtersInner = false;
  CpuKnobs back;
  ASSERT_TRUE(back.parse(k.describe()));
  EXPECT_EQ(back.describe(), k.describe());
  EXPECT_FALSE(back.parse("lanes=0"));
  EXPECT_FALSE(back.parse("speed=11"));
}

} // namespace
