#include "stack/stack.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "auth/auth.h"
#include "catalog/catalog.h"
#include "common/encoding.h"
#include "io/local_store.h"
#include "stack/dashboard.h"
#include "stack/deploy.h"
#include "stack/export_aws.h"
#include "support/test_support.h"
#include "stack/pipeline_fixture.h"

namespace saleslake::stack {
namespace {

using nlohmann::json;
using testing::kBasePipeline;
using testing::LineOf;
using testing::Replace;

std::string Pos(const std::string& file, const std::string& text, const std::string& needle, int col) {
  return file + ":" + std::to_string(LineOf(text, needle)) + ":" + std::to_string(col) + ": ";
}

// A change set as lines: "modify job my-etl-job | field: before -> after | ...", with the fields
// of modifications only, or (`every_field`) of additions and removals too.
std::vector<std::string> ChangeLines(const ChangeSet& cs, bool every_field = false) {
  std::vector<std::string> out;
  for (const Change& c : cs.changes) {
    std::string line = std::string(ChangeActionName(c.action)) + " " + c.kind + " " + c.name;
    if (every_field || c.action == ChangeAction::kModify)
      for (const FieldChange& f : c.fields) line += " | " + f.field + ": " + f.before.value_or("-") + " -> " + f.after.value_or("-");
    out.push_back(line);
  }
  return out;
}

TEST(ValidatePipeline, TheFixtureIsValid) {
  EXPECT_EQ(ValidatePipeline("p.yaml", kBasePipeline), std::vector<std::string>{});
  auto p = LoadPipeline("p.yaml", kBasePipeline);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  // 2 tables, 1 crawler, 1 job, 1 stream, 3 rules, 1 topic, 1 alarm, 2 settings.
  EXPECT_EQ(p->resources.size(), 12u);
  const Resource* t = p->Find("table", "sales_data");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->fields.at("defined_by"), "job my-etl-job");
  EXPECT_EQ(t->fields.at("partition_by"), "[region, purchase_month]");
  const Resource* topic = p->Find("topic", "pipeline-alerts");
  ASSERT_NE(topic, nullptr);
  EXPECT_EQ(topic->fields.at("subscriptions[1].filter_policy.type"), "[job.failed]");
}

TEST(ValidatePipeline, ReportsEveryErrorWithItsPosition) {
  std::string bad = kBasePipeline;
  bad = Replace(bad, "schema_change_policy: update", "schema_change_policy: upd");  // crawlers
  bad = Replace(bad, "      compression: zstd", "      compresion: zstd");           // jobs
  bad = Replace(bad, "statistic: Maximum", "statistic: Maximal");                      // alarms
  bad = Replace(bad, "shards: 4", "shards: 0");                                        // streams
  bad += "reports: []\n";                                                              // unknown
  std::vector<std::string> errors = ValidatePipeline("bad.yaml", bad);
  ASSERT_EQ(errors.size(), 5u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0].rfind(Pos("bad.yaml", bad, "schema_change_policy: upd", 27), 0), 0u) << errors[0];
  EXPECT_NE(errors[0].find("upd"), std::string::npos);
  EXPECT_EQ(errors[1].rfind(Pos("bad.yaml", bad, "compresion", 7), 0), 0u) << errors[1];
  EXPECT_NE(errors[1].find("compresion"), std::string::npos);
  EXPECT_EQ(errors[2].rfind("bad.yaml:" + std::to_string(LineOf(bad, "statistic: Maximal")) + ":", 0), 0u) << errors[2];
  // The stream parser names no position: the item's is given.
  EXPECT_EQ(errors[3], Pos("bad.yaml", bad, "name: sales-events", 5) + "stream sales-events: shards must be 1..1000");
  EXPECT_EQ(errors[4], Pos("bad.yaml", bad, "reports", 1) +
                           "unknown section 'reports' (sections: version, bucket, crawlers, jobs, streams, "
                           "rules, topics, alarms, workgroups, dashboards, iam, smtp)");
  auto loaded = LoadPipeline("bad.yaml", bad);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(std::count(loaded.status().message().begin(), loaded.status().message().end(), '\n'), 4);
}

TEST(ValidatePipeline, TwoBadItemsOfOneSectionAreBothReported) {
  std::string bad = Replace(kBasePipeline, "key: [{prefix: raw_data/}]", "key: [{prefx: raw_data/}]");
  bad = Replace(bad, "targets:\n      - job: my-etl-job", "targets:\n      - jobb: my-etl-job");
  auto errors = ValidatePipeline("p.yaml", bad);
  ASSERT_EQ(errors.size(), 2u) << ::testing::PrintToString(errors);
  // (the events parser places a pattern's errors at the pattern mapping, its first field)
  EXPECT_EQ(errors[0].rfind(Pos("p.yaml", bad, "type: [object.created]", 7), 0), 0u) << errors[0];
  EXPECT_NE(errors[0].find("prefx"), std::string::npos);
  EXPECT_EQ(errors[1].rfind("p.yaml:" + std::to_string(LineOf(bad, "jobb")) + ":", 0), 0u) << errors[1];
}

