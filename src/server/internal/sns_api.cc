// The events service: the SNS query API (topics, subscriptions, Publish) over events::Topics,
// the confirmation route for http(s) subscriptions (/_sns/confirm, authenticated by its token as
// SNS's SubscribeURL is), and the event loop that runs the lake's rules (events::Engine):
// schedules on the service clock, the journal past the checkpoint, pipeline.yaml reloaded when it
// changes or on SIGHUP (a bad file is logged with file:line:col and the old rules stay). Delivery
// figures (delivered, failed attempts, dead-lettered, filtered out) go to /metrics.
#include "server/internal/sns_api.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "catalog/catalog.h"
#include "common/logging.h"
#include "events/events.h"
#include "events/topics.h"
#include "server/internal/metrics.h"
#include "server/internal/util.h"

namespace saleslake::server::internal {

namespace {

constexpr const char* kXmlns = "http://sns.amazonaws.com/doc/2010-03-31/";

HttpResponse Xml(const std::string& action, const std::string& result_body, const HttpRequest& request) {
  HttpResponse r;
  r.Set("Content-Type", "text/xml");
  r.body = "<" + action + "Response xmlns=\"" + kXmlns + "\">";
  if (!result_body.empty() || action != "DeleteTopic")
    r.body += "<" + action + "Result>" + result_body + "</" + action + "Result>";
  r.body += "<ResponseMetadata><RequestId>" + request.request_id + "</RequestId></ResponseMetadata></" + action +
            "Response>";
  return r;
}

ApiError FromStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound: return MakeError(404, "NotFound", s.message());
    case StatusCode::kInvalidArgument: return MakeError(400, "InvalidParameter", s.message());
    default: return MakeError(500, "InternalError", s.message());
  }
}

std::string Param(const std::map<std::string, std::string>& p, const std::string& k) {
  auto it = p.find(k);
  return it == p.end() ? "" : it->second;
}

// "Attributes.entry.N.key/value" (Subscribe) -> map.
std::map<std::string, std::string> Entries(const std::map<std::string, std::string>& p, const std::string& prefix) {
  std::map<std::string, std::string> out;
  for (int i = 1; i <= 100; ++i) {
    std::string base = prefix + ".entry." + std::to_string(i) + ".";
    auto k = p.find(base + "key");
    if (k == p.end()) break;
    out[k->second] = Param(p, base + "value");
  }
  return out;
}

// "<prefix>.entry.N.Name / .Value.DataType / .Value.StringValue" -> attributes.
std::map<std::string, events::MessageAttribute> MessageAttributes(const std::map<std::string, std::string>& p,
                                                                  const std::string& prefix) {
  std::map<std::string, events::MessageAttribute> out;
  for (int i = 1; i <= 10; ++i) {
    std::string base = prefix + ".entry." + std::to_string(i) + ".";
    auto n = p.find(base + "Name");
    if (n == p.end()) break;
    events::MessageAttribute a;
    a.type = Param(p, base + "Value.DataType");
    a.value = p.count(base + "Value.StringValue") ? Param(p, base + "Value.StringValue")
                                                  : Param(p, base + "Value.BinaryValue");
    out[n->second] = a;
  }
  return out;
}

std::string SubscriptionXml(const events::Subscription& s, const std::string& account) {
  return "<member><TopicArn>" + XmlEscape(s.topic_arn) + "</TopicArn><Protocol>" + XmlEscape(s.protocol) +
         "</Protocol><SubscriptionArn>" + XmlEscape(s.confirmed ? s.arn : "PendingConfirmation") +
         "</SubscriptionArn><Owner>" + account + "</Owner><Endpoint>" + XmlEscape(s.endpoint) + "</Endpoint></member>";
}

// The lake's account id (for topic ARNs), from the newest IAM state document.
std::string LakeAccountId(const io::ObjectStore& lake) {
  auto listed = lake.List("_system/iam/state-");
  if (listed.ok() && !listed->empty()) {
    auto text = lake.Get(listed->back().key);
    if (text.ok()) {
      auto j = nlohmann::json::parse(*text, nullptr, false);
      if (j.is_object() && j.contains("account_id") && j["account_id"].is_string()) return j["account_id"];
    }
  }
  return "000000000000";
}

class EventsService final : public Service {
 public:
  explicit EventsService(const ServiceContext& context) : ctx_(context) {}
  ~EventsService() override { Stop(); }

  std::string name() const override { return "events"; }

