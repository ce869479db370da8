// Delivery of a stream into a lake table (Firehose's role), exactly once.
//
//   streams:                          # in pipeline.yaml
//     - name: sales-events
//       shards: 4                     # created with this many shards when missing
//       table: sales_data             # the table of the ETL job that loads the delivered records
//       format: json                  # json (objects with the raw table's columns) | csv (lines)
//       buffer_mb: 64                 # a delivery starts at this size... (1..128)
//       buffer_seconds: 60            # ...or this long after the previous one (1..900)
//
// A delivery stages the records acknowledged since the last delivery as one raw CSV object under
// raw_data/streams/<stream>/ (through catalog's RawObjectWriter, like an upload) and then calls
// the loader, which makes it part of the table through the same crawl and ETL job as any upload
// (typing, cleaning, rules, quarantine, PII, one catalog commit whose job bookmark records the
// staged content). Records that are not JSON objects go to quarantine/streams/<stream>/ with
// their shard, sequence number and reason.
//
// Exactly once: before staging, the shard positions the delivery will consume are saved
// (<streams>/<stream>/delivery.json, "pending"); staging is a pure function of that range, so a
// crash anywhere redoes the same range into the same object with the same content, which the
// job's content bookmark loads once (a no-op when the crash came after the job's commit). Only
// after the loader succeeded are the positions marked delivered.
// Thread safety: one Delivery per stream, used from one thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "io/object_store.h"
#include "stream/stream.h"

namespace saleslake::stream {

struct DeliverySpec {
  std::string stream;
  int shards = 4;
  std::string table = "sales_data";
  std::string format = "json";
  uint64_t buffer_mb = 64;
  int buffer_seconds = 60;
};

// The `streams:` section of a pipeline.yaml text (absent = none). kInvalidArgument naming the
// field for bad values.
Result<std::vector<DeliverySpec>> ParseDeliveries(std::string_view yaml_text);

// One record's raw column texts, as delivery stages them for the job (std::nullopt = NULL): a
// JSON object's members named by `columns` (strings as they are, other values as JSON text), or
// a CSV line's fields in `columns` order (RFC 4180 quoting; missing fields are NULL). Returns
// false with the quarantine reason ("not JSON", "not a JSON object") for a record delivery does
// not stage. The one parser of records: delivery stages with it and the live metrics count with
// it. Thread safety: pure.
bool RecordFields(std::string_view format, std::string_view data, const std::vector<std::string>& columns,
                  std::vector<std::optional<std::string>>* fields, std::string* reason);

struct DeliveryResult {
  uint64_t records = 0;      // consumed from the stream
  uint64_t staged = 0;       // written to the raw object
  uint64_t quarantined = 0;  // not JSON objects
  std::string object_key;    // "" when there was nothing to deliver
};

// What the loader did with a staged object (the job run that loaded it).
struct LoadReport {
  std::string run_id;  // the job run's id ("" when none ran)
  std::string status;  // its status (succeeded, warned, no_op)
  uint64_t rows_loaded = 0;
  uint64_t rows_quarantined = 0;
};

class Delivery {
 public:
  // Makes the staged raw object `key` part of the table; must be idempotent for an object whose
  // content it already loaded.
  using Loader = std::function<Result<LoadReport>(const std::string& key)>;

  // `clock` = nullptr: ProcessClock().
  Delivery(StreamStore* streams, std::string streams_root, io::ObjectStore* lake, DeliverySpec spec,
           std::vector<std::string> columns, Loader loader, Clock* clock = nullptr);

  // Finishes a pending delivery, or delivers what arrived since the last one (up to buffer_mb).
  // A delivery that consumed records leaves, before its range is marked delivered (so a redo
  // after a crash writes the same ones again, never a second pair):
  //   - a `stream.delivered` event in the lake's journal (catalog::JournalEvent) with the id
  //     "stream.delivered:<stream>:<created ms>:<range>" and the fields stream, table, run_id,
  //     object_key ("" when nothing was staged), records, staged, quarantined, from, to (per
  //     shard positions), job_run_id, job_status;
  //   - a run-history entry like a job's, _system/runs/stream:<stream>/<run_id>.json (`saleslake
  //     runs` lists it): job "stream:<stream>", status succeeded, started_at, duration_s,
  //     rows_read (records), rows_loaded (staged), rows_quarantined, and the fields above.
  //     run_id = the UTC time the delivery was planned (yyyymmddThhmmssZ) + "-" + its range.
  Result<DeliveryResult> RunOnce();
  // Records acknowledged and not yet delivered.
  uint64_t backlog_records() const;
  // Log bytes acknowledged and not yet delivered (frames: data, partition key and 28 bytes of
  // framing per record), from the log's index without reading it.
  uint64_t BacklogBytes() const;
  // Whether a delivery is due: buffer_seconds have passed since `last_ms` (epoch ms, by the
  // clock) or the backlog reached buffer_mb (Firehose's "whichever comes first").
  bool Due(int64_t last_ms) const;

 private:
  Result<std::vector<uint64_t>> Committed() const;

  StreamStore* streams_;
  std::string state_path_;
  io::ObjectStore* lake_;
  DeliverySpec spec_;
  std::vector<std::string> columns_;
  Loader loader_;
  Clock* clock_;
};

}  // namespace saleslake::stream
