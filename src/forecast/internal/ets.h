// Exponential smoothing in state-space form (ETS), as in Hyndman et al. (2008) and R's
// forecast::ets(): the recursions, the likelihood R reports, maximum-likelihood fitting, the
// AICc model selection (AutoETS) and the h-step forecast distribution.
//
// State vector, in R's order: [l, b (if trend), s_t, s_{t-1}, ..., s_{t-m+1} (if seasonal)].
// The recursions are R's error-correction form (the same for additive and multiplicative error;
// the error type only changes the likelihood), so fixed parameters give R's numbers.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace saleslake::forecast::internal {

enum class Component : uint8_t { kNone, kAdditive, kMultiplicative };

struct EtsSpec {
  Component error = Component::kAdditive;
  Component trend = Component::kNone;  // kNone or kAdditive (multiplicative trend unsupported)
  bool damped = false;
  Component season = Component::kNone;
  int m = 1;  // seasonal period when season != kNone

  int NumStates() const {
    return 1 + (trend != Component::kNone) + (season != Component::kNone ? m : 0);
  }
  // Free parameters R counts (smoothing parameters + initial states, the last seasonal state
  // excluded by the normalisation); sigma is not included.
  int NumFreeParams() const;
  // "ETS(A,Ad,M)".
  std::string Name() const;
};

// Parses "ANN", "AAdA", "MAM", "A,Ad,N" (error, trend, season). Fails on unknown letters or a
// multiplicative trend.
Result<EtsSpec> ParseEtsSpec(std::string_view code, int m);

struct EtsParams {
  double alpha = 0.1;
  double beta = 0.0;
  double gamma = 0.0;
  double phi = 1.0;
  std::vector<double> x0;  // full initial state (NumStates() values, the last seasonal included)
};

struct EtsRun {
  double lik = 0;       // R's objective: n*log(sum e^2) (+ 2*sum log|f| for M error); inf if invalid
  double sum_e2 = 0;    // sum of squared (relative, for M error) one-step errors
  double mse = 0;       // mean squared one-step error in data units (R's fit$mse)
  std::vector<double> final_state;
  std::vector<double> fitted;  // one-step forecasts (only when requested)
};

// Runs the recursions over y with fixed parameters. `want_fitted` also fills run->fitted.
// Returns false (lik = inf) when the model breaks down (non-positive forecast or state for a
// multiplicative component, non-finite values).
bool RunEts(std::span<const double> y, const EtsSpec& spec, const EtsParams& par, EtsRun* run,
            bool want_fitted = false);

struct EtsModel {
  EtsSpec spec;
  EtsParams par;
  std::vector<double> final_state;
  double loglik = 0;  // -0.5 * lik, as R's fit$loglik
  double aic = 0, aicc = 0, bic = 0;
  double sigma2 = 0;  // sum e^2 / (n - free params), as R's fit$sigma2
  double mse = 0;
  int n = 0;
};

// Information criteria for fixed parameters (R's etsmodel() formulas).
EtsModel EvaluateEts(std::span<const double> y, const EtsSpec& spec, const EtsParams& par);

struct EtsFitOptions {
  // Also optimise the initial seasonal states (slower; R does this). Off: they come from a
  // classical decomposition of the first weeks and only l0/b0 and the smoothing parameters are
  // optimised.
  bool optimise_seasonal_states = false;
  int max_evals = 1000;
  // Nelder-Mead stops when the simplex's objective values agree to this relative tolerance. The
  // objective is about n*log(SSE) (~2,000 for 237 days), so 1e-4 stops within ~0.2 of the optimum
  // in likelihood units: far below the AICc differences that decide a model, and 2.7x fewer
  // evaluations than R's 1e-8 (bench/README.md, issue #7).
  double reltol = 1e-4;
  // Warm start from a related fit (same data; AutoETS passes the additive-error twin of a
  // multiplicative-error form, and the undamped twin of a damped one): its smoothing parameters,
  // and its l0/b0 when trend and season agree, with a smaller initial simplex. Not owned.
  const EtsModel* start = nullptr;
};

// Maximum-likelihood fit of one ETS model. Fails with InvalidArgument when the series is too
// short for it (R's rule n > free params + 4), or a multiplicative component meets y <= 0.
Result<EtsModel> FitEts(std::span<const double> y, const EtsSpec& spec,
                        const EtsFitOptions& options = {});

// AutoETS: fits every admissible model (R's restricted set without multiplicative trend: A error
// with N/A season, M error with N/A/M season, trend N/A/Ad) and keeps the lowest AICc.
// Multiplicative error/season only when min(y) > 0; seasonal only when m > 1 and n >= 2m.
Result<EtsModel> AutoEts(std::span<const double> y, int m, const EtsFitOptions& options = {});

struct EtsForecast {
  std::vector<double> mean, lo80, hi80, lo95, hi95;
  bool analytic = true;  // false: intervals from simulated sample paths
};

// h-step forecasts from the fitted model. Intervals: R's analytic class 1 (A error, N/A season)
// and class 2 (M error, N/A season) variances with normal quantiles; otherwise quantiles of
// `paths` simulated sample paths (Gaussian errors, fixed seed).
EtsForecast ForecastEts(const EtsModel& model, int h, uint64_t seed = 42, int paths = 2000);

}  // namespace saleslake::forecast::internal
