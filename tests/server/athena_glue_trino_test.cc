// Athena, Glue and the Trino protocol through the real dispatcher and services (open gate, an
// initialised lake without data): type names, the bad-input answers (unknown ids and names, bad
// NextTokens, oversized pages, refused bookmark options) and Trino's error objects.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "io/local_store.h"
#include "server/internal/athena_api.h"
#include "server/internal/dispatch.h"
#include "server/internal/glue_api.h"
#include "server/internal/lake_sql.h"
#include "server/internal/metrics.h"
#include "server/internal/s3.h"
#include "server/internal/trino_api.h"
#include "server/test_request.h"
#include "support/test_support.h"

namespace saleslake::server::internal {
namespace {

using nlohmann::json;

class ApisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto init = saleslake::testing::RunSaleslakeIn(dir_.path(), {"init"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    auto store = io::LocalStore::Open(dir_.path(), false);
    ASSERT_TRUE(store.ok());
    lake_ = std::move(*store);
    gate_ = MakeOpenGate();
    s3_ = std::make_unique<S3Service>(lake_.get(), lake_.get(), "my-analytics-bucket");
    options_.lake = lake_.get();
    context_ = ServiceContext{&options_, lake_.get(), gate_.get(), &metrics_, &clock_, lake_.get()};
    dispatcher_ = std::make_unique<Dispatcher>(DispatcherOptions{.bucket = "my-analytics-bucket", .lake = lake_.get()},
                                               gate_.get(), s3_.get(), &metrics_);
    sql_ = std::make_unique<LakeSqlService>(context_);
    services_.push_back(MakeAthenaService(context_, sql_.get()));
    services_.push_back(MakeGlueService(context_, sql_.get()));
    services_.push_back(MakeTrinoService(context_, sql_.get()));
    ASSERT_TRUE(sql_->Start().ok());
    for (auto& s : services_) ASSERT_TRUE(s->Register(*dispatcher_).ok());
    ASSERT_TRUE(services_[0]->Start().ok());  // Athena's: it writes the result files
  }

  void TearDown() override {
    for (auto& s : services_) s->Stop();
    sql_->Stop();
  }

  // A JSON 1.1 call: (HTTP status, body).
  std::pair<int, json> Call(const std::string& target, const json& input) {
    HttpRequest r = MakeRequest("POST", "/");
    r.headers.emplace("x-amz-target", target);
    r.headers.emplace("content-type", "application/x-amz-json-1.1");
    r.body = input.dump();
    RequestNote note;
    HttpResponse out = dispatcher_->Handle(r, &note);
    return {out.status, json::parse(out.body, nullptr, false)};
  }

  HttpResponse Trino(const std::string& method, const std::string& path, const std::string& body) {
    HttpRequest r = MakeRequest(method, path);
    r.headers.emplace("x-trino-user", "me");
    r.body = body;
    RequestNote note;
    return dispatcher_->Handle(r, &note);
  }

  // The state a client polling GetQueryExecution ends on (each poll is held up to 1 s).
  std::string WaitFinal(const std::string& id) {
    std::string last;
    for (int i = 0; i < 400; ++i) {
      auto [status, body] = Call("AmazonAthena.GetQueryExecution", {{"QueryExecutionId", id}});
      const std::string state = body.value(json::json_pointer("/QueryExecution/Status/State"), "");
      if (state == "SUCCEEDED" || state == "FAILED" || state == "CANCELLED") return state;
      last = std::to_string(status) + " " + body.dump();
    }
    return "TIMEOUT after " + last;
  }

  saleslake::testing::TempDir dir_;
  std::unique_ptr<io::LocalStore> lake_;
  std::unique_ptr<Gate> gate_;
  std::unique_ptr<S3Service> s3_;
  Metrics metrics_;
  ManualClock clock_{FromEpochMs(1'750'000'000'000)};
  ServerOptions options_;
  ServiceContext context_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<LakeSqlService> sql_;
  std::vector<std::unique_ptr<Service>> services_;
};

TEST(TypeNames, AthenaGlueAndTrinoErrors) {
  EXPECT_EQ(AthenaTypeName(DataType::Varchar()), "varchar");
  EXPECT_EQ(AthenaTypeName(DataType::Int32()), "integer");
  EXPECT_EQ(AthenaTypeName(DataType::Decimal(10, 2)), "decimal");
  EXPECT_EQ(GlueTypeName(DataType::Varchar()), "string");
  EXPECT_EQ(GlueTypeName(DataType::Int32()), "int");
  EXPECT_EQ(GlueTypeName(DataType::Decimal(10, 2)), "decimal(10,2)");
  EXPECT_STREQ(ClassifyTrinoError(StatusCode::kInvalidArgument, "line 1:8: column 'x' not found").name,
               "COLUMN_NOT_FOUND");
  EXPECT_STREQ(ClassifyTrinoError(StatusCode::kInvalidArgument, "line 1:1: expected a statement").name,
               "SYNTAX_ERROR");
  EXPECT_STREQ(ClassifyTrinoError(StatusCode::kCancelled, "cancelled").name, "USER_CANCELED");
}

TEST_F(ApisTest, AthenaPagesAndRefusesBadInput) {
  auto [status, started] = Call("AmazonAthena.StartQueryExecution",
                                {{"QueryString", "SELECT * FROM (VALUES 1, 2, 3) t(x) ORDER BY x"}});
  ASSERT_EQ(status, 200) << started.dump();
  std::string id = started["QueryExecutionId"];
  ASSERT_EQ(WaitFinal(id), "SUCCEEDED");

  auto [s1, page1] = Call("AmazonAthena.GetQueryResults", {{"QueryExecutionId", id}, {"MaxResults", 2}});
  ASSERT_EQ(s1, 200) << page1.dump();
  ASSERT_EQ(page1["ResultSet"]["Rows"].size(), 2u);  // the header row and 1
  EXPECT_EQ(page1["ResultSet"]["Rows"][0]["Data"][0]["VarCharValue"], "x");
  EXPECT_EQ(page1["ResultSet"]["ResultSetMetadata"]["ColumnInfo"][0]["Type"], "integer");
  auto [s2, page2] = Call("AmazonAthena.GetQueryResults",
                          {{"QueryExecutionId", id}, {"MaxResults", 2}, {"NextToken", page1["NextToken"]}});
  ASSERT_EQ(s2, 200);
  ASSERT_EQ(page2["ResultSet"]["Rows"].size(), 2u);
  EXPECT_EQ(page2["ResultSet"]["Rows"][1]["Data"][0]["VarCharValue"], "3");
  EXPECT_FALSE(page2.contains("NextToken"));

  auto expect_invalid = [&](const json& in, const char* op = "AmazonAthena.GetQueryResults") {
    auto [s, body] = Call(op, in);
    EXPECT_EQ(s, 400) << in.dump();
    EXPECT_EQ(body["__type"], "InvalidRequestException") << body.dump();
  };
  expect_invalid({{"QueryExecutionId", id}, {"MaxResults", 1001}});
  expect_invalid({{"QueryExecutionId", id}, {"MaxResults", 0}});
  expect_invalid({{"QueryExecutionId", id}, {"NextToken", "garbage"}});
  expect_invalid({{"QueryExecutionId", "not-a-query"}});
  expect_invalid({{"QueryExecutionId", "not-a-query"}}, "AmazonAthena.GetQueryExecution");
  expect_invalid({{"QueryString", "SELECT 1"}, {"WorkGroup", "nope"}}, "AmazonAthena.StartQueryExecution");

  auto [s3, bad] = Call("AmazonAthena.StartQueryExecution", {{"QueryString", "SELECT nope FROM (VALUES 1) t(x)"}});
  ASSERT_EQ(s3, 200);
  ASSERT_EQ(WaitFinal(bad["QueryExecutionId"]), "FAILED");
  auto [s4, exec] = Call("AmazonAthena.GetQueryExecution", {{"QueryExecutionId", bad["QueryExecutionId"]}});
  EXPECT_NE(exec["QueryExecution"]["Status"]["StateChangeReason"].get<std::string>().find("line 1:8"),
            std::string::npos);
  expect_invalid({{"QueryExecutionId", bad["QueryExecutionId"]}});

  auto [s5, list] = Call("AmazonAthena.ListQueryExecutions", json::object());
  ASSERT_EQ(s5, 200);
  EXPECT_EQ(list["QueryExecutionIds"].size(), 2u);
}

// The rest of Athena's bad input: a NextToken of another query or listing, oversized listings,
// unknown ids in Stop/BatchGet, a stopped query's results, results released after the idle
// timeout (a client that stopped paging), and malformed ResultReuseConfigurations.
TEST_F(ApisTest, AthenaRefusesForeignTokensStopsQueriesAndReleasesIdleResults) {
  auto start = [&](const std::string& sql, const json& extra = json::object()) {
    json in = {{"QueryString", sql}};
    in.update(extra);
    auto [status, body] = Call("AmazonAthena.StartQueryExecution", in);
    EXPECT_EQ(status, 200) << body.dump();
    return body.value("QueryExecutionId", "");
  };
  auto expect_invalid = [&](const char* op, const json& in) {
    auto [s, body] = Call(op, in);
    EXPECT_EQ(s, 400) << op << " " << in.dump();
    EXPECT_EQ(body["__type"], "InvalidRequestException") << body.dump();
    return body.value("message", body.value("Message", ""));
  };
  const std::string a = start("SELECT * FROM (VALUES 1, 2, 3) t(x) ORDER BY x");
  const std::string b = start("SELECT * FROM (VALUES 4, 5, 6) t(x) ORDER BY x");
  ASSERT_EQ(WaitFinal(a), "SUCCEEDED");
  // As in Athena, the result file exists once the query is reported SUCCEEDED.
  EXPECT_TRUE(lake_->Exists("athena_results/" + a + ".csv").ValueOr(false));
  EXPECT_TRUE(lake_->Exists("athena_results/" + a + ".csv.metadata").ValueOr(false));
  ASSERT_EQ(WaitFinal(b), "SUCCEEDED");
  auto [s1, page] = Call("AmazonAthena.GetQueryResults", {{"QueryExecutionId", a}, {"MaxResults", 2}});
  ASSERT_EQ(s1, 200);
  ASSERT_TRUE(page.contains("NextToken"));
  expect_invalid("AmazonAthena.GetQueryResults", {{"QueryExecutionId", b}, {"NextToken", page["NextToken"]}});
  expect_invalid("AmazonAthena.ListQueryExecutions", {{"NextToken", page["NextToken"]}});
  expect_invalid("AmazonAthena.ListQueryExecutions", {{"MaxResults", 51}});
  expect_invalid("AmazonAthena.StopQueryExecution", {{"QueryExecutionId", "not-a-query"}});
  expect_invalid("AmazonAthena.BatchGetQueryExecution", {{"QueryExecutionIds", json::array()}});
  auto [s2, batch] = Call("AmazonAthena.BatchGetQueryExecution", {{"QueryExecutionIds", {a, "not-a-query"}}});
  ASSERT_EQ(s2, 200) << batch.dump();
  ASSERT_EQ(batch["QueryExecutions"].size(), 1u);
  EXPECT_EQ(batch["QueryExecutions"][0]["QueryExecutionId"], a);
  EXPECT_EQ(batch["UnprocessedQueryExecutionIds"][0]["QueryExecutionId"], "not-a-query");

  // A running query stopped: CANCELLED, and its results are refused with the reason.
  std::string slow = "SELECT count(*) FROM (VALUES 0,1,2,3,4,5,6,7,8,9) a(x)";
  for (char c = 'b'; c <= 'i'; ++c) slow += std::string(" CROSS JOIN (VALUES 0,1,2,3,4,5,6,7,8,9) ") + c + "(x)";
  const std::string stopped = start(slow);
  auto [s3, stop] = Call("AmazonAthena.StopQueryExecution", {{"QueryExecutionId", stopped}});
  EXPECT_EQ(s3, 200) << stop.dump();
  EXPECT_EQ(WaitFinal(stopped), "CANCELLED");
  EXPECT_NE(expect_invalid("AmazonAthena.GetQueryResults", {{"QueryExecutionId", stopped}}).find("CANCELLED"),
            std::string::npos);

  // Nobody fetched `b` for 15 minutes (the service clock): its rows are gone, its history stays.
  clock_.Advance(std::chrono::minutes(16));
  EXPECT_NE(expect_invalid("AmazonAthena.GetQueryResults", {{"QueryExecutionId", b}}).find("expired"), std::string::npos);
  auto [s4, exec] = Call("AmazonAthena.GetQueryExecution", {{"QueryExecutionId", b}});
  EXPECT_EQ(s4, 200);
  EXPECT_EQ(exec["QueryExecution"]["Status"]["State"], "SUCCEEDED");

  for (const json& reuse : {json{{"ResultReuseByAgeConfiguration", {{"Enabled", true}, {"MaxAgeInMinutes", -1}}}},
                            json{{"ResultReuseByAgeConfiguration", {{"Enabled", true}, {"MaxAgeInMinutes", 10081}}}},
                            json{{"ResultReuseByAgeConfiguration", {{"Enabled", true}, {"MaxAgeInMinutes", "5"}}}},
                            json{{"ResultReuseByAgeConfiguration", {{"MaxAgeInMinutes", 5}}}},
                            json{{"ResultReuseByAgeConfiguration", "yes"}}, json("yes")}) {
    expect_invalid("AmazonAthena.StartQueryExecution", {{"QueryString", "SELECT 1"}, {"ResultReuseConfiguration", reuse}});
  }
}

// A poll of a running query is held until the query ends (up to 1 s), not answered RUNNING after
// 50 ms: one GetQueryExecution sees the query stopped 200 ms after it was sent.
TEST_F(ApisTest, AthenaHoldsAPollOfARunningQueryUntilItEnds) {
  std::string slow = "SELECT count(*) FROM (VALUES 0,1,2,3,4,5,6,7,8,9) a(x)";
  for (char c = 'b'; c <= 'i'; ++c) slow += std::string(" CROSS JOIN (VALUES 0,1,2,3,4,5,6,7,8,9) ") + c + "(x)";
  auto [status, started] = Call("AmazonAthena.StartQueryExecution", {{"QueryString", slow}});
  ASSERT_EQ(status, 200) << started.dump();
  const std::string id = started["QueryExecutionId"];
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    (void)Call("AmazonAthena.StopQueryExecution", {{"QueryExecutionId", id}});
  });
  auto [s1, exec] = Call("AmazonAthena.GetQueryExecution", {{"QueryExecutionId", id}});
  stopper.join();
  ASSERT_EQ(s1, 200) << exec.dump();
  EXPECT_EQ(exec["QueryExecution"]["Status"]["State"], "CANCELLED") << exec.dump();
}

