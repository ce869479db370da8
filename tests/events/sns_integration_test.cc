// The events service through a real `saleslake serve`: the SNS API from the AWS CLI v2 (Debian
// awscli) delivering to a webhook written here (with the SubscriptionConfirmation handshake), and
// the default pipeline: `/usr/bin/aws s3 cp` of a messy CSV -> crawl -> my-etl-job -> quality violation ->
// an alert at the webhook; then a SIGKILL between the upload's event and the job -> after the
// restart the job runs exactly once. E-mail alerts reach a real SMTP server (Debian's aiosmtpd);
// a failed job alerts too; a queued alert survives a SIGKILL; SIGHUP reloads pipeline.yaml and a
// bad one is refused with file:line:col while the old rules keep running.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "events/smtp_server.h"
#include "events/lines.h"
#include "events/webhook.h"
#include "server/server_test_util.h"

namespace saleslake::testing {
namespace {

using nlohmann::json;

constexpr const char* kAdminPolicy =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})";

std::string MessyCsv() {
  std::string s = "purchase_date,customer_id,product_id,amount,region,status\n";
  for (int i = 0; i < 20; ++i)
    s += "2025-08-" + std::string(i < 9 ? "0" : "") + std::to_string(i + 1) + ",C" + std::to_string(i) + ",SKU-" +
         std::to_string(i) + "," + (i % 5 == 0 ? "" : std::to_string(10 + i) + ".50") + ",EU,completed\n";
  return s;
}

// Polls `f` every 20 ms for at most timeout_ms.
bool Eventually(const std::function<bool()>& f, int timeout_ms = 15000) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return f();
}

class SnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_.Join("lake");
    ASSERT_EQ(RunSaleslakeIn(lake_, {"init"}).exit_code, 0);
    Key admin = CreateUserWithKey(lake_, "alice", kAdminPolicy);
    WriteFile(dir_.Join("aws-config"), "[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n");
    env_ = {"AWS_ACCESS_KEY_ID=" + admin.id, "AWS_SECRET_ACCESS_KEY=" + admin.secret,
            "AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=" + dir_.Join("aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
            "AWS_PAGER=", "HOME=" + dir_.path()};
    // The receiver confirms subscriptions as an SNS endpoint does: a GET of SubscribeURL.
    hook_.set_on_request([this](const WebhookRequest& r) {
      auto j = json::parse(r.body, nullptr, false);
      if (!j.is_object() || j.value("Type", "") != "SubscriptionConfirmation") return;
      std::string url = j.value("SubscribeURL", "");
      size_t path = url.find('/', url.find("//") + 2);
      HttpReply reply = RawExchange(server_.port(), "GET " + url.substr(path) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      confirmed_status_ = reply.status;
    });
  }
  void Start() {
    std::string err;
    ASSERT_TRUE(server_.Start(lake_, {"--access-log", dir_.Join("access.jsonl")}, &err)) << err;
  }
  CommandResult Aws(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/aws", "--endpoint-url", server_.url(), "--output", "json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv, "", env_);
  }
  // Subscribes the webhook to `topic_arn` and waits for the handshake to finish.
  void SubscribeHook(const std::string& topic_arn) {
    auto sub = Aws({"sns", "subscribe", "--topic-arn", topic_arn, "--protocol", "http", "--notification-endpoint", hook_.url()});
    ASSERT_EQ(sub.exit_code, 0) << sub.err;
    EXPECT_EQ(json::parse(sub.out)["SubscriptionArn"], "pending confirmation");
    ASSERT_TRUE(Eventually([&] { return confirmed_status_.load() != 0; })) << "no confirmation request";
    ASSERT_EQ(confirmed_status_.load(), 200);
    auto list = Aws({"sns", "list-subscriptions-by-topic", "--topic-arn", topic_arn});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    json subs = json::array();
    json all = json::parse(list.out);
    for (const auto& s : all["Subscriptions"])
      if (s["Protocol"] == "http") subs.push_back(s);
    ASSERT_EQ(subs.size(), 1u) << list.out;
    EXPECT_NE(subs[0]["SubscriptionArn"], "PendingConfirmation");
    EXPECT_EQ(subs[0]["Endpoint"], hook_.url());
  }
  std::vector<json> Notifications() {
    std::vector<json> out;
    for (const auto& r : hook_.requests()) {
      auto j = json::parse(r.body, nullptr, false);
      if (j.is_object() && j.value("Type", "") == "Notification") out.push_back(j);
    }
    return out;
  }
  // Adds an e-mail subscription to pipeline-alerts and the smtp: section (before Start).
  void AddEmailAlerts(const testing::SmtpServer& smtp) {
    std::string text = ReadFile(lake_ + "/pipeline.yaml");
    std::string file_sub = "        endpoint: _system/alerts/pipeline-alerts.jsonl\n";
    size_t at = text.find(file_sub);
    ASSERT_NE(at, std::string::npos);
    text.insert(at + file_sub.size(), "      - protocol: email\n        endpoint: ops@example.com\n");
    text += "\nsmtp:\n  url: " + smtp.url() + "\n  from: saleslake@example.com\n  timeout_s: 10\n";
    WriteFile(lake_ + "/pipeline.yaml", text);
  }
  std::string Metrics() {
    return RawExchange(server_.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").body;
  }
  size_t Runs() {
    auto r = RunProgram({"sh", "-c", "ls " + lake_ + "/_system/runs/my-etl-job/ 2>/dev/null | wc -l"});
    return std::stoul(r.out);
  }

  TempDir dir_;
  std::string lake_;
  std::vector<std::string> env_;
  ServerProcess server_;
  Webhook hook_;
  std::atomic<int> confirmed_status_{0};
};

