#include "forecast/internal/models.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "fmt/format.h"
#include "forecast/internal/stats.h"

namespace saleslake::forecast::internal {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Fills symmetric normal intervals mean +- z * se.
void NormalIntervals(ModelOutput* out, const std::vector<double>& se) {
  const double z80 = QNorm(0.9), z95 = QNorm(0.975);
  const size_t h = out->mean.size();
  out->lo80.resize(h);
  out->hi80.resize(h);
  out->lo95.resize(h);
  out->hi95.resize(h);
  for (size_t i = 0; i < h; ++i) {
    out->lo80[i] = out->mean[i] - z80 * se[i];
    out->hi80[i] = out->mean[i] + z80 * se[i];
    out->lo95[i] = out->mean[i] - z95 * se[i];
    out->hi95[i] = out->mean[i] + z95 * se[i];
  }
}

// SSE of SES for this alpha with l0 solved exactly (the errors are linear in l0).
double SesSse(std::span<const double> y, double alpha, double* l0_out) {
  double l = 0, c = 1;  // l: level with l0 = 0; c: d(error)/d(l0) up to sign = (1-alpha)^t
  double sac = 0, scc = 0, saa = 0;
  for (double v : y) {
    const double a = v - l;
    sac += a * c;
    scc += c * c;
    saa += a * a;
    l += alpha * a;
    c *= 1 - alpha;
  }
  const double l0 = scc > 0 ? sac / scc : 0.0;
  if (l0_out != nullptr) *l0_out = l0;
  return saa - 2 * l0 * sac + l0 * l0 * scc;
}

// Final level, one-step SSE of SES with fixed alpha and l0.
double SesRun(std::span<const double> y, double alpha, double l0, double* sse) {
  double l = l0, s = 0;
  for (double v : y) {
    const double e = v - l;
    s += e * e;
    l += alpha * e;
  }
  *sse = s;
  return l;
}

}  // namespace

ModelOutput NaiveForecast(std::span<const double> y, int h) {
  ModelOutput out;
  out.name = "Naive";
  out.aicc = kNaN;
  const size_t n = y.size();
  double s = 0;
  for (size_t t = 1; t < n; ++t) s += (y[t] - y[t - 1]) * (y[t] - y[t - 1]);
  const double sigma = std::sqrt(s / static_cast<double>(n - 1));
  out.mean.assign(h, y[n - 1]);
  std::vector<double> se(h);
  for (int i = 0; i < h; ++i) se[i] = sigma * std::sqrt(i + 1.0);
  NormalIntervals(&out, se);
  return out;
}

ModelOutput SeasonalNaiveForecast(std::span<const double> y, int h, int m) {
  ModelOutput out;
  out.name = "SNaive";
  out.aicc = kNaN;
  const size_t n = y.size();
  double s = 0;
  for (size_t t = m; t < n; ++t) s += (y[t] - y[t - m]) * (y[t] - y[t - m]);
  const double mse = s / static_cast<double>(n - m);
  out.mean.resize(h);
  std::vector<double> se(h);
  for (int i = 0; i < h; ++i) {
    out.mean[i] = y[n - m + (i % m)];
    se[i] = std::sqrt(mse * (i / m + 1));
  }
  NormalIntervals(&out, se);
  return out;
}

ModelOutput MeanForecast(std::span<const double> y, int h) {
  ModelOutput out;
  out.name = "Mean";
  out.aicc = kNaN;
  const double n = static_cast<double>(y.size());
  double mean = 0;
  for (double v : y) mean += v;
  mean /= n;
  double var = 0;
  for (double v : y) var += (v - mean) * (v - mean);
  const double sd = n > 1 ? std::sqrt(var / (n - 1)) : 0.0;
  out.mean.assign(h, mean);
  const double se = sd * std::sqrt(1 + 1 / n);
  const double t80 = n > 1 ? QT(0.9, n - 1) : 0.0, t95 = n > 1 ? QT(0.975, n - 1) : 0.0;
  out.lo80.assign(h, mean - t80 * se);
  out.hi80.assign(h, mean + t80 * se);
  out.lo95.assign(h, mean - t95 * se);
  out.hi95.assign(h, mean + t95 * se);
  return out;
}