  Status Register(Dispatcher& d) override {
    account_ = LakeAccountId(*ctx_.lake);
    events::TopicsOptions to;
    to.clock = ctx_.clock;
    to.account_id = account_;
    SL_ASSIGN_OR_RETURN(topics_, events::Topics::Open(ctx_.lake, to));
    auto arn_of = [this](const std::map<std::string, std::string>& p) {
      std::string arn = Param(p, "TopicArn");
      if (arn.empty()) arn = Param(p, "TargetArn");
      if (arn.empty() && !Param(p, "Name").empty()) arn = topics_->TopicArn(Param(p, "Name"));
      if (arn.empty() && !Param(p, "SubscriptionArn").empty()) {
        arn = Param(p, "SubscriptionArn");
        arn = arn.substr(0, arn.rfind(':'));
      }
      return arn.empty() ? "arn:aws:sns:us-east-1:" + account_ + ":*" : arn;
    };
    auto add = [&](const std::string& action, auto handler) {
      QueryOperation op;
      op.iam_action = "sns:" + action;
      op.resource = arn_of;
      op.handler = [handler](const std::map<std::string, std::string>& p, const Principal&, const HttpRequest& r) -> Outcome {
        return handler(p, r);
      };
      d.AddQueryOperation("sns", action, std::move(op));
    };
    using P = const std::map<std::string, std::string>&;
    add("CreateTopic", [this](P p, const HttpRequest& r) -> Outcome {
      auto arn = topics_->CreateTopic(Param(p, "Name"));
      if (!arn.ok()) return FromStatus(arn.status());
      return Xml("CreateTopic", "<TopicArn>" + XmlEscape(*arn) + "</TopicArn>", r);
    });
    add("DeleteTopic", [this](P p, const HttpRequest& r) -> Outcome {
      Status s = topics_->DeleteTopic(Param(p, "TopicArn"));
      if (!s.ok()) return FromStatus(s);
      return Xml("DeleteTopic", "", r);
    });
    add("ListTopics", [this](P, const HttpRequest& r) -> Outcome {
      std::string body = "<Topics>";
      for (const auto& arn : topics_->ListTopics()) body += "<member><TopicArn>" + XmlEscape(arn) + "</TopicArn></member>";
      return Xml("ListTopics", body + "</Topics>", r);
    });
    add("GetTopicAttributes", [this](P p, const HttpRequest& r) -> Outcome {
      std::string arn = Param(p, "TopicArn");
      auto topics = topics_->ListTopics();
      if (std::find(topics.begin(), topics.end(), arn) == topics.end())
        return MakeError(404, "NotFound", "Topic does not exist");
      size_t confirmed = 0, pending = 0;
      for (const auto& s : topics_->ListSubscriptions(arn)) (s.confirmed ? confirmed : pending)++;
      auto entry = [](const std::string& k, const std::string& v) {
        return "<entry><key>" + k + "</key><value>" + XmlEscape(v) + "</value></entry>";
      };
      return Xml("GetTopicAttributes",
                 "<Attributes>" + entry("TopicArn", arn) + entry("Owner", account_) +
                     entry("SubscriptionsConfirmed", std::to_string(confirmed)) +
                     entry("SubscriptionsPending", std::to_string(pending)) + "</Attributes>",
                 r);
    });
    add("Subscribe", [this](P p, const HttpRequest& r) -> Outcome {
      std::string host = r.HeaderOr("host", "127.0.0.1");
      std::string base = std::string(r.secure ? "https" : "http") + "://" + host + "/_sns/confirm";
      auto sub = topics_->Subscribe(Param(p, "TopicArn"), Param(p, "Protocol"), Param(p, "Endpoint"),
                                    Entries(p, "Attributes"), base);
      if (!sub.ok()) return FromStatus(sub.status());
      bool show = sub->confirmed || Param(p, "ReturnSubscriptionArn") == "true";
      return Xml("Subscribe", "<SubscriptionArn>" + XmlEscape(show ? sub->arn : "pending confirmation") +
                                  "</SubscriptionArn>", r);
    });
    add("ConfirmSubscription", [this](P p, const HttpRequest& r) -> Outcome {
      auto arn = topics_->ConfirmSubscription(Param(p, "TopicArn"), Param(p, "Token"));
      if (!arn.ok()) return FromStatus(arn.status());
      return Xml("ConfirmSubscription", "<SubscriptionArn>" + XmlEscape(*arn) + "</SubscriptionArn>", r);
    });
    add("Unsubscribe", [this](P p, const HttpRequest& r) -> Outcome {
      Status s = topics_->Unsubscribe(Param(p, "SubscriptionArn"));
      if (!s.ok()) return FromStatus(s);
      return Xml("Unsubscribe", "", r);
    });
    auto list = [this](const std::string& action, bool by_topic) {
      return [this, action, by_topic](P p, const HttpRequest& r) -> Outcome {
        std::string body = "<Subscriptions>";
        for (const auto& s : topics_->ListSubscriptions(by_topic ? Param(p, "TopicArn") : ""))
          body += SubscriptionXml(s, account_);
        return Xml(action, body + "</Subscriptions>", r);
      };
    };
    add("ListSubscriptions", list("ListSubscriptions", false));
    add("ListSubscriptionsByTopic", list("ListSubscriptionsByTopic", true));
    add("Publish", [this](P p, const HttpRequest& r) -> Outcome {
      std::string arn = Param(p, "TopicArn").empty() ? Param(p, "TargetArn") : Param(p, "TopicArn");
      auto res = topics_->Publish(arn, Param(p, "Message"), Param(p, "Subject"), MessageAttributes(p, "MessageAttributes"));
      if (!res.ok()) return FromStatus(res.status());
      return Xml("Publish", "<MessageId>" + res->message_id + "</MessageId>", r);
    });
    add("PublishBatch", [this](P p, const HttpRequest& r) -> Outcome {
      std::string ok, failed;
      for (int i = 1; i <= 10; ++i) {
        std::string base = "PublishBatchRequestEntries.member." + std::to_string(i) + ".";
        if (!p.count(base + "Id")) break;
        std::string id = Param(p, base + "Id");
        auto res = topics_->Publish(Param(p, "TopicArn"), Param(p, base + "Message"), Param(p, base + "Subject"),
                                    MessageAttributes(p, base + "MessageAttributes"));
        if (res.ok()) {
          ok += "<member><Id>" + XmlEscape(id) + "</Id><MessageId>" + res->message_id + "</MessageId></member>";
        } else {
          ApiError e = FromStatus(res.status());
          failed += "<member><Id>" + XmlEscape(id) + "</Id><Code>" + e.code + "</Code><Message>" +
                    XmlEscape(e.message) + "</Message><SenderFault>true</SenderFault></member>";
        }
      }
      return Xml("PublishBatch", "<Successful>" + ok + "</Successful><Failed>" + failed + "</Failed>", r);
    });
    // SNS's SubscribeURL: the token is the credential (the endpoint got it from us).
    HttpRoute confirm;
    confirm.api = "sns";
    confirm.handler = [this](HttpRequest& request, RequestNote* note) {
      note->operation = "ConfirmSubscription";
      std::map<std::string, std::string> p;
      if (auto q = ParseQuery(request.raw_query, true)) p.insert(q->begin(), q->end());
      auto arn = topics_->ConfirmSubscription(Param(p, "TopicArn"), Param(p, "Token"));
      if (!arn.ok()) {
        note->error_code = "NotFound";
        return Dispatcher::RenderError(Protocol::kQuery, FromStatus(arn.status()), request);
      }
      return Xml("ConfirmSubscription", "<SubscriptionArn>" + XmlEscape(*arn) + "</SubscriptionArn>", request);
    };
    d.AddRoute("/_sns/confirm", std::move(confirm));
    return Status::OK();
  }

