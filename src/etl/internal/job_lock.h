// The job lock: one run of a job at a time, across processes and hosts. Internal to etl.
//
// The lock is an object, `_system/locks/job-<name>.lock`, created with put-if-absent. It names
// its holder: the host (hostname and boot id), the pid, the run id and a lease end. A run on
// the same host is alive while its pid is; a run on another host (a lake on S3 shared by several
// machines) is alive while its lease has not ended, and the holder renews the lease every third
// of its length. A dead holder's lock is taken over. The lock is for exclusion, not for
// safety: two runs that both got past it (a lease that ended under a stalled holder) still
// cannot both commit, since catalog commits are conditional.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/status.h"
#include "io/object_store.h"

namespace saleslake::etl::internal {

class JobLock {
 public:
  struct Options {
    const Clock* clock = nullptr;  // default ProcessClock()
    std::chrono::milliseconds lease{60'000};
    bool renew_in_background = true;  // tests call Renew() themselves
    std::string host;                 // default ThisHost()
  };
  static Result<JobLock> Acquire(io::ObjectStore& store, const std::string& job, const std::string& run_id) {
    return Acquire(store, job, run_id, Options{});
  }
  static Result<JobLock> Acquire(io::ObjectStore& store, const std::string& job, const std::string& run_id,
                                 Options options);
  JobLock(JobLock&&) noexcept;
  JobLock& operator=(JobLock&&) = delete;
  ~JobLock();

  // Rewrites the lock with a lease from now (the background renewal does this every lease / 3).
  Status Renew();
  // "hostname/boot-id": two processes share it only on one running machine.
  static std::string ThisHost();

 private:
  struct State;
  explicit JobLock(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace saleslake::etl::internal
