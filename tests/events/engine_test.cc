// The bus and the engine on a real lake: the default flow (upload -> crawl -> job -> alert),
// replays after a crash (no job runs twice for one upload), schedules on an injected clock,
// command targets, topics (filter policies, webhook deliveries, retries, dead letters).
#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

#include "catalog/catalog.h"
#include "catalog/crawler.h"
#include "common/clock.h"
#include "events/events.h"
#include "events/topics.h"
#include "events/lines.h"
#include "support/forwarding_store.h"
#include "events/webhook.h"
#include "io/local_store.h"
#include "sql/sql.h"
#include "support/test_support.h"

namespace saleslake::events {
namespace {

using nlohmann::json;
using testing::TempDir;

// 20 rows, 4 without an amount (20% missing > the default job's 10% warn threshold).
std::string MessyCsv() {
  std::string s = "purchase_date,customer_id,product_id,amount,region,status\n";
  for (int i = 0; i < 20; ++i) {
    s += "2025-08-" + std::string(i < 9 ? "0" : "") + std::to_string(i + 1) + ",C" + std::to_string(i) + ",SKU-" +
         std::to_string(i) + "," + (i % 5 == 0 ? "" : std::to_string(10 + i) + ".50") + ",EU,completed\n";
  }
  return s;
}

using testing::Lines;
class LakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_.Join("lake");
    auto r = testing::RunSaleslake({"--lake", lake_, "init"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Open();
  }
  void Open() {
    auto s = io::LocalStore::Open(lake_, false);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    auto c = catalog::Catalog::Open(store_.get());
    ASSERT_TRUE(c.ok());
    catalog_ = std::move(*c);
    TopicsOptions to;
    to.clock = &clock_;
    to.http_timeout_ms = 2000;
    auto t = Topics::Open(store_.get(), to);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    topics_ = std::move(*t);
    EngineOptions eo;
    eo.clock = &clock_;
    eo.command_backoff_ms = 0;
    auto e = Engine::Open(catalog_.get(), topics_.get(), eo);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(*e);
  }
  void Upload(const std::string& name, const std::string& text) {
    testing::WriteFile(dir_.Join(name), text);
    auto r = testing::RunSaleslake({"--lake", lake_, "upload", dir_.Join(name)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Processes until the journal is drained (bounded), delivering topic messages as it goes.
  void Drain() {
    for (int i = 0; i < 20; ++i) {
      auto n = engine_->ProcessPending();
      ASSERT_TRUE(n.ok()) << n.status().ToString();
      topics_->DeliverDue();
      if (*n == 0) return;
    }
    FAIL() << "the journal did not drain";
  }
  size_t Runs() {
    auto l = store_->List("_system/runs/my-etl-job/");
    return l.ok() ? l->size() : 0;
  }
  std::string Get(const std::string& key) {
    auto t = store_->Get(key);
    return t.ok() ? *t : "";
  }
  void SetPipeline(const std::string& extra) {
    std::string text = Get("pipeline.yaml");
    size_t cut = text.find("\nrules:");
    ASSERT_NE(cut, std::string::npos);
    ASSERT_TRUE(store_->Put("pipeline.yaml", text.substr(0, cut + 1) + extra).ok());
    Status s = engine_->Reload();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  TempDir dir_;
  std::string lake_;
  ManualClock clock_{FromEpochMs(1764979200000)};
  std::unique_ptr<io::LocalStore> store_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<Topics> topics_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(LakeTest, UploadRunsCrawlerJobAndAlertsOnQualityViolation) {
  Upload("sales.csv", MessyCsv());
  Drain();
  EXPECT_EQ(Runs(), 1u);
  auto events = ReadEvents(*store_, 0);
  ASSERT_TRUE(events.ok());
  std::vector<std::string> types;
  for (const auto& e : *events) types.push_back(e.type);
  EXPECT_EQ(types, (std::vector<std::string>{"object.created", "crawler.succeeded", "job.succeeded",
                                             "quality.violation"}));
  auto alerts = Lines(Get("_system/alerts/pipeline-alerts.jsonl"));
  ASSERT_EQ(alerts.size(), 1u);
  json env = json::parse(alerts[0]);
  EXPECT_EQ(env["Type"], "Notification");
  EXPECT_EQ(env["TopicArn"], "arn:aws:sns:us-east-1:000000000000:pipeline-alerts");
  json msg = json::parse(env["Message"].get<std::string>());
  EXPECT_EQ(msg["type"], "quality.violation");
  EXPECT_EQ(msg["metric"], "missing_amount_share");
  EXPECT_EQ(msg["rule"], "etl-after-crawl");
  EXPECT_TRUE(msg["run_id"].is_string());
  EXPECT_NE(Get("_system/runs/my-etl-job/" + msg["run_id"].get<std::string>() + ".json"), "");
}

// A view created WITH (refresh = 'rate(5 minutes)') is refreshed by the scheduler on the clock;
// a rule target `materialized_view: "*"` refreshes every view; both journal matview.refreshed.
TEST_F(LakeTest, MaterializedViewsAreRefreshedOnTheirScheduleAndByRuleTargets) {
  Upload("messy.csv", MessyCsv());
  Drain();
  ASSERT_EQ(Runs(), 1u);
  auto sql = sql::Engine::OpenLake(store_.get(), catalog_.get());
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  auto created = (*sql)->Execute("CREATE MATERIALIZED VIEW rev_by_region WITH (refresh = 'rate(5 minutes)') AS "
                                 "SELECT region, count(*) AS n FROM sales_data GROUP BY region");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto state = [&]() -> std::string {
    auto e = sql::Engine::OpenLake(store_.get(), catalog_.get());
    auto r = (*e)->Execute("SHOW MATERIALIZED VIEWS");
    if (!r.ok() || r->result.batches.empty() || r->result.batches[0].num_rows == 0) return "none";
    return std::string(r->result.batches[0].columns[4].GetValue<std::string_view>(0));
  };
  std::string more = "purchase_date,customer_id,product_id,amount,region,status\n2025-09-01,C1,SKU-1,5.00,US,completed\n";
  Upload("more.csv", more);
  Drain();
  ASSERT_EQ(Runs(), 2u);
  ASSERT_NE(state().find("stale"), std::string::npos) << state();

  auto refreshed = [&] {
    size_t n = 0;
    for (const auto& l : Lines(Get("_system/events.jsonl"))) n += l.find("\"matview.refreshed\"") != std::string::npos;
    return n;
  };
  ASSERT_TRUE(engine_->Tick().ok());  // starts the clocks (rate(5 minutes) fires on :00, :05, ...)
  clock_.Advance(std::chrono::minutes(5));
  auto ticks = engine_->Tick();
  ASSERT_TRUE(ticks.ok());
  EXPECT_EQ(*ticks, 2);  // the view's own schedule and the default pipeline's refresh-rollups
  Drain();
  EXPECT_EQ(refreshed(), 2u);
  EXPECT_EQ(state(), "fresh");

  // The default pipeline's kind of rule: every view, on a schedule of its own.
  SetPipeline("rules:\n  - name: refresh-rollups\n    schedule: rate(10 minutes)\n    targets:\n"
              "      - materialized_view: \"*\"\n");
  ASSERT_TRUE(engine_->Tick().ok());
  clock_.Advance(std::chrono::minutes(10));
  ASSERT_TRUE(engine_->Tick().ok());
  Drain();
  // Both schedules came due: the view's own (twice missed -> one tick) and the rule's.
  EXPECT_EQ(refreshed(), 4u);
  std::string journal = Get("_system/events.jsonl");
  EXPECT_NE(journal.find("\"rule\":\"refresh-rollups\""), std::string::npos);
  EXPECT_NE(journal.find("\"view\":\"*\""), std::string::npos);
  auto bad = ParseEventsConfig("pipeline.yaml", "rules:\n  - name: r\n    schedule: rate(1 hour)\n    targets:\n"
                                                "      - materialized_view: \"no such; DROP\"\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("pipeline.yaml:5:28: "), std::string::npos) << bad.status().message();
}

TEST_F(LakeTest, ReplayAfterLostCheckpointRunsNothingTwice) {
  Upload("sales.csv", MessyCsv());
  // Crash after the first event's action (the crawl) and before anything else.
  ASSERT_TRUE(engine_->ProcessPending(1).ok());
  EXPECT_EQ(Runs(), 0u);
  ASSERT_TRUE(store_->Delete("_system/events/checkpoints/engine.json").ok());  // the checkpoint was lost
  engine_.reset();
  topics_.reset();
  Open();
  Drain();
  EXPECT_EQ(Runs(), 1u);
  // Lose the checkpoint again after everything ran: the replay skips every done target.
  ASSERT_TRUE(store_->Delete("_system/events/checkpoints/engine.json").ok());
  engine_.reset();
  topics_.reset();
  Open();
  Drain();
  EXPECT_EQ(Runs(), 1u);
  EXPECT_GT(engine_->stats().skipped_done, 0u);
  EXPECT_EQ(engine_->stats().actions, 0u);
  EXPECT_EQ(Lines(Get("_system/alerts/pipeline-alerts.jsonl")).size(), 1u);
  // The same content uploaded again under another name: the crawl commits nothing, no job.
  Upload("copy.csv", MessyCsv());
  Drain();
  EXPECT_EQ(Runs(), 1u);
}

TEST_F(LakeTest, FailedJobAlerts) {
  std::string text = Get("pipeline.yaml");
  size_t at = text.find("      status: upper(trim(status))");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 33, "      status: no_such_column + 1");
  ASSERT_TRUE(store_->Put("pipeline.yaml", text).ok());
  ASSERT_TRUE(engine_->Reload().ok());
  Upload("sales.csv", MessyCsv());
  Drain();
  auto alerts = Lines(Get("_system/alerts/pipeline-alerts.jsonl"));
  ASSERT_EQ(alerts.size(), 1u);
  json msg = json::parse(json::parse(alerts[0])["Message"].get<std::string>());
  EXPECT_EQ(msg["type"], "job.failed");
  EXPECT_NE(msg["error"].get<std::string>().find("no_such_column"), std::string::npos) << msg.dump();
}

TEST_F(LakeTest, CronScheduleFiresOnQuartersWithTheInjectedClock) {
  SetPipeline(R"(rules:
  - name: quarter
    schedule: cron(0/15 * * * ? *)
    targets:
      - command: cat >> )" + dir_.Join("ticks.txt") + R"(; echo >> )" + dir_.Join("ticks.txt") + R"(
)");
  clock_.Set(FromEpochMs(1764979200000 - 30000));  // 23:59:30
  for (int step = 0; step < 2 * 65; ++step) {      // to 01:04:30, in 30 s steps
    ASSERT_TRUE(engine_->Tick().ok());
    Drain();
    clock_.Advance(std::chrono::seconds(30));
  }
  std::vector<std::string> fired;
  for (const auto& line : Lines(testing::ReadFile(dir_.Join("ticks.txt"))))
    fired.push_back(json::parse(line)["scheduled_time"]);
  EXPECT_EQ(fired, (std::vector<std::string>{"2025-12-06T00:00:00Z", "2025-12-06T00:15:00Z", "2025-12-06T00:30:00Z",
                                             "2025-12-06T00:45:00Z", "2025-12-06T01:00:00Z"}));
}

TEST_F(LakeTest, CommandTargetIsBoundedRetriedAndDeadLettered) {
  SetPipeline(R"(rules:
  - name: flaky
    pattern: {type: [object.created]}
    targets:
      - command: 'head -c 200000 /dev/zero; echo boom >&2; exit 3'
        retries: 2
  - name: hangs
    pattern: {type: [object.created]}
    targets:
      - command: sleep 30
        timeout_s: 1
        retries: 0
)");
  Upload("a.csv", "x\n1\n");
  Drain();
  auto dlq = Lines(Get("_system/dlq/flaky.jsonl"));
  ASSERT_EQ(dlq.size(), 1u);
  json d = json::parse(dlq[0]);
  EXPECT_EQ(d["attempts"], 3);
  EXPECT_NE(d["reason"].get<std::string>().find("exit code 3"), std::string::npos) << d.dump();
  EXPECT_NE(d["reason"].get<std::string>().find("boom"), std::string::npos) << d.dump();
  auto runs = Lines(Get("_system/events/runs/flaky.jsonl"));
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_TRUE(json::parse(runs[0])["truncated"].get<bool>());
  auto hung = Lines(Get("_system/dlq/hangs.jsonl"));
  ASSERT_EQ(hung.size(), 1u);
  EXPECT_EQ(json::parse(hung[0])["reason"], "timed out");
}

TEST_F(LakeTest, BadReloadKeepsTheOldConfiguration) {
  size_t before = engine_->config().rules.size();
  std::string good = Get("pipeline.yaml");
  size_t at = good.find("\n# Topics");
  ASSERT_NE(at, std::string::npos);
  auto with_rule = [&](const std::string& rule) {
    std::string t = good;
    t.insert(at + 1, rule);
    return t;
  };
  ASSERT_TRUE(store_->Put("pipeline.yaml", with_rule("  - name: broken\n    schedule: cron(99 * * * ? *)\n    targets: [{job: my-etl-job}]\n")).ok());
  Status s = engine_->Reload();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("pipeline.yaml:"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("minutes: 99 is outside 0-59"), std::string::npos) << s.ToString();
  EXPECT_EQ(engine_->config().rules.size(), before);
  ASSERT_TRUE(store_->Put("pipeline.yaml", with_rule("  - name: typo\n    pattern: {type: [x]}\n    targets: [{job: my-etl-jbo}]\n")).ok());
  s = engine_->Reload();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no job named 'my-etl-jbo'"), std::string::npos) << s.ToString();
  EXPECT_EQ(engine_->config().rules.size(), before);
}

TEST_F(LakeTest, RulesTestSaysWhy) {
  auto m = engine_->Test({{"type", "object.created"}, {"key", "other/x.csv"}});
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m[0].rule, "crawl-on-upload");
  EXPECT_FALSE(m[0].matched);
  EXPECT_NE(m[0].why.find("key"), std::string::npos) << m[0].why;
  m = engine_->Test({{"type", "object.created"}, {"key", "raw_data/x.csv"}});
  EXPECT_TRUE(m[0].matched);
}

class TopicsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = io::LocalStore::Open(dir_.path(), true);
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    TopicsOptions o;
    o.clock = &clock_;
    o.http_timeout_ms = 2000;
    o.retry.min_delay_ms = 1000;
    o.retry.max_delay_ms = 4000;
    o.retry.backoff_retries = 3;
    o.retry.total_ms = 60000;
    auto t = Topics::Open(store_.get(), o);
    ASSERT_TRUE(t.ok());
    topics_ = std::move(*t);
  }
  TempDir dir_;
  ManualClock clock_{FromEpochMs(1764979200000)};
  std::unique_ptr<io::LocalStore> store_;
  std::unique_ptr<Topics> topics_;
};

TEST_F(TopicsTest, FilterPolicyExcludesAndCounts) {
  auto arn = topics_->CreateTopic("alerts");
  ASSERT_TRUE(arn.ok());
  ASSERT_TRUE(topics_->Subscribe(*arn, "file", "out/fail.jsonl", {{"FilterPolicy", R"({"level":["fail"]})"}, {"RawMessageDelivery", "true"}}, "").ok());
  ASSERT_TRUE(topics_->Subscribe(*arn, "file", "out/body.jsonl", {{"FilterPolicy", R"({"rows":[{"numeric":[">",100]}]})"}, {"FilterPolicyScope", "MessageBody"}}, "").ok());
  auto r = topics_->Publish(*arn, R"({"rows": 5})", "s", {{"level", {"String", "warn"}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deliveries, 0);
  EXPECT_EQ(r->filtered, 2);
  r = topics_->Publish(*arn, R"({"rows": 500})", "s", {{"level", {"String", "fail"}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deliveries, 2);
  topics_->DeliverDue();
  EXPECT_EQ(Lines(testing::ReadFile(dir_.Join("out/fail.jsonl"))), std::vector<std::string>{R"({"rows": 500})"});
  auto body = Lines(testing::ReadFile(dir_.Join("out/body.jsonl")));
  ASSERT_EQ(body.size(), 1u);
  EXPECT_EQ(json::parse(body[0])["MessageAttributes"]["level"]["Value"], "fail");
  EXPECT_EQ(topics_->stats().filtered, 2u);
  EXPECT_FALSE(topics_->Subscribe(*arn, "file", "x", {{"FilterPolicy", R"({"a":[{"bogus":1}]})"}}, "").ok());
  EXPECT_FALSE(topics_->CreateTopic("bad name").ok());
  EXPECT_FALSE(topics_->Publish(topics_->TopicArn("nope"), "m").ok());
}

TEST_F(TopicsTest, WebhookConfirmationEnvelopeRetriesAndDeadLetter) {
  testing::Webhook hook;
  auto arn = topics_->CreateTopic("hooks");
  ASSERT_TRUE(arn.ok());
  auto sub = topics_->Subscribe(*arn, "http", hook.url(), {}, "http://127.0.0.1:1/_sns/confirm");
  ASSERT_TRUE(sub.ok());
  EXPECT_FALSE(sub->confirmed);
  topics_->DeliverDue();
  ASSERT_TRUE(hook.WaitFor(1));
  json conf = json::parse(hook.requests()[0].body);
  EXPECT_EQ(conf["Type"], "SubscriptionConfirmation");
  EXPECT_EQ(hook.requests()[0].headers["x-amz-sns-message-type"], "SubscriptionConfirmation");
  // Unconfirmed: nothing is delivered.
  ASSERT_EQ(topics_->Publish(*arn, "early")->deliveries, 0);
  ASSERT_TRUE(topics_->ConfirmSubscription(*arn, conf["Token"]).ok());
  EXPECT_FALSE(topics_->ConfirmSubscription(*arn, "wrong").ok());

  ASSERT_TRUE(topics_->Publish(*arn, "hello", "subj", {{"n", {"Number", "7"}}}).ok());
  topics_->DeliverDue();
  ASSERT_TRUE(hook.WaitFor(2));
  json env = json::parse(hook.requests()[1].body);
  EXPECT_EQ(env["Type"], "Notification");
  EXPECT_EQ(env["Message"], "hello");
  EXPECT_EQ(env["Subject"], "subj");
  EXPECT_EQ(env["TopicArn"], *arn);
  EXPECT_EQ(env["MessageAttributes"]["n"]["Type"], "Number");
  EXPECT_TRUE(env.contains("MessageId") && env.contains("Timestamp"));

  // Down: immediate retries, then backoff on the clock; back before the end -> delivered once.
  hook.set_status(0);
  ASSERT_TRUE(topics_->Publish(*arn, "while down").ok());
  for (int i = 0; i < 4; ++i) topics_->DeliverDue();  // the first attempt and 3 immediate retries
  EXPECT_EQ(topics_->stats().failed_attempts, 4u);
  EXPECT_EQ(topics_->DeliverDue(), 0);  // the next one waits for the clock
  clock_.Advance(std::chrono::milliseconds(999));
  EXPECT_EQ(topics_->DeliverDue(), 0);
  hook.set_status(200);
  clock_.Advance(std::chrono::milliseconds(1));
  EXPECT_EQ(topics_->DeliverDue(), 1);
  ASSERT_TRUE(hook.WaitFor(3));
  EXPECT_EQ(json::parse(hook.requests()[2].body)["Message"], "while down");
  EXPECT_EQ(topics_->stats().delivered, 3u);

  // Failing for good: dead letter with the reason after immediate + backoff retries.
  hook.set_status(500);
  ASSERT_TRUE(topics_->Publish(*arn, "doomed").ok());
  for (int i = 0; i < 40; ++i) {
    topics_->DeliverDue();
    clock_.Advance(std::chrono::seconds(1));
  }
  auto dlq = Lines(testing::ReadFile(dir_.Join("_system/dlq/sns-hooks.jsonl")));
  ASSERT_EQ(dlq.size(), 1u);
  json d = json::parse(dlq[0]);
  EXPECT_EQ(d["reason"], "HTTP 500");
  EXPECT_EQ(d["attempts"], 7);
  EXPECT_EQ(topics_->stats().dead_lettered, 1u);
  EXPECT_EQ(topics_->stats().pending, 0u);
}

}  // namespace
}  // namespace saleslake::events

namespace saleslake::events {
namespace {

// The CLI over the same code: rules test says why; events process runs what no server ran.
TEST(CliTest, RulesTestEventsProcessAndTopicsPublish) {
  TempDir dir;
  std::string lake = dir.Join("lake");
  ASSERT_EQ(testing::RunSaleslake({"--lake", lake, "init"}).exit_code, 0);
  testing::WriteFile(dir.Join("ev.json"), R"({"type":"object.created","key":"other/x.csv"})");
  auto t = testing::RunSaleslake({"--lake", lake, "rules", "test", dir.Join("ev.json")});
  EXPECT_EQ(t.exit_code, 1);
  EXPECT_NE(t.out.find("no       crawl-on-upload: key: \"other/x.csv\" does not match"), std::string::npos) << t.out;
  testing::WriteFile(dir.Join("sales.csv"), MessyCsv());
  ASSERT_EQ(testing::RunSaleslake({"--lake", lake, "upload", dir.Join("sales.csv")}).exit_code, 0);
  auto p = testing::RunSaleslake({"--lake", lake, "events", "process"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(p.out.find("4 events, 3 actions"), std::string::npos) << p.out;
  auto l = testing::RunSaleslake({"--lake", lake, "events", "list", "--type", "quality.violation"});
  EXPECT_EQ(Lines(l.out).size(), 1u) << l.out;
  auto again = testing::RunSaleslake({"--lake", lake, "events", "process"});
  EXPECT_NE(again.out.find("0 events, 0 actions"), std::string::npos) << again.out;
  auto pub = testing::RunSaleslake({"--lake", lake, "topics", "publish", "--topic", "pipeline-alerts", "--message", "hi"});
  EXPECT_EQ(pub.exit_code, 0) << pub.err;
  EXPECT_EQ(Lines(testing::ReadFile(lake + "/_system/alerts/pipeline-alerts.jsonl")).size(), 2u);
}

}  // namespace
}  // namespace saleslake::events

namespace saleslake::events {
namespace {

// An alarm over job figures: a run reading more than 5 rows in 1 of 1 periods -> ALARM, the
// alarm's topic gets it; the next quiet period -> OK (missing data is notBreaching).
// The default job's figures as shares (percent of the run's rows) and its duration are fields of
// job.succeeded that alarms watch; the server's figures arrive through RecordMetric.
TEST_F(LakeTest, AlarmsWatchJobSharesAndServerMetrics) {
  SetPipeline(R"(rules:
  - name: crawl
    pattern: {type: [object.created]}
    targets: [{crawler: raw-crawler}]
  - name: etl
    pattern: {type: [crawler.succeeded], committed: [true]}
    targets: [{job: my-etl-job}]
topics:
  - name: pipeline-alerts
    subscriptions:
      - {protocol: file, endpoint: _system/alerts/pipeline-alerts.jsonl}
alarms:
  - name: missing-amounts
    event_type: job.succeeded
    metric: missing_amount_pct
    statistic: Maximum
    period_s: 60
    threshold: 10
    treat_missing_data: notBreaching
    alarm_actions: [pipeline-alerts]
  - name: server-errors
    event_type: server.metrics
    metric: http_5xx
    statistic: Sum
    period_s: 60
    evaluation_periods: 2
    datapoints_to_alarm: 2
    threshold: 0
    treat_missing_data: notBreaching
    alarm_actions: [pipeline-alerts]
)");
  Upload("sales.csv", MessyCsv());
  Drain();
  json done;
  for (const auto& l : Lines(Get("_system/events.jsonl"))) {
    json e = json::parse(l);
    if (e["type"] == "job.succeeded") done = e;
  }
  ASSERT_FALSE(done.is_null());
  EXPECT_DOUBLE_EQ(done["missing_amount_pct"].get<double>(), 20.0);  // 4 of 20 rows
  EXPECT_DOUBLE_EQ(done["quarantined_pct"].get<double>(), 0.0);
  EXPECT_GE(done["duration_s"].get<double>(), 0.0);

  engine_->RecordMetric("http_5xx", 3);
  engine_->RecordMetric("not_watched", 1);
  clock_.Advance(std::chrono::seconds(60));
  ASSERT_TRUE(engine_->Tick().ok());
  auto states = engine_->AlarmStates();
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].second, AlarmState::kAlarm);  // 20% > 10%
  EXPECT_EQ(states[1].second, AlarmState::kOk);     // 1 of 2 periods breaching: not yet
  engine_->RecordMetric("http_5xx", 1);
  clock_.Advance(std::chrono::seconds(60));
  ASSERT_TRUE(engine_->Tick().ok());
  EXPECT_EQ(engine_->AlarmStates()[1].second, AlarmState::kAlarm);  // 2 of 2
}

TEST_F(LakeTest, AlarmOverJobFiguresPublishesOnTransition) {
  SetPipeline(R"(rules:
  - name: etl
    pattern: {type: [object.created]}
    targets: [{job: my-etl-job}]
  - name: crawl
    pattern: {type: [object.created]}
    targets: [{crawler: raw-crawler}]
topics:
  - name: pipeline-alerts
    subscriptions:
      - {protocol: file, endpoint: _system/alerts/pipeline-alerts.jsonl}
alarms:
  - name: big-run
    event_type: job.succeeded
    metric: rows_read
    statistic: Maximum
    period_s: 60
    evaluation_periods: 1
    threshold: 5
    treat_missing_data: notBreaching
    alarm_actions: [pipeline-alerts]
)");
  Upload("sales.csv", MessyCsv());
  Drain();  // the job runs before the crawl registered the table: it fails; the crawl follows
  Upload("more.csv", MessyCsv() + "2025-08-30,C1,SKU-1,1.00,EU,completed\n");
  Drain();
  ASSERT_EQ(engine_->AlarmStates().size(), 1u);
  clock_.Advance(std::chrono::seconds(60));
  ASSERT_TRUE(engine_->Tick().ok());
  EXPECT_EQ(engine_->AlarmStates()[0].second, AlarmState::kAlarm);
  topics_->DeliverDue();
  auto alerts = Lines(Get("_system/alerts/pipeline-alerts.jsonl"));
  ASSERT_FALSE(alerts.empty());
  json msg = json::parse(json::parse(alerts.back())["Message"].get<std::string>());
  EXPECT_EQ(msg["alarm"], "big-run");
  EXPECT_EQ(msg["to"], "ALARM");
  clock_.Advance(std::chrono::seconds(60));
  ASSERT_TRUE(engine_->Tick().ok());
  EXPECT_EQ(engine_->AlarmStates()[0].second, AlarmState::kOk);
  auto changes = ReadEvents(*store_, 0);
  int n = 0;
  for (const auto& e : *changes) n += e.type == "alarm.state_change";
  EXPECT_EQ(n, 2);
}

// The bus on a bare lake: one rule that publishes every "x" event to a topic without
// subscriptions (what the bus benchmark runs).
class BusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = io::LocalStore::Open(dir_.Join("lake"), true);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->Put("pipeline.yaml", "topics:\n  - name: t\nrules:\n  - name: r\n    pattern:\n"
                                             "      type: [x]\n    targets:\n      - topic: t\n").ok());
    OpenEngine();
  }
  void OpenEngine() {
    engine_.reset();
    topics_.reset();
    catalog_.reset();
    auto c = catalog::Catalog::Open(store_.get());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    catalog_ = std::move(*c);
    auto t = Topics::Open(store_.get());
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    topics_ = std::move(*t);
    auto e = Engine::Open(catalog_.get(), topics_.get());
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(*e);
  }
  void Journal(const std::string& id) { ASSERT_TRUE(PublishEvent(*store_, "x", json::object(), id).ok()); }
  // A second consumer over another view of the lake (a store without appends, say).
  struct Consumer {
    std::unique_ptr<catalog::Catalog> catalog;
    std::unique_ptr<Topics> topics;
    std::unique_ptr<Engine> engine;
  };
  static void OpenConsumer(io::ObjectStore* store, Consumer* out) {
    auto c = catalog::Catalog::Open(store);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    out->catalog = std::move(*c);
    auto t = Topics::Open(store);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    out->topics = std::move(*t);
    auto e = Engine::Open(out->catalog.get(), out->topics.get());
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    out->engine = std::move(*e);
  }
  // A writer that died mid-line (power loss): bytes without their newline at the journal's end.
  void TearLine(const std::string& key, const std::string& bytes) {
    FILE* f = std::fopen(store_->PathOf(key).c_str(), "a");
    ASSERT_NE(f, nullptr);
    std::fputs(bytes.c_str(), f);
    std::fclose(f);
  }

  TempDir dir_;
  std::unique_ptr<io::LocalStore> store_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<Topics> topics_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(BusTest, ATornJournalLineIsSkippedAndTheEventsAfterItAreRead) {
  Journal("e1");
  TearLine("_system/events.jsonl", "{\"id\":\"e-torn\",\"type\":\"x");
  // Until something follows, the torn line is an unfinished line: not an event yet.
  auto before = ReadEvents(*store_, 0);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 1u);
  Journal("e2");
  auto after = ReadEvents(*store_, 0);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].id, "e1");
  EXPECT_EQ((*after)[1].id, "e2");
  auto n = engine_->ProcessPending();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(engine_->stats().actions, 2u);
}

// The reader takes the journal in pieces sized for the batch asked for: lines longer than a
// piece, and batches that end mid-piece, are read whole and in order, and the offsets let the
// next batch start exactly where the previous one stopped.
TEST_F(BusTest, EventsLargerThanAReadPieceAndBatchesAcrossPiecesAreReadWhole) {
  std::string big(200 << 10, 'q');  // 200 KiB: longer than the 64 KiB piece of a small batch
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(PublishEvent(*store_, "x", json{{"pad", i % 2 ? big : std::string("s")}}, "e" + std::to_string(i)).ok());
  }
  uint64_t offset = 0;
  std::vector<std::string> ids;
  for (int batch = 0; batch < 10; ++batch) {
    auto got = ReadEvents(*store_, offset, 2);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    if (got->empty()) break;
    ASSERT_LE(got->size(), 2u);
    for (const auto& e : *got) {
      ids.push_back(e.id);
      EXPECT_EQ(e.json["pad"].get<std::string>().size(), e.id == "e1" || e.id == "e3" ? big.size() : 1u);
    }
    offset = got->back().end_offset;
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"e0", "e1", "e2", "e3", "e4"}));
  EXPECT_EQ(offset, store_->Stat("_system/events.jsonl")->size);
}

