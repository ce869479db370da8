// One shard's durable log: append-only segment files under the shard's directory, named by the
// ordinal of their first record (%020llu.log). Each record is framed as
//   u32 body length | u32 CRC32C(body) | body = u64 ordinal | i64 arrival ms | u32 key length |
//   partition key | data
// (little-endian). A record is acknowledged only after its bytes are fsynced. Concurrent
// appenders share fsyncs (group commit): the first waiter becomes the leader, writes everything
// queued so far in one write and one fdatasync, and wakes the others; ordinals are assigned by the
// leader, so a failed write (full disk) leaves no hole and acknowledges nothing it did not write.
// AppendMany queues one caller's records on several logs before it waits for any, so a request
// that spans a stream's shards waits for their fsyncs side by side, not one after the other.
// Open scans every segment: a torn or corrupt tail of the last segment (a crash mid-write) is
// truncated; damage before the tail of an older segment is kCorruption.
// Thread safety: every method may be called from many threads at once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace saleslake::stream::internal {

struct LogEntry {
  std::string partition_key;
  std::string data;
  int64_t arrival_ms = 0;
};

// A record by reference: the caller keeps the bytes until the append returns (the put path
// copies each record once, into the write buffer).
struct LogEntryRef {
  std::string_view partition_key;
  std::string_view data;
  int64_t arrival_ms = 0;
};

struct LogRecord {
  uint64_t ordinal = 0;
  int64_t arrival_ms = 0;
  std::string partition_key;
  std::string data;
};

class ShardLog {
 public:
  // Opens (creating the directory when missing) and recovers the log in `dir`.
  static Result<std::unique_ptr<ShardLog>> Open(const std::string& dir, uint64_t segment_bytes);
  ~ShardLog();
  ShardLog(const ShardLog&) = delete;
  ShardLog& operator=(const ShardLog&) = delete;

  // Appends `entries` in order and returns the ordinal of the first once all are durable.
  // kIOError (nothing of this call acknowledged) when the write or fsync failed.
  Result<uint64_t> Append(const std::vector<LogEntry>& entries);
  Result<uint64_t> Append(std::span<const LogEntryRef> entries);
  // entries[i] appended to *logs[i] (distinct logs), all queued before any is waited for;
  // result i is Append's for log i.
  static std::vector<Result<uint64_t>> AppendMany(std::span<ShardLog* const> logs,
                                                  std::span<const std::span<const LogEntryRef>> entries);

  // Up to `max_records` records (and about `max_bytes` of data; at least one) from `from`
  // (clamped to the first retained record). Only durable records are ever returned.
  Result<std::vector<LogRecord>> Read(uint64_t from, size_t max_records, size_t max_bytes) const;
  // Read without copies: `visit` sees each record's fields as views valid during the call.
  using Visitor = std::function<void(uint64_t ordinal, int64_t arrival_ms, std::string_view partition_key,
                                     std::string_view data)>;
  Status Visit(uint64_t from, size_t max_records, size_t max_bytes, const Visitor& visit) const;

  uint64_t first_ordinal() const;  // the oldest retained record
  uint64_t end_ordinal() const;    // one past the newest durable record
  // The first ordinal whose arrival is >= ms (end_ordinal() when none).
  uint64_t FindByTime(int64_t ms) const;
  // Log bytes (frames) of the durable records from `ordinal` on: what a reader from there has
  // left to read, without reading it.
  uint64_t BytesFrom(uint64_t ordinal) const;
  // Arrival time of a durable record (0 when out of range).
  int64_t ArrivalOf(uint64_t ordinal) const;
  // Deletes whole segments whose newest record arrived before `cutoff_ms` (never the active one).
  Status TrimBefore(int64_t cutoff_ms);

 private:
  struct Segment;
  struct Batch;
  explicit ShardLog(std::string dir, uint64_t segment_bytes);
  Status Recover();
  void Submit(Batch* batch);
  Result<uint64_t> Await(Batch* batch);
  Status FlushLocked(std::unique_lock<std::mutex>& lock);
  const Segment* SegmentOfLocked(uint64_t ordinal) const;

  const std::string dir_;
  const uint64_t segment_bytes_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Segment>> segments_;  // oldest first; the last one is active
  uint64_t end_ = 0;     // next ordinal to assign
  bool flushing_ = false;
  std::deque<Batch*> queue_;
  std::string write_buf_;  // the leader's (reused: a fresh 100 KB buffer per flush page-faults)
};

}  // namespace saleslake::stream::internal
