#!/usr/bin/env bash
# Set up, build, and run every test (GoogleTest unit tests and lit/FileCheck tests), then
# the same suite again in a build with AddressSanitizer and UndefinedBehaviorSanitizer
# (build-asan/). Long work (full training runs, autotuning, fuzzing) is not here: see bench/
# and tests/fuzz/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh --tests
ctest --test-dir build --output-on-failure -j "$(nproc)"

echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLENETC_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/lsan.supp"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build-asan --output-on-failure -j "$(nproc)"
