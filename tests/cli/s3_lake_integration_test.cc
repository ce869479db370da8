// The main pipeline with the lake on S3: `saleslake serve` on a free loopback port holds the
// bucket, and init -> upload -> crawl -> start-job -> query run with --lake s3://bucket/lake,
// credentials from the served lake's admin-credentials file through AWS_PROFILE (the standard
// chain). Every answer must equal the same pipeline's on a local lake.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "server/server_test_util.h"
#include "support/test_support.h"

namespace saleslake::testing {
namespace {

class S3LakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    served_ = dir_.Join("served");
    ASSERT_EQ(RunSaleslakeIn(served_, {"init"}).exit_code, 0);
    std::string error;
    ASSERT_TRUE(server_.Start(served_, {"--access-log", ""}, &error)) << error;
    env_ = {"AWS_SHARED_CREDENTIALS_FILE=" + served_ + "/_system/admin-credentials",
            "AWS_CONFIG_FILE=" + dir_.Join("no-config"),
            "AWS_PROFILE=saleslake",
            "AWS_ACCESS_KEY_ID=",  // the profile, not whatever the environment has
            "AWS_SECRET_ACCESS_KEY=",
            "AWS_ENDPOINT_URL_S3=",
            "AWS_ENDPOINT_URL=" + server_.url()};
  }
  CommandResult S3(std::vector<std::string> args, const std::string& lake = "s3://my-analytics-bucket/lake") {
    args.insert(args.begin(), {"--lake", lake});
    return RunSaleslake(args, "", env_);
  }

  TempDir dir_;
  std::string served_;
  ServerProcess server_;
  std::vector<std::string> env_;
};

