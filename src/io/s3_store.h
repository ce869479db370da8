// S3Store: an ObjectStore in an S3 bucket under a prefix ("s3://bucket/lake"), for AWS S3 and
// S3-compatible servers (MinIO, Ceph, R2, `saleslake serve`).
//
// Requests are signed with SigV4 and sent over pooled libcurl connections. Reads are ranged GETs
// pinned to the ETag seen when the object was opened (an object replaced meanwhile is a clear
// error, never a mix of two versions). Writes up to `multipart_threshold` are one PUT; larger
// OutputStreams upload parts as they go, `parts_in_flight` at once (memory bounded by that many
// parts plus one), and complete on Commit or abort when destroyed uncommitted. 5xx, 503 SlowDown, 429 and transport failures are retried
// with jittered backoff; every request is idempotent or made so (see PutIfAbsent).
//
// Atomic commits: PutIfAbsent is a PUT with `If-None-Match: *`, which S3 (since 2024), MinIO and
// `saleslake serve` honour with 412 when the key exists: exactly one of two racing writers wins,
// as with LocalStore's hard link. A server that ignores the header would silently let both win,
// so the first PutIfAbsent of a store probes for it once (create a probe key twice); on a server
// without conditional writes PutIfAbsent refuses with kNotImplemented, unless the options say
// the lake has a single writer (then it is check-then-put, and says so once on stderr).
// Read-ahead: a file's WillRead hint (the column chunks a scan will read next) fetches the hinted
// ranges on the store's fetch threads, nearby ranges coalesced into one GET, in bounded memory;
// a ReadAt inside a block waits for it (or fetches it itself when no thread has started it).
// Thread safety: safe for concurrent use from many threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "io/object_store.h"

namespace saleslake::io {

struct S3Options {
  std::string bucket;
  std::string prefix;    // keys live under "<prefix>/" ("" = the bucket's root)
  std::string endpoint;  // "" = AWS (https://s3.<region>.amazonaws.com); else http(s)://host:port
  std::string region = "us-east-1";
  bool path_style = false;  // /bucket/key instead of bucket.host/key
  std::string access_key_id, secret_access_key, session_token;

  uint64_t multipart_threshold = 16ull << 20;  // OutputStreams larger than this go multipart
  uint64_t part_size = 8ull << 20;             // >= 5 MiB for AWS (every part but the last)
  int parts_in_flight = 4;                     // parts uploaded at once (memory: this + 1 parts)
  // Read-ahead (RandomAccessFile::WillRead): hinted ranges within `coalesce_gap` bytes of each
  // other become one ranged GET (the gap's bytes are fetched and dropped), up to
  // `max_ahead_block` per GET; `ahead_fetches` GETs run at once, and the blocks fetched ahead and
  // not yet read hold at most `ahead_bytes` per store (hints beyond it are dropped: those chunks
  // are fetched when read).
  uint64_t coalesce_gap = 16ull << 10;
  uint64_t max_ahead_block = 8ull << 20;
  uint64_t ahead_bytes = 64ull << 20;
  int ahead_fetches = 8;
  int max_attempts = 6;                        // per request, the first one included
  int64_t backoff_base_ms = 100;
  int64_t backoff_max_ms = 5000;
  int64_t connect_timeout_ms = 10'000;
  int64_t stall_timeout_ms = 60'000;  // a transfer below 1 KB/s this long fails (and is retried)
  // PutIfAbsent on a server without conditional writes: refuse (false) or check-then-put (true;
  // only safe when one process writes the lake at a time).
  bool assume_single_writer = false;
  // ... or check-then-put under an exclusive flock(2) of this file, which every writer of the
  // lake must name: processes on one machine, or machines sharing a filesystem whose locks work
  // across them ($SALESLAKE_S3_LOCK_FILE). Taken only on such servers, only around the check and
  // the PUT of each PutIfAbsent (the commits and the locks made with it).
  std::string commit_lock_file;
  // One line on stderr per request attempt: start (ms since the process started), duration,
  // method, key, range, status and bytes. OpenUri sets it from $SALESLAKE_S3_TRACE=1.
  bool trace = false;

  // Injected for tests: waiting between retries, the jitter's randomness, and the signing time
  // (seconds since the epoch). Defaults: a real sleep, a random device, the system clock.
  std::function<void(int64_t ms)> sleep_ms;
  std::function<uint64_t()> random;
  std::function<int64_t()> now_s;
};

// "s3://bucket/some/prefix" -> bucket and prefix (without slashes at either end).
// kInvalidArgument for anything else.
Status ParseS3Uri(std::string_view uri, std::string* bucket, std::string* prefix);
// True when `lake` names an S3 location ("s3://...").
bool IsS3Uri(std::string_view lake);

class S3Store final : public ObjectStore {
 public:
  static Result<std::unique_ptr<S3Store>> Open(S3Options options);
  // Opens "s3://bucket/prefix" with credentials, region and endpoint from the standard AWS
  // chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE with
  // ~/.aws/credentials and ~/.aws/config, AWS_REGION, AWS_ENDPOINT_URL(_S3)); path-style
  // addressing for custom endpoints. `assume_single_writer` and `commit_lock_file` as in
  // S3Options (the CLI sets them from $SALESLAKE_S3_SINGLE_WRITER=1 and $SALESLAKE_S3_LOCK_FILE).
  static Result<std::unique_ptr<S3Store>> OpenUri(std::string_view uri, bool assume_single_writer = false,
                                                  std::string commit_lock_file = "");
  ~S3Store() override;

  Status Put(std::string_view key, std::string_view data) override;
  Status PutIfAbsent(std::string_view key, std::string_view data) override;
  Result<std::unique_ptr<OutputStream>> OpenWrite(std::string_view key) override;
  Result<std::string> Get(std::string_view key) const override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) const override;
  Result<std::unique_ptr<RandomAccessFile>> OpenRead(std::string_view key) const override;
  // One suffix-range GET of `tail_bytes` (capped at 1 MiB; 0 = the store's guess, which grows
  // to the longest footer seen). A read past it fetches only the missing bytes.
  Result<std::unique_ptr<RandomAccessFile>> OpenReadTail(std::string_view key, uint64_t tail_bytes) const override;
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) const override;
  Status Delete(std::string_view key) override;
  Result<bool> Exists(std::string_view key) const override;
  Result<ObjectInfo> Stat(std::string_view key) const override;
  std::string uri() const override;

  // Deletes many keys with DeleteObjects, 1000 per request; absent keys are not an error.
  Status DeleteMany(const std::vector<std::string>& keys);

  struct Impl;

 private:
  explicit S3Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace saleslake::io
