#include "server/internal/console_forecast.h"

#include <cmath>
#include <string>
#include <vector>

#include "common/types.h"
#include "forecast/forecast.h"
#include "forecast/series.h"

namespace saleslake::server::internal {

namespace {

using nlohmann::json;

// JSON has no NaN: a metric that is undefined (MASE of a flat series) is null.
json Finite(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

}  // namespace

Result<json> ForecastTileRows(const json& rows, const TileForecastOptions& options) {
  if (options.horizon < 1 || options.horizon > 366) return Status::InvalidArgument("forecast horizon must be 1 .. 366 days");
  if (options.season < 1 || options.season > 366) return Status::InvalidArgument("forecast season must be 1 .. 366 days");
  if (!rows.is_array() || rows.size() < 2) return Status::InvalidArgument("a forecast needs at least 2 days of data");
  forecast::SeriesBuilder builder({.gaps = forecast::GapPolicy::kZero, .duplicates = forecast::DuplicatePolicy::kError});
  for (size_t i = 0; i < rows.size(); ++i) {
    const json& r = rows[i];
    const std::string where = "row " + std::to_string(i + 1);
    if (!r.is_array() || r.size() < 2 || !r[0].is_string()) {
      return Status::InvalidArgument(where + ": a forecast tile's first column is the day (YYYY-MM-DD)");
    }
    std::string day_text = r[0].get<std::string>().substr(0, 10);
    auto day = ParseIsoDate(day_text);
    if (!day) return Status::InvalidArgument(where + ": \"" + r[0].get<std::string>() + "\" is not a day (YYYY-MM-DD)");
    double v = NAN;
    if (r[1].is_number()) {
      v = r[1].get<double>();
    } else if (!r[1].is_null()) {
      return Status::InvalidArgument(where + ": a forecast tile's second column is a number");
    }
    SL_RETURN_IF_ERROR(builder.Add({}, *day, v, static_cast<int64_t>(i + 1)));
  }
  SL_ASSIGN_OR_RETURN(std::vector<forecast::DailySeries> series, builder.Finish());
  const forecast::DailySeries& s = series.front();
  forecast::ForecastOptions fo{.horizon = options.horizon, .season = options.season};
  if (static_cast<int>(s.values.size()) < 2 * options.season) fo.season = 1;  // too short to see a season
  SL_ASSIGN_OR_RETURN(forecast::Forecast fc, forecast::ForecastSeries(s.values, fo));
  json out = {{"model", fc.model}, {"mean", fc.mean}, {"lo80", fc.lo80}, {"hi80", fc.hi80},
              {"lo95", fc.lo95},   {"hi95", fc.hi95}, {"backtest", nullptr}};
  if (!fc.note.empty()) out["note"] = fc.note;
  json dates = json::array();
  const int32_t first = s.start_day + static_cast<int32_t>(s.values.size());
  for (int h = 0; h < options.horizon; ++h) dates.push_back(FormatDate(first + h));
  out["dates"] = std::move(dates);
  // As many backtest windows as the history allows (RunBacktest needs windows * horizon + 4).
  int windows = options.backtest_windows;
  while (windows > 0 && static_cast<int>(s.values.size()) < windows * options.horizon + 4 + 2 * fo.season) --windows;
  if (windows > 0) {
    auto bt = forecast::RunBacktest(s.values, fo, windows);
    if (bt.ok()) {
      const forecast::Metrics& m = bt->overall;
      out["backtest"] = {{"windows", windows},     {"mae", Finite(m.mae)},
                         {"rmse", Finite(m.rmse)}, {"smape", Finite(m.smape)},
                         {"mase", Finite(m.mase)}, {"coverage80", Finite(m.coverage80)},
                         {"coverage95", Finite(m.coverage95)}};
    }
  }
  return out;
}

}  // namespace saleslake::server::internal
