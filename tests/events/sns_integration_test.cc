// The events service through a real `saleslake serve`: the SNS API from the AWS CLI v2 (Debian
// awscli) delivering to a webhook written here (with the SubscriptionConfirmation handshake), and
// the default pipeline: `aws s3 cp` of a messy CSV -> crawl -> my-etl-job -> quality violation ->
// an alert at the webhook; then a SIGKILL between the upload's event and the job -> after the
// restart the job runs exactly once.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace saleslake::testing