void FitSes(std::span<const double> y, double* alpha, double* l0) {
  // Coarse grid on alpha, then golden-section refinement around the best grid point.
  constexpr double kLo = 1e-4, kHi = 0.9999;
  constexpr int kGrid = 32;
  double grid[kGrid + 1];
  int best_i = 0;
  double best_v = std::numeric_limits<double>::infinity();
  for (int i = 0; i <= kGrid; ++i) {
    grid[i] = kLo + (kHi - kLo) * std::pow(static_cast<double>(i) / kGrid, 2.0);
    const double v = SesSse(y, grid[i], nullptr);
    if (v < best_v) {
      best_v = v;
      best_i = i;
    }
  }
  const double best_a = grid[best_i];
  double lo = grid[std::max(0, best_i - 1)], hi = grid[std::min(kGrid, best_i + 1)];
  constexpr double kG = 0.6180339887498949;
  double x1 = hi - kG * (hi - lo), x2 = lo + kG * (hi - lo);
  double f1 = SesSse(y, x1, nullptr), f2 = SesSse(y, x2, nullptr);
  for (int it = 0; it < 60 && hi - lo > 1e-9; ++it) {
    if (f1 < f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - kG * (hi - lo);
      f1 = SesSse(y, x1, nullptr);
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + kG * (hi - lo);
      f2 = SesSse(y, x2, nullptr);
    }
  }
  double a = 0.5 * (lo + hi);
  if (SesSse(y, a, nullptr) > best_v) a = best_a;
  *alpha = a;
  SesSse(y, a, l0);
}

ModelOutput ThetaForecast(std::span<const double> y, int h, int m, const ThetaOptions& opt) {
  const int n = static_cast<int>(y.size());
  bool constant = true;
  for (double v : y) constant = constant && v == y[0];
  bool seasonal = false;
  if (m > 1 && !constant && n > 2 * m) {
    std::vector<double> r = Acf(y, m);
    double s = 0;
    for (int k = 0; k < m - 1; ++k) s += r[k] * r[k];
    const double stat = std::sqrt((1 + 2 * s) / n);
    seasonal = std::fabs(r[m - 1]) / stat > QNorm(0.95);
  }
  std::vector<double> x(y.begin(), y.end());
  std::vector<double> fig;
  bool additive = false;
  if (seasonal) {
    fig = SeasonalFigure(y, m, /*multiplicative=*/true);
    bool finite = true, zero_index = false;
    for (double f : fig) {
      finite = finite && std::isfinite(f);
      zero_index = zero_index || std::fabs(f) < 1e-4;
    }
    if (!finite) {
      seasonal = false;
      fig.clear();
    } else if (zero_index && opt.additive_fallback) {
      fig = SeasonalFigure(y, m, /*multiplicative=*/false);
      additive = true;
      for (int i = 0; i < n; ++i) x[i] = y[i] - fig[i % m];
    } else if (!zero_index) {
      for (int i = 0; i < n; ++i) x[i] = y[i] / fig[i % m];
    }
    // else: R's thetaf() warns and skips the adjustment, yet still multiplies the forecasts by
    // the (near-zero) indices; we reproduce that when additive_fallback is off.
  }
  double alpha, l0;
  if (opt.alpha) {
    alpha = *opt.alpha;
    if (opt.l0) l0 = *opt.l0;
    else SesSse(x, alpha, &l0);
  } else {
    FitSes(x, &alpha, &l0);
  }
  double sse;
  const double level = SesRun(x, alpha, l0, &sse);
  const double sigma2 = sse / std::max(1, n - 2);
  double intercept, slope;
  LinearTrend(x, &intercept, &slope);
  const double drift = slope / 2;
  const double a = std::max(1e-10, alpha);
  ModelOutput out;
  out.name = "Theta";
  out.aicc = kNaN;
  out.params = fmt::format("alpha={:.6g} l0={:.6g} drift={:.6g}{}", alpha, l0, drift,
                           seasonal ? (additive ? " season=additive" : " season=multiplicative")
                                    : "");
  out.mean.resize(h);
  std::vector<double> se(h);
  const double base = (1 - std::pow(1 - a, n)) / a;
  for (int i = 0; i < h; ++i) {
    double f = level + drift * (i + base);
    if (seasonal) {
      const double s = fig[(n + i) % m];
      f = additive ? f + s : f * s;
    }
    out.mean[i] = f;
    se[i] = std::sqrt(sigma2) * std::sqrt(i * a * a + 1);
  }
  NormalIntervals(&out, se);
  return out;
}

