#include "forecast/forecast.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/thread_pool.h"
#include "fmt/format.h"
#include "forecast/internal/ets.h"
#include "forecast/internal/models.h"

namespace saleslake::forecast {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kIntermittentZeroShare = 0.4;

Forecast FromOutput(internal::ModelOutput&& m) {
  Forecast f;
  f.model = std::move(m.name);
  f.params = std::move(m.params);
  f.aicc = m.aicc;
  f.mean = std::move(m.mean);
  f.lo80 = std::move(m.lo80);
  f.hi80 = std::move(m.hi80);
  f.lo95 = std::move(m.lo95);
  f.hi95 = std::move(m.hi95);
  return f;
}

bool AllFinite(const Forecast& f) {
  for (const auto* v : {&f.mean, &f.lo80, &f.hi80, &f.lo95, &f.hi95}) {
    for (double x : *v) {
      if (!std::isfinite(x)) return false;
    }
  }
  return true;
}

Result<Forecast> FitEtsForecast(std::span<const double> y, const ForecastOptions& opt) {
  internal::EtsFitOptions fo;
  fo.optimise_seasonal_states = opt.ets_optimise_seasonal_states;
  internal::EtsModel model;
  if (opt.ets_model.empty()) {
    SL_ASSIGN_OR_RETURN(model, internal::AutoEts(y, opt.season, fo));
  } else {
    SL_ASSIGN_OR_RETURN(internal::EtsSpec spec, internal::ParseEtsSpec(opt.ets_model, opt.season));
    SL_ASSIGN_OR_RETURN(model, internal::FitEts(y, spec, fo));
  }
  internal::EtsForecast ef = internal::ForecastEts(model, opt.horizon, opt.seed);
  Forecast f;
  f.model = model.spec.Name();
  f.params = fmt::format("alpha={:.6g}", model.par.alpha);
  if (model.spec.trend != internal::Component::kNone) f.params += fmt::format(" beta={:.6g}", model.par.beta);
  if (model.spec.season != internal::Component::kNone) f.params += fmt::format(" gamma={:.6g}", model.par.gamma);
  if (model.spec.damped) f.params += fmt::format(" phi={:.6g}", model.par.phi);
  f.params += fmt::format(" sigma2={:.6g}", model.sigma2);
  f.aicc = model.aicc;
  f.mean = std::move(ef.mean);
  f.lo80 = std::move(ef.lo80);
  f.hi80 = std::move(ef.hi80);
  f.lo95 = std::move(ef.lo95);
  f.hi95 = std::move(ef.hi95);
  return f;
}

// Runs exactly the requested model; `kAuto` is resolved by the caller.
Result<Forecast> RunModel(ModelKind kind, std::span<const double> y, const ForecastOptions& opt,
                          std::span<const uint8_t> events) {
  const int n = static_cast<int>(y.size());
  const int h = opt.horizon;
  const int m = opt.season;
  auto too_short = [&](std::string_view model, int need) {
    return Status::InvalidArgument(fmt::format("{} needs at least {} observations, the series has {}",
                                               model, need, n));
  };
  switch (kind) {
    case ModelKind::kMean:
      return FromOutput(internal::MeanForecast(y, h));
    case ModelKind::kNaive:
      if (n < 2) return too_short("naive", 2);
      return FromOutput(internal::NaiveForecast(y, h));
    case ModelKind::kSeasonalNaive:
      if (m <= 1) return FromOutput(internal::NaiveForecast(y, h));
      if (n <= m) return too_short("snaive", m + 1);
      return FromOutput(internal::SeasonalNaiveForecast(y, h, m));
    case ModelKind::kEts:
      return FitEtsForecast(y, opt);
    case ModelKind::kTheta: {
      if (n < 3) return too_short("theta", 3);
      internal::ThetaOptions to;
      to.additive_fallback = false;
      return FromOutput(internal::ThetaForecast(y, h, m, to));
    }
    case ModelKind::kCroston:
    case ModelKind::kSba:
    case ModelKind::kTsb: {
      const auto method = kind == ModelKind::kCroston ? internal::IntermittentMethod::kCroston
                          : kind == ModelKind::kSba   ? internal::IntermittentMethod::kSba
                                                      : internal::IntermittentMethod::kTsb;
      SL_ASSIGN_OR_RETURN(internal::ModelOutput out,
                          internal::IntermittentForecast(y, h, method, opt.intermittent_alpha,
                                                         opt.intermittent_beta));
      return FromOutput(std::move(out));
    }
    case ModelKind::kRegression: {
      SL_ASSIGN_OR_RETURN(internal::ModelOutput out, internal::RegressionForecast(y, h, m, events));
      return FromOutput(std::move(out));
    }
    case ModelKind::kAuto:
      break;
  }
  return Status::Internal("RunModel called with kAuto");
}

Result<Forecast> AutoForecast(std::span<const double> y, const ForecastOptions& opt,
                              std::span<const uint8_t> events) {
  const int n = static_cast<int>(y.size());
  const int m = opt.season;
  if (n < 4) {
    SL_ASSIGN_OR_RETURN(Forecast f, RunModel(ModelKind::kMean, y, opt, events));
    f.note = "series too short for any other model";
    return f;
  }
  if (m > 1 && n < 2 * m + 2) {
    SL_ASSIGN_OR_RETURN(Forecast f, RunModel(ModelKind::kNaive, y, opt, events));
    f.note = "series too short for seasonal models";
    return f;
  }
  int zeros = 0;
  bool nonneg = true;
  for (double v : y) {
    zeros += v == 0;
    nonneg = nonneg && v >= 0;
  }
  if (nonneg && zeros >= kIntermittentZeroShare * n) {
    return RunModel(ModelKind::kSba, y, opt, events);
  }
  // Equal-weight combination of AutoETS, Theta and the trend + day-of-week regression; members
  // that fail or break down numerically are left out.
  std::vector<Forecast> members;
  std::string names, params;
  for (ModelKind k : {ModelKind::kEts, ModelKind::kTheta, ModelKind::kRegression}) {
    auto r = RunModel(k, y, opt, events);
    if (!r.ok() || !AllFinite(*r)) continue;
    names += (names.empty() ? "" : "+") + r->model;
    params += (params.empty() ? "" : "; ") + r->model + ": " + r->params;
    members.push_back(std::move(r).value());
  }
  if (members.empty()) return RunModel(ModelKind::kSeasonalNaive, y, opt, events);
  if (members.size() == 1) return std::move(members[0]);
  Forecast f;
  f.model = "Auto[" + names + "]";
  f.params = params;
  f.aicc = members[0].model.rfind("ETS", 0) == 0 ? members[0].aicc : kNaN;
  const int h = opt.horizon;
  const double w = 1.0 / static_cast<double>(members.size());
  for (auto [dst, get] : {std::pair{&f.mean, &Forecast::mean}, {&f.lo80, &Forecast::lo80},
                          {&f.hi80, &Forecast::hi80}, {&f.lo95, &Forecast::lo95},
                          {&f.hi95, &Forecast::hi95}}) {
    dst->assign(h, 0.0);
    for (const Forecast& mb : members) {
      for (int i = 0; i < h; ++i) (*dst)[i] += w * (mb.*get)[i];
    }
  }
  return f;
}

}  // namespace

