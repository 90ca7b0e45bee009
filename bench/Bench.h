// What every benchmark of bench/ shares, so that lenetc and its peers (bench/peers/) are
// timed the same way: steps on real images held in memory, repeats during which other
// processes were busy discarded, one JSON object per measurement.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <time.h>
#include <unistd.h>

namespace bench {

using Clock = std::chrono::steady_clock;

// CPU seconds the whole machine has been busy (all CPUs, /proc/stat: everything but idle
// and iowait; steal counts as busy: a neighbour of this virtual machine took the CPU).
inline double machineBusySeconds() {
  std::FILE *f = std::fopen("/proc/stat", "r");
  if (!f)
    return 0;
  unsigned long long v[8] = {};
  int got = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                        &v[6], &v[7]);
  std::fclose(f);
  if (got != 8)
    return 0;
  unsigned long long busy = 0;
  for (int i = 0; i < 8; ++i)
    busy += i == 3 || i == 4 ? 0 : v[i];
  return double(busy) / double(sysconf(_SC_CLK_TCK));
}

inline double processSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// The machine is shared: as the PyTorch reference's benchmark does (bench/lenet_torch.py), a
// repeat during which other processes used 0.1 cores or more is discarded and retried
// after the machine has been quiet for a second, so that both sides are timed under the
// same conditions.
inline const double kOtherMax = 0.10;

struct Contention {
  double busy0 = machineBusySeconds(), own0 = processSeconds();
  Clock::time_point t0 = Clock::now();
  double seconds() const { return std::chrono::duration<double>(Clock::now() - t0).count(); }
  // Cores other processes used since construction.
  double others() const {
    return std::max(0.0, (machineBusySeconds() - busy0) - (processSeconds() - own0)) / std::max(1e-9, seconds());
  }
};

inline void waitQuiet() {
  for (int i = 0; i < 900; ++i) {
    Contention c;
    std::this_thread::sleep_for(std::chrono::seconds(1));
    if (c.others() < kOtherMax)
      return;
  }
}

struct Measured {
  std::vector<double> eps; // examples/s of each clean repeat, sorted
  int discarded = 0;
};

// Runs fn(step) for about `seconds`, `repeats` clean times (at most 4x as many tries).
inline Measured measure(const std::function<void(int)> &fn, int64_t batch, double seconds, int repeats) {
  waitQuiet();
  for (int i = 0; i < 30; ++i) // warm-up, as the reference's 30 steps
    fn(i);
  double perStep = 1e9;
  for (int attempt = 0; attempt < 10; ++attempt) {
    Contention c;
    int n = 0;
    while (c.seconds() < 0.3)
      fn(n++);
    perStep = std::min(perStep, c.seconds() / n);
    if (c.others() < kOtherMax)
      break;
    waitQuiet();
  }
  int steps = std::max(3, static_cast<int>(seconds / perStep));
  Measured m;
  double contended = 0;
  for (int attempt = 0; int(m.eps.size()) < repeats && attempt < 4 * repeats; ++attempt) {
    Contention c;
    for (int i = 0; i < steps; ++i)
      fn(i);
    double eps = double(steps) * double(batch) / c.seconds();
    if (c.others() < kOtherMax) {
      m.eps.push_back(eps);
    } else {
      contended = eps;
      ++m.discarded;
      waitQuiet();
      for (int i = 0; i < 3; ++i) // warm the caches again after the pause
        fn(i);
    }
  }
  if (m.eps.empty()) // never quiet: report the contended timing rather than nothing
    m.eps.push_back(contended);
  std::sort(m.eps.begin(), m.eps.end());
  return m;
}

// One line of JSON, read by bench/speed.sh and bench/peers.sh.
inline void report(const std::string &system, const std::string &model, const char *mode, int64_t batch,
                   int threads, const Measured &m) {
  const std::vector<double> &eps = m.eps;
  double median = eps[eps.size() / 2];
  fmt::print("{{\"system\": \"{}\", \"model\": \"{}\", \"mode\": \"{}\", \"batch\": {}, \"threads\": {}, "
             "\"ex_per_s_min\": {:.1f}, \"ex_per_s_median\": {:.1f}, \"ex_per_s_max\": {:.1f}, "
             "\"ms_per_step_median\": {:.4f}, \"clean_repeats\": {}, \"discarded\": {}}}\n",
             system, model, mode, batch, threads, eps.front(), median, eps.back(), 1e3 * double(batch) / median,
             eps.size(), m.discarded);
  std::fflush(stdout);
}

// The peers' command line (bench/peers/): --threads N (what the report says; the threads
// themselves are OpenMP's, set by bench/peers.sh), --batch B, --check.
struct PeerArgs {
  int threads = 2;
  int64_t batch = 256;
  bool check = false;
};

inline PeerArgs peerArgs(int argc, char **argv) {
  PeerArgs a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--check")
      a.check = true;
    else if (arg == "--threads" && i + 1 < argc)
      a.threads = std::atoi(argv[++i]);
    else if (arg == "--batch" && i + 1 < argc)
      a.batch = std::atoll(argv[++i]);
  }
  // Every peer cycles through at least 16 different batches of the 60,000 training images.
  if (a.batch < 1 || a.batch > 3750) {
    fmt::print(stderr, "{}: --batch must be 1 to 3750\n", argv[0]);
    std::exit(2);
  }
  return a;
}

// Images of `height` x `width` pixels, each of `from` (fromHeight x fromWidth) centred with
// a zero border (28x28 digits in LeNet-5's 32x32 input), count x height x width.
inline std::vector<float> centredImages(const std::vector<float> &from, int64_t count, int fromHeight, int fromWidth,
                                        int height, int width) {
  if (height < fromHeight || width < fromWidth)
    throw std::invalid_argument(fmt::format("images of {}x{} do not fit in {}x{}", fromHeight, fromWidth, height,
                                            width));
  std::vector<float> out(size_t(count) * height * width, 0.0f);
  int top = (height - fromHeight) / 2, left = (width - fromWidth) / 2;
  for (int64_t n = 0; n < count; ++n)
    for (int r = 0; r < fromHeight; ++r)
      std::copy_n(&from[size_t((n * fromHeight + r) * fromWidth)], fromWidth,
                  &out[size_t((n * height + top + r) * width + left)]);
  return out;
}

} // namespace bench