TEST(ValidatePipeline, YamlSyntaxErrorIsOneErrorWithPosition) {
  auto errors = ValidatePipeline("p.yaml", "crawlers:\n  - name: [unclosed\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("p.yaml:", 0), 0u);
  EXPECT_TRUE(ValidatePipeline("p.yaml", "").empty());  // an empty pipeline declares nothing
}

TEST(ValidatePipeline, ChecksAcrossItems) {
  std::string bad = kBasePipeline;
  bad = Replace(bad, "      - crawler: raw-crawler", "      - crawler: raw-crawlr");
  bad = Replace(bad, "    table: sales_data\n    format: json", "    table: nowhere\n    format: json");
  bad = Replace(bad, "  - name: alert-on-failure", "  - name: crawl-on-upload");
  auto errors = ValidatePipeline("p.yaml", bad);
  ASSERT_EQ(errors.size(), 3u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0], Pos("p.yaml", bad, "raw-crawlr", 18) +
                           "rule 'crawl-on-upload': no crawler named 'raw-crawlr' in this file (did you mean 'raw-crawler'?)");
  EXPECT_NE(errors[1].find("rule 'crawl-on-upload' is declared twice (first at line"), std::string::npos) << errors[1];
  EXPECT_EQ(errors[2], Pos("p.yaml", bad, "table: nowhere", 12) +
                           "stream 'sales-events': no job loads table 'nowhere' (the delivery goes through that job)");
}

// Athena workgroups are a section of the stack like the others: checked by sql's parser item by
// item (every bad one reported, at its position), names unique across the file, and diffed.
TEST(ValidatePipeline, WorkgroupsAreCheckedAndDiffed) {
  const std::string with = kBasePipeline +
                           "workgroups:\n"
                           "  - name: analysts\n"
                           "    bytes_scanned_cutoff_per_query: 10000000\n"
                           "  - name: primary\n"
                           "    max_concurrent_queries: 4\n";
  EXPECT_EQ(ValidatePipeline("p.yaml", with), std::vector<std::string>{});

  std::string bad = Replace(with, "bytes_scanned_cutoff_per_query: 10000000", "bytes_scanned_cutof_per_query: 10000000");
  bad = Replace(bad, "max_concurrent_queries: 4", "max_concurrent_queries: -1");
  auto errors = ValidatePipeline("p.yaml", bad);
  ASSERT_EQ(errors.size(), 2u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0], Pos("p.yaml", bad, "bytes_scanned_cutof_per_query", 5) +
                           "workgroup analysts: unknown key 'bytes_scanned_cutof_per_query' (did you mean "
                           "'bytes_scanned_cutoff_per_query'?)");
  EXPECT_EQ(errors[1], Pos("p.yaml", bad, "max_concurrent_queries: -1", 29) +
                           "workgroup primary: max_concurrent_queries must be >= 0");
  auto twice = ValidatePipeline("p.yaml", with + "  - name: analysts\n");
  ASSERT_EQ(twice.size(), 1u) << ::testing::PrintToString(twice);
  EXPECT_NE(twice[0].find("workgroup 'analysts' is declared twice (first at line"), std::string::npos) << twice[0];

  auto base = LoadPipeline("deployed", with);
  auto next = LoadPipeline("next", Replace(Replace(with, "10000000", "50000000"), "  - name: primary\n    max_concurrent_queries: 4\n",
                                           "  - name: adhoc\n    query_time_limit_seconds: 60\n"));
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(ChangeLines(Diff(*base, *next), /*every_field=*/true),
            (std::vector<std::string>{"add workgroup adhoc | query_time_limit_seconds: - -> 60",
                                      "modify workgroup analysts | bytes_scanned_cutoff_per_query: 10000000 -> 50000000",
                                      "remove workgroup primary | max_concurrent_queries: 4 -> -"}));
}

