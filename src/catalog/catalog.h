// The catalog: tables, their schema history and their snapshots, kept in the lake's catalog/
// folder through io::ObjectStore only (so the same code runs on a local lake and on S3).
//
// Model
//   A table has a name, a format (csv | parquet | jsonl), a location prefix inside the lake
//   ("raw_data/", "processed_data/sales_data/"), partition keys, free-form properties and, for
//   CSV, a dialect. Its schema lists the data columns first and the partition columns LAST:
//   partition columns usually do not exist inside the files (Hive layout); a scan fills them from
//   DataFile::partition_values.
//   A snapshot is the set of data files that make up the table at one moment. Each commit makes
//   a new snapshot with id = previous id + 1 (ids are per table, start at 1; 0 = "no snapshot").
//   A data file carries its key, size, row count, partition values and per-column min/max/null
//   counts (for pruning).
//
// Storage (all keys below <prefix> = "catalog/"):
//   tables/<name>/metadata/v<20-digit version>.json   one immutable object per committed version
//   tables/<name>/snapshots/snap-<id>-<rand>.json      the manifest list of one snapshot
//   tables/<name>/manifests/m-<snapshot id>-<rand>.json  data files added by one commit
//   A commit writes the new manifest + manifest list first (unique names, invisible until
//   referenced; with TableChange::sync_added_files it syncs the data files it adds in the same
//   round), then publishes metadata version N+1 with ObjectStore::PutIfAbsent. Exactly one
//   of two racing writers wins that write; the loser gets kAborted and may retry on the new
//   state (Catalog::Commit does this for you). A crash before the publish leaves only orphan
//   manifests; the previous version stays the latest. An append writes O(added files) bytes of
//   manifests; the manifest list references the unchanged manifests of the parent snapshot.
//   The latest version is found by listing the metadata folder (bounded by retention).
//
// Retention (table properties, applied at every commit, in the same atomic write):
//   "snapshot.retention.min_count"   (default 20): always keep at least this many snapshots;
//   "snapshot.retention.max_age_ms"  (default 7 days): older snapshots beyond min_count expire.
//   "metadata.retention.versions"    (default 100): older metadata objects are deleted after a
//   commit. (A writer whose base is older than this many versions could in theory recreate a
//   deleted version name; keep it well above the number of commits a slow writer can miss.)
//   An expired snapshot is no longer addressable (kNotFound); its manifests are deleted.
//   Data files are never deleted by the catalog: raw files belong to their producer.
//
// Other properties: tables made by the crawler carry "crawler" (its name) and, for CSV DATE and
//   TIMESTAMP columns, "csv.format.<column>" = the csv::ColumnSniff::format the sniffer found
//   (e.g. "%Y-%m-%d", "%m/%d/%Y %H:%M"); a CSV scan should parse the column with it.
//
// Thread safety: Catalog is safe to use from many threads and processes at once (all state is in
// the store; there is no in-process cache). TableMetadata / DataFile are immutable values.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "common/value.h"
#include "io/object_store.h"

namespace saleslake::catalog {

enum class FileFormat : uint8_t { kCsv, kParquet, kJsonl };
// "csv", "parquet", "jsonl".
std::string_view FileFormatName(FileFormat format);
// Case-insensitive; also accepts "json" and "ndjson" for jsonl.
Result<FileFormat> ParseFileFormat(std::string_view name);

struct CsvDialect {
  char delimiter = ',';
  char quote = '"';
  char escape = '"';  // '"' means RFC 4180 doubling
  bool has_header = true;
  std::vector<std::string> null_tokens = {"", "NULL", "NA", "N/A"};
  bool operator==(const CsvDialect&) const = default;
};

// Statistics of one column in one data file. Unknown values are NULL Values / -1.
struct ColumnStats {
  std::string column;
  Value min;                   // NULL when unknown (or when every value is NULL)
  Value max;
  int64_t null_count = -1;     // -1 = unknown
  int64_t non_conforming = 0;  // values the sniffer could not read as the column type
  bool operator==(const ColumnStats&) const = default;
};

struct PartitionValue {
  std::string key;
  std::optional<std::string> value;  // unescaped; nullopt = Hive's __HIVE_DEFAULT_PARTITION__
  bool operator==(const PartitionValue&) const = default;
};

struct DataFile {
  std::string key;               // object key in the lake
  uint64_t size = 0;             // bytes
  int64_t row_count = -1;        // -1 = unknown
  std::string etag;              // ObjectInfo::etag when the file was registered ("" = unknown)
  // Content identity (hex SHA-256 of the bytes) of a raw file the crawler registered: what
  // "changed" and "already loaded" are decided on, never the key or the etag alone.
  std::string sha256;
  // For a file a job derived from raw data: the ContentId() of the one raw file whose rows it
  // holds, so those rows can be replaced when that raw file's content changes ("" = unknown).
  std::string source_id;
  std::vector<PartitionValue> partition_values;  // in the table's partition key order
  std::vector<ColumnStats> column_stats;         // any subset of the columns, by name
  // CSV: the file's own columns in file order (what a positional reader sees; a file may lack
  // table columns, order them differently, or hold a column that is also a partition key).
  // Empty = the table's data columns, in order.
  std::vector<std::string> file_columns;
  bool operator==(const DataFile&) const = default;

