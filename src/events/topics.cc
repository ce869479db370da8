// Topics, subscriptions and deliveries (see topics.h).
#include "events/topics.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <shared_mutex>
#include <thread>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "common/json.h"
#include "common/logging.h"
#include "events/internal/outbound.h"
#include "io/local_store.h"

namespace saleslake::events {

namespace {

constexpr std::string_view kStateKey = "_system/sns/state.json";
// The outbox: an append-only log of {"op":"queued",...delivery}, {"op":"retry",...} and
// {"op":"done","key"} lines, replayed at Open and rewritten with only what is still pending
// when it grew large. Lakes from before the log have one file per delivery under the prefix.
constexpr std::string_view kOutboxLogKey = "_system/sns/outbox.jsonl";
constexpr std::string_view kOutboxPrefix = "_system/sns/outbox/";
constexpr uint64_t kCompactBytes = uint64_t{4} << 20;
constexpr int64_t kDoneFlushMs = 200;

std::string RandomId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char b[64];
  uint64_t a = rng(), c = rng();
  std::snprintf(b, sizeof b, "%08x-%04x-4%03x-a%03x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>(a & 0xffff), static_cast<unsigned>((a >> 16) & 0xfff),
                static_cast<unsigned>(c >> 52), static_cast<unsigned long long>(c & 0xffffffffffffULL));
  return b;
}

std::string IsoMs(TimePoint t) {
  int64_t ms = ToEpochMs(t);
  time_t s = static_cast<time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char b[96];
  std::snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return b;
}

std::string NameOfArn(const std::string& arn) {
  size_t colon = arn.rfind(':');
  return colon == std::string::npos ? arn : arn.substr(colon + 1);
}

// The attributes as a filter policy sees them: strings, numbers, and String.Array as arrays.
nlohmann::json AttributesForFilter(const std::map<std::string, MessageAttribute>& attributes) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, a] : attributes) {
    if (a.type.rfind("Number", 0) == 0) {
      char* end = nullptr;
      double d = std::strtod(a.value.c_str(), &end);
      if (end && *end == '\0') { j[name] = d; continue; }
    }
    if (a.type == "String.Array") {
      auto arr = nlohmann::json::parse(a.value, nullptr, false);
      if (arr.is_array()) { j[name] = arr; continue; }
    }
    j[name] = a.value;
  }
  return j;
}

struct Delivery {
  std::string subscription_arn;
  std::string topic;
  std::string protocol, endpoint;
  std::string subject;  // email
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string message_id;
  int attempts = 0;
  int64_t next_ms = 0;
  int64_t first_ms = 0;
  std::string last_error;
  std::string outbox_key;   // the delivery's identity in the outbox (one per message and subscription)
  bool legacy_file = false;  // recovered from a file of the old outbox (removed when finished)

  nlohmann::json ToJson() const {
    nlohmann::json h = nlohmann::json::array();
    for (const auto& [k, v] : headers) h.push_back({k, v});
    return {{"subscription", subscription_arn}, {"topic", topic}, {"protocol", protocol}, {"endpoint", endpoint},
            {"subject", subject}, {"body", body}, {"headers", h}, {"message_id", message_id},
            {"attempts", attempts}, {"next_ms", next_ms}, {"first_ms", first_ms}, {"last_error", last_error}};
  }
  std::string OutboxLine(std::string_view op) const {
    nlohmann::json j;
    if (op == "queued") j = ToJson();
    if (op == "retry")
      j = {{"attempts", attempts}, {"next_ms", next_ms}, {"first_ms", first_ms}, {"last_error", last_error}};
    j["op"] = op;
    j["key"] = outbox_key;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  static std::optional<Delivery> FromJson(const nlohmann::json& j) {
    if (!j.is_object() || !j.contains("body") || !j.contains("protocol")) return std::nullopt;
    Delivery d;
    d.subscription_arn = j.value("subscription", "");
    d.topic = j.value("topic", "");
    d.protocol = j.value("protocol", "");
    d.endpoint = j.value("endpoint", "");
    d.subject = j.value("subject", "");
    d.body = j.value("body", "");
    for (const auto& h : j.value("headers", nlohmann::json::array()))
      if (h.is_array() && h.size() == 2 && h[0].is_string() && h[1].is_string()) d.headers.emplace_back(h[0], h[1]);
    d.message_id = j.value("message_id", "");
    d.attempts = j.value("attempts", 0);
    d.next_ms = j.value("next_ms", int64_t{0});
    d.first_ms = j.value("first_ms", int64_t{0});
    d.last_error = j.value("last_error", "");
    return d;
  }
};

// One outbox entry per (message, subscription): a message published again with the same id
// (an engine replaying an event after a crash) overwrites its entry instead of adding one.
std::string OutboxKey(const std::string& message_id, const std::string& subscription_arn) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : subscription_arn) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  std::string id;
  for (char c : message_id)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') id += c;
  char b[24];
  std::snprintf(b, sizeof b, "-%016llx", static_cast<unsigned long long>(h));
  return id.substr(0, 120) + b;
}

