// Live metrics of streams (the near-real-time figures of the cloud pipeline's dashboards):
// tumbling one-minute windows of acknowledged records per stream and region over the last 24
// hours, read as the SQL table system.stream_metrics and over the server's JSON API.
//
// The metrics are a reader of the shard logs with offsets of its own, kept in memory: Refresh()
// counts every record acknowledged since the last call (in the window of its arrival time, the
// time it was acknowledged), so a record is in the metrics as soon as it is acknowledged, not
// when it is delivered, and Rows() refreshes first: a put is visible at the next read. On start
// (and for a stream first seen or re-created) the reader begins at the records that arrived in
// the last `horizon_ms`, so the figures survive a restart, rebuilt from the log; windows older
// than the horizon are dropped.
//
// A record is parsed by stream::RecordFields (delivery.h), the parser delivery stages with, using
// the stream's delivery format and columns. Per window and region (the raw `region` text):
//   orders    records delivery stages (JSON objects; CSV lines)
//   revenue   sum(amount) of those whose amount reads as a number (spaces around it allowed)
//   refunds   records whose upper(trim(status)) is REFUNDED
//   out_rows  records whose upper(trim(status)) is OUT (the outliers the job flags)
//   invalid   records delivery quarantines (not JSON objects): their region is NULL
// Thread safety: every method may be called from many threads at once.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "stream/stream.h"

namespace saleslake::stream {

inline constexpr int64_t kMetricsWindowMs = 60 * 1000;
inline constexpr int64_t kMetricsHorizonMs = 24 * 3600 * 1000;

struct MetricsRow {
  std::string stream;
  int64_t window_start_ms = 0;      // a multiple of kMetricsWindowMs; the window ends 60 s later
  std::optional<std::string> region;
  int64_t orders = 0;
  double revenue = 0;
  int64_t refunds = 0;
  int64_t out_rows = 0;
  int64_t invalid = 0;
};

struct MetricsOptions {
  Clock* clock = nullptr;  // nullptr = ProcessClock()
  int64_t horizon_ms = kMetricsHorizonMs;
  // Streams without a Format() call: JSON objects with these columns.
  std::vector<std::string> default_columns = {"purchase_date", "customer_id", "product_id",
                                              "amount", "region", "status"};
};

class StreamMetrics {
 public:
  // `store` must outlive the metrics.
  StreamMetrics(const StreamStore* store, MetricsOptions options);
  ~StreamMetrics();
  StreamMetrics(const StreamMetrics&) = delete;
  StreamMetrics& operator=(const StreamMetrics&) = delete;

  // How records of `stream` are parsed (its delivery's format and columns); call before reads.
  void Format(const std::string& stream, const std::string& format, std::vector<std::string> columns);
  // Counts what every stream acknowledged since the last call; drops windows past the horizon.
  Status Refresh();
  // Refresh(), then the windows of `stream` ("" = every stream), by stream, window, region
  // (NULL region last).
  Result<std::vector<MetricsRow>> Rows(const std::string& stream = "");

 private:
  struct State;
  const StreamStore* store_;
  MetricsOptions options_;
  std::mutex mu_;  // one refresh at a time; guards state_
  std::unique_ptr<State> state_;
};

}  // namespace saleslake::stream