TEST_F(SnsTest, AwsCliCreateSubscribePublishDeliversToTheWebhook) {
  Start();
  auto created = Aws({"sns", "create-topic", "--name", "orders"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::string arn = json::parse(created.out)["TopicArn"];
  EXPECT_EQ(arn.rfind("arn:aws:sns:us-east-1:", 0), 0u) << arn;
  SubscribeHook(arn);
  auto topics = Aws({"sns", "list-topics"});
  ASSERT_EQ(topics.exit_code, 0) << topics.err;
  EXPECT_NE(topics.out.find(arn), std::string::npos);
  EXPECT_NE(topics.out.find("pipeline-alerts"), std::string::npos);  // declared in pipeline.yaml

  auto pub = Aws({"sns", "publish", "--topic-arn", arn, "--message", "hello lake", "--subject", "greeting",
                  "--message-attributes", R"({"level":{"DataType":"String","StringValue":"fail"}})"});
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  std::string id = json::parse(pub.out)["MessageId"];
  ASSERT_TRUE(Eventually([&] { return Notifications().size() == 1; }));
  json n = Notifications()[0];
  EXPECT_EQ(n["MessageId"], id);
  EXPECT_EQ(n["TopicArn"], arn);
  EXPECT_EQ(n["Subject"], "greeting");
  EXPECT_EQ(n["Message"], "hello lake");
  EXPECT_EQ(n["MessageAttributes"]["level"]["Value"], "fail");
  EXPECT_TRUE(n.contains("Timestamp"));

  auto bad = Aws({"sns", "create-topic", "--name", "no spaces"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("InvalidParameter"), std::string::npos) << bad.err;
  // Unsubscribed: nothing more arrives; the topic goes.
  std::string sub_arn;
  for (const auto& r : hook_.requests())
    if (r.headers.count("x-amz-sns-subscription-arn")) sub_arn = r.headers.at("x-amz-sns-subscription-arn");
  ASSERT_FALSE(sub_arn.empty());
  ASSERT_EQ(Aws({"sns", "unsubscribe", "--subscription-arn", sub_arn}).exit_code, 0);
  ASSERT_EQ(Aws({"sns", "publish", "--topic-arn", arn, "--message", "after"}).exit_code, 0);
  ASSERT_EQ(Aws({"sns", "delete-topic", "--topic-arn", arn}).exit_code, 0);
  EXPECT_EQ(Notifications().size(), 1u);
}

TEST_F(SnsTest, MessyUploadAlertsAtTheWebhookAndAKillNeverRunsTheJobTwice) {
  Start();
  auto topics = Aws({"sns", "list-topics"});
  ASSERT_EQ(topics.exit_code, 0) << topics.err;
  std::string alerts_arn;
  json listed = json::parse(topics.out);
  for (const auto& t : listed["Topics"])
    if (t["TopicArn"].get<std::string>().ends_with(":pipeline-alerts")) alerts_arn = t["TopicArn"];
  ASSERT_FALSE(alerts_arn.empty()) << topics.out;
  SubscribeHook(alerts_arn);
  WriteFile(dir_.Join("messy.csv"), MessyCsv());
  auto t0 = std::chrono::steady_clock::now();
  auto cp = Aws({"s3", "cp", "--no-progress", dir_.Join("messy.csv"), "s3://my-analytics-bucket/raw_data/messy.csv"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  ASSERT_TRUE(Eventually([&] { return !Notifications().empty(); }, 10000)) << "no alert within 10 s";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  json alert = json::parse(Notifications()[0]["Message"].get<std::string>());
  EXPECT_EQ(alert["type"], "quality.violation");
  EXPECT_EQ(alert["metric"], "missing_amount_share");
  EXPECT_EQ(alert["rule"], "etl-after-crawl");
  EXPECT_GT(alert["value"].get<double>(), alert["threshold"].get<double>());
  EXPECT_TRUE(alert["run_id"].is_string());
  EXPECT_EQ(Runs(), 1u);

  // A SIGKILL after the next upload's event is journaled and before the job: stop the engine
  // from seeing it by killing the server at once, then restart.
  server_.Kill();
  std::string second = MessyCsv() + "2025-08-30,C99,SKU-99,,EU,completed\n";
  WriteFile(dir_.Join("second.csv"), second);
  ASSERT_EQ(RunSaleslakeIn(lake_, {"upload", dir_.Join("second.csv")}).exit_code, 0);  // journaled, no server
  Start();
  ASSERT_TRUE(Eventually([&] { return Runs() == 2 && Notifications().size() >= 2; }, 15000))
      << "runs " << Runs() << ", alerts " << Notifications().size();
  // A second restart replays nothing.
  ASSERT_EQ(server_.Stop(), 0);
  Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // give a wrong replay a chance to show
  EXPECT_EQ(Runs(), 2u);
  EXPECT_EQ(Notifications().size(), 2u);
}

TEST_F(SnsTest, QualityViolationAndFailedJobAlertByWebhookAndEmail) {
  SmtpServer smtp(dir_.Join("mail"));
  ASSERT_TRUE(smtp.Start()) << "aiosmtpd did not start (tools/setup.sh installs python3-aiosmtpd)";
  AddEmailAlerts(smtp);
  Start();
  // The declared topics exist once the event loop has read pipeline.yaml (just after the start).
  std::string alerts_arn;
  std::string listed;
  ASSERT_TRUE(Eventually([&] {
    auto topics = Aws({"sns", "list-topics"});
    listed = topics.out + topics.err;
    if (topics.exit_code != 0) return false;
    json all = json::parse(topics.out);  // kept: a loop over a temporary's member dangles
    for (const auto& t : all["Topics"])
      if (t["TopicArn"].get<std::string>().ends_with(":pipeline-alerts")) alerts_arn = t["TopicArn"];
    return !alerts_arn.empty();
  })) << listed;
  SubscribeHook(alerts_arn);

  WriteFile(dir_.Join("messy.csv"), MessyCsv());
  auto t0 = std::chrono::steady_clock::now();
  auto cp = Aws({"s3", "cp", "--no-progress", dir_.Join("messy.csv"), "s3://my-analytics-bucket/raw_data/messy.csv"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  ASSERT_TRUE(Eventually([&] { return !Notifications().empty() && !smtp.Messages().empty(); }, 10000))
      << "webhook " << Notifications().size() << ", mail " << smtp.Messages().size() << " within 10 s";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  json alert = json::parse(Notifications()[0]["Message"].get<std::string>());
  ASSERT_EQ(alert["type"], "quality.violation");
  std::string run_id = alert["run_id"];
  std::string mail = smtp.Messages()[0];
  EXPECT_NE(mail.find("To: ops@example.com"), std::string::npos) << mail;
  EXPECT_NE(mail.find("Subject: saleslake quality.violation"), std::string::npos) << mail;
  EXPECT_NE(mail.find("\"run_id\": \"" + run_id + "\""), std::string::npos) << mail;
  EXPECT_NE(mail.find("\"rule\": \"etl-after-crawl\""), std::string::npos) << mail;
  EXPECT_NE(mail.find("\"metric\": \"missing_amount_share\""), std::string::npos) << mail;
  EXPECT_NE(mail.find("\"value\": "), std::string::npos) << mail;
  EXPECT_NE(mail.find("\"threshold\": "), std::string::npos) << mail;

  // A bad mapping (a column the source does not have) fails the next run: a failure alert.
  std::string text = ReadFile(lake_ + "/pipeline.yaml");
  size_t at = text.find("      amount: amount\n");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, std::string("      amount: amount\n").size(), "      amount: no_such_column * 2\n");
  WriteFile(lake_ + "/pipeline.yaml", text);
  WriteFile(dir_.Join("more.csv"), "purchase_date,customer_id,product_id,amount,region,status\n"
                                   "2025-09-01,C1,SKU-1,5.00,EU,completed\n");
  cp = Aws({"s3", "cp", "--no-progress", dir_.Join("more.csv"), "s3://my-analytics-bucket/raw_data/more.csv"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  auto failure = [&]() -> json {
    for (const auto& n : Notifications()) {
      json m = json::parse(n["Message"].get<std::string>());
      if (m["type"] == "job.failed") return m;
    }
    return nullptr;
  };
  ASSERT_TRUE(Eventually([&] { return !failure().is_null() && smtp.Messages().size() >= 2; }, 15000))
      << "no failure alert; webhook " << Notifications().size() << ", mail " << smtp.Messages().size();
  json f = failure();
  EXPECT_EQ(f["job"], "my-etl-job") << f.dump();
  EXPECT_NE(f.dump().find("no_such_column"), std::string::npos) << f.dump();
  bool mailed = false;
  for (const auto& m : smtp.Messages()) mailed |= m.find("job.failed") != std::string::npos;
  EXPECT_TRUE(mailed);
}

TEST_F(SnsTest, AQueuedAlertSurvivesASigkillBetweenPublishAndDelivery) {
  Start();
  auto created = Aws({"sns", "create-topic", "--name", "orders"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::string arn = json::parse(created.out)["TopicArn"];
  SubscribeHook(arn);
  hook_.set_status(0);  // the endpoint goes down: the delivery stays queued
  auto pub = Aws({"sns", "publish", "--topic-arn", arn, "--message", "do not lose me"});
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  std::string id = json::parse(pub.out)["MessageId"];
  server_.Kill();
  EXPECT_TRUE(Notifications().empty());
  hook_.set_status(200);
  Start();
  ASSERT_TRUE(Eventually([&] { return !Notifications().empty(); }, 15000)) << "the alert was lost";
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // give a duplicate a chance to show
  auto n = Notifications();
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0]["MessageId"], id);
  EXPECT_EQ(n[0]["Message"], "do not lose me");

  // A filter policy that excludes a message: not delivered, counted in /metrics.
  Webhook filtered_hook;
  auto sub = Aws({"sns", "subscribe", "--topic-arn", arn, "--protocol", "http", "--notification-endpoint",
                  filtered_hook.url(), "--attributes", R"({"FilterPolicy":"{\"level\":[\"fail\"]}"})"});
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  ASSERT_TRUE(filtered_hook.WaitFor(1));
  std::string url = json::parse(filtered_hook.requests()[0].body)["SubscribeURL"];
  ASSERT_EQ(RawExchange(server_.port(), "GET " + url.substr(url.find("/_sns/")) +
                                            " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status, 200);
  auto warn = Aws({"sns", "publish", "--topic-arn", arn, "--message", "just a warning", "--message-attributes",
                   R"({"level":{"DataType":"String","StringValue":"warn"}})"});
  ASSERT_EQ(warn.exit_code, 0) << warn.err;
  ASSERT_TRUE(Eventually([&] { return Notifications().size() == 2; }));  // the unfiltered hook has it
  ASSERT_TRUE(Eventually([&] { return Metrics().find("saleslake_sns_filtered_total 1\n") != std::string::npos; }))
      << Metrics();
  EXPECT_EQ(filtered_hook.requests().size(), 1u) << "only the confirmation";
}

TEST_F(SnsTest, SighupReloadsAndABadFileKeepsTheOldRules) {
  Start();
  std::string good = ReadFile(lake_ + "/pipeline.yaml");
  // A rule that publishes every upload to a topic of its own, added by SIGHUP.
  std::string with_rule = good;
  size_t at = with_rule.find("\nrules:\n");
  ASSERT_NE(at, std::string::npos);
  with_rule.insert(at + 8, "  - name: audit-uploads\n    pattern:\n      type: [object.created]\n"
                           "    targets:\n      - topic: audit\n");
  at = with_rule.find("\ntopics:\n");
  ASSERT_NE(at, std::string::npos);
  with_rule.insert(at + 9, "  - name: audit\n    subscriptions:\n      - protocol: file\n"
                           "        endpoint: _system/alerts/audit.jsonl\n");
  WriteFile(lake_ + "/pipeline.yaml", with_rule);
  ASSERT_EQ(kill(server_.pid(), SIGHUP), 0);
  std::string err;
  ASSERT_TRUE(Eventually([&] { err += server_.ReadStderr(); return err.find("rules reloaded") != std::string::npos; }))
      << err;
  auto upload = [&](const std::string& name) {
    WriteFile(dir_.Join(name), "x\n");
    auto cp = Aws({"s3", "cp", "--no-progress", dir_.Join(name), "s3://my-analytics-bucket/raw_data/" + name});
    ASSERT_EQ(cp.exit_code, 0) << cp.err;
  };
  auto alerts = [&] {
    return Lines(ReadFile(lake_ + "/_system/alerts/audit.jsonl"));
  };
  upload("one.txt");
  ASSERT_TRUE(Eventually([&] { return alerts().size() == 1; })) << alerts().size();

  // A bad cron expression: refused with file:line:col, the previous rules keep working.
  std::string bad = with_rule;
  at = bad.find("\nrules:\n");
  bad.insert(at + 8, "  - name: broken\n    schedule: cron(0/15 * * * *)\n    targets:\n      - topic: audit\n");
  WriteFile(lake_ + "/pipeline.yaml", bad);
  ASSERT_EQ(kill(server_.pid(), SIGHUP), 0);
  int line = 0;
  for (size_t p = 0, n = 0; p < bad.size(); ++p) {
    if (bad[p] == '\n') ++n;
    if (bad.compare(p, 15, "    schedule: c") == 0) { line = static_cast<int>(n) + 1; break; }
  }
  std::string where = "pipeline.yaml:" + std::to_string(line) + ":15: ";
  ASSERT_TRUE(Eventually([&] { err += server_.ReadStderr(); return err.find(where) != std::string::npos; }))
      << "expected " << where << " in\n" << err;
  EXPECT_NE(err.find("the previous rules stay"), std::string::npos) << err;
  upload("two.txt");
  ASSERT_TRUE(Eventually([&] { return alerts().size() == 2; })) << "the old rules stopped: " << alerts().size();
}

}  // namespace
}  // namespace saleslake::testing
