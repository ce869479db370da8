// Retries with jittered exponential backoff ("full jitter": a uniform delay in
// [0, min(cap, base * 2^attempt)]), so clients that failed together do not retry together.
// Sleeping and randomness are injected: tests check the schedule without waiting.
#pragma once

#include <cstdint>
#include <functional>

namespace saleslake::io::internal {

struct RetryPolicy {
  int max_attempts = 6;       // tries in all, the first one included
  int64_t base_ms = 100;      // cap of the first retry's delay
  int64_t max_delay_ms = 5000;
};

class Backoff {
 public:
  // `sleep_ms` waits; `random` returns uniformly distributed 64-bit values.
  Backoff(RetryPolicy policy, std::function<void(int64_t)> sleep_ms, std::function<uint64_t()> random)
      : policy_(policy), sleep_ms_(std::move(sleep_ms)), random_(std::move(random)) {}

  // The delay before retry number `retry` (0 = the first retry), drawn with the injected random.
  int64_t DelayMs(int retry) const {
    int64_t cap = policy_.base_ms;
    for (int i = 0; i < retry && cap < policy_.max_delay_ms; ++i) cap *= 2;
    if (cap > policy_.max_delay_ms) cap = policy_.max_delay_ms;
    return cap <= 0 ? 0 : static_cast<int64_t>(random_() % static_cast<uint64_t>(cap + 1));
  }
  // After failed attempt number `attempt` (1-based): false when no attempt is left, else sleeps
  // the jittered delay and returns true.
  bool BeforeRetry(int attempt) const {
    if (attempt >= policy_.max_attempts) return false;
    sleep_ms_(DelayMs(attempt - 1));
    return true;
  }
  const RetryPolicy& policy() const { return policy_; }

 private:
  RetryPolicy policy_;
  std::function<void(int64_t)> sleep_ms_;
  std::function<uint64_t()> random_;
};

}  // namespace saleslake::io::internal
