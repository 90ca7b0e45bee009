#!/usr/bin/env bash
# The test cmake_consumer: configure and build this directory's project (which adds lenetc
# with add_subdirectory) in BUILD_DIR, then train its model for one short epoch and check
# that the build used the project's schedule and the trainer learned something (test
# accuracy above 0.3; chance is 0.1).
#   run.sh LENETC_SOURCE_DIR BUILD_DIR GENERATOR
set -uo pipefail
src=$1 build=$2 generator=$3
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log="$build.log"
# The model's outputs go first, so that lenetc compiles it (and says which schedule it used)
# in this run's log even when the build is otherwise up to date.
rm -rf "$build/my-train_model"
if ! { cmake -S "$here" -B "$build" -G "$generator" -DLENETC_SOURCE_DIR="$src" &&
       cmake --build "$build" --target my-train; } >"$log" 2>&1; then
  tail -n 40 "$log"
  echo "cmake_consumer: configuring or building the project failed (whole log: $log)"
  exit 1
fi
grep -q "lenetc: CPU schedule .*/my_model.sched" "$log" || {
  tail -n 40 "$log"; echo "cmake_consumer: lenetc compile did not use my_model.sched"; exit 1; }
out=$("$build/my-train" --limit-train 2048 --limit-test 1000 --threads 1 --no-checkpoint 2>&1) || {
  echo "$out"; echo "cmake_consumer: the trainer failed"; exit 1; }
echo "$out"
acc=$(echo "$out" | sed -n 's/^epoch *1\/1 .*| test loss [0-9.]* acc \([0-9.]*\).*/\1/p')
[ -n "$acc" ] || { echo "cmake_consumer: no epoch line"; exit 1; }
awk -v a="$acc" 'BEGIN { exit !(a > 0.3) }' || { echo "cmake_consumer: test accuracy $acc, not above 0.3"; exit 1; }
echo "cmake_consumer: test accuracy $acc"
