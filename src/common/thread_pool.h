// ThreadPool: the one shared scheduler for morsel-driven work (STYLE.md rule 12).
// Thread safety: all methods are safe to call from any thread, including from pool tasks.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "common/thread_annotations.h"

namespace saleslake {

class ThreadPool {
 public:
  // The process-wide pool: one thread per core, or $SALESLAKE_THREADS when set (>= 1).
  static ThreadPool& Default();

  explicit ThreadPool(size_t threads);
  ~ThreadPool();  // finishes queued tasks, then joins
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return threads_.size(); }

  // Queues a task. Tasks must not throw.
  void Submit(std::function<void()> task);

  // Runs fn(i) for every i in [0, n), spread over at most `max_workers` threads (0 = pool size)
  // with the caller as one of them; morsels are claimed one index at a time, so uneven morsels
  // balance. Returns when every fn(i) has returned. Nested calls from pool tasks cannot deadlock:
  // the caller does all remaining work itself if no pool thread is free.
  void ParallelFor(size_t n, const std::function<void(size_t)>& fn, size_t max_workers = 0);

 private:
  void WorkerLoop();

  Mutex mu_;
  CondVar cv_;
  std::deque<std::function<void()>> queue_ SL_GUARDED_BY(mu_);
  bool stopping_ SL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace saleslake
