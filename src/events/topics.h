// Topics and subscriptions (SNS's role): created over the API (the server's SNS query API) or
// declared in pipeline.yaml (rules.h), kept in _system/sns/state.json; Publish fans a message
// out to the confirmed subscriptions whose filter policy matches, and a delivery thread posts
// SNS's JSON envelope (or the raw message) to http(s) endpoints, mails it (email: the message
// as the text, the subject as the subject; email-json: the envelope) through the SMTP server of
// pipeline.yaml, appends it to files (a lake key, or an absolute path) or pipes it into commands.
// Every queued delivery is first appended to the outbox log _system/sns/outbox.jsonl (Publish
// returns after that; concurrent publishers share one fsync) and marked done there when
// delivered or dead-lettered (those lines are batched: a kill can cost a repeat of what was
// delivered in the last 200 ms); Open queues what an earlier process left pending, so a kill
// between Publish and delivery loses nothing (at-least-once: a delivery cut off after the
// endpoint had it, or whose "done" line was lost, is made again). The log starts afresh when it
// has grown past 4 MB and nothing is pending (files of the older one-file-per-delivery outbox
// under _system/sns/outbox/ are still recovered; a store without appends keeps using them).
// Start's workers attempt deliveries concurrently, at most per_endpoint_threads to one
// endpoint, so a slow endpoint does not hold up the others. A failed delivery is retried (immediately, then
// with exponential backoff on the injected clock, bounded in attempts and total time) and then
// written to the dead-letter file _system/dlq/sns-<topic>.jsonl with the reason.
// An http(s) or email subscription made over the API starts "pending confirmation": its endpoint
// gets a SubscriptionConfirmation message (an e-mail with the link, for email) whose SubscribeURL
// (or ConfirmSubscription with the Token) confirms it, as in SNS.
// Thread safety: every method may be called from many threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "events/rules.h"
#include "io/object_store.h"

namespace saleslake::events {

struct RetryPolicy {
  int immediate_retries = 3;     // SNS's HTTP default: 3 retries without delay
  int backoff_retries = 6;       // then these, with delays doubling from min to max
  int64_t min_delay_ms = 1000;
  int64_t max_delay_ms = 20000;
  int64_t total_ms = 600000;     // never longer than this after the publish
};

struct TopicsOptions {
  Clock* clock = nullptr;            // default: the process clock
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  int http_timeout_ms = 5000;        // a webhook that hangs is cut after this
  int delivery_threads = 8;          // deliveries attempted at once by Start's workers
  int per_endpoint_threads = 6;      // of which at most this many to one endpoint
  RetryPolicy retry;
};

struct Subscription {
  std::string arn;         // "PendingConfirmation" is never stored: pending ones have an arn too
  std::string topic_arn;
  std::string protocol;
  std::string endpoint;
  bool raw_message_delivery = false;
  std::string filter_policy;   // JSON, "" = none
  bool filter_on_body = false;
  bool confirmed = true;
  bool declared = false;       // from pipeline.yaml
  std::string token;           // confirmation token of a pending subscription
};

struct MessageAttribute {
  std::string type = "String";  // String | Number | String.Array | Binary
  std::string value;
};

struct PublishResult {
  std::string message_id;
  int deliveries = 0;  // subscriptions the message was queued for
  int filtered = 0;    // subscriptions whose filter policy excluded it
};

struct DeliveryStats {
  uint64_t delivered = 0;
  uint64_t failed_attempts = 0;
  uint64_t dead_lettered = 0;
  uint64_t filtered = 0;
  uint64_t pending = 0;
  uint64_t recovered = 0;  // deliveries found in the outbox at Open
  uint64_t idle_polls = 0;  // timed wake-ups of idle workers (only one of them polls)
};

class Topics {
 public:
  static Result<std::unique_ptr<Topics>> Open(io::ObjectStore* store, TopicsOptions options = {});
  ~Topics();

  std::string TopicArn(const std::string& name) const;
  // Idempotent, as in SNS. kInvalidArgument for a bad name.
  Result<std::string> CreateTopic(const std::string& name);
  Status DeleteTopic(const std::string& topic_arn);
  std::vector<std::string> ListTopics() const;  // ARNs, sorted

  // `confirm_base` is the URL the endpoint gets to confirm an http(s) subscription
  // ("http://host:port/_sns/confirm"). Returns the subscription (pending for http(s)).
  Result<Subscription> Subscribe(const std::string& topic_arn, const std::string& protocol,
                                 const std::string& endpoint,
                                 const std::map<std::string, std::string>& attributes,
                                 const std::string& confirm_base);
  // kNotFound for an unknown token.
  Result<std::string> ConfirmSubscription(const std::string& topic_arn, const std::string& token);
  Status Unsubscribe(const std::string& subscription_arn);
  std::vector<Subscription> ListSubscriptions(const std::string& topic_arn = "") const;

  // kNotFound for an unknown topic.
  Result<PublishResult> Publish(const std::string& topic_arn, const std::string& message,
                                const std::string& subject = "",
                                const std::map<std::string, MessageAttribute>& attributes = {},
                                const std::string& message_id = "");

  // Makes the declared topics and their subscriptions exist (file/command subscriptions are
  // confirmed at once); declared subscriptions no longer declared are removed.
  Status ApplyDeclared(const std::vector<TopicSpec>& topics);

  // The mail server for email deliveries (the engine sets it from pipeline.yaml's smtp:).
  void SetMailServer(const SmtpSettings& smtp);

  // Attempts every delivery that is due now, one after another, in the calling thread; returns
  // how many were attempted (tests and the CLI call it; `serve` runs Start's workers).
  int DeliverDue();
  // Starts/stops the delivery workers (one of them polls every poll_ms of real time for retries
  // that came due and wakes another when it found one; new deliveries wake them at once).
  void Start(int poll_ms = 20);
  void Stop();
  DeliveryStats stats() const;

 private:
  struct Impl;
  explicit Topics(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace saleslake::events
