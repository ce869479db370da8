#include "forecast/internal/ets.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>
#include <cctype>
#include <limits>
#include <optional>
#include <random>

#include "forecast/internal/optim.h"
#include "forecast/internal/stats.h"

namespace saleslake::forecast::internal {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kTol = 1e-10;
constexpr int kMaxSeason = 400;
constexpr double kLower = 1e-4, kUpper = 0.9999, kPhiLower = 0.8, kPhiUpper = 0.98;

char Letter(Component c) {
  return c == Component::kNone ? 'N' : c == Component::kAdditive ? 'A' : 'M';
}

// The recursions for one model shape. kTrend: 0 none, 1 additive, 2 damped additive.
// kSeason: 0 none, 1 additive, 2 multiplicative. Returns false when the model breaks down.
template <int kTrend, int kSeason, bool kMultErr>
bool Kernel(const double* y, int n, int m, const EtsParams& par, EtsRun* run, bool want_fitted) {
  const double alpha = par.alpha, beta = par.beta, gamma = par.gamma;
  const double phi = kTrend == 2 ? par.phi : 1.0;
  const double* x0 = par.x0.data();
  double l = x0[0];
  double b = kTrend != 0 ? x0[1] : 0.0;
  double ring[kMaxSeason];
  const int s_off = kTrend != 0 ? 2 : 1;
  int pos = 0;
  if constexpr (kSeason != 0) {
    // ring[k] = olds[m-1-k]: ring[pos] is always the seasonal state of the next observation.
    for (int k = 0; k < m; ++k) ring[k] = x0[s_off + m - 1 - k];
  }
  double sum_e2 = 0, sse = 0;
  // sum log|f| without a log per step (it was half the fitting time): the product of |f| is
  // kept as mantissa (in [1, 2)) times 2^log2_f, renormalised exactly each step by bit masking.
  double mant_f = 1.0;
  int64_t log2_f = 0;
  if (want_fitted) run->fitted.resize(n);
  for (int i = 0; i < n; ++i) {
    double phib = 0, q = l;
    if constexpr (kTrend != 0) {
      phib = phi * b;
      q = l + phib;
    }
    double s_old = 0, f = q;
    if constexpr (kSeason == 1) {
      s_old = ring[pos];
      f = q + s_old;
    } else if constexpr (kSeason == 2) {
      s_old = ring[pos];
      f = q * s_old;
    }
    if (want_fitted) run->fitted[i] = f;
    const double yi = y[i];
    double e;
    if constexpr (kMultErr) {
      if (!(std::fabs(f) > kTol)) return false;
      e = (yi - f) / f;
      mant_f *= std::fabs(f);
      const uint64_t bits = std::bit_cast<uint64_t>(mant_f);
      log2_f += static_cast<int64_t>((bits >> 52) & 0x7ff) - 1023;
      mant_f = std::bit_cast<double>((bits & 0x800fffffffffffffULL) | 0x3ff0000000000000ULL);
    } else {
      e = yi - f;
    }
    sum_e2 += e * e;
    sse += (yi - f) * (yi - f);
    double p = yi;
    if constexpr (kSeason == 1) {
      p = yi - s_old;
    } else if constexpr (kSeason == 2) {
      if (!(std::fabs(s_old) > kTol)) return false;
      p = yi / s_old;
    }
    const double l_new = q + alpha * (p - q);
    if constexpr (kTrend != 0) {
      b = phib + (beta / alpha) * (l_new - l - phib);
    }
    if constexpr (kSeason == 1) {
      ring[pos] = s_old + gamma * (yi - q - s_old);
      pos = pos + 1 == m ? 0 : pos + 1;
    } else if constexpr (kSeason == 2) {
      if (!(std::fabs(q) > kTol)) return false;
      ring[pos] = s_old + gamma * (yi / q - s_old);
      pos = pos + 1 == m ? 0 : pos + 1;
    }
    l = l_new;
  }
  if (!std::isfinite(sum_e2) || !std::isfinite(l)) return false;
  run->sum_e2 = sum_e2;
  run->mse = sse / n;
  // Perfect fits: R clamps the objective at -1e10.
  double lik = sum_e2 > 0 ? n * std::log(sum_e2) : -1e10;
  if constexpr (kMultErr) {
    lik += 2.0 * (static_cast<double>(log2_f) * std::numbers::ln2 + std::log(mant_f));
  }
  run->lik = std::max(lik, -1e10);
  run->final_state.resize(s_off + (kSeason != 0 ? m : 0));
  run->final_state[0] = l;
  if constexpr (kTrend != 0) run->final_state[1] = b;
  if constexpr (kSeason != 0) {
    // Back to R's order: s_t (most recent) first.
    for (int j = 0; j < m; ++j) run->final_state[s_off + j] = ring[(pos + m - 1 - j) % m];
  }
  return true;
}

template <int kTrend, int kSeason>
bool DispatchError(const double* y, int n, const EtsSpec& s, const EtsParams& p, EtsRun* r,
                   bool fitted) {
  return s.error == Component::kMultiplicative ? Kernel<kTrend, kSeason, true>(y, n, s.m, p, r, fitted)
                                                : Kernel<kTrend, kSeason, false>(y, n, s.m, p, r, fitted);
}

template <int kTrend>
bool DispatchSeason(const double* y, int n, const EtsSpec& s, const EtsParams& p, EtsRun* r,
                    bool fitted) {
  switch (s.season) {
    case Component::kNone: return DispatchError<kTrend, 0>(y, n, s, p, r, fitted);
    case Component::kAdditive: return DispatchError<kTrend, 1>(y, n, s, p, r, fitted);
    case Component::kMultiplicative: return DispatchError<kTrend, 2>(y, n, s, p, r, fitted);
  }
  return false;
}

double Sigmoid(double u) { return 1.0 / (1.0 + std::exp(-u)); }
double Logit(double s) {
  s = std::clamp(s, 1e-6, 1 - 1e-6);
  return std::log(s / (1 - s));
}

// R's initstate(), with the seasonal figure from (up to) the first 6 seasons.
std::vector<double> InitialState(std::span<const double> y, const EtsSpec& spec) {
  const int n = static_cast<int>(y.size());
  const int m = spec.m;
  const bool seasonal = spec.season != Component::kNone;
  const bool mult = spec.season == Component::kMultiplicative;
  std::vector<double> ysa(y.begin(), y.end());
  std::vector<double> fig;
  if (seasonal) {
    const int len = std::min(n, 6 * m);
    fig = SeasonalFigure(y.subspan(0, len), m, mult);
    for (int i = 0; i < n; ++i) {
      ysa[i] = mult ? y[i] / std::max(fig[i % m], 1e-2) : y[i] - fig[i % m];
    }
  }
  const int maxn = std::min(std::max(10, 2 * m), n);
  std::vector<double> x0;
  if (spec.trend == Component::kNone) {
    double s = 0;
    for (int i = 0; i < maxn; ++i) s += ysa[i];
    x0.push_back(s / maxn);
  } else {
    // lsfit(1:maxn, ysa): the intercept is the level at time 0.
    double a, slope;
    LinearTrend(std::span<const double>(ysa.data(), maxn), &a, &slope);
    double l0 = a - slope, b0 = slope;
    if (std::fabs(l0 + b0) < 1e-8) {
      l0 *= 1 + 1e-3;
      b0 *= 1 - 1e-3;
    }
    x0.push_back(l0);
    x0.push_back(b0);
  }
  if (seasonal) {
    for (int j = 0; j < m; ++j) x0.push_back(fig[m - 1 - j]);
  }
  return x0;
}

}  // namespace

