// ETL job definitions: the `jobs:` section of <lake>/pipeline.yaml (Glue job's role).
//
//   jobs:
//     - name: my-etl-job
//       source: raw_sales                     # catalog table read by the job
//       target:
//         table: sales_data
//         location: processed_data/sales_data/
//         format: parquet                     # the only target format today
//         compression: zstd                   # zstd | snappy | gzip | lz4 | none
//         partition_by: [region, purchase_month]
//         target_file_size_mb: 128
//       columns:                              # target column: SQL expression over source columns
//         purchase_date: purchase_date        # (in order; default: every source column as is)
//         purchase_month: date_format(purchase_date, '%Y-%m')
//       rules:                                # per-column checks, in order
//         - {column: amount, check: range, min: 0, action: flag, name: negative_amount}
//         - {column: status, check: allowed, values: [COMPLETED, REFUNDED, PENDING, OUT], action: reject}
//         - {column: customer_id, check: not_null, action: reject}
//         - {column: product_id, check: regex, pattern: '^SKU-', action: flag}
//       flag_values:                          # flag (keep and count) rows whose column equals a value
//         status: [OUT]
//       pii:
//         tokenize: [customer_id]             # keyed HMAC-SHA-256 tokens
//         scan_strings: mask                  # mask | tokenize | off for the other string columns
//       quality:                              # share thresholds -> alert (warn) or failed run (fail)
//         missing_amount_share: {warn: 0.08, fail: 0.20}   # <count>_share, quarantined_share,
//                                                          # duplicate_share
//       counts:                               # figures of the loaded rows in the run report
//         missing_amount: {column: amount, is: null}
//         negative_amounts: {column: amount, is: negative}
//         out_rows: {column: status, equals: OUT}
//       date_range: purchase_date             # first and last date in the report
//       alert_topic: data-quality
//       append_only: false                    # true: a loaded raw file whose content changes is
//                                             #   refused (alert); false: its rows are replaced
//       dedupe: false                         # true: rows equal to any loaded row -> quarantine
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace saleslake::etl {

// PII entities found in free text, what a job does with them, and how many a run found.
enum class PiiEntity : uint8_t { kEmail, kPhone, kCard, kIban, kSsn };
constexpr int kNumPiiEntities = 5;
std::string_view PiiEntityName(PiiEntity e);  // "email", "phone", "card", "iban", "ssn"

enum class PiiAction : uint8_t { kMask, kTokenize, kOff };
// "mask" | "tokenize" | "off".
Result<PiiAction> ParsePiiAction(std::string_view s);

struct PiiCounts {
  uint64_t by_entity[kNumPiiEntities] = {};
  uint64_t total() const;
  void Add(const PiiCounts& other);
};


enum class RuleCheck : uint8_t { kNotNull, kRange, kAllowed, kRegex };
enum class RuleAction : uint8_t { kReject, kFlag, kFix };

struct ColumnRule {
  std::string column;
  RuleCheck check = RuleCheck::kNotNull;
  RuleAction action = RuleAction::kReject;
  std::string name;  // shown in quarantine reasons, flags and the report; default "<column>_<check>"
  std::optional<double> min, max;  // kRange (inclusive)
  std::vector<std::string> values;  // kAllowed
  std::string pattern;              // kRegex (RE2 syntax, partial match)
  // kFix: the replacement; for kRange values are clamped instead, for kNotNull/kAllowed/kRegex the
  // value becomes `fix_value` (NULL when unset).
  std::optional<std::string> fix_value;
};

// A figure of the run report: how many loaded rows have `column` NULL, negative, or equal to
// `value` (text compared after trimming spaces; numbers as numbers). "<name>_share" (the count
// over the rows loaded) can carry a quality threshold.
enum class CountKind { kNull, kNegative, kEquals };
struct RowCount {
  std::string name;
  std::string column;
  CountKind kind = CountKind::kNull;
  std::string value;  // kEquals
};

struct QualityThreshold {
  std::string metric;  // <count>_share | quarantined_share | duplicate_share
  std::optional<double> warn, fail;
};

struct JobSpec {
  std::string name;
  std::string source_table;
  std::string target_table;
  std::string target_location;
  std::string compression = "zstd";
  std::vector<std::string> partition_by;
  uint64_t target_file_size_mb = 128;
  // A raw file whose content changes after it was loaded: false = its rows are replaced in the
  // same commit; true = the file is refused (reported, alerted) and the table keeps its rows.
  bool append_only = false;
  // Rows identical (as raw text) to a row loaded by any run, or earlier in this one, are
  // quarantined as "duplicate" instead of loaded (`start-job --dedupe` sets it for one run).
  bool dedupe = false;
  // Ordered (target column, SQL expression); empty = the source columns unchanged.
  std::vector<std::pair<std::string, std::string>> columns;
  std::vector<ColumnRule> rules;
  std::map<std::string, std::vector<std::string>> flag_values;
  std::vector<std::string> pii_tokenize;
  PiiAction pii_scan = PiiAction::kMask;
  // Figures of the loaded rows (`counts:`), and the column whose first and last date the report
  // shows (`date_range:`). A job that declares neither gets the sales defaults documented in
  // kSalesCounts (missing_amount, out_rows, negative_amounts; date_range purchase_date), each
  // applied only when its column exists; declared ones must name existing columns.
  std::vector<RowCount> counts;
  std::string date_range_column;
  bool counts_declared = false;
  std::vector<QualityThreshold> quality;
  std::string alert_topic;
};

// Parses every job of a pipeline.yaml text. Errors name the file, line and column:
// "pipeline.yaml:14:7: job 'x': unknown key 'colums'". Unknown keys are errors (typos must not
// silently change a job).
Result<std::vector<JobSpec>> ParseJobs(std::string_view path, std::string_view yaml_text);
// The job named `name` from the list, or kNotFound listing the names there are.
Result<JobSpec> FindJob(const std::vector<JobSpec>& jobs, std::string_view name);

}  // namespace saleslake::etl
