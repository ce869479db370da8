#include "etl/internal/job_lock.h"

#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <fstream>

#include "common/logging.h"
#include "common/types.h"

namespace saleslake::etl::internal {

struct JobLock::State {
  io::ObjectStore* store = nullptr;
  std::string key, job, run_id;
  Options options;
  std::mutex mu;
  std::condition_variable wake;
  bool stop = false;  // GUARDED_BY(mu)
  std::thread renewer;

  std::string Body() const {
    const int64_t now_ms = ToEpochMs(options.clock->Now());
    nlohmann::json body = {{"host", options.host},
                           {"pid", static_cast<int64_t>(getpid())},
                           {"run_id", run_id},
                           {"since", UtcNow()},
                           {"expires_ms", now_ms + static_cast<int64_t>(options.lease.count())}};
    return body.dump();
  }
};

namespace {

bool PidAlive(int64_t pid) { return pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

}  // namespace

std::string JobLock::ThisHost() {
  char name[256] = {0};
  if (gethostname(name, sizeof name - 1) != 0) name[0] = '\0';
  std::string boot;
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::getline(in, boot);
  return std::string(name) + "/" + boot;
}

Result<JobLock> JobLock::Acquire(io::ObjectStore& store, const std::string& job, const std::string& run_id,
                                 Options options) {
  if (options.clock == nullptr) options.clock = &ProcessClock();
  if (options.host.empty()) options.host = ThisHost();
  if (options.lease.count() <= 0) return Status::InvalidArgument("job lock: the lease must be positive");
  auto s = std::make_unique<State>();
  s->store = &store;
  s->key = "_system/locks/job-" + job + ".lock";
  s->job = job;
  s->run_id = run_id;
  s->options = std::move(options);
  for (int attempt = 0; attempt < 3; ++attempt) {
    Status put = store.PutIfAbsent(s->key, s->Body());
    if (put.ok()) return JobLock(std::move(s));
    if (put.code() != StatusCode::kAlreadyExists) return put;
    auto held = store.Get(s->key);
    if (!held.ok()) continue;  // released meanwhile
    auto j = nlohmann::json::parse(*held, nullptr, /*allow_exceptions=*/false);
    const bool object = j.is_object();
    const std::string host = object ? j.value("host", std::string()) : "";
    const int64_t pid = object ? j.value("pid", int64_t{0}) : 0;
    const int64_t expires_ms = object ? j.value("expires_ms", int64_t{0}) : 0;
    const std::string holder = object ? j.value("run_id", std::string()) : "";
    // Locks of older versions name no host: they were taken on this machine.
    if (host.empty() || host == s->options.host) {
      if (PidAlive(pid))
        return Status::Aborted("job '" + job + "' is already running (run " + holder + ", pid " + std::to_string(pid) + ")");
    } else {
      const int64_t left_ms = expires_ms - ToEpochMs(s->options.clock->Now());
      if (left_ms > 0)
        return Status::Aborted("job '" + job + "' is already running on host " + host.substr(0, host.find('/')) +
                               " (run " + holder + ", pid " + std::to_string(pid) + "; its lease ends in " +
                               std::to_string((left_ms + 999) / 1000) + " s unless renewed)");
    }
    Log(LogLevel::kWarn, "taking over the lock of a dead run", {{"job", job}, {"run_id", holder}, {"host", host}});
    (void)store.Delete(s->key);
  }
  return Status::Aborted("could not take the lock of job '" + job + "'");
}

JobLock::JobLock(std::unique_ptr<State> s) : s_(std::move(s)) {
  if (!s_->options.renew_in_background) return;
  State* st = s_.get();
  s_->renewer = std::thread([st] {
    std::unique_lock<std::mutex> lock(st->mu);
    // The renewal waits on the steady clock: it paces writes, it decides nothing.
    while (!st->wake.wait_for(lock, st->options.lease / 3, [st] { return st->stop; })) {
      lock.unlock();
      Status s = st->store->Put(st->key, st->Body());
      if (!s.ok()) Log(LogLevel::kWarn, "could not renew the job lock", {{"job", st->job}, {"error", s.ToString()}});
      lock.lock();
    }
  });
}

JobLock::JobLock(JobLock&& o) noexcept = default;

JobLock::~JobLock() {
  if (!s_) return;
  if (s_->renewer.joinable()) {
    {
      std::lock_guard<std::mutex> lock(s_->mu);
      s_->stop = true;
    }
    s_->wake.notify_all();
    s_->renewer.join();
  }
  (void)s_->store->Delete(s_->key);
}

Status JobLock::Renew() { return s_->store->Put(s_->key, s_->Body()); }

}  // namespace saleslake::etl::internal