Result<ModelOutput> IntermittentForecast(std::span<const double> y, int h, IntermittentMethod method,
                                         double alpha, double beta) {
  const int n = static_cast<int>(y.size());
  std::vector<double> sizes;
  std::vector<double> gaps;
  int last = -1;
  for (int t = 0; t < n; ++t) {
    if (y[t] < 0) {
      return Status::InvalidArgument(fmt::format(
          "intermittent-demand models need non-negative values; value {} at position {}", y[t], t + 1));
    }
    if (y[t] > 0) {
      sizes.push_back(y[t]);
      gaps.push_back(t - last);
      last = t;
    }
  }
  ModelOutput out;
  out.aicc = kNaN;
  out.name = method == IntermittentMethod::kCroston ? "Croston"
             : method == IntermittentMethod::kSba   ? "SBA"
                                                    : "TSB";
  double size_f = 0, prob = 0;
  if (!sizes.empty()) {
    if (method == IntermittentMethod::kTsb) {
      double z = sizes[0], p = static_cast<double>(sizes.size()) / n;
      for (int t = 0; t < n; ++t) {
        if (y[t] > 0) {
          z += alpha * (y[t] - z);
          p += beta * (1 - p);
        } else {
          p += beta * (0 - p);
        }
      }
      size_f = z;
      prob = p;
      out.params = fmt::format("alpha={:.6g} beta={:.6g} size={:.6g} p={:.6g}", alpha, beta, z, p);
    } else {
      double z = sizes[0], q = gaps[0];
      for (size_t k = 1; k < sizes.size(); ++k) {
        z += alpha * (sizes[k] - z);
        q += alpha * (gaps[k] - q);
      }
      size_f = z;
      prob = std::min(1.0, 1.0 / q);
      double ratio = z / q;
      if (method == IntermittentMethod::kSba) ratio *= 1 - alpha / 2;
      out.params = fmt::format("alpha={:.6g} size={:.6g} interval={:.6g}", alpha, z, q);
      out.mean.assign(h, ratio);
    }
  } else {
    out.params = "all zero";
  }
  if (out.mean.empty()) out.mean.assign(h, size_f * prob);
  const double fmean = out.mean.empty() ? 0.0 : out.mean[0];
  // Quantiles of the mixture: zero with probability 1 - p, else a rescaled observed size.
  auto quantile = [&](double q) {
    if (sizes.empty() || prob <= 0) return 0.0;
    const double p = std::clamp(prob, 1e-9, 1.0);
    if (q <= 1 - p) return 0.0;
    std::vector<double> s = sizes;
    double mean_size = 0;
    for (double v : s) mean_size += v;
    mean_size /= static_cast<double>(s.size());
    const double scale = mean_size > 0 ? (fmean / p) / mean_size : 1.0;
    return Quantile(s, std::clamp((q - (1 - p)) / p, 0.0, 1.0)) * scale;
  };
  out.lo80.assign(h, quantile(0.10));
  out.hi80.assign(h, quantile(0.90));
  out.lo95.assign(h, quantile(0.025));
  out.hi95.assign(h, quantile(0.975));
  return out;
}

Result<ModelOutput> RegressionForecast(std::span<const double> y, int h, int m,
                                       std::span<const uint8_t> events) {
  const int n = static_cast<int>(y.size());
  if (!events.empty() && events.size() != y.size() + h) {
    return Status::InvalidArgument(fmt::format(
        "regression: event flags must cover history and horizon ({} values), got {}", n + h,
        events.size()));
  }
  bool use_events = false;
  for (int t = 0; t < n && !events.empty(); ++t) use_events = use_events || events[t] != 0;
  const int ms = m > 1 ? m : 1;
  const int p = 2 + (ms - 1) + (use_events ? 1 : 0);
  if (n < p + 2) {
    return Status::InvalidArgument(fmt::format(
        "regression needs at least {} observations, the series has {}", p + 2, n));
  }
  auto row = [&](int t, double* r) {
    r[0] = 1;
    r[1] = t + 1;
    for (int k = 1; k < ms; ++k) r[1 + k] = (t % ms) == k ? 1.0 : 0.0;
    if (use_events) r[p - 1] = events[t] ? 1.0 : 0.0;
  };
  std::vector<double> x(static_cast<size_t>(n) * p);
  std::vector<double> r(p);
  for (int t = 0; t < n; ++t) {
    row(t, r.data());
    for (int j = 0; j < p; ++j) x[static_cast<size_t>(j) * n + t] = r[j];
  }
  std::vector<double> beta, inv;
  if (!LeastSquares(x, n, p, y, &beta, &inv)) {
    return Status::InvalidArgument("regression: the design matrix is singular");
  }
  double sse = 0;
  for (int t = 0; t < n; ++t) {
    row(t, r.data());
    double f = 0;
    for (int j = 0; j < p; ++j) f += r[j] * beta[j];
    sse += (y[t] - f) * (y[t] - f);
  }
  const double df = n - p;
  const double s2 = sse / df;
  ModelOutput out;
  out.name = "Regression";
  out.aicc = kNaN;
  out.params = fmt::format("intercept={:.6g} trend={:.6g}{}", beta[0], beta[1],
                           use_events ? fmt::format(" event={:.6g}", beta[p - 1]) : "");
  const double t80 = QT(0.9, df), t95 = QT(0.975, df);
  out.mean.resize(h);
  out.lo80.resize(h);
  out.hi80.resize(h);
  out.lo95.resize(h);
  out.hi95.resize(h);
  for (int i = 0; i < h; ++i) {
    row(n + i, r.data());
    double f = 0, lev = 0;
    for (int j = 0; j < p; ++j) {
      f += r[j] * beta[j];
      for (int k = 0; k < p; ++k) lev += r[j] * inv[j * p + k] * r[k];
    }
    const double se = std::sqrt(s2 * (1 + lev));
    out.mean[i] = f;
    out.lo80[i] = f - t80 * se;
    out.hi80[i] = f + t80 * se;
    out.lo95[i] = f - t95 * se;
    out.hi95[i] = f + t95 * se;
  }
  return out;
}

}  // namespace saleslake::forecast::internal