  Status Start() override {
    SL_ASSIGN_OR_RETURN(catalog_, catalog::Catalog::Open(ctx_.lake));
    topics_->Start();
    // The rules are loaded before the server accepts requests: a SIGHUP or an event that arrives
    // at once then meets the rules it expects, never a first load still in progress.
    MaybeReload(false);
    stop_ = false;
    loop_ = std::thread([this] { Loop(); });
    return Status::OK();
  }

  void Reload() override {
    {
      std::lock_guard lock(mu_);
      reload_requested_ = true;
    }
    cv_.notify_all();
  }

  void Stop() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (loop_.joinable()) loop_.join();
    if (topics_) topics_->Stop();
  }

 private:
  // Reloads pipeline.yaml when its size or mtime changed; the engine keeps its old rules on error.
  // `force`: SIGHUP asked for it (an edit within the file system's mtime granularity is seen).
  void MaybeReload(bool force) {
    auto info = ctx_.lake->Stat("pipeline.yaml");
    int64_t stamp = info.ok() ? info->mtime_ns ^ static_cast<int64_t>(info->size) : 0;
    if (engine_ && stamp == pipeline_stamp_ && !force) return;
    pipeline_stamp_ = stamp;
    if (!engine_) {
      events::EngineOptions eo;
      eo.clock = ctx_.clock;
      auto e = events::Engine::Open(catalog_.get(), topics_.get(), eo);
      if (!e.ok()) {
        Log(LogLevel::kError, "events: pipeline.yaml refused; no rules run until it is fixed",
            {{"error", e.status().message()}});
        return;
      }
      engine_ = std::move(*e);
      Log(LogLevel::kInfo, "events: rules loaded", {{"rules", std::to_string(engine_->config().rules.size())}});
      return;
    }
    Status s = engine_->Reload();
    if (!s.ok())
      Log(LogLevel::kError, "events: pipeline.yaml refused; the previous rules stay", {{"error", s.message()}});
    else
      Log(LogLevel::kInfo, "events: rules reloaded", {{"rules", std::to_string(engine_->config().rules.size())}});
  }

  // The delivery counters since the last call, added to the server's metrics.
  void ExportStats() {
    if (!ctx_.metrics) return;
    events::DeliveryStats now = topics_->stats();
    auto add = [&](const char* name, const char* help, uint64_t cur, uint64_t& last) {
      if (cur > last) ctx_.metrics->Count(name, help, cur - last);
      last = cur;
    };
    add("sns_deliveries_total", "SNS deliveries that reached their endpoint.", now.delivered, exported_.delivered);
    add("sns_delivery_failures_total", "SNS delivery attempts that failed (and were retried or dead-lettered).",
        now.failed_attempts, exported_.failed_attempts);
    add("sns_dead_lettered_total", "SNS deliveries given up and written to _system/dlq/.", now.dead_lettered,
        exported_.dead_lettered);
    add("sns_filtered_total", "SNS messages a subscription's filter policy excluded.", now.filtered,
        exported_.filtered);
  }

  // The server's figures as alarm samples, once per 10 s of the clock: the requests, 5xx answers
  // and mean latencies (overall and per API) of the interval.
  void SampleServerMetrics() {
    if (!ctx_.metrics || !engine_) return;
    int64_t now = ToEpochMs(ctx_.clock->Now());
    if (sampled_ms_ && now - *sampled_ms_ < 10000 && now >= *sampled_ms_) return;
    Metrics::Totals t = ctx_.metrics->totals();
    if (sampled_ms_) {
      engine_->RecordMetric("http_requests", static_cast<double>(t.requests - last_totals_.requests));
      engine_->RecordMetric("http_5xx", static_cast<double>(t.errors_5xx - last_totals_.errors_5xx));
      double sum = 0;
      uint64_t count = 0;
      for (const auto& [api, l] : t.latency) {
        auto prev = last_totals_.latency[api];
        double s = l.first - prev.first;
        uint64_t n = l.second - prev.second;
        sum += s;
        count += n;
        if (n) engine_->RecordMetric(api + "_latency_s", s / static_cast<double>(n));
      }
      if (count) engine_->RecordMetric("request_latency_s", sum / static_cast<double>(count));
    }
    last_totals_ = std::move(t);
    sampled_ms_ = now;
  }

  void Loop() {
    for (;;) {
      bool force = false;
      {
        std::unique_lock lock(mu_);
        if (stop_) return;
        force = std::exchange(reload_requested_, false);
      }
      MaybeReload(force);
      ExportStats();
      SampleServerMetrics();
      if (engine_) {
        auto t = engine_->Tick();
        if (!t.ok()) Log(LogLevel::kError, "events: schedules", {{"error", t.status().ToString()}});
        auto n = engine_->ProcessPending();
        if (!n.ok()) Log(LogLevel::kError, "events: processing", {{"error", n.status().ToString()}});
        if (n.ok() && *n > 0) continue;  // more may be waiting
      }
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stop_ || reload_requested_; });
    }
  }

  ServiceContext ctx_;
  std::string account_;
  std::unique_ptr<events::Topics> topics_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<events::Engine> engine_;
  int64_t pipeline_stamp_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool reload_requested_ = false;
  events::DeliveryStats exported_;
  std::optional<int64_t> sampled_ms_;
  Metrics::Totals last_totals_;
  std::thread loop_;
};

}  // namespace

std::unique_ptr<Service> MakeEventsService(const ServiceContext& context) {
  return std::make_unique<EventsService>(context);
}

}  // namespace saleslake::server::internal