TEST_F(BusTest, DoneMarkersSurviveARestartAndOldMarkerFilesStillCount) {
  // A lake from before the marker log: e1's target ran, its marker is a file of its own.
  ASSERT_TRUE(store_->Put("_system/events/done/r/e1.0", "{\"status\":\"published\"}").ok());
  Journal("e1");
  Journal("e2");
  OpenEngine();
  ASSERT_TRUE(engine_->ProcessPending().ok());
  EXPECT_EQ(engine_->stats().skipped_done, 1u);
  EXPECT_EQ(engine_->stats().actions, 1u);
  // e2's marker went to the log, before the checkpoint moved: a replay from the start (the
  // checkpoint lost) runs nothing again, and a torn marker line from a crash hides nothing.
  TearLine("_system/events/done.jsonl", "{\"rule\":\"r\",\"ev");
  ASSERT_TRUE(store_->Delete("_system/events/checkpoints/engine.json").ok());
  OpenEngine();
  Journal("e3");
  ASSERT_TRUE(engine_->ProcessPending().ok());
  EXPECT_EQ(engine_->stats().skipped_done, 2u);
  EXPECT_EQ(engine_->stats().actions, 1u);  // e3 only
  ASSERT_TRUE(store_->Delete("_system/events/checkpoints/engine.json").ok());
  OpenEngine();
  ASSERT_TRUE(engine_->ProcessPending().ok());
  EXPECT_EQ(engine_->stats().skipped_done, 3u);
  EXPECT_EQ(engine_->stats().actions, 0u);
}