Result<ModelKind> ParseModelKind(std::string_view name, std::string* ets_model) {
  static constexpr std::pair<std::string_view, ModelKind> kNames[] = {
      {"auto", ModelKind::kAuto},       {"naive", ModelKind::kNaive},
      {"snaive", ModelKind::kSeasonalNaive}, {"mean", ModelKind::kMean},
      {"ets", ModelKind::kEts},         {"theta", ModelKind::kTheta},
      {"croston", ModelKind::kCroston}, {"sba", ModelKind::kSba},
      {"tsb", ModelKind::kTsb},         {"regression", ModelKind::kRegression},
  };
  if (name.substr(0, 4) == "ets:" && name.size() > 4) {
    SL_RETURN_IF_ERROR(internal::ParseEtsSpec(name.substr(4), 7).status());
    if (ets_model != nullptr) *ets_model = std::string(name.substr(4));
    return ModelKind::kEts;
  }
  for (const auto& [n, k] : kNames) {
    if (n == name) return k;
  }
  return Status::InvalidArgument(
      "unknown model '" + std::string(name) +
      "': expected auto, naive, snaive, mean, ets, ets:<ANN|AAdA|MAM|...>, theta, croston, sba, "
      "tsb or regression");
}

std::string_view ModelKindName(ModelKind kind) {
  switch (kind) {
    case ModelKind::kAuto: return "auto";
    case ModelKind::kNaive: return "naive";
    case ModelKind::kSeasonalNaive: return "snaive";
    case ModelKind::kMean: return "mean";
    case ModelKind::kEts: return "ets";
    case ModelKind::kTheta: return "theta";
    case ModelKind::kCroston: return "croston";
    case ModelKind::kSba: return "sba";
    case ModelKind::kTsb: return "tsb";
    case ModelKind::kRegression: return "regression";
  }
  return "?";
}

