// The job lock: one run of a job at a time (a lock object in _system/locks), taken over from
// dead processes. Internal to etl.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <string>

#include "common/logging.h"
#include "common/status.h"
#include "common/types.h"
#include "io/object_store.h"

namespace saleslake::etl::internal {

class JobLock {
 public:
  static Result<JobLock> Acquire(io::ObjectStore& store, const std::string& job, const std::string& run_id) {
    std::string key = "_system/locks/job-" + job + ".lock";
    nlohmann::json body = {{"pid", static_cast<int64_t>(getpid())}, {"run_id", run_id}, {"since", UtcNow()}};
    for (int attempt = 0; attempt < 3; ++attempt) {
      Status s = store.PutIfAbsent(key, body.dump());
      if (s.ok()) return JobLock(&store, key);
      if (s.code() != StatusCode::kAlreadyExists) return s;
      auto held = store.Get(key);
      if (!held.ok()) continue;  // released meanwhile
      int64_t pid = 0;
      std::string holder;
      try {
        auto j = nlohmann::json::parse(*held);
        pid = j.value("pid", int64_t{0});
        holder = j.value("run_id", std::string());
      } catch (const std::exception&) {
      }
      if (pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM))
        return Status::Aborted("job '" + job + "' is already running (run " + holder + ", pid " + std::to_string(pid) + ")");
      Log(LogLevel::kWarn, "taking over the lock of a dead run", {{"job", job}, {"run_id", holder}});
      (void)store.Delete(key);
    }
    return Status::Aborted("could not take the lock of job '" + job + "'");
  }
  JobLock(JobLock&& o) noexcept : store_(o.store_), key_(std::move(o.key_)) { o.store_ = nullptr; }
  ~JobLock() {
    if (store_) (void)store_->Delete(key_);
  }

 private:
  JobLock(io::ObjectStore* store, std::string key) : store_(store), key_(std::move(key)) {}
  io::ObjectStore* store_;
  std::string key_;
};

}  // namespace saleslake::etl::internal
