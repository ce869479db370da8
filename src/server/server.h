// The saleslake server: one HTTP endpoint over the lake that AWS clients use unchanged.
//
// One dispatcher serves the three AWS wire protocols (REST-XML for S3, JSON 1.1 selected by
// X-Amz-Target, and the form-encoded query protocol selected by Action=); each API is a table of
// operations (name -> decoder, IAM action, handler), so later APIs only add tables. Connections
// are served asynchronously on a few I/O threads (idle keep-alive connections cost no thread);
// handlers run on a bounded worker pool because lake I/O blocks (an object's GET/HEAD over a
// local lake, an open and an fstat, is answered on the I/O thread instead).
// Thread safety: Start/Stop/Wait may be called from any thread; Stop is idempotent.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "io/local_store.h"

namespace saleslake::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 = any free port (see Server::port())
  // The lake the S3 API serves as one bucket: a LocalStore, or any other store (an S3Store for
  // `--lake s3://...`). Not owned; must outlive the server.
  io::ObjectStore* lake = nullptr;
  // The serving machine's own state (logs, staging, spooled results, stream shards; see
  // internal/served_lake.h). nullptr = the lake is a LocalStore and holds it itself (the local
  // layout); required when the lake is not a LocalStore. Not owned; must outlive the server.
  io::LocalStore* state = nullptr;
  std::string bucket = "my-analytics-bucket";
  // TLS: both or neither. Required off loopback unless allow_plain_http.
  std::string tls_cert_file;
  std::string tls_key_file;
  bool allow_plain_http = false;
  // No authentication at all (every request is an anonymous admin). Refused off loopback.
  bool no_auth = false;
  int io_threads = 1;
  int worker_threads = 0;          // 0 = 8 x cores, at least 16 (handlers mostly wait on disk)
  int max_queued_requests = 1024;  // beyond this, 503 SlowDown
  uint64_t max_header_bytes = 16 * 1024;
  // Request bodies are held in memory: larger ones get 400 EntityTooLarge. Clients upload big
  // files in parts (the AWS CLI and SDKs switch to multipart at 8 MB), each under this limit.
  uint64_t max_body_bytes = 64ull << 20;
  int idle_timeout_ms = 60'000;     // keep-alive idle, and the whole header read (slowloris)
  int body_timeout_ms = 60'000;     // between two reads of body bytes
  int shutdown_deadline_ms = 20'000;
  // "now" for the hosted services (expiry, schedules, alarms); nullptr = the process clock
  // (the system clock unless the CLI was given $SALESLAKE_TEST_CLOCK_FILE). Not owned.
  Clock* clock = nullptr;
  // JSON access log, one line per request: "-" = stdout, "" = none, else a file (appended).
  std::string access_log = "-";
  // Test hook: an ETL run the server starts (Glue StartJobRun) pauses this long before its
  // commit (the CLI sets it from $SALESLAKE_TEST_PAUSE_BEFORE_COMMIT_MS), so a test can stop it.
  int test_job_pause_ms = 0;
};

class Server {
 public:
  // Binds, starts the I/O and worker threads and returns. kInvalidArgument for refused option
  // combinations (no_auth or plain HTTP off loopback, half a TLS pair), kIOError when the
  // address cannot be bound.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options);
  virtual ~Server() = default;

  // The bound port (the real one when options.port was 0).
  virtual uint16_t port() const = 0;
  // Graceful stop: stops accepting, lets in-flight requests finish within the deadline, closes
  // idle connections, flushes logs and joins every thread. Idempotent.
  virtual void Stop() = 0;
  // Blocks until Stop() has finished (from another thread or a signal handler thread).
  virtual void Wait() = 0;
  // Re-reads configuration the services keep (SIGHUP): each service reloads what it reads from
  // the lake (pipeline.yaml's rules, topics, alarms); one refused file keeps its old settings.
  virtual void Reload() = 0;
};

}  // namespace saleslake::server
