#include "halide/Emit.h"

#include "halide/Schedule.h"
#include "tune/Generator.h"

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace H = Halide;

namespace lenetc {

bool parseTarget(const std::string &text, H::Target &target, std::string &error) {
  if (!H::Target::validate_target_string(text)) {
    error = "Halide 14 does not know the target '" + text +
            "' (examples: host, host-avx2-fma, x86-64-linux-avx512, host-opencl, "
            "host-cuda-cuda_capability_80; CUDA capabilities stop at 86)";
    return false;
  }
  H::Target t(text);
  // Only targets with a schedule class (x86, ARM; CUDA, OpenCL, Metal): a schedule for
  // another would have no class to be looked up or written under.
  if (scheduleTargetClass(hostPart(t), false).empty() ||
      (t.has_gpu_feature() && scheduleTargetClass(t, true).empty())) {
    error = "lenetc compiles for x86 and ARM CPUs, with CUDA, OpenCL or Metal for a GPU; not for '" + text + "'";
    return false;
  }
  target = t;
  return true;
}

H::Target hostPart(H::Target t) {
  for (auto f : {H::Target::OpenCL, H::Target::CUDA, H::Target::Metal, H::Target::D3D12Compute,
                 H::Target::OpenGLCompute})
    t = t.without_feature(f);
  return t;
}

bool runsOnThisMachine(const H::Target &t, std::string &error) {
  H::Target host = H::get_host_target();
  std::string missing;
  if (t.arch != host.arch || t.bits != host.bits || t.os != host.os)
    missing = "it is not this machine's kind (" + host.to_string() + ")";
  // The instruction sets a CPU may lack (Halide 14's names).
  for (auto f : {H::Target::SSE41, H::Target::AVX, H::Target::AVX2, H::Target::FMA, H::Target::FMA4,
                 H::Target::F16C, H::Target::AVX512, H::Target::AVX512_KNL, H::Target::AVX512_Skylake,
                 H::Target::AVX512_Cannonlake, H::Target::AVX512_SapphireRapids, H::Target::ARMDotProd,
                 H::Target::ARMFp16, H::Target::SVE, H::Target::SVE2, H::Target::ARMv81a})
    if (missing.empty() && t.has_feature(f) && !host.has_feature(f))
      missing = "this CPU lacks its instructions (" + host.to_string() + ")";
  if (missing.empty())
    return true;
  error = "target '" + t.to_string() + "' cannot run here: " + missing;
  return false;
}

std::string defaultScheduleDirectory() { return LENETC_SCHEDULE_DIR; }

std::string modelNameOf(mlir::ModuleOp module) {
  for (auto func : module.getOps<mlir::FuncOp>()) {
    llvm::StringRef name = func.getName();
    if (name.endswith("_train_step"))
      return name.drop_back(strlen("_train_step")).str();
  }
  return "";
}

namespace {
// A schedule file read and parsed, with the diagnostics engine that reports at its lines.
struct LoadedSchedule {
  SourceFile source{"", ""};
  std::unique_ptr<DiagnosticEngine> diag;
  ScheduleFile parsed;
  // Found by the model's name, not given: another model of that name (an imported one, say)
  // gets the default schedule where this one does not fit. Its diagnostics go here.
  bool foundByName = false;
  std::ostringstream held;
};

bool isGpuClass(const std::string &c) { return c == "cuda" || c == "opencl" || c == "metal"; }

// Reads and parses `path`; false (reported) when it is missing or malformed.
bool loadSchedule(const std::string &path, std::ostream *messages, LoadedSchedule &out) {
  std::string error;
  if (!SourceFile::read(path, out.source, error)) {
    out.source = SourceFile(path, "");
    out.diag = std::make_unique<DiagnosticEngine>(out.source, messages);
    out.diag->error({}, error);
    return false;
  }
  out.diag = std::make_unique<DiagnosticEngine>(out.source, messages);
  return parseSchedule(out.source, *out.diag, out.parsed);
}
} // namespace

bool applyDefaultSchedule(LoweredPipeline &p, const H::Target &target, bool gpu, std::ostream *messages) {
  std::map<std::string, std::string> header = {
      {"model", "(any)"}, {"target", scheduleTargetClass(target, gpu)}, {"machine", "(generated)"},
      {"date", "(generated)"}, {"measured", "(not measured)"}};
  std::string key = pipelineKey(p.name);
  std::vector<StageSchedule> stages =
      gpu ? generateGpuSchedule(p, GpuKnobs{}) : generateCpuSchedule(p, defaultCpuKnobs(target));
  if (applyStages("<default schedule of " + p.name + ">", stages, p, messages))
    return true;
  if (messages)
    *messages << "lenetc: internal error: the default schedule of " << p.name << " does not apply:\n"
              << formatSchedule(header, {{key, stages}});
  return false;
}

bool lowerModule(mlir::ModuleOp module, const H::Target &target, const ScheduleOptions &options,
                 std::vector<LoweredPipeline> &out) {
  const std::string model = modelNameOf(module);
  // A GPU build carries CPU kernels too (the trainer falls back to them without a GPU): each
  // function is lowered twice, `<name>` for the host and `<name>_gpu` for the GPU.
  std::vector<std::pair<H::Target, bool>> variants = {{hostPart(target), false}};
  if (target.has_gpu_feature())
    variants.push_back({target, true});

  if (options.defaultOnly && !options.unscheduled && !options.files.empty()) {
    if (options.messages)
      *options.messages << "lenetc: error: --default-schedule ignores schedule files; --schedule "
                        << options.files[0] << " contradicts it\n";
    return false;
  }

  // Each variant's schedule file: given by the user, else found by name, else none.
  std::vector<std::unique_ptr<LoadedSchedule>> given;
  for (const auto &path : options.files) {
    auto s = std::make_unique<LoadedSchedule>();
    if (!loadSchedule(path, options.messages, *s))
      return false;
    given.push_back(std::move(s));
  }
  std::map<bool, LoadedSchedule *> chosen;
  std::vector<std::unique_ptr<LoadedSchedule>> found;
  for (const auto &[variantTarget, gpu] : variants) {
    std::string cls = scheduleTargetClass(variantTarget, gpu);
    LoadedSchedule *s = nullptr;
    for (auto &g : given)
      if (isGpuClass(g->parsed.header.at("target")) == gpu) {
        if (s) {
          s->diag->error({}, "two schedules given for the " + std::string(gpu ? "GPU" : "CPU") + " variant: '" +
                                 s->source.path() + "' and '" + g->source.path() + "'");
          return false;
        }
        s = g.get();
      }
    std::string lookedFor;
    if (!s && !options.defaultOnly && !options.directory.empty() && !cls.empty()) {
      lookedFor = (std::filesystem::path(options.directory) / (model + "." + cls + ".sched")).string();
      if (std::filesystem::exists(lookedFor)) {
        auto f = std::make_unique<LoadedSchedule>();
        f->foundByName = true;
        if (!loadSchedule(lookedFor, &f->held, *f)) {
          if (options.messages)
            *options.messages << f->held.str();
          return false;
        }
        s = f.get();
        found.push_back(std::move(f));
      }
    }
    if (s) {
      if (!checkScheduleHeader(s->parsed, model, cls, *s->diag)) {
        if (options.messages)
          *options.messages << s->held.str();
        return false;
      }
      if (options.messages)
        *options.messages << "lenetc: " << (gpu ? "GPU" : "CPU") << " schedule " << s->source.path()
                          << " (machine: " << s->parsed.header.at("machine") << ", "
                          << s->parsed.header.at("date") << ")\n";
    } else if (options.messages && !options.defaultOnly && options.files.empty()) {
      *options.messages << "lenetc: note: no tuned " << (gpu ? "GPU" : "CPU") << " schedule for '" << model
                        << "' on " << (cls.empty() ? variantTarget.to_string() : cls)
                        << (lookedFor.empty() ? "" : " (" + lookedFor + " does not exist)")
                        << ": using the default schedule\n";
    }
    chosen[gpu] = s;
  }
  // A file given for a variant this target does not have (a GPU schedule, a CPU target)
  // would otherwise be dropped without a word.
  for (auto &g : given)
    if (chosen[isGpuClass(g->parsed.header.at("target"))] != g.get()) {
      g->diag->error({}, "a schedule for " + g->parsed.header.at("target") + ", but the target '" +
                             target.to_string() + "' has no " +
                             (isGpuClass(g->parsed.header.at("target")) ? "GPU" : "CPU") +
                             " variant (a GPU schedule needs a GPU target, e.g. host-opencl)");
      return false;
    }

  for (auto func : module.getOps<mlir::FuncOp>()) {
    llvm::StringRef name = func.getName();
    if (!name.endswith("_train_step") && !name.endswith("_infer"))
      continue;
    // Inference is lowered once more for the CPU with the batch fixed at one example
    // (`<model>_infer_one`): a latency pipeline with its own schedule (serial, constant
    // sizes, the weights read as stored) beside the throughput one.
    struct Lowering {
      H::Target target;
      bool gpu;
      int fixedBatch; // 0: any batch
    };
    std::vector<Lowering> lowerings;
    for (const auto &[variantTarget, gpu] : variants)
      lowerings.push_back({variantTarget, gpu, 0});
    if (name.endswith("_infer"))
      lowerings.push_back({variants.front().first, false, 1});
    for (const auto &[variantTarget, gpu, fixedBatch] : lowerings) {
      LoweredPipeline p;
      auto lower = [&, variantTarget = variantTarget, gpu = gpu, fixedBatch = fixedBatch] {
        p = LoweredPipeline();
        try {
          if (!lowerToHalide(func, p))
            return false;
          if (fixedBatch) {
            fixBatch(p, fixedBatch);
            p.name += "_one";
          }
        } catch (const H::Error &e) {
          func.emitError() << "internal error: Halide rejected the lowering of '" << func.getName()
                           << "': " << e.what();
          return false;
        }
        p.target = variantTarget;
        if (gpu)
          p.name += "_gpu";
        return true;
      };
      if (!lower())
        return false;
      LoadedSchedule *s = chosen[gpu];
      std::string key = pipelineKey(p.name);
      if (options.unscheduled) {
        // as lowered
      } else if (s && s->parsed.pipelines.count(key)) {
        if (!applySchedule(s->parsed, key, p, *s->diag)) {
          if (!s->foundByName)
            return false;
          std::string why = s->held.str();
          why = why.substr(0, why.find('\n'));
          if (options.messages)
            *options.messages << "lenetc: note: " << s->source.path() << " does not fit this model '" << model
                              << "' (" << why << "): the default schedule is used for " << p.name << "\n";
          s->held.str("");
          if (!lower() || !applyDefaultSchedule(p, variantTarget, gpu, options.messages))
            return false;
        }
      } else {
        if (s && options.messages)
          *options.messages << "lenetc: note: " << s->source.path() << " has no [" << key
                            << "] section: the default schedule is used for " << p.name << "\n";
        if (!applyDefaultSchedule(p, variantTarget, gpu, options.messages))
          return false;
      }
      out.push_back(std::move(p));
    }
  }
  return true;
}

namespace {
// A scratch file that is removed when it goes out of scope.
struct TempPath {
  std::string path;
  explicit TempPath(const std::string &suffix) {
    path = (std::filesystem::temp_directory_path() /
            ("lenetc-" + std::to_string(getpid()) + "-" + std::to_string(counter()++) + suffix))
               .string();
  }
  ~TempPath() { std::remove(path.c_str()); }
  static int &counter() {
    static int c = 0;
    return c;
  }
};
} // namespace

bool printStmt(const LoweredPipeline &p, const H::Target &target, std::ostream &os, std::string &error) {
  TempPath tmp(".stmt");
  try {
    p.pipeline().compile_to_lowered_stmt(tmp.path, p.arguments(), H::Text,
                                         p.target.with_feature(H::Target::NoRuntime));
  } catch (const H::Error &e) {
    error = "Halide could not lower '" + p.name + "': " + e.what();
    return false;
  }
  std::ifstream in(tmp.path);
  os << "// Halide pipeline " << p.name << " for " << p.target.to_string() << "\n" << in.rdbuf() << "\n";
  return true;
}

bool compileAOT(const std::vector<LoweredPipeline> &pipelines, const H::Target &target,
                const std::string &dir, const std::string &runtimeName, std::string &error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    error = "cannot create '" + dir + "': " + ec.message();
    return false;
  }
  try {
    for (const auto &p : pipelines) {
      std::string prefix = (std::filesystem::path(dir) / p.name).string();
      p.pipeline().compile_to_static_library(prefix, p.arguments(), p.name,
                                             p.target.with_feature(H::Target::NoRuntime));
    }
    std::string runtime = (std::filesystem::path(dir) / runtimeName).string();
    H::compile_standalone_runtime({{H::OutputFileType::static_library, runtime + ".a"}}, target);
  } catch (const H::Error &e) {
    error = "Halide cannot compile for the target '" + target.to_string() + "': " + e.what();
    return false;
  }
  return true;
}

} // namespace lenetc
