// Dashboards of the web console: JSON files under the lake's dashboards/ folder (versionable,
// editable in the UI, or declared in pipeline.yaml's `dashboards:` section and written by
// deploy), validated on load, on save and on deploy with "name:line:col: reason" errors.
//
//   {"title": "Sales performance", "refresh_seconds": 300,
//    "tiles": [{"id": "revenue", "title": "Revenue", "type": "kpi", "format": "currency",
//               "sql": "SELECT sum(amount) AS value FROM sales_data", "w": 2, "h": 1}, ...]}
//
// refresh_seconds: 0 = off, else 10 .. 86400. Tile types: kpi, line, bar, pie, table, heatmap,
// quality (its SQL's first value as a KPI beside the quarantined rows of each run of its "job");
// formats: number, currency, percent. A line tile may ask for "forecast": {"horizon", "season"}
// (days, 1 .. 366). Unknown keys are refused (a typo must not pass silently).
// Thread safety: pure functions.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace saleslake::stack {

// The "Sales performance" dashboard `saleslake init` writes to dashboards/sales-performance.json.
std::string DefaultDashboardJson();
constexpr std::string_view kDefaultDashboardKey = "dashboards/sales-performance.json";

// A check of one tile's SQL at save time: nullopt when acceptable, else the reason.
using TileSqlCheck = std::function<std::optional<std::string>(std::string_view sql)>;

// The check the console's save and deploy apply: tiles run read-only statements only.
std::optional<std::string> TileSqlIsAQuery(std::string_view sql);

// Where a dashboard's text starts inside a larger file (a block scalar of pipeline.yaml): the
// 1-based line of its first line, and the indentation every one of its lines has there.
struct TextOrigin {
  size_t line = 1;
  size_t indent = 0;
};

// Parses and validates a dashboard. kInvalidArgument "NAME:LINE:COL: reason" (1-based, counted
// from `origin`) for bad JSON or a field that breaks the rules above; with `check_sql`, also for
// a tile whose SQL it refuses (the position is the start of that "sql" value).
Result<nlohmann::json> ParseDashboard(std::string_view text, std::string_view name,
                                      const TileSqlCheck& check_sql = {}, TextOrigin origin = {});

// A dashboard id (the file name without .json): [a-z0-9][a-z0-9_-]{0,63}.
bool ValidDashboardId(std::string_view id);

}  // namespace saleslake::stack