TEST_F(ApisTest, GlueKnowsThePipelineAndRefusesUnknowns) {
  auto [s1, jobs] = Call("AWSGlue.GetJobs", json::object());
  ASSERT_EQ(s1, 200) << jobs.dump();
  EXPECT_EQ(jobs["Jobs"][0]["Name"], "my-etl-job");
  auto [s2, crawlers] = Call("AWSGlue.ListCrawlers", json::object());
  EXPECT_EQ(crawlers["CrawlerNames"][0], "raw-crawler");
  auto [s3, nojob] = Call("AWSGlue.StartJobRun", {{"JobName", "nope"}});
  EXPECT_EQ(nojob["__type"], "EntityNotFoundException");
  auto [s4, norun] = Call("AWSGlue.GetJobRun", {{"JobName", "my-etl-job"}, {"RunId", "jr_x"}});
  EXPECT_EQ(norun["__type"], "EntityNotFoundException");
  auto [s5, notable] = Call("AWSGlue.GetTable", {{"DatabaseName", "sales"}, {"Name", "nope"}});
  EXPECT_EQ(notable["__type"], "EntityNotFoundException");
  auto [s6, nodb] = Call("AWSGlue.GetTables", {{"DatabaseName", "other"}});
  EXPECT_EQ(nodb["__type"], "EntityNotFoundException");
  auto [s7, token] = Call("AWSGlue.GetTables", {{"DatabaseName", "sales"}, {"NextToken", "x"}});
  EXPECT_EQ(token["__type"], "InvalidInputException");
  auto [s8, pause] = Call("AWSGlue.StartJobRun",
                          {{"JobName", "my-etl-job"}, {"Arguments", {{"--job-bookmark-option", "job-bookmark-pause"}}}});
  EXPECT_EQ(pause["__type"], "InvalidInputException");
  auto [s9, nocrawler] = Call("AWSGlue.GetCrawler", {{"Name", "nope"}});
  EXPECT_EQ(nocrawler["__type"], "EntityNotFoundException");
}

