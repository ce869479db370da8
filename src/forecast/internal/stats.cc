#include "forecast/internal/stats.h"

#include <algorithm>
#include <cmath>

namespace saleslake::forecast::internal {
namespace {

constexpr double kSqrt2 = 1.4142135623730950488;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

// Continued fraction for the regularised incomplete beta (modified Lentz).
double BetaContinuedFraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  const double qab = a + b, qap = a + 1.0, qam = a - 1.0;
  double c = 1.0;
  double d = 1.0 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 1000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1.0) < 1e-16) break;
  }
  return h;
}

// I_x(a, b).
double IncompleteBeta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) +
               b * std::log1p(-x));
  if (x < (a + 1.0) / (a + b + 2.0)) return front * BetaContinuedFraction(a, b, x) / a;
  return 1.0 - front * BetaContinuedFraction(b, a, 1.0 - x) / b;
}

double DensityT(double t, double df) {
  return std::exp(std::lgamma((df + 1) / 2) - std::lgamma(df / 2) -
                  0.5 * std::log(df * M_PI) - (df + 1) / 2 * std::log1p(t * t / df));
}

}  // namespace

double PNorm(double x) { return 0.5 * std::erfc(-x / kSqrt2); }

double QNorm(double p) {
  if (p <= 0.0) return -INFINITY;
  if (p >= 1.0) return INFINITY;
  if (p > 0.5) return -QNorm(1.0 - p);
  // Abramowitz & Stegun 26.2.23 as the start (error < 4.5e-4), then Halley steps.
  const double t = std::sqrt(-2.0 * std::log(p));
  double x = -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
                       (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t));
  for (int i = 0; i < 4; ++i) {
    const double f = PNorm(x) - p;
    const double dens = kInvSqrt2Pi * std::exp(-0.5 * x * x);
    if (dens <= 0) break;
    const double u = f / dens;
    x -= u / (1.0 + 0.5 * x * u);
  }
  return x;
}

double PT(double t, double df) {
  const double tail = 0.5 * IncompleteBeta(df / 2.0, 0.5, df / (df + t * t));
  return t > 0 ? 1.0 - tail : tail;
}

double QT(double p, double df) {
  if (p <= 0.0) return -INFINITY;
  if (p >= 1.0) return INFINITY;
  if (p < 0.5) return -QT(1.0 - p, df);
  if (p == 0.5) return 0.0;
  // Bracket [lo, hi] with PT(lo) <= p <= PT(hi), then safeguarded Newton.
  double lo = 0.0, hi = std::max(1.0, QNorm(p));
  while (PT(hi, df) < p && hi < 1e12) {
    lo = hi;
    hi *= 2.0;
  }
  double x = std::clamp(QNorm(p), lo, hi);
  for (int i = 0; i < 200; ++i) {
    const double f = PT(x, df) - p;
    if (f > 0) hi = x; else lo = x;
    const double step = f / DensityT(x, df);
    double nx = x - step;
    if (!(nx > lo && nx < hi)) nx = 0.5 * (lo + hi);
    if (std::fabs(nx - x) <= 1e-15 * std::max(1.0, std::fabs(x))) return nx;
    x = nx;
  }
  return x;
}

std::vector<double> SeasonalFigure(std::span<const double> y, int m, bool multiplicative) {
  const int n = static_cast<int>(y.size());
  std::vector<double> detr(n, NAN);
  const int half = m / 2;
  for (int i = half; i + half < n; ++i) {
    double trend = 0;
    if (m % 2 == 1) {
      for (int j = -half; j <= half; ++j) trend += y[i + j];
      trend /= m;
    } else {
      trend = 0.5 * (y[i - half] + y[i + half]);
      for (int j = -half + 1; j <= half - 1; ++j) trend += y[i + j];
      trend /= m;
    }
    detr[i] = multiplicative ? y[i] / trend : y[i] - trend;
  }
  std::vector<double> fig(m, 0.0);
  for (int k = 0; k < m; ++k) {
    double s = 0;
    int c = 0;
    for (int i = k; i < n; i += m) {
      if (std::isfinite(detr[i])) {
        s += detr[i];
        ++c;
      }
    }
    fig[k] = c > 0 ? s / c : (multiplicative ? 1.0 : 0.0);
  }
  double mean = 0;
  for (double f : fig) mean += f;
  mean /= m;
  for (double& f : fig) f = multiplicative ? f / mean : f - mean;
  return fig;
}

