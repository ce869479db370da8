// Rules of the event bus (EventBridge's role) and the topics they publish to (SNS's role), as
// declared in the `rules:` and `topics:` sections of <lake>/pipeline.yaml:
//
//   rules:
//     - name: crawl-on-upload
//       pattern:                       # EventBridge event pattern over the event's fields
//         type: [object.created]       #   exact values (a scalar is a one-value list)
//         key: [{prefix: raw_data/}]   #   prefix, suffix, anything-but, numeric, exists,
//                                      #   equals-ignore-case; nested mappings match nested fields
//       targets:
//         - crawler: raw-crawler       # run a crawler (catalog::Crawl)
//     - name: refresh
//       schedule: rate(5 minutes)      # or cron(0/15 * * * ? *): AWS syntax, UTC
//       targets:
//         - job: my-etl-job            # start a job (etl::RunJob)
//         - topic: pipeline-alerts     # publish the event to a topic
//         - materialized_view: daily_revenue   # REFRESH MATERIALIZED VIEW (* = every one)
//         - command: ./notify.sh       # run a command: event JSON on stdin
//           timeout_s: 30              #   killed after this (default 60)
//           memory_mb: 512             #   RLIMIT_AS (default 1024)
//           env: {LEVEL: high}
//           input_paths: {run: $.run_id}      # input transformer (EventBridge's):
//           input_template: '{"run": <run>}'  #   the target gets the template, filled
//
//   topics:
//     - name: pipeline-alerts
//       subscriptions:
//         - protocol: file             # file | http | https | command | email | email-json
//           endpoint: _system/alerts/pipeline-alerts.jsonl   # an address for email
//           raw_message_delivery: false
//           filter_policy: {level: [fail]}   # same operators as patterns
//           filter_policy_scope: MessageAttributes   # or MessageBody
//
//   smtp:                              # where email subscriptions are sent (libcurl)
//     url: smtp://mail.example.com:587 # smtp:// (plain, or STARTTLS below) or smtps:// (TLS)
//     from: saleslake@example.com
//     starttls: required               # off | try | required (smtp:// only)
//     username: alerts                 # AUTH, when the server asks for it
//     password_env: SMTP_PASSWORD      #   the password comes from this environment variable
//     ca_file: /etc/ssl/certs/my-ca.pem  # trust this CA instead of the system's
//     timeout_s: 30
//
// Everything is checked when the file loads: a bad pattern, schedule, name or target is refused
// with "pipeline.yaml:LINE:COL: reason".
// Thread safety: parsed values are immutable; Matches/NextAfter may run on many threads.
#pragma once

#include <bitset>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/status.h"

namespace saleslake::events {

// An EventBridge event pattern (also an SNS filter policy: same operators).
class EventPattern {
 public:
  // Checks the operators; kInvalidArgument names the offending field.
  static Result<EventPattern> FromJson(const nlohmann::json& pattern);
  // Whether `event` matches. When it does not and `why` is given, *why says which field failed.
  bool Matches(const nlohmann::json& event, std::string* why = nullptr) const;
  const nlohmann::json& json() const { return pattern_; }

 private:
  nlohmann::json pattern_;
};

// A schedule expression: rate(N unit) or cron(min hour day-of-month month day-of-week year),
// in AWS syntax, evaluated in UTC. Rates count from the epoch (rate(5 minutes) fires at :00,
// :05, ...), so a restart does not shift them.
class Schedule {
 public:
  static Result<Schedule> Parse(std::string_view expression);
  // The first firing strictly after `t` (nullopt when there is none before year 2200).
  std::optional<TimePoint> NextAfter(TimePoint t) const;
  const std::string& expression() const { return expression_; }

