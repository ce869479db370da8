// The state one run of an ETL job shares between its stages and threads, and the stages' entry
// points: partition files (partition_writer.cc), reading and processing rows (rows.cc), quality
// and quarantine (quality.cc). job_runner.cc drives them. Internal to etl.
#pragma once

#include <re2/re2.h>

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "catalog/catalog.h"
#include "common/batch.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "etl/internal/clean.h"
#include "etl/internal/mapper.h"
#include "etl/job_runner.h"
#include "etl/job_spec.h"
#include "etl/internal/pii.h"
#include "etl/report.h"
#include "formats/parquet/parquet.h"
#include "io/object_store.h"

namespace saleslake::etl::internal {

inline constexpr const char* kFlagsColumn = "quality_flags";

inline constexpr const char* kHiveNull = "__HIVE_DEFAULT_PARTITION__";

// ASCII-only upper case (flag values are ASCII words); std::toupper is a locale-aware call.
inline char AsciiUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

struct Quarantined {
  std::string file;
  uint64_t line;
  uint32_t column;
  std::string raw;
  std::string reason;
};

struct Counters {  // accumulated per batch, merged into Run::counters under Run::mu
  uint64_t loaded = 0, quarantined = 0;
  std::vector<uint64_t> counts;  // per JobSpec::counts
  uint64_t tokenized = 0;
  int32_t date_min = INT32_MAX, date_max = INT32_MIN;
  std::map<std::string, uint64_t> by_reason, flagged, fixed;
  PiiCounts pii;
  void Merge(const Counters& o) {
    loaded += o.loaded;
    quarantined += o.quarantined;
    counts.resize(std::max(counts.size(), o.counts.size()));
    for (size_t i = 0; i < o.counts.size(); ++i) counts[i] += o.counts[i];
    tokenized += o.tokenized;
    date_min = std::min(date_min, o.date_min);
    date_max = std::max(date_max, o.date_max);
    for (const auto& [k, v] : o.by_reason) by_reason[k] += v;
    for (const auto& [k, v] : o.flagged) flagged[k] += v;
    for (const auto& [k, v] : o.fixed) fixed[k] += v;
    pii.Add(o.pii);
  }
};

// One open partition of the target. `mu` is held by the thread writing rows into it
// (WritePartitions, which tries the free partitions first, so it stays a std::mutex for
// try_lock); opening and closing between files happen when no rows are being written.
struct PartitionFile {
  std::mutex mu;
  std::vector<catalog::PartitionValue> values;
  std::string path;  // "region=EU/purchase_month=2025-03"
  std::unique_ptr<io::OutputStream> stream;
  std::unique_ptr<parquet::ParquetWriter> writer;
  uint64_t rows_in_file = 0;
  uint64_t rows = 0;
  int seq = 0;
  std::vector<catalog::DataFile> done;
};

// Raw row hashes already loaded, for dedupe: sharded so that morsels rarely wait for each other.
class SeenRows {
 public:
  // True when `h` was not seen before (and is now).
  bool Insert(uint64_t h) {
    Shard& s = shards_[h >> (64 - kShardBits)];
    MutexLock lock(s.mu);
    return s.set.insert(h).second;
  }

 private:
  static constexpr int kShardBits = 6;
  struct Shard {
    Mutex mu;
    std::unordered_set<uint64_t> set SL_GUARDED_BY(mu);
  };
  std::array<Shard, size_t{1} << kShardBits> shards_;
};

struct Run {
  const JobSpec& job;
  catalog::Catalog& cat;
  io::ObjectStore& store;
  std::string run_id;
  parquet::WriterOptions writer_options;
  std::optional<Tokenizer> tokenizer;

