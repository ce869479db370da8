// Deliveries that leave the process: e-mail through a real SMTP server (Debian's aiosmtpd), plain
// and with STARTTLS, retried while the server is down and dead-lettered when it never comes; the
// outbox that keeps a queued delivery across a crash; a webhook that is down for 30 s (on the
// injected clock) and then gets the message exactly once.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "common/clock.h"
#include "events/events.h"
#include "events/smtp_server.h"
#include "events/topics.h"
#include "events/lines.h"
#include "support/forwarding_store.h"
#include "events/webhook.h"
#include "io/local_store.h"
#include "support/test_support.h"

namespace saleslake::events {
namespace {

using nlohmann::json;
using testing::TempDir;

using testing::Lines;
class DeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = io::LocalStore::Open(dir_.Join("lake"), true);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    Reopen();
  }
  // A new Topics on the same lake, as a restarted process would open it.
  void Reopen(RetryPolicy retry = {}) {
    topics_.reset();
    TopicsOptions o;
    o.clock = &clock_;
    o.http_timeout_ms = 3000;
    o.retry = retry;
    auto t = Topics::Open(store_.get(), o);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    topics_ = std::move(*t);
  }
  // A topic with one declared (confirmed) subscription.
  std::string Declare(const std::string& topic, const std::string& protocol, const std::string& endpoint) {
    TopicSpec spec;
    spec.name = topic;
    SubscriptionSpec sub;
    sub.protocol = protocol;
    sub.endpoint = endpoint;
    spec.subscriptions.push_back(sub);
    declared_.push_back(spec);
    EXPECT_TRUE(topics_->ApplyDeclared(declared_).ok());
    return topics_->TopicArn(topic);
  }
  SmtpSettings Smtp(const testing::SmtpServer& server) {
    SmtpSettings s;
    s.url = server.url();
    s.from = "alerts@saleslake.test";
    s.timeout_s = 10;
    return s;
  }
  // Runs deliveries, moving the clock a second at a time, for `seconds` of clock time.
  void RunFor(int seconds) {
    for (int i = 0; i < seconds; ++i) {
      while (topics_->DeliverDue() > 0) {
      }
      clock_.Advance(std::chrono::seconds(1));
    }
    while (topics_->DeliverDue() > 0) {
    }
  }

  TempDir dir_;
  ManualClock clock_{FromEpochMs(1764979200000)};
  std::unique_ptr<io::LocalStore> store_;
  std::unique_ptr<Topics> topics_;
  std::vector<TopicSpec> declared_;
};

TEST_F(DeliveryTest, EmailArrivesAtARealSmtpServer) {
  testing::SmtpServer smtp(dir_.Join("mail"));
  ASSERT_TRUE(smtp.Start()) << "aiosmtpd did not start (tools/setup.sh installs python3-aiosmtpd)";
  std::string arn = Declare("alerts", "email", "ops@example.com");
  Declare("alerts-json", "email-json", "robots@example.com");
  topics_->SetMailServer(Smtp(smtp));
  std::string message = R"({"type":"quality.violation","run_id":"r-1","value":0.2})";
  auto r = topics_->Publish(arn, message + "\n.a line that starts with a dot", "Qualité: missing amounts");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->deliveries, 1);
  ASSERT_TRUE(topics_->Publish(topics_->TopicArn("alerts-json"), "as json").ok());
  topics_->DeliverDue();
  ASSERT_TRUE(smtp.WaitFor(2));
  EXPECT_EQ(topics_->stats().delivered, 2u);
  std::string plain, envelope;
  for (const auto& m : smtp.Messages()) (m.find("ops@example.com") != std::string::npos ? plain : envelope) = m;
  EXPECT_NE(plain.find("From: alerts@saleslake.test"), std::string::npos) << plain;
  EXPECT_NE(plain.find("To: ops@example.com"), std::string::npos) << plain;
  // A non-ASCII subject travels RFC 2047-encoded.
  EXPECT_NE(plain.find("Subject: =?UTF-8?B?"), std::string::npos) << plain;
  EXPECT_NE(plain.find(message), std::string::npos) << plain;
  // libcurl dot-stuffs on the wire, the server un-stuffs: the line arrives as written.
  EXPECT_NE(plain.find("\n.a line that starts with a dot"), std::string::npos) << plain;
  EXPECT_NE(plain.find(arn), std::string::npos) << "the footer names the topic";
  EXPECT_NE(envelope.find("Subject: AWS Notification Message"), std::string::npos) << envelope;
  size_t brace = envelope.find("{\"");
  ASSERT_NE(brace, std::string::npos) << envelope;
  json env = json::parse(envelope.substr(brace, envelope.rfind('}') - brace + 1));
  EXPECT_EQ(env["Type"], "Notification");
  EXPECT_EQ(env["Message"], "as json");
  // Delivered mail leaves nothing pending in the outbox: a restart recovers nothing.
  Reopen();
  EXPECT_EQ(topics_->stats().recovered, 0u);
}

