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
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ThreadPool::Submit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void ThreadPool::WorkerLoop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
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
  std::mutex mu;
  std::condition_variable done;
  size_t active = 0;  // GUARDED_BY(mu): helpers inside fn

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
        std::lock_guard<std::mutex> lock(state->mu);
        if (state->next.load() >= state->n) return;  // nothing left: never touch fn
        ++state->active;
      }
      state->Work();
      std::lock_guard<std::mutex> lock(state->mu);
      if (--state->active == 0) state->done.notify_all();
    });
  }
  state->Work();
  std::unique_lock<std::mutex> lock(state->mu);
  state->done.wait(lock, [&] { return state->active == 0; });
}

}  // namespace saleslake
