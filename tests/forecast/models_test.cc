// Naive, seasonal naive, Theta, Croston, regression and the statistics helpers against R.
#include "forecast/internal/models.h"

#include <gtest/gtest.h>

#include <cmath>

#include "forecast/internal/stats.h"
#include "golden_util.h"

namespace saleslake::forecast::internal {
namespace {

using saleslake::forecast::testing::GoldenForecast;
using saleslake::forecast::testing::LoadFits;
using saleslake::forecast::testing::LoadForecasts;
using saleslake::forecast::testing::LoadSeries;

double Rel(double a, double b) { return std::fabs(a - b) / std::max(std::fabs(b), 1e-9); }

void ExpectMatches(const ModelOutput& ours, const GoldenForecast& r, bool intervals,
                   double tol = 1e-6) {
  ASSERT_EQ(ours.mean.size(), r.mean.size());
  for (size_t i = 0; i < r.mean.size(); ++i) {
    ASSERT_LT(Rel(ours.mean[i], r.mean[i]), tol) << "mean step " << i + 1 << ": " << ours.mean[i]
                                                 << " vs R " << r.mean[i];
    if (!intervals) continue;
    ASSERT_LT(Rel(ours.lo80[i], r.lo80[i]), tol) << "lo80 step " << i + 1;
    ASSERT_LT(Rel(ours.hi80[i], r.hi80[i]), tol) << "hi80 step " << i + 1;
    ASSERT_LT(Rel(ours.lo95[i], r.lo95[i]), tol) << "lo95 step " << i + 1;
    ASSERT_LT(Rel(ours.hi95[i], r.hi95[i]), tol) << "hi95 step " << i + 1;
  }
}

TEST(StatsTest, Quantiles) {
  EXPECT_NEAR(QNorm(0.975), 1.959963984540054, 1e-13);
  EXPECT_NEAR(QNorm(0.9), 1.2815515655446004, 1e-13);
  EXPECT_NEAR(QNorm(1e-10), -6.361340902404056, 1e-9);
  EXPECT_NEAR(QNorm(0.5), 0.0, 1e-15);
  EXPECT_NEAR(QT(0.975, 10), 2.2281388519649385, 1e-10);
  EXPECT_NEAR(QT(0.9, 5), 1.4758840488244815, 1e-10);
  EXPECT_NEAR(QT(0.975, 1), 12.706204736174707, 1e-8);
  EXPECT_NEAR(QT(0.025, 200), -1.971896224223, 1e-9);
}

TEST(StatsTest, SeasonalFigureAndAcf) {
  // A pure additive pattern with a linear trend: the figure recovers the pattern exactly.
  const double pat[7] = {3, -1, 0, 2, -2, -4, 2};
  std::vector<double> y;
  for (int t = 0; t < 35; ++t) y.push_back(10 + 0.5 * t + pat[t % 7]);
  auto fig = SeasonalFigure(y, 7, false);
  for (int k = 0; k < 7; ++k) EXPECT_NEAR(fig[k], pat[k], 1e-12);
  auto r = Acf(std::vector<double>{1, 2, 3, 4}, 2);
  // mean 2.5; d0 = 5; lag1: (-1.5*-0.5 + -0.5*0.5 + 0.5*1.5) = 1.25 -> 0.25
  EXPECT_NEAR(r[0], 0.25, 1e-15);
  EXPECT_NEAR(r[1], (-1.5 * 0.5 + -0.5 * 1.5) / 5, 1e-15);
}

TEST(ModelsTest, NaiveSeasonalNaiveRegressionCrostonMatchR) {
  auto series = LoadSeries();
  auto fcs = LoadForecasts();
  int checked = 0;
  for (const std::string& name : series.names) {
    const std::vector<double>& y = series.values.at(name);
    const int n = static_cast<int>(y.size());
    SCOPED_TRACE(name);
    ExpectMatches(NaiveForecast(y, 28), fcs.at({name, "naive", n}), true);
    ExpectMatches(SeasonalNaiveForecast(y, 28, 7), fcs.at({name, "snaive", n}), true);
    auto reg = RegressionForecast(y, 28, 7);
    ASSERT_TRUE(reg.ok());
    ExpectMatches(*reg, fcs.at({name, "tslm", n}), true);
    auto it = fcs.find({name, "croston", n});
    if (it != fcs.end()) {
      auto cr = IntermittentForecast(y, 28, IntermittentMethod::kCroston, 0.1);
      ASSERT_TRUE(cr.ok());
      ExpectMatches(*cr, it->second, false);
    }
    checked++;
  }
  EXPECT_EQ(checked, 15);
}

TEST(ModelsTest, ThetaMatchesRWithRsSesParameters) {
  auto series = LoadSeries();
  auto fits = LoadFits();
  auto fcs = LoadForecasts();
  for (const std::string& name : series.names) {
    const std::vector<double>& y = series.values.at(name);
    const int n = static_cast<int>(y.size());
    const auto& par = fits.at({name, "theta", "theta"});
    ThetaOptions opt;
    opt.alpha = par.at("alpha");
    opt.l0 = par.at("l0");
    SCOPED_TRACE(name);
    ExpectMatches(ThetaForecast(y, 28, 7, opt), fcs.at({name, "thetaf", n}), true);
    // With our own SES fit (least squares, l0 solved exactly) the forecasts stay close to R's.
    ModelOutput own = ThetaForecast(y, 28, 7);
    const auto& r = fcs.at({name, "thetaf", n});
    double num = 0, den = 0;
    for (int i = 0; i < 28; ++i) {
      num += std::fabs(own.mean[i] - r.mean[i]);
      den += std::fabs(r.mean[i]);
    }
    EXPECT_LT(num / den, 0.02);
  }
}

TEST(ModelsTest, SesLeastSquaresIsOptimal) {
  std::vector<double> y;
  for (int t = 0; t < 60; ++t) y.push_back(50 + 10 * std::sin(t * 0.3) + (t % 5));
  double alpha, l0;
  FitSes(y, &alpha, &l0);
  auto sse = [&](double a, double l) {
    double s = 0;
    for (double v : y) {
      s += (v - l) * (v - l);
      l += a * (v - l);
    }
    return s;
  };
  const double best = sse(alpha, l0);
  for (double a : {0.05, 0.2, 0.5, 0.8, 0.99}) {
    for (double dl : {-5.0, 0.0, 5.0}) EXPECT_LE(best, sse(a, l0 + dl) + 1e-9);
  }
  EXPECT_LE(best, sse(std::min(alpha * 1.01, 0.9999), l0) + 1e-9);
  EXPECT_LE(best, sse(alpha * 0.99, l0) + 1e-9);
}

TEST(ModelsTest, IntermittentMethods) {
  const std::vector<double> y = {0, 0, 5, 0, 0, 0, 3, 0, 4, 0, 0, 0};
  auto cr = IntermittentForecast(y, 3, IntermittentMethod::kCroston, 0.1);
  ASSERT_TRUE(cr.ok());
  // sizes 5,3,4 ; intervals 3,4,2 (R's croston: SES with initial = first value)
  const double z = 5 + 0.1 * (3 - 5), z2 = z + 0.1 * (4 - z);
  const double q = 3 + 0.1 * (4 - 3), q2 = q + 0.1 * (2 - q);
  EXPECT_NEAR(cr->mean[0], z2 / q2, 1e-12);
  auto sba = IntermittentForecast(y, 3, IntermittentMethod::kSba, 0.1);
  EXPECT_NEAR(sba->mean[0], z2 / q2 * 0.95, 1e-12);
  auto tsb = IntermittentForecast(y, 3, IntermittentMethod::kTsb, 0.1, 0.1);
  ASSERT_TRUE(tsb.ok());
  EXPECT_GT(tsb->mean[0], 0);
  EXPECT_EQ(tsb->lo95[0], 0.0);  // most days are zero
  EXPECT_GT(tsb->hi95[0], tsb->mean[0]);
  const std::vector<double> neg = {0, -1, 2};
  auto bad = IntermittentForecast(neg, 3, IntermittentMethod::kCroston);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("position 2"), std::string::npos);
  const std::vector<double> zeros(10, 0.0);
  auto z0 = IntermittentForecast(zeros, 2, IntermittentMethod::kSba);
  ASSERT_TRUE(z0.ok());
  EXPECT_EQ(z0->mean[0], 0.0);
  EXPECT_EQ(z0->hi95[0], 0.0);
}

TEST(ModelsTest, RegressionWithEventDummy) {
  // y = 100 + 2 t + 30 * event, exactly: the fit recovers it and forecasts future events.
  const int n = 70, h = 7;
  std::vector<double> y;
  std::vector<uint8_t> ev(n + h, 0);
  for (int t = 0; t < n + h; ++t) ev[t] = t % 10 == 3;
  for (int t = 0; t < n; ++t) y.push_back(100 + 2 * (t + 1) + 30 * ev[t] + ((t * 7919) % 13) * 0.01);
  auto r = RegressionForecast(y, h, 7, ev);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (int i = 0; i < h; ++i) {
    const int t = n + i;
    EXPECT_NEAR(r->mean[i], 100 + 2 * (t + 1) + 30 * ev[t] + 0.06, 0.1) << i;
    EXPECT_LT(r->lo95[i], r->mean[i]);
  }
  std::vector<uint8_t> short_ev(5, 0);
  EXPECT_FALSE(RegressionForecast(y, h, 7, short_ev).ok());
}

}  // namespace
}  // namespace saleslake::forecast::internal