bool IsEmail(const std::string& protocol) { return protocol == "email" || protocol == "email-json"; }

}  // namespace

struct Topics::Impl {
  io::ObjectStore* store = nullptr;
  TopicsOptions options;
  Clock* clock = nullptr;

  mutable std::mutex mu;
  std::map<std::string, bool> topics;  // name -> declared
  std::vector<Subscription> subs;
  // Due deliveries per endpoint (FIFO each), and retries waiting for their time.
  std::map<std::string, std::deque<Delivery>> ready;
  std::multimap<int64_t, Delivery> waiting;
  std::string last_endpoint;  // where the workers' round-robin over endpoints stands
  std::unordered_set<std::string> pending_keys;   // queued or being attempted in this process
  std::map<std::string, int> in_flight;          // endpoint -> attempts running now
  DeliveryStats stats;
  SmtpSettings smtp;
  bool outbox_log = true;    // false: the store has no appends (S3), one object per delivery
  std::string done_lines;    // "done" lines not yet appended (see Finished)
  int64_t done_since_ms = 0;
  // Bytes this process appended to the log since it was last rewritten.
  std::atomic<uint64_t> outbox_bytes_appended{0};
  // Held shared by whoever appends to the outbox log, exclusively to rewrite it.
  std::shared_mutex outbox_mu;

  std::condition_variable cv;  // with mu: work for the delivery workers, or stop
  bool stop = false;
  std::vector<std::thread> workers;

  int64_t NowMs() const { return ToEpochMs(clock->Now()); }

