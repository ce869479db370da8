// GET /api/streams/<name>/metrics (the console's JSON API; console.cc authorizes and routes):
// the live metrics of one stream, read through SQL from system.stream_metrics so the console and
// SQL users see the same figures. Shape (docs/console.md):
//   {"stream": "sales-events", "window_seconds": 60, "generated_ms": 1764957600123,
//    "windows": [{"window_start_ms": 1764957540000, "region": "Africa" | null, "orders": 12,
//                 "revenue": 345.67, "refunds": 1, "out_rows": 0, "invalid": 0}, ...]}
// windows ordered by window_start_ms, then region (null last); only windows with records.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "sql/sql.h"

namespace saleslake::server::internal {

// kInvalidArgument for a name that is not a stream name; kNotFound when no stream has metrics
// (the server hosts no streams).
Result<nlohmann::json> StreamMetricsJson(const sql::Engine& engine, const std::string& stream, int64_t now_ms);

}  // namespace saleslake::server::internal
