// `saleslake deploy` and `saleslake export aws` as a user runs them.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "stack/pipeline_fixture.h"
#include "support/test_support.h"

namespace saleslake::testing {
namespace {

using stack::testing::Replace;

class DeployCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto init = RunSaleslakeIn(lake_, {"init"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    initial_ = ReadFile(lake_ + "/pipeline.yaml");
  }
  // Eleven changes to the pipeline `init` writes.
  std::string ElevenChanges() const {
    std::string p = initial_;
    p = Replace(p, "version: 1\n", "version: 1\nbucket: demo-bucket\n");
    p = Replace(p, "crawlers:\n", "crawlers:\n  - name: extra\n    path: extra/\n    table: extra_raw\n");
    p = Replace(p, "schema_change_policy: update", "schema_change_policy: log");
    p = Replace(p, "compression: zstd", "compression: snappy");
    p = Replace(p, "schedule: rate(5 minutes)", "schedule: rate(10 minutes)");
    p = Replace(p, "topics:\n  - name: pipeline-alerts", "topics:\n  - name: ops\n    subscriptions: []\n  - name: pipeline-alerts");
    p = Replace(p, "shards: 4", "shards: 2");
    p = Replace(p, "buffer_seconds: 60", "buffer_seconds: 30");
    p += "\nalarms:\n  - name: q\n    event_type: job.succeeded\n    metric: rows_quarantined\n    threshold: 10\n";
    p += "\nworkgroups:\n  - name: analysts\n    bytes_scanned_cutoff_per_query: 10000000\n";
    return p;
  }
  TempDir dir_;
  std::string lake_ = dir_.Join("lake");
  std::string initial_;
};

TEST_F(DeployCliTest, DryRunPrintsExactlyTheChanges) {
  WriteFile(dir_.Join("p.yaml"), ElevenChanges());
  auto r = RunSaleslakeIn(lake_, {"deploy", dir_.Join("p.yaml"), "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Change set: 6 to add, 5 to modify, 0 to remove\n"
            "+ table extra_raw\n"
            "    defined_by: crawler extra\n"
            "    format: auto\n"
            "    location: extra/\n"
            "~ table sales_data\n"
            "    compression: zstd -> snappy\n"
            "+ crawler extra\n"
            "    path: extra/\n"
            "    table: extra_raw\n"
            "~ crawler raw-crawler\n"
            "    schema_change_policy: update -> log\n"
            "~ job my-etl-job\n"
            "    target.compression: zstd -> snappy\n"
            "~ stream sales-events\n"
            "    buffer_seconds: 60 -> 30\n"
            "    shards: 4 -> 2\n"
            "~ rule refresh-rollups\n"
            "    schedule: rate(5 minutes) -> rate(10 minutes)\n"
            "+ topic ops\n"
            "    subscriptions: []\n"
            "+ alarm q\n"
            "    event_type: job.succeeded\n"
            "    metric: rows_quarantined\n"
            "    threshold: 10\n"
            "+ workgroup analysts\n"
            "    bytes_scanned_cutoff_per_query: 10000000\n"
            "+ setting bucket\n"
            "    value: demo-bucket\n"
            "Dry run: nothing was deployed.\n");
  EXPECT_EQ(ReadFile(lake_ + "/pipeline.yaml"), initial_);
  auto j = RunSaleslakeIn(lake_, {"deploy", dir_.Join("p.yaml"), "--dry-run", "--format", "json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["changes"].size(), 11u);
  EXPECT_EQ(doc["summary"]["add"], 6);
  EXPECT_EQ(doc["dry_run"], true);
}

TEST_F(DeployCliTest, ABadFileIsRefusedWithEveryErrorAndChangesNothing) {
  std::string bad = Replace(ElevenChanges(), "schema_change_policy: log", "schema_change_policy: lgo");
  bad = Replace(bad, "shards: 2", "shards: 0");
  WriteFile(dir_.Join("bad.yaml"), bad);
  auto r = RunSaleslakeIn(lake_, {"deploy", dir_.Join("bad.yaml")});
  EXPECT_EQ(r.exit_code, 1);
  const std::string file = dir_.Join("bad.yaml");
  EXPECT_NE(r.err.find(file + ":" + std::to_string(stack::testing::LineOf(bad, "lgo")) + ":"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stream sales-events: shards must be 1..1000"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("saleslake: error: " + file + ": 2 errors; nothing was deployed"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(lake_ + "/pipeline.yaml"), initial_);
  EXPECT_FALSE(std::filesystem::exists(lake_ + "/_system/deploy/versions"));
}

TEST_F(DeployCliTest, DeployRollbackAndHistory) {
  WriteFile(dir_.Join("p.yaml"), ElevenChanges());
  auto r = RunSaleslakeIn(lake_, {"deploy", dir_.Join("p.yaml")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Deployed generation 1 ("), std::string::npos) << r.out;
  EXPECT_EQ(ReadFile(lake_ + "/pipeline.yaml"), ElevenChanges());
  auto same = RunSaleslakeIn(lake_, {"deploy", dir_.Join("p.yaml")});
  ASSERT_EQ(same.exit_code, 0);
  EXPECT_EQ(same.out, "No changes: " + dir_.Join("p.yaml") + " is what the lake runs.\n");

  auto back = RunSaleslakeIn(lake_, {"deploy", "--rollback"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_NE(back.out.find("Deployed generation 2 ("), std::string::npos) << back.out;
  EXPECT_EQ(ReadFile(lake_ + "/pipeline.yaml"), initial_);
  auto h = RunSaleslakeIn(lake_, {"deploy", "--history", "--format", "json"});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  auto doc = nlohmann::json::parse(h.out);
  ASSERT_EQ(doc.size(), 2u);
  EXPECT_EQ(doc[0]["action"], "deploy");
  EXPECT_EQ(doc[1]["action"], "rollback");
  EXPECT_EQ(doc[1]["changes"], 11);
}

// The iam: section through the real commands: deploy creates the group and the user, the
// policies decide as `simulate-principal-policy` (the server's evaluation) says, and deploying
// the file without the section removes them again.
TEST_F(DeployCliTest, TheIamSectionIsDeployedAndRemoved) {
  const std::string iam = R"(
iam:
  groups:
    - name: analysts
      policies:
        read-processed: |
          {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::my-analytics-bucket/processed_data/*"}]}
  users:
    - name: alice
      groups: [analysts]
)";
  WriteFile(dir_.Join("p.yaml"), initial_ + iam);
  auto r = RunSaleslakeIn(lake_, {"deploy", dir_.Join("p.yaml")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("+ iam-group analysts\n    policies.read-processed/Statement/0/Action: s3:GetObject\n"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("+ iam-user alice\n    groups: [analysts]\n"), std::string::npos) << r.out;
  auto user = RunSaleslakeIn(lake_, {"iam", "get-user", "--user-name", "alice"});
  ASSERT_EQ(user.exit_code, 0) << user.err;
  const std::string arn = nlohmann::json::parse(user.out)["User"]["Arn"];
  auto decide = [&](const std::string& key) {
    auto sim = RunSaleslakeIn(lake_, {"iam", "simulate-principal-policy", "--policy-source-arn", arn, "--action-names",
                                      "s3:GetObject", "--resource-arns", "arn:aws:s3:::my-analytics-bucket/" + key});
    EXPECT_EQ(sim.exit_code, 0) << sim.err;
    auto j = nlohmann::json::parse(sim.out, nullptr, false);
    return j.is_discarded() ? sim.out : j["EvaluationResults"][0]["EvalDecision"].get<std::string>();
  };
  EXPECT_EQ(decide("processed_data/x.parquet"), "allowed");
  EXPECT_EQ(decide("raw_data/x.csv"), "implicitDeny");

  WriteFile(dir_.Join("p.yaml"), initial_);
  auto gone = RunSaleslakeIn(lake_, {"deploy", dir_.Join("p.yaml")});
  ASSERT_EQ(gone.exit_code, 0) << gone.err;
  EXPECT_NE(gone.out.find("- iam-user alice"), std::string::npos) << gone.out;
  EXPECT_NE(RunSaleslakeIn(lake_, {"iam", "get-user", "--user-name", "alice"}).exit_code, 0);
  auto groups = RunSaleslakeIn(lake_, {"iam", "list-groups"});
  ASSERT_EQ(groups.exit_code, 0) << groups.err;
  EXPECT_EQ(groups.out.find("analysts"), std::string::npos) << groups.out;
}

// The dashboards: section through the real command: the change set names it, deploy writes the
// file the console serves, a tile whose SQL writes is refused at its place in the file, and
// deploying the file without the section removes the dashboard again.
TEST_F(DeployCliTest, TheDashboardsSectionIsDeployedAndRemoved) {
  const std::string dashboards = R"(
dashboards:
  - name: weekly
    definition: |
      {"title": "Weekly sales",
       "tiles": [{"id": "revenue", "title": "Revenue", "type": "kpi",
                  "sql": "SELECT sum(amount) AS value FROM sales_data"}]}
)";
  WriteFile(dir_.Join("p.yaml"), initial_ + dashboards);
  auto r = RunSaleslakeIn(lake_, {"deploy", dir_.Join("p.yaml")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("+ dashboard weekly\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("    tiles.revenue.sql: SELECT sum(amount) AS value FROM sales_data\n"), std::string::npos) << r.out;
  EXPECT_NE(ReadFile(lake_ + "/dashboards/weekly.json").find("\"Weekly sales\""), std::string::npos);

  const std::string bad = initial_ + dashboards;
  WriteFile(dir_.Join("bad.yaml"), bad.substr(0, bad.find("SELECT sum")) + "DROP TABLE sales_data\"}]}\n");
  auto refused = RunSaleslakeIn(lake_, {"deploy", dir_.Join("bad.yaml")});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("dashboard 'weekly': a tile's SQL must be a query"), std::string::npos) << refused.err;

  WriteFile(dir_.Join("p.yaml"), initial_);
  auto gone = RunSaleslakeIn(lake_, {"deploy", dir_.Join("p.yaml")});
  ASSERT_EQ(gone.exit_code, 0) << gone.err;
  EXPECT_NE(gone.out.find("- dashboard weekly"), std::string::npos) << gone.out;
  EXPECT_FALSE(std::filesystem::exists(lake_ + "/dashboards/weekly.json"));
}

TEST_F(DeployCliTest, ExportAwsWritesTheTemplateAndTheDdl) {
  auto r = RunSaleslakeIn(lake_, {"export", "aws", "--out", dir_.Join("aws"), "--location-uri", "s3://b/lake"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto t = nlohmann::json::parse(ReadFile(dir_.Join("aws/cloudformation.json")));
  EXPECT_EQ(t["Resources"]["UserAdmin"]["Type"], "AWS::IAM::User");  // init's admin user
  EXPECT_EQ(t["Resources"]["JobMyEtlJob"]["Properties"]["Command"]["ScriptLocation"], "s3://b/lake/jobs/my-etl-job.py");
  EXPECT_TRUE(std::filesystem::exists(dir_.Join("aws/athena/all.sql")));
  EXPECT_NE(r.out.find("Not exported, or only in part"), std::string::npos) << r.out;
  auto help = RunSaleslake({"deploy", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--rollback"), std::string::npos);
}

}  // namespace
}  // namespace saleslake::testing
