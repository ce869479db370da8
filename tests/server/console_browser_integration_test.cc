// The web console end to end: a real `saleslake serve` on a small generated lake, driven by
// Debian's chromium (headless) through playwright-core (tests/server/clients/console_browser.mjs):
// sign-in, the "Sales performance" dashboard against the same SQL through `saleslake query`,
// cross-filter, region filter, drill-down, shared-URL reload, the no-change refresh served from
// the cache, tile editing, the timed refresh after new data, forecast bands, the data-quality
// tile, the catalog (with time travel), jobs, streams and events pages, the SQL editor (syntax
// highlighting, cancel, history, saved queries, completion), CSRF, stored XSS, PII masking,
// login rate limiting, and the live stream tile against records put through the Kinesis API. Screenshots go to
// <build>/test-artifacts/console/.
#include <gtest/gtest.h>

#include <filesystem>

#include "server/server_test_util.h"

namespace saleslake::testing {
namespace {

constexpr const char* kXssProduct = "SKU-00001-<img src=x onerror=window.__xss=9>";

TEST(ConsoleBrowserTest, DashboardSqlEditorAndSecurityInChromium) {
  TempDir dir;
  const std::string lake = dir.Join("lake");
  ASSERT_EQ(RunSaleslakeIn(lake, {"init"}).exit_code, 0);
  std::string csv = dir.Join("sales.csv");
  auto gen = RunSaleslake({"generate", "--rows", "3000", "--seed", "11", "--out", csv});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  // Stored XSS in the data: a product id carrying markup, loaded like any other row.
  WriteFile(dir.Join("xss.csv"),
            std::string("purchase_date,customer_id,product_id,amount,region,status\n") +
                "2025-03-03,CUST-000001,\"" + kXssProduct + "\",19.99,Oceania,COMPLETED\n"
                // Two rows the job quarantines (a missing field, a missing date): the data-quality
                // tile and the jobs page show them.
                "2025-03-04,CUST-000002,SKU-00002,19.99,Oceania\n"
                ",CUST-000003,SKU-00003,29.99,Oceania,COMPLETED\n");
  for (const std::string& f : {csv, dir.Join("xss.csv")}) {
    auto up = RunSaleslakeIn(lake, {"upload", f});
    ASSERT_EQ(up.exit_code, 0) << up.err;
  }
  auto crawl = RunSaleslakeIn(lake, {"crawl"});
  ASSERT_EQ(crawl.exit_code, 0) << crawl.err;
  auto job = RunSaleslakeIn(lake, {"start-job", "--job-name", "my-etl-job"});
  ASSERT_EQ(job.exit_code, 0) << job.out << job.err;

  // An analyst who may do everything, and a viewer denied PII.
  const Key analyst_key = CreateUserWithKey(lake, "analyst", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})");
  CreateUserWithKey(lake, "viewer", R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"*","Resource":"*"},
      {"Effect":"Deny","Action":"saleslake:ReadPii","Resource":"*"}]})");
  // A user denied the streams and events views (and the stream metrics).
  CreateUserWithKey(lake, "ops-denied", R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"*","Resource":"*"},
      {"Effect":"Deny","Action":["kinesis:ListStreams","kinesis:DescribeStreamSummary","events:ListRules","sns:ListTopics"],"Resource":"*"}]})");
  for (const char* user : {"analyst", "viewer", "ops-denied"}) {
    auto lp = RunSaleslakeIn(lake, {"iam", "create-login-profile", "--user-name", user, "--password",
                                    std::string("Pw-") + user + "-2026!"});
    ASSERT_EQ(lp.exit_code, 0) << lp.err;
  }

  // Loaded while the page is open: the refresh must show it.
  const std::string more = dir.Join("more.csv");
  ASSERT_EQ(RunSaleslake({"generate", "--rows", "500", "--seed", "12", "--out", more}).exit_code, 0);

  ServerProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(lake, {"--access-log", ""}, &error)) << error;
  const std::string artifacts = std::filesystem::current_path().string() + "/test-artifacts/console";
  auto r = RunProgram({"node", std::string(SALESLAKE_SOURCE_DIR) + "/tests/server/clients/console_browser.mjs",
                       server.url(), lake, SALESLAKE_BINARY, artifacts},
                      "",
                      {"CONSOLE_USER=analyst", "CONSOLE_PASSWORD=Pw-analyst-2026!", "VIEWER_USER=viewer",
                       "VIEWER_PASSWORD=Pw-viewer-2026!", "DENIED_USER=ops-denied", "DENIED_PASSWORD=Pw-ops-denied-2026!", std::string("XSS_PRODUCT=") + kXssProduct,
                       "NEW_CSV=" + more,
                       // The analyst's key for the Kinesis API (@aws-sdk/client-kinesis puts the
                       // records the live tile and the streams page must show) and the SNS API
                       // (/usr/bin/aws lists the topics the events page must show).
                       "AWS_ACCESS_KEY_ID=" + analyst_key.id, "AWS_SECRET_ACCESS_KEY=" + analyst_key.secret,
                       "AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null",
                       "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
                       "HOME=" + dir.path()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("console browser ok"), std::string::npos) << r.out << r.err;
  EXPECT_TRUE(std::filesystem::exists(artifacts + "/console-dashboard.png"));
  EXPECT_TRUE(std::filesystem::exists(artifacts + "/console-live.png"));
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace saleslake::testing
