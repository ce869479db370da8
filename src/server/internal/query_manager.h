// The one query manager behind Athena, the Trino protocol and the web console: SQL submitted
// for a principal becomes a query id; queries wait in a bounded queue, run on a fixed number of
// runners (a concurrency limit overall and per workgroup) through the same sql::Engine the CLI
// uses, and keep their rows for paging until they are released (idle timeout, history bound).
// Large results are spooled to disk past QueryManagerOptions::spool_after_bytes.
//
//   auto qm = QueryManager::Create(engine, {.max_running = 2});
//   auto id = (*qm)->Submit({.sql = "SELECT 1", .user = principal.arn, .source = "athena"});
//   auto info = (*qm)->Wait(*id, std::chrono::seconds(1));   // or poll Get(*id)
//   auto page = (*qm)->Fetch(*id, /*offset=*/0, /*max_rows=*/1000);
//
// States: QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED (a queued query may go straight to
// CANCELLED; Cancel of a finished query changes nothing).
// Time ("submitted", "finished", idle expiry) comes from the injected Clock; Wait() is a real
// long-poll bounded by its argument (it never decides an outcome).
// Thread safety: every method may be called from any thread at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/types.h"

namespace saleslake::sql {
class Engine;
}

namespace saleslake::server::internal {

enum class QueryState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
// "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED" (Athena's names).
const char* QueryStateName(QueryState state);
inline bool IsFinal(QueryState s) {
  return s == QueryState::kSucceeded || s == QueryState::kFailed || s == QueryState::kCancelled;
}

struct QueryManagerOptions {
  int max_running = 2;  // runners: queries executing at once over all workgroups
  // Per-workgroup limits (absent: max_running). A queued query of a full workgroup waits while
  // others run.
  std::map<std::string, int> workgroup_max_running;
  size_t max_queued = 256;  // Submit past this fails with kResourceExhausted
  // Finished queries kept in the history (oldest dropped first, with their rows).
  size_t max_history = 1000;
  // Rows of a finished query are released when nobody fetched them for this long; its history
  // entry stays (Fetch then fails with kNotFound "results expired").
  std::chrono::milliseconds result_idle_timeout{std::chrono::minutes(15)};
  // Result bytes (the rows' JSON text, in memory and spooled to disk) a query may hold; past it
  // the query fails with kResourceExhausted.
  uint64_t max_result_bytes = 8ull << 30;
  // A result's first rows stay in memory up to this many bytes of JSON text; the rows after
  // them are appended to a spool file (result_spool.h) and paged back from disk, so a result of
  // millions of rows does not grow the server's memory.
  uint64_t spool_after_bytes = 8ull << 20;
  // Where spool files are made (they are unlinked at once). Empty: the system's temp directory.
  std::string spool_dir;
  // How long a query may run (from the start of its execution) when its request names no limit:
  // Athena's default for DML queries. Past it the query FAILS with "Query exceeded the time
  // limit of ..." (Trino: EXCEEDED_TIME_LIMIT). 0 = no limit. Measured on the steady clock by
  // the engine, not on `clock`.
  std::chrono::milliseconds default_time_limit{std::chrono::minutes(30)};
  Clock* clock = nullptr;  // nullptr: the system clock
};

struct QueryRequest {
  std::string sql;
  std::string user;                   // principal ARN (or "anonymous")
  std::string workgroup = "primary";
  std::string source;                 // "athena", "trino", "console": for the history
  std::string catalog = "lake";
  std::string database = "sales";
  // Result columns with these names (case-insensitive) come back as NULL: columns the caller
  // may not read (PII without saleslake:ReadPii). So that an alias or an expression cannot carry
  // them out under another name, a statement that names such a column more often than its
  // result has columns of that name fails with kPermissionDenied.
  std::vector<std::string> redact_columns;
  // Free-form tags the caller wants back in QueryInfo (Athena's ResultConfiguration, ...).
  std::map<std::string, std::string> tags;
  // Athena's BytesScannedCutoffPerQuery: past this many lake bytes read the query is CANCELLED
  // with "Query cancelled! : Bytes scanned limit was exceeded" (0 = no limit).
  uint64_t max_bytes_scanned = 0;
  // The query's time limit (a workgroup's query_time_limit_seconds, Trino's session property
  // query_max_execution_time); 0 = QueryManagerOptions::default_time_limit.
  std::chrono::milliseconds time_limit{0};
  // Athena's ResultReuseByAgeConfiguration (nullopt: always run). The query is answered with
  // the rows of an earlier one, without running, when that one SUCCEEDED at most this long ago
  // (by the clock) with the same SQL text, catalog, database, workgroup, user and
  // redact_columns (so a caller never sees rows computed under another's column access), and
  // read the same table snapshots, schemas and view texts (sql::QueryResult::reuse_key: a
  // commit, an INSERT or a redefined view makes it run again). Statements other than queries,
  // and queries of system tables, always run. The rows are shared, not copied.
  std::optional<std::chrono::milliseconds> reuse_max_age;
  // Hand the query to the succeeded listener when it SUCCEEDS (Athena's, which writes its result
  // file); until the listener returns, the query is listener_pending and Wait holds out. Other
  // queries are never announced, so they never wait behind a listener.
  bool announce = false;
};

struct QueryInfo {
  std::string id;
  QueryRequest request;
  QueryState state = QueryState::kQueued;
  // FAILED / CANCELLED: the engine's code and message ("line 1:8: Column 'x' cannot be resolved").
  StatusCode error_code = StatusCode::kOk;
  std::string error;
  TimePoint submitted{};
  std::optional<TimePoint> started;   // when it left the queue
  std::optional<TimePoint> finished;
  Schema schema;                      // result columns, once known (RUNNING on)
  std::string message;                // statements without rows: what happened ("CREATE VIEW")
  bool has_rows = true;
  uint64_t rows = 0;                  // rows produced so far
  uint64_t result_bytes = 0;          // JSON text bytes of the rows held (memory and spool)
  uint64_t spooled_rows = 0;          // of `rows`, those paged from the spool file
  // Lake bytes the statement's scans read (sql::QueryResult::bytes_read), set when it ends.
  uint64_t bytes_scanned = 0;
  bool results_released = false;      // rows dropped (idle timeout / history bound)
  // The id of the query whose rows answered this one (QueryRequest::reuse_max_age); "" when it
  // ran. A reused query read nothing (bytes_scanned 0).
  std::string reused_from;
  // SUCCEEDED with QueryRequest::announce, and the succeeded listener has not yet returned for it
  // (Athena's result file is being written; Athena reports the query RUNNING until then).
  bool listener_pending = false;
};

// One page of rows, each cell as Trino prints it (sql::CellText), nullopt for NULL.
struct ResultPage {
  Schema schema;
  std::vector<std::vector<std::optional<std::string>>> rows;
  uint64_t offset = 0;     // index of rows[0] in the whole result
  bool complete = false;   // no rows after these (and the query has finished)
};

class QueryManager {
 public:
  // `engine` must outlive the manager. kInvalidArgument for max_running < 1.
  static Result<std::unique_ptr<QueryManager>> Create(const sql::Engine* engine,
                                                      QueryManagerOptions options);
  // Cancels what runs, drops the queue and joins the runners.
  ~QueryManager();
  QueryManager(const QueryManager&) = delete;
  QueryManager& operator=(const QueryManager&) = delete;

