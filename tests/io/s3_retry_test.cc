// The S3 store's retry schedule: full jitter under an exponentially growing cap, a bounded
// number of attempts, with an injected sleeper and random source (no real waiting).
#include <gtest/gtest.h>

#include <vector>

#include "io/internal/retry.h"

namespace saleslake::io::internal {
namespace {

TEST(Backoff, DelaysStayUnderAGrowingCappedBound) {
  uint64_t state = 12345;
  auto lcg = [&state] { return state = state * 6364136223846793005ull + 1442695040888963407ull; };
  Backoff b({.max_attempts = 10, .base_ms = 100, .max_delay_ms = 1000}, [](int64_t) {}, lcg);
  const int64_t caps[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (int retry = 0; retry < 7; ++retry) {
    int64_t lo = caps[retry], hi = 0;
    for (int i = 0; i < 500; ++i) {
      int64_t d = b.DelayMs(retry);
      ASSERT_GE(d, 0);
      ASSERT_LE(d, caps[retry]) << "retry " << retry;
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    // Jittered: the draws spread over the range rather than sitting at the cap.
    EXPECT_LT(lo, caps[retry] / 4) << "retry " << retry;
    EXPECT_GT(hi, caps[retry] * 3 / 4) << "retry " << retry;
  }
}

TEST(Backoff, ExtremesOfTheRandomSource) {
  Backoff zero({.max_attempts = 5, .base_ms = 50, .max_delay_ms = 400}, [](int64_t) {}, [] { return uint64_t{0}; });
  EXPECT_EQ(zero.DelayMs(3), 0);
  // random % (cap + 1) == cap exactly when random == cap.
  Backoff top({.max_attempts = 5, .base_ms = 50, .max_delay_ms = 400}, [](int64_t) {}, [] { return uint64_t{400}; });
  EXPECT_EQ(top.DelayMs(0), 400 % 51);
  EXPECT_EQ(top.DelayMs(10), 400);  // capped, and no overflow for large retry numbers
}

TEST(Backoff, SleepsBetweenAttemptsAndStopsAtTheLimit) {
  std::vector<int64_t> slept;
  Backoff b({.max_attempts = 4, .base_ms = 100, .max_delay_ms = 5000}, [&](int64_t ms) { slept.push_back(ms); },
            [] { return uint64_t{1'000'000'007}; });
  int attempt = 1;
  while (b.BeforeRetry(attempt)) ++attempt;
  EXPECT_EQ(attempt, 4);  // three retries after the first attempt
  ASSERT_EQ(slept.size(), 3u);
  EXPECT_EQ(slept[0], 1'000'000'007 % 101);
  EXPECT_EQ(slept[1], 1'000'000'007 % 201);
  EXPECT_EQ(slept[2], 1'000'000'007 % 401);

  Backoff once({.max_attempts = 1}, [&](int64_t) { ADD_FAILURE() << "no retry allowed"; }, [] { return uint64_t{1}; });
  EXPECT_FALSE(once.BeforeRetry(1));
}

}  // namespace
}  // namespace saleslake::io::internal
