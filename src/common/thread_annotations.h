// Clang thread-safety annotations (STYLE.md rule 14): a field a mutex protects is marked
// SL_GUARDED_BY(mu_), and clang's -Wthread-safety then checks every access holds the lock.
// Under other compilers the macros expand to nothing.
//
// std::mutex and std::lock_guard carry no annotations in libstdc++, so annotated code uses
// saleslake::Mutex, MutexLock and CondVar below (thin wrappers, no cost over std::mutex).
#pragma once

#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define SL_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define SL_THREAD_ANNOTATION(x)
#endif

#define SL_CAPABILITY(x) SL_THREAD_ANNOTATION(capability(x))
#define SL_SCOPED_CAPABILITY SL_THREAD_ANNOTATION(scoped_lockable)
#define SL_GUARDED_BY(x) SL_THREAD_ANNOTATION(guarded_by(x))
#define SL_PT_GUARDED_BY(x) SL_THREAD_ANNOTATION(pt_guarded_by(x))
#define SL_REQUIRES(...) SL_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define SL_ACQUIRE(...) SL_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define SL_RELEASE(...) SL_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define SL_EXCLUDES(...) SL_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define SL_NO_THREAD_SAFETY_ANALYSIS SL_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace saleslake {

// A std::mutex the analysis knows about. Thread safety: it is the lock.
class SL_CAPABILITY("mutex") Mutex {
 public:
  void lock() SL_ACQUIRE() { mu_.lock(); }
  void unlock() SL_RELEASE() { mu_.unlock(); }
  // For std::condition_variable_any and other code that needs the std::mutex itself; the
  // analysis does not follow locks taken through it.
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

// Holds a Mutex for its scope (std::lock_guard with annotations).
class SL_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) SL_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~MutexLock() SL_RELEASE() { mu_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

// A condition variable over a Mutex. Thread safety: like std::condition_variable.
class CondVar {
 public:
  // Releases `mu` while it waits and holds it again on return. Wakeups may be spurious: wait in
  // a loop that tests the condition (the analysis then checks the condition's reads too).
  void Wait(Mutex& mu) SL_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.native(), std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // still held: the caller's MutexLock releases it
  }
  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace saleslake
