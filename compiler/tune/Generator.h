// Schedule generators: a schedule file's pipeline section made from the kinds and shapes
// of a lowered pipeline's ops, with a few knobs (tile sizes, vector width, task size).
// lenet autotune searches the knobs and writes the best schedule as a file; the files in
// schedules/ were made this way (and may be edited by hand).
#pragma once

#include "halide/Schedule.h"

#include <string>
#include <vector>

namespace lenetc {

// The knobs of the CPU schedule generator. Accumulator tiles are sized in vectors of
// `lanes` floats; a tile is kept in registers (at most ~16 of them on AVX2, ~24 on AVX-512).
struct CpuKnobs {
  int lanes = 16;       // floats per vector (AVX-512: 16, AVX2: 8)
  int accumulators = 12; // the most vector accumulators a product tile may use
  int denseTileI = 2;   // dense products and gradients: vectors per tile along i
  int denseTileU = 4;   // dense products and gradients: rows (units or examples) per tile
  int gradInRows = 2;   // conv input gradient: rows per register tile
  int batchTask = 1;    // per-example loops: the fewest examples per parallel task (more
                        // when one example's work is small: ~64K operations a task)
  bool filtersInner = true; // convs with at least `lanes` filters: store filters innermost

  std::string describe() const; // "lanes=16 accumulators=12 ..."
  bool parse(const std::string &text); // the inverse of describe()
};

// The knobs of the GPU schedule generator: thread-block sizes.
struct GpuKnobs {
  int blockX = 16, blockY = 16; // threads per block over the two innermost dimensions
  int block1D = 64;             // threads per block for one-dimensional Funcs
};

// The directives for every Func of `p`, a stage each, as a schedule file's section has them
// (formatStage prints one as its line).
std::vector<StageSchedule> generateCpuSchedule(const LoweredPipeline &p, const CpuKnobs &k);
std::vector<StageSchedule> generateGpuSchedule(const LoweredPipeline &p, const GpuKnobs &k);

// The knobs' starting point for a target: its vector width.
CpuKnobs defaultCpuKnobs(const Halide::Target &target);

} // namespace lenetc