  Status LoadLocked() {
    auto text = store->Get(kStateKey);
    if (!text.ok()) return text.status().code() == StatusCode::kNotFound ? Status::OK() : text.status();
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_object()) return Status::Corruption(std::string(kStateKey) + " is not JSON");
    for (const auto& t : j.value("topics", nlohmann::json::array()))
      topics[t.value("name", "")] = t.value("declared", false);
    for (const auto& s : j.value("subscriptions", nlohmann::json::array())) {
      Subscription sub;
      sub.arn = s.value("arn", "");
      sub.topic_arn = s.value("topic_arn", "");
      sub.protocol = s.value("protocol", "");
      sub.endpoint = s.value("endpoint", "");
      sub.raw_message_delivery = s.value("raw", false);
      sub.filter_policy = s.value("filter_policy", "");
      sub.filter_on_body = s.value("filter_on_body", false);
      sub.confirmed = s.value("confirmed", true);
      sub.declared = s.value("declared", false);
      sub.token = s.value("token", "");
      subs.push_back(std::move(sub));
    }
    return Status::OK();
  }

  Status SaveLocked() {
    nlohmann::json j;
    j["topics"] = nlohmann::json::array();
    for (const auto& [name, declared] : topics) j["topics"].push_back({{"name", name}, {"declared", declared}});
    j["subscriptions"] = nlohmann::json::array();
    for (const auto& s : subs)
      j["subscriptions"].push_back({{"arn", s.arn}, {"topic_arn", s.topic_arn}, {"protocol", s.protocol},
                                    {"endpoint", s.endpoint}, {"raw", s.raw_message_delivery},
                                    {"filter_policy", s.filter_policy}, {"filter_on_body", s.filter_on_body},
                                    {"confirmed", s.confirmed}, {"declared", s.declared}, {"token", s.token}});
    return store->Put(kStateKey, j.dump(1));
  }

  std::string Arn(const std::string& name) const {
    return "arn:aws:sns:" + options.region + ":" + options.account_id + ":" + name;
  }

  Result<std::string> TopicOf(const std::string& arn) const {
    std::string name = NameOfArn(arn);
    if (!topics.count(name)) return Status::NotFound("Topic does not exist: " + arn);
    return name;
  }

  // Gives `d` its identity; false when it is already pending here (an engine replaying an event
  // publishes the same message id again: once is enough).
  bool ReserveLocked(Delivery& d) {
    d.first_ms = d.next_ms = NowMs();
    d.outbox_key = OutboxKey(d.message_id, d.subscription_arn);
    if (!pending_keys.insert(d.outbox_key).second) return false;
    ++stats.pending;
    return true;
  }
  // Queues reserved deliveries whose outbox lines are durable.
  void QueueLocked(std::vector<Delivery> ds) {
    for (auto& d : ds) {
      PushLocked(std::move(d));
      cv.notify_one();
    }
  }
  void PushLocked(Delivery d) {
    if (d.next_ms > NowMs()) {
      int64_t at = d.next_ms;
      waiting.emplace(at, std::move(d));
    } else {
      std::string endpoint = d.endpoint;
      ready[endpoint].push_back(std::move(d));
    }
  }
  // Retries whose time came join their endpoint's ready queue.
  void PromoteDueLocked() {
    int64_t now = NowMs();
    while (!waiting.empty() && waiting.begin()->first <= now) {
      Delivery d = std::move(waiting.begin()->second);
      waiting.erase(waiting.begin());
      std::string endpoint = d.endpoint;
      ready[endpoint].push_back(std::move(d));
    }
  }
  // The next due delivery of the endpoint after the last one served that has fewer than
  // `per_endpoint` attempts running, if any.
  std::optional<Delivery> TakeLocked(int per_endpoint) {
    PromoteDueLocked();
    if (ready.empty()) return std::nullopt;
    auto start = ready.upper_bound(last_endpoint);
    for (size_t n = 0; n < ready.size(); ++n, ++start) {
      if (start == ready.end()) start = ready.begin();
      auto f = in_flight.find(start->first);
      if (f != in_flight.end() && f->second >= per_endpoint) continue;
      Delivery d = std::move(start->second.front());
      start->second.pop_front();
      last_endpoint = start->first;
      if (start->second.empty()) ready.erase(start);
      return d;
    }
    return std::nullopt;
  }
  // Reserved deliveries whose outbox lines could not be written are not queued.
  void UnreserveLocked(const std::vector<Delivery>& ds) {
    for (const auto& d : ds) {
      pending_keys.erase(d.outbox_key);
      --stats.pending;
    }
  }

  Status AppendOutbox(const std::string& lines) {
    if (!outbox_log) return Status::OK();  // see Finished
    std::shared_lock lock(outbox_mu);
    return store->Append(kOutboxLogKey, lines);
  }

  // Durable first (the outbox), then queued: once this returns OK the delivery survives a kill.
  // Under mu (subscription confirmations, which are rare); Publish writes without it.
  Status EnqueueLocked(Delivery d) {
    if (!ReserveLocked(d)) return Status::OK();
    Status s = WriteQueued({d});
    if (!s.ok()) {
      UnreserveLocked({d});
      return s;
    }
    std::vector<Delivery> one;
    one.push_back(std::move(d));
    QueueLocked(std::move(one));
    return Status::OK();
  }

  // The outbox lines of new deliveries, one append (group commit with other publishers). A
  // store without appends (S3) keeps one object per delivery, as the outbox was before the log.
  Status WriteQueued(const std::vector<Delivery>& ds) {
    if (outbox_log) {
      std::string lines;
      for (const auto& d : ds) lines += d.OutboxLine("queued");
      std::shared_lock lock(outbox_mu);
      SL_RETURN_IF_ERROR(store->Append(kOutboxLogKey, lines));
      outbox_bytes_appended += lines.size();
      return Status::OK();
    }
    for (const auto& d : ds) SL_RETURN_IF_ERROR(store->Put(std::string(kOutboxPrefix) + d.outbox_key + ".json", d.ToJson().dump()));
    return Status::OK();
  }

  // What an earlier process queued and did not finish: the outbox log replayed, then the files
  // of the old outbox. A log that grew large is rewritten with only the pending deliveries.
  Status RecoverOutboxLocked() {
    // A log renamed aside (FlushDone) whose unlink a crash cut off: nothing in it is pending.
    if (auto* local = dynamic_cast<io::LocalStore*>(store)) ::unlink((local->PathOf(kOutboxLogKey) + ".old").c_str());
    std::map<std::string, Delivery> pending;
    std::vector<std::string> order;
    auto text = store->Get(kOutboxLogKey);
    if (!text.ok() && text.status().code() != StatusCode::kNotFound) return text.status();
    uint64_t log_size = text.ok() ? text->size() : 0;
    if (text.ok()) {
      size_t pos = 0;
      for (size_t nl; (nl = text->find('\n', pos)) != std::string::npos; pos = nl + 1) {
        auto j = nlohmann::json::parse(std::string_view(*text).substr(pos, nl - pos), nullptr, false);
        if (!j.is_object() || !j.contains("key") || !j["key"].is_string()) continue;  // a torn line
        std::string key = j["key"];
        std::string op = j.value("op", "");
        if (op == "queued") {
          auto d = Delivery::FromJson(j);
          if (!d) continue;
          d->outbox_key = key;
          if (!pending.count(key)) order.push_back(key);
          pending[key] = std::move(*d);
        } else if (op == "retry" && pending.count(key)) {
          Delivery& d = pending[key];
          d.attempts = j.value("attempts", d.attempts);
          d.next_ms = j.value("next_ms", d.next_ms);
          d.first_ms = j.value("first_ms", d.first_ms);
          d.last_error = j.value("last_error", d.last_error);
        } else if (op == "done") {
          pending.erase(key);
        }
      }
    }
    std::string rewritten;
    for (const auto& key : order) {
      auto it = pending.find(key);
      if (it == pending.end() || pending_keys.count(key)) continue;
      rewritten += it->second.OutboxLine("queued");
      if (it->second.attempts > 0) rewritten += it->second.OutboxLine("retry");
      pending_keys.insert(key);
      PushLocked(std::move(it->second));
      ++stats.pending;
      ++stats.recovered;
    }
    if (outbox_log && log_size > kCompactBytes) {
      std::unique_lock lock(outbox_mu);
      SL_RETURN_IF_ERROR(store->Put(kOutboxLogKey, rewritten));
    }
    auto listed = store->List(kOutboxPrefix);
    if (!listed.ok()) return listed.status().code() == StatusCode::kNotFound ? Status::OK() : listed.status();
    for (const auto& info : *listed) {
      auto file = store->Get(info.key);
      if (!file.ok()) continue;  // gone meanwhile (delivered by another process)
      auto d = Delivery::FromJson(nlohmann::json::parse(*file, nullptr, false));
      if (!d) {
        // A torn write cannot happen (Put replaces whole), so this is foreign: keep it aside.
        Log(LogLevel::kWarn, "sns: an outbox entry is not a delivery; skipped", {{"key", info.key}});
        continue;
      }
      // Named <key>.json (OutboxKey without the suffix, as the old outbox named its files).
      d->outbox_key = info.key.substr(kOutboxPrefix.size());
      if (d->outbox_key.ends_with(".json")) d->outbox_key.resize(d->outbox_key.size() - 5);
      d->legacy_file = true;
      if (!pending_keys.insert(d->outbox_key).second) continue;
      PushLocked(std::move(*d));
      ++stats.pending;
      ++stats.recovered;
    }
    return Status::OK();
  }

  // Delivered or dead-lettered: a "done" line, buffered (a lost one only means one more delivery
  // after a restart, so a delivery worker does not wait for an fsync per message) and appended
  // at least every kDoneFlushMs, when the workers run out of work, and at Stop.
  void Finished(const Delivery& d) {
    Status s;
    if (d.legacy_file || !outbox_log) {
      s = store->Delete(std::string(kOutboxPrefix) + d.outbox_key + ".json");
      if (s.code() == StatusCode::kNotFound) s = Status::OK();
    }
    if (!s.ok())
      Log(LogLevel::kWarn, "sns: could not record a finished delivery (it will be made again after a restart)",
          {{"key", d.outbox_key}, {"error", s.ToString()}});
    bool flush = false;
    {
      std::lock_guard lock(mu);
      pending_keys.erase(d.outbox_key);
      --stats.pending;
      if (!d.legacy_file && outbox_log) {
        if (done_lines.empty()) done_since_ms = NowMs();
        done_lines += d.OutboxLine("done");
        int64_t now = NowMs();
        flush = done_lines.size() > (64u << 10) || now - done_since_ms >= kDoneFlushMs || now < done_since_ms;
      }
    }
    if (flush) FlushDone();
  }

  // Appends the buffered "done" lines; then, when nothing is pending and the log grew large,
  // the log starts afresh.
  void FlushDone() {
    std::string lines;
    {
      std::lock_guard lock(mu);
      lines.swap(done_lines);
    }
    if (!lines.empty()) {
      Status s = AppendOutbox(lines);
      if (!s.ok())
        Log(LogLevel::kWarn, "sns: could not record finished deliveries (they will be made again after a restart)",
            {{"error", s.ToString()}});
    }
    std::unique_lock outbox(outbox_mu, std::defer_lock);
    {
      std::lock_guard lock(mu);
      if (!outbox_log || !pending_keys.empty() || !done_lines.empty() || outbox_bytes_appended <= kCompactBytes) return;
      // Publishers reserve their deliveries (pending_keys, under mu) before they append them,
      // so with nothing pending no line in the log is still needed, and one who reserves from
      // now on appends after the log is gone (outbox_mu, held exclusively until then). try_lock:
      // a worker's "done" line may be on its way, and mu is held.
      if (!outbox.try_lock()) return;
    }
    // Removed, not rewritten empty, and without mu: the rewrite (an atomic Put, which in `serve`
    // is a syncfs of the whole file system, then a rename) held mu, so every publisher and every
    // delivery worker stopped for as long as the disk took (27-35 ms + a 6-8 ms rename at load
    // 10; one syncfs of the same server took 485 ms). An unlink frees the blocks (17-27 ms at
    // that load), so on a local lake the log is first renamed aside, which is quick, and only the
    // rename holds up appends to the log. Not synced: if a crash brings the old log back, each
    // of its deliveries has its "done" line, durable there. The next append creates the log
    // again and syncs its folder.
    std::string aside;
    if (auto* local = dynamic_cast<io::LocalStore*>(store)) {
      std::string path = local->PathOf(kOutboxLogKey);
      if (::rename(path.c_str(), (path + ".old").c_str()) == 0) aside = path + ".old";
    }
    Status s = aside.empty() ? store->Delete(kOutboxLogKey) : Status::OK();
    if (s.ok() || s.code() == StatusCode::kNotFound) outbox_bytes_appended = 0;
    outbox.unlock();
    if (!aside.empty()) ::unlink(aside.c_str());
  }

  Status AddSubscriptionLocked(Subscription sub, const std::string& confirm_base) {
    if (!sub.confirmed) {
      sub.token = RandomId() + RandomId();
      Delivery d;
      d.subscription_arn = sub.arn;
      d.topic = NameOfArn(sub.topic_arn);
      d.protocol = sub.protocol;
      d.endpoint = sub.endpoint;
      d.message_id = RandomId();
      std::string url = confirm_base + "?Action=ConfirmSubscription&TopicArn=" + sub.topic_arn + "&Token=" + sub.token;
      nlohmann::json env = {{"Type", "SubscriptionConfirmation"},
                            {"MessageId", d.message_id},
                            {"Token", sub.token},
                            {"TopicArn", sub.topic_arn},
                            {"Message", "You have chosen to subscribe to the topic " + sub.topic_arn +
                                            ".\nTo confirm the subscription, visit the SubscribeURL included in this message."},
                            {"SubscribeURL", url},
                            {"Timestamp", IsoMs(clock->Now())},
                            {"SignatureVersion", "1"},
                            {"Signature", ""},
                            {"SigningCertURL", ""}};
      if (IsEmail(sub.protocol)) {
        d.subject = "AWS Notification - Subscription Confirmation";
        d.body = "You have chosen to subscribe to the topic:\n" + sub.topic_arn +
                 "\n\nTo confirm this subscription, open the link below:\n" + url +
                 "\n\nIf you did not mean to subscribe, ignore this message.\n";
        d.protocol = "email";  // the confirmation is a plain e-mail for email-json too
      } else {
        d.body = env.dump();
      }
      d.headers = {{"Content-Type", "text/plain; charset=UTF-8"},
                   {"x-amz-sns-message-type", "SubscriptionConfirmation"},
                   {"x-amz-sns-message-id", d.message_id},
                   {"x-amz-sns-topic-arn", sub.topic_arn}};
      subs.push_back(std::move(sub));
      SL_RETURN_IF_ERROR(SaveLocked());
      return EnqueueLocked(std::move(d));
    }
    subs.push_back(std::move(sub));
    return SaveLocked();
  }

  // One attempt; true when delivered.
  bool Attempt(Delivery& d) {
    if (d.protocol == "http" || d.protocol == "https") {
      auto r = internal::HttpPost(d.endpoint, d.body, d.headers, options.http_timeout_ms);
      d.last_error = r.error;
      return r.error.empty();
    }
    if (d.protocol == "file") {
      std::string line = d.body;
      if (line.empty() || line.back() != '\n') line += '\n';
      if (!d.endpoint.empty() && d.endpoint[0] == '/') {
        int fd = ::open(d.endpoint.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) { d.last_error = "cannot open " + d.endpoint; return false; }
        bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
        ::close(fd);
        if (!ok) d.last_error = "short write to " + d.endpoint;
        return ok;
      }
      Status s = store->Append(d.endpoint, line);
      d.last_error = s.ok() ? "" : s.ToString();
      return s.ok();
    }
    if (IsEmail(d.protocol)) {
      SmtpSettings server;
      {
        std::lock_guard lock(mu);
        server = smtp;
      }
      auto r = internal::SendMail(server, d.endpoint, d.subject, d.body, NowMs());
      d.last_error = r.error;
      return r.error.empty();
    }
    if (d.protocol == "command") {
      auto r = internal::RunCommand(d.endpoint, d.body, {{"SNS_TOPIC", d.topic}}, options.http_timeout_ms, 512);
      d.last_error = r.ok() ? "" : r.Reason();
      return r.ok();
    }
    d.last_error = "unsupported protocol " + d.protocol;
    return false;
  }

  void Settle(Delivery d, bool ok);

  void DeadLetter(const Delivery& d) {
    nlohmann::json j = {{"time", IsoMs(clock->Now())}, {"topic", d.topic}, {"subscription", d.subscription_arn},
                        {"endpoint", d.endpoint}, {"message_id", d.message_id}, {"attempts", d.attempts},
                        {"reason", d.last_error}, {"body", d.body}};
    Status s = store->Append("_system/dlq/sns-" + d.topic + ".jsonl", j.dump() + "\n");
    if (!s.ok()) Log(LogLevel::kError, "sns: could not dead-letter a delivery", {{"error", s.ToString()}});
    Log(LogLevel::kWarn, "sns: delivery dead-lettered",
        {{"topic", d.topic}, {"endpoint", d.endpoint}, {"reason", d.last_error}});
  }
};

