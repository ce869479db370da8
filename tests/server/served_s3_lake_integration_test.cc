// `saleslake serve --lake s3://...`: a lake that lives in a bucket (here one served by a first
// `saleslake serve` of a local directory on loopback) served by a second server, whose own state
// (audit, journals, staging, spooled results) stays in --state-dir. Through the second server,
// with the S3 lake's own IAM users: /healthz, the S3 API (PutObject into raw_data/, list, get),
// Glue StartCrawler / StartJobRun loading the upload exactly once, and SQL through Athena (AWS
// CLI v2) and the Trino protocol (curl), equal to `saleslake query` on the S3 lake.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/server_test_util.h"
#include "support/test_support.h"

namespace saleslake::testing {
namespace {

using nlohmann::json;

constexpr const char* kLake = "s3://my-analytics-bucket/lake";

class ServedS3LakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bucket_dir_ = dir_.Join("bucket");
    ASSERT_EQ(RunSaleslakeIn(bucket_dir_, {"init"}).exit_code, 0);
    std::string error;
    ASSERT_TRUE(bucket_.Start(bucket_dir_, {"--access-log", ""}, &error)) << error;
    // The S3 lake's clients (the CLI and the second server) reach the bucket with its admin key.
    lake_env_ = {"AWS_SHARED_CREDENTIALS_FILE=" + bucket_dir_ + "/_system/admin-credentials",
                 "AWS_CONFIG_FILE=" + dir_.Join("no-config"), "AWS_PROFILE=saleslake",
                 "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_ENDPOINT_URL_S3=",
                 "AWS_ENDPOINT_URL=" + bucket_.url()};
    CommandResult init = Lake({"init"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    // `init` on S3 put the lake's own admin key into the lake: it is a file of the bucket's lake.
    lake_admin_ = bucket_dir_ + "/lake/_system/admin-credentials";
    ASSERT_TRUE(std::filesystem::exists(lake_admin_));
    WriteFile(dir_.Join("aws-config"), "[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n");
    state_ = dir_.Join("state");
    ASSERT_TRUE(served_.Start(kLake, {"--state-dir", state_, "--access-log", ""}, &error, lake_env_)) << error;
  }

  CommandResult Lake(std::vector<std::string> args) {
    args.insert(args.begin(), {"--lake", kLake});
    return RunSaleslake(args, "", lake_env_);
  }

  // The AWS CLI against the served S3 lake, as the lake's admin (its IAM, not the bucket's).
  CommandResult Aws(std::vector<std::string> args, const std::string& profile = "saleslake") {
    std::vector<std::string> argv = {"/usr/bin/aws", "--endpoint-url", served_.url(), "--output", "json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv, "", {"AWS_SHARED_CREDENTIALS_FILE=" + lake_admin_, "AWS_PROFILE=" + profile,
                                 "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_DEFAULT_REGION=us-east-1",
                                 "AWS_CONFIG_FILE=" + dir_.Join("aws-config"), "AWS_ENDPOINT_URL=",
                                 "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "HOME=" + dir_.path()});
  }

  json AwsJson(std::vector<std::string> args) {
    auto r = Aws(std::move(args));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json j = json::parse(r.out, nullptr, false);
    return j.is_discarded() ? json::object() : j;
  }

  // Polls `get` until `done` holds; bounded at about 90 s.
  json WaitFor(const std::vector<std::string>& get, const std::function<bool(const json&)>& done) {
    json last;
    for (int i = 0; i < 450; ++i) {
      last = AwsJson(get);
      if (done(last)) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "gave up waiting on " << get[1] << ": " << last.dump();
    return last;
  }

  // `sql` through Athena: the rows after the header, cells joined by ','.
  std::vector<std::string> Athena(const std::string& sql) {
    json start = AwsJson({"athena", "start-query-execution", "--query-string", sql, "--work-group", "primary"});
    std::string id = start.value("QueryExecutionId", "");
    EXPECT_FALSE(id.empty());
    json exec = WaitFor({"athena", "get-query-execution", "--query-execution-id", id}, [](const json& j) {
      std::string s = j["QueryExecution"]["Status"]["State"];
      return s != "QUEUED" && s != "RUNNING";
    });
    EXPECT_EQ(exec["QueryExecution"]["Status"]["State"], "SUCCEEDED") << exec.dump();
    json results = AwsJson({"athena", "get-query-results", "--query-execution-id", id});
    std::vector<std::string> rows;
    for (const json& row : results["ResultSet"]["Rows"]) {
      std::string line;
      for (const json& d : row["Data"]) line += (line.empty() ? "" : ",") + d.value("VarCharValue", std::string());
      rows.push_back(line);
    }
    if (!rows.empty()) rows.erase(rows.begin());
    return rows;
  }

  // `sql` through the Trino protocol with HTTP Basic (access key id : secret), paged to the end.
  std::vector<std::string> Trino(const std::string& sql, const std::string& user_pass) {
    std::vector<std::string> rows;
    CommandResult post = RunProgram({"curl", "-s", "-u", user_pass, "-H", "X-Trino-User: admin", "--data-binary",
                                     sql, served_.url() + "/v1/statement"});
    json page = json::parse(post.out, nullptr, false);
    for (int i = 0; i < 600 && !page.is_discarded(); ++i) {
      EXPECT_FALSE(page.contains("error")) << page.dump();
      if (page.contains("data")) {
        for (const json& row : page["data"]) {
          std::string line;
          for (const json& v : row) line += (line.empty() ? "" : ",") + (v.is_string() ? v.get<std::string>() : v.dump());
          rows.push_back(line);
        }
      }
      if (!page.contains("nextUri")) return rows;
      CommandResult next = RunProgram({"curl", "-s", "-u", user_pass, "-H", "X-Trino-User: admin", page["nextUri"]});
      page = json::parse(next.out, nullptr, false);
    }
    ADD_FAILURE() << "Trino paging did not end: " << post.out;
    return rows;
  }

  // `saleslake query` on the S3 lake (no server between): rows without the header.
  std::vector<std::string> CliRows(const std::string& sql) {
    CommandResult r = Lake({"query", sql, "--format", "csv"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> rows;
    for (size_t s = r.out.find('\n') + 1; s < r.out.size();) {
      size_t nl = r.out.find('\n', s);
      rows.push_back(r.out.substr(s, nl - s));
      s = nl == std::string::npos ? r.out.size() : nl + 1;
    }
    return rows;
  }

  // The lake admin's "id:secret" from the credentials file `init` wrote.
  std::string AdminUserPass() {
    std::string text = ReadFile(lake_admin_);
    auto value = [&](const std::string& name) {
      size_t at = text.find(name);
      if (at == std::string::npos) return std::string();
      size_t start = text.find_first_not_of(" =", at + name.size());
      return text.substr(start, text.find('\n', start) - start);
    };
    return value("aws_access_key_id") + ":" + value("aws_secret_access_key");
  }

  TempDir dir_;
  std::string bucket_dir_, lake_admin_, state_;
  ServerProcess bucket_;  // holds the bucket the lake lives in
  ServerProcess served_;  // serves the lake on S3
  std::vector<std::string> lake_env_;
};

TEST_F(ServedS3LakeTest, HealthS3ApiGlueAthenaAndTrinoOverTheLakeOnS3) {
  auto health = RunProgram({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", served_.url() + "/healthz"});
  EXPECT_EQ(health.out, "200");
  // Authentication is the S3 lake's IAM: a key it does not know is refused.
  auto unknown = RunProgram({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", "AKIANOTAKEY:nope",
                             "-H", "X-Trino-User: x", "--data-binary", "SELECT 1", served_.url() + "/v1/statement"});
  EXPECT_EQ(unknown.out, "401") << unknown.err;

  // The S3 API forwards to the lake's store: the upload lands in the bucket's lake.
  const std::string csv = dir_.Join("sales.csv");
  ASSERT_EQ(RunSaleslake({"generate", "--rows", "4000", "--seed", "5", "--out", csv}).exit_code, 0);
  auto cp = Aws({"s3", "cp", csv, "s3://my-analytics-bucket/raw_data/sales.csv", "--no-progress"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  EXPECT_EQ(ReadFile(bucket_dir_ + "/lake/raw_data/sales.csv"), ReadFile(csv));
  auto ls = Aws({"s3api", "list-objects-v2", "--bucket", "my-analytics-bucket", "--prefix", "raw_data/"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("\"raw_data/sales.csv\""), std::string::npos) << ls.out;
  auto get = Aws({"s3", "cp", "s3://my-analytics-bucket/raw_data/sales.csv", dir_.Join("back.csv"), "--no-progress"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(ReadFile(dir_.Join("back.csv")), ReadFile(csv));
  // A multipart upload (the CLI goes multipart at 8 MB) is staged in the state directory and
  // assembled into the lake's store; nothing is left staged.
  std::string big(12 << 20, '\0');
  std::mt19937_64 rng(7);
  for (char& c : big) c = static_cast<char>(rng());
  WriteFile(dir_.Join("big.bin"), big);
  auto up = Aws({"s3", "cp", dir_.Join("big.bin"), "s3://my-analytics-bucket/uploads/big.bin", "--no-progress"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_TRUE(ReadFile(bucket_dir_ + "/lake/uploads/big.bin") == big);
  auto head = Aws({"s3api", "head-object", "--bucket", "my-analytics-bucket", "--key", "uploads/big.bin"});
  EXPECT_NE(head.out.find("-2\\\""), std::string::npos) << head.out;  // the multipart ETag of 2 parts
  EXPECT_TRUE(std::filesystem::is_empty(state_ + "/_system/s3/uploads"));
  // The lake's managed prefixes stay closed through S3, as over a local lake.
  EXPECT_NE(Aws({"s3", "cp", csv, "s3://my-analytics-bucket/catalog/x.csv"}).exit_code, 0);

  // Glue: the crawler and the job load the upload (the server's rules may be loading it too).
  ASSERT_EQ(Aws({"glue", "start-crawler", "--name", "raw-crawler"}).exit_code, 0);
  WaitFor({"glue", "get-crawler", "--name", "raw-crawler"},
          [](const json& j) { return j["Crawler"]["State"] == "READY" && j["Crawler"].contains("LastCrawl"); });
  json run = AwsJson({"glue", "start-job-run", "--job-name", "my-etl-job"});
  std::string run_id = run.value("JobRunId", "");
  ASSERT_FALSE(run_id.empty());
  json done = WaitFor({"glue", "get-job-run", "--job-name", "my-etl-job", "--run-id", run_id}, [](const json& j) {
    std::string s = j["JobRun"]["JobRunState"];
    return s != "RUNNING" && s != "STARTING" && s != "STOPPING";
  });
  EXPECT_EQ(done["JobRun"]["JobRunState"], "SUCCEEDED") << done.dump();
  // A second run loads nothing: every row is in the table exactly once.
  json again = AwsJson({"glue", "start-job-run", "--job-name", "my-etl-job"});
  WaitFor({"glue", "get-job-run", "--job-name", "my-etl-job", "--run-id", again.value("JobRunId", "")},
          [](const json& j) {
            std::string s = j["JobRun"]["JobRunState"];
            return s != "RUNNING" && s != "STARTING" && s != "STOPPING";
          });

  const std::string sql = "SELECT region, count(*), round(sum(amount), 2) FROM sales_data GROUP BY 1 ORDER BY 1";
  std::vector<std::string> cli = CliRows(sql);
  ASSERT_GT(cli.size(), 3u);
  EXPECT_EQ(Athena(sql), cli);
  EXPECT_EQ(Trino(sql, AdminUserPass()), cli);
  EXPECT_EQ(Athena("SELECT count(*) FROM sales_data"), std::vector<std::string>{"4000"});
  // The Athena result file went to the lake (through S3), readable back through the served API.
  auto results = Aws({"s3", "ls", "s3://my-analytics-bucket/athena_results/"});
  EXPECT_NE(results.out.find(".csv"), std::string::npos) << results.out << results.err;

  // The serving machine's state is in --state-dir, not in the bucket: the audit of the upload.
  // (one line per decision appended to the day's file, as over a local lake).
  ASSERT_TRUE(std::filesystem::exists(state_ + "/_system/audit"));
  size_t day_files = 0;
  for (const auto& e : std::filesystem::directory_iterator(state_ + "/_system/audit")) {
    if (e.path().extension() == ".jsonl") ++day_files;
  }
  EXPECT_GT(day_files, 0u);
  EXPECT_FALSE(std::filesystem::exists(bucket_dir_ + "/lake/_system/audit"));
  EXPECT_TRUE(std::filesystem::exists(bucket_dir_ + "/lake/_system/iam"));
  // The upload's object.created went to the server's journal there, whose rules ran on it.
  EXPECT_TRUE(std::filesystem::exists(state_ + "/_system/events.jsonl"));
  EXPECT_FALSE(std::filesystem::exists(bucket_dir_ + "/lake/_system/events.jsonl"));
  EXPECT_TRUE(std::filesystem::exists(state_ + "/_system/events/checkpoints"));
  // Kinesis: a stream's shard log is on the serving machine.
  ASSERT_EQ(Aws({"kinesis", "create-stream", "--stream-name", "clicks", "--shard-count", "1"}).exit_code, 0);
  auto put = Aws({"kinesis", "put-record", "--stream-name", "clicks", "--partition-key", "k", "--data", "aGVsbG8="});
  EXPECT_EQ(put.exit_code, 0) << put.err;
  EXPECT_NE(put.out.find("SequenceNumber"), std::string::npos) << put.out;
  EXPECT_TRUE(std::filesystem::exists(state_ + "/streams/clicks"));
  EXPECT_FALSE(std::filesystem::exists(bucket_dir_ + "/lake/streams"));
}

// `saleslake upload` on the S3 lake (no server between) cannot append to a journal there: its
// object.created waits in the lake's event inbox, and the server of that lake moves it into its
// own journal (in --state-dir) and acts on it; the inbox is left empty.
TEST_F(ServedS3LakeTest, AnUploadByTheCliOnTheS3LakeReachesTheServersRules) {
  const std::string csv = dir_.Join("cli.csv");
  ASSERT_EQ(RunSaleslake({"generate", "--rows", "100", "--seed", "9", "--out", csv}).exit_code, 0);
  CommandResult up = Lake({"upload", csv});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  const std::string journal = state_ + "/_system/events.jsonl";
  const std::string inbox = bucket_dir_ + "/lake/_system/events/inbox";
  bool journaled = false;
  for (int i = 0; i < 300 && !journaled; ++i) {  // bounded: about 30 s
    journaled = std::filesystem::exists(journal) && ReadFile(journal).find("raw_data/cli.csv") != std::string::npos &&
                (!std::filesystem::exists(inbox) || std::filesystem::is_empty(inbox));
    if (!journaled) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(journaled) << "journal: " << (std::filesystem::exists(journal) ? ReadFile(journal) : "(none)");
  EXPECT_NE(ReadFile(journal).find("object.created"), std::string::npos);
  // The CLI on the S3 lake sees it in the server's journal through --state-dir, once.
  CommandResult listed = Lake({"events", "list", "--type", "object.created", "--state-dir", state_});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const size_t at = listed.out.find("raw_data/cli.csv");
  EXPECT_NE(at, std::string::npos) << listed.out;
  EXPECT_EQ(listed.out.find("raw_data/cli.csv", at + 1), std::string::npos) << listed.out;
}

TEST_F(ServedS3LakeTest, ServingAnS3LakeWithoutAUsableStateDirIsAClearError) {
  WriteFile(dir_.Join("a-file"), "x");
  ServerProcess other;
  std::string error;
  EXPECT_FALSE(other.Start(kLake, {"--state-dir", dir_.Join("a-file")}, &error, lake_env_));
  EXPECT_NE(error.find("--state-dir"), std::string::npos) << error;
}

}  // namespace
}  // namespace saleslake::testing