  Schema source_schema;              // typed, from the source table
  std::vector<Cleaner> cleaners;     // per source column
  std::unique_ptr<internal::Mapper> mapper;
  Schema output_schema;              // mapped columns (+ quality_flags)
  std::vector<size_t> partition_cols;  // indices into output_schema
  std::vector<size_t> data_cols;       // the rest, in order
  Schema file_schema;                  // data columns only
  std::vector<bool> tokenize_col;      // per output column
  std::vector<bool> scan_col;          // per output column
  bool has_flags = false;
  std::vector<std::unique_ptr<RE2>> rule_regex;  // per rule (kRegex only)
  // Per JobSpec::counts: the source column counted (nullopt: a default count whose column the
  // source lacks); then the date_range column.
  std::vector<std::optional<size_t>> count_cols;
  std::optional<size_t> date_col;

  // What the morsels of ReadOneFile merge; read once they are all done (still under mu).
  Mutex mu;
  Counters counters SL_GUARDED_BY(mu);
  std::vector<Quarantined> quarantine SL_GUARDED_BY(mu);
  // Row hashes for exact-duplicate counting, split by their top bits so that the buckets can be
  // sorted in parallel at the end.
  static constexpr int kHashBucketBits = 8;
  std::vector<std::vector<uint64_t>> row_hashes SL_GUARDED_BY(mu){size_t{1} << kHashBucketBits};
  std::map<std::string, std::unique_ptr<PartitionFile>> partitions SL_GUARDED_BY(mu);
  std::atomic<bool> failed{false};
  std::unique_ptr<SeenRows> seen;  // dedupe runs only
  size_t buffer_budget = 0;                  // RunOptions::buffer_budget_bytes
  // RunOptions::on_progress, with the raw bytes read so far and the run's total.
  std::function<void(uint64_t, uint64_t)> on_progress;
  std::atomic<uint64_t> bytes_read{0};
  uint64_t bytes_total = 0;
  std::atomic<size_t> partition_budget{0};   // its share per open partition

  Run(const JobSpec& j, catalog::Catalog& c) : job(j), cat(c), store(*c.store()) {}
};

// ---- partition_writer.cc: Hive partition files of the target ----

// A partition folder value: Hive's escapes plus spaces as %20, as DuckDB writes them (every
// Hive-style reader decodes %XX, so "region=North%20America" reads back as "North America").
std::string EscapeForPath(const std::string& value);
// Hive partition value text of one row of a column (nullopt: NULL or a type with no text).
std::optional<std::string> PartitionText(const ColumnVector& v, size_t row);
Status OpenPartitionFile(Run& run, PartitionFile& p);
// Finishes the open file of `p` (its DataFile in p.done gets its size, rows and stats).
Status ClosePartitionFile(Run& run, PartitionFile& p);
// Closes every open partition file (the last row groups are encoded and compressed here, so in
// parallel); their data files stay in PartitionFile::done.
Status CloseAllPartitionFiles(Run& run);
// Deletes data files under the target location that no retained snapshot references and that
// an earlier, unfinished run left behind (their names carry a run id that never committed).
Status RemoveOrphans(Run& run, const catalog::TableMetadata* target);

// ---- rows.cc: reading, typing, rules, mapping, PII and partitioning of the rows ----

// Typed cleaners, mapper, PII tokenizer and writer options for `source`.
Status Prepare(Run& run, const catalog::TableMetadata& source, const RunOptions& options);
// Reads one raw CSV file through the whole pipeline into the partition files.
Status ReadOneFile(Run& run, const catalog::DataFile& df, RunReport& report);
// Dedupe: the raw row hashes of a file loaded by an earlier run go into run.seen.
Status HashLoadedRows(Run& run, const catalog::DataFile& df);
// How many values of v repeat an earlier one.
uint64_t CountRepeats(const std::vector<uint64_t>& v);

// ---- quality.cc: thresholds, alerts, quarantine ----

void EvaluateQuality(const JobSpec& job, RunReport& report);
Status AppendAlerts(io::ObjectStore& store, const JobSpec& job, const RunReport& report);
Status WriteQuarantine(Run& run, RunReport& report);

}  // namespace saleslake::etl::internal