TEST_F(S3LakeTest, PipelineGivesTheSameAnswersAsALocalLake) {
  const std::string csv = dir_.Join("sales.csv");
  ASSERT_EQ(RunSaleslake({"generate", "--rows", "6000", "--messy", "--out", csv}).exit_code, 0);
  const std::string local = dir_.Join("local");
  auto step = [&](const std::vector<std::string>& args) {
    CommandResult l = RunSaleslakeIn(local, args);
    CommandResult s = S3(args);
    EXPECT_EQ(l.exit_code, 0) << l.err;
    EXPECT_EQ(s.exit_code, 0) << "s3: " << s.err;
    return std::make_pair(l, s);
  };
  auto init = step({"init"});
  EXPECT_NE(init.second.out.find("lake s3://my-analytics-bucket/lake ready"), std::string::npos) << init.second.out;
  step({"upload", csv});
  auto crawl = step({"crawl"});
  EXPECT_EQ(crawl.first.out, crawl.second.out);
  auto job = step({"start-job", "--job-name", "my-etl-job", "--format", "json"});
  EXPECT_NE(job.second.out.find("\"succeeded\""), std::string::npos) << job.second.out;

  // Sums are rounded: float addition order follows the files' row groups, which differ
  // between the lakes only through the tokenized customer_id (each lake has its own secret).
  const std::vector<std::string> queries = {
      "SELECT count(*), count(DISTINCT customer_id), round(sum(amount), 2), min(purchase_date), max(purchase_date) FROM sales_data",
      "SELECT region, purchase_month, count(*), round(sum(amount), 2), round(avg(amount), 4) FROM sales_data GROUP BY 1, 2 ORDER BY 1, 2",
      "SELECT status, count(*) FROM sales_data WHERE region = 'Western Europe' OR region = 'Asia Pacific' GROUP BY 1 ORDER BY 1",
      "SELECT product_id, round(sum(amount), 2) AS s FROM sales_data WHERE purchase_month = '2025-03' GROUP BY 1 ORDER BY s DESC, 1 LIMIT 10",
      "SELECT quality_flags, count(*) FROM sales_data GROUP BY 1 ORDER BY 1",
      "SELECT purchase_date, amount, status FROM sales_data WHERE region = 'Oceania' ORDER BY purchase_date, amount, status LIMIT 20",
  };
  for (const std::string& q : queries) {
    auto r = step({"query", q, "--format", "csv"});
    EXPECT_EQ(r.first.out, r.second.out) << q;
    EXPECT_GT(r.second.out.size(), 10u) << q;
  }
  auto tables = step({"tables"});
  EXPECT_EQ(tables.first.out, tables.second.out);

  // A second run loads nothing, a second crawl reads nothing (ETag and size unchanged).
  CommandResult again = S3({"start-job", "--job-name", "my-etl-job"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("no_op"), std::string::npos) << again.out;
  CommandResult recrawl = S3({"crawl"});
  EXPECT_NE(recrawl.out.find("no changes"), std::string::npos) << recrawl.out;

  // The objects are real files of the served lake: the Parquet is readable as such.
  size_t parquet = 0;
  std::string one;
  for (const auto& e : std::filesystem::recursive_directory_iterator(served_ + "/lake/processed_data")) {
    if (e.path().extension() == ".parquet") {
      ++parquet;
      one = e.path().string();
    }
  }
  ASSERT_GT(parquet, 0u);
  CommandResult cat = RunSaleslake({"parquet-meta", one});
  EXPECT_EQ(cat.exit_code, 0) << cat.err;
}

TEST_F(S3LakeTest, TwoConcurrentJobsNeverBothCommit) {
  const std::string csv = dir_.Join("sales.csv");
  ASSERT_EQ(RunSaleslake({"generate", "--rows", "4000", "--out", csv}).exit_code, 0);
  ASSERT_EQ(S3({"init"}).exit_code, 0);
  ASSERT_EQ(S3({"upload", csv}).exit_code, 0);
  ASSERT_EQ(S3({"crawl"}).exit_code, 0);
  CommandResult a, b;
  std::thread ta([&] { a = S3({"start-job", "--job-name", "my-etl-job"}); });
  std::thread tb([&] { b = S3({"start-job", "--job-name", "my-etl-job"}); });
  ta.join();
  tb.join();
  int succeeded = 0;
  for (const CommandResult* r : {&a, &b}) {
    if (r->exit_code == 0 && r->out.find(": succeeded") != std::string::npos) {
      ++succeeded;
    } else if (r->exit_code == 0) {
      EXPECT_NE(r->out.find("no_op"), std::string::npos) << r->out;  // ran after the other one
    } else {
      // Refused by the job lock, or lost the commit race: either way nothing was committed.
      EXPECT_TRUE(r->err.find("already running") != std::string::npos ||
                  r->err.find("committed meanwhile") != std::string::npos) << r->err;
    }
  }
  EXPECT_EQ(succeeded, 1) << a.out << a.err << b.out << b.err;
  CommandResult count = S3({"query", "SELECT count(*) FROM sales_data", "--format", "csv"});
  EXPECT_EQ(count.out, "_col0\n4000\n") << count.err;  // loaded once, not twice
  CommandResult snaps = S3({"catalog", "snapshots", "sales_data"});
  EXPECT_EQ(snaps.out.find("       2 "), std::string::npos) << snaps.out;  // one snapshot only
}

TEST_F(S3LakeTest, ClearErrorsForMissingLakesAndBuckets) {
  CommandResult none = S3({"tables"}, "s3://my-analytics-bucket/nothing-here");
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("not a lake: s3://my-analytics-bucket/nothing-here"), std::string::npos) << none.err;

  CommandResult bucket = S3({"tables"}, "s3://no-such-bucket/lake");
  EXPECT_EQ(bucket.exit_code, 1);
  EXPECT_NE(bucket.err.find("no-such-bucket"), std::string::npos) << bucket.err;

  CommandResult serve = S3({"serve", "--port", "0"});
  EXPECT_EQ(serve.exit_code, 1);
  EXPECT_NE(serve.err.find("needs a local lake"), std::string::npos) << serve.err;

  std::vector<std::string> no_creds = {"AWS_SHARED_CREDENTIALS_FILE=" + dir_.Join("none"),
                                       "AWS_CONFIG_FILE=" + dir_.Join("none"), "AWS_PROFILE=",
                                       "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=",
                                       "AWS_ENDPOINT_URL=" + server_.url()};
  CommandResult anon = RunSaleslake({"--lake", "s3://my-analytics-bucket/lake", "tables"}, "", no_creds);
  EXPECT_EQ(anon.exit_code, 1);
  EXPECT_NE(anon.err.find("no AWS credentials"), std::string::npos) << anon.err;
}

}  // namespace
}  // namespace saleslake::testing
