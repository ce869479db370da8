// Streams: the Kinesis Data Streams model on a durable sharded log (`saleslake serve` hosts the
// Kinesis API over it; the CLI's `saleslake stream` uses it directly).
//
// A stream is a fixed set of shards, each splitting the 128-bit hash-key space evenly as Kinesis
// does; a record goes to the shard whose range holds MD5(partition key) (or its ExplicitHashKey).
// Each shard is an append-only segmented log under <root>/<stream>/shard-<k>/ whose records are
// acknowledged only once fsynced (concurrent puts share fsyncs); the stream's shape, retention
// and tags live in <root>/<stream>/stream.json. Sequence numbers are increasing decimal strings
// per shard. Shard iterators are opaque, HMAC-signed with a key kept in <root>/.iterator.key, and
// expire five minutes after they were issued (by the injected clock).
//
// Errors are Status codes; KinesisErrorOf names the Kinesis error type each one is reported as.
// Thread safety: a StreamStore may be used from many threads at once. One process per root.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace saleslake::stream {

inline constexpr size_t kMaxRecordBytes = 1 << 20;        // data + partition key
inline constexpr size_t kMaxPutRecordsCount = 500;
inline constexpr size_t kMaxPutRecordsBytes = 5 << 20;
inline constexpr int kMaxGetRecordsLimit = 10000;
inline constexpr int64_t kIteratorLifetimeMs = 5 * 60 * 1000;
inline constexpr int kMinRetentionHours = 24;
inline constexpr int kMaxRetentionHours = 8760;
inline constexpr int kOnDemandShards = 4;

// The Kinesis error type a Status from this module is reported as:
//   kNotFound -> ResourceNotFoundException, kAlreadyExists -> ResourceInUseException,
//   kInvalidArgument -> InvalidArgumentException, kCancelled (an iterator's time ran out) ->
//   ExpiredIteratorException, kResourceExhausted -> ProvisionedThroughputExceededException,
//   kAborted (too many streams or shards) -> LimitExceededException, anything else ->
//   InternalFailure (kIOError: a put that failed to reach the disk was not acknowledged).
std::string KinesisErrorOf(const Status& status);

struct StoreOptions {
  std::string root;                 // the directory holding one folder per stream
  Clock* clock = nullptr;           // nullptr = ProcessClock()
  uint64_t segment_bytes = 64ull << 20;
  int max_shards = 200;             // over all streams (Kinesis's default account limit)
  // Records a shard accepts per second (Kinesis: 1,000); 0 = unlimited. Over it, records get
  // ProvisionedThroughputExceededException.
  int shard_records_per_second = 0;
};

struct ShardInfo {
  std::string shard_id;  // shardId-000000000000
  std::string starting_hash_key, ending_hash_key;  // decimal
  std::string starting_sequence_number;
};

struct StreamInfo {
  std::string name;
  std::string status = "ACTIVE";
  bool on_demand = false;
  int retention_hours = kMinRetentionHours;
  int64_t created_ms = 0;
  std::vector<ShardInfo> shards;
  std::map<std::string, std::string> tags;
};

struct PutEntry {
  std::string partition_key;
  std::string explicit_hash_key;  // "" = MD5 of the partition key
  std::string data;
};

// A record by reference, for callers that keep the bytes until the put returns (the server's
// PutRecords path): they are copied once, into the log's write buffer.
struct PutEntryRef {
  std::string_view partition_key;
  std::string_view explicit_hash_key;  // "" = MD5 of the partition key
  std::string_view data;
};

// Where a record of PutRefs went (ShardIdOf and AppendSequenceNumber name it), or why it did not.
struct PutPlacement {
  Status status;
  int shard = 0;
  uint64_t ordinal = 0;
};

struct PutResult {
  Status status;  // per record (PutRecords never fails as a whole for one bad record)
  std::string shard_id;
  std::string sequence_number;
};

enum class IteratorType { kTrimHorizon, kLatest, kAtSequenceNumber, kAfterSequenceNumber, kAtTimestamp };
// "TRIM_HORIZON" ... ; nullopt for anything else.
std::optional<IteratorType> ParseIteratorType(const std::string& text);

