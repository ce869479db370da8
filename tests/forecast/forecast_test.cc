// The public driver: option checks, the automatic choice, fallbacks (never a NaN), metrics,
// the rolling-origin backtest and the parallel driver.
#include "forecast/forecast.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace saleslake::forecast {
namespace {

std::vector<double> Weekly(int n, uint64_t seed, double noise = 5.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> e(0, noise);
  const double pat[7] = {0, -10, -5, 0, 5, 20, 10};
  std::vector<double> y;
  for (int t = 0; t < n; ++t) y.push_back(200 + 0.3 * t + pat[t % 7] + e(rng));
  return y;
}

void ExpectFiniteAndOrdered(const Forecast& f, int h) {
  ASSERT_EQ(static_cast<int>(f.mean.size()), h);
  for (int i = 0; i < h; ++i) {
    ASSERT_TRUE(std::isfinite(f.mean[i]) && std::isfinite(f.lo95[i]) && std::isfinite(f.hi95[i]));
    EXPECT_LE(f.lo95[i], f.lo80[i]);
    EXPECT_LE(f.lo80[i], f.mean[i]);
    EXPECT_LE(f.mean[i], f.hi80[i]);
    EXPECT_LE(f.hi80[i], f.hi95[i]);
  }
}

TEST(ForecastTest, ParseModelKind) {
  EXPECT_EQ(*ParseModelKind("snaive"), ModelKind::kSeasonalNaive);
  std::string code;
  EXPECT_EQ(*ParseModelKind("ets:AAdA", &code), ModelKind::kEts);
  EXPECT_EQ(code, "AAdA");
  EXPECT_FALSE(ParseModelKind("ets:QQQ").ok());
  auto bad = ParseModelKind("arima");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown model 'arima'"), std::string::npos);
  EXPECT_EQ(ModelKindName(ModelKind::kTsb), "tsb");
}

TEST(ForecastTest, BadInputIsAClearError) {
  ForecastOptions opt;
  EXPECT_FALSE(ForecastSeries({}, opt).ok());
  std::vector<double> y = Weekly(50, 1);
  y[10] = std::nan("");
  auto r = ForecastSeries(y, opt);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("position 11"), std::string::npos);
  y[10] = 1;
  opt.horizon = 0;
  EXPECT_FALSE(ForecastSeries(y, opt).ok());
  opt.horizon = 7;
  opt.season = 0;
  EXPECT_FALSE(ForecastSeries(y, opt).ok());
  opt.season = 7;
  opt.model = ModelKind::kEts;
  opt.ets_model = "AAA";
  const std::vector<double> short_y = {1, 2, 3, 4, 5, 6};
  auto s = ForecastSeries(short_y, opt);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("needs more than"), std::string::npos);
}

TEST(ForecastTest, AutoChoiceRule) {
  ForecastOptions opt{.horizon = 14};
  auto tiny = ForecastSeries(std::vector<double>{5, 6}, opt);
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(tiny->model, "Mean");
  ExpectFiniteAndOrdered(*tiny, 14);
  auto shortr = ForecastSeries(std::vector<double>{5, 6, 7, 8, 9, 10, 11, 12}, opt);
  EXPECT_EQ(shortr->model, "Naive");
  EXPECT_FALSE(shortr->note.empty());
  std::vector<double> intermittent(120, 0.0);
  for (int t = 0; t < 120; t += 3) intermittent[t] = 2 + t % 4;
  auto inter = ForecastSeries(intermittent, opt);
  EXPECT_EQ(inter->model, "SBA");
  auto weekly = ForecastSeries(Weekly(200, 2), opt);
  ASSERT_TRUE(weekly.ok());
  EXPECT_EQ(weekly->model.rfind("Auto[ETS(", 0), 0u) << weekly->model;
  ExpectFiniteAndOrdered(*weekly, 14);
  // The weekly pattern is carried into the forecast (Saturday peak at position 5).
  const int n = 200;
  EXPECT_GT(weekly->mean[(5 - n % 7 + 7) % 7], weekly->mean[(1 - n % 7 + 7) % 7] + 15);
}

