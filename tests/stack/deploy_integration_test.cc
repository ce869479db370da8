// A running `saleslake serve` picks up what `saleslake deploy` applies, without a signal.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include <nlohmann/json.hpp>

#include "server/server_test_util.h"
#include "stack/pipeline_fixture.h"
#include "support/test_support.h"

namespace saleslake::testing {
namespace {

using stack::testing::Replace;

// Polls `f` (bounded: the CI machine is loaded, so the bound is generous).
bool Eventually(const std::function<bool()>& f, int timeout_ms = 60000) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return f();
}

TEST(DeployServe, ARunningServerRunsTheDeployedRules) {
  TempDir dir;
  const std::string lake = dir.Join("lake");
  auto init = RunSaleslakeIn(lake, {"init"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  ServerProcess server;
  std::string error;
  // The server loads its rules before it says it is serving, so a deploy from here on is a reload.
  ASSERT_TRUE(server.Start(lake, {"--no-auth"}, &error)) << error;
  std::string err;

  // A rule that copies every upload under audit/ to a topic of its own, deployed.
  std::string next = ReadFile(lake + "/pipeline.yaml");
  next = Replace(next, "\nrules:\n", "\nrules:\n  - name: audit-uploads\n    pattern:\n      type: [object.created]\n"
                                     "      key: [{prefix: audit/}]\n    targets:\n      - topic: audit\n");
  next = Replace(next, "\ntopics:\n", "\ntopics:\n  - name: audit\n    subscriptions:\n      - protocol: file\n"
                                      "        endpoint: _system/alerts/audit.jsonl\n");
  WriteFile(dir.Join("p.yaml"), next);
  auto deploy = RunSaleslakeIn(lake, {"deploy", dir.Join("p.yaml")});
  ASSERT_EQ(deploy.exit_code, 0) << deploy.err;
  ASSERT_TRUE(Eventually([&] { err += server.ReadStderr(); return err.find("rules reloaded") != std::string::npos; })) << err;

  WriteFile(dir.Join("one.txt"), "x\n");
  auto up = RunSaleslakeIn(lake, {"upload", dir.Join("one.txt"), "--to", "audit/"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  ASSERT_TRUE(Eventually([&] { return ReadFile(lake + "/_system/alerts/audit.jsonl").find("one.txt") != std::string::npos; }))
      << server.ReadStderr();

  // Rolled back: the server drops the rule again.
  err.clear();
  auto back = RunSaleslakeIn(lake, {"deploy", "--rollback"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  ASSERT_TRUE(Eventually([&] { err += server.ReadStderr(); return err.find("rules reloaded") != std::string::npos; })) << err;
  EXPECT_EQ(server.Stop(), 0);
}

// The same commands on a lake in S3 (`saleslake serve` holding the bucket): conditional writes
// claim the generation, versions and the lock are objects like any other.
TEST(DeployS3, DeployRollbackAndExportOnAnS3Lake) {
  TempDir dir;
  const std::string served = dir.Join("served");
  ASSERT_EQ(RunSaleslakeIn(served, {"init"}).exit_code, 0);
  ServerProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(served, {"--access-log", ""}, &error)) << error;
  const std::vector<std::string> env = {"AWS_SHARED_CREDENTIALS_FILE=" + served + "/_system/admin-credentials",
                                        "AWS_CONFIG_FILE=" + dir.Join("no-config"), "AWS_PROFILE=saleslake",
                                        "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_ENDPOINT_URL_S3=",
                                        "AWS_ENDPOINT_URL=" + server.url()};
  const std::string lake = "s3://my-analytics-bucket/lake";
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--lake", lake});
    return RunSaleslake(args, "", env);
  };
  auto init = run({"init"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  std::string next = ReadFile(served + "/pipeline.yaml");  // the same text init writes everywhere
  next = Replace(next, "compression: zstd", "compression: snappy");
  next = Replace(next, "shards: 4", "shards: 2");
  WriteFile(dir.Join("p.yaml"), next);
  auto dry = run({"deploy", dir.Join("p.yaml"), "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(dry.out.substr(0, dry.out.find('\n')), "Change set: 0 to add, 3 to modify, 0 to remove") << dry.out;

  auto applied = run({"deploy", dir.Join("p.yaml")});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  EXPECT_NE(applied.out.find("Deployed generation 1 ("), std::string::npos) << applied.out;
  auto same = run({"deploy", dir.Join("p.yaml")});
  EXPECT_NE(same.out.find("No changes"), std::string::npos) << same.out << same.err;

  auto back = run({"deploy", "--rollback", "--format", "json"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  auto doc = nlohmann::json::parse(back.out);
  EXPECT_EQ(doc["generation"], 2);
  EXPECT_EQ(doc["summary"]["modify"], 3);
  auto history = run({"deploy", "--history", "--format", "json"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_EQ(nlohmann::json::parse(history.out).size(), 2u);

  // The export's location defaults to the lake itself.
  auto exported = run({"export", "aws", "--out", dir.Join("aws")});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  auto t = nlohmann::json::parse(ReadFile(dir.Join("aws/cloudformation.json")));
  EXPECT_EQ(t["Resources"]["CrawlerRawCrawler"]["Properties"]["Targets"]["S3Targets"][0]["Path"],
            "s3://my-analytics-bucket/lake/raw_data/");
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace saleslake::testing
