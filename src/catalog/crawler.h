// The crawler (Glue crawler's role): discovers the files under a folder of the lake, classifies
// them (CSV, Parquet, JSON lines), infers and merges their schemas, detects Hive-style partition
// folders (key=value, values unescaped as Hive escapes them) and registers everything as one
// catalog table, in one catalog commit per run.
//
// Crawlers are configured in <lake>/pipeline.yaml:
//   crawlers:
//     - name: raw-crawler
//       path: raw_data/              # folder key to crawl (recursively)
//       table: raw_sales             # table to create or update
//       format: auto                 # csv | parquet | jsonl | auto (classify by content)
//       schema_change_policy: update # update | log | fail
//
// Schema changes (relative to the table, or to the first file for a new table):
//   new column, widened type (see internal/schema_merge.h), incompatible type. Policies:
//   update  new columns are appended, widenings applied; a file whose column is incompatible with
//           the table's type (BIGINT vs VARCHAR, DATE vs BIGINT) is skipped and reported as a
//           conflict naming the file and the column (CrawlReport::conflicts; `saleslake crawl`
//           exits non-zero), never silently widened.
//   varchar as update, but an incompatible column becomes VARCHAR and every file is added.
//   log     the table schema stays; changes are reported as warnings; files that fit the table
//           (extra columns are ignored, narrower types read as the table type) are added, files
//           with a widened or incompatible column are skipped and reported.
//   fail    the crawl stops with kAborted naming the file and the change; nothing is committed.
//
// Content identity: every listed file is known by the SHA-256 of its bytes (ContentHash below:
// recorded by the writer, or computed once and cached by size + mtime). A file whose content
// equals what the table holds under its key is unchanged, whatever its etag (a lake copied with
// `cp -a`, rsync or tar is unchanged); a key whose content changed is "updated" (the table's
// entry replaced); a file whose content another table file already has ("same content as
// raw_data/x.csv") is skipped and loads nothing; a renamed file keeps its content's place.
// Incremental: a file whose key, size and etag match what the table (or the crawler's state
// object catalog/crawlers/<name>/state.json, for skipped files) already records is not read
// again. A second crawl with nothing new reads no file.
// Evidence: a file without data rows (header only) says nothing about types: it never changes a
// column's type; an empty file is skipped.
// Files and folders whose name starts with '.' or '_' (e.g. _SUCCESS) are ignored.
//
// Thread safety: Crawl may run concurrently with anything; two crawls of the same table race
// through catalog commits (one retries on the other's result).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"

namespace saleslake::catalog {

enum class SchemaChangePolicy : uint8_t { kUpdate, kLog, kFail, kVarchar };
std::string_view SchemaChangePolicyName(SchemaChangePolicy p);

struct CrawlerConfig {
  std::string name;
  std::string path;                   // folder key ending in '/'
  std::string table;
  std::optional<FileFormat> format;   // nullopt = auto
  SchemaChangePolicy policy = SchemaChangePolicy::kUpdate;
};

// Parses the `crawlers:` section of a pipeline.yaml text (other sections are ignored).
// Errors are kInvalidArgument "<file_name>:<line>:<column>: <why>".
Result<std::vector<CrawlerConfig>> ParseCrawlerConfigs(std::string_view yaml_text,
                                                       std::string_view file_name);
// Reads and parses `key` (default pipeline.yaml) from the lake.
Result<std::vector<CrawlerConfig>> LoadCrawlerConfigs(const io::ObjectStore& store,
                                                      std::string_view key = "pipeline.yaml");

struct SkippedFile {
  std::string key;
  std::string reason;
};

struct CrawlReport {
  std::string crawler;
  std::string table;
  bool table_created = false;
  bool committed = false;     // false when nothing changed
  int64_t snapshot_id = 0;    // current snapshot after the crawl
  int64_t files_seen = 0;     // data files listed under the path
  int64_t files_read = 0;     // files opened to infer their schema
  int64_t files_unchanged = 0;
  std::vector<std::string> added;    // keys
  std::vector<std::string> updated;  // same key, new content
  std::vector<std::string> removed;  // gone from the lake
  std::vector<std::string> renamed;  // "old -> new": same content under a new key
  std::vector<SkippedFile> skipped;
  // Files refused for a type conflict under the update policy ("file: column amount DOUBLE,
  // the file has VARCHAR"): the crawl commits the rest and the command exits non-zero.
  std::vector<SkippedFile> conflicts;
  std::vector<std::string> new_partitions;  // "region=EU/month=2025-08"
  std::vector<std::string> schema_changes;  // human descriptions
  bool schema_updated = false;              // the table schema changed in this crawl

