// The run report of an ETL job: what was read, loaded, quarantined, flagged, redacted and
// written, the quality figures, and the alerts they raised. Every run leaves one in
// _system/runs/<job>/<run_id>.json; `saleslake runs` lists them.
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "etl/job_spec.h"
#include "io/object_store.h"

namespace saleslake::etl {

struct Alert {
  std::string level;   // "warn" | "fail"
  std::string metric;  // e.g. missing_amount_share
  double value = 0;
  double threshold = 0;
  std::string message;
};

struct RunReport {
  std::string job;
  std::string run_id;
  std::string status = "running";  // succeeded | warned | failed | no_op
  std::string error;               // why a failed run failed
  std::string started_at;          // ISO 8601 UTC
  double duration_s = 0;

  std::vector<std::string> input_files;
  // Raw files by what this run did with them; content identity (sha256) decides, never the key
  // or the etag alone. A renamed or copied file with loaded content is unchanged.
  std::vector<std::string> files_new;       // content never loaded before
  std::vector<std::string> files_replaced;  // a loaded key whose content changed: rows replaced
  std::vector<std::string> files_refused;   // "key: why" (append-only target, untagged rows)
  uint64_t files_unchanged = 0;
  uint64_t rows_replaced = 0;               // rows of the old versions removed by this run
  uint64_t bytes_read = 0;
  uint64_t rows_read = 0;  // data records (blank lines excluded)
  uint64_t rows_loaded = 0;
  uint64_t rows_quarantined = 0;
  uint64_t blank_lines = 0;
  std::map<std::string, uint64_t> quarantined_by_reason;  // malformed_row, type:<col>, rule:<name>
  std::map<std::string, uint64_t> flagged;                // flag name -> rows
  std::map<std::string, uint64_t> fixed_values;           // column -> values cleaned into shape

  // The job's declared counts (JobSpec::counts) over the loaded rows, in declaration order.
  std::vector<std::pair<std::string, uint64_t>> counts;
  uint64_t exact_duplicates = 0;  // input records identical to an earlier one
  std::string date_min, date_max;  // of the job's date_range column over loaded rows ("" when none)
  std::map<std::string, uint64_t> rows_per_partition;
  PiiCounts pii_detections;
  uint64_t tokenized_values = 0;

  uint64_t files_written = 0;
  uint64_t bytes_written = 0;
  int64_t snapshot_id = 0;
  std::string quarantine_key;  // the rejected-rows object, "" when none
  std::vector<Alert> alerts;

  double share(uint64_t part) const { return rows_loaded ? static_cast<double>(part) / rows_loaded : 0; }
  double mb_per_s() const { return duration_s > 0 ? bytes_read / 1e6 / duration_s : 0; }
  // One JSON object (stable keys; the CLI's --format json prints exactly this).
  std::string ToJson() const;
  // A human summary table.
  std::string ToText() const;
};

// Saves the report as _system/runs/<job>/<run_id>.json.
Status SaveRunReport(io::ObjectStore& store, const RunReport& report);
// One line per run, oldest first: the JSON objects of _system/runs/[<job>/].
Result<std::vector<std::string>> LoadRunReports(const io::ObjectStore& store, std::string_view job);

}  // namespace saleslake::etl
