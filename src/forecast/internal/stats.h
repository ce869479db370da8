// Small numerical helpers shared by the forecasting models: quantiles of the normal and Student t
// distributions, classical decomposition, autocorrelation, least squares.
// Thread safety: pure functions.
#pragma once

#include <span>
#include <vector>

namespace saleslake::forecast::internal {

// Standard normal quantile, accurate to ~1e-15 (rational start + Halley steps on erfc).
// REQUIRES: 0 < p < 1.
double QNorm(double p);
// Standard normal CDF.
double PNorm(double x);
// Student t quantile with `df` degrees of freedom (df > 0), via the regularised incomplete beta.
double QT(double p, double df);
double PT(double t, double df);

// R's stats::decompose(): centred moving average trend (2xm MA for even m), seasonal figure
// averaged per position and normalised (sum 0 for additive, mean 1 for multiplicative).
// `figure[k]` belongs to positions k, k+m, ... of `y`. REQUIRES: y.size() >= 2*m, m >= 2.
std::vector<double> SeasonalFigure(std::span<const double> y, int m, bool multiplicative);

// Sample autocorrelations r_1..r_max_lag as R's acf() computes them (mean-centred, divided by
// the lag-0 sum).
std::vector<double> Acf(std::span<const double> y, int max_lag);

// Solves the least-squares problem min |X b - y| for a column-major n x p design X (normal
// equations with Cholesky; p is small). Returns false when X'X is singular. On success `xtx_inv`
// (p x p, row-major) holds (X'X)^-1 when non-null.
bool LeastSquares(std::span<const double> x, int n, int p, std::span<const double> y,
                  std::vector<double>* beta, std::vector<double>* xtx_inv);

// Simple linear regression of y on 0..n-1 (R's lsfit(0:(n-1), y)); returns {intercept, slope}.
void LinearTrend(std::span<const double> y, double* intercept, double* slope);

// Empirical quantile, R type 7 (linear interpolation). Sorts `v` in place.
double Quantile(std::vector<double>& v, double p);

}  // namespace saleslake::forecast::internal
