// Nelder-Mead simplex minimiser (our own; the same moves and coefficients as R's optim():
// reflection 1, expansion 2, contraction 0.5, shrink 0.5). Objective values of +inf mark
// infeasible points. Header-only so the objective inlines.
// Thread safety: reentrant; no shared state.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

namespace saleslake::forecast::internal {

struct NelderMeadOptions {
  int max_evals = 2000;
  // Stops when (f_worst - f_best) <= reltol * (|f_best| + reltol), as R's optim() does.
  double reltol = 1e-8;
};

struct NelderMeadResult {
  std::vector<double> x;
  double value = std::numeric_limits<double>::infinity();
  int evals = 0;
};

// Minimises f(const double*) starting at x0; the initial simplex steps coordinate i by step[i].
template <typename F>
NelderMeadResult NelderMead(F&& f, const std::vector<double>& x0, const std::vector<double>& step,
                            const NelderMeadOptions& opt = {}) {
  const size_t d = x0.size();
  NelderMeadResult res;
  if (d == 0) {
    res.x = x0;
    res.value = f(x0.data());
    res.evals = 1;
    return res;
  }
  std::vector<std::vector<double>> pts(d + 1, x0);
  std::vector<double> fv(d + 1);
  for (size_t i = 0; i < d; ++i) pts[i + 1][i] += step[i];
  int evals = 0;
  auto eval = [&](const std::vector<double>& p) {
    ++evals;
    double v = f(p.data());
    return std::isnan(v) ? std::numeric_limits<double>::infinity() : v;
  };
  for (size_t i = 0; i <= d; ++i) fv[i] = eval(pts[i]);
  std::vector<double> centroid(d), xr(d), xe(d), xc(d);
  std::vector<size_t> order(d + 1);
  while (true) {
    for (size_t i = 0; i <= d; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return fv[a] < fv[b]; });
    const size_t best = order[0], worst = order[d], second = order[d - 1];
    if (evals >= opt.max_evals) break;
    if (std::isfinite(fv[worst]) &&
        fv[worst] - fv[best] <= opt.reltol * (std::fabs(fv[best]) + opt.reltol)) {
      break;
    }
    std::fill(centroid.begin(), centroid.end(), 0.0);
    for (size_t i = 0; i <= d; ++i) {
      if (i == worst) continue;
      for (size_t k = 0; k < d; ++k) centroid[k] += pts[i][k];
    }
    for (size_t k = 0; k < d; ++k) centroid[k] /= static_cast<double>(d);
    for (size_t k = 0; k < d; ++k) xr[k] = centroid[k] + (centroid[k] - pts[worst][k]);
    const double fr = eval(xr);
    if (fr < fv[best]) {
      for (size_t k = 0; k < d; ++k) xe[k] = centroid[k] + 2.0 * (centroid[k] - pts[worst][k]);
      const double fe = eval(xe);
      if (fe < fr) {
        pts[worst] = xe;
        fv[worst] = fe;
      } else {
        pts[worst] = xr;
        fv[worst] = fr;
      }
      continue;
    }
    if (fr < fv[second]) {
      pts[worst] = xr;
      fv[worst] = fr;
      continue;
    }
    // Contraction: outside when the reflected point beats the worst, inside otherwise.
    const bool outside = fr < fv[worst];
    for (size_t k = 0; k < d; ++k) {
      xc[k] = outside ? centroid[k] + 0.5 * (xr[k] - centroid[k])
                      : centroid[k] + 0.5 * (pts[worst][k] - centroid[k]);
    }
    const double fc = eval(xc);
    if (fc < std::min(fr, fv[worst])) {
      pts[worst] = xc;
      fv[worst] = fc;
      continue;
    }
    // Shrink towards the best vertex.
    for (size_t i = 0; i <= d; ++i) {
      if (i == best) continue;
      for (size_t k = 0; k < d; ++k) pts[i][k] = pts[best][k] + 0.5 * (pts[i][k] - pts[best][k]);
      fv[i] = eval(pts[i]);
    }
  }
  size_t best = 0;
  for (size_t i = 1; i <= d; ++i) {
    if (fv[i] < fv[best]) best = i;
  }
  res.x = pts[best];
  res.value = fv[best];
  res.evals = evals;
  return res;
}

}  // namespace saleslake::forecast::internal