// An `iam:` section: a group with a policy, a user in it with one of its own.
const std::string kIam = R"(
iam:
  groups:
    - name: analysts
      policies:
        read-sales: |
          {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::my-analytics-bucket/processed_data/*"}]}
  users:
    - name: alice
      groups: [analysts]
      policies:
        no-raw: |
          {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*",
            "Resource": "arn:aws:s3:::my-analytics-bucket/raw_data/*"}]}
    - name: bob
)";

// IAM groups and users are resources of the stack: each problem reported at its position (a
// policy IAM would refuse with IAM's reason), a user's groups must be declared, and a change set
// names the policy statement that changes.
TEST(ValidatePipeline, IamGroupsAndUsersAreCheckedAndDiffed) {
  const std::string with = kBasePipeline + kIam;
  EXPECT_EQ(ValidatePipeline("p.yaml", with), std::vector<std::string>{});
  std::string bad = Replace(with, "\"Effect\": \"Deny\"", "\"Effect\": \"Maybe\"");
  bad = Replace(bad, "groups: [analysts]", "groups: [analyst]");
  bad = Replace(bad, "    - name: bob\n", "    - name: bob\n      group: [analysts]\n    - name: alice\n");
  auto errors = ValidatePipeline("p.yaml", bad);
  ASSERT_EQ(errors.size(), 4u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0], Pos("p.yaml", bad, "groups: [analyst]", 16) +
                           "iam user 'alice': no group named 'analyst' in this file (did you mean 'analysts'?)");
  EXPECT_EQ(errors[1].rfind(Pos("p.yaml", bad, "no-raw: |", 17) + "iam user 'alice': policy no-raw: ", 0), 0u) << errors[1];
  EXPECT_NE(errors[1].find("Effect"), std::string::npos) << errors[1];
  EXPECT_EQ(errors[2], Pos("p.yaml", bad, "group: [analysts]", 7) +
                           "iam user 'bob': unknown key 'group' (did you mean 'groups'?)");
  EXPECT_NE(errors[3].find("iam-user 'alice' is declared twice (first at line"), std::string::npos) << errors[3];

  auto base = LoadPipeline("deployed", with);
  auto next = LoadPipeline("next", Replace(Replace(with, "\"Action\": \"s3:GetObject\"", "\"Action\": \"s3:ListBucket\""),
                                           "    - name: bob\n", ""));
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  ChangeSet cs = Diff(*base, *next);
  ASSERT_EQ(cs.changes.size(), 2u) << cs.ToText();
  EXPECT_EQ(cs.changes[0].kind, "iam-group");
  ASSERT_EQ(cs.changes[0].fields.size(), 1u);
  EXPECT_EQ(cs.changes[0].fields[0].field, "policies.read-sales/Statement/0/Action");
  EXPECT_EQ(cs.changes[0].fields[0].after, "s3:ListBucket");
  EXPECT_EQ(cs.changes[1].action, ChangeAction::kRemove);
  EXPECT_EQ(cs.changes[1].kind + " " + cs.changes[1].name, "iam-user bob");
}

const std::string kDashboards = R"(
dashboards:
  - name: weekly
    definition: |
      {"title": "Weekly sales", "refresh_seconds": 300,
       "tiles": [
         {"id": "revenue", "title": "Revenue", "type": "kpi", "format": "currency",
          "sql": "SELECT sum(amount) AS value FROM sales_data"},
         {"id": "by_region", "title": "By region", "type": "bar",
          "sql": "SELECT region, sum(amount) AS revenue FROM sales_data GROUP BY region"}]}
  - name: ops
    definition: |
      {"title": "Ops", "tiles": []}
)";

// Dashboards are resources of the stack: checked as the console checks a save, each problem at
// its position in pipeline.yaml (inside the JSON too), and a change set names the tile and field
// that change.
TEST(ValidatePipeline, DashboardsAreCheckedAndDiffed) {
  const std::string with = kBasePipeline + kDashboards;
  EXPECT_EQ(ValidatePipeline("p.yaml", with), std::vector<std::string>{});
  std::string bad = Replace(with, "\"type\": \"bar\"", "\"type\": \"donut\"");
  bad = Replace(bad, "SELECT sum(amount) AS value FROM sales_data", "DELETE FROM sales_data");
  bad = Replace(bad, "  - name: ops\n", "  - name: Ops!\n  - name: empty\n    definition: [1, 2]\n  - name: ops\n    defintion: x\n");
  auto errors = ValidatePipeline("p.yaml", bad);
  ASSERT_EQ(errors.size(), 4u) << ::testing::PrintToString(errors);
  // One error per dashboard from the JSON checks (the first that fails), at its place in the file.
  EXPECT_EQ(errors[0], Pos("p.yaml", bad, "\"sql\": \"DELETE", 18) +
                           "dashboard 'weekly': a tile's SQL must be a query (SELECT, WITH, VALUES, SHOW, DESCRIBE, EXPLAIN)");
  EXPECT_EQ(errors[1].rfind(Pos("p.yaml", bad, "name: Ops!", 11) + "every dashboard needs a name", 0), 0u) << errors[1];
  EXPECT_EQ(errors[2].rfind(Pos("p.yaml", bad, "definition: [1, 2]", 17) + "dashboard 'empty': the definition is the dashboard's JSON text", 0), 0u)
      << errors[2];
  EXPECT_EQ(errors[3], Pos("p.yaml", bad, "defintion: x", 5) +
                           "dashboard 'ops': unknown key 'defintion' (did you mean 'definition'?)");
  auto twice = ValidatePipeline("p.yaml", with + "  - name: ops\n    definition: '{\"title\": \"x\", \"tiles\": []}'\n");
  ASSERT_EQ(twice.size(), 1u) << ::testing::PrintToString(twice);
  EXPECT_NE(twice[0].find("dashboard 'ops' is declared twice (first at line"), std::string::npos) << twice[0];

  auto base = LoadPipeline("deployed", with);
  std::string edited = Replace(with, "GROUP BY region\"}]}", "GROUP BY region ORDER BY 2 DESC\"}]}");
  edited = Replace(edited, "\"title\": \"Weekly sales\", \"refresh_seconds\": 300", "\"title\": \"Weekly sales\", \"refresh_seconds\": 60");
  edited = Replace(edited, "  - name: ops\n    definition: |\n      {\"title\": \"Ops\", \"tiles\": []}\n", "");
  auto next = LoadPipeline("next", edited);
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(ChangeLines(Diff(*base, *next)),
            (std::vector<std::string>{
                "remove dashboard ops",
                "modify dashboard weekly | refresh_seconds: 300 -> 60 | tiles.by_region.sql: SELECT region, sum(amount) AS "
                "revenue FROM sales_data GROUP BY region -> SELECT region, sum(amount) AS revenue FROM sales_data GROUP BY "
                "region ORDER BY 2 DESC"}));
  // Moving a tile is one change, of the order.
  auto moved = LoadPipeline("moved", Replace(Replace(with, "\"tiles\": [\n         {\"id\": \"revenue\"", "\"tiles\": [\n         {\"id\": \"tmp\""),
                                             "{\"id\": \"by_region\"", "{\"id\": \"revenue\""));
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  auto renamed = ChangeLines(Diff(*base, *moved));
  ASSERT_EQ(renamed.size(), 1u);
  EXPECT_NE(renamed[0].find("tiles: [revenue, by_region] -> [tmp, revenue]"), std::string::npos) << renamed[0];
}

// Twelve changes across every kind; the change set must list exactly these.
std::string TwelveChanges() {
  std::string next = kBasePipeline;
  next = Replace(next, "bucket: my-analytics-bucket", "bucket: other-bucket");
  next = Replace(next, "schema_change_policy: update", "schema_change_policy: log");
  next = Replace(next, "\njobs:\n", "  - name: new-crawler\n    path: incoming/\n    table: new_raw\n\njobs:\n");
  next = Replace(next, "compression: zstd", "compression: snappy");
  next = Replace(next, "status: upper(trim(status))", "status: trim(status)");
  next = Replace(next, "shards: 4", "shards: 2");
  next = Replace(next, "  - name: alert-on-failure\n    pattern:\n      type: [job.failed, crawler.failed]\n",
                 "  - name: nightly\n    schedule: cron(0 2 * * ? *)\n");
  next = Replace(next, "endpoint: _system/alerts/pipeline-alerts.jsonl", "endpoint: _system/alerts/all.jsonl");
  next = Replace(next, "\nalarms:\n", "  - name: ops\n    subscriptions: []\n\nalarms:\n");
  next = Replace(next, "threshold: 100", "threshold: 50");
  return next;
}

TEST(Diff, ListsExactlyTheChanges) {
  auto base = LoadPipeline("deployed", kBasePipeline);
  auto next = LoadPipeline("next", TwelveChanges());
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  ChangeSet cs = Diff(*base, *next);
  std::vector<std::string> got = ChangeLines(cs);
  std::vector<std::string> want = {
      "add table new_raw",
      "modify table sales_data | compression: zstd -> snappy",
      "add crawler new-crawler",
      "modify crawler raw-crawler | schema_change_policy: update -> log",
      "modify job my-etl-job | columns.status: upper(trim(status)) -> trim(status) | target.compression: zstd -> snappy",
      "modify stream sales-events | shards: 4 -> 2",
      "remove rule alert-on-failure",
      "add rule nightly",
      "add topic ops",
      "modify topic pipeline-alerts | subscriptions[0].endpoint: _system/alerts/pipeline-alerts.jsonl -> _system/alerts/all.jsonl",
      "modify alarm quarantine-high | threshold: 100 -> 50",
      "modify setting bucket | value: my-analytics-bucket -> other-bucket",
  };
  EXPECT_EQ(got, want);
  EXPECT_EQ(cs.Count(ChangeAction::kAdd), 4);
  EXPECT_EQ(cs.Count(ChangeAction::kModify), 7);
  EXPECT_EQ(cs.Count(ChangeAction::kRemove), 1);
  // The added rule carries its fields; the text form starts with the summary.
  EXPECT_EQ(cs.changes[7].fields.size(), 2u);
  EXPECT_EQ(cs.ToText().rfind("Change set: 4 to add, 7 to modify, 1 to remove\n+ table new_raw\n", 0), 0u) << cs.ToText();
  json j = json::parse(cs.ToJson());
  EXPECT_EQ(j["summary"]["modify"], 7);
  EXPECT_EQ(j["changes"][1]["fields"][0]["before"], "zstd");
  EXPECT_TRUE(j["changes"][0]["fields"][0]["before"].is_null());
}

TEST(Diff, CommentsAndLayoutAreNoChange) {
  std::string same = "# a comment\n" + Replace(kBasePipeline, "partition_by: [region, purchase_month]",
                                                "partition_by:\n        - region\n        - purchase_month");
  auto a = LoadPipeline("a", kBasePipeline);
  auto b = LoadPipeline("b", same);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(Diff(*a, *b).empty()) << Diff(*a, *b).ToText();
}

// Every object of the store and its bytes.
std::map<std::string, std::string> Snapshot(io::ObjectStore& store) {
  std::map<std::string, std::string> out;
  auto list = store.List("");
  EXPECT_TRUE(list.ok());
  for (const auto& o : *list) out[o.key] = *store.Get(o.key);
  return out;
}

class DeployTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = io::LocalStore::Open(dir_.path(), true);
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    ASSERT_TRUE(store_->Put("pipeline.yaml", kBasePipeline).ok());
  }
  std::string Current() { return *store_->Get("pipeline.yaml"); }
  saleslake::testing::TempDir dir_;
  std::unique_ptr<io::LocalStore> store_;
};

TEST_F(DeployTest, DryRunChangesNothingAndApplyKeepsThePreviousVersion) {
  auto before = Snapshot(*store_);
  auto dry = Deploy(*store_, "next.yaml", TwelveChanges(), {.dry_run = true});
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  EXPECT_EQ(dry->changes.changes.size(), 12u);
  EXPECT_EQ(dry->generation, 0);
  EXPECT_EQ(Snapshot(*store_), before);

  ManualClock clock(FromEpochMs(1767225600000));  // 2026-01-01T00:00:00Z
  auto r = Deploy(*store_, "next.yaml", TwelveChanges(), {.clock = &clock});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->generation, 1);
  EXPECT_EQ(r->id, Sha256Hex(TwelveChanges()).substr(0, 12));
  EXPECT_EQ(Current(), TwelveChanges());
  EXPECT_EQ(*store_->Get(r->previous_key), kBasePipeline);
  EXPECT_FALSE(*store_->Exists("_system/deploy/lock"));
  auto history = History(*store_);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].time, "2026-01-01T00:00:00Z");
  EXPECT_EQ((*history)[0].action, "deploy");
  EXPECT_EQ((*history)[0].changes, 12);

  // The same file again: nothing to do, nothing written.
  auto after = Snapshot(*store_);
  auto again = Deploy(*store_, "next.yaml", TwelveChanges());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->changes.empty());
  EXPECT_EQ(again->generation, 0);
  EXPECT_EQ(Snapshot(*store_), after);
}

// Deploy makes the IAM store hold what the file declares and drops what only the replaced
// version declared; a user that still has an access key made by hand is kept, with a notice;
// rollback restores the earlier declaration.
TEST_F(DeployTest, TheIamSectionIsAppliedAndRolledBack) {
  ASSERT_TRUE(store_->Put("_system/secret.key", std::string(64, 'a') + "\n").ok());
  auto opened = auth::Iam::Open(*store_, {.create = true});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto r = Deploy(*store_, "next.yaml", kBasePipeline + kIam);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto iam = auth::Iam::Open(*store_, {});
  ASSERT_TRUE(iam.ok());
  EXPECT_NE((*iam)->GetGroupPolicy("analysts", "read-sales").ValueOr("").find("processed_data"), std::string::npos);
  EXPECT_NE((*iam)->GetUserPolicy("alice", "no-raw").ValueOr("").find("Deny"), std::string::npos);
  auto groups = (*iam)->ListGroupsForUser("alice");
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].group_name, "analysts");
  EXPECT_TRUE((*iam)->GetUser("bob").ok());
  // Policies made by hand on a declared user stay; a key makes bob outlive his declaration.
  ASSERT_TRUE((*iam)->PutUserPolicy("alice", "by-hand", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]})").ok());
  ASSERT_TRUE((*iam)->CreateAccessKey("bob").ok());

  const std::string v2 = kBasePipeline + Replace(Replace(kIam, "    - name: bob\n", ""), "      groups: [analysts]\n", "");
  auto r2 = Deploy(*store_, "v2.yaml", Replace(v2, R"(  groups:
    - name: analysts
      policies:
        read-sales: |
          {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::my-analytics-bucket/processed_data/*"}]}
)", ""));
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  ASSERT_EQ(r2->notices.size(), 1u) << ::testing::PrintToString(r2->notices);
  EXPECT_EQ(r2->notices[0].rfind("iam user bob is no longer declared but was kept: ", 0), 0u) << r2->notices[0];
  iam = auth::Iam::Open(*store_, {});
  ASSERT_TRUE(iam.ok());
  EXPECT_FALSE((*iam)->ListGroups()->size() > 0) << "analysts should be gone";
  EXPECT_TRUE((*iam)->GetUserPolicy("alice", "no-raw").ok());
  EXPECT_TRUE((*iam)->GetUserPolicy("alice", "by-hand").ok());
  EXPECT_TRUE((*iam)->GetUser("bob").ok());

  auto back = Rollback(*store_);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  iam = auth::Iam::Open(*store_, {});
  ASSERT_TRUE(iam.ok());
  EXPECT_TRUE((*iam)->GetGroupPolicy("analysts", "read-sales").ok());
  EXPECT_EQ((*iam)->ListGroupsForUser("alice")->size(), 1u);
}

// Deploy writes the declared dashboards to dashboards/ (where the console reads them), replaces
// one changed in the console since (with a notice), removes one no longer declared unless it was
// changed in the console since, and rollback brings the earlier definitions back.
TEST_F(DeployTest, TheDashboardsSectionIsWrittenRemovedAndRolledBack) {
  const std::string v1 = kBasePipeline + kDashboards;
  auto r = Deploy(*store_, "v1.yaml", v1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->notices.empty()) << ::testing::PrintToString(r->notices);
  auto weekly = store_->Get("dashboards/weekly.json");
  ASSERT_TRUE(weekly.ok());
  auto parsed = ParseDashboard(*weekly, "weekly");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ((*parsed)["title"], "Weekly sales");
  EXPECT_EQ(*store_->Get("dashboards/ops.json"), "{\"title\": \"Ops\", \"tiles\": []}\n");

  // Both changed in the console; v2 changes weekly's title and drops ops.
  ASSERT_TRUE(store_->Put("dashboards/weekly.json", "{\"title\": \"Console\", \"tiles\": []}\n").ok());
  ASSERT_TRUE(store_->Put("dashboards/ops.json", "{\"title\": \"Ops (console)\", \"tiles\": []}\n").ok());
  std::string v2 = Replace(v1, "Weekly sales", "Sales by week");
  v2 = Replace(v2, "  - name: ops\n    definition: |\n      {\"title\": \"Ops\", \"tiles\": []}\n", "");
  auto r2 = Deploy(*store_, "v2.yaml", v2);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  ASSERT_EQ(r2->notices.size(), 2u) << ::testing::PrintToString(r2->notices);
  EXPECT_EQ(r2->notices[0], "dashboard weekly: dashboards/weekly.json was changed in the console since the last deploy; "
                            "replaced by the file's definition");
  EXPECT_EQ(r2->notices[1], "dashboard ops: no longer declared, but kept: dashboards/ops.json was changed in the console "
                            "since the last deploy");
  EXPECT_NE(store_->Get("dashboards/weekly.json")->find("Sales by week"), std::string::npos);
  EXPECT_TRUE(*store_->Exists("dashboards/ops.json"));

  // Unchanged since its deploy, a dashboard no longer declared is removed.
  auto r3 = Deploy(*store_, "v3.yaml", kBasePipeline);
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  EXPECT_TRUE(r3->notices.empty()) << ::testing::PrintToString(r3->notices);
  EXPECT_FALSE(*store_->Exists("dashboards/weekly.json"));

  auto back = Rollback(*store_);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_NE(store_->Get("dashboards/weekly.json")->find("Sales by week"), std::string::npos);
}

// A file that declares IAM on a lake without an IAM store changes nothing and says why.
TEST_F(DeployTest, IamWithoutAnIamStoreIsRefused) {
  auto before = Snapshot(*store_);
  auto r = Deploy(*store_, "next.yaml", kBasePipeline + kIam);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no IAM store"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(*store_->Get("pipeline.yaml"), kBasePipeline);
  EXPECT_EQ(Snapshot(*store_), before);
}

TEST_F(DeployTest, OneBadSectionChangesNothing) {
  ASSERT_TRUE(Deploy(*store_, "v1.yaml", TwelveChanges()).ok());
  auto before = Snapshot(*store_);
  // Many good changes and one bad section: refused as a whole.
  std::string bad = Replace(TwelveChanges(), "shards: 2", "shards: 2\n    buffer_mb: 4096");
  bad = Replace(bad, "threshold: 50", "threshold: 75");
  auto r = Deploy(*store_, "bad.yaml", bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("bad.yaml:" + std::to_string(LineOf(bad, "name: sales-events")) +
                                      ":5: stream sales-events: buffer_mb must be 1..128"),
            std::string::npos)
      << r.status().message();
  EXPECT_EQ(Snapshot(*store_), before);
}

TEST_F(DeployTest, RollbackRestoresThePreviousVersionAndCanBeUndone) {
  EXPECT_EQ(Rollback(*store_).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(Deploy(*store_, "v1.yaml", TwelveChanges()).ok());
  auto dry = Rollback(*store_, {.dry_run = true});
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(dry->changes.changes.size(), 12u);
  EXPECT_EQ(Current(), TwelveChanges());

  auto back = Rollback(*store_);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->generation, 2);
  EXPECT_EQ(Current(), kBasePipeline);
  auto history = History(*store_);
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[1].action, "rollback");

  auto forth = Rollback(*store_);  // rolls the rollback back
  ASSERT_TRUE(forth.ok());
  EXPECT_EQ(Current(), TwelveChanges());
}

TEST_F(DeployTest, RollbackRefusesAVersionThatNoLongerValidates) {
  ASSERT_TRUE(store_->Put("pipeline.yaml", "jobs: [oops\n").ok());  // edited by hand, broken
  ASSERT_TRUE(Deploy(*store_, "v1.yaml", kBasePipeline).ok());  // an unreadable deployed file: all adds
  auto before = Snapshot(*store_);
  auto r = Rollback(*store_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("no longer validates"), std::string::npos);
  EXPECT_EQ(Snapshot(*store_), before);
}

TEST_F(DeployTest, ALiveLockRefusesAndAStaleOneIsTakenOver) {
  ManualClock clock(std::chrono::system_clock::now());
  ASSERT_TRUE(store_->Put("_system/deploy/lock", "{}").ok());
  auto r = Deploy(*store_, "v1.yaml", TwelveChanges(), {.clock = &clock});
  EXPECT_EQ(r.status().code(), StatusCode::kAborted);
  EXPECT_EQ(Current(), kBasePipeline);
  clock.Set(clock.Now() + std::chrono::minutes(6));  // the holder was killed long ago
  r = Deploy(*store_, "v1.yaml", TwelveChanges(), {.clock = &clock});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Current(), TwelveChanges());
}

TEST_F(DeployTest, ConcurrentDeploysNeverInterleave) {
  const std::string a = TwelveChanges(), b = Replace(kBasePipeline, "shards: 4", "shards: 8");
  for (int round = 0; round < 20; ++round) {
    Status sa, sb;
    std::thread ta([&] { sa = Deploy(*store_, "a.yaml", round % 2 ? a : b).status(); });
    std::thread tb([&] { sb = Deploy(*store_, "b.yaml", round % 2 ? b : a).status(); });
    ta.join();
    tb.join();
    for (const Status& s : {sa, sb}) EXPECT_TRUE(s.ok() || s.code() == StatusCode::kAborted) << s.ToString();
  }
  // Whatever won, the file is the last recorded deploy's and generations have no gaps.
  auto history = History(*store_);
  ASSERT_TRUE(history.ok());
  ASSERT_FALSE(history->empty());
  for (size_t i = 0; i < history->size(); ++i) EXPECT_EQ((*history)[i].generation, static_cast<int64_t>(i + 1));
  EXPECT_EQ(Sha256Hex(Current()), history->back().sha256);
}

std::shared_ptr<const catalog::TableMetadata> Table(const std::string& name, catalog::FileFormat format,
                                                    const std::string& location, std::vector<std::string> parts) {
  auto t = std::make_shared<catalog::TableMetadata>();
  t->spec.name = name;
  t->spec.format = format;
  t->spec.location = location;
  t->spec.schema.fields = {{"purchase_date", DataType::Date()},
                           {"amount", DataType::Double()},
                           {"status", DataType::Varchar()},
                           {"region", DataType::Varchar()}};
  if (!parts.empty()) t->spec.schema.fields.push_back({"purchase_month", DataType::Varchar()});
  t->spec.partition_keys = std::move(parts);
  return t;
}

TEST(ExportAws, TemplateHasTheResourcesAndPropertiesCloudFormationNames) {
  std::vector<std::shared_ptr<const catalog::TableMetadata>> tables = {
      Table("raw_sales", catalog::FileFormat::kCsv, "raw_data/", {}),
      Table("sales_data", catalog::FileFormat::kParquet, "processed_data/sales_data/", {"region", "purchase_month"})};
  const std::string policy =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-analytics-bucket/lake/processed_data/*"}]})";
  std::vector<IamUserExport> users = {{"analyst", "/", {{"read-sales", policy}}}};
  auto out = ExportAws("pipeline.yaml", kBasePipeline, tables, users, {.location_uri = "s3://my-analytics-bucket/lake/"});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  json t = json::parse(out->template_json);
  EXPECT_EQ(t["AWSTemplateFormatVersion"], "2010-09-09");
  const json& r = t["Resources"];
  std::map<std::string, std::string> types;
  for (const auto& [id, res] : r.items()) types[id] = res["Type"];
  std::map<std::string, std::string> want = {
      {"GlueDatabase", "AWS::Glue::Database"},
      {"GlueServiceRole", "AWS::IAM::Role"},
      {"TableRawSales", "AWS::Glue::Table"},
      {"TableSalesData", "AWS::Glue::Table"},
      {"CrawlerRawCrawler", "AWS::Glue::Crawler"},
      {"JobMyEtlJob", "AWS::Glue::Job"},
      {"TriggerEtlAfterCrawl", "AWS::Glue::Trigger"},
      {"StreamSalesEvents", "AWS::Kinesis::Stream"},
      {"TopicPipelineAlerts", "AWS::SNS::Topic"},
      {"TopicPipelineAlertsSubscription2", "AWS::SNS::Subscription"},
      {"TopicPipelineAlertsPolicy", "AWS::SNS::TopicPolicy"},
      {"RuleAlertOnFailure", "AWS::Events::Rule"},
      {"UserAnalyst", "AWS::IAM::User"},
      {"PolicyAnalystReadSales", "AWS::IAM::Policy"},
  };
  EXPECT_EQ(types, want);

  EXPECT_EQ(r["GlueDatabase"]["Properties"]["DatabaseInput"]["Name"], "saleslake");
  const json& ti = r["TableSalesData"]["Properties"]["TableInput"];
  EXPECT_EQ(r["TableSalesData"]["Properties"]["DatabaseName"], json({{"Ref", "GlueDatabase"}}));
  EXPECT_EQ(ti["Name"], "sales_data");
  EXPECT_EQ(ti["TableType"], "EXTERNAL_TABLE");
  EXPECT_EQ(ti["StorageDescriptor"]["Location"], "s3://my-analytics-bucket/lake/processed_data/sales_data/");
  EXPECT_EQ(ti["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"],
            "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe");
  EXPECT_EQ(ti["PartitionKeys"], json::parse(R"([{"Name":"region","Type":"string"},{"Name":"purchase_month","Type":"string"}])"));
  EXPECT_EQ(ti["StorageDescriptor"]["Columns"].size(), 3u);  // partition columns are not data columns
  const json& raw = r["TableRawSales"]["Properties"]["TableInput"];
  EXPECT_EQ(raw["Parameters"]["skip.header.line.count"], "1");
  EXPECT_EQ(raw["Parameters"]["classification"], "csv");
  EXPECT_EQ(raw["StorageDescriptor"]["InputFormat"], "org.apache.hadoop.mapred.TextInputFormat");
  EXPECT_EQ(raw["StorageDescriptor"]["SerdeInfo"]["Parameters"]["field.delim"], ",");
  EXPECT_EQ(raw["StorageDescriptor"]["Columns"][0], json::parse(R"({"Name":"purchase_date","Type":"date"})"));

  const json& crawler = r["CrawlerRawCrawler"]["Properties"];
  EXPECT_EQ(crawler["Name"], "raw-crawler");
  EXPECT_EQ(crawler["Role"], json::parse(R"({"Fn::GetAtt":["GlueServiceRole","Arn"]})"));
  EXPECT_EQ(crawler["Targets"]["CatalogTargets"][0]["Tables"], json({"raw_sales"}));
  EXPECT_EQ(crawler["SchemaChangePolicy"]["UpdateBehavior"], "UPDATE_IN_DATABASE");

  const json& job = r["JobMyEtlJob"]["Properties"];
  EXPECT_EQ(job["Command"]["Name"], "glueetl");
  EXPECT_EQ(job["Command"]["ScriptLocation"], "s3://my-analytics-bucket/lake/jobs/my-etl-job.py");
  EXPECT_EQ(job["DefaultArguments"]["--partition_keys"], "region,purchase_month");

  const json& trigger = r["TriggerEtlAfterCrawl"]["Properties"];
  EXPECT_EQ(trigger["Type"], "CONDITIONAL");
  EXPECT_EQ(trigger["Predicate"]["Conditions"][0]["CrawlerName"], "raw-crawler");
  EXPECT_EQ(trigger["Predicate"]["Conditions"][0]["CrawlState"], "SUCCEEDED");
  EXPECT_EQ(trigger["Actions"], json::parse(R"([{"JobName":"my-etl-job"}])"));

  EXPECT_EQ(r["StreamSalesEvents"]["Properties"]["ShardCount"], 4);
  const json& sub = r["TopicPipelineAlertsSubscription2"]["Properties"];
  EXPECT_EQ(sub["TopicArn"], json({{"Ref", "TopicPipelineAlerts"}}));
  EXPECT_EQ(sub["Protocol"], "https");
  EXPECT_EQ(sub["FilterPolicy"], json::parse(R"({"type":["job.failed"]})"));
  EXPECT_EQ(sub["FilterPolicyScope"], "MessageAttributes");

  const json& rule = r["RuleAlertOnFailure"]["Properties"];
  EXPECT_EQ(rule["State"], "ENABLED");
  EXPECT_EQ(rule["Targets"][0]["Arn"], json({{"Ref", "TopicPipelineAlerts"}}));
  EXPECT_EQ(rule["EventPattern"]["source"], json({"aws.glue"}));
  EXPECT_EQ(rule["EventPattern"]["detail"]["state"], json({"FAILED", "Failed"}));

  const json& pol = r["PolicyAnalystReadSales"]["Properties"];
  EXPECT_EQ(pol["PolicyName"], "read-sales");
  EXPECT_EQ(pol["PolicyDocument"], json::parse(policy));
  EXPECT_EQ(pol["Users"], json::parse(R"([{"Ref":"UserAnalyst"}])"));

  // What has no AWS counterpart is said, in the template too.
  EXPECT_EQ(t["Metadata"]["saleslake"]["skipped"].size(), out->skipped.size());
  bool file_sub = false, upload_rule = false;
  for (const std::string& s : out->skipped) {
    file_sub |= s.find("topic pipeline-alerts: the file subscription") == 0;
    upload_rule |= s.find("rule crawl-on-upload:") == 0;
  }
  EXPECT_TRUE(file_sub && upload_rule) << ::testing::PrintToString(out->skipped);

  ASSERT_EQ(out->ddl.size(), 2u);
  EXPECT_EQ(out->ddl[1].first, "sales_data");
  EXPECT_NE(out->ddl[1].second.find("PARTITIONED BY"), std::string::npos);
  EXPECT_NE(out->ddl[1].second.find("LOCATION 's3://my-analytics-bucket/lake/processed_data/sales_data/'"),
            std::string::npos)
      << out->ddl[1].second;
}

// Workgroups become AWS::Athena::WorkGroup resources writing to the lake's athena_results/; what
// Athena cannot express (concurrency, run time, primary's limits, a cutoff under 10 MB) is said.
TEST(ExportAws, WorkgroupsBecomeAthenaWorkGroups) {
  const std::string text = kBasePipeline +
                           "workgroups:\n"
                           "  - name: analysts\n"
                           "    bytes_scanned_cutoff_per_query: 1000000\n"
                           "    max_concurrent_queries: 2\n"
                           "  - name: reporting\n"
                           "    bytes_scanned_cutoff_per_query: 50000000\n"
                           "  - name: primary\n"
                           "    query_time_limit_seconds: 60\n";
  auto out = ExportAws("pipeline.yaml", text, {}, {}, {.location_uri = "s3://my-analytics-bucket/lake"});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const json r = json::parse(out->template_json)["Resources"];
  ASSERT_TRUE(r.contains("WorkGroupAnalysts")) << r.dump();
  EXPECT_FALSE(r.contains("WorkGroupPrimary"));
  EXPECT_EQ(r["WorkGroupAnalysts"]["Type"], "AWS::Athena::WorkGroup");
  const json& props = r["WorkGroupReporting"]["Properties"];
  EXPECT_EQ(props["Name"], "reporting");
  EXPECT_EQ(props["WorkGroupConfiguration"]["BytesScannedCutoffPerQuery"], 50000000);
  EXPECT_EQ(props["WorkGroupConfiguration"]["ResultConfiguration"]["OutputLocation"],
            "s3://my-analytics-bucket/lake/athena_results/");
  EXPECT_EQ(r["WorkGroupAnalysts"]["Properties"]["WorkGroupConfiguration"]["BytesScannedCutoffPerQuery"], 10000000);
  std::vector<std::string> said;
  for (const std::string& s : out->skipped)
    if (s.rfind("workgroup ", 0) == 0) said.push_back(s);
  EXPECT_EQ(said, (std::vector<std::string>{
                      "workgroup primary: query_time_limit_seconds has no Athena equivalent (the DML timeout is an account quota)",
                      "workgroup analysts: max_concurrent_queries has no Athena equivalent (an account quota)",
                      "workgroup analysts: bytes_scanned_cutoff_per_query 1000000 raised to Athena's minimum of 10000000"}));
}

TEST(ExportAws, RefusesAnInvalidPipelineOrALocalLocation) {
  auto bad = ExportAws("p.yaml", Replace(kBasePipeline, "shards: 4", "shards: 0"), {}, {}, {.location_uri = "s3://b/l"});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  auto local = ExportAws("p.yaml", kBasePipeline, {}, {}, {.location_uri = "/srv/lake"});
  EXPECT_EQ(local.status().code(), StatusCode::kInvalidArgument);
  // A schedule rule with a job target becomes a scheduled Glue trigger (rate() as cron()).
  std::string sched = Replace(kBasePipeline, "  - name: alert-on-failure\n    pattern:\n      type: [job.failed, crawler.failed]\n    targets:\n      - topic: pipeline-alerts\n",
                              "  - name: every-15\n    schedule: rate(15 minutes)\n    targets:\n      - job: my-etl-job\n");
  auto out = ExportAws("p.yaml", sched, {}, {}, {.location_uri = "s3://b/l"});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  json t = json::parse(out->template_json);
  EXPECT_EQ(t["Resources"]["TriggerEvery15"]["Properties"]["Type"], "SCHEDULED");
  EXPECT_EQ(t["Resources"]["TriggerEvery15"]["Properties"]["Schedule"], "cron(0/15 * * * ? *)");
  // Without the catalog table the crawler targets the folder.
  EXPECT_EQ(t["Resources"]["CrawlerRawCrawler"]["Properties"]["Targets"]["S3Targets"][0]["Path"], "s3://b/l/raw_data/");
}

}  // namespace
}  // namespace saleslake::stack