 private:
  std::string expression_;
  std::chrono::seconds rate_{0};  // > 0 for rate()
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<8> weekdays_;  // 1..7, 1 = Sunday (AWS)
  std::bitset<231> years_;   // 1970..2200
  bool any_day_ = false;     // day-of-month is '?' (day-of-week decides)
  bool any_weekday_ = false; // day-of-week is '?'
};

struct Target {
  enum class Kind { kCrawler, kJob, kTopic, kCommand, kMatview };
  Kind kind = Kind::kCommand;
  std::string name;     // crawler, job, topic or view name; the command line for kCommand
  int timeout_s = 60;   // command
  int memory_mb = 1024; // command
  int retries = 2;      // command: attempts after the first, with backoff, then the DLQ
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> input_paths;  // name -> "$.field.sub"
  std::string input_template;                      // "" = the whole event (or the paths' object)
};
std::string_view TargetKindName(Target::Kind kind);

struct Rule {
  std::string name;
  std::optional<EventPattern> pattern;
  std::optional<Schedule> schedule;
  std::vector<Target> targets;
  int line = 0;  // where it was declared
};

struct SubscriptionSpec {
  std::string protocol;  // file | http | https | command | email | email-json
  std::string endpoint;
  bool raw_message_delivery = false;
  std::optional<EventPattern> filter_policy;
  bool filter_on_body = false;  // FilterPolicyScope MessageBody
};

struct TopicSpec {
  std::string name;
  std::vector<SubscriptionSpec> subscriptions;
};

// ---- Alarms (CloudWatch's role) ----
//
//   alarms:
//     - name: quarantine-high
//       event_type: job.succeeded        # the metric is a numeric field of these events
//       metric: rows_quarantined         #   (job.succeeded: duration_s, rows_*, quarantined_pct,
//                                        #   <count>_pct such as missing_amount_pct), or
//                                        #   event_type: server.metrics for the server's figures:
//                                        #   http_5xx, http_requests, request_latency_s,
//                                        #   <api>_latency_s (athena_latency_s, trino_latency_s)
//       statistic: Maximum               # Average | Sum | Minimum | Maximum | SampleCount
//       period_s: 300
//       evaluation_periods: 3            # N
//       datapoints_to_alarm: 2           # M (default N): M breaching of the last N periods
//       threshold: 100
//       comparison: GreaterThanThreshold # ...OrEqualToThreshold, LessThan..., LessThanOrEqual...
//       treat_missing_data: missing      # missing | notBreaching | breaching | ignore
//       alarm_actions: [pipeline-alerts] # topics told of a change to ALARM
//       ok_actions: []                   # ... to OK
//
// Evaluation at time t looks at the N whole periods that end at or before t. Missing datapoints:
// breaching / notBreaching count as such; missing skips them (no datapoint at all ->
// INSUFFICIENT_DATA); ignore skips them and keeps the current state when there is no datapoint.
enum class AlarmState { kInsufficientData, kOk, kAlarm };
std::string_view AlarmStateName(AlarmState s);  // INSUFFICIENT_DATA | OK | ALARM

struct AlarmSpec {
  std::string name;
  std::string event_type;
  std::string metric;
  std::string statistic = "Average";
  int64_t period_s = 300;
  int evaluation_periods = 1;
  int datapoints_to_alarm = 0;  // 0 = evaluation_periods
  double threshold = 0;
  std::string comparison = "GreaterThanThreshold";
  std::string treat_missing_data = "missing";
  std::vector<std::string> alarm_actions, ok_actions;
};

struct AlarmTransition {
  AlarmState from, to;
  std::string reason;  // "2 of the last 3 datapoints [120, 5, 130] were GreaterThanThreshold 100"
};

// One alarm's samples and state. Samples older than the evaluation window are dropped.
class Alarm {
 public:
  explicit Alarm(AlarmSpec spec) : spec_(std::move(spec)) {}
  void AddSample(TimePoint t, double value);
  // Evaluates at `now`; returns the transition when the state changed.
  std::optional<AlarmTransition> Evaluate(TimePoint now);
  AlarmState state() const { return state_; }
  const AlarmSpec& spec() const { return spec_; }

 private:
  AlarmSpec spec_;
  AlarmState state_ = AlarmState::kInsufficientData;
  std::vector<std::pair<int64_t, double>> samples_;  // (epoch ms, value)
};

// The mail server email subscriptions go through (the `smtp:` section).
struct SmtpSettings {
  std::string url;                  // "" = none configured: email deliveries fail (and retry)
  std::string from = "saleslake@localhost";
  std::string starttls = "off";     // off | try | required
  std::string username;
  std::string password;             // read from password_env when the file loads
  std::string ca_file;
  int timeout_s = 30;
  bool operator==(const SmtpSettings&) const = default;
};

struct EventsConfig {
  std::vector<Rule> rules;
  std::vector<TopicSpec> topics;
  std::vector<AlarmSpec> alarms;
  SmtpSettings smtp;
};

// What SNS accepts as an e-mail endpoint: local@domain, printable ASCII, no spaces or brackets.
bool ValidEmailAddress(std::string_view address);

// Parses the `rules:` and `topics:` sections (other sections are ignored). `path` names the file
// in messages.
Result<EventsConfig> ParseEventsConfig(std::string_view path, std::string_view yaml_text);

// SNS topic names: 1-256 of [A-Za-z0-9_-].
bool ValidTopicName(std::string_view name);

// The input a target gets for `event`: the event itself, or what its input transformer makes.
std::string TransformInput(const Target& target, const nlohmann::json& event);

}  // namespace saleslake::events
