// The time of the data-parallel trainer's one collective per step: the sum, in rank order,
// of every rank's gradients (61,706 floats for LeNet-5), as lenetc's MPI communicator does it
// (gather to rank 0, add, broadcast). Under mpirun: prints rank 0's median microseconds.
//   mpirun -np 2 build/bench/sum_bench [FLOATS] [REPEATS]
#include "lenetc/MpiCommunicator.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char **argv) {
  auto comm = lenetc::mpiCommunicator(&argc, &argv);
  const size_t floats = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 61706;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 2000;
  std::vector<float> values(floats, 1.0f);
  std::vector<double> micros;
  for (int i = 0; i < repeats + 50; ++i) {
    auto start = std::chrono::steady_clock::now();
    comm->sum(values.data(), values.size());
    double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    if (i >= 50) // after the warm-up
      micros.push_back(us);
    std::fill(values.begin(), values.end(), 1.0f);
  }
  std::sort(micros.begin(), micros.end());
  if (comm->rank() == 0)
    std::printf("{\"ranks\": %d, \"floats\": %zu, \"median_us\": %.1f, \"p90_us\": %.1f}\n", comm->size(), floats,
                micros[micros.size() / 2], micros[micros.size() * 9 / 10]);
  comm->finish();
  return 0;
}