Result<Forecast> ForecastSeries(std::span<const double> y, const ForecastOptions& opt,
                                std::span<const uint8_t> events) {
  if (opt.horizon < 1 || opt.horizon > 100000) {
    return Status::InvalidArgument(fmt::format("horizon must be in 1..100000, got {}", opt.horizon));
  }
  if (opt.season < 1 || opt.season > 366) {
    return Status::InvalidArgument(fmt::format("season must be in 1..366, got {}", opt.season));
  }
  if (y.empty()) return Status::InvalidArgument("the series is empty");
  for (size_t i = 0; i < y.size(); ++i) {
    if (!std::isfinite(y[i])) {
      return Status::InvalidArgument(
          fmt::format("value {} at position {} is not a finite number", y[i], i + 1));
    }
  }
  if (!events.empty() && events.size() != y.size() + opt.horizon) {
    return Status::InvalidArgument(fmt::format(
        "event flags must cover history and horizon ({} values), got {}", y.size() + opt.horizon,
        events.size()));
  }
  Result<Forecast> r = opt.model == ModelKind::kAuto ? AutoForecast(y, opt, events)
                                                     : RunModel(opt.model, y, opt, events);
  if (!r.ok()) return r;
  Forecast f = std::move(r).value();
  if (!AllFinite(f)) {
    // Documented fallback: a model that broke down numerically never leaks a NaN.
    std::string broken = f.model;
    const bool seasonal = opt.season > 1 && static_cast<int>(y.size()) > opt.season;
    auto fb = RunModel(seasonal ? ModelKind::kSeasonalNaive
                                : (y.size() >= 2 ? ModelKind::kNaive : ModelKind::kMean),
                       y, opt, events);
    if (!fb.ok()) return fb.status();
    f = std::move(fb).value();
    f.note = broken + " produced non-finite values; fell back to " + f.model;
    if (!AllFinite(f)) {
      f = FromOutput(internal::MeanForecast(y, opt.horizon));
      f.note = broken + " produced non-finite values; fell back to Mean";
    }
  }
  bool nonneg = true;
  for (double v : y) nonneg = nonneg && v >= 0;
  if (nonneg) {
    for (auto* v : {&f.mean, &f.lo80, &f.hi80, &f.lo95, &f.hi95}) {
      for (double& x : *v) x = std::max(x, 0.0);
    }
  }
  // Simulated or averaged bounds can cross the mean by rounding; keep lo <= mean <= hi.
  for (int i = 0; i < opt.horizon; ++i) {
    f.lo95[i] = std::min(f.lo95[i], f.mean[i]);
    f.lo80[i] = std::min(std::max(f.lo80[i], f.lo95[i]), f.mean[i]);
    f.hi95[i] = std::max(f.hi95[i], f.mean[i]);
    f.hi80[i] = std::max(std::min(f.hi80[i], f.hi95[i]), f.mean[i]);
  }
  return f;
}

