#include "common/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>

namespace saleslake {

ThreadPool& ThreadPool::Default() {
  static ThreadPool pool([] {
    size_t n = std::max(1u, std::thread::hardware_concurrency());
    if (const char* env = std::getenv("SALESLAKE_THREADS")) {
      long v = std::strtol(env, nullptr, 10);
      if (v >= 1 && v <= 1024) n = static_cast<size_t>(v);
    }
    return n;
  }());
  return pool;
}

ThreadPool::ThreadPool(size_t threads) {
  threads = std::max<size_t>(threads, 1);
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  for (std::thread& t : threads_) t.join();
}

void ThreadPool::Submit(std::function<void()> task) {
  {
    MutexLock lock(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.NotifyOne();
}

void ThreadPool::WorkerLoop() {
  for (;;) {
    std::function<void()> task;
    {
      MutexLock lock(mu_);
      while (!stopping_ && queue_.empty()) cv_.Wait(mu_);
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

namespace {

// Shared by the caller and its helpers. Helpers that start after the work is gone touch only
// this state (kept alive by shared_ptr), so the caller never waits for a helper that has not
// started; that is what makes nested ParallelFor calls deadlock-free.
struct ForState {
  std::atomic<size_t> next{0};
  size_t n = 0;
  const std::function<void(size_t)>* fn = nullptr;
  Mutex mu;
  CondVar done;
  size_t active SL_GUARDED_BY(mu) = 0;  // helpers inside fn

  void Work() {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) (*fn)(i);
  }
};

}  // namespace

void ThreadPool::ParallelFor(size_t n, const std::function<void(size_t)>& fn, size_t max_workers) {
  if (n == 0) return;
  size_t workers = std::min(n, max_workers == 0 ? size() : std::min(max_workers, size()));
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  auto state = std::make_shared<ForState>();
  state->n = n;
  state->fn = &fn;
  for (size_t h = 0; h + 1 < workers; ++h) {
    Submit([state] {
      {
        MutexLock lock(state->mu);
        if (state->next.load() >= state->n) return;  // nothing left: never touch fn
        ++state->active;
      }
      state->Work();
      MutexLock lock(state->mu);
      if (--state->active == 0) state->done.NotifyAll();
    });
  }
  state->Work();
  MutexLock lock(state->mu);
  while (state->active != 0) state->done.Wait(state->mu);
}

}  // namespace saleslake
