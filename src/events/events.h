// The event bus and the engine that acts on it (the pipeline runs itself).
//
// The journal is _system/events.jsonl, written only through catalog::JournalEvent (uploads,
// crawls, job runs, schedule ticks all go through it, from the CLI or the server): every event
// is a line {"id","type","time",...} made durable before anyone acts on it.
// A consumer (the engine) reads from its checkpoint (_system/events/checkpoints/<name>.json, a
// byte offset), acts, and moves the checkpoint after each batch of events (and right after an
// event that crawled, ran a job, refreshed a view or ran a command): after a crash the events
// past the checkpoint are processed again (at-least-once). Each action is idempotent by event
// id: a done marker, a line {"rule","event","target",...} in _system/events/done.jsonl, is
// appended when a target finished (delivered, or dead-lettered), and a replayed event skips
// targets that have one. The marker of a crawl, job, refresh or command is durable before the
// engine does anything else; markers of topic targets (a repeat is the same message id again:
// at-least-once delivery) are appended once per batch, always before the checkpoint moves past
// their events. Lakes from before the marker log keep their files
// _system/events/done/<rule>/<event id>.<target>, which still count. Events a
// target emits (crawler.succeeded, job.failed, quality.violation, ...) get ids derived from the
// cause, so a repeat after a crash is the same event and meets the same markers: a restart never
// runs the same job twice for one upload.
//
// Targets: crawler (catalog::Crawl), job (etl::RunJob), topic (Topics::Publish), command (a
// child process: event JSON on stdin, env, timeout, RLIMIT_AS, output captured into
// _system/events/runs/<rule>.jsonl, retries with backoff, then _system/dlq/<rule>.jsonl).
// Thread safety: an Engine is driven by one thread at a time (the server's event loop or a CLI
// command); Topics and the journal may be used by others meanwhile.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/status.h"
#include "events/rules.h"
#include "events/topics.h"

namespace saleslake::events {

struct Event {
  std::string id;
  std::string type;
  nlohmann::json json;  // the whole line
  uint64_t end_offset = 0;  // journal offset just past this event
};

// Reads the journal from `offset`: complete lines only (a torn last line waits). At most `max`.
Result<std::vector<Event>> ReadEvents(const io::ObjectStore& store, uint64_t offset, size_t max = 1000);
// Events recorded on a store without appends (a lake on S3) that no engine has taken yet: the
// inbox (catalog::kEventInboxPrefix), oldest first. Objects that are not one event are left out.
Result<std::vector<Event>> ReadInboxEvents(const io::ObjectStore& store);
// Journals an event (catalog::JournalEvent) and returns its id.
Result<std::string> PublishEvent(io::ObjectStore& store, const std::string& type,
                                 const nlohmann::json& fields, const std::string& id = "");

struct EngineOptions {
  std::string pipeline_key = "pipeline.yaml";
  std::string consumer = "engine";
  Clock* clock = nullptr;             // default: the process clock
  int64_t command_backoff_ms = 1000;  // first retry delay of a command target (doubles)
};

// Why a rule matched or not (rules test).
struct RuleMatch {
  std::string rule;
  bool matched = false;
  std::string why;
};

struct EngineStats {
  uint64_t events = 0;
  uint64_t actions = 0;
  uint64_t skipped_done = 0;   // replayed targets that had already run
  uint64_t failures = 0;
  uint64_t dead_lettered = 0;
};

class Engine {
 public:
  // `catalog` and `topics` must outlive the engine; the store is catalog->store().
  static Result<std::unique_ptr<Engine>> Open(catalog::Catalog* catalog, Topics* topics, EngineOptions options = {});
  ~Engine();

  // Reads pipeline.yaml again. On error the old configuration stays and the error is returned.
  Status Reload();
  const EventsConfig& config() const;

  // Journals a schedule.tick for every schedule that came due since the last call (the first
  // call only starts the clocks; several missed firings of one rule make one tick, for the
  // latest), and evaluates the alarms. Returns the ticks journaled.
  Result<int> Tick();
  // Processes the events past the checkpoint (at most max); returns how many. Events that
  // commands left in the inbox of a store without appends (catalog::kEventInboxPrefix) come
  // first: moved into the journal where this store can append, else processed from there.
  Result<int> ProcessPending(size_t max = 1000);

  // Which rules match `event` and why not (no action is taken).
  std::vector<RuleMatch> Test(const nlohmann::json& event) const;
  EngineStats stats() const;
  // The alarms of pipeline.yaml and their state (evaluated by Tick; a change journals an
  // alarm.state_change and publishes to the alarm's action topics).
  std::vector<std::pair<std::string, AlarmState>> AlarmStates() const;
  // A figure of the server (not an event): a sample, at the clock's now, for the alarms whose
  // event_type is "server.metrics" and whose metric is `metric` (http_5xx, http_requests,
  // request_latency_s, <api>_latency_s such as athena_latency_s).
  void RecordMetric(const std::string& metric, double value);

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace saleslake::events
