// Demand forecasting for daily series: models, the automatic per-series choice, prediction
// intervals, rolling-origin backtests and a parallel driver for thousands of series.
//
//   forecast::ForecastOptions opt{.horizon = 28, .season = 7};
//   SL_ASSIGN_OR_RETURN(forecast::Forecast fc, forecast::ForecastSeries(values, opt));
//
// Models (ModelKind): naive, seasonal naive, mean, ETS (state-space exponential smoothing fitted
// by maximum likelihood; AutoETS picks by AICc), Theta, Croston / SBA / TSB for intermittent
// demand, and a regression on trend + day-of-week + event dummies. The references are R's
// forecast package (ets, thetaf, snaive, rwf, croston, tslm): with the same parameters the
// recursions, likelihoods and analytic intervals equal R's.
//
// The automatic choice (ModelKind::kAuto), in this order:
//   1. fewer than 4 observations            -> Mean
//   2. fewer than 2*season + 2 observations -> Naive (too short to estimate a weekly pattern)
//   3. intermittent: all values >= 0 and at least 40% of them zero -> SBA (Croston, debiased)
//   4. otherwise: the equal-weight combination of AutoETS, Theta (R's thetaf) and the regression
//      on trend + day-of-week (mean and interval bounds averaged; a member that fails is left
//      out). On the committed test series (generated demand + UCI Online Retail, 60 rolling
//      windows) it beats each member and R's ets, thetaf, tbats and auto.arima (bench/README.md).
// Any model whose forecast or interval is not finite falls back to seasonal naive (then naive),
// and the reason is kept in Forecast::note, so no NaN ever leaves this module. When the whole
// history is non-negative (sales), forecasts and lower bounds are clipped at 0.
//
// Thread safety: all functions are pure and may run concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace saleslake::forecast {

enum class ModelKind : uint8_t {
  kAuto,
  kNaive,
  kSeasonalNaive,
  kMean,
  kEts,
  kTheta,
  kCroston,
  kSba,
  kTsb,
  kRegression,
};

// auto | naive | snaive | mean | ets | theta | croston | sba | tsb | regression; an ETS model
// code such as "ets:AAdA" selects kEts with that fixed form (returned in *ets_model).
Result<ModelKind> ParseModelKind(std::string_view name, std::string* ets_model = nullptr);
std::string_view ModelKindName(ModelKind kind);

struct ForecastOptions {
  int horizon = 28;
  int season = 7;  // seasonal period in days; 1 = no seasonality
  ModelKind model = ModelKind::kAuto;
  // With kEts: a fixed form ("ANN", "AAdA", "MAM"...); empty = AutoETS over all admissible forms.
  std::string ets_model;
  // ETS: also optimise the initial seasonal states (as R does; ~3x slower).
  bool ets_optimise_seasonal_states = false;
  // Croston/SBA/TSB smoothing (R's croston default 0.1); TSB's probability smoothing.
  double intermittent_alpha = 0.1;
  double intermittent_beta = 0.1;
  // Seed for simulated intervals (multiplicative-season ETS).
  uint64_t seed = 42;
};

struct Forecast {
  std::string model;   // "ETS(A,Ad,A)", "Theta", "SNaive", "SBA", "Auto[ETS(A,N,A)+Theta]", ...
  std::string params;  // "alpha=0.123 beta=..." (model-specific, human readable)
  double aicc = 0;     // NaN unless the model has a likelihood (ETS)
  std::string note;    // why a fallback was taken; empty otherwise
  std::vector<double> mean, lo80, hi80, lo95, hi95;  // `horizon` values each, all finite
};

// Forecasts one daily series (consecutive days, no gaps: see series.h).
// `events`: empty, or y.size() + horizon 0/1 flags (holidays, planned promotions) used by the
// regression model. Fails with InvalidArgument for an empty series, a non-finite value, a bad
// option, or a series too short for an explicitly requested model.
Result<Forecast> ForecastSeries(std::span<const double> y, const ForecastOptions& options,
                                std::span<const uint8_t> events = {});

struct Metrics {
  double mae = 0;
  double rmse = 0;
  double smape = 0;  // percent, 0..200; terms where actual and forecast are both 0 count 0
  double mase = 0;   // MAE / in-sample seasonal-naive MAE of the training part; NaN if that is 0
  double coverage80 = 0;  // share of actuals inside [lo80, hi80]
  double coverage95 = 0;
  int points = 0;
};

// Accuracy of one forecast against `actual`; `train` (the data the model saw) scales MASE.
Metrics ComputeMetrics(std::span<const double> actual, const Forecast& forecast,
                       std::span<const double> train, int season);

struct BacktestWindow {
  int train_size = 0;  // the forecast origin: observations before the holdout
  std::string model;
  Metrics metrics;
};

struct Backtest {
  std::vector<BacktestWindow> windows;  // oldest origin first
  Metrics overall;                      // over all holdout points pooled (MASE: mean of windows)
};

// Rolling origin: `windows` consecutive holdouts of `horizon` days ending at the series' end;
// for each, the model is fitted on everything before the holdout. Fails when the series is
// shorter than windows * horizon + 4.
Result<Backtest> RunBacktest(std::span<const double> y, const ForecastOptions& options,
                             int windows, std::span<const uint8_t> events = {});

struct SeriesJob {
  std::span<const double> values;
  std::span<const uint8_t> events;  // optional, see ForecastSeries
};

struct SeriesOutcome {
  Status status;  // per series: one bad series does not stop the others
  Forecast forecast;
  std::optional<Backtest> backtest;
};

// Forecasts every job in parallel on ThreadPool::Default() (one series per task); with
// backtest_windows > 0 also runs the backtest. outcome[i] belongs to jobs[i]. `on_done`, when
// set, is called from the worker after each series (a progress line counts them).
std::vector<SeriesOutcome> ForecastAll(std::span<const SeriesJob> jobs,
                                       const ForecastOptions& options, int backtest_windows = 0,
                                       const std::function<void()>& on_done = {});

}  // namespace saleslake::forecast