std::vector<double> Acf(std::span<const double> y, int max_lag) {
  const size_t n = y.size();
  double mean = 0;
  for (double v : y) mean += v;
  mean /= static_cast<double>(n);
  double d0 = 0;
  for (double v : y) d0 += (v - mean) * (v - mean);
  std::vector<double> r(max_lag, 0.0);
  for (int k = 1; k <= max_lag; ++k) {
    double s = 0;
    for (size_t t = 0; t + k < n; ++t) s += (y[t] - mean) * (y[t + k] - mean);
    r[k - 1] = d0 > 0 ? s / d0 : 0.0;
  }
  return r;
}

bool LeastSquares(std::span<const double> x, int n, int p, std::span<const double> y,
                  std::vector<double>* beta, std::vector<double>* xtx_inv) {
  std::vector<double> a(p * p, 0.0), rhs(p, 0.0);
  for (int i = 0; i < p; ++i) {
    const double* xi = x.data() + static_cast<size_t>(i) * n;
    for (int t = 0; t < n; ++t) rhs[i] += xi[t] * y[t];
    for (int j = 0; j <= i; ++j) {
      const double* xj = x.data() + static_cast<size_t>(j) * n;
      double s = 0;
      for (int t = 0; t < n; ++t) s += xi[t] * xj[t];
      a[i * p + j] = a[j * p + i] = s;
    }
  }
  // Cholesky a = L L'.
  std::vector<double> l(p * p, 0.0);
  double max_diag = 0;
  for (int i = 0; i < p; ++i) max_diag = std::max(max_diag, a[i * p + i]);
  for (int i = 0; i < p; ++i) {
    for (int j = 0; j <= i; ++j) {
      double s = a[i * p + j];
      for (int k = 0; k < j; ++k) s -= l[i * p + k] * l[j * p + k];
      if (i == j) {
        if (s <= 1e-12 * std::max(max_diag, 1e-300)) return false;
        l[i * p + i] = std::sqrt(s);
      } else {
        l[i * p + j] = s / l[j * p + j];
      }
    }
  }
  auto solve = [&](std::vector<double> b) {
    for (int i = 0; i < p; ++i) {
      for (int k = 0; k < i; ++k) b[i] -= l[i * p + k] * b[k];
      b[i] /= l[i * p + i];
    }
    for (int i = p - 1; i >= 0; --i) {
      for (int k = i + 1; k < p; ++k) b[i] -= l[k * p + i] * b[k];
      b[i] /= l[i * p + i];
    }
    return b;
  };
  *beta = solve(rhs);
  if (xtx_inv != nullptr) {
    xtx_inv->assign(p * p, 0.0);
    for (int j = 0; j < p; ++j) {
      std::vector<double> e(p, 0.0);
      e[j] = 1.0;
      std::vector<double> col = solve(std::move(e));
      for (int i = 0; i < p; ++i) (*xtx_inv)[i * p + j] = col[i];
    }
  }
  return true;
}

void LinearTrend(std::span<const double> y, double* intercept, double* slope) {
  const double n = static_cast<double>(y.size());
  const double tbar = (n - 1) / 2.0;
  double ybar = 0;
  for (double v : y) ybar += v;
  ybar /= n;
  double sty = 0, stt = 0;
  for (size_t t = 0; t < y.size(); ++t) {
    sty += (t - tbar) * (y[t] - ybar);
    stt += (t - tbar) * (t - tbar);
  }
  *slope = stt > 0 ? sty / stt : 0.0;
  *intercept = ybar - *slope * tbar;
}

double Quantile(std::vector<double>& v, double p) {
  std::sort(v.begin(), v.end());
  const double h = (static_cast<double>(v.size()) - 1.0) * p;
  const size_t lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= v.size()) return v.back();
  return v[lo] + (h - static_cast<double>(lo)) * (v[lo + 1] - v[lo]);
}

}  // namespace saleslake::forecast::internal