int EtsSpec::NumFreeParams() const {
  int k = 2;  // alpha, l0
  if (trend != Component::kNone) k += 2;
  if (damped) k += 1;
  if (season != Component::kNone) k += m;  // gamma + m-1 free seasonal states
  return k;
}

std::string EtsSpec::Name() const {
  std::string s = "ETS(";
  s += Letter(error);
  s += ',';
  s += Letter(trend);
  if (damped) s += 'd';
  s += ',';
  s += Letter(season);
  s += ')';
  return s;
}

Result<EtsSpec> ParseEtsSpec(std::string_view code, int m) {
  std::string c;
  for (char ch : code) {
    if (ch != ',' && ch != ' ') c += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  if (c.rfind("ETS(", 0) == 0 && c.back() == ')') c = c.substr(4, c.size() - 5);
  auto bad = [&] {
    return Status::InvalidArgument("ETS model '" + std::string(code) +
                                   "': expected error/trend/season letters like ANN, AAdA, MAM "
                                   "(error A|M, trend N|A|Ad, season N|A|M)");
  };
  if (c.size() != 3 && c.size() != 4) return bad();
  EtsSpec s;
  auto comp = [](char ch, Component* out) {
    if (ch == 'N') *out = Component::kNone;
    else if (ch == 'A') *out = Component::kAdditive;
    else if (ch == 'M') *out = Component::kMultiplicative;
    else return false;
    return true;
  };
  if (!comp(c[0], &s.error) || s.error == Component::kNone) return bad();
  if (!comp(c[1], &s.trend)) return bad();
  if (s.trend == Component::kMultiplicative) {
    return Status::NotImplemented("ETS model '" + std::string(code) +
                                  "': multiplicative trend is not supported (use A or Ad)");
  }
  size_t next = 2;
  if (c.size() == 4) {
    if (c[2] != 'D' || s.trend == Component::kNone) return bad();
    s.damped = true;
    next = 3;
  }
  if (!comp(c[next], &s.season)) return bad();
  if (s.season != Component::kNone) {
    if (m < 2 || m > kMaxSeason) {
      return Status::InvalidArgument("ETS model '" + std::string(code) +
                                     "': a seasonal model needs a season period in 2.." +
                                     std::to_string(kMaxSeason) + ", got " + std::to_string(m));
    }
    s.m = m;
  }
  return s;
}

bool RunEts(std::span<const double> y, const EtsSpec& spec, const EtsParams& par, EtsRun* run,
            bool want_fitted) {
  run->lik = kInf;
  if (y.empty() || static_cast<int>(par.x0.size()) != spec.NumStates()) return false;
  const int n = static_cast<int>(y.size());
  bool ok;
  if (spec.trend == Component::kNone) ok = DispatchSeason<0>(y.data(), n, spec, par, run, want_fitted);
  else if (!spec.damped) ok = DispatchSeason<1>(y.data(), n, spec, par, run, want_fitted);
  else ok = DispatchSeason<2>(y.data(), n, spec, par, run, want_fitted);
  if (!ok) run->lik = kInf;
  return ok;
}

EtsModel EvaluateEts(std::span<const double> y, const EtsSpec& spec, const EtsParams& par) {
  EtsModel model;
  model.spec = spec;
  model.par = par;
  model.n = static_cast<int>(y.size());
  EtsRun run;
  const int k = spec.NumFreeParams();
  if (!RunEts(y, spec, par, &run)) {
    model.loglik = -kInf;
    model.aic = model.aicc = model.bic = kInf;
    return model;
  }
  const double n = static_cast<double>(y.size());
  const double np = k + 1;
  model.final_state = run.final_state;
  model.loglik = -0.5 * run.lik;
  model.aic = run.lik + 2 * np;
  model.bic = run.lik + std::log(n) * np;
  model.aicc = n - np - 1 > 0 ? model.aic + 2 * np * (np + 1) / (n - np - 1) : kInf;
  model.sigma2 = run.sum_e2 / (n - k > 0 ? n - k : n);
  model.mse = run.mse;
  return model;
}

Result<EtsModel> FitEts(std::span<const double> y, const EtsSpec& spec,
                        const EtsFitOptions& options) {
  const int n = static_cast<int>(y.size());
  const int k = spec.NumFreeParams();
  if (n <= k + 4) {
    return Status::InvalidArgument(spec.Name() + " needs more than " + std::to_string(k + 4) +
                                   " observations, the series has " + std::to_string(n));
  }
  const bool seasonal = spec.season != Component::kNone;
  if (seasonal && n < 2 * spec.m) {
    return Status::InvalidArgument(spec.Name() + " needs at least two seasons (" +
                                   std::to_string(2 * spec.m) + " observations), the series has " +
                                   std::to_string(n));
  }
  if (spec.error == Component::kMultiplicative || spec.season == Component::kMultiplicative) {
    for (double v : y) {
      if (!(v > 0)) {
        return Status::InvalidArgument(spec.Name() +
                                       ": multiplicative components need strictly positive data");
      }
    }
  }
  const bool trend = spec.trend != Component::kNone;
  std::vector<double> init = InitialState(y, spec);
  double mean = 0, var = 0;
  for (double v : y) mean += v;
  mean /= n;
  for (double v : y) var += (v - mean) * (v - mean);
  const double sd = std::sqrt(var / n);
  const double scale = std::max({sd, 1e-3 * std::fabs(mean), 1e-8});

  // Smoothing parameters start where R's initparam() starts them (m = the data's frequency).
  const int freq = std::max(spec.m, 1);
  const double alpha0 = kLower + 0.2 * (kUpper - kLower) / freq;
  std::vector<double> u0, step;
  u0.push_back(Logit((alpha0 - kLower) / (kUpper - kLower)));
  step.push_back(1.0);
  const size_t i_beta = u0.size();
  if (trend) {
    u0.push_back(Logit(0.1));
    step.push_back(1.0);
  }
  const size_t i_gamma = u0.size();
  if (seasonal) {
    u0.push_back(Logit(0.05));
    step.push_back(1.0);
  }
  const size_t i_phi = u0.size();
  if (spec.damped) {
    u0.push_back(Logit(0.99));
    step.push_back(1.0);
  }
  const size_t i_states = u0.size();
  // Initial states are optimised as offsets from the heuristic start, in units of `scale`.
  const int n_opt_states =
      1 + (trend ? 1 : 0) + (seasonal && options.optimise_seasonal_states ? spec.m - 1 : 0);
  for (int j = 0; j < n_opt_states; ++j) {
    u0.push_back(0.0);
    step.push_back(j == 1 && trend ? 0.02 : 0.2);
  }
  if (const EtsModel* st = options.start; st != nullptr) {
    // Warm start: map the related fit's parameters back through decode()'s transforms.
    const EtsSpec& ss = st->spec;
    const EtsParams& sp = st->par;
    u0[0] = Logit((sp.alpha - kLower) / (kUpper - kLower));
    step[0] = 0.5;
    if (trend && ss.trend != Component::kNone) {
      u0[i_beta] = Logit((sp.beta - kLower) / (std::min(kUpper, sp.alpha) - kLower));
      step[i_beta] = 0.5;
    }
    if (seasonal && ss.season != Component::kNone) {
      u0[i_gamma] = Logit((sp.gamma - kLower) / (std::min(kUpper, 1 - sp.alpha) - kLower));
      step[i_gamma] = 0.5;
    }
    if (spec.damped && ss.damped) u0[i_phi] = Logit((sp.phi - kPhiLower) / (kPhiUpper - kPhiLower));
    if (ss.trend == spec.trend && ss.season == spec.season && sp.x0.size() == init.size()) {
      u0[i_states] = (sp.x0[0] - init[0]) / scale;
      if (trend) u0[i_states + 1] = (sp.x0[1] - init[1]) / scale;
      for (int j = 0; j < (trend ? 2 : 1); ++j) step[i_states + j] *= 0.5;
    }
  }
  const int s_off = trend ? 2 : 1;
  const bool mult_season = spec.season == Component::kMultiplicative;
  auto decode = [&](const double* u, EtsParams* p) {
    p->alpha = kLower + (kUpper - kLower) * Sigmoid(u[0]);
    if (trend) p->beta = kLower + (std::min(kUpper, p->alpha) - kLower) * Sigmoid(u[i_beta]);
    if (seasonal) {
      p->gamma = kLower + (std::min(kUpper, 1 - p->alpha) - kLower) * Sigmoid(u[i_gamma]);
    }
    p->phi = spec.damped ? kPhiLower + (kPhiUpper - kPhiLower) * Sigmoid(u[i_phi]) : 1.0;
    p->x0 = init;
    p->x0[0] = init[0] + u[i_states] * scale;
    if (trend) p->x0[1] = init[1] + u[i_states + 1] * scale;
    if (seasonal && options.optimise_seasonal_states) {
      const size_t base = i_states + 1 + (trend ? 1 : 0);
      const double sscale = mult_season ? 1.0 : scale;
      double sum = 0;
      for (int j = 0; j < spec.m - 1; ++j) {
        p->x0[s_off + j] = init[s_off + j] + u[base + j] * sscale;
        sum += p->x0[s_off + j];
      }
      // R's normalisation: the last seasonal state makes them sum to 0 (A) or m (M).
      p->x0[s_off + spec.m - 1] = (mult_season ? spec.m : 0.0) - sum;
    }
  };
  EtsParams p;
  EtsRun run;
  auto objective = [&](const double* u) {
    decode(u, &p);
    if (!RunEts(y, spec, p, &run)) return kInf;
    return run.lik;
  };
  NelderMeadOptions nm;
  nm.max_evals = options.max_evals;
  nm.reltol = options.reltol;
  NelderMeadResult best = NelderMead(objective, u0, step, nm);
  if (!std::isfinite(best.value)) {
    return Status::InvalidArgument(spec.Name() + ": no parameters give a valid fit");
  }
  EtsParams fitted;
  decode(best.x.data(), &fitted);
  EtsModel model = EvaluateEts(y, spec, fitted);
  if (!std::isfinite(model.aicc) || model.final_state.empty()) {
    return Status::InvalidArgument(spec.Name() + ": the fit is degenerate");
  }
  return model;
}

Result<EtsModel> AutoEts(std::span<const double> y, int m, const EtsFitOptions& options) {
  const int n = static_cast<int>(y.size());
  bool positive = true;
  for (double v : y) positive = positive && v > 0;
  const bool can_season = m > 1 && m <= kMaxSeason && n >= 2 * m;
  std::optional<EtsModel> best;
  Status last_error = Status::InvalidArgument("no ETS model can be fitted to " +
                                              std::to_string(n) + " observations");
  // fits[err][trend][season], kept as warm starts: each multiplicative-error form starts from
  // its additive-error twin and each damped form from its undamped twin, which roughly halves
  // the optimiser's evaluations without changing which form wins.
  std::optional<EtsModel> fits[2][3][3];
  for (int t = 0; t < 3; ++t) {
    for (int s = 0; s < 3; ++s) {
      const Component season = static_cast<Component>(s);
      if (season != Component::kNone && !can_season) continue;
      for (int e = 0; e < 2; ++e) {
        const Component err = e == 0 ? Component::kAdditive : Component::kMultiplicative;
        if (err == Component::kMultiplicative && !positive) continue;
        if (season == Component::kMultiplicative && (err == Component::kAdditive || !positive)) {
          continue;
        }
        EtsSpec spec;
        spec.error = err;
        spec.trend = t == 0 ? Component::kNone : Component::kAdditive;
        spec.damped = t == 2;
        spec.season = season;
        spec.m = season == Component::kNone ? 1 : m;
        if (n <= spec.NumFreeParams() + 4) continue;
        EtsFitOptions fo = options;
        if (t == 2 && fits[e][1][s]) {
          fo.start = &*fits[e][1][s];
        } else if (e == 1 && fits[0][t][s]) {
          fo.start = &*fits[0][t][s];
        } else if (e == 1 && s == 2 && fits[1][t][1]) {
          fo.start = &*fits[1][t][1];
        }
        auto fit = FitEts(y, spec, fo);
        if (!fit.ok()) {
          last_error = fit.status();
          continue;
        }
        if (!best || fit->aicc < best->aicc) best = *fit;
        fits[e][t][s] = std::move(*fit);
      }
    }
  }
  if (!best) return last_error;
  return std::move(*best);
}

EtsForecast ForecastEts(const EtsModel& model, int h, uint64_t seed, int paths) {
  const EtsSpec& spec = model.spec;
  const EtsParams& par = model.par;
  const bool trend = spec.trend != Component::kNone;
  const bool seasonal = spec.season != Component::kNone;
  const int m = spec.m;
  const int s_off = trend ? 2 : 1;
  const std::vector<double>& x = model.final_state;
  const double phi = spec.damped ? par.phi : 1.0;
  EtsForecast out;
  out.mean.resize(h);
  std::vector<double> phistar(h + 1, 0.0);  // phistar[j] = phi + ... + phi^j
  double pw = 1.0;
  for (int j = 1; j <= h; ++j) {
    pw *= phi;
    phistar[j] = phistar[j - 1] + pw;
  }
  for (int i = 0; i < h; ++i) {
    double f = x[0] + (trend ? phistar[i + 1] * x[1] : 0.0);
    if (seasonal) {
      const double s = x[s_off + ((m - 1 - i) % m + m) % m];
      f = spec.season == Component::kAdditive ? f + s : f * s;
    }
    out.mean[i] = f;
  }
  out.lo80.resize(h);
  out.hi80.resize(h);
  out.lo95.resize(h);
  out.hi95.resize(h);
  const double z80 = QNorm(0.9), z95 = QNorm(0.975);
  const double sigma2 = std::max(model.sigma2, 0.0);
  if (spec.season != Component::kMultiplicative) {
    // c_j = alpha + beta * phistar_j + gamma * [j mod m == 0] (R's class1 matrices in closed form).
    std::vector<double> c(h, 0.0);
    for (int j = 1; j < h; ++j) {
      c[j] = par.alpha + (trend ? par.beta * phistar[j] : 0.0) +
             (seasonal && j % m == 0 ? par.gamma : 0.0);
    }
    std::vector<double> var(h);
    if (spec.error == Component::kAdditive) {
      double acc = 1.0;
      for (int i = 0; i < h; ++i) {
        if (i > 0) acc += c[i] * c[i];
        var[i] = sigma2 * acc;
      }
    } else {
      std::vector<double> theta(h);
      for (int j = 0; j < h; ++j) {
        double s = 0;
        for (int k = 1; k <= j; ++k) s += c[k] * c[k] * theta[j - k];
        theta[j] = out.mean[j] * out.mean[j] + sigma2 * s;
        var[j] = (1 + sigma2) * theta[j] - out.mean[j] * out.mean[j];
      }
    }
    for (int i = 0; i < h; ++i) {
      const double sd = std::sqrt(std::max(var[i], 0.0));
      out.lo80[i] = out.mean[i] - z80 * sd;
      out.hi80[i] = out.mean[i] + z80 * sd;
      out.lo95[i] = out.mean[i] - z95 * sd;
      out.hi95[i] = out.mean[i] + z95 * sd;
    }
    return out;
  }
  // Multiplicative season: simulate sample paths through the same recursions.
  out.analytic = false;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> norm(0.0, std::sqrt(sigma2));
  std::vector<double> sims(static_cast<size_t>(paths) * h);
  std::vector<double> ring(m);
  for (int p = 0; p < paths; ++p) {
    double l = x[0], b = trend ? x[1] : 0.0;
    for (int k = 0; k < m; ++k) ring[k] = x[s_off + m - 1 - k];
    int pos = 0;
    for (int i = 0; i < h; ++i) {
      const double phib = trend ? phi * b : 0.0;
      const double q = l + phib;
      const double s_old = ring[pos];
      const double f = q * s_old;
      const double e = norm(rng);
      const double yi = spec.error == Component::kAdditive ? f + e : f * (1 + e);
      sims[static_cast<size_t>(i) * paths + p] = yi;
      const double pp = std::fabs(s_old) > kTol ? yi / s_old : yi;
      const double l_new = q + par.alpha * (pp - q);
      if (trend) b = phib + (par.beta / par.alpha) * (l_new - l - phib);
      ring[pos] = s_old + par.gamma * ((std::fabs(q) > kTol ? yi / q : s_old) - s_old);
      pos = pos + 1 == m ? 0 : pos + 1;
      l = l_new;
    }
  }
  std::vector<double> col(paths);
  for (int i = 0; i < h; ++i) {
    std::copy(sims.begin() + static_cast<size_t>(i) * paths,
              sims.begin() + static_cast<size_t>(i + 1) * paths, col.begin());
    out.lo95[i] = Quantile(col, 0.025);  // sorts col; the rest read the sorted copy
    out.hi95[i] = Quantile(col, 0.975);
    out.lo80[i] = Quantile(col, 0.10);
    out.hi80[i] = Quantile(col, 0.90);
  }
  return out;
}

}  // namespace saleslake::forecast::internal
