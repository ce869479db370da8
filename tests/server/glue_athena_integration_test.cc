// The cloud set-up's usage section, run unchanged through Debian's AWS CLI v2 against a real
// `saleslake serve`: s3 cp into raw_data/, glue start-crawler / get-crawler, glue start-job-run /
// get-job-run, athena start-query-execution / get-query-execution / get-query-results paged to
// the end, with the rows equal to `saleslake query`. Then IAM: a user denied glue:StartJobRun
// cannot start the job; a user without saleslake:ReadPii gets no customer_id values.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdlib>
#include <map>
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

  // Generated sales loaded through the CLI: upload, crawl, my-etl-job.
  void LoadSales(int rows, int seed) {
    std::string csv = dir_.Join("sales.csv");
    ASSERT_EQ(RunSaleslake({"generate", "--rows", std::to_string(rows), "--seed", std::to_string(seed), "--out", csv})
                  .exit_code, 0);
    ASSERT_EQ(RunSaleslakeIn(lake_, {"upload", csv}).exit_code, 0);
    ASSERT_EQ(RunSaleslakeIn(lake_, {"crawl"}).exit_code, 0);
    // The server's rules may be loading this upload already; the CLI's run then waits for theirs.
    auto job = StartJobBesideServer(lake_, "my-etl-job");
    ASSERT_EQ(job.exit_code, 0) << job.err;
  }

  TempDir dir_;
  std::string lake_;
  ServerProcess server_;
  Key admin_;
};

// `text` cut at every `sep` (an empty text is one empty field).
std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> out;
  for (size_t s = 0;;) {
    size_t c = text.find(sep, s);
    out.push_back(text.substr(s, c - s));
    if (c == std::string::npos) return out;
    s = c + 1;
  }
}

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
  // Created first: the server re-reads IAM at most once a second.
  Key denied = CreateUserWithKey(lake_, "no-etl", kNoStartJobPolicy);
  Key analyst = CreateUserWithKey(lake_, "analyst", kAnalystPolicy);
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
  auto refused = Aws({"glue", "start-job-run", "--job-name", "my-etl-job"}, &denied);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("AccessDenied"), std::string::npos) << refused.err;

  // A user without saleslake:ReadPii gets no customer_id values; the admin does.
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

// The same flow through boto3 (Debian python3-boto3): upload_file into raw_data/, start_crawler
// and get_crawler, start_job_run and get_job_run until SUCCEEDED, start_query_execution and
// get_query_results paged by NextToken; the rows equal `saleslake query`.
TEST_F(GlueAthenaTest, CloudSetupUsageThroughBoto3) {
  std::string csv = dir_.Join("sales.csv");
  ASSERT_EQ(RunSaleslake({"generate", "--rows", "7000", "--seed", "5", "--out", csv}).exit_code, 0);
  const std::string sql = "SELECT * FROM sales_data WHERE purchase_date >= '2025-08-01'";
  auto r = RunProgram({"/usr/bin/python3", std::string(SALESLAKE_SOURCE_DIR) + "/tests/server/clients/glue_athena_boto3.py",
                       server_.url(), kBucket, csv, sql},
                      "", Env(admin_));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::vector<std::string>> got;
  std::string pages;
  size_t start = 0;
  while (start < r.out.size()) {
    size_t nl = r.out.find('\n', start);
    std::string line = r.out.substr(start, nl - start);
    start = nl == std::string::npos ? r.out.size() : nl + 1;
    if (line.rfind("PAGES ", 0) == 0) {
      pages = line.substr(6);
      continue;
    }
    got.push_back(Split(line, ','));
  }
  auto cli = CliRows(lake_, sql);
  ASSERT_GT(cli.size(), 500u);
  ASSERT_EQ(got.size(), cli.size());
  EXPECT_GE(std::atoi(pages.c_str()), static_cast<int>(cli.size() / 250)) << pages;
  EXPECT_EQ(got[0], cli[0]);  // the header row
  std::sort(got.begin() + 1, got.end());
  std::sort(cli.begin() + 1, cli.end());
  EXPECT_EQ(got, cli);
}

}  // namespace
}  // namespace saleslake::testing

namespace saleslake::testing {
namespace {

// Splits the output of tools/peers/trino_clients.mjs into blocks: "<client> <n>" -> lines.
std::map<std::string, std::vector<std::string>> ClientBlocks(const std::string& out) {
  std::map<std::string, std::vector<std::string>> blocks;
  std::string current;
  size_t start = 0;
  while (start < out.size()) {
    size_t nl = out.find('\n', start);
    std::string line = out.substr(start, nl - start);
    start = nl == std::string::npos ? out.size() : nl + 1;
    if (line.rfind("== ", 0) == 0) {
      current = line.substr(3);
      blocks[current];
    } else if (!current.empty()) {
      blocks[current].push_back(line);
    }
  }
  return blocks;
}

// Runs tools/peers/trino_clients.mjs against `url` as `key`: `args` is a statements file, or
// --cancel / --count with one statement (the script's header says what it prints).
CommandResult TrinoClients(const std::string& url, const Key& key, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"node", std::string(SALESLAKE_SOURCE_DIR) + "/tools/peers/trino_clients.mjs", url,
                                   key.id, key.secret};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv);
}

