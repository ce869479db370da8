// The cloud set-up's usage section, run unchanged through Debian's AWS CLI v2 against a real
// `saleslake serve`: s3 cp into raw_data/, glue start-crawler / get-crawler, glue start-job-run /
// get-job-run, athena start-query-execution / get-query-execution / get-query-results paged to
// the end, with the rows equal to `saleslake query`. Then IAM: a user denied glue:StartJobRun
// cannot start the job; a user without saleslake:ReadPii gets no customer_id values.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/server_test_util.h"
#include "support/test_support.h"

namespace saleslake::testing {
namespace {

using nlohmann::json;

constexpr const char* kBucket = "my-analytics-bucket";
constexpr const char* kAdminPolicy =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})";
constexpr const char* kNoStartJobPolicy = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"*","Resource":"*"},
  {"Effect":"Deny","Action":"glue:StartJobRun","Resource":"*"}]})";
constexpr const char* kAnalystPolicy = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["athena:*","glue:Get*","s3:GetObject","s3:ListBucket"],"Resource":"*"}]})";

class GlueAthenaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_.Join("lake");
    auto init = RunSaleslakeIn(lake_, {"init"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    admin_ = CreateUserWithKey(lake_, "cloudadmin", kAdminPolicy);
    WriteFile(dir_.Join("aws-config"), "[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n");
    std::string err;
    ASSERT_TRUE(server_.Start(lake_, {"--access-log", dir_.Join("access.jsonl")}, &err)) << err;
  }

  std::vector<std::string> Env(const Key& key) {
    return {"AWS_ACCESS_KEY_ID=" + key.id, "AWS_SECRET_ACCESS_KEY=" + key.secret,
            "AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=" + dir_.Join("aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
            "AWS_PAGER=", "HOME=" + dir_.path()};
  }

  CommandResult Aws(std::vector<std::string> args, const Key* key = nullptr) {
    std::vector<std::string> argv = {"/usr/bin/aws", "--endpoint-url", server_.url(), "--output", "json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv, "", Env(key ? *key : admin_));
  }

  json AwsJson(std::vector<std::string> args, const Key* key = nullptr) {
    auto r = Aws(std::move(args), key);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j.is_discarded() ? json::object() : j;
  }

  // Polls `get` (an AWS CLI call) until `done` holds; bounded at about 60 s.
  json WaitFor(const std::vector<std::string>& get, const std::function<bool(const json&)>& done,
               const Key* key = nullptr) {
    json last;
    for (int i = 0; i < 300; ++i) {
      last = AwsJson(get, key);
      if (done(last)) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "gave up waiting on " << get[1] << ": " << last.dump();
    return last;
  }

  // Runs `sql` through Athena and returns every row (header first) as text, NULL as "\\N".
  std::vector<std::vector<std::string>> Athena(const std::string& sql, const Key* key = nullptr,
                                               std::string* columns_json = nullptr) {
    json start = AwsJson({"athena", "start-query-execution", "--query-string", sql,
                          "--query-execution-context", "Database=sales", "--work-group", "primary"}, key);
    std::string id = start.value("QueryExecutionId", "");
    EXPECT_FALSE(id.empty());
    json exec = WaitFor({"athena", "get-query-execution", "--query-execution-id", id}, [](const json& j) {
      std::string s = j["QueryExecution"]["Status"]["State"];
      return s != "QUEUED" && s != "RUNNING";
    }, key);
    EXPECT_EQ(exec["QueryExecution"]["Status"]["State"], "SUCCEEDED") << exec.dump();
    // --page-size: the CLI pages through the server's NextToken in requests of 300 rows.
    json results = AwsJson({"athena", "get-query-results", "--query-execution-id", id, "--page-size", "300"}, key);
    std::vector<std::vector<std::string>> rows;
    for (const json& row : results["ResultSet"]["Rows"]) {
      std::vector<std::string> cells;
      for (const json& d : row["Data"]) cells.push_back(d.contains("VarCharValue") ? d["VarCharValue"].get<std::string>() : "\\N");
      rows.push_back(std::move(cells));
    }
    if (columns_json) *columns_json = results["ResultSet"]["ResultSetMetadata"]["ColumnInfo"].dump();
    return rows;
  }

  TempDir dir_;
  std::string lake_;
  ServerProcess server_;
  Key admin_;
};

// `saleslake query --format csv` rows (header first), NULL as "\\N". The generated data has no
// commas or quotes inside values, so splitting on ',' is exact.
std::vector<std::vector<std::string>> CliRows(const std::string& lake, const std::string& sql) {
  auto r = RunSaleslakeIn(lake, {"query", sql, "--format", "csv"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::vector<std::string>> rows;
  size_t start = 0;
  while (start < r.out.size()) {
    size_t nl = r.out.find('\n', start);
    std::string line = r.out.substr(start, nl - start);
    start = nl == std::string::npos ? r.out.size() : nl + 1;
    std::vector<std::string> cells;
    size_t s = 0;
    while (true) {
      size_t c = line.find(',', s);
      std::string cell = line.substr(s, c - s);
      cells.push_back(cell.empty() ? "\\N" : cell);
      if (c == std::string::npos) break;
      s = c + 1;
    }
    rows.push_back(std::move(cells));
  }
  return rows;
}

TEST_F(GlueAthenaTest, CloudSetupUsageThroughTheAwsCli) {
  std::string csv = dir_.Join("sales.csv");
  ASSERT_EQ(RunSaleslake({"generate", "--rows", "8000", "--seed", "11", "--out", csv}).exit_code, 0);
  auto cp = Aws({"s3", "cp", csv, std::string("s3://") + kBucket + "/raw_data/", "--no-progress"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;

  ASSERT_EQ(Aws({"glue", "start-crawler", "--name", "raw-crawler"}).exit_code, 0);
  json crawler = WaitFor({"glue", "get-crawler", "--name", "raw-crawler"}, [](const json& j) {
    return j["Crawler"]["State"] == "READY" && j["Crawler"].contains("LastCrawl");
  });
  EXPECT_EQ(crawler["Crawler"]["LastCrawl"]["Status"], "SUCCEEDED") << crawler.dump();
  json raw = AwsJson({"glue", "get-table", "--database-name", "sales", "--name", "raw_sales"});
  EXPECT_EQ(raw["Table"]["StorageDescriptor"]["Location"], std::string("s3://") + kBucket + "/raw_data/");
  EXPECT_EQ(raw["Table"]["Parameters"]["classification"], "csv");

  json run = AwsJson({"glue", "start-job-run", "--job-name", "my-etl-job"});
  std::string run_id = run.value("JobRunId", "");
  ASSERT_FALSE(run_id.empty());
  json done = WaitFor({"glue", "get-job-run", "--job-name", "my-etl-job", "--run-id", run_id}, [](const json& j) {
    std::string s = j["JobRun"]["JobRunState"];
    return s != "RUNNING" && s != "STARTING";
  });
  ASSERT_EQ(done["JobRun"]["JobRunState"], "SUCCEEDED") << done.dump();

  json table = AwsJson({"glue", "get-table", "--database-name", "sales", "--name", "sales_data"});
  EXPECT_EQ(table["Table"]["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"],
            "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe");
  EXPECT_EQ(table["Table"]["PartitionKeys"][0]["Name"], "region") << table.dump();
  json parts = AwsJson({"glue", "get-partitions", "--database-name", "sales", "--table-name", "sales_data",
                        "--expression", "region = 'Africa'"});
  ASSERT_FALSE(parts["Partitions"].empty());
  for (const json& p : parts["Partitions"]) EXPECT_EQ(p["Values"][0], "Africa");

  const std::string sql = "SELECT * FROM sales_data WHERE purchase_date >= '2025-08-01'";
  std::string columns;
  auto athena = Athena(sql, nullptr, &columns);
  auto cli = CliRows(lake_, sql);
  ASSERT_GT(athena.size(), 600u);  // several pages of 300
  ASSERT_EQ(athena.size(), cli.size());
  EXPECT_EQ(athena[0], cli[0]);  // the header row
  std::sort(athena.begin() + 1, athena.end());
  std::sort(cli.begin() + 1, cli.end());
  EXPECT_EQ(athena, cli);
  EXPECT_NE(columns.find(R"("Name":"purchase_date")"), std::string::npos);
  EXPECT_NE(columns.find(R"("Type":"date")"), std::string::npos) << columns;

  // SQL errors: the query fails with the engine's message and position.
  json bad = AwsJson({"athena", "start-query-execution", "--query-string", "SELECT nope FROM sales_data"});
  json failed = WaitFor({"athena", "get-query-execution", "--query-execution-id", bad["QueryExecutionId"]},
                        [](const json& j) { return j["QueryExecution"]["Status"]["State"] == "FAILED"; });
  EXPECT_NE(failed["QueryExecution"]["Status"]["StateChangeReason"].get<std::string>().find("line 1:8"),
            std::string::npos) << failed.dump();
  auto results = Aws({"athena", "get-query-results", "--query-execution-id", bad["QueryExecutionId"]});
  EXPECT_NE(results.exit_code, 0);
  EXPECT_NE(results.err.find("InvalidRequestException"), std::string::npos) << results.err;
  auto unknown = Aws({"glue", "get-job-run", "--job-name", "my-etl-job", "--run-id", "jr_nope"});
  EXPECT_NE(unknown.err.find("EntityNotFoundException"), std::string::npos) << unknown.err;

  // IAM: a user denied glue:StartJobRun cannot start the job.
  Key denied = CreateUserWithKey(lake_, "no-etl", kNoStartJobPolicy);
  auto refused = Aws({"glue", "start-job-run", "--job-name", "my-etl-job"}, &denied);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("AccessDenied"), std::string::npos) << refused.err;

  // A user without saleslake:ReadPii gets no customer_id values; the admin does.
  Key analyst = CreateUserWithKey(lake_, "analyst", kAnalystPolicy);
  const std::string pii_sql = "SELECT customer_id, amount FROM sales_data ORDER BY amount DESC LIMIT 20";
  auto hidden = Athena(pii_sql, &analyst);
  auto shown = Athena(pii_sql);
  ASSERT_EQ(hidden.size(), 21u);
  ASSERT_EQ(shown.size(), 21u);
  for (size_t i = 1; i < hidden.size(); ++i) {
    EXPECT_EQ(hidden[i][0], "\\N");
    EXPECT_EQ(hidden[i][1], shown[i][1]);
    EXPECT_EQ(shown[i][0].rfind("tok_", 0), 0u) << shown[i][0];
  }
}

}  // namespace
}  // namespace saleslake::testing
