// The job lock across processes and hosts: a live holder keeps others out (by its pid on this
// host, by its lease on another), a dead one is taken over, the lease is renewed, and the lock
// is gone when its run ends. Time is a ManualClock; nothing sleeps.
#include "etl/internal/job_lock.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include "io/local_store.h"
#include "support/test_support.h"

namespace saleslake::etl::internal {
namespace {

constexpr const char* kKey = "_system/locks/job-my-etl-job.lock";

class JobLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = io::LocalStore::Open(dir_.Join("lake"), true);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  JobLock::Options On(const std::string& host) {
    JobLock::Options o;
    o.clock = &clock_;
    o.lease = std::chrono::seconds(60);
    o.renew_in_background = false;
    o.host = host;
    return o;
  }
  nlohmann::json Held() { return nlohmann::json::parse(*store_->Get(kKey)); }

  testing::TempDir dir_;
  std::unique_ptr<io::LocalStore> store_;
  ManualClock clock_{FromEpochMs(1'765'000'000'000)};
};

TEST_F(JobLockTest, AnotherHostsRunHoldsTheLockUntilItsLeaseEnds) {
  auto a = JobLock::Acquire(*store_, "my-etl-job", "run-a", On("host-a/boot-1"));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(Held()["host"], "host-a/boot-1");
  EXPECT_EQ(Held()["run_id"], "run-a");
  EXPECT_EQ(Held()["expires_ms"], 1'765'000'060'000);

  // Host b sees a live lease: refused, with who holds it and for how long.
  clock_.Advance(std::chrono::seconds(30));
  auto b = JobLock::Acquire(*store_, "my-etl-job", "run-b", On("host-b/boot-7"));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kAborted);
  EXPECT_NE(b.status().message().find("already running on host host-a (run run-a"), std::string::npos)
      << b.status().ToString();
  EXPECT_NE(b.status().message().find("lease ends in 30 s"), std::string::npos) << b.status().ToString();

  // A renewal moves the lease: still refused after the first lease would have ended.
  ASSERT_TRUE(a->Renew().ok());
  EXPECT_EQ(Held()["expires_ms"], 1'765'000'090'000);
  clock_.Advance(std::chrono::seconds(45));
  EXPECT_EQ(JobLock::Acquire(*store_, "my-etl-job", "run-b", On("host-b/boot-7")).status().code(),
            StatusCode::kAborted);

  // A holder that stopped renewing (its host died) loses the lock when the lease ends.
  clock_.Advance(std::chrono::seconds(16));
  auto taken = JobLock::Acquire(*store_, "my-etl-job", "run-b", On("host-b/boot-7"));
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(Held()["run_id"], "run-b");
}

TEST_F(JobLockTest, OnThisHostThePidDecidesAndTheLockGoesWithTheRun) {
  const std::string here = JobLock::ThisHost();
  EXPECT_NE(here.find('/'), std::string::npos);
  {
    auto a = JobLock::Acquire(*store_, "my-etl-job", "run-a", On(here));
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    // Our own pid is alive, whatever the lease says.
    clock_.Advance(std::chrono::hours(2));
    auto b = JobLock::Acquire(*store_, "my-etl-job", "run-b", On(here));
    ASSERT_FALSE(b.ok());
    EXPECT_NE(b.status().message().find("already running (run run-a, pid " + std::to_string(getpid())),
              std::string::npos) << b.status().ToString();
  }
  EXPECT_FALSE(*store_->Exists(kKey));  // released with its run

  // A lock of a dead process on this host (pid 0 is never a run), or of an older version that
  // named no host, is taken over at once.
  for (const char* held : {R"({"host":"HERE","pid":0,"run_id":"old","expires_ms":9999999999999})",
                           R"({"pid":0,"run_id":"older"})", "not json"}) {
    std::string body = held;
    if (auto at = body.find("HERE"); at != std::string::npos) body.replace(at, 4, here);
    ASSERT_TRUE(store_->Put(kKey, body).ok());
    auto c = JobLock::Acquire(*store_, "my-etl-job", "run-c", On(here));
    ASSERT_TRUE(c.ok()) << held << ": " << c.status().ToString();
    EXPECT_EQ(Held()["run_id"], "run-c");
  }
}

TEST_F(JobLockTest, TheBackgroundRenewalKeepsTheLeaseAndStopsWithTheRun) {
  JobLock::Options o = On("host-a/boot-1");
  o.renew_in_background = true;
  o.lease = std::chrono::milliseconds(30);  // renewed every 10 ms of steady time
  auto a = JobLock::Acquire(*store_, "my-etl-job", "run-a", o);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  const int64_t first = Held()["expires_ms"];
  clock_.Advance(std::chrono::seconds(5));
  // The renewer writes the lease from the (moved) clock: wait, bounded, for one renewal.
  bool renewed = false;
  for (int i = 0; i < 500 && !renewed; ++i) {
    usleep(10'000);
    auto text = store_->Get(kKey);
    renewed = text.ok() && nlohmann::json::parse(*text, nullptr, false).value("expires_ms", int64_t{0}) > first;
  }
  EXPECT_TRUE(renewed);
}

}  // namespace
}  // namespace saleslake::etl::internal