Metrics ComputeMetrics(std::span<const double> actual, const Forecast& fc,
                       std::span<const double> train, int season) {
  Metrics mt;
  const size_t n = std::min(actual.size(), fc.mean.size());
  double abs_sum = 0, sq_sum = 0, smape = 0;
  int in80 = 0, in95 = 0;
  for (size_t i = 0; i < n; ++i) {
    const double a = actual[i], f = fc.mean[i];
    const double e = a - f;
    abs_sum += std::fabs(e);
    sq_sum += e * e;
    const double den = std::fabs(a) + std::fabs(f);
    if (den > 0) smape += 200.0 * std::fabs(e) / den;
    in80 += a >= fc.lo80[i] && a <= fc.hi80[i];
    in95 += a >= fc.lo95[i] && a <= fc.hi95[i];
  }
  mt.points = static_cast<int>(n);
  if (n == 0) return mt;
  const double dn = static_cast<double>(n);
  mt.mae = abs_sum / dn;
  mt.rmse = std::sqrt(sq_sum / dn);
  mt.smape = smape / dn;
  mt.coverage80 = in80 / dn;
  mt.coverage95 = in95 / dn;
  const size_t lag = season > 1 && train.size() > static_cast<size_t>(season) ? season : 1;
  double scale = 0;
  size_t cnt = 0;
  for (size_t t = lag; t < train.size(); ++t, ++cnt) scale += std::fabs(train[t] - train[t - lag]);
  mt.mase = cnt > 0 && scale > 0 ? mt.mae / (scale / cnt) : kNaN;
  return mt;
}

Result<Backtest> RunBacktest(std::span<const double> y, const ForecastOptions& opt, int windows,
                             std::span<const uint8_t> events) {
  if (windows < 1) return Status::InvalidArgument(fmt::format("backtest windows must be >= 1, got {}", windows));
  const int n = static_cast<int>(y.size());
  const int h = opt.horizon;
  if (n < windows * h + 4) {
    return Status::InvalidArgument(fmt::format(
        "backtest with {} windows of {} days needs at least {} observations, the series has {}",
        windows, h, windows * h + 4, n));
  }
  if (!events.empty() && events.size() != y.size() + h) {
    return Status::InvalidArgument("event flags must cover history and horizon");
  }
  Backtest bt;
  double abs_sum = 0, sq_sum = 0, smape_sum = 0, mase_sum = 0;
  int in80 = 0, in95 = 0, points = 0, mase_n = 0;
  for (int w = windows; w >= 1; --w) {
    const int origin = n - w * h;
    std::span<const double> train = y.subspan(0, origin);
    std::span<const double> test = y.subspan(origin, h);
    std::vector<uint8_t> ev;
    if (!events.empty()) ev.assign(events.begin(), events.begin() + origin + h);
    SL_ASSIGN_OR_RETURN(Forecast fc, ForecastSeries(train, opt, ev));
    BacktestWindow bw;
    bw.train_size = origin;
    bw.model = fc.model;
    bw.metrics = ComputeMetrics(test, fc, train, opt.season);
    const double k = bw.metrics.points;
    abs_sum += bw.metrics.mae * k;
    sq_sum += bw.metrics.rmse * bw.metrics.rmse * k;
    smape_sum += bw.metrics.smape * k;
    in80 += static_cast<int>(std::lround(bw.metrics.coverage80 * k));
    in95 += static_cast<int>(std::lround(bw.metrics.coverage95 * k));
    points += bw.metrics.points;
    if (std::isfinite(bw.metrics.mase)) {
      mase_sum += bw.metrics.mase;
      ++mase_n;
    }
    bt.windows.push_back(std::move(bw));
  }
  Metrics& o = bt.overall;
  o.points = points;
  o.mae = abs_sum / points;
  o.rmse = std::sqrt(sq_sum / points);
  o.smape = smape_sum / points;
  o.coverage80 = static_cast<double>(in80) / points;
  o.coverage95 = static_cast<double>(in95) / points;
  o.mase = mase_n > 0 ? mase_sum / mase_n : kNaN;
  return bt;
}

std::vector<SeriesOutcome> ForecastAll(std::span<const SeriesJob> jobs,
                                       const ForecastOptions& options, int backtest_windows,
                                       const std::function<void()>& on_done) {
  std::vector<SeriesOutcome> out(jobs.size());
  ThreadPool::Default().ParallelFor(jobs.size(), [&](size_t i) {
    SeriesOutcome& o = out[i];
    auto fc = ForecastSeries(jobs[i].values, options, jobs[i].events);
    if (!fc.ok()) {
      o.status = fc.status();
    } else {
      o.forecast = std::move(fc).value();
      if (backtest_windows > 0) {
        auto bt = RunBacktest(jobs[i].values, options, backtest_windows, jobs[i].events);
        if (bt.ok()) o.backtest = std::move(bt).value();
        else o.status = bt.status().WithContext("backtest");
      }
    }
    if (on_done) on_done();
  });
  return out;
}

}  // namespace saleslake::forecast
