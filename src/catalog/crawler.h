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
//   update  new columns are appended, widenings applied, an incompatible column becomes VARCHAR;
//           all files are added.
//   log     the table schema stays; changes are reported as warnings; files that fit the table
//           (extra columns are ignored, narrower types read as the table type) are added, files
//           with a widened or incompatible column are skipped and reported.
//   fail    the crawl stops with kAborted naming the file and the change; nothing is committed.
//
// Incremental: a file whose key, size and etag match what the table (or the crawler's state
// object catalog/crawlers/<name>/state.json, for skipped files) already records is not read
// again. A second crawl with nothing new reads no file.
// Files and folders whose name starts with '.' or '_' (e.g. _SUCCESS) are ignored.
//
// Thread safety: Crawl may run concurrently with anything; two crawls of the same table race
// through catalog commits (one retries on the other's result).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"

namespace saleslake::catalog {

enum class SchemaChangePolicy : uint8_t { kUpdate, kLog, kFail };
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
  std::vector<SkippedFile> skipped;
  std::vector<std::string> new_partitions;  // "region=EU/month=2025-08"
  std::vector<std::string> schema_changes;  // human descriptions
  bool schema_updated = false;              // the table schema changed in this crawl

  // What changed, one item per line, for `saleslake crawl`.
  std::string ToText() const;
};

struct CrawlOptions {
  // Where the crawler keeps its per-file state (a cache; losing it only costs re-reads).
  std::string state_prefix = "catalog/crawlers/";
};

// Runs one crawler. The catalog's store is where files are read from.
Result<CrawlReport> Crawl(Catalog& catalog, const CrawlerConfig& config,
                          const CrawlOptions& options = {});

}  // namespace saleslake::catalog