TEST(ForecastTest, EveryModelOnAwkwardSeriesIsFinite) {
  const std::vector<std::vector<double>> cases = {
      std::vector<double>(60, 0.0),                 // all zero
      std::vector<double>(60, 7.0),                 // constant
      [] { std::vector<double> v(60); for (int i = 0; i < 60; ++i) v[i] = i % 7 == 5 ? 0 : 1e12 + i; return v; }(),
      [] { std::vector<double> v(60); for (int i = 0; i < 60; ++i) v[i] = (i % 2 ? -1 : 1) * 1e-9; return v; }(),
      [] { std::vector<double> v(30, 1.0); v[29] = 1e6; return v; }(),  // one huge spike at the end
  };
  for (const char* model : {"auto", "naive", "snaive", "mean", "ets", "theta", "croston", "sba",
                            "tsb", "regression", "ets:MNM", "ets:AAdA"}) {
    for (size_t c = 0; c < cases.size(); ++c) {
      ForecastOptions opt{.horizon = 10};
      opt.model = *ParseModelKind(model, &opt.ets_model);
      auto r = ForecastSeries(cases[c], opt);
      SCOPED_TRACE(std::string(model) + " case " + std::to_string(c));
      if (!r.ok()) {
        // Allowed only as a clear InvalidArgument (e.g. M models on zeros, negative for Croston).
        EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
        continue;
      }
      ExpectFiniteAndOrdered(*r, 10);
    }
  }
}

TEST(ForecastTest, MetricsByHand) {
  Forecast f;
  f.mean = {10, 10, 0};
  f.lo80 = {9, 0, 0};
  f.hi80 = {11, 1, 0};
  f.lo95 = {8, 0, 0};
  f.hi95 = {12, 20, 0};
  const std::vector<double> actual = {12, 10, 0};
  const std::vector<double> train = {1, 2, 4, 7};  // lag-1 diffs 1, 2, 3: scale 2
  Metrics m = ComputeMetrics(actual, f, train, 1);
  EXPECT_DOUBLE_EQ(m.mae, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.rmse, std::sqrt(4.0 / 3));
  EXPECT_DOUBLE_EQ(m.smape, 200.0 * 2 / 22 / 3);
  EXPECT_DOUBLE_EQ(m.mase, (2.0 / 3) / 2);
  EXPECT_DOUBLE_EQ(m.coverage80, 1.0 / 3);
  EXPECT_DOUBLE_EQ(m.coverage95, 1.0);
}

TEST(ForecastTest, RollingOriginBacktest) {
  std::vector<double> y = Weekly(237, 3);
  ForecastOptions opt{.horizon = 28, .model = ModelKind::kSeasonalNaive};
  auto bt = RunBacktest(y, opt, 4);
  ASSERT_TRUE(bt.ok()) << bt.status().ToString();
  ASSERT_EQ(bt->windows.size(), 4u);
  EXPECT_EQ(bt->windows[0].train_size, 237 - 112);
  EXPECT_EQ(bt->windows[3].train_size, 237 - 28);
  // The last window equals a direct forecast from the origin.
  auto direct = ForecastSeries(std::span<const double>(y.data(), 209), opt);
  Metrics m = ComputeMetrics(std::span<const double>(y.data() + 209, 28), *direct,
                             std::span<const double>(y.data(), 209), 7);
  EXPECT_DOUBLE_EQ(bt->windows[3].metrics.mae, m.mae);
  EXPECT_EQ(bt->overall.points, 112);
  // The auto choice beats seasonal naive on a trending weekly series.
  ForecastOptions a{.horizon = 28};
  auto bta = RunBacktest(y, a, 4);
  ASSERT_TRUE(bta.ok());
  EXPECT_LT(bta->overall.mae, bt->overall.mae);
  EXPECT_GT(bta->overall.coverage95, 0.85);
  EXPECT_FALSE(RunBacktest(std::span<const double>(y.data(), 100), a, 4).ok());
}

TEST(ForecastTest, ParallelDriverEqualsSequential) {
  std::vector<std::vector<double>> data;
  for (int i = 0; i < 24; ++i) data.push_back(Weekly(120 + i, 10 + i, 2.0 + i));
  data.push_back({});  // a bad series: its own error, the others go on
  std::vector<SeriesJob> jobs;
  for (const auto& d : data) jobs.push_back({d, {}});
  ForecastOptions opt{.horizon = 14};
  auto out = ForecastAll(jobs, opt, /*backtest_windows=*/2);
  ASSERT_EQ(out.size(), jobs.size());
  for (size_t i = 0; i + 1 < jobs.size(); ++i) {
    ASSERT_TRUE(out[i].status.ok()) << out[i].status.ToString();
    auto seq = ForecastSeries(data[i], opt);
    EXPECT_EQ(out[i].forecast.model, seq->model);
    EXPECT_EQ(out[i].forecast.mean, seq->mean);
    ASSERT_TRUE(out[i].backtest.has_value());
    EXPECT_EQ(out[i].backtest->windows.size(), 2u);
  }
  EXPECT_FALSE(out.back().status.ok());
}

}  // namespace
}  // namespace saleslake::forecast
