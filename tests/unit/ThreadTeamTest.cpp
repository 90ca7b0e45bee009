// The thread team that runs the pipelines' parallel loops (runtime/src/ThreadTeam.h),
// driven through Halide's halide_do_par_for as a pipeline calls it: every task once, errors
// returned, nested and concurrent loops, the same thread for a task in every loop.
#include "ThreadTeam.h"

#include "HalideRuntime.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

struct Record {
  std::vector<std::atomic<int>> runs;
  std::vector<std::thread::id> thread;
  int failAt = -1;
  explicit Record(int n) : runs(static_cast<size_t>(n)), thread(static_cast<size_t>(n)) {}
};

int recordTask(void *, int i, uint8_t *closure) {
  Record &r = *reinterpret_cast<Record *>(closure);
  r.runs[static_cast<size_t>(i)].fetch_add(1);
  r.thread[static_cast<size_t>(i)] = std::this_thread::get_id();
  return i == r.failAt ? 7 : 0;
}

int parFor(Record &r, int min, int size) {
  return halide_do_par_for(nullptr, recordTask, min, size, reinterpret_cast<uint8_t *>(&r));
}

class ThreadTeam : public ::testing::Test {
protected:
  void TearDown() override { lenetc::setThreads(1); }
};

TEST_F(ThreadTeam, EveryTaskRunsOnceOnAnyNumberOfThreads) {
  for (int threads : {1, 2, 3, 4}) {
    ASSERT_EQ(lenetc::setThreads(threads), threads);
    EXPECT_EQ(lenetc::teamThreads(), threads);
    for (int size : {0, 1, 2, 3, 5, 64, 1000}) {
      Record r(size + 3);
      ASSERT_EQ(parFor(r, 3, size), 0);
      for (int i = 0; i < size + 3; ++i)
        EXPECT_EQ(r.runs[static_cast<size_t>(i)].load(), i < 3 ? 0 : 1)
            << "task " << i << " of " << size << " on " << threads << " threads";
    }
  }
}

TEST_F(ThreadTeam, LoopsShareTheWorkAndEachTaskKeepsItsThread) {
  // A step's loops over the batch give each thread the same examples in every loop.
  lenetc::setThreads(2);
  const int size = 256;
  Record first(size);
  ASSERT_EQ(parFor(first, 0, size), 0);
  int others = 0;
  for (int i = 0; i < size; ++i)
    others += first.thread[static_cast<size_t>(i)] != std::this_thread::get_id();
  EXPECT_EQ(others, size / 2) << "the second half is the worker's";
  for (int loop = 0; loop < 20; ++loop) {
    Record again(size);
    ASSERT_EQ(parFor(again, 0, size), 0);
    for (int i = 0; i < size; ++i)
      ASSERT_EQ(again.thread[static_cast<size_t>(i)], first.thread[static_cast<size_t>(i)]) << "task " << i;
  }
}

TEST_F(ThreadTeam, ATasksErrorIsReturnedAndTheLoopStillFinishes) {
  for (int threads : {1, 2}) {
    lenetc::setThreads(threads);
    Record r(100);
    r.failAt = threads == 1 ? 10 : 90; // the worker's part on 2 threads
    EXPECT_EQ(parFor(r, 0, 100), 7);
    for (int i = 0; i < 100; ++i) // a loop ends whole before it returns, failed or not
      EXPECT_EQ(r.runs[static_cast<size_t>(i)].load(), threads == 1 && i > 10 ? 0 : 1) << "task " << i;
    Record next(100);
    EXPECT_EQ(parFor(next, 0, 100), 0) << "the team runs the next loop";
    for (int i = 0; i < 100; ++i)
      EXPECT_EQ(next.runs[static_cast<size_t>(i)].load(), 1);
  }
}

struct Nested {
  std::atomic<int> inner{0};
};

int innerTask(void *, int, uint8_t *closure) {
  reinterpret_cast<Nested *>(closure)->inner.fetch_add(1);
  return 0;
}

int outerTask(void *, int, uint8_t *closure) {
  // A loop inside a task (a micro-batch's loops) runs in order on the task's thread.
  const std::thread::id me = std::this_thread::get_id();
  Record r(10);
  if (int rc = parFor(r, 0, 10); rc != 0)
    return rc;
  for (int i = 0; i < 10; ++i)
    if (r.runs[static_cast<size_t>(i)].load() != 1 || r.thread[static_cast<size_t>(i)] != me)
      return 1;
  return innerTask(nullptr, 0, closure);
}

TEST_F(ThreadTeam, ALoopInsideATaskRunsInOrderOnItsThread) {
  lenetc::setThreads(2);
  Nested n;
  EXPECT_EQ(halide_do_par_for(nullptr, outerTask, 0, 8, reinterpret_cast<uint8_t *>(&n)), 0);
  EXPECT_EQ(n.inner.load(), 8);
}

TEST_F(ThreadTeam, TwoCallersAtOnceBothFinish) {
  // One has the team, the other runs its loop in order on its own thread.
  lenetc::setThreads(2);
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  for (int c = 0; c < 2; ++c)
    callers.emplace_back([&] {
      for (int loop = 0; loop < 200; ++loop) {
        Record r(50);
        if (parFor(r, 0, 50) != 0)
          ++failures;
        for (int i = 0; i < 50; ++i)
          failures += r.runs[static_cast<size_t>(i)].load() != 1;
      }
    });
  for (std::thread &t : callers)
    t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(ThreadTeam, SleepingWorkersWakeForTheNextLoopAndTheTeamResizes) {
  // Workers sleep after a few hundred microseconds without a loop.
  for (int threads : {2, 3, 2}) {
    lenetc::setThreads(threads);
    for (int loop = 0; loop < 5; ++loop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
      Record r(64);
      ASSERT_EQ(parFor(r, 0, 64), 0);
      int others = 0;
      for (int i = 0; i < 64; ++i) {
        EXPECT_EQ(r.runs[static_cast<size_t>(i)].load(), 1);
        others += r.thread[static_cast<size_t>(i)] != std::this_thread::get_id();
      }
      EXPECT_GT(others, 0) << "the workers took their parts, " << threads << " threads";
    }
  }
}

TEST_F(ThreadTeam, ZeroThreadsMeansHalidesDefault) {
  ::setenv("HL_NUM_THREADS", "3", 1);
  EXPECT_EQ(lenetc::setThreads(0), 3);
  ::unsetenv("HL_NUM_THREADS");
}

} // namespace
