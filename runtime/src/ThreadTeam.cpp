#include "ThreadTeam.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LENETC_CPU_RELAX() _mm_pause()
#else
#define LENETC_CPU_RELAX() std::this_thread::yield()
#endif

namespace lenetc {

namespace {

// Each thread of the team runs its own part of every loop's tasks (as OpenMP's static
// schedule): a step's loops over the batch then give each thread the same examples, whose
// maps its previous loop left in its core's caches. A thread done early waits for the
// others rather than take their tasks: moving examples between cores measured slower than
// the wait, even taking only parts not yet started (docs/design.md).
//
// A part is its thread's alone: [begin, end) of the current loop's tasks, set by the caller
// and emptied by its thread when it takes them. The caller writes the next loop's parts only
// after every part's tasks are done.
constexpr int kEndBits = 32;
uint64_t partOf(uint64_t begin, uint64_t end) { return begin << kEndBits | end; }
uint64_t partBegin(uint64_t s) { return s >> kEndBits; }
uint64_t partEnd(uint64_t s) { return s & 0xffffffffu; }

struct alignas(64) Part {
  std::atomic<uint64_t> tasks{0};
};

// How long an idle worker watches for the next loop before it sleeps: longer than the gaps
// between one step's loops, short enough to leave the core to others between steps.
constexpr auto kSpin = std::chrono::microseconds(300);

// Lets a thread that waits for others give way to them when they share its core (more
// threads than cores): false once `until` has passed.
bool yieldWhile(std::chrono::steady_clock::time_point until) {
  std::this_thread::yield();
  return std::chrono::steady_clock::now() < until;
}

// Set on the team's workers and on a caller while it runs its loop's tasks: loops started
// there run in order.
thread_local bool inTeamTask = false;

int inOrder(void *userContext, halide_task_t task, int min, int size, uint8_t *closure) {
  for (int i = min; i < min + size; ++i)
    if (int rc = task(userContext, i, closure); rc != 0)
      return rc;
  return 0;
}

class Team {
public:
  int size() const { return threads_; } // changed only under busy_

  void resize(int threads) {
    if (inTeamTask) // a task's own thread would wait for its loop to end
      return;
    std::lock_guard<std::mutex> busy(busy_);
    if (threads == threads_)
      return;
    {
      std::lock_guard<std::mutex> lock(sleep_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread &w : workers_)
      w.join();
    workers_.clear();
    stop_ = false;
    threads_ = threads;
    parts_.reset(new Part[static_cast<size_t>(threads)]);
    for (int i = 1; i < threads; ++i)
      workers_.emplace_back([this, i] { work(i); });
  }

  int parFor(void *userContext, halide_task_t task, int min, int size, uint8_t *closure) {
    if (size <= 0)
      return 0;
    if (inTeamTask || size == 1 || !busy_.try_lock())
      return inOrder(userContext, task, min, size, closure);
    if (threads_ == 1) {
      busy_.unlock();
      return inOrder(userContext, task, min, size, closure);
    }
    task_ = task;
    userContext_ = userContext;
    closure_ = closure;
    min_ = min;
    done_.store(0, std::memory_order_relaxed);
    error_.store(0, std::memory_order_relaxed);
    // Parts as even as whole tasks allow, the larger first: the caller's is never empty.
    const int64_t each = size / threads_, larger = size % threads_;
    for (int64_t p = 0; p < threads_; ++p) {
      const uint64_t begin = uint64_t(p * each + std::min(p, larger));
      parts_[p].tasks.store(partOf(begin, begin + uint64_t(each + (p < larger ? 1 : 0))), std::memory_order_seq_cst);
    }
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      { std::lock_guard<std::mutex> lock(sleep_); }
      wake_.notify_all();
    }
    inTeamTask = true;
    runTasks(0);
    inTeamTask = false;
    const int parts = std::min(size, threads_); // those with tasks
    for (int i = 1; done_.load(std::memory_order_acquire) < parts; ++i) {
      LENETC_CPU_RELAX();
      if (i % 64 == 0)
        std::this_thread::yield();
    }
    const int rc = error_.load(std::memory_order_relaxed);
    busy_.unlock();
    return rc;
  }

private:
  // Takes part `own` of the current loop, if it has tasks, and runs them. The loop's task
  // and closure stay put until every part is done.
  void runTasks(int own) {
    const uint64_t s = parts_[own].tasks.exchange(0, std::memory_order_acq_rel);
    if (partBegin(s) >= partEnd(s))
      return;
    for (uint64_t i = partBegin(s); i < partEnd(s); ++i)
      if (int rc = task_(userContext_, min_ + static_cast<int>(i), closure_); rc != 0) {
        int none = 0;
        error_.compare_exchange_strong(none, rc, std::memory_order_relaxed);
      }
    done_.fetch_add(1, std::memory_order_release);
  }

  bool claimable(int own) const {
    const uint64_t s = parts_[own].tasks.load(std::memory_order_seq_cst);
    return partBegin(s) < partEnd(s);
  }

  void work(int own) {
    inTeamTask = true;
    for (;;) {
      runTasks(own);
      // Watch for the next loop a while, then sleep until it comes.
      const auto until = std::chrono::steady_clock::now() + kSpin;
      bool ready = false;
      for (int i = 1; !ready; ++i) {
        LENETC_CPU_RELAX();
        ready = claimable(own) || stop_.load(std::memory_order_relaxed);
        if (!ready && i % 64 == 0 && !yieldWhile(until))
          break;
      }
      if (!ready) {
        std::unique_lock<std::mutex> lock(sleep_);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        wake_.wait(lock, [&] { return claimable(own) || stop_.load(); });
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
      }
      if (stop_.load())
        return;
    }
  }

  std::mutex busy_; // held by the caller whose loop the team runs
  int threads_ = 1;
  std::unique_ptr<Part[]> parts_{new Part[1]};
  halide_task_t task_ = nullptr;
  void *userContext_ = nullptr;
  uint8_t *closure_ = nullptr;
  int min_ = 0;
  alignas(64) std::atomic<int> done_{0}; // parts done; apart from what the tasks read
  std::atomic<int> error_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::mutex sleep_;
  std::condition_variable wake_;
  std::vector<std::thread> workers_;
};

// Never destroyed: its workers may still be waiting when the process exits.
Team &team() {
  static Team *t = new Team;
  return *t;
}

int teamParFor(void *userContext, halide_task_t task, int min, int size, uint8_t *closure) {
  return team().parFor(userContext, task, min, size, closure);
}

} // namespace

int setThreads(int threads) {
  // Halide's count for 0: HL_NUM_THREADS, else the cores. The second call returns it.
  halide_set_num_threads(std::max(0, threads));
  threads = std::max(1, halide_set_num_threads(std::max(0, threads)));
  team().resize(threads);
  halide_set_custom_do_par_for(teamParFor);
  return team().size();
}

int teamThreads() { return team().size(); }

namespace {
// One piece of sideBySide as a task: the team hands its tasks a byte pointer.
int runPiece(void *, int i, uint8_t *closure) { return (*reinterpret_cast<const std::function<int(int)> *>(closure))(i); }
} // namespace

int sideBySide(int count, const std::function<int(int)> &piece) {
  auto *closure = reinterpret_cast<uint8_t *>(const_cast<std::function<int(int)> *>(&piece));
  return team().parFor(nullptr, runPiece, 0, count, closure);
}

} // namespace lenetc
