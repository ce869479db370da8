// The console's operations pages (streams, events): read-only views over what the server
// already keeps, shaped for the page. console.cc authorizes and routes; these only read.
//   StreamsJson: system.streams (the Kinesis service's: streams, shards, acknowledged records,
//     delivery backlog) through SQL, so the page and SQL users see the same figures.
//   EventsJson: the rules, alarms and topics of pipeline.yaml, the tail of the event journal
//     (_system/events.jsonl), each rule's command runs (_system/events/runs/), the dead letters
//     (_system/dlq/) and the SNS topics and subscriptions (_system/sns/state.json, without the
//     confirmation tokens, which are secrets).
// Shapes: docs/console.md. Thread safety: pure functions of their inputs.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "io/object_store.h"
#include "sql/sql.h"

namespace saleslake::server::internal {

// {"streams": [{name, status, mode, retention_hours, created, records, delivery_table,
//   backlog_records, backlog_bytes, shards: [{shard_id, records}]}]}, by name. kNotFound when
// the server hosts no streams (no system.streams).
Result<nlohmann::json> StreamsJson(const sql::Engine& engine);

// The last `max_lines` complete lines of a JSON-lines object (oldest first), parsed; lines that
// are not JSON are skipped. `total` (optional) gets the object's line count. An absent object
// is empty.
Result<nlohmann::json> TailJsonLines(const io::ObjectStore& lake, const std::string& key, size_t max_lines,
                                     size_t* total = nullptr);

// What the events page shows; `recent` bounds the events, runs and dead letters listed (newest
// first). `topics` adds topics and subscriptions, `rules` the rules, alarms, events, runs and
// dead letters of rules (SNS dead letters come with the topics).
Result<nlohmann::json> EventsJson(const io::ObjectStore& lake, size_t recent, bool rules, bool topics);

}  // namespace saleslake::server::internal
