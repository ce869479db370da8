// The catalog through the saleslake binary: crawl/tables/describe/export-ddl, concurrent crawl
// processes, and a crawl SIGKILLed in the middle of its commit.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "support/test_support.h"

extern char** environ;

namespace saleslake {
namespace {

using testing::CommandResult;
using testing::RunSaleslake;
using testing::TempDir;

constexpr const char* kCsv =
    "purchase_date,customer_id,product_id,amount,region,status\n"
    "2025-08-01,C001,P01,12.50,EU,completed\n"
    "2025-08-02,C002,P02,7.25,US,pending\n";
// Other rows of the same shape: files with equal content are one file to the crawler.
constexpr const char* kCsvB =
    "purchase_date,customer_id,product_id,amount,region,status\n"
    "2025-08-03,C003,P03,1.50,EU,completed\n"
    "2025-08-04,C004,P02,9.00,US,pending\n";

class CatalogCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_.Join("lake");
    CommandResult r = Run({"init"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  CommandResult Run(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {"--lake", lake_});
    return RunSaleslake(args, "", env);
  }
  void Put(const std::string& rel, const std::string& data) {
    std::filesystem::create_directories(std::filesystem::path(lake_ + "/" + rel).parent_path());
    testing::WriteFile(lake_ + "/" + rel, data);
  }
  nlohmann::json Describe(const std::string& table) {
    CommandResult r = Run({"describe", table, "--format", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  // Starts saleslake on this lake without waiting; returns the pid.
  pid_t Spawn(std::vector<std::string> args, const std::string& env_extra) {
    args.insert(args.begin(), {"--lake", lake_});
    return testing::SpawnSaleslake(args, {env_extra});
  }
  size_t CountUnder(const std::string& rel) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(lake_ + "/" + rel, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file() && it->path().filename().string().rfind(".tmp-", 0) != 0) ++n;
    return n;
  }

  TempDir dir_;
  std::string lake_;
};

TEST_F(CatalogCliTest, CrawlTablesDescribeAndDdl) {
  Put("raw_data/sales.csv", kCsv);
  CommandResult c1 = Run({"crawl"});
  ASSERT_EQ(c1.exit_code, 0) << c1.err;
  EXPECT_NE(c1.out.find("crawler raw-crawler -> table raw_sales (created)"), std::string::npos) << c1.out;
  EXPECT_NE(c1.out.find("added     raw_data/sales.csv"), std::string::npos);
  CommandResult c2 = Run({"crawl", "--crawler", "raw-crawler"});
  ASSERT_EQ(c2.exit_code, 0) << c2.err;
  EXPECT_NE(c2.out.find("no changes"), std::string::npos) << c2.out;
  EXPECT_NE(c2.out.find("1 files seen, 0 read"), std::string::npos) << c2.out;

  CommandResult t = Run({"tables"});
  ASSERT_EQ(t.exit_code, 0);
  EXPECT_NE(t.out.find("raw_sales"), std::string::npos);

  nlohmann::json d = Describe("raw_sales");
  ASSERT_TRUE(d.is_object()) << "not one JSON object";
  EXPECT_EQ(d["name"], "raw_sales");
  EXPECT_EQ(d["format"], "csv");
  EXPECT_EQ(d["location"], "raw_data/");
  EXPECT_EQ(d["row_count"], 2);
  EXPECT_EQ(d["files"], 1);
  EXPECT_EQ(d["snapshot_id"], 1);
  EXPECT_EQ(d["partition_keys"], nlohmann::json::array());
  ASSERT_EQ(d["columns"].size(), 6u);
  EXPECT_EQ(d["columns"][0]["name"], "purchase_date");
  EXPECT_EQ(d["columns"][0]["type"], "DATE");
  EXPECT_EQ(d["columns"][3]["type"], "DOUBLE");
  EXPECT_EQ(d["columns"][1]["type"], "VARCHAR");

  CommandResult a = Run({"catalog", "export-ddl", "raw_sales", "--dialect", "athena"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.out.find("CREATE EXTERNAL TABLE `raw_sales`"), std::string::npos);
  EXPECT_NE(a.out.find("STORED AS TEXTFILE"), std::string::npos);
  EXPECT_NE(a.out.find("'skip.header.line.count' = '1'"), std::string::npos);
  EXPECT_NE(a.out.find("/raw_data/'"), std::string::npos) << a.out;
  CommandResult tr = Run({"catalog", "export-ddl", "raw_sales", "--dialect", "trino", "--location-uri", "s3://b/lake"});
  ASSERT_EQ(tr.exit_code, 0);
  EXPECT_NE(tr.out.find("external_location = 's3://b/lake/raw_data/'"), std::string::npos) << tr.out;

  // Errors: one line, exit 1 (runtime) or 2 (usage).
  CommandResult missing = Run({"describe", "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("table 'nope' not found"), std::string::npos);
  EXPECT_EQ(Run({"catalog", "export-ddl", "raw_sales", "--dialect", "oracle"}).exit_code, 2);
  CommandResult nocrawler = Run({"crawl", "--crawler", "zzz"});
  EXPECT_EQ(nocrawler.exit_code, 1);
  EXPECT_NE(nocrawler.err.find("no crawler named 'zzz'"), std::string::npos);
}

TEST_F(CatalogCliTest, PartitionsAndTimeTravel) {
  Put("raw_data/region=EU/a.csv", kCsv);
  ASSERT_EQ(Run({"crawl"}).exit_code, 0);
  Put("raw_data/region=US/b.csv", kCsvB);
  CommandResult c = Run({"crawl"});
  ASSERT_EQ(c.exit_code, 0);
  EXPECT_NE(c.out.find("partition region=US (new)"), std::string::npos) << c.out;
  nlohmann::json now = Describe("raw_sales");
  EXPECT_EQ(now["partition_keys"], nlohmann::json({"region"}));
  EXPECT_EQ(now["files"], 2);
  EXPECT_EQ(now["snapshot_id"], 2);
  CommandResult old = Run({"describe", "raw_sales", "--format", "json", "--snapshot", "1"});
  ASSERT_EQ(old.exit_code, 0) << old.err;
  nlohmann::json o = nlohmann::json::parse(old.out);
  EXPECT_EQ(o["files"], 1);
  EXPECT_EQ(o["snapshot_id"], 1);
  CommandResult ddl = Run({"catalog", "export-ddl", "raw_sales", "--dialect", "hive"});
  EXPECT_NE(ddl.out.find("PARTITIONED BY (\n  `region` STRING\n)"), std::string::npos) << ddl.out;
  CommandResult snaps = Run({"catalog", "snapshots", "raw_sales"});
  EXPECT_NE(snaps.out.find("(current)"), std::string::npos);
}

TEST_F(CatalogCliTest, BadPipelineYamlIsOneClearError) {
  testing::WriteFile(lake_ + "/pipeline.yaml", "crawlers:\n  - name: c\n    path: raw_data/\n    table: t\n    format: xml\n");
  CommandResult r = Run({"crawl"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("pipeline.yaml:5:13: unknown crawler format 'xml'"), std::string::npos) << r.err;
}

TEST_F(CatalogCliTest, ConcurrentCrawlProcessesLoseNothing) {
  Put("raw_data/a.csv", kCsv);
  Put("raw_data/b.csv", kCsvB);
  // Each process pauses before publishing, so that all of them race for the same version.
  std::vector<pid_t> pids;
  for (int i = 0; i < 4; ++i) {
    pid_t p = Spawn({"crawl"}, "SALESLAKE_TEST_COMMIT_PAUSE_MS=100");
    ASSERT_GT(p, 0);
    pids.push_back(p);
  }
  for (pid_t p : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(p, &status, 0), p);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  nlohmann::json d = Describe("raw_sales");
  EXPECT_EQ(d["files"], 2);  // each file once, however many crawls raced
  EXPECT_EQ(d["row_count"], 4);
  EXPECT_EQ(d["snapshot_id"], 1);  // the losers found nothing left to do
}

TEST_F(CatalogCliTest, SigkillDuringCommitLeavesPreviousSnapshot) {
  Put("raw_data/a.csv", kCsv);
  ASSERT_EQ(Run({"crawl"}).exit_code, 0);
  Put("raw_data/b.csv", kCsvB);
  size_t manifests_before = CountUnder("catalog/tables/raw_sales/manifests");
  pid_t p = Spawn({"crawl"}, "SALESLAKE_TEST_COMMIT_PAUSE_MS=30000");
  ASSERT_GT(p, 0);
  // Wait until the crawl has written its manifest (it is then paused before the publish).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (CountUnder("catalog/tables/raw_sales/manifests") == manifests_before &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_GT(CountUnder("catalog/tables/raw_sales/manifests"), manifests_before);
  ASSERT_EQ(kill(p, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(p, &status, 0), p);
  ASSERT_TRUE(WIFSIGNALED(status));

  nlohmann::json d = Describe("raw_sales");
  EXPECT_EQ(d["snapshot_id"], 1);
  EXPECT_EQ(d["files"], 1);
  CommandResult again = Run({"crawl"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("added     raw_data/b.csv"), std::string::npos) << again.out;
  nlohmann::json after = Describe("raw_sales");
  EXPECT_EQ(after["snapshot_id"], 2);
  EXPECT_EQ(after["files"], 2);
}

}  // namespace
}  // namespace saleslake
