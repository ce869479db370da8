// Forecast bands for the console's line tiles: the tile's rows (first column a day
// "YYYY-MM-DD", second the value, one row per day) become a daily series (missing days sold
// nothing), forecast by the forecast module's automatic model choice, with 80/95% bands and
// the rolling-origin backtest error of the same model (shown in the tooltip).
// Thread safety: a pure function.
#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace saleslake::server::internal {

struct TileForecastOptions {
  int horizon = 28;          // days ahead, 1 .. 366
  int season = 7;            // 1 = no seasonality
  int backtest_windows = 3;  // fewer when the series is short; 0 = no backtest
};

// {"model", "dates": [...], "mean", "lo80", "hi80", "lo95", "hi95",
//  "backtest": {"windows", "mae", "rmse", "smape", "mase", "coverage80", "coverage95"} | null}.
// kInvalidArgument when a row's first cell is not a date or its second not a number (NULL is a
// missing day), for duplicate days or fewer than 2 rows (with the row number).
Result<nlohmann::json> ForecastTileRows(const nlohmann::json& rows, const TileForecastOptions& options);

}  // namespace saleslake::server::internal
