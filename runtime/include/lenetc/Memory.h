// How the process keeps the memory the pipelines free, for the next call.
#pragma once

#include <malloc.h>

namespace lenetc {

// The Halide pipelines allocate their intermediate buffers on every call: megabytes each at
// batch 256. glibc gives blocks that large back to the kernel when they are freed (mmap,
// and trimming the heap's top), and the next call then faults every page in anew, which
// costs more than the computation on these machines (README, Speed: "Memory kept between
// calls"). Blocks up to 32 MB (glibc's
// largest threshold) come from the heap instead, and freed memory stays there for reuse.
// Called by the trainer, the benchmarks and lenetc's timing before any pipeline runs.
inline void keepFreedMemoryForReuse() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

} // namespace lenetc
