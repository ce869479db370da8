// The models besides ETS: naive and seasonal naive (R's rwf/snaive), the Theta method (R's
// thetaf), Croston / SBA / TSB for intermittent demand, a linear regression on trend, season
// dummies and event dummies (R's tslm), and the mean (R's meanf) for very short series.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace saleslake::forecast::internal {

struct ModelOutput {
  std::string name;    // "Naive", "SNaive", "Theta", "Croston", "SBA", "TSB", "Regression", ...
  std::string params;  // "alpha=0.1234 ..."
  double aicc = 0;     // NaN when the model has no likelihood
  std::vector<double> mean, lo80, hi80, lo95, hi95;
};

// Naive: the last value; se_h = sigma*sqrt(h), sigma^2 = mean squared one-step residual.
// REQUIRES: y.size() >= 2.
ModelOutput NaiveForecast(std::span<const double> y, int h);
// Seasonal naive: the value one season back; se_h = sigma*sqrt(ceil(h/m)).
// REQUIRES: y.size() > m.
ModelOutput SeasonalNaiveForecast(std::span<const double> y, int h, int m);
// Mean of the series with Student t intervals (R's meanf). REQUIRES: y.size() >= 1.
ModelOutput MeanForecast(std::span<const double> y, int h);

struct ThetaOptions {
  // Fixed SES parameters (golden tests feed R's); empty = optimised (SSE, l0 solved exactly).
  std::optional<double> alpha;
  std::optional<double> l0;
  // R falls back to the non-seasonal method when a multiplicative seasonal index is ~0 (e.g. a
  // weekday without trade); with this set we deseasonalise additively instead.
  bool additive_fallback = false;
};
// R's thetaf(): a seasonality test on the lag-m autocorrelation, classical multiplicative
// decomposition, SES with drift equal to half the linear trend slope. REQUIRES: y.size() >= 3.
ModelOutput ThetaForecast(std::span<const double> y, int h, int m, const ThetaOptions& opt = {});

// SES (ETS(A,N,N)) fitted by least squares: returns alpha and l0 (l0 solved in closed form for
// each alpha). REQUIRES: y.size() >= 2.
void FitSes(std::span<const double> y, double* alpha, double* l0);

enum class IntermittentMethod { kCroston, kSba, kTsb };
// Croston (R's croston(): SES with alpha on sizes and intervals, initial = first values), SBA
// (Croston times 1 - alpha/2) and TSB (probability updated every period). Intervals come from
// the Bernoulli x size mixture: P(0) = 1 - p and sizes distributed as the observed non-zero
// sizes rescaled to the forecast size. Fails on negative values.
Result<ModelOutput> IntermittentForecast(std::span<const double> y, int h, IntermittentMethod method,
                                         double alpha = 0.1, double beta = 0.1);

// OLS of y on intercept, trend (1..n), m-1 season dummies (position t mod m, position 0 the
// baseline) and, when `events` has a 1 in the history, an event dummy. `events` is empty or has
// y.size() + h flags (the future part must be known: holidays, planned promotions). Intervals
// use Student t quantiles with the exact leverage term (R's forecast.lm).
Result<ModelOutput> RegressionForecast(std::span<const double> y, int h, int m,
                                       std::span<const uint8_t> events = {});

}  // namespace saleslake::forecast::internal
