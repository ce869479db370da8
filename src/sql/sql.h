// The SQL engine facade: parse -> bind -> optimize -> execute, for the Trino/Athena dialect.
// This is the only header other modules (cli, etl, forecast, server) include from src/sql,
// besides expression.h (the ETL's column mappings) and result_format.h (printing results).
// Plans, operators and the engine's table interface stay inside src/sql.
//
//   auto engine = sql::Engine::OpenLake(store, catalog, {});
//   auto result = (*engine)->Query("SELECT region, sum(amount) FROM sales_data GROUP BY 1");
//   Batch batch;
//   while (true) {
//     SL_ASSIGN_OR_RETURN(bool more, (*result)->Next(&batch));
//     if (!more) break;
//     ...  // (*result)->schema() names and types the columns
//   }
//
// Thread safety: an Engine may run many statements concurrently as long as its catalog allows
// concurrent reads; DDL statements (CREATE VIEW, DROP ...) go through the CatalogWriter, which
// must synchronise itself.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/batch.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "common/types.h"
#include "common/value.h"
#include "sql/exec/exec_types.h"

namespace saleslake::io {
class ObjectStore;
}
namespace saleslake::catalog {
class Catalog;
}

namespace saleslake::sql {

class Catalog;        // the engine's view of tables and views (inside src/sql)
class CatalogWriter;  // where DDL goes (inside src/sql)

// System tables: read-only tables whose rows a module above sql makes when a statement reads
// them — the server's query history (`system.queries`), stream metrics, ... The engine knows only
// this registry; what fills a table lives in the module that owns the data, so sql does not
// depend upward. A second table is one Register call. Tables live in the schemas `system`
// (`system.runtime` too) and `information_schema`, as in Trino.
//
//   auto tables = std::make_shared<sql::SystemTables>();
//   EngineOptions options;
//   options.system_tables = tables;                         // or Engine::OpenLake(store, cat, options)
//   tables->Register("system.queries", schema, [&]() -> Result<sql::SystemTableRows> { return rows; });
//   engine->Execute("SELECT state, count(*) FROM system.queries GROUP BY 1");
//
// Names: a table registered as "system.queries" is read as `system.queries` or, with the catalog
// in front as Trino clients write it, `lake.system.queries`; likewise "system.runtime.nodes" and
// "information_schema.tables". A statement sees the rows its producer returned when the
// statement was planned.
// Thread safety: every method may be called from any thread at once, also while statements run;
// producers are called on the threads that plan statements and must synchronise themselves.

// Rows of a system table: one Value per column of its schema, of that column's type, or NULL.
using SystemTableRows = std::vector<std::vector<Value>>;
using SystemTableProducer = std::function<Result<SystemTableRows>()>;

class SystemTables {
 public:
  // Adds the table `name` ("system.<...>" or "information_schema.<...>", any case). kAlreadyExists
  // when taken, kInvalidArgument for another schema or an empty schema.
  Status Register(const std::string& name, Schema schema, SystemTableProducer rows);
  // Removes it (a service that stops); unknown names are ignored.
  void Unregister(const std::string& name);
  // Every table's name, sorted.
  std::vector<std::string> Names() const;

  struct Entry {
    std::string name;  // as registered, lower case
    Schema schema;
    SystemTableProducer rows;
  };
  // Whether a name is in one of the system schemas (registered or not).
  static bool IsSystemName(const std::string& qualified_name);
  // The table a statement names ("system.queries", "lake.system.queries"; any case), or nullopt
  // when the name is not a registered system table.
  std::optional<Entry> Find(const std::string& qualified_name) const;

 private:
  mutable Mutex mu_;
  std::map<std::string, Entry> tables_ SL_GUARDED_BY(mu_);
};

struct EngineOptions {
  std::shared_ptr<const Catalog> catalog;  // required
  std::shared_ptr<CatalogWriter> writer;   // optional (DDL)
  // Optional: tables read as `system.<name>` (SystemTables above); may gain tables while the
  // engine runs.
  std::shared_ptr<const SystemTables> system_tables;
  ExecOptions exec;
  bool optimize = true;
  // Answer aggregations from fresh materialized views (lake engines only; EXPLAIN says which).
  bool use_materialized_views = true;
  // ...and from views whose base moved on at most this long ago (0 = only fresh views).
  int64_t materialized_view_max_staleness_ms = 0;
};

struct StatementResult {
  MaterializedResult result;  // rows (SELECT, EXPLAIN, SHOW, DESCRIBE)
  bool has_rows = true;       // false for DDL; then `message` says what happened
  std::string message;
  double seconds = 0;
};

// The rows of one statement, handed out a batch at a time.
//
// The statement is planned when the QueryResult is made (SQL errors come from Engine::Query)
// and runs on the first Next(). Today that run produces every row before the first batch is
// returned (batches are then released one by one as they are handed out); callers must not rely
// on it: a later executor may produce the batches while they are being pulled.
//
// Thread safety: Next() and Materialize() from one thread at a time; Cancel() from any thread.
class QueryResult {
 public:
  ~QueryResult();
  QueryResult(const QueryResult&) = delete;
  QueryResult& operator=(const QueryResult&) = delete;

