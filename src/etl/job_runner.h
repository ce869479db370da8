// Running an ETL job (`saleslake start-job --job-name NAME`, Glue job's role):
//
//   raw CSV files of the source table whose content no earlier run loaded (the job bookmark,
//   by content identity: internal/bookmark.h); a loaded file whose content changed has its
//   old rows removed in the same commit (or is refused when the job is append_only)
//     -> read in parallel as text (csv::ReadCsv; malformed rows -> quarantine)
//     -> typed with the source table's types by lenient cleaners (etl/clean.h; values that
//        cannot be read -> quarantine with file, line, column, raw text and reason)
//     -> column rules (reject | flag | fix) and flag_values
//     -> column mappings (target column = SQL expression over source columns)
//     -> PII: declared columns tokenized (keyed HMAC-SHA-256), other strings scanned and masked
//     -> Hive partitions (<location>/<key>=<escaped value>/...), Parquet files per raw file and
//        partition (tagged with the raw file's content, DataFile::source_id) and up to
//        target_file_size_mb, partition columns in the path only
//     -> one catalog commit for the whole run (data files + the new bookmark, atomically)
//     -> the run report (_system/runs/<job>/<run_id>.json), quarantine
//        (quarantine/<job>/<run_id>/rejected.jsonl) and alerts (_system/alerts.jsonl).
//
// Guarantees: rows_read == rows_loaded + rows_quarantined; nothing becomes visible in the catalog
// before the final commit, so a failed or killed run leaves the previous snapshot as it was and
// can simply be run again (data files of an unfinished run are removed by the next run); a run
// with no new input is a no-op. Only one run of a job at a time (a lock object in _system/locks;
// a lock left by a dead process is taken over).
// Thread safety: RunJob may be called from any thread; it uses ThreadPool::Default().
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "catalog/catalog.h"
#include "common/status.h"
#include "etl/job_spec.h"
#include "etl/report.h"

namespace saleslake::etl {

struct RunOptions {
  std::string run_id;  // default: <UTC yyyymmddThhmmssZ>-<random>
  // The lake secret (hex) for tokenization; default: read _system/secret.key from the store.
  std::string secret_key_hex;
  // Parquet row group size (rows); smaller values bound memory further.
  int64_t row_group_rows = 1 << 20;
  // Encoded bytes all open partition files may buffer together: a partition whose open row
  // group passes its share (this / open partitions) writes the row group out.
  size_t buffer_budget_bytes = size_t{256} << 20;
  // Test hook: a pause after the data files are written and before the catalog commit (crash
  // tests kill the process there; the CLI sets it from $SALESLAKE_TEST_PAUSE_BEFORE_COMMIT_MS).
  int pause_before_commit_ms = 0;
  // Set by another thread to stop the run (Glue's BatchStopJobRun): checked before each raw
  // file and before the commit; a stopped run deletes what it wrote, commits nothing and
  // returns kCancelled. Not owned; must outlive the run.
  const std::atomic<bool>* stop = nullptr;
  // JobSpec::dedupe for this run only: rows equal (as raw text) to a row of any loaded raw file
  // still in the source table, or to an earlier row of this run, go to quarantine as
  // "duplicate:exact" instead of loading. Earlier rows are known by re-reading those files.
  bool dedupe = false;
  // Called as the raw files are read (from the run's worker threads, ~once per 8 MiB): the bytes
  // of raw input read so far, of `total` this run reads (the CLI's progress line).
  std::function<void(uint64_t bytes_read, uint64_t total)> on_progress;
};

// Runs `job` against the lake behind `catalog`. Returns the report for succeeded, warned and
// no-op runs; a failed run returns its error (the report is still saved with status "failed").
Result<RunReport> RunJob(catalog::Catalog& catalog, const JobSpec& job, const RunOptions& options = {});

}  // namespace saleslake::etl
