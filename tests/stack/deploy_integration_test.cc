// A running `saleslake serve` picks up what `saleslake deploy` applies, without a signal.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

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
  ASSERT_TRUE(server.Start(lake, {"--no-auth"}, &error)) << error;
  std::string err;
  ASSERT_TRUE(Eventually([&] { err += server.ReadStderr(); return err.find("rules loaded") != std::string::npos; })) << err;

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

}  // namespace
}  // namespace saleslake::testing
