#!/usr/bin/env bash
# Fuzz lenetc with libFuzzer (clang, AddressSanitizer, UBSan): its front end from a corpus of
# the real models, or (`onnx`) its ONNX importer from a corpus of PyTorch's exports.
#   bash tests/fuzz/run.sh [onnx] [-runs=10000000] [more libFuzzer flags]
# Crashes land in build-fuzz/crashers/ (build-fuzz/onnx-crashers/); copy each to
# tests/fuzz/regressions/ (tests/fuzz/onnx-regressions/), replayed by the unit tests, once fixed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
target=frontend
if [ "${1:-}" = onnx ]; then
  target=onnx
  shift
fi
command -v clang++ >/dev/null || { sudo=""; [ "$(id -u)" != 0 ] && sudo=sudo;
  $sudo apt-get install -y -q --no-install-recommends clang libclang-rt-14-dev >/dev/null; }
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLENETC_FUZZ=ON >/dev/null
cmake --build build-fuzz --target lenetc_fuzz_$target
export ASAN_OPTIONS=detect_leaks=1
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/lsan.supp"
root=$PWD
if [ $target = onnx ]; then
  mkdir -p build-fuzz/onnx-corpus build-fuzz/onnx-crashers
  # The small exports (lenet1, tiny_mixed: about 12-15 KB) run about ten times as many inputs
  # a second as the 250 KB ones, which differ from them only in the initializers' sizes.
  find tests/onnx -name '*.onnx' -size -20k -exec cp {} build-fuzz/onnx-corpus/ \;
  cp tests/fuzz/onnx-regressions/* build-fuzz/onnx-corpus/ 2>/dev/null || true
  cd build-fuzz
  exec tests/fuzz/lenetc_fuzz_onnx onnx-corpus -artifact_prefix=onnx-crashers/ -max_len=20000 -timeout=10 \
    -rss_limit_mb=4096 -print_final_stats=1 "${@:--runs=1000000}"
fi
mkdir -p build-fuzz/corpus build-fuzz/crashers
cp models/*.nn tests/fuzz/regressions/* build-fuzz/corpus/ 2>/dev/null || true
# In build-fuzz/: with -jobs, libFuzzer writes its fuzz-N.log files in the current directory.
cd build-fuzz
exec tests/fuzz/lenetc_fuzz_frontend corpus -artifact_prefix=crashers/ \
  -dict="$root/tests/fuzz/nn.dict" -max_len=4096 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
  "${@:--runs=10000000}"