TEST_F(BusTest, ABatchOfEventsIsOneAppendInOrderAndAllOrNothing) {
  // Other producers journal single events meanwhile: the batch's lines still come out together,
  // in order, with the ids it returned.
  std::vector<catalog::JournalEntry> batch;
  for (int i = 0; i < 200; ++i) batch.push_back({"x", "{\"n\":" + std::to_string(i) + "}", i == 7 ? "b-7" : ""});
  std::vector<std::thread> others;
  for (int t = 0; t < 4; ++t)
    others.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) EXPECT_TRUE(PublishEvent(*store_, "x", json::object(), "s" + std::to_string(t) + "-" + std::to_string(i)).ok());
    });
  auto ids = catalog::JournalEvents(*store_, batch);
  for (auto& th : others) th.join();
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  ASSERT_EQ(ids->size(), 200u);
  EXPECT_EQ((*ids)[7], "b-7");
  auto events = ReadEvents(*store_, 0, 10000);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 300u);
  size_t first = 0;
  while (first < events->size() && (*events)[first].id != (*ids)[0]) ++first;
  ASSERT_LE(first + 200, events->size());
  for (size_t i = 0; i < 200; ++i) {
    EXPECT_EQ((*events)[first + i].id, (*ids)[i]);
    EXPECT_EQ((*events)[first + i].json["n"], static_cast<int>(i));
  }
  uint64_t size = store_->Stat("_system/events.jsonl")->size;

  // An entry that is not an object: nothing of the batch is journaled.
  batch[150].fields_json = "[1]";
  EXPECT_EQ(catalog::JournalEvents(*store_, batch).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Stat("_system/events.jsonl")->size, size);
  // The disk fills half-way through the batch's write: an error, and none of it stays behind.
  batch[150].fields_json = "{}";
  Status failed;
  {
    testing::FileSizeLimit limit(size + 1000);  // a few of the 200 lines fit
    failed = catalog::JournalEvents(*store_, batch).status();
  }
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(store_->Stat("_system/events.jsonl")->size, size);
  // Each event once: the engine acts on the 300.
  auto n = engine_->ProcessPending(10000);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 300);
  EXPECT_EQ(engine_->stats().actions, 300u);
}

