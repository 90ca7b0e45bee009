# lit configuration for lenetc's IR tests (the MLIR style: RUN lines piped into FileCheck).
import os
import lit.formats

config.name = "lenetc"
config.test_format = lit.formats.ShTest(execute_external=True)  # bash: RUN lines may test $?
config.suffixes = [".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py.in"]
config.test_source_root = config.lit_source_dir
# config.test_exec_root is set by lit.site.cfg.py (the build directory).

config.substitutions.append(("%lenetc", config.lenetc))
config.substitutions.append(("%models", config.models_dir))
config.substitutions.append(("%python", config.python))
# PyTorch's ONNX exports of the models and their logits (tests/onnx/make_onnx.py).
config.substitutions.append(("%onnx", os.path.join(config.lit_source_dir, "..", "onnx")))
# The trainers the build makes for every model: %lenet5-train, %lenet1-train, ...
for model in ("lenet5_classic", "lenet5_modern", "lenet5_best", "lenet5_bn", "lenet5", "lenet1"):
    config.substitutions.append(("%" + model + "-train", os.path.join(config.bin_dir, model + "-train")))
# OpenCL on the CPU (PoCL): GPU variants are tested through it where a platform answers.
import shutil, subprocess
if shutil.which("clinfo"):
    listing = subprocess.run(["clinfo", "-l"], capture_output=True, text=True).stdout
    if "Device" in listing:
        config.available_features.add("opencl")

# NVIDIA's PTX assembler (CUDA's bin directory on these machines): the CUDA schedules are
# assembled for sm_80 and sm_90 where it is present.
ptxas = shutil.which("ptxas") or ("/usr/local/cuda/bin/ptxas" if os.path.exists("/usr/local/cuda/bin/ptxas") else None)
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
else:
    lit_config.note("ptxas not found (PATH, /usr/local/cuda/bin): the CUDA PTX tests are skipped")
if "opencl" not in config.available_features:
    lit_config.note("no OpenCL platform (install pocl-opencl-icd): the OpenCL schedule tests are skipped")

# ONNX's checker and OpenCV's ONNX reader check the trainers' exports (tests/lit/onnx/export.test):
# Debian's python3-onnx and python3-opencv, which `scripts/setup.sh --tests` installs.
if subprocess.run([config.python, "-c", "import onnx, cv2, numpy"], capture_output=True).returncode == 0:
    config.available_features.add("onnx-readers")
else:
    lit_config.note("no python3-onnx or python3-opencv (bash scripts/setup.sh --tests installs them): the ONNX export's reader checks are skipped")

# FileCheck, not and count come from LLVM 14's tools directory.
config.environment["PATH"] = os.pathsep.join([config.llvm_tools_dir, config.environment.get("PATH", "")])

# A real browser for the run report's page (tests/lit/report): Debian's Chromium driven by
# the npm package playwright-core, both installed by `scripts/setup.sh --tests`.
browser_dir = os.path.join(config.lit_source_dir, "..", "browser")
chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
if os.path.exists(chromium) and os.path.isdir(os.path.join(browser_dir, "node_modules", "playwright-core")) and shutil.which("node"):
    config.available_features.add("chromium")
    config.substitutions.append(("%check-report", "node " + os.path.join(browser_dir, "check_report.mjs")))
else:
    lit_config.note("no Chromium or playwright-core (bash scripts/setup.sh --tests installs both): the run report's browser tests are skipped")

# Data-parallel training under Open MPI (tests/lit/mpi): LeNet-5's MPI trainer, built where
# MPI is installed. mpirun refuses root without these two variables; more ranks than cores
# need --oversubscribe.
mpi_trainer = os.path.join(config.bin_dir, "lenet5-mpi-train")
if os.path.exists(mpi_trainer) and shutil.which("mpirun"):
    config.available_features.add("mpi")
    config.substitutions.append(("%lenet5-mpi-train", mpi_trainer))
    mpirun = "mpirun --oversubscribe --bind-to none"
    # Under AddressSanitizer: Open MPI's libraries keep memory until exit (tests/sanitizers/
    # lsan.supp names them), but LeakSanitizer attributes it to them only with full stacks.
    if os.environ.get("ASAN_OPTIONS"):
        mpirun += " -x ASAN_OPTIONS=" + os.environ["ASAN_OPTIONS"] + ":fast_unwind_on_malloc=0"
    config.substitutions.append(("%mpirun", mpirun))
    config.environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    config.environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
else:
    lit_config.note("no MPI trainer or mpirun (install libopenmpi-dev openmpi-bin): the MPI tests are skipped")