// Writes `statements` (one a line) to `file`, runs both clients on it and returns their blocks.
std::map<std::string, std::vector<std::string>> ClientsRun(const std::string& url, const Key& key,
                                                           const std::string& file, const std::string& statements) {
  WriteFile(file, statements);
  auto r = TrinoClients(url, key, {file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return ClientBlocks(r.out);
}

// A JavaScript client prints the double 149.0 as "149": cells that are both numbers compare as
// numbers, everything else as text.
bool SameRow(const std::string& got, const std::vector<std::string>& want) {
  std::vector<std::string> cells;
  size_t s = 0;
  while (true) {
    size_t t = got.find('\t', s);
    cells.push_back(got.substr(s, t - s));
    if (t == std::string::npos) break;
    s = t + 1;
  }
  if (cells.size() != want.size()) return false;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (cells[i] == want[i]) continue;
    char* end_a = nullptr;
    char* end_b = nullptr;
    double a = std::strtod(cells[i].c_str(), &end_a), b = std::strtod(want[i].c_str(), &end_b);
    // Doubles to 1e-9 relative, as the SQL suites compare them: sums of partial sums computed in
    // parallel may add in another order and differ in the last digit between two runs.
    if (cells[i].empty() || want[i].empty() || *end_a || *end_b) return false;
    if (a != b && std::abs(a - b) > 1e-9 * std::max(std::abs(a), std::abs(b))) return false;
  }
  return true;
}

std::string Join(const std::vector<std::string>& cells, char sep) {
  std::string s;
  for (size_t i = 0; i < cells.size(); ++i) s += (i ? std::string(1, sep) : "") + cells[i];
  return s;
}

TEST_F(GlueAthenaTest, TrinoAndPrestoClientsGetTheRowsOfSaleslakeQuery) {
  // Created first: the server re-reads IAM at most once a second.
  Key analyst = CreateUserWithKey(lake_, "analyst", kAnalystPolicy);
  LoadSales(6000, 3);
  if (HasFatalFailure()) return;

  const std::vector<std::string> queries = {
      "SELECT region, count(*) AS n, round(sum(amount), 2) AS revenue FROM sales_data GROUP BY 1 ORDER BY 1",
      "SELECT purchase_date, customer_id, amount FROM sales_data ORDER BY purchase_date, customer_id, amount LIMIT 50",
      "SELECT status, count(*) AS n FROM sales_data GROUP BY status ORDER BY status",
      "SELECT purchase_month, count(DISTINCT customer_id) AS customers FROM sales_data GROUP BY 1 ORDER BY 1",
      "SELECT purchase_date, customer_id, product_id, amount, status, region FROM sales_data "
      "ORDER BY purchase_date, customer_id, product_id, amount, status",
  };
  std::string sql_file = dir_.Join("queries.sql");
  std::string text;
  for (const auto& q : queries) text += q + "\n";
  text += "SELECT nope FROM sales_data\nSELEC 1\n";
  // What BI tools and the Trino CLI send to browse the server (after the two errors).
  const std::vector<std::pair<std::string, std::vector<std::string>>> browse = {
      {"SHOW CATALOGS", {"Catalog:varchar", "lake"}},
      {"SHOW SCHEMAS FROM lake", {"Schema:varchar", "information_schema", "sales", "system"}},
      {"SHOW SCHEMAS FROM lake LIKE 'sa%'", {"Schema:varchar", "sales"}},
      {"SHOW TABLES FROM lake.sales", {"Table:varchar", "raw_sales", "sales_data"}},
      {"SHOW TABLES", {"Table:varchar", "raw_sales", "sales_data"}},
      {"SHOW TABLES FROM system LIKE 'quer%'", {"Table:varchar", "queries"}},
      {"SELECT table_name FROM information_schema.tables WHERE table_schema = 'sales' ORDER BY 1",
       {"table_name:varchar", "raw_sales", "sales_data"}},
  };
  for (const auto& [sql, want] : browse) text += sql + "\n";
  text += "SHOW COLUMNS FROM lake.sales.sales_data\nDESCRIBE sales_data\n";
  WriteFile(sql_file, text);
  auto r = TrinoClients(server_.url(), admin_, {sql_file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto blocks = ClientBlocks(r.out);

  for (size_t i = 0; i < queries.size(); ++i) {
    auto cli = CliRows(lake_, queries[i]);
    ASSERT_FALSE(cli.empty());
    for (const char* client : {"trino-client", "presto-client"}) {
      const auto& got = blocks[std::string(client) + " " + std::to_string(i + 1)];
      ASSERT_EQ(got.size(), cli.size()) << client << " " << queries[i] << "\n" << r.out.substr(0, 2000);
      // Header: "name:type" per column; the names are the CLI's.
      std::vector<std::string> names;
      for (const std::string& col : cli[0]) names.push_back(col);
      std::string header;
      for (size_t c = 0, s = 0; c < names.size(); ++c) {
        size_t colon = got[0].find(':', s);
        header += (c ? "\t" : "") + got[0].substr(s, colon - s);
        s = got[0].find('\t', colon);
        s = s == std::string::npos ? got[0].size() : s + 1;
      }
      EXPECT_EQ(header, Join(names, '\t')) << client;
      for (size_t row = 1; row < cli.size(); ++row) {
        ASSERT_TRUE(SameRow(got[row], cli[row]))
            << client << " query " << i + 1 << " row " << row << ": " << got[row] << " vs " << Join(cli[row], '\t');
      }
    }
  }
  EXPECT_EQ(blocks["trino-client 1"][0], "region:varchar\tn:bigint\trevenue:double");
  EXPECT_EQ(blocks["presto-client 2"][0], "purchase_date:date\tcustomer_id:varchar\tamount:double");
  // Errors keep Trino's names and the position of the engine's message.
  for (const char* client : {"trino-client", "presto-client"}) {
    auto err1 = blocks[std::string(client) + " " + std::to_string(queries.size() + 1)];
    ASSERT_FALSE(err1.empty()) << client;
    EXPECT_EQ(err1[0].rfind("ERROR COLUMN_NOT_FOUND 1:8 ", 0), 0u) << err1[0];
    auto err2 = blocks[std::string(client) + " " + std::to_string(queries.size() + 2)];
    ASSERT_FALSE(err2.empty()) << client;
    EXPECT_EQ(err2[0].rfind("ERROR SYNTAX_ERROR 1:1 ", 0), 0u) << err2[0];
  }

  for (const char* client : {"trino-client", "presto-client"}) {
    for (size_t i = 0; i < browse.size(); ++i) {
      EXPECT_EQ(blocks[std::string(client) + " " + std::to_string(queries.size() + 3 + i)], browse[i].second)
          << client << " " << browse[i].first;
    }
    for (size_t i : {browse.size() + 3, browse.size() + 4}) {
      auto columns = blocks[std::string(client) + " " + std::to_string(queries.size() + i)];
      ASSERT_FALSE(columns.empty()) << client;
      // Trino's four columns: Extra marks the partition key, Comment the column the ETL tokenizes.
      EXPECT_EQ(columns[0], "Column:varchar\tType:varchar\tExtra:varchar\tComment:varchar") << client;
      for (const char* want : {"customer_id\tvarchar\t\tPII: tokenized by job my-etl-job", "region\tvarchar\tpartition key\t",
                               "amount\tdouble\t\t"}) {
        EXPECT_NE(std::find(columns.begin(), columns.end(), want), columns.end()) << client << " " << want << "\n" << r.out;
      }
    }
  }

  // A query cancelled while it runs.
  std::string digits = "(VALUES 0,1,2,3,4,5,6,7,8,9)";
  std::string slow = "SELECT count(*) FROM " + digits + " a(x)";
  for (char c = 'b'; c <= 'i'; ++c) slow += " CROSS JOIN " + digits + " " + c + "(x)";
  auto cancel = TrinoClients(server_.url(), admin_, {"--cancel", slow});
  ASSERT_EQ(cancel.exit_code, 0) << cancel.err;
  EXPECT_EQ(cancel.out, "CANCELLED USER_CANCELED\n");

  // Without saleslake:ReadPii, customer_id comes back NULL; a wrong secret is refused.
  WriteFile(sql_file,
            "SELECT purchase_date, customer_id, amount FROM sales_data ORDER BY purchase_date, amount LIMIT 50\n"
            "SELECT customer_id AS c FROM sales_data LIMIT 1\n");
  auto hidden = TrinoClients(server_.url(), analyst, {sql_file});
  ASSERT_EQ(hidden.exit_code, 0) << hidden.err;
  auto hidden_blocks = ClientBlocks(hidden.out);
  auto hidden_rows = hidden_blocks["trino-client 1"];
  // An alias cannot carry the column out under another name.
  ASSERT_FALSE(hidden_blocks["trino-client 2"].empty());
  EXPECT_EQ(hidden_blocks["trino-client 2"][0].rfind("ERROR PERMISSION_DENIED", 0), 0u) << hidden.out;
  ASSERT_EQ(hidden_rows.size(), 51u) << hidden.out;
  for (size_t row = 1; row < hidden_rows.size(); ++row) {
    EXPECT_NE(hidden_rows[row].find("\t\\N\t"), std::string::npos) << hidden_rows[row];
    EXPECT_EQ(hidden_rows[row].find("tok_"), std::string::npos) << hidden_rows[row];
  }
  auto wrong = TrinoClients(server_.url(), Key{analyst.id, "not-the-secret"}, {sql_file});
  EXPECT_EQ(wrong.out.find("tok_"), std::string::npos);
  EXPECT_TRUE(wrong.exit_code != 0 || wrong.out.find("ERROR") != std::string::npos) << wrong.out;
}

// Trino's client-side session through trino-client, unchanged: PREPARE / EXECUTE ... USING, SET
// SESSION query_max_execution_time (the query past it fails with EXCEEDED_TIME_LIMIT), RESET
// SESSION, USE.
TEST_F(GlueAthenaTest, TrinoSessionPropertiesAndPreparedStatements) {
  LoadSales(3000, 5);
  if (HasFatalFailure()) return;
  std::string digits = "(VALUES 0,1,2,3,4,5,6,7,8,9)";
  std::string slow = "SELECT count(*) FROM " + digits + " a(x)";
  for (char c = 'b'; c <= 'i'; ++c) slow += " CROSS JOIN " + digits + " " + c + "(x)";
  const std::string file = dir_.Join("session.sql");
  WriteFile(file,
            "PREPARE by_region FROM SELECT count(*) AS n FROM sales_data WHERE region = ? AND amount > ?\n"
            "EXECUTE by_region USING 'Africa', 100\n"
            "EXECUTE by_region USING 'Africa'\n"
            "SET SESSION query_max_execution_time = '1s'\n" +
                slow + "\n"
            "RESET SESSION query_max_execution_time\n"
            "SELECT 1 AS one\n"
            "USE lake.sales\n"
            "SET SESSION query_max_execution_time = 'soon'\n");
  auto r = TrinoClients(server_.url(), admin_, {"--session", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto blocks = ClientBlocks(r.out);
  EXPECT_EQ(blocks["trino-client 1"], std::vector<std::string>{"UPDATE PREPARE"}) << r.out;
  auto want = CliRows(lake_, "SELECT count(*) AS n FROM sales_data WHERE region = 'Africa' AND amount > 100");
  ASSERT_EQ(want.size(), 2u);
  EXPECT_EQ(blocks["trino-client 2"], (std::vector<std::string>{"n:bigint", want[1][0]})) << r.out;
  ASSERT_FALSE(blocks["trino-client 3"].empty());
  EXPECT_EQ(blocks["trino-client 3"][0], "ERROR GENERIC_USER_ERROR - Incorrect number of parameters: expected 2 but found 1")
      << r.out;
  EXPECT_EQ(blocks["trino-client 4"], std::vector<std::string>{"UPDATE SET SESSION"}) << r.out;
  ASSERT_FALSE(blocks["trino-client 5"].empty());
  EXPECT_EQ(blocks["trino-client 5"][0], "ERROR EXCEEDED_TIME_LIMIT - Query exceeded the time limit of 1.00s") << r.out;
  EXPECT_EQ(blocks["trino-client 6"], std::vector<std::string>{"UPDATE RESET SESSION"}) << r.out;
  EXPECT_EQ(blocks["trino-client 7"], (std::vector<std::string>{"one:integer", "1"})) << r.out;
  EXPECT_EQ(blocks["trino-client 8"], std::vector<std::string>{"UPDATE USE"}) << r.out;
  ASSERT_FALSE(blocks["trino-client 9"].empty());
  EXPECT_EQ(blocks["trino-client 9"][0].rfind(
                "ERROR INVALID_SESSION_PROPERTY - session property query_max_execution_time: 'soon' is not a duration", 0),
            0u)
      << r.out;

  // The session as the client sends it from the start (X-Trino-Session): a limit is applied, a
  // bad value refuses every statement with Trino's error.
  WriteFile(file, slow + "\nSELECT 2 AS two\n");
  auto limited = TrinoClients(server_.url(), admin_, {"--session", file, "query_max_run_time=500ms"});
  ASSERT_EQ(limited.exit_code, 0) << limited.err;
  auto lb = ClientBlocks(limited.out);
  ASSERT_FALSE(lb["trino-client 1"].empty()) << limited.out;
  EXPECT_EQ(lb["trino-client 1"][0], "ERROR EXCEEDED_TIME_LIMIT - Query exceeded the time limit of 0.50s") << limited.out;
  EXPECT_EQ(lb["trino-client 2"], (std::vector<std::string>{"two:integer", "2"})) << limited.out;
  auto bad = TrinoClients(server_.url(), admin_, {"--session", file, "query_max_run_time=soon"});
  ASSERT_EQ(bad.exit_code, 0) << bad.err;
  auto bb = ClientBlocks(bad.out);
  ASSERT_FALSE(bb["trino-client 2"].empty()) << bad.out;
  EXPECT_EQ(bb["trino-client 2"][0].rfind("ERROR INVALID_SESSION_PROPERTY - session property query_max_run_time", 0), 0u)
      << bad.out;
}

// The 25 dashboard queries of tests/sql/dashboard_suite.sql (the bench's dashboard queries and
// the analyst queries of these tests) through trino-client and presto-client: the same rows, in
// the same order, and the same column types as `saleslake query` (types: SHOW COLUMNS of a view
// over the query, in the same engine).
TEST_F(GlueAthenaTest, TrinoAndPrestoClientsRunTheDashboardSuite) {
  LoadSales(6000, 9);
  if (HasFatalFailure()) return;

  const std::string suite = std::string(SALESLAKE_SOURCE_DIR) + "/tests/sql/dashboard_suite.sql";
  std::vector<std::string> queries;
  {
    std::string text = ReadFile(suite);
    size_t start = 0;
    while (start < text.size()) {
      size_t nl = text.find('\n', start);
      std::string line = text.substr(start, nl - start);
      start = nl == std::string::npos ? text.size() : nl + 1;
      if (!line.empty()) queries.push_back(line);
    }
  }
  ASSERT_EQ(queries.size(), 25u);
  auto r = TrinoClients(server_.url(), admin_, {suite});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto blocks = ClientBlocks(r.out);

  for (size_t i = 0; i < queries.size(); ++i) {
    auto cli = CliRows(lake_, queries[i]);
    ASSERT_GT(cli.size(), 1u) << queries[i];
    // The CLI's column types: SHOW COLUMNS of a view over the query.
    std::string view = "suite_q" + std::to_string(i + 1);
    auto described = RunSaleslakeIn(lake_, {"query", "CREATE VIEW " + view + " AS " + queries[i] +
                                                      "; SHOW COLUMNS FROM " + view + "; DROP VIEW " + view,
                                            "--format", "csv"});
    ASSERT_EQ(described.exit_code, 0) << described.err;
    std::string want_header;
    const std::string columns_header = "Column,Type,Extra,Comment\n";
    size_t pos = described.out.find(columns_header);
    ASSERT_NE(pos, std::string::npos) << described.out;
    pos += columns_header.size();
    for (size_t c = 0; c < cli[0].size(); ++c) {
      size_t nl = described.out.find('\n', pos);
      std::string line = described.out.substr(pos, nl - pos);
      pos = nl + 1;
      size_t comma = line.find(',');
      size_t type_end = line.find(',', comma + 1);
      want_header += (c ? "\t" : "") + line.substr(0, comma) + ":" + line.substr(comma + 1, type_end - comma - 1);
    }
    for (const char* client : {"trino-client", "presto-client"}) {
      const auto& got = blocks[std::string(client) + " " + std::to_string(i + 1)];
      ASSERT_EQ(got.size(), cli.size()) << client << " " << queries[i] << "\n" << (got.empty() ? "" : got[0]);
      EXPECT_EQ(got[0], want_header) << client << " " << queries[i];
      for (size_t row = 1; row < cli.size(); ++row) {
        ASSERT_TRUE(SameRow(got[row], cli[row]))
            << client << " query " << i + 1 << " row " << row << ": " << got[row] << " vs " << Join(cli[row], '\t');
      }
    }
  }

  // The history as SQL: system.queries holds the 50 statements, their user, state and rows.
  auto history = ClientsRun(server_.url(), admin_, dir_.Join("history.sql"),
                            "SELECT state, user, source, count(*) AS n, count_if(rows > 0) AS with_rows, "
                            "count_if(finished >= started AND started >= created) AS timed FROM system.queries "
                            "WHERE query NOT LIKE '%system.queries%' GROUP BY 1, 2, 3\n");
  const auto& h = history["trino-client 1"];
  ASSERT_EQ(h.size(), 2u) << (h.empty() ? "" : h[0]);
  EXPECT_EQ(h[0], "state:varchar\tuser:varchar\tsource:varchar\tn:bigint\twith_rows:bigint\ttimed:bigint");
  EXPECT_EQ(h[1].rfind("SUCCEEDED\tarn:aws:iam::", 0), 0u) << h[1];
  EXPECT_NE(h[1].find(":user/cloudadmin\ttrino\t50\t50\t50"), std::string::npos) << h[1];

  // What BI tools query on connect.
  auto c = ClientsRun(
      server_.url(), admin_, dir_.Join("connect.sql"),
      "SELECT node_id, coordinator, state FROM system.runtime.nodes\n"
      "SELECT schema_name FROM lake.information_schema.schemata ORDER BY 1\n"
      "SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema = 'sales' ORDER BY 2\n"
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'sales_data' ORDER BY ordinal_position\n");
  EXPECT_EQ(c["presto-client 1"], (std::vector<std::string>{"node_id:varchar\tcoordinator:boolean\tstate:varchar",
                                                             "saleslake\ttrue\tactive"}));
  EXPECT_EQ(c["trino-client 2"], (std::vector<std::string>{"schema_name:varchar", "information_schema", "sales", "system"}));
  EXPECT_EQ(c["trino-client 3"], (std::vector<std::string>{"table_schema:varchar\ttable_name:varchar\ttable_type:varchar",
                                                           "sales\traw_sales\tBASE TABLE", "sales\tsales_data\tBASE TABLE"}));
  const auto& columns = c["trino-client 4"];
  ASSERT_GT(columns.size(), 6u);
  EXPECT_EQ(columns[1], "purchase_date\tdate");
  EXPECT_NE(std::find(columns.begin(), columns.end(), "amount\tdouble"), columns.end()) << columns[1];
}

// A field of /proc/<pid>/status in KiB ("VmHWM", "VmRSS"); -1 when absent.
long ProcStatusKb(pid_t pid, const std::string& field) {
  std::string text = ReadFile("/proc/" + std::to_string(pid) + "/status");
  size_t at = text.find(field + ":");
  if (at == std::string::npos) return -1;
  return std::strtol(text.c_str() + at + field.size() + 1, nullptr, 10);
}

// A 5,000,000-row result paged to the end by trino-client while the server's peak RSS stays
// bounded: past its first 8 MiB of text the result is spooled to disk, not held. Held as text in
// memory, these rows took 620 MB (85 MB spooled); the bound is generous (the engine itself holds the
// 5M values, 40 MB, while the statement runs).
TEST_F(GlueAthenaTest, AFiveMillionRowResultPagesOutWithBoundedServerMemory) {
  const std::string digits = "(VALUES 0,1,2,3,4,5,6,7,8,9)";
  std::string sql = "SELECT a.x * 1000000 + b.x * 100000 + c.x * 10000 + d.x * 1000 + e.x * 100 + f.x * 10 + g.x AS n, "
                    "'row' AS label FROM (VALUES 0,1,2,3,4) a(x)";
  for (char c = 'b'; c <= 'g'; ++c) sql += std::string(" CROSS JOIN ") + digits + " " + c + "(x)";
  const long before_kb = ProcStatusKb(server_.pid(), "VmRSS");
  ASSERT_GT(before_kb, 0);
  auto r = TrinoClients(server_.url(), admin_, {"--count", sql});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Every row once: 0 + 1 + ... + 4999999.
  EXPECT_EQ(r.out.rfind("ROWS 5000000 SUM 12499997500000 PAGES ", 0), 0u) << r.out;
  const long peak_kb = ProcStatusKb(server_.pid(), "VmHWM");
  EXPECT_LT(peak_kb, 256 * 1024) << "server RSS before the query " << before_kb << " KiB, peak " << peak_kb << " KiB";
  std::fprintf(stderr, "server RSS before %ld KiB, peak %ld KiB, after %ld KiB\n", before_kb, peak_kb,
               ProcStatusKb(server_.pid(), "VmRSS"));
}

// Glue's table and run management through the AWS CLI: CreateTable of an external table over a
// lake prefix (then queried through Athena), DeleteTable (the files stay), BatchGetPartition,
// and BatchStopJobRun of a running ETL run (STOPPED, nothing committed).
TEST_F(GlueAthenaTest, ExternalTablesPartitionsAndStoppedRunsThroughTheAwsCli) {
  LoadSales(3000, 21);
  if (HasFatalFailure()) return;
  const std::string bucket = std::string("s3://") + kBucket + "/";

  // An external table declared like raw_sales (its StorageDescriptor) over another prefix.
  std::string orders = dir_.Join("orders.csv");
  ASSERT_EQ(RunSaleslake({"generate", "--rows", "500", "--seed", "22", "--out", orders}).exit_code, 0);
  auto cp = Aws({"s3", "cp", orders, bucket + "external/orders/part-0.csv", "--no-progress"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  json raw = AwsJson({"glue", "get-table", "--database-name", "sales", "--name", "raw_sales"})["Table"];
  json sd = raw["StorageDescriptor"];
  sd["Location"] = bucket + "external/orders/";
  sd["Columns"][0]["Comment"] = "when the order was placed";  // kept, and shown by SHOW COLUMNS
  json input = {{"Name", "ext_orders"}, {"TableType", "EXTERNAL_TABLE"}, {"StorageDescriptor", sd},
                {"PartitionKeys", json::array()}, {"Parameters", raw["Parameters"]}};
  WriteFile(dir_.Join("table.json"), input.dump());
  const std::vector<std::string> create = {"glue", "create-table", "--database-name", "sales", "--table-input",
                                           "file://" + dir_.Join("table.json")};
  auto created = Aws(create);
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto again = Aws(create);
  EXPECT_NE(again.err.find("AlreadyExistsException"), std::string::npos) << again.err;
  json ext = AwsJson({"glue", "get-table", "--database-name", "sales", "--name", "ext_orders"});
  EXPECT_EQ(ext["Table"]["StorageDescriptor"]["Location"], bucket + "external/orders/");
  EXPECT_EQ(ext["Table"]["StorageDescriptor"]["Columns"], sd["Columns"]);
  const std::string count_sql = "SELECT count(*) AS n, round(sum(amount), 2) AS total FROM ext_orders";
  auto counted = Athena(count_sql);
  ASSERT_EQ(counted.size(), 2u);
  EXPECT_EQ(counted[1][0], "500");
  EXPECT_EQ(counted, CliRows(lake_, count_sql));
  auto described = Athena("SHOW COLUMNS FROM ext_orders");
  ASSERT_GT(described.size(), 2u);
  EXPECT_EQ(described[0], (std::vector<std::string>{"Column", "Type", "Extra", "Comment"}));
  EXPECT_EQ(described[1][0], sd["Columns"][0]["Name"].get<std::string>());
  EXPECT_EQ(described[1][3], "when the order was placed");
  EXPECT_EQ(described[2][3], "");
  input["Name"] = "ext_bad";
  input["StorageDescriptor"]["Location"] = "s3://another-bucket/x/";
  WriteFile(dir_.Join("bad.json"), input.dump());
  auto bad = Aws({"glue", "create-table", "--database-name", "sales", "--table-input", "file://" + dir_.Join("bad.json")});
  EXPECT_NE(bad.err.find("InvalidInputException"), std::string::npos) << bad.err;

  // DeleteTable: gone from the catalog, its file still in the lake.
  ASSERT_EQ(Aws({"glue", "delete-table", "--database-name", "sales", "--name", "ext_orders"}).exit_code, 0);
  auto gone = Aws({"glue", "get-table", "--database-name", "sales", "--name", "ext_orders"});
  EXPECT_NE(gone.err.find("EntityNotFoundException"), std::string::npos) << gone.err;
  auto ls = Aws({"s3", "ls", bucket + "external/orders/"});
  EXPECT_NE(ls.out.find("part-0.csv"), std::string::npos) << ls.out << ls.err;

  // BatchGetPartition: the partitions asked for that exist, each once.
  json parts = AwsJson({"glue", "get-partitions", "--database-name", "sales", "--table-name", "sales_data"});
  ASSERT_GE(parts["Partitions"].size(), 2u);
  json first = parts["Partitions"][0]["Values"], second = parts["Partitions"][1]["Values"];
  json missing = first;
  missing[0] = "Atlantis";
  json wanted = json::array({{{"Values", first}}, {{"Values", missing}}, {{"Values", second}}, {{"Values", first}}});
  json got = AwsJson({"glue", "batch-get-partition", "--database-name", "sales", "--table-name", "sales_data",
                      "--partitions-to-get", wanted.dump()});
  ASSERT_EQ(got["Partitions"].size(), 2u) << got.dump();
  EXPECT_EQ(got["Partitions"][0]["Values"], first);
  EXPECT_EQ(got["Partitions"][1]["Values"], second);
  json short_values = json::array({{{"Values", json::array()}}});
  auto arity = Aws({"glue", "batch-get-partition", "--database-name", "sales", "--table-name", "sales_data",
                    "--partitions-to-get", short_values.dump()});
  EXPECT_NE(arity.err.find("InvalidInputException"), std::string::npos) << arity.err;

  // BatchStopJobRun: new raw data, then a server whose ETL runs pause before their commit
  // (test hook); the run is stopped there and commits nothing.
  const std::string count_all = "SELECT count(*) FROM sales_data";
  auto before = CliRows(lake_, count_all);
  server_.Stop();
  std::string more = dir_.Join("more.csv");
  ASSERT_EQ(RunSaleslake({"generate", "--rows", "400", "--seed", "23", "--out", more}).exit_code, 0);
  ASSERT_EQ(RunSaleslakeIn(lake_, {"upload", more}).exit_code, 0);
  ASSERT_EQ(RunSaleslakeIn(lake_, {"crawl"}).exit_code, 0);
  ::setenv("SALESLAKE_TEST_PAUSE_BEFORE_COMMIT_MS", "120000", 1);
  std::string err;
  bool started = server_.Start(lake_, {"--access-log", dir_.Join("access2.jsonl")}, &err);
  ::unsetenv("SALESLAKE_TEST_PAUSE_BEFORE_COMMIT_MS");
  ASSERT_TRUE(started) << err;
  std::string run_id = AwsJson({"glue", "start-job-run", "--job-name", "my-etl-job"}).value("JobRunId", "");
  ASSERT_FALSE(run_id.empty());
  json stop = AwsJson({"glue", "batch-stop-job-run", "--job-name", "my-etl-job", "--job-run-ids", run_id, "jr_nope"});
  ASSERT_EQ(stop["SuccessfulSubmissions"].size(), 1u) << stop.dump();
  EXPECT_EQ(stop["SuccessfulSubmissions"][0]["JobRunId"], run_id);
  ASSERT_EQ(stop["Errors"].size(), 1u) << stop.dump();
  EXPECT_EQ(stop["Errors"][0]["ErrorDetail"]["ErrorCode"], "EntityNotFoundException");
  json stopped = WaitFor({"glue", "get-job-run", "--job-name", "my-etl-job", "--run-id", run_id}, [](const json& j) {
    std::string s = j["JobRun"]["JobRunState"];
    return s != "RUNNING" && s != "STARTING" && s != "STOPPING";
  });
  EXPECT_EQ(stopped["JobRun"]["JobRunState"], "STOPPED") << stopped.dump();
  EXPECT_EQ(CliRows(lake_, count_all), before);
  json late = AwsJson({"glue", "batch-stop-job-run", "--job-name", "my-etl-job", "--job-run-ids", run_id});
  ASSERT_EQ(late["Errors"].size(), 1u) << late.dump();
  EXPECT_EQ(late["Errors"][0]["ErrorDetail"]["ErrorCode"], "InvalidInputException");
}

// Workgroups from pipeline.yaml through boto3: DataScannedInBytes is what the scans read (all
// columns > one column > none for a count answered from the catalog), system.queries keeps the
// same figure, and a workgroup's BytesScannedCutoffPerQuery cancels a query that reads more.
TEST_F(GlueAthenaTest, WorkGroupCutoffAndDataScannedThroughBoto3) {
  server_.Stop();
  std::string pipeline = ReadFile(lake_ + "/pipeline.yaml");
  pipeline += "\nworkgroups:\n  - name: tiny\n    bytes_scanned_cutoff_per_query: 2000\n    max_concurrent_queries: 1\n"
              "    query_time_limit_seconds: 1\n";
  WriteFile(lake_ + "/pipeline.yaml", pipeline);
  std::string err;
  ASSERT_TRUE(server_.Start(lake_, {"--access-log", dir_.Join("access2.jsonl")}, &err)) << err;
  LoadSales(4000, 31);
  if (HasFatalFailure()) return;
  auto r = RunProgram({"/usr/bin/python3", std::string(SALESLAKE_SOURCE_DIR) + "/tests/server/clients/athena_workgroups_boto3.py",
                       server_.url(), "tiny"},
                      "", Env(admin_));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::vector<std::string>> lines;  // first word -> the others
  for (const std::string& line : Split(r.out, '\n')) {
    std::vector<std::string> words = Split(line, ' ');
    lines[words[0]] = std::vector<std::string>(words.begin() + 1, words.end());
  }
  EXPECT_EQ(lines["CUTOFF"], std::vector<std::string>{"2000"}) << r.out;
  EXPECT_EQ(lines["WORKGROUPS"], std::vector<std::string>{"primary,tiny"}) << r.out;
  ASSERT_EQ(lines["ALL"].size(), 2u) << r.out;
  ASSERT_EQ(lines["ONE"].size(), 2u) << r.out;
  EXPECT_EQ(lines["ALL"][0], "SUCCEEDED");
  EXPECT_EQ(lines["ONE"][0], "SUCCEEDED");
  const uint64_t all = std::stoull(lines["ALL"][1]), one = std::stoull(lines["ONE"][1]);
  EXPECT_GT(one, 0u) << r.out;
  EXPECT_GT(all, one) << r.out;
  EXPECT_LT(all, 4000u * 200u) << r.out;  // column chunks, not a multiple of the data
  EXPECT_EQ(lines["COUNT"], (std::vector<std::string>{"SUCCEEDED", "0"})) << r.out;
  EXPECT_EQ(lines["HISTORY"], std::vector<std::string>{lines["ALL"][1]}) << r.out;
  ASSERT_FALSE(lines["LIMITED"].empty()) << r.out;
  EXPECT_EQ(lines["LIMITED"][0], "CANCELLED") << r.out;
  EXPECT_NE(r.out.find("LIMITED CANCELLED Query cancelled! : Bytes scanned limit was exceeded"), std::string::npos)
      << r.out;
  EXPECT_EQ(lines["LIMITED_COUNT"], (std::vector<std::string>{"SUCCEEDED", "0"})) << r.out;
  // The workgroup's time limit: the query FAILS (a time-out is not a cancellation by the user).
  EXPECT_NE(r.out.find("SLOW FAILED Query exceeded the time limit of 1.00s"), std::string::npos) << r.out;

  // The result file, as Athena writes it, read back through the S3 API.
  ASSERT_EQ(lines["ALL_ID"].size(), 1u) << r.out;
  const std::string results = std::string("s3://") + kBucket + "/athena_results/" + lines["ALL_ID"][0] + ".csv";
  auto csv = Aws({"s3", "cp", results, "-"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  auto cli = CliRows(lake_, "SELECT * FROM sales_data");
  ASSERT_GT(cli.size(), 1000u);
  EXPECT_EQ(static_cast<size_t>(std::count(csv.out.begin(), csv.out.end(), '\n')), cli.size());
  std::string header;
  for (size_t c = 0; c < cli[0].size(); ++c) header += (c ? ",\"" : "\"") + cli[0][c] + "\"";
  EXPECT_EQ(csv.out.substr(0, csv.out.find('\n')), header);
  auto meta = Aws({"s3", "cp", results + ".metadata", "-"});
  ASSERT_EQ(meta.exit_code, 0) << meta.err;
  EXPECT_NE(meta.out.find("\"ColumnInfo\""), std::string::npos) << meta.out;
}

// Athena's result reuse through boto3 (tests/server/clients/athena_reuse_boto3.py), on the
// server's test clock ($SALESLAKE_TEST_CLOCK_FILE, kept near the real time so that SigV4 accepts
// the requests): the same SELECT is answered from the earlier result (ReusedPreviousResult, no
// data scanned, the same rows and result file) only for the same principal, within
// MaxAgeInMinutes by the clock, and until a commit changes the table; other statements always run.
TEST_F(GlueAthenaTest, ResultReuseThroughBoto3) {
  Key analyst = CreateUserWithKey(lake_, "analyst", kAnalystPolicy);
  server_.Stop();
  const int64_t real_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string clock_file = dir_.Join("clock.ms");
  WriteFile(clock_file, std::to_string(real_ms));
  ::setenv("SALESLAKE_TEST_CLOCK_FILE", clock_file.c_str(), 1);
  std::string err;
  const bool started = server_.Start(lake_, {"--access-log", dir_.Join("access2.jsonl")}, &err);
  ::unsetenv("SALESLAKE_TEST_CLOCK_FILE");
  ASSERT_TRUE(started) << err;
  auto r = RunProgram({"/usr/bin/python3", std::string(SALESLAKE_SOURCE_DIR) + "/tests/server/clients/athena_reuse_boto3.py",
                       server_.url(), clock_file, analyst.id, analyst.secret},
                      "", Env(admin_));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::map<std::string, std::vector<std::string>> steps;  // name -> state, reused, scanned, rows
  std::map<std::string, std::string> lines;               // first word -> the rest of the line
  for (const std::string& line : Split(r.out, '\n')) {
    if (line.find('|') != std::string::npos) {
      std::vector<std::string> f = Split(line, '|');
      steps[f[0]] = std::vector<std::string>(f.begin() + 1, f.end());
    } else if (size_t space = line.find(' '); space != std::string::npos) {
      lines[line.substr(0, space)] = line.substr(space + 1);
    }
  }
  auto reused = [&](const std::string& name) {
    const auto& s = steps[name];
    EXPECT_EQ(s.size(), 4u) << name << "\n" << r.out;
    EXPECT_EQ(s.empty() ? "" : s[0], "SUCCEEDED") << name << "\n" << r.out;
    return s.size() == 4 && s[1] == "True";
  };
  EXPECT_FALSE(reused("CTAS"));
  EXPECT_FALSE(reused("FIRST"));
  ASSERT_EQ(steps["FIRST"].size(), 4u) << r.out;
  const std::string rows = steps["FIRST"][3];
  EXPECT_EQ(rows.rfind(R"([["c1",)", 0), 0u) << rows;
  EXPECT_NE(rows.find(R"(["c2",)"), std::string::npos) << rows;
  EXPECT_GT(std::stoull(steps["FIRST"][2]), 0u);
  EXPECT_TRUE(reused("SECOND"));
  EXPECT_EQ(steps["SECOND"][2], "0");  // nothing scanned
  EXPECT_EQ(steps["SECOND"][3], rows);
  EXPECT_EQ(lines["ECHO_NONE"], R"({"ResultReuseByAgeConfiguration": {"Enabled": false}})");
  EXPECT_EQ(lines["ECHO_MINUTE"], R"({"ResultReuseByAgeConfiguration": {"Enabled": true, "MaxAgeInMinutes": 1}})");
  EXPECT_EQ(lines["SAME_LOCATION"], "True");
  EXPECT_FALSE(reused("DISABLED"));
  // The analyst (no saleslake:ReadPii) never gets the admin's result, only its own redacted one.
  EXPECT_FALSE(reused("ANALYST"));
  EXPECT_TRUE(reused("ANALYST_AGAIN"));
  for (const char* name : {"ANALYST", "ANALYST_AGAIN"}) {
    ASSERT_EQ(steps[name].size(), 4u);
    EXPECT_EQ(steps[name][3].rfind("[[null,", 0), 0u) << steps[name][3];
    EXPECT_EQ(steps[name][3].find("c1"), std::string::npos) << steps[name][3];
  }
  EXPECT_FALSE(reused("LATE_MINUTE"));  // two minutes old by the server's clock
  EXPECT_TRUE(reused("LATE_HOUR"));
  EXPECT_FALSE(reused("INSERT1"));
  EXPECT_FALSE(reused("INSERT2"));
  EXPECT_FALSE(reused("AFTER"));
  ASSERT_EQ(steps["AFTER"].size(), 4u);
  const std::string& after = steps["AFTER"][3];
  EXPECT_EQ(after.substr(0, rows.size() - 1), rows.substr(0, rows.size() - 1)) << after;
  size_t c3 = 0;
  for (size_t at = after.find("\"c3\""); at != std::string::npos; at = after.find("\"c3\"", at + 1)) ++c3;
  EXPECT_EQ(c3, 2u) << after;  // both INSERTs ran
  EXPECT_EQ(lines["BAD"], "InvalidRequestException");
}

// Workgroups are reread from pipeline.yaml on SIGHUP and when the file changes (the server looks
// once a second); a refused file is logged with file:line:col and the previous workgroups stay.
TEST_F(GlueAthenaTest, WorkGroupsAreReloadedFromPipelineYaml) {
  const std::string path = lake_ + "/pipeline.yaml";
  const std::string original = ReadFile(path);
  auto cutoff_of = [&](const std::string& wg) -> std::string {
    auto got = Aws({"athena", "get-work-group", "--work-group", wg});
    if (got.exit_code != 0) return got.err.find("InvalidRequestException") != std::string::npos ? "missing" : got.err;
    json j = json::parse(got.out, nullptr, false);
    return j.is_discarded() ? got.out : j["WorkGroup"]["Configuration"].value("BytesScannedCutoffPerQuery", json(0)).dump();
  };
  // Asks until `wg` has `want` (bounded: about 30 s).
  auto wait_cutoff = [&](const std::string& wg, const std::string& want) {
    std::string got;
    for (int i = 0; i < 150 && (got = cutoff_of(wg)) != want; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return got;
  };
  EXPECT_EQ(cutoff_of("tiny"), "missing");

  WriteFile(path, original + "\nworkgroups:\n  - name: tiny\n    bytes_scanned_cutoff_per_query: 2000\n");
  ASSERT_EQ(::kill(server_.pid(), SIGHUP), 0);
  EXPECT_EQ(wait_cutoff("tiny", "2000"), "2000");

  const std::string bad = original + "\nworkgroups:\n  - name: tiny\n    bytes_scanned_cutoff_per_query: -5\n";
  WriteFile(path, bad);
  ASSERT_EQ(::kill(server_.pid(), SIGHUP), 0);
  const size_t at = bad.find("-5");
  const std::string where = path + ":" + std::to_string(std::count(bad.begin(), bad.begin() + static_cast<long>(at), '\n') + 1) +
                            ":" + std::to_string(at - bad.rfind('\n', at)) + ": workgroup tiny: bytes_scanned_cutoff_per_query";
  std::string log;
  for (int i = 0; i < 150 && log.find(where) == std::string::npos; ++i) {
    log += server_.ReadStderr();
    if (log.find(where) == std::string::npos) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_NE(log.find(where), std::string::npos) << log;
  EXPECT_EQ(cutoff_of("tiny"), "2000");  // the previous workgroups stay

  // Changed again, without a signal: picked up by the server's look at the file.
  WriteFile(path, original + "\nworkgroups:\n  - name: tiny\n    bytes_scanned_cutoff_per_query: 4000\n  - name: other\n");
  EXPECT_EQ(wait_cutoff("other", "0"), "0");
  EXPECT_EQ(cutoff_of("tiny"), "4000");
}

}  // namespace
}  // namespace saleslake::testing
