// `forecast --plot FILE.png|FILE.svg`: one panel per series with the recent history, the
// forecast and its 80% and 95% bands, drawn with cairo (Debian libcairo2-dev).
// Thread safety: pure function (cairo surfaces are local).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace saleslake::cli {

struct PlotSeries {
  std::string label;               // "EU" or "the series"
  int32_t history_start = 0;       // day number of history[0]
  std::vector<double> history;     // the days shown (the caller keeps the recent part)
  std::vector<double> mean, lo80, hi80, lo95, hi95;  // the forecast, from the day after history
};

// At most this many panels; the caller says when there were more.
constexpr size_t kMaxPlotPanels = 6;

// Writes the image; the format follows the extension (.png or .svg). kInvalidArgument for
// another extension or no series, kIOError when the file cannot be written.
Status PlotForecasts(const std::string& path, const std::vector<PlotSeries>& series,
                     const std::string& value_name);

}  // namespace saleslake::cli