  // Column names and types, known before the first batch. No columns for DDL.
  const Schema& schema() const;
  // For a statement without rows (DDL): what happened ("CREATE VIEW"); empty otherwise.
  const std::string& message() const;

  // Fills `out` with the next batch (flat or constant columns, no selection, at least one row)
  // and returns true, or returns false at the end. kCancelled after Cancel(), past the options'
  // deadline or timeout, or when ExecOptions::cancel is set; then every later call fails too.
  // Other errors are those of Engine::Execute (kResourceExhausted past the memory limit, ...).
  Result<bool> Next(Batch* out);
  // Drains the batches not yet returned by Next().
  Result<MaterializedResult> Materialize();
  // Stops the statement: a running or later Next() fails with kCancelled.
  void Cancel();
  // Lake bytes the statement's scans have read so far (Parquet column chunks of the row groups
  // read, CSV files whole; 0 for answers from the catalog's counts and for system tables).
  // Any thread.
  uint64_t bytes_read() const;
  // Before the first Next(): the statement fails with kResourceExhausted ("Bytes scanned limit
  // was exceeded") once its scans have read more than `max_bytes` (0 = no limit).
  void LimitBytesRead(uint64_t max_bytes);
  // Before the first Next(): the statement fails with kCancelled ("query stopped: time limit
  // reached") once it has run for `limit` (0 = the engine's ExecOptions::timeout).
  void LimitTime(std::chrono::milliseconds limit);
  // What the answer depends on besides the statement's text, for caches of results (Athena's
  // result reuse): every catalog table the query reads with the snapshot and schema it was
  // planned on, and the text of every view it expands. Two runs of the same text with equal
  // keys read the same rows. "" when the answer must not be reused: statements other than
  // queries (Engine::Query has run them already) and queries of tables without snapshots
  // (system tables). Functions such as now() are not looked at: a cache's max age bounds them.
  const std::string& reuse_key() const;

 private:
  friend class Engine;
  struct State;
  explicit QueryResult(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

class Engine {
 public:
  ~Engine();

  // kInvalidArgument when options.catalog is null.
  static Result<std::unique_ptr<Engine>> Open(EngineOptions options);
  // An engine over a lake's catalog tables and views (options.catalog and options.writer are
  // replaced by the lake's). DDL writes to the lake: views as SQL files under queries/views/,
  // CREATE TABLE AS and INSERT as ZSTD Parquet under processed_data/<table>/ (Hive partitions
  // for WITH (partitioned_by = ARRAY['col', ...])) with one catalog commit each; DROP TABLE is
  // refused. `store` and `catalog` must outlive the engine.
  static Result<std::unique_ptr<Engine>> OpenLake(io::ObjectStore* store, catalog::Catalog* catalog,
                                                  EngineOptions options = {});

  // Plans one statement and returns its rows to pull. Errors carry "line L:C" positions for
  // bad SQL. Statements other than queries (EXPLAIN, SHOW, DDL) run here, before it returns.
  Result<std::unique_ptr<QueryResult>> Query(std::string_view sql) const;
  // Runs one statement to completion. Errors carry "line L:C" positions for bad SQL.
  Result<StatementResult> Execute(std::string_view sql) const;
  // Runs a ';'-separated script; returns the result of every statement (stops at the first error).
  Result<std::vector<StatementResult>> ExecuteScript(std::string_view sql) const;

  // Writes rows as a new table through the engine's writer, as CREATE TABLE AS would:
  // kAlreadyExists when the table (or a view of that name) exists, kNotImplemented without a
  // writer. `properties` are WITH (...) pairs as text; arrays comma-separated
  // ("partitioned_by" -> "region,month").
  Status CreateTable(const std::string& name, const Schema& schema, const std::vector<Batch>& data,
                     const std::vector<std::pair<std::string, std::string>>& properties = {}) const;
  // Appends rows already shaped to the table's schema, as INSERT would.
  Status InsertInto(const std::string& name, const Schema& schema,
                    const std::vector<Batch>& data) const;

  const EngineOptions& options() const { return options_; }

 private:
  explicit Engine(EngineOptions options) : options_(std::move(options)) {}
  EngineOptions options_;
  io::ObjectStore* store_ = nullptr;  // set by OpenLake (materialized views)
  catalog::Catalog* lake_ = nullptr;
};

// Refreshes the materialized views over `table` whose refresh mode is 'on_commit' (call it after
// a commit to `table`, as the ETL does); one line per view refreshed. A failed refresh leaves that
// view's previous version and returns its error.
Result<std::vector<std::string>> RefreshOnCommitViews(io::ObjectStore* store, catalog::Catalog* catalog,
                                                      std::string_view table);

// Whether `sql` is a statement that only reads: its first word (after blanks, comments and
// opening parentheses) is not one that writes or changes the session (CREATE, INSERT, SET, ...).
// A gate for callers that must not write (console queries, dashboard tiles); what passes still
// goes through the parser, which reports misspellings with their position.
bool IsReadOnlyStatement(std::string_view sql);

// Every SQL function name the engine knows (the REPL completes them).
std::vector<std::string> FunctionNames();

}  // namespace saleslake::sql
