// The acceptance floor on the committed test series (generated daily demand: total and 8
// regions; UCI Online Retail daily revenue: total and top 5 countries): over all rolling-origin
// windows (4 x 28 days), our automatic choice's MAE, in geometric mean, is no worse than R
// forecast::ets()'s on the same windows and below seasonal naive's; 95% intervals cover 85-99%.
#include <gtest/gtest.h>

#include <cmath>

#include "forecast/forecast.h"
#include "golden_util.h"

namespace saleslake::forecast {
namespace {

using testing::LoadForecasts;
using testing::LoadSeries;

TEST(AccuracyTest, AutoBeatsRetsAndSeasonalNaiveOnBacktests) {
  auto series = LoadSeries();
  auto fcs = LoadForecasts();
  double log_ours = 0, log_rets = 0, log_snaive = 0;
  int windows = 0, in95 = 0, points = 0;
  for (const std::string& name : series.names) {
    const std::vector<double>& y = series.values.at(name);
    const int n = static_cast<int>(y.size());
    for (int w = 4; w >= 1; --w) {
      const int origin = n - w * 28;
      auto ours = ForecastSeries(std::span<const double>(y.data(), origin), ForecastOptions{});
      ASSERT_TRUE(ours.ok()) << name;
      const auto& rets = fcs.at({name, "ets_auto", origin});
      const auto& snaive = fcs.at({name, "snaive", origin});
      double mae_o = 0, mae_r = 0, mae_s = 0;
      for (int i = 0; i < 28; ++i) {
        const double a = y[origin + i];
        mae_o += std::fabs(a - ours->mean[i]);
        mae_r += std::fabs(a - rets.mean[i]);
        mae_s += std::fabs(a - snaive.mean[i]);
        in95 += a >= ours->lo95[i] && a <= ours->hi95[i];
        ++points;
      }
      log_ours += std::log(mae_o / 28);
      log_rets += std::log(mae_r / 28);
      log_snaive += std::log(mae_s / 28);
      ++windows;
    }
  }
  const double gm_ours = std::exp(log_ours / windows), gm_rets = std::exp(log_rets / windows),
               gm_snaive = std::exp(log_snaive / windows);
  RecordProperty("gm_mae_auto", std::to_string(gm_ours));
  RecordProperty("gm_mae_r_ets", std::to_string(gm_rets));
  RecordProperty("gm_mae_snaive", std::to_string(gm_snaive));
  std::printf("windows %d  geometric-mean MAE: auto %.2f  R ets %.2f  snaive %.2f  coverage95 %.3f\n",
              windows, gm_ours, gm_rets, gm_snaive, static_cast<double>(in95) / points);
  EXPECT_EQ(windows, 60);
  EXPECT_LE(gm_ours, gm_rets);
  EXPECT_LT(gm_ours, gm_snaive);
  const double cov = static_cast<double>(in95) / points;
  EXPECT_GE(cov, 0.85);
  EXPECT_LE(cov, 0.99);
}

}  // namespace
}  // namespace saleslake::forecast
