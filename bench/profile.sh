#!/usr/bin/env bash
# Where a training step's time goes: compiles a model (default LeNet-5) with Halide's
# profiler (target host-profile), links the benchmark against it and prints Halide's per-Func
# report of the training step at batch 256.
#   bash bench/profile.sh [--model NAME] [--threads N] [--schedule FILE | --default-schedule]
#                                      (default: lenet5, 2 threads, schedules/)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
threads=2; schedule=(); model=lenet5
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --schedule) schedule=(--schedule "$2"); shift 2 ;;
    --default-schedule) schedule=(--default-schedule); shift ;;
    *) echo "usage: bash bench/profile.sh [--model NAME] [--threads N] [--schedule FILE | --default-schedule]" >&2
       exit 2 ;;
  esac
done
cmake --build build --target lenetc lenetc_runtime >/dev/null
out=build/profile; rm -rf "$out"; mkdir -p "$out"
build/compiler/lenetc compile "models/$model.nn" -o "$out" --target host-profile "${schedule[@]}" 2>&1 | { grep -v "^wrote " || true; }
c++ -O2 -std=c++17 -DFMT_HEADER_ONLY -DMODEL_SYMBOL="lenetc_model_$model" -Iruntime/src -Iruntime/include -I"$out" -I/usr/include/halide14 \
  bench/TrainerBench.cpp "$out/${model}_model.cpp" "$out/${model}_train_step.a" "$out/${model}_infer.a" \
  "$out/${model}_infer_one.a" "$out/${model}_runtime.a" \
  build/runtime/liblenetc_runtime.a -lz -lpng -lpthread -ldl -o "$out/lenetc_bench"
# The report comes at exit, per pipeline; the benchmark's own JSON line is left out.
"$out/lenetc_bench" --threads "$threads" --only train:256 | grep -v '^{'
