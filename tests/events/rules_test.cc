// Event patterns, schedules (with an injected time, no sleeps) and pipeline.yaml checks.
#include <gtest/gtest.h>

#include "events/rules.h"

namespace saleslake::events {
namespace {

using nlohmann::json;

EventPattern P(const json& j) {
  auto p = EventPattern::FromJson(j);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : EventPattern();
}

TEST(PatternTest, ExactPrefixAnythingButNumericExists) {
  json ev = {{"type", "object.created"}, {"key", "raw_data/a.csv"}, {"size", 120}, {"level", "warn"}};
  EXPECT_TRUE(P({{"type", {"object.created"}}}).Matches(ev));
  EXPECT_FALSE(P({{"type", {"job.failed"}}}).Matches(ev));
  EXPECT_TRUE(P({{"key", {{{"prefix", "raw_data/"}}}}}).Matches(ev));
  EXPECT_FALSE(P({{"key", {{{"prefix", "processed/"}}}}}).Matches(ev));
  EXPECT_TRUE(P({{"key", {{{"suffix", ".csv"}}}}}).Matches(ev));
  EXPECT_TRUE(P({{"level", {{{"anything-but", {"fail"}}}}}}).Matches(ev));
  EXPECT_FALSE(P({{"level", {{{"anything-but", "warn"}}}}}).Matches(ev));
  EXPECT_FALSE(P({{"key", {{{"anything-but", {{"prefix", "raw_data/"}}}}}}}).Matches(ev));
  EXPECT_TRUE(P({{"size", {{{"numeric", {">", 100, "<=", 120}}}}}}).Matches(ev));
  EXPECT_FALSE(P({{"size", {{{"numeric", {">", 120}}}}}}).Matches(ev));
  EXPECT_TRUE(P({{"size", {120}}}).Matches(ev));  // numbers compare as numbers
  EXPECT_TRUE(P({{"sha256", {{{"exists", false}}}}}).Matches(ev));
  EXPECT_FALSE(P({{"sha256", {{{"exists", true}}}}}).Matches(ev));
  EXPECT_TRUE(P({{"key", {{{"exists", true}}}}}).Matches(ev));
  EXPECT_TRUE(P({{"level", {{{"equals-ignore-case", "WARN"}}}}}).Matches(ev));
  // Every field must match; within a field any alternative.
  EXPECT_FALSE(P({{"type", {"object.created"}}, {"size", {1}}}).Matches(ev));
  EXPECT_TRUE(P({{"type", {"job.failed", "object.created"}}}).Matches(ev));
  // A missing field fails an exact match; an array value matches when any element does.
  EXPECT_FALSE(P({{"missing", {"x"}}}).Matches(ev));
  EXPECT_TRUE(P({{"tags", {"b"}}}).Matches({{"tags", {"a", "b"}}}));
  // Nested fields.
  EXPECT_TRUE(P({{"detail", {{"state", {"ALARM"}}}}}).Matches({{"detail", {{"state", "ALARM"}}}}));
  std::string why;
  EXPECT_FALSE(P({{"size", {{{"numeric", {"<", 10}}}}}}).Matches(ev, &why));
  EXPECT_NE(why.find("size"), std::string::npos) << why;
}

TEST(PatternTest, BadPatternsAreRefused) {
  EXPECT_FALSE(EventPattern::FromJson({{"k", {{{"prefixx", "a"}}}}}).ok());
  EXPECT_FALSE(EventPattern::FromJson({{"k", {{{"numeric", {"~", 1}}}}}}).ok());
  EXPECT_FALSE(EventPattern::FromJson({{"k", {{{"numeric", {"<", 1, ">", 0}}}}}}).ok());
  EXPECT_FALSE(EventPattern::FromJson({{"k", {{{"exists", "yes"}}}}}).ok());
  EXPECT_FALSE(EventPattern::FromJson({{"k", json::array()}}).ok());
  EXPECT_FALSE(EventPattern::FromJson(json::array()).ok());
}

TimePoint At(int64_t epoch_s) { return TimePoint(std::chrono::seconds(epoch_s)); }
constexpr int64_t kDay = 1764979200;  // 2025-12-06T00:00:00Z (a Saturday)

TEST(ScheduleTest, CronEveryQuarterHourFiresAtQuartersOnly) {
  auto s = Schedule::Parse("cron(0/15 * * * ? *)");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  // Walk an injected clock second by second over two hours and record the firings.
  std::vector<int64_t> fired;
  TimePoint next = *s->NextAfter(At(kDay - 1));
  for (int64_t t = kDay; t < kDay + 2 * 3600; ++t) {
    if (At(t) >= next) {
      fired.push_back(t - kDay);
      next = *s->NextAfter(At(t));
    }
  }
  std::vector<int64_t> want;
  for (int m = 0; m < 120; m += 15) want.push_back(m * 60);
  EXPECT_EQ(fired, want);
}

TEST(ScheduleTest, CronFieldsAndRates) {
  auto weekday9 = Schedule::Parse("cron(0 9 ? * MON-FRI *)");
  ASSERT_TRUE(weekday9.ok()) << weekday9.status().ToString();
  // From Saturday 00:00 the next weekday 09:00 is Monday 09:00.
  EXPECT_EQ(*weekday9->NextAfter(At(kDay)), At(kDay + 2 * 86400 + 9 * 3600));
  auto monthly = Schedule::Parse("cron(30 2 1 * ? *)");
  ASSERT_TRUE(monthly.ok());
  EXPECT_EQ(*monthly->NextAfter(At(kDay)), At(1767234600));  // 2026-01-01T02:30:00Z
  auto rate = Schedule::Parse("rate(5 minutes)");
  ASSERT_TRUE(rate.ok());
  EXPECT_EQ(*rate->NextAfter(At(kDay + 1)), At(kDay + 300));
  EXPECT_EQ(*rate->NextAfter(At(kDay + 300)), At(kDay + 600));
  EXPECT_TRUE(Schedule::Parse("rate(1 hour)").ok());
  EXPECT_FALSE(Schedule::Parse("rate(1 hours)").ok());
  EXPECT_FALSE(Schedule::Parse("rate(5 minute)").ok());
  EXPECT_FALSE(Schedule::Parse("rate(0 minutes)").ok());
  EXPECT_FALSE(Schedule::Parse("rate(5 fortnights)").ok());
  EXPECT_FALSE(Schedule::Parse("cron(0/15 * * * *)").ok());       // 5 fields
  EXPECT_FALSE(Schedule::Parse("cron(0 * * * * *)").ok());         // no '?'
  EXPECT_FALSE(Schedule::Parse("cron(0 * ? * ? *)").ok());         // two '?'
  EXPECT_FALSE(Schedule::Parse("cron(61 * * * ? *)").ok());
  EXPECT_FALSE(Schedule::Parse("cron(0 25 * * ? *)").ok());
  EXPECT_FALSE(Schedule::Parse("cron(0 0 L * ? *)").ok());
  EXPECT_FALSE(Schedule::Parse("every 5 minutes").ok());
  auto year = Schedule::Parse("cron(0 0 1 1 ? 2027)");
  ASSERT_TRUE(year.ok());
  EXPECT_EQ(*year->NextAfter(At(kDay)), At(1798761600));  // 2027-01-01T00:00:00Z
  EXPECT_FALSE(year->NextAfter(At(1798761600)).has_value());
}

TEST(ConfigTest, ParsesRulesAndTopics) {
  auto c = ParseEventsConfig("pipeline.yaml", R"(version: 1
rules:
  - name: on-upload
    pattern:
      type: [object.created]
      key: [{prefix: raw_data/}]
    targets:
      - crawler: raw-crawler
      - command: cat
        timeout_s: 5
        input_paths: {k: $.key}
        input_template: 'key=<k>'
  - name: quarter
    schedule: cron(0/15 * * * ? *)
    targets:
      - topic: alerts
topics:
  - name: alerts
    subscriptions:
      - protocol: file
        endpoint: _system/alerts/a.jsonl
        filter_policy: {level: [fail]}
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->rules.size(), 2u);
  EXPECT_EQ(c->rules[0].targets.size(), 2u);
  EXPECT_EQ(c->rules[0].targets[1].timeout_s, 5);
  EXPECT_EQ(TransformInput(c->rules[0].targets[1], {{"key", "raw_data/x.csv"}}), "key=raw_data/x.csv");
  EXPECT_TRUE(c->rules[1].schedule.has_value());
  ASSERT_EQ(c->topics.size(), 1u);
  EXPECT_TRUE(c->topics[0].subscriptions[0].filter_policy.has_value());
}

TEST(ConfigTest, BadInputIsRefusedWithLineAndColumn) {
  struct Case {
    const char* yaml;
    const char* where;
    const char* what;
  } cases[] = {
      {"rules:\n  - name: r\n    schedule: cron(0/15 * * * *)\n    targets: [{job: j}]\n", "pipeline.yaml:3:15:", "6 fields"},
      {"rules:\n  - name: r\n    pattern:\n      key: [{prefixx: a}]\n    targets: [{job: j}]\n", "pipeline.yaml:4:", "unknown operator"},
      {"rules:\n  - name: r\n    pattern: {type: [a]}\n    targets: [{topic: 'bad name!'}]\n", "pipeline.yaml:4:", "topic name"},
      {"rules:\n  - name: r\n    pattern: {type: [a]}\n    targets: [{lambda: f}]\n", "pipeline.yaml:4:", "unknown target key"},
      {"rules:\n  - name: r\n    targets: [{job: j}]\n", "pipeline.yaml:2:5:", "exactly one of pattern"},
      {"topics:\n  - name: t\n    subscriptions:\n      - {protocol: smoke, endpoint: x}\n", "pipeline.yaml:4:", "unknown protocol"},
      {"topics:\n  - name: t\n    subscriptions:\n      - {protocol: file, endpoint: x, filter_policy: {a: [{numeric: [\"!\", 1]}]}}\n",
       "pipeline.yaml:4:", "numeric"},
  };
  for (const auto& c : cases) {
    auto r = ParseEventsConfig("pipeline.yaml", c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_NE(r.status().message().find(c.where), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(c.what), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace saleslake::events

namespace saleslake::events {
namespace {

// M of N with each TreatMissingData mode, on an injected time: `script` is one character per
// 60 s period (X = a breaching datapoint, 0 = a fine one, - = none); returns the state after each.
std::string Simulate(const std::string& treat, const std::string& script, int m = 2, int n = 3) {
  AlarmSpec spec;
  spec.name = "a";
  spec.period_s = 60;
  spec.evaluation_periods = n;
  spec.datapoints_to_alarm = m;
  spec.threshold = 10;
  spec.statistic = "Maximum";
  spec.treat_missing_data = treat;
  Alarm alarm(spec);
  std::string states;
  const int64_t t0 = 1764979200;
  for (size_t i = 0; i < script.size(); ++i) {
    int64_t period_start = t0 + static_cast<int64_t>(i) * 60;
    if (script[i] == 'X') alarm.AddSample(TimePoint(std::chrono::seconds(period_start + 5)), 50);
    if (script[i] == '0') alarm.AddSample(TimePoint(std::chrono::seconds(period_start + 5)), 1);
    alarm.Evaluate(TimePoint(std::chrono::seconds(period_start + 60)));  // the period just closed
    states += alarm.state() == AlarmState::kAlarm ? 'A' : alarm.state() == AlarmState::kOk ? 'o' : '?';
  }
  return states;
}

TEST(AlarmTest, MOfNChangesStateExactlyWhenTheDataSaySo) {
  // The window is the last 3 periods; periods before the first one are missing.
  EXPECT_EQ(Simulate("missing", "0X0XX000"), "oooAAAoo");
  EXPECT_EQ(Simulate("missing", "X-X"), "ooA");   // 2 of the 3 (one missing) breach
  EXPECT_EQ(Simulate("missing", "X----"), "ooo??");
  EXPECT_EQ(Simulate("ignore", "X----"), "oooo" "o");       // nothing to judge: the state stays
  EXPECT_EQ(Simulate("ignore", "XX---"), "oAAoo");  // [X - -] judged by its datapoint; [- - -] keeps
  EXPECT_EQ(Simulate("missing", "XX---"), "oAAo?");
  EXPECT_EQ(Simulate("breaching", "0--"), "AAA");         // missing counts as breaching
  EXPECT_EQ(Simulate("breaching", "0000"), "Aooo");
  EXPECT_EQ(Simulate("notBreaching", "X-X--"), "ooAoo");  // missing counts as fine
  EXPECT_EQ(Simulate("notBreaching", "---"), "ooo");
  EXPECT_EQ(Simulate("missing", "---"), "???");
}

TEST(AlarmTest, TransitionsCarryTheReason) {
  AlarmSpec spec;
  spec.name = "a";
  spec.period_s = 60;
  spec.evaluation_periods = 1;
  spec.threshold = 10;
  Alarm alarm(spec);
  alarm.AddSample(TimePoint(std::chrono::seconds(1764979205)), 50);
  auto tr = alarm.Evaluate(TimePoint(std::chrono::seconds(1764979260)));
  ASSERT_TRUE(tr.has_value());
  EXPECT_EQ(tr->to, AlarmState::kAlarm);
  EXPECT_NE(tr->reason.find("[50]"), std::string::npos) << tr->reason;
  EXPECT_FALSE(alarm.Evaluate(TimePoint(std::chrono::seconds(1764979261))).has_value());  // no change, no transition
}

TEST(AlarmTest, BadAlarmsAreRefusedAtLoad) {
  auto r = ParseEventsConfig("pipeline.yaml", "alarms:\n  - name: a\n    event_type: job.succeeded\n    metric: x\n    treat_missing_data: maybe\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("pipeline.yaml:5:25: treat_missing_data"), std::string::npos) << r.status().message();
  r = ParseEventsConfig("pipeline.yaml", "alarms:\n  - name: a\n    event_type: job.succeeded\n    metric: x\n    evaluation_periods: 2\n    datapoints_to_alarm: 3\n");
  EXPECT_FALSE(r.ok());
  r = ParseEventsConfig("pipeline.yaml", "alarms:\n  - {name: a, event_type: job.succeeded, metric: rows_quarantined, threshold: 5, alarm_actions: [pipeline-alerts]}\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->alarms[0].alarm_actions, std::vector<std::string>{"pipeline-alerts"});
}

}  // namespace
}  // namespace saleslake::events
