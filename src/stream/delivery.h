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
#include <string>
#include <string_view>
#include <vector>

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

struct DeliveryResult {
  uint64_t records = 0;      // consumed from the stream
  uint64_t staged = 0;       // written to the raw object
  uint64_t quarantined = 0;  // not JSON objects
  std::string object_key;    // "" when there was nothing to deliver
};

class Delivery {
 public:
  // Makes the staged raw object `key` part of the table; must be idempotent for an object whose
  // content it already loaded.
  using Loader = std::function<Status(const std::string& key)>;

  Delivery(StreamStore* streams, std::string streams_root, io::ObjectStore* lake, DeliverySpec spec,
           std::vector<std::string> columns, Loader loader);

  // Finishes a pending delivery, or delivers what arrived since the last one (up to buffer_mb).
  Result<DeliveryResult> RunOnce();
  // Bytes acknowledged and not yet delivered, roughly (for the buffer_mb trigger).
  uint64_t backlog_records() const;

 private:
  StreamStore* streams_;
  std::string state_path_;
  io::ObjectStore* lake_;
  DeliverySpec spec_;
  std::vector<std::string> columns_;
  Loader loader_;
};

}  // namespace saleslake::stream
