#!/usr/bin/env bash
# Fuzz lenetc's front end with libFuzzer (clang, AddressSanitizer, UBSan), from a corpus of
# the real models. One line:   bash tests/fuzz/run.sh [-runs=10000000] [more libFuzzer flags]
# Crashes land in build-fuzz/crashers/; copy each to tests/fuzz/regressions/ (replayed by
# the unit tests) once fixed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
command -v clang++ >/dev/null || { sudo=""; [ "$(id -u)" != 0 ] && sudo=sudo;
  $sudo apt-get install -y -q --no-install-recommends clang libclang-rt-14-dev >/dev/null; }
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLENETC_FUZZ=ON >/dev/null
cmake --build build-fuzz --target lenetc_fuzz_frontend
mkdir -p build-fuzz/corpus build-fuzz/crashers
cp models/*.nn tests/fuzz/regressions/* build-fuzz/corpus/ 2>/dev/null || true
export ASAN_OPTIONS=detect_leaks=1
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/lsan.supp"
# In build-fuzz/: with -jobs, libFuzzer writes its fuzz-N.log files in the current directory.
root=$PWD
cd build-fuzz
exec tests/fuzz/lenetc_fuzz_frontend corpus -artifact_prefix=crashers/ \
  -dict="$root/tests/fuzz/nn.dict" -max_len=4096 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
  "${@:--runs=10000000}"