TEST_F(ApisTest, TrinoPagesRowsAndReportsErrors) {
  HttpResponse post = Trino("POST", "/v1/statement", "SELECT x, 'a' AS s FROM (VALUES 1, 2) t(x) ORDER BY x");
  ASSERT_EQ(post.status, 200) << post.body;
  json j = json::parse(post.body);
  std::vector<json> rows;
  json columns;
  for (int i = 0; i < 50 && j.contains("nextUri"); ++i) {
    std::string next = j["nextUri"];
    std::string path = next.substr(next.find("/v1/"));
    HttpResponse page = Trino("GET", path, "");
    ASSERT_EQ(page.status, 200) << page.body;
    j = json::parse(page.body);
    if (j.contains("columns")) columns = j["columns"];
    if (j.contains("data")) rows.insert(rows.end(), j["data"].begin(), j["data"].end());
  }
  ASSERT_FALSE(j.contains("nextUri"));
  EXPECT_EQ(j["stats"]["state"], "FINISHED");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1], json::array({2, "a"}));
  EXPECT_EQ(columns[0]["type"], "integer");
  EXPECT_EQ(columns[1]["typeSignature"]["rawType"], "varchar");

  // Every kind of cell as Trino's JSON carries it (pages are written as text, not as a tree).
  HttpResponse kinds = Trino("POST", "/v1/statement",
                             "SELECT CAST(NULL AS BIGINT) AS n, CAST(2.5 AS DOUBLE) AS d, true AS b, "
                             "'q\"\\\u00e9' AS s, CAST('Infinity' AS DOUBLE) AS inf, -7 AS i");
  ASSERT_EQ(kinds.status, 200) << kinds.body;
  j = json::parse(kinds.body);
  rows.clear();
  for (int i = 0; i < 50 && j.contains("nextUri"); ++i) {
    std::string next = j["nextUri"];
    HttpResponse page = Trino("GET", next.substr(next.find("/v1/")), "");
    ASSERT_EQ(page.status, 200) << page.body;
    j = json::parse(page.body);
    if (j.contains("data")) rows.insert(rows.end(), j["data"].begin(), j["data"].end());
  }
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], json::parse(R"([null, 2.5, true, "q\"\\\u00e9", "Infinity", -7])")) << rows[0].dump();

  HttpResponse bad = Trino("POST", "/v1/statement", "SELECT nope FROM (VALUES 1) t(x)");
  j = json::parse(bad.body);
  for (int i = 0; i < 50 && j.contains("nextUri"); ++i) {
    std::string next = j["nextUri"];
    j = json::parse(Trino("GET", next.substr(next.find("/v1/")), "").body);
  }
  EXPECT_EQ(j["error"]["errorName"], "COLUMN_NOT_FOUND") << j.dump();
  EXPECT_EQ(j["error"]["errorType"], "USER_ERROR");
  EXPECT_EQ(j["error"]["errorLocation"]["columnNumber"], 8);

  EXPECT_EQ(Trino("GET", "/v1/statement/executing/00000000-0000-4000-8000-000000000000/0", "").status, 404);
  EXPECT_EQ(Trino("GET", "/v1/statement/executing/../../x", "").status, 404);
  HttpRequest nouser = MakeRequest("POST", "/v1/statement");
  nouser.body = "SELECT 1";
  RequestNote note;
  EXPECT_EQ(dispatcher_->Handle(nouser, &note).status, 400);
}

}  // namespace
}  // namespace saleslake::server::internal