TEST_F(DeliveryTest, EmailServerDownIsRetriedAndOneThatNeverComesIsDeadLettered) {
  testing::SmtpServer smtp(dir_.Join("mail"));  // not started yet: connections are refused
  std::string arn = Declare("alerts", "email", "ops@example.com");
  topics_->SetMailServer(Smtp(smtp));
  ASSERT_TRUE(topics_->Publish(arn, "first", "s").ok());
  RunFor(5);
  EXPECT_GE(topics_->stats().failed_attempts, 4u);
  EXPECT_EQ(topics_->stats().pending, 1u);
  ASSERT_TRUE(smtp.Start());
  RunFor(20);
  ASSERT_TRUE(smtp.WaitFor(1));
  EXPECT_EQ(smtp.Messages().size(), 1u);
  EXPECT_EQ(topics_->stats().delivered, 1u);

  smtp.Stop();
  ASSERT_TRUE(topics_->Publish(arn, "doomed", "s").ok());
  RunFor(700);  // past the policy's total time
  auto dlq = Lines(testing::ReadFile(dir_.Join("lake/_system/dlq/sns-alerts.jsonl")));
  ASSERT_EQ(dlq.size(), 1u);
  json d = json::parse(dlq[0]);
  EXPECT_EQ(d["endpoint"], "ops@example.com");
  EXPECT_NE(d["reason"].get<std::string>().find("smtp: "), std::string::npos) << d.dump();
  EXPECT_EQ(topics_->stats().pending, 0u);

  // No server configured at all: the reason says so.
  topics_->SetMailServer(SmtpSettings{});
  ASSERT_TRUE(topics_->Publish(arn, "nowhere", "s").ok());
  RunFor(700);
  dlq = Lines(testing::ReadFile(dir_.Join("lake/_system/dlq/sns-alerts.jsonl")));
  ASSERT_EQ(dlq.size(), 2u);
  EXPECT_NE(json::parse(dlq[1])["reason"].get<std::string>().find("no smtp server configured"), std::string::npos);
}

TEST_F(DeliveryTest, StartTlsWithTheServersCertificate) {
  std::string cert = dir_.Join("cert.pem"), key = dir_.Join("key.pem");
  auto gen = testing::RunProgram({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out",
                                  cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                                  "subjectAltName=IP:127.0.0.1"});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  testing::SmtpServer smtp(dir_.Join("mail"), cert, key);
  ASSERT_TRUE(smtp.Start());
  std::string arn = Declare("alerts", "email", "ops@example.com");
  SmtpSettings s = Smtp(smtp);
  s.starttls = "required";
  s.ca_file = cert;
  topics_->SetMailServer(s);
  ASSERT_TRUE(topics_->Publish(arn, "over tls", "s").ok());
  topics_->DeliverDue();
  ASSERT_TRUE(smtp.WaitFor(1)) << topics_->stats().failed_attempts;
  EXPECT_NE(smtp.Messages()[0].find("over tls"), std::string::npos);

  // A certificate nobody vouches for is refused: the mail is not sent in the clear instead.
  s.ca_file = "";  // the system's CAs
  topics_->SetMailServer(s);
  ASSERT_TRUE(topics_->Publish(arn, "untrusted", "s").ok());
  topics_->DeliverDue();
  EXPECT_EQ(topics_->stats().failed_attempts, 1u);
  EXPECT_EQ(smtp.Messages().size(), 1u);
}