TEST_F(BusTest, OnAStoreWithoutAppendsMarkersAreObjectsAndStillCount) {
  Journal("e1");
  testing::NoAppendStore s3like(store_.get());
  auto run = [&](uint64_t* actions, uint64_t* skipped) {
    Consumer s3;
    ASSERT_NO_FATAL_FAILURE(OpenConsumer(&s3like, &s3));
    ASSERT_TRUE(s3.engine->ProcessPending().ok());
    *actions = s3.engine->stats().actions;
    *skipped = s3.engine->stats().skipped_done;
  };
  uint64_t actions = 0, skipped = 0;
  run(&actions, &skipped);
  EXPECT_EQ(actions, 1u);
  EXPECT_TRUE(*store_->Exists("_system/events/done/r/e1.0"));
  ASSERT_TRUE(store_->Delete("_system/events/checkpoints/engine.json").ok());
  run(&actions, &skipped);
  EXPECT_EQ(actions, 0u);
  EXPECT_EQ(skipped, 1u);
}

// `saleslake upload` on a lake on S3 leaves its events in the inbox (one object each): with no
// server, `events process` acts on them there; a server (whose journal appends) moves them into
// its journal. Either way once, also when an object comes back after a crash.
TEST_F(BusTest, EventsLeftInTheInboxOfAStoreWithoutAppendsAreActedOnOnce) {
  testing::NoAppendStore s3like(store_.get());
  ASSERT_TRUE(PublishEvent(s3like, "x", json::object(), "20260101T000000Z-a").ok());
  ASSERT_TRUE(PublishEvent(s3like, "x", json::object(), "20260101T000000Z-b").ok());
  const std::string a = std::string(catalog::kEventInboxPrefix) + "20260101T000000Z-a.json";
  const std::string b = std::string(catalog::kEventInboxPrefix) + "20260101T000000Z-b.json";
  EXPECT_TRUE(*store_->Exists(a));
  EXPECT_EQ(store_->Get("_system/events.jsonl").ValueOr(""), "");  // nothing journaled
  // While they wait there, they are what `events list` shows besides the journal, oldest first;
  // an object that is not one event is left out.
  const std::string junk = std::string(catalog::kEventInboxPrefix) + "20260101T000000Z-0.json";
  ASSERT_TRUE(store_->Put(junk, "not an event").ok());
  auto waiting = ReadInboxEvents(s3like);
  ASSERT_TRUE(waiting.ok()) << waiting.status().ToString();
  ASSERT_EQ(waiting->size(), 2u);
  EXPECT_EQ((*waiting)[0].id, "20260101T000000Z-a");
  EXPECT_EQ((*waiting)[1].id, "20260101T000000Z-b");
  EXPECT_EQ((*waiting)[1].type, "x");
  ASSERT_TRUE(store_->Delete(junk).ok());

  // No server: processed where they lie, then gone; a second pass finds nothing.
  {
    Consumer s3;
    ASSERT_NO_FATAL_FAILURE(OpenConsumer(&s3like, &s3));
    auto& e = s3.engine;
    auto n = e->ProcessPending(1);  // one at a time: the inbox is read in id order
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(*n, 1);
    EXPECT_FALSE(*store_->Exists(a));
    EXPECT_TRUE(*store_->Exists(b));
    n = e->ProcessPending();
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(*n, 1);
    EXPECT_EQ(e->stats().actions, 2u);
    EXPECT_FALSE(*store_->Exists(b));
    n = e->ProcessPending();
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 0);
    EXPECT_TRUE(ReadInboxEvents(s3like)->empty());
  }

  // A server's store: moved into the journal and acted on from there.
  ASSERT_TRUE(PublishEvent(s3like, "x", json::object(), "20260101T000001Z-c").ok());
  const std::string c = std::string(catalog::kEventInboxPrefix) + "20260101T000001Z-c.json";
  auto line = store_->Get(c);
  ASSERT_TRUE(line.ok());
  auto n = engine_->ProcessPending();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(engine_->stats().actions, 1u);
  EXPECT_FALSE(*store_->Exists(c));
  EXPECT_NE(store_->Get("_system/events.jsonl").ValueOr("").find("20260101T000001Z-c"), std::string::npos);
  // The object back again (a crash between the journal's append and the delete): journaled
  // twice, acted on once. A fresh engine lists the inbox at once.
  ASSERT_TRUE(store_->Put(c, *line).ok());
  OpenEngine();
  n = engine_->ProcessPending();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(engine_->stats().actions, 0u);
  EXPECT_EQ(engine_->stats().skipped_done, 1u);
  EXPECT_FALSE(*store_->Exists(c));
}

}  // namespace
}  // namespace saleslake::events