struct StreamRecord {
  std::string sequence_number;
  std::string partition_key;
  std::string data;
  int64_t arrival_ms = 0;
  uint64_t position = 0;  // see ReadShard
};

struct GetRecordsResult {
  std::vector<StreamRecord> records;
  std::string next_iterator;
  int64_t millis_behind_latest = 0;
};

class StreamStore {
 public:
  // Opens `options.root` (creating it) and every stream in it, recovering their logs. kAborted
  // while another process has the same root open (the store holds an exclusive lock on it).
  static Result<std::unique_ptr<StreamStore>> Open(const StoreOptions& options);
  virtual ~StreamStore() = default;

  virtual Status CreateStream(const std::string& name, int shard_count, bool on_demand) = 0;
  virtual Status DeleteStream(const std::string& name) = 0;
  virtual std::vector<std::string> ListStreams() const = 0;
  virtual Result<StreamInfo> Describe(const std::string& name) const = 0;

  // One record: an error status when it was not stored.
  virtual Result<PutResult> Put(const std::string& name, const PutEntry& entry) = 0;
  // Many records; a stream-level problem fails the call, record-level ones are per result.
  virtual Result<std::vector<PutResult>> PutBatch(const std::string& name,
                                                  const std::vector<PutEntry>& entries) = 0;
  // PutBatch without copies: the records' shards are written side by side (their fsyncs overlap).
  virtual Result<std::vector<PutPlacement>> PutRefs(const std::string& name,
                                                    std::span<const PutEntryRef> entries) = 0;

  // `sequence_number` for AT_/AFTER_SEQUENCE_NUMBER, `timestamp_ms` for AT_TIMESTAMP.
  virtual Result<std::string> GetShardIterator(const std::string& name, const std::string& shard_id,
                                               IteratorType type, const std::string& sequence_number,
                                               int64_t timestamp_ms) = 0;
  virtual Result<GetRecordsResult> GetRecords(const std::string& iterator, int limit) = 0;
  // The stream a genuine iterator reads ("" when it is not one): what IAM authorizes GetRecords on.
  virtual std::string IteratorStream(const std::string& iterator) const = 0;

  // Positions (records since the shard's first, retained or not) for readers that keep their
  // own offsets, like delivery into the lake: up to `max_records` from `position` of one shard.
  virtual Result<std::vector<StreamRecord>> ReadShard(const std::string& name, int shard, uint64_t position,
                                                      size_t max_records) const = 0;
  // ReadShard without copies, for readers of every record (the live metrics): `visit` sees each
  // record's position, arrival time and data, the view valid during the call.
  using RecordVisitor = std::function<void(uint64_t position, int64_t arrival_ms, std::string_view data)>;
  virtual Status VisitShard(const std::string& name, int shard, uint64_t position, size_t max_records,
                            const RecordVisitor& visit) const = 0;
  // One past the newest acknowledged record of each shard.
  virtual Result<std::vector<uint64_t>> EndPositions(const std::string& name) const = 0;
  // Log bytes of the records from `positions` (one per shard) to the end: a reader's backlog.
  virtual Result<uint64_t> BytesFrom(const std::string& name, const std::vector<uint64_t>& positions) const = 0;
  // Per shard, the first retained record that arrived at or after `timestamp_ms` (the end
  // position when none did): where a reader of "the last 24 hours" starts.
  virtual Result<std::vector<uint64_t>> PositionsAt(const std::string& name, int64_t timestamp_ms) const = 0;

  // Increase: hours must be >= the current period; decrease: <= it. Both within 24..8760.
  virtual Status SetRetention(const std::string& name, int hours, bool increase) = 0;
  virtual Status AddTags(const std::string& name, const std::map<std::string, std::string>& tags) = 0;
  virtual Status RemoveTags(const std::string& name, const std::vector<std::string>& keys) = 0;
  // Deletes segments past every stream's retention; returns how many streams were trimmed.
  virtual Status EnforceRetention() = 0;
};

// "shardId-000000000003" for 3.
std::string ShardIdOf(int shard);
// Appends the sequence number of a shard's record `ordinal` (as PutResult and GetRecords give it).
void AppendSequenceNumber(std::string* out, uint64_t ordinal);

}  // namespace saleslake::stream