TEST_F(DeliveryTest, AQueuedDeliverySurvivesACrashAndIsDeliveredAfterTheRestart) {
  testing::Webhook hook;
  hook.set_status(0);  // down: the first attempts fail
  std::string arn = Declare("alerts", "http", hook.url());
  auto r = topics_->Publish(arn, "keep me", "s");
  ASSERT_TRUE(r.ok());
  topics_->DeliverDue();
  EXPECT_EQ(topics_->stats().failed_attempts, 1u);
  // The process dies with the delivery queued (no Stop, no further attempt) and starts again.
  Reopen();
  EXPECT_EQ(topics_->stats().recovered, 1u);
  EXPECT_EQ(topics_->stats().pending, 1u);
  hook.set_status(200);
  RunFor(3);
  ASSERT_TRUE(hook.WaitFor(1));  // a "down" hook records nothing: this is the only answered one
  auto reqs = hook.requests();
  ASSERT_EQ(reqs.size(), 1u);
  json env = json::parse(reqs.back().body);
  EXPECT_EQ(env["Message"], "keep me");
  EXPECT_EQ(env["MessageId"], r->message_id);
  EXPECT_EQ(topics_->stats().delivered, 1u);
  // Delivered: a second restart finds nothing to do.
  Reopen();
  EXPECT_EQ(topics_->stats().recovered, 0u);
  RunFor(3);
  EXPECT_EQ(hook.requests().size(), reqs.size());
}

TEST_F(DeliveryTest, WebhookDownForThirtySecondsGetsTheMessageOnceWhenItReturns) {
  testing::Webhook hook;
  hook.set_status(503);
  std::string arn = Declare("alerts", "http", hook.url());
  ASSERT_TRUE(topics_->Publish(arn, "while down", "s").ok());
  RunFor(30);  // SNS's default policy: 3 immediate retries, then backoff from 1 s
  size_t failed = hook.requests().size();
  EXPECT_GE(failed, 7u);
  EXPECT_EQ(topics_->stats().delivered, 0u);
  EXPECT_EQ(topics_->stats().pending, 1u);
  hook.set_status(200);
  RunFor(60);
  auto reqs = hook.requests();
  ASSERT_EQ(reqs.size(), failed + 1) << "delivered exactly once after the endpoint returned";
  EXPECT_EQ(json::parse(reqs.back().body)["Message"], "while down");
  EXPECT_EQ(topics_->stats().delivered, 1u);
  EXPECT_EQ(topics_->stats().pending, 0u);
}

TEST_F(DeliveryTest, PublishingTheSameMessageIdAgainQueuesItOnce) {
  // An engine replaying an event after a crash publishes with the same message id.
  testing::Webhook hook;
  hook.set_status(0);
  std::string arn = Declare("alerts", "http", hook.url());
  ASSERT_TRUE(topics_->Publish(arn, "m", "s", {}, "msg-1").ok());
  ASSERT_TRUE(topics_->Publish(arn, "m", "s", {}, "msg-1").ok());
  EXPECT_EQ(topics_->stats().pending, 1u);
  // One outbox entry: a restart recovers the delivery once.
  Reopen();
  EXPECT_EQ(topics_->stats().recovered, 1u);
  ASSERT_TRUE(topics_->Publish(arn, "m", "s", {}, "msg-1").ok());
  EXPECT_EQ(topics_->stats().pending, 1u);
}