  // The stats for `column`, or nullptr.
  const ColumnStats* FindStats(std::string_view column) const;
  // "region=EU/month=2025-08" (escaped as Hive does), "" when unpartitioned.
  std::string PartitionPath() const;
  // What makes two raw files the same data: their content and, in a partitioned table, their
  // partition (the same bytes in another partition folder are other rows). "" when sha256 is.
  std::string ContentId() const;
};

struct SchemaVersion {
  int64_t id = 0;  // 1, 2, ...
  int64_t timestamp_ms = 0;
  Schema schema;
};

struct SnapshotInfo {
  int64_t id = 0;
  int64_t parent_id = 0;  // 0 = first snapshot
  int64_t timestamp_ms = 0;
  std::string operation;  // append | overwrite | delete | replace | schema
  int64_t schema_id = 0;  // the schema current when the snapshot was made
  std::string manifest_list;  // object key
  // Summary, so that `tables` and planners need not read manifests.
  int64_t added_files = 0;
  int64_t removed_files = 0;
  int64_t total_files = 0;
  int64_t total_rows = 0;  // sum of known row counts
  int64_t total_bytes = 0;
};

// What a table is, apart from its history. Used to create a table.
struct TableSpec {
  std::string name;  // [A-Za-z_][A-Za-z0-9_]*, at most 128 bytes; case-sensitive key
  FileFormat format = FileFormat::kParquet;
  std::string location;  // key prefix ending in '/', e.g. "processed_data/sales_data/"
  Schema schema;         // data columns, then partition columns
  std::vector<std::string> partition_keys;  // each must be a column of `schema`
  std::map<std::string, std::string> properties;
  CsvDialect csv;  // meaningful for kCsv only
};

// One committed version of a table. Immutable; share through shared_ptr<const>.
struct TableMetadata {
  int64_t version = 0;  // metadata version, 1 = created
  TableSpec spec;       // spec.schema == the current schema
  std::vector<SchemaVersion> schemas;  // history, oldest first
  int64_t current_schema_id = 0;
  std::vector<SnapshotInfo> snapshots;  // retained snapshots, oldest first
  int64_t current_snapshot_id = 0;      // 0 = no data yet
  int64_t last_snapshot_id = 0;         // highest id ever used (ids never repeat)
  int64_t created_ms = 0;
  int64_t updated_ms = 0;

  const std::string& name() const { return spec.name; }
  const Schema& schema() const { return spec.schema; }
  // nullptr when the table has no snapshot yet.
  const SnapshotInfo* current_snapshot() const { return FindSnapshot(current_snapshot_id); }
  const SnapshotInfo* FindSnapshot(int64_t id) const;
  // The latest snapshot committed at or before `timestamp_ms` (time travel), or nullptr.
  const SnapshotInfo* SnapshotAsOf(int64_t timestamp_ms) const;
  const SchemaVersion* FindSchema(int64_t id) const;
};

// A change to apply on top of the latest version. Built by the caller's commit function.
struct TableChange {
  std::string operation = "append";
  std::vector<DataFile> add_files;
  std::vector<std::string> remove_files;  // keys; each must be in the base snapshot
  bool remove_all_files = false;          // overwrite: drop every file of the base snapshot first
  std::optional<Schema> new_schema;       // appended to the schema history when different
  std::map<std::string, std::string> set_properties;
  std::optional<CsvDialect> new_csv_dialect;
  // A change with no files and no schema/property change commits nothing (Commit returns the
  // base version) unless this is set.
  bool allow_empty = false;
  // The add_files were written with ObjectStore::OpenWriteUnsynced: the commit makes each
  // durable (ObjectStore::Sync) in the same parallel round as its own manifests, before it
  // publishes the version that references them. Saves the writer a round of file and folder
  // syncs before the commit; a crash before the publish leaves orphans, as ever.
  bool sync_added_files = false;
};

struct CatalogOptions {
  std::string prefix = "catalog/";
  // Attempts of Catalog::Commit before it gives up with kAborted.
  int max_commit_attempts = 50;
  // Clock for timestamps (ms since the epoch); tests inject one. Default: system clock.
  std::function<int64_t()> clock;
  // Test hook: called after the manifests are written and before the publish. Tests use it to
  // kill a process mid-commit or to force a race.
  std::function<void()> before_publish;
  // Test hook: the publish then waits this long (the CLI sets it from
  // $SALESLAKE_TEST_COMMIT_PAUSE_MS for its crash tests, which kill the process there).
  int64_t commit_pause_ms = 0;
};

struct CommitResult {
  std::shared_ptr<const TableMetadata> metadata;  // the version now current
  int attempts = 1;
  bool committed = true;  // false when the change was empty and nothing was written
};

class Catalog {
 public:
  // `store` must outlive the Catalog. Never fails today; Result keeps the door open for stores
  // that need a handshake.
  static Result<std::unique_ptr<Catalog>> Open(io::ObjectStore* store, CatalogOptions options = {});
  ~Catalog();