  // What changed, one item per line, for `saleslake crawl`.
  std::string ToText() const;
};

struct CrawlOptions {
  // Where the crawler keeps its per-file state (a cache; losing it only costs re-reads).
  std::string state_prefix = "catalog/crawlers/";
  // Called as the listed files' content is identified (hashed when no record vouches for it):
  // files done of the files listed (the CLI's progress line).
  std::function<void(uint64_t files_done, uint64_t files_total)> on_progress;
};

// Runs one crawler. The catalog's store is where files are read from.
Result<CrawlReport> Crawl(Catalog& catalog, const CrawlerConfig& config,
                          const CrawlOptions& options = {});

// ---- Content identity of raw objects ----
//
// A record per object in _system/content/<key>.json: {"sha256", "size", "mtime_ns"}. It is
// trusted while the object's size and mtime still match it; otherwise the object is hashed
// again (so a content change that keeps size and mtime to the nanosecond goes unseen until the
// next write). Writers that see the bytes record it as they commit, so nothing reads a file
// twice to learn its identity.

// The hex SHA-256 of the object `info` describes: from its record, else computed by reading it
// (and recorded; a failure to record is logged, not returned).
Result<std::string> ContentHash(io::ObjectStore& store, const io::ObjectInfo& info);
// Records `sha256_hex` as the content of the object `info` describes (its current size/mtime).
Status RecordContentHash(io::ObjectStore& store, const io::ObjectInfo& info,
                         std::string_view sha256_hex);

// The one door for new raw objects (`upload`, `generate`, the S3 API's PutObject, stream
// delivery): an OutputStream that hashes what is appended and, on Commit, makes the object
// visible atomically, records its content hash and journals an object.created event
// ({"id","type","time","key","size","sha256"} in _system/events.jsonl, see JournalEvent). Nothing is recorded for a
// stream that is destroyed uncommitted.
class RawObjectWriter final : public io::OutputStream {
 public:
  static Result<std::unique_ptr<RawObjectWriter>> Open(io::ObjectStore& store, std::string_view key);
  ~RawObjectWriter() override;
  Status Append(std::string_view data) override;
  uint64_t bytes_written() const override;
  Status Commit() override;
  // After Commit: the hex SHA-256 of the object.
  const std::string& sha256() const { return sha256_; }

 private:
  struct Impl;
  explicit RawObjectWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string sha256_;
};

// For a writer that committed `key` itself and hashed its bytes on the way (multipart uploads
// assembled from parts): records the content hash and journals the object.created event.
Status RecordRawObject(io::ObjectStore& store, std::string_view key, std::string_view sha256_hex);

// The one writer of the lake's event journal (_system/events.jsonl; the events module reads it
// and acts on it): appends {"id","type","time", ...fields} as one durable line and returns the
// id. `fields_json` is a JSON object ("" = none); `id` = "" makes a new one (UTC time + 64
// random bits); a caller that may repeat itself after a crash passes a deterministic id so the
// repeat is recognised as the same event.
Result<std::string> JournalEvent(io::ObjectStore& store, std::string_view type,
                                 std::string_view fields_json = "", std::string_view id = "");

// Where JournalEvent puts events on a store without appends (a lake on S3): one object
// `<id>.json` each, holding the event's journal line. The events engine drains it.
inline constexpr std::string_view kEventInboxPrefix = "_system/events/inbox/";

// One event of JournalEvents: as JournalEvent's arguments.
struct JournalEntry {
  std::string type;
  std::string fields_json;  // a JSON object, "" = none
  std::string id;           // "" = a new one
};
// For producers that have many events at once (schedule ticks that came due together, ...):
// journals them in order as one durable append (one write and one fdatasync, shared with
// concurrent journalers) and returns their ids. All or nothing: every entry is checked before a
// byte is written, and an append that fails is cut off again, so an error means none of them
// was journaled. Two limits: a crash in the middle of the write can leave its first lines (each
// a whole event; a torn last line is never read), and a store without appends (S3) gets one
// object per event, so a failure there may leave the first ones.
Result<std::vector<std::string>> JournalEvents(io::ObjectStore& store, const std::vector<JournalEntry>& events);

}  // namespace saleslake::catalog