  // Queues the statement; returns its id (a UUID, as Athena's). kResourceExhausted when the
  // queue is full, kInvalidArgument for empty SQL.
  Result<std::string> Submit(QueryRequest request);
  // kNotFound for an unknown (or forgotten) id.
  Result<QueryInfo> Get(const std::string& id) const;
  // Waits until the query is final or `max_wait` passed, then returns Get(id).
  Result<QueryInfo> Wait(const std::string& id, std::chrono::milliseconds max_wait) const;
  // Stops a queued or running query (CANCELLED). kNotFound for an unknown id; a finished query
  // stays as it is (OK).
  Status Cancel(const std::string& id);
  // Rows [offset, offset + max_rows) of a query. While it runs, the rows produced so far (may be
  // none). kNotFound for an unknown id or released results; kInvalidArgument for a FAILED or
  // CANCELLED query (its error in the message). An offset past the end of a finished query
  // returns an empty, complete page.
  Result<ResultPage> Fetch(const std::string& id, uint64_t offset, size_t max_rows);
  // The same rows as their Trino JSON text (trino_json.h: one line per row, its '\n' written as
  // `row_end`), appended to `out`: at most `max_rows` rows and `max_bytes` of text (the first
  // row whole even if longer). For result pages of millions of rows: nothing is decoded or
  // copied per cell. `schema`, when given, gets the result's.
  struct RowsRead {
    uint64_t rows = 0;      // rows appended to `out`
    bool complete = false;  // they were the last ones (and the query has finished)
  };
  Result<RowsRead> ReadRows(const std::string& id, uint64_t offset, size_t max_rows, size_t max_bytes,
                            std::string* out, char row_end = '\n', Schema* schema = nullptr);
  // Lets go of a query's rows now (a Trino client's DELETE after the last page).
  void Release(const std::string& id);
  // Called after each query that SUCCEEDED with QueryRequest::announce, with its final info, on the manager's notifier
  // thread: one call at a time, in the order the queries ended, and never on a runner, so a slow
  // listener (Athena writes its result file, with fsyncs) holds back no query. It may Fetch the
  // rows. Replaces the previous listener (empty = none, and the queries not yet announced are
  // dropped); returns once a call of the previous one in progress has returned.
  void SetSucceededListener(std::function<void(const QueryInfo&)> listener);
  // Replaces the per-workgroup limits (QueryManagerOptions::workgroup_max_running), e.g. when
  // pipeline.yaml's workgroups are reloaded. Running queries go on; a raised limit lets queued
  // ones start at once, a lowered one holds back the next.
  void SetWorkgroupLimits(std::map<std::string, int> workgroup_max_running);
  // The history, newest first: queued, running and finished queries (`workgroup` "" = all).
  std::vector<QueryInfo> List(const std::string& workgroup = "", size_t limit = SIZE_MAX) const;

 private:
  struct Impl;
  explicit QueryManager(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace saleslake::server::internal