  io::ObjectStore* store() const;

  // Table names, sorted.
  Result<std::vector<std::string>> ListTables() const;
  // The latest committed version. kNotFound when there is no such table; kCorruption when the
  // metadata object is unreadable (the message names the key).
  Result<std::shared_ptr<const TableMetadata>> LoadTable(std::string_view name) const;
  // kAlreadyExists when the table exists (also when a concurrent creator won).
  Result<std::shared_ptr<const TableMetadata>> CreateTable(const TableSpec& spec);

  // The files of snapshot `snapshot_id` (default: current; none when the table has no
  // snapshot). Files of one commit stay together in order; the order across commits may change
  // when manifests are merged. kNotFound for an unknown or expired snapshot id.
  Result<std::vector<DataFile>> ListFiles(const TableMetadata& table,
                                          std::optional<int64_t> snapshot_id = std::nullopt) const;

  // The files the snapshots after `since`, up to the current one, added, read from their own
  // manifests only (an incremental reader's delta, without listing the whole table). nullopt
  // when the manifests alone cannot tell: a snapshot in between removed files, `since` is not an
  // ancestor of the current snapshot or has expired, or a manifest merge took older files along.
  // The caller then compares full listings.
  Result<std::optional<std::vector<DataFile>>> ListAddedFiles(const TableMetadata& table, int64_t since) const;

  // One optimistic attempt: applies `change` to `base` and publishes version base.version + 1.
  // kAborted when another writer published first (nothing of ours becomes visible);
  // kInvalidArgument for a bad change (unknown file to remove, bad schema, ...).
  Result<CommitResult> CommitOnce(const TableMetadata& base, const TableChange& change);

  // Loads the latest version, calls `fn` to build the change, and publishes; on kAborted it
  // reloads and calls `fn` again (up to max_commit_attempts, with jittered backoff), so a
  // change computed from stale state is never published: no lost update. Errors from `fn`
  // are returned as they are.
  using ChangeFn = std::function<Result<TableChange>(const TableMetadata& base)>;
  Result<CommitResult> Commit(std::string_view table, const ChangeFn& fn);

  // Removes the table from the catalog: its metadata versions (the newest last, so a crash
  // midway leaves the table whole at its latest version), then its snapshots and manifests.
  // Data files are not touched (their owner deletes them). kNotFound when there is no such table.
  Status DropTable(std::string_view name);

  // Drops expired snapshots now (normally done at every commit). Returns the version current
  // afterwards.
  Result<CommitResult> ExpireSnapshots(std::string_view table);

 private:
  struct Impl;
  explicit Catalog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// kInvalidArgument unless `name` is a valid table name (see TableSpec::name).
Status ValidateTableName(std::string_view name);

// The table property that holds a column's comment: "comment.<column>". Glue's Column.Comment
// (CreateTable) is kept there, and the ETL marks the columns it tokenizes as PII; SHOW COLUMNS
// and Glue's GetTable show it.
std::string ColumnCommentProperty(std::string_view column);

// Hive partition path escaping: the characters Hive escapes in partition folder names become
// %XX; UnescapePartitionValue reverses it (invalid escapes are kept as they are).
std::string EscapePartitionValue(std::string_view value);
std::string UnescapePartitionValue(std::string_view value);

}  // namespace saleslake::catalog
