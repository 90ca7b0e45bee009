// The pipelines' parallel loops, run on a team of threads that stay awake between loops.
//
// A training step is some 25 parallel loops of microsecond tasks. Halide's own pool hands
// out every task under one lock and puts its workers to sleep between loops, so two
// threads in one call scaled the step well short of two one-thread processes
// (docs/design.md has the timings). The team's workers take their part of each loop with
// one atomic exchange and wait for the next loop spinning a little before they sleep.
//
// A loop started inside one of the team's tasks (a micro-batch's loops, MicroBatch.h) runs
// in order on that task's thread; so does one started while another caller's loop has the
// team. Parallel loops compute the same values in any order and on any thread: the team
// changes only who does the work, never the bits.
#pragma once

#include <functional>

namespace lenetc {

// From now on Halide's parallel loops run on `threads` threads, the caller's included (1: in
// order on the caller; 0: Halide's default, HL_NUM_THREADS or one per core). Also sizes
// Halide's own pool (halide_set_num_threads), which the team replaces. Returns the count.
int setThreads(int threads);

// The team's size (1 before setThreads).
int teamThreads();

// Runs piece(0), ..., piece(count - 1) as `count` tasks of the team, side by side, each
// piece's own parallel loops in order on its thread: calls that each take a share of a batch
// scale better than one call whose ~25 parallel loops the threads share (docs/design.md).
// Returns 0 or a failing piece's result.
int sideBySide(int count, const std::function<int(int)> &piece);

} // namespace lenetc