TEST_F(DeliveryTest, AHangingEndpointDoesNotHoldUpTheOthers) {
  // A listening socket that never answers: every attempt to it waits for the timeout (3 s here).
  int hang = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(hang, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(hang, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(getsockname(hang, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ASSERT_EQ(listen(hang, 64), 0);
  testing::Webhook hook;
  std::string slow = Declare("slow", "http", "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/hang");
  std::string fast = Declare("fast", "http", hook.url());
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(topics_->Publish(slow, "stuck " + std::to_string(i), "s").ok());
  ASSERT_TRUE(topics_->Publish(fast, "gets through", "s").ok());
  topics_->Start(20);
  // One after another, the hanging endpoint's 12 messages alone would take 36 s.
  bool arrived = hook.WaitFor(1, 20000);
  topics_->Stop();
  close(hang);
  ASSERT_TRUE(arrived);
  EXPECT_EQ(json::parse(hook.requests()[0].body)["Message"], "gets through");
}

// Idle workers sleep: one of them polls for retries coming due, the others wait to be woken.
// Eight workers on a timer each were ~4% of a busy server's CPU. Deliveries still arrive, with
// every worker needed for a burst.
TEST_F(DeliveryTest, OnlyOneIdleWorkerPollsAndABurstIsStillDelivered) {
  testing::Webhook hook;
  std::string arn = Declare("burst", "http", hook.url());
  const auto start = std::chrono::steady_clock::now();
  topics_->Start(5);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(topics_->Publish(arn, "m" + std::to_string(i), "s").ok());
  bool arrived = hook.WaitFor(20, 20000);
  topics_->Stop();
  const auto elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(arrived);
  // One poller wakes at most once per 5 ms (less when the machine is busy); eight would wake
  // eight times as often.
  const uint64_t polls = topics_->stats().idle_polls;
  EXPECT_GT(polls, 0u);
  EXPECT_LE(polls, static_cast<uint64_t>(elapsed_ms / 5 * 2 + 8)) << elapsed_ms << " ms";
}

TEST_F(DeliveryTest, TheOutboxLogStartsAfreshOnceEverythingWasDelivered) {
  std::string arn = Declare("bulk", "file", "out/bulk.jsonl");
  std::string big(200 * 1024, 'x');
  for (int i = 0; i < 24; ++i) ASSERT_TRUE(topics_->Publish(arn, big + std::to_string(i), "s").ok());
  auto before = store_->Stat("_system/sns/outbox.jsonl");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_GT(before->size, uint64_t{4} << 20);
  RunFor(1);
  EXPECT_EQ(topics_->stats().delivered, 24u);
  EXPECT_EQ(Lines(*store_->Get("out/bulk.jsonl")).size(), 24u);
  // Removed (an unlink: no rewrite that would hold up publishers while the disk syncs).
  EXPECT_EQ(store_->Stat("_system/sns/outbox.jsonl").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(*store_->Exists("_system/sns/outbox.jsonl.old")) << "renamed aside, then removed";
  Reopen();
  EXPECT_EQ(topics_->stats().recovered, 0u);
  // The next message starts a new log, which a restart recovers from.
  ASSERT_TRUE(topics_->Publish(arn, "after the fresh start", "s").ok());
  Reopen();
  EXPECT_EQ(topics_->stats().recovered, 1u);
  RunFor(1);
  auto lines = Lines(*store_->Get("out/bulk.jsonl"));
  ASSERT_EQ(lines.size(), 25u);
  EXPECT_EQ(json::parse(lines.back())["Message"], "after the fresh start");
}

TEST_F(DeliveryTest, ATornOutboxLineIsSkippedAndTheRestRecovered) {
  testing::Webhook hook;
  hook.set_status(0);
  std::string arn = Declare("alerts", "http", hook.url());
  ASSERT_TRUE(topics_->Publish(arn, "before the crash", "s").ok());
  // The crash cut the next outbox line short.
  FILE* f = std::fopen(store_->PathOf("_system/sns/outbox.jsonl").c_str(), "a");
  ASSERT_NE(f, nullptr);
  std::fputs("{\"op\":\"queued\",\"key\":\"torn", f);
  std::fclose(f);
  Reopen();
  EXPECT_EQ(topics_->stats().recovered, 1u);
  ASSERT_TRUE(topics_->Publish(arn, "after the restart", "s").ok());
  Reopen();
  EXPECT_EQ(topics_->stats().recovered, 2u) << "the new line is not glued to the torn one";
  hook.set_status(200);
  RunFor(1);
  EXPECT_EQ(hook.requests().size(), 2u);
}

TEST_F(DeliveryTest, AStoreWithoutAppendsKeepsOneOutboxObjectPerDelivery) {
  testing::NoAppendStore s3like(store_.get());
  testing::Webhook hook;
  hook.set_status(0);
  TopicsOptions o;
  o.clock = &clock_;
  o.http_timeout_ms = 3000;
  auto t = Topics::Open(&s3like, o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  TopicSpec spec;
  spec.name = "alerts";
  SubscriptionSpec sub;
  sub.protocol = "http";
  sub.endpoint = hook.url();
  spec.subscriptions.push_back(sub);
  ASSERT_TRUE((*t)->ApplyDeclared({spec}).ok());
  ASSERT_TRUE((*t)->Publish((*t)->TopicArn("alerts"), "kept", "s").ok());
  (*t)->DeliverDue();  // fails: the hook is down
  auto listed = store_->List("_system/sns/outbox/");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_NE(store_->Get((*listed)[0].key)->find("\"attempts\":1"), std::string::npos) << "the attempt is recorded";
  t->reset();
  auto again = Topics::Open(&s3like, o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->stats().recovered, 1u);
  hook.set_status(200);
  (*again)->DeliverDue();
  EXPECT_EQ((*again)->stats().delivered, 1u);
  EXPECT_TRUE(store_->List("_system/sns/outbox/")->empty()) << "the delivered one is removed";
}

TEST(EmailConfigTest, SmtpSectionAndEmailSubscriptionsAreChecked) {
  auto ok = ParseEventsConfig("pipeline.yaml", R"(smtp:
  url: smtp://127.0.0.1:2525
  from: a@b.c
  starttls: try
topics:
  - name: t
    subscriptions:
      - {protocol: email, endpoint: ops@example.com}
)");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->smtp.url, "smtp://127.0.0.1:2525");
  EXPECT_EQ(ok->smtp.starttls, "try");
  EXPECT_EQ(ok->topics[0].subscriptions[0].protocol, "email");
  auto err = [](const std::string& yaml) {
    auto r = ParseEventsConfig("pipeline.yaml", yaml);
    return r.ok() ? std::string("accepted") : r.status().message();
  };
  EXPECT_EQ(err("smtp:\n  url: http://x\n"), "pipeline.yaml:2:8: the smtp url starts with smtp:// or smtps://");
  EXPECT_EQ(err("smtp:\n  url: smtp://x\n  starttls: maybe\n"), "pipeline.yaml:3:13: starttls is off, try or required");
  EXPECT_EQ(err("smtp:\n  url: smtps://x\n  starttls: required\n"),
            "pipeline.yaml:2:3: starttls is for smtp:// (smtps:// is TLS from the start)");
  EXPECT_EQ(err("smtp:\n  url: smtp://x\n  password_env: SALESLAKE_NO_SUCH_VARIABLE\n"),
            "pipeline.yaml:3:17: environment variable 'SALESLAKE_NO_SUCH_VARIABLE' is not set");
  EXPECT_EQ(err("smtp:\n  url: smtp://x\n  colour: red\n"),
            "pipeline.yaml:3:3: unknown smtp key 'colour' (url, from, starttls, username, password_env, ca_file, "
            "timeout_s)");
  EXPECT_EQ(err("topics:\n  - name: t\n    subscriptions:\n      - {protocol: email, endpoint: not-an-address}\n"),
            "pipeline.yaml:4:9: 'not-an-address' is not an e-mail address");
}

}  // namespace
}  // namespace saleslake::events
