// A small pipeline.yaml with every section the stack knows, shared by the stack tests.
#pragma once

#include <string>

namespace saleslake::stack::testing {

inline const std::string kBasePipeline = R"(version: 1
bucket: my-analytics-bucket

crawlers:
  - name: raw-crawler
    path: raw_data/
    table: raw_sales
    format: auto
    schema_change_policy: update

jobs:
  - name: my-etl-job
    source: raw_sales
    target:
      table: sales_data
      location: processed_data/sales_data/
      format: parquet
      compression: zstd
      partition_by: [region, purchase_month]
    columns:
      purchase_date: purchase_date
      region: region
      amount: amount
      status: upper(trim(status))
      purchase_month: date_format(purchase_date, '%Y-%m')

rules:
  - name: crawl-on-upload
    pattern:
      type: [object.created]
      key: [{prefix: raw_data/}]
    targets:
      - crawler: raw-crawler
  - name: etl-after-crawl
    pattern:
      type: [crawler.succeeded]
      crawler: [raw-crawler]
    targets:
      - job: my-etl-job
  - name: alert-on-failure
    pattern:
      type: [job.failed, crawler.failed]
    targets:
      - topic: pipeline-alerts

topics:
  - name: pipeline-alerts
    subscriptions:
      - protocol: file
        endpoint: _system/alerts/pipeline-alerts.jsonl
      - protocol: https
        endpoint: https://hooks.example.com/saleslake
        filter_policy: {type: [job.failed]}

alarms:
  - name: quarantine-high
    event_type: job.succeeded
    metric: rows_quarantined
    statistic: Maximum
    period_s: 300
    evaluation_periods: 3
    threshold: 100
    comparison: GreaterThanThreshold
    alarm_actions: [pipeline-alerts]

streams:
  - name: sales-events
    shards: 4
    table: sales_data
    format: json
)";

// `text` with the first occurrence of `from` replaced by `to` (which must be there).
inline std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  if (at == std::string::npos) return "<" + from + " not found>";
  return text.replace(at, from.size(), to);
}

// 1-based line of the first occurrence of `needle`.
inline int LineOf(const std::string& text, const std::string& needle) {
  size_t at = text.find(needle);
  if (at == std::string::npos) return -1;
  int line = 1;
  for (size_t i = 0; i < at; ++i) line += text[i] == '\n';
  return line;
}

}  // namespace saleslake::stack::testing