Topics::Topics(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Topics::~Topics() { Stop(); }

Result<std::unique_ptr<Topics>> Topics::Open(io::ObjectStore* store, TopicsOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->store = store;
  impl->options = options;
  impl->clock = options.clock ? options.clock : &ProcessClock();
  {
    std::lock_guard lock(impl->mu);
    SL_RETURN_IF_ERROR(impl->LoadLocked());
    // Whether the store appends at all (S3 does not). Another failure (a read-only lake for
    // `topics list`) is not Open's business: a Publish will report it.
    Status probe = store->Append(kOutboxLogKey, "");
    if (probe.code() == StatusCode::kNotImplemented) impl->outbox_log = false;
    SL_RETURN_IF_ERROR(impl->RecoverOutboxLocked());
  }
  return std::unique_ptr<Topics>(new Topics(std::move(impl)));
}

std::string Topics::TopicArn(const std::string& name) const { return impl_->Arn(name); }

Result<std::string> Topics::CreateTopic(const std::string& name) {
  if (!ValidTopicName(name))
    return Status::InvalidArgument("Invalid parameter: Topic Name (1-256 of A-Z a-z 0-9 _ -)");
  std::lock_guard lock(impl_->mu);
  if (!impl_->topics.count(name)) {
    impl_->topics[name] = false;
    SL_RETURN_IF_ERROR(impl_->SaveLocked());
  }
  return impl_->Arn(name);
}

Status Topics::DeleteTopic(const std::string& topic_arn) {
  std::lock_guard lock(impl_->mu);
  std::string name = NameOfArn(topic_arn);
  if (!impl_->topics.erase(name)) return Status::OK();  // SNS: deleting a missing topic succeeds
  std::erase_if(impl_->subs, [&](const Subscription& s) { return NameOfArn(s.topic_arn) == name; });
  return impl_->SaveLocked();
}

std::vector<std::string> Topics::ListTopics() const {
  std::lock_guard lock(impl_->mu);
  std::vector<std::string> out;
  for (const auto& [name, declared] : impl_->topics) out.push_back(impl_->Arn(name));
  return out;
}

Result<Subscription> Topics::Subscribe(const std::string& topic_arn, const std::string& protocol,
                                       const std::string& endpoint,
                                       const std::map<std::string, std::string>& attributes,
                                       const std::string& confirm_base) {
  std::lock_guard lock(impl_->mu);
  SL_ASSIGN_OR_RETURN(std::string name, impl_->TopicOf(topic_arn));
  if (protocol != "http" && protocol != "https" && protocol != "file" && protocol != "command" && !IsEmail(protocol))
    return Status::InvalidArgument("Invalid parameter: Protocol '" + protocol +
                                   "' (http, https, email, email-json, file, command)");
  if (IsEmail(protocol) && !ValidEmailAddress(endpoint))
    return Status::InvalidArgument("Invalid parameter: Email address");
  if ((protocol == "http" || protocol == "https") && endpoint.rfind(protocol + "://", 0) != 0)
    return Status::InvalidArgument("Invalid parameter: Endpoint must start with " + protocol + "://");
  if (endpoint.empty()) return Status::InvalidArgument("Invalid parameter: Endpoint");
  Subscription sub;
  sub.topic_arn = impl_->Arn(name);
  sub.protocol = protocol;
  sub.endpoint = endpoint;
  for (const auto& [k, v] : attributes) {
    if (k == "RawMessageDelivery") {
      sub.raw_message_delivery = v == "true";
    } else if (k == "FilterPolicy") {
      auto j = nlohmann::json::parse(v, nullptr, false);
      if (j.is_discarded()) return Status::InvalidArgument("Invalid parameter: FilterPolicy: not JSON");
      auto p = EventPattern::FromJson(j);
      if (!p.ok()) return Status::InvalidArgument("Invalid parameter: FilterPolicy: " + p.status().message());
      sub.filter_policy = j.dump();
    } else if (k == "FilterPolicyScope") {
      if (v != "MessageAttributes" && v != "MessageBody")
        return Status::InvalidArgument("Invalid parameter: FilterPolicyScope");
      sub.filter_on_body = v == "MessageBody";
    } else {
      return Status::InvalidArgument("Invalid parameter: Attributes Reason: unknown attribute " + k);
    }
  }
  // SNS returns the existing subscription for the same topic, protocol and endpoint.
  for (const auto& s : impl_->subs)
    if (s.topic_arn == sub.topic_arn && s.protocol == protocol && s.endpoint == endpoint) return s;
  sub.arn = sub.topic_arn + ":" + RandomId();
  sub.confirmed = !(protocol == "http" || protocol == "https" || IsEmail(protocol));
  SL_RETURN_IF_ERROR(impl_->AddSubscriptionLocked(sub, confirm_base));
  return impl_->subs.back();
}

Result<std::string> Topics::ConfirmSubscription(const std::string& topic_arn, const std::string& token) {
  std::lock_guard lock(impl_->mu);
  for (auto& s : impl_->subs) {
    if (!s.token.empty() && s.token == token && (topic_arn.empty() || NameOfArn(s.topic_arn) == NameOfArn(topic_arn))) {
      s.confirmed = true;
      SL_RETURN_IF_ERROR(impl_->SaveLocked());
      return s.arn;
    }
  }
  return Status::NotFound("Invalid token");
}

Status Topics::Unsubscribe(const std::string& subscription_arn) {
  std::lock_guard lock(impl_->mu);
  size_t n = std::erase_if(impl_->subs, [&](const Subscription& s) { return s.arn == subscription_arn; });
  if (n == 0) return Status::NotFound("Subscription does not exist");
  return impl_->SaveLocked();
}

std::vector<Subscription> Topics::ListSubscriptions(const std::string& topic_arn) const {
  std::lock_guard lock(impl_->mu);
  std::vector<Subscription> out;
  for (const auto& s : impl_->subs)
    if (topic_arn.empty() || NameOfArn(s.topic_arn) == NameOfArn(topic_arn)) out.push_back(s);
  return out;
}

Result<PublishResult> Topics::Publish(const std::string& topic_arn, const std::string& message,
                                      const std::string& subject,
                                      const std::map<std::string, MessageAttribute>& attributes,
                                      const std::string& message_id) {
  if (message.empty()) return Status::InvalidArgument("Invalid parameter: Empty message");
  if (message.size() > 256 * 1024) return Status::InvalidArgument("Invalid parameter: Message too long");
  std::vector<Delivery> deliveries;
  PublishResult result;
  {
  std::lock_guard lock(impl_->mu);
  SL_ASSIGN_OR_RETURN(std::string name, impl_->TopicOf(topic_arn));
  result.message_id = message_id.empty() ? RandomId() : message_id;
  std::string arn = impl_->Arn(name);
  nlohmann::json attrs_json = nlohmann::json::object();
  for (const auto& [k, a] : attributes) attrs_json[k] = {{"Type", a.type}, {"Value", a.value}};
  nlohmann::json filter_attrs = AttributesForFilter(attributes);
  nlohmann::json body_json;
  bool body_parsed = false;
  for (const auto& s : impl_->subs) {
    if (!s.confirmed || NameOfArn(s.topic_arn) != name) continue;
    if (!s.filter_policy.empty()) {
      auto policy = EventPattern::FromJson(nlohmann::json::parse(s.filter_policy, nullptr, false));
      bool match = false;
      if (policy.ok()) {
        if (s.filter_on_body) {
          if (!body_parsed) {
            body_json = nlohmann::json::parse(message, nullptr, false);
            body_parsed = true;
          }
          match = body_json.is_object() && policy->Matches(body_json);
        } else {
          match = policy->Matches(filter_attrs);
        }
      }
      if (!match) {
        ++result.filtered;
        ++impl_->stats.filtered;
        continue;
      }
    }
    Delivery d;
    d.subscription_arn = s.arn;
    d.topic = name;
    d.protocol = s.protocol;
    d.endpoint = s.endpoint;
    d.message_id = result.message_id;
    if (s.protocol == "email") {
      // SNS's email protocol: the message as the text, the subject (or its default) as the subject.
      d.subject = subject.empty() ? "AWS Notification Message" : subject;
      // An alert is a JSON object: indented, a person reads it (and no line nears SMTP's limit).
      auto j = nlohmann::json::parse(message, nullptr, false);
      d.body = (j.is_object() ? j.dump(2) : message) + "\n\n--\nThis message was sent by the topic " + arn +
               " (saleslake).\n";
    } else if (s.raw_message_delivery) {
      d.body = message;
    } else {
      nlohmann::json env = {{"Type", "Notification"}, {"MessageId", result.message_id}, {"TopicArn", arn}};
      if (!subject.empty()) env["Subject"] = subject;
      env["Message"] = message;
      env["Timestamp"] = IsoMs(impl_->clock->Now());
      env["SignatureVersion"] = "1";
      env["Signature"] = "";
      env["SigningCertURL"] = "";
      env["UnsubscribeURL"] = "";
      if (!attributes.empty()) env["MessageAttributes"] = attrs_json;
      d.body = env.dump();
    }
    d.headers = {{"Content-Type", "text/plain; charset=UTF-8"},
                 {"x-amz-sns-message-type", "Notification"},
                 {"x-amz-sns-message-id", result.message_id},
                 {"x-amz-sns-topic-arn", arn},
                 {"x-amz-sns-subscription-arn", s.arn}};
    if (s.raw_message_delivery) d.headers.emplace_back("x-amz-sns-rawdelivery", "true");
    if (s.protocol == "email-json") d.subject = subject.empty() ? "AWS Notification Message" : subject;
    ++result.deliveries;
    if (impl_->ReserveLocked(d)) deliveries.push_back(std::move(d));
  }
  }
  if (deliveries.empty()) return result;
  // Durable first, outside the lock: concurrent publishers share the outbox's fsyncs.
  Status s = impl_->WriteQueued(deliveries);
  std::lock_guard lock(impl_->mu);
  if (!s.ok()) {
    impl_->UnreserveLocked(deliveries);
    return s;
  }
  impl_->QueueLocked(std::move(deliveries));
  return result;
}

Status Topics::ApplyDeclared(const std::vector<TopicSpec>& declared) {
  std::lock_guard lock(impl_->mu);
  for (const auto& t : declared) impl_->topics[t.name] = true;
  // Declared subscriptions are replaced as a whole (the file is the truth for them).
  std::erase_if(impl_->subs, [](const Subscription& s) { return s.declared; });
  for (const auto& t : declared) {
    for (const auto& spec : t.subscriptions) {
      Subscription sub;
      sub.topic_arn = impl_->Arn(t.name);
      sub.arn = sub.topic_arn + ":declared-" + std::to_string(impl_->subs.size());
      sub.protocol = spec.protocol;
      sub.endpoint = spec.endpoint;
      sub.raw_message_delivery = spec.raw_message_delivery;
      if (spec.filter_policy) sub.filter_policy = spec.filter_policy->json().dump();
      sub.filter_on_body = spec.filter_on_body;
      // Declared in the lake's own file by its owner: no handshake needed.
      sub.confirmed = true;
      sub.declared = true;
      impl_->subs.push_back(std::move(sub));
    }
  }
  return impl_->SaveLocked();
}

// After one attempt of `d`: finished, or back in the queue for its next retry.
void Topics::Impl::Settle(Delivery d, bool ok) {
  const RetryPolicy& p = options.retry;
  ++d.attempts;
  if (ok) {
    {
      std::lock_guard lock(mu);
      ++stats.delivered;
    }
    Finished(d);
    return;
  }
  int64_t now = NowMs();
  int retries_done = d.attempts - 1;
  if (retries_done >= p.immediate_retries + p.backoff_retries || now - d.first_ms >= p.total_ms) {
    DeadLetter(d);
    {
      std::lock_guard lock(mu);
      ++stats.failed_attempts;
      ++stats.dead_lettered;
    }
    Finished(d);
    return;
  }
  if (retries_done < p.immediate_retries) {
    d.next_ms = now;
  } else {
    int k = retries_done - p.immediate_retries;
    int64_t delay = std::min(p.max_delay_ms, p.min_delay_ms << std::min(k, 20));
    d.next_ms = std::min(now + delay, d.first_ms + p.total_ms);
  }
  // The attempts so far go to the outbox too, so a restart keeps the total time bounded.
  Status s = d.legacy_file || !outbox_log ? store->Put(std::string(kOutboxPrefix) + d.outbox_key + ".json", d.ToJson().dump())
                           : AppendOutbox(d.OutboxLine("retry"));
  if (!s.ok()) Log(LogLevel::kWarn, "sns: could not update an outbox entry", {{"error", s.ToString()}});
  std::lock_guard lock(mu);
  ++stats.failed_attempts;
  PushLocked(std::move(d));
  cv.notify_one();
}

int Topics::DeliverDue() {
  std::vector<Delivery> due;
  {
    std::lock_guard lock(impl_->mu);
    impl_->PromoteDueLocked();
    // In the order they were queued within an endpoint, endpoint after endpoint.
    for (auto& [endpoint, q] : impl_->ready)
      for (auto& d : q) due.push_back(std::move(d));
    impl_->ready.clear();
  }
  for (auto& d : due) {
    bool ok = impl_->Attempt(d);
    impl_->Settle(std::move(d), ok);
  }
  impl_->FlushDone();
  return static_cast<int>(due.size());
}

void Topics::Start(int poll_ms) {
  std::lock_guard lock(impl_->mu);
  if (!impl_->workers.empty()) return;
  impl_->stop = false;
  int n = std::max(1, impl_->options.delivery_threads);
  int per_endpoint = std::max(1, std::min(n, impl_->options.per_endpoint_threads));
  for (int i = 0; i < n; ++i) {
    // Only the first worker polls: eight workers waking every 20 ms while idle were ~4% of a
    // busy server's CPU (perf of `serve` under small GETs, issue 13). The others sleep until a
    // delivery is queued, a slot frees up, or a worker that found one wakes them.
    const bool poller = i == 0;
    impl_->workers.emplace_back([this, poll_ms, per_endpoint, poller] {
      std::unique_lock lock(impl_->mu);
      while (!impl_->stop) {
        // Round-robin over the endpoints with due deliveries and a worker to spare: a slow or
        // hanging endpoint holds at most per_endpoint workers, the others serve everyone else.
        std::optional<Delivery> d = impl_->TakeLocked(per_endpoint);
        if (!d) {
          if (!impl_->done_lines.empty()) {
            lock.unlock();
            impl_->FlushDone();
            lock.lock();
            continue;
          }
          // Polls too: retries come due on the injected clock, which wakes no one.
          if (poller) {
            ++impl_->stats.idle_polls;
            impl_->cv.wait_for(lock, std::chrono::milliseconds(poll_ms));
          } else {
            impl_->cv.wait(lock);
          }
          continue;
        }
        // More may be due (the poller found retries, or a burst was queued): one more worker
        // looks. It goes back to sleep if there is nothing.
        impl_->cv.notify_one();
        std::string endpoint = d->endpoint;
        ++impl_->in_flight[endpoint];
        lock.unlock();
        bool ok = impl_->Attempt(*d);
        impl_->Settle(std::move(*d), ok);
        lock.lock();
        // A worker that found this endpoint full may take its next delivery now. (Whether it is
        // full now, not when this attempt began: a worker turned away after that would sleep
        // until its next poll, 20 ms, with a slot free.)
        int was = impl_->in_flight[endpoint]--;
        if (was == 1) impl_->in_flight.erase(endpoint);
        if (was >= per_endpoint) impl_->cv.notify_one();
      }
    });
  }
}

void Topics::Stop() {
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop = true;
    workers.swap(impl_->workers);
  }
  impl_->cv.notify_all();
  for (auto& t : workers) t.join();
  impl_->FlushDone();
  std::lock_guard lock(impl_->mu);
  impl_->stop = false;
}

void Topics::SetMailServer(const SmtpSettings& smtp) {
  std::lock_guard lock(impl_->mu);
  impl_->smtp = smtp;
}

DeliveryStats Topics::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace saleslake::events
