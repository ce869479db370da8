// /metrics: the job figures from the lake's run history, and what a scrape reads to get them.
#include "server/internal/metrics.h"

#include <gtest/gtest.h>

#include <atomic>

#include "io/local_store.h"
#include "support/forwarding_store.h"
#include "support/test_support.h"

namespace saleslake::server::internal {
namespace {

class CountingStore : public testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<std::string> Get(std::string_view k) const override {
    gets.fetch_add(1);
    return ForwardingStore::Get(k);
  }
  mutable std::atomic<int> gets{0};
};

std::string Report(const std::string& job, const std::string& status, int loaded, int quarantined) {
  return "{\"job\": \"" + job + "\", \"status\": \"" + status + "\", \"rows_loaded\": " + std::to_string(loaded) +
         ", \"rows_quarantined\": " + std::to_string(quarantined) + "}\n";
}

bool Has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

// A scrape lists the run history and reads only the reports it has not seen, or that changed
// since: on a lake on S3 each read is a request.
TEST(MetricsTest, JobFiguresReadEachRunReportOnceUntilItChanges) {
  saleslake::testing::TempDir dir;
  auto local = io::LocalStore::Open(dir.path(), true);
  ASSERT_TRUE(local.ok());
  CountingStore lake(local->get());
  ASSERT_TRUE(lake.Put("_system/runs/my-etl-job/r1.json", Report("my-etl-job", "succeeded", 100, 2)).ok());
  ASSERT_TRUE(lake.Put("_system/runs/my-etl-job/r2.json", Report("my-etl-job", "failed", 0, 0)).ok());
  ASSERT_TRUE(lake.Put("_system/runs/other/r3.json", Report("other", "succeeded", 7, 1)).ok());
  Metrics metrics;

  std::string text = metrics.Render(&lake);
  EXPECT_EQ(lake.gets.load(), 3);
  EXPECT_TRUE(Has(text, "saleslake_job_runs_total{job=\"my-etl-job\",status=\"succeeded\"} 1")) << text;
  EXPECT_TRUE(Has(text, "saleslake_job_runs_total{job=\"my-etl-job\",status=\"failed\"} 1")) << text;
  EXPECT_TRUE(Has(text, "saleslake_job_rows_loaded_total{job=\"my-etl-job\"} 100")) << text;
  EXPECT_TRUE(Has(text, "saleslake_job_rows_quarantined_total{job=\"other\"} 1")) << text;

  EXPECT_EQ(metrics.Render(&lake), text);
  EXPECT_EQ(lake.gets.load(), 3);  // nothing read again

  // A rewritten report is read again; a deleted one no longer counts.
  ASSERT_TRUE(lake.Put("_system/runs/my-etl-job/r2.json", Report("my-etl-job", "succeeded", 50, 0)).ok());
  ASSERT_TRUE(lake.Delete("_system/runs/other/r3.json").ok());
  text = metrics.Render(&lake);
  EXPECT_EQ(lake.gets.load(), 4);
  EXPECT_TRUE(Has(text, "saleslake_job_runs_total{job=\"my-etl-job\",status=\"succeeded\"} 2")) << text;
  EXPECT_TRUE(Has(text, "saleslake_job_rows_loaded_total{job=\"my-etl-job\"} 150")) << text;
  EXPECT_EQ(text.find("job=\"other\""), std::string::npos) << text;
}

}  // namespace
}  // namespace saleslake::server::internal
