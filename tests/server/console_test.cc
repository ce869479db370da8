// The web console's building blocks: sessions and their expiry, the login rate limiter, the SQL
// text rewriting (parameters, filters, PII masking) and the forecast bands of line tiles.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "common/types.h"
#include "server/internal/console_forecast.h"
#include "server/internal/console_session.h"
#include "server/internal/console_sql.h"

namespace saleslake::server::internal {
namespace {

using nlohmann::json;
using std::chrono::seconds;

TimePoint T0() { return FromEpochMs(1'760'000'000'000); }

TEST(ConsoleSessionTest, SessionsExpireAndCanBeErased) {
  SessionStore store(seconds(60));
  Principal p;
  p.user = "alice";
  auto s = store.Create(p, T0());
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->token.size(), 64u);
  EXPECT_EQ(s->csrf.size(), 64u);
  EXPECT_NE(s->token, s->csrf);
  auto found = store.Find(s->token, T0() + seconds(59));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->principal.user, "alice");
  EXPECT_FALSE(store.Find(s->token, T0() + seconds(60)).has_value());  // expired
  EXPECT_FALSE(store.Find(s->token, T0()).has_value());                // and gone
  auto s2 = store.Create(p, T0());
  ASSERT_TRUE(s2.ok());
  store.Erase(s2->token);
  EXPECT_FALSE(store.Find(s2->token, T0()).has_value());
  EXPECT_FALSE(store.Find("", T0()).has_value());
}

TEST(ConsoleSessionTest, SessionCountIsBounded) {
  SessionStore store(seconds(60), 3);
  Principal p;
  std::vector<std::string> tokens;
  for (int i = 0; i < 5; ++i) tokens.push_back(store.Create(p, T0() + seconds(i)).value().token);
  EXPECT_FALSE(store.Find(tokens[0], T0() + seconds(5)).has_value());
  EXPECT_FALSE(store.Find(tokens[1], T0() + seconds(5)).has_value());
  EXPECT_TRUE(store.Find(tokens[4], T0() + seconds(5)).has_value());
}

TEST(ConsoleLoginLimiterTest, BlocksAfterFailuresUntilTheWindowPasses) {
  LoginLimiter limiter(3, seconds(300));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.RetryAfterSeconds("ip:1", T0() + seconds(i)), 0);
    limiter.Failed("ip:1", T0() + seconds(i));
  }
  EXPECT_EQ(limiter.RetryAfterSeconds("ip:1", T0() + seconds(10)), 290);
  EXPECT_EQ(limiter.RetryAfterSeconds("ip:2", T0() + seconds(10)), 0);  // per key
  EXPECT_EQ(limiter.RetryAfterSeconds("ip:1", T0() + seconds(300)), 0);  // the first left the window
  limiter.Failed("ip:1", T0() + seconds(300));  // with the failures at 1 s and 2 s: 3 again
  EXPECT_EQ(limiter.RetryAfterSeconds("ip:1", T0() + seconds(300)), 1);
  limiter.Succeeded("ip:1");
  EXPECT_EQ(limiter.RetryAfterSeconds("ip:1", T0() + seconds(300)), 0);
}

TEST(ConsoleSqlTest, BindsParametersAsLiterals) {
  json params = {{"region", "O'Brien"}, {"n", 3}, {"list", {"a", "b"}}, {"none", json::array()}};
  auto s = BindParameters("SELECT :n, ':region', x::int FROM t WHERE r = :region AND c IN :list -- :zzz\n", params);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(*s, "SELECT 3, ':region', x::int FROM t WHERE r = 'O''Brien' AND c IN ('a', 'b') -- :zzz\n");
  EXPECT_EQ(BindParameters("SELECT 1 WHERE x IN :none", params).value(), "SELECT 1 WHERE x IN (NULL)");
  auto missing = BindParameters("SELECT :nope", params);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(":nope"), std::string::npos);
  EXPECT_FALSE(BindParameters("SELECT :o", json{{"o", json::object()}}).ok());
}

TEST(ConsoleSqlTest, FindsAndReplacesTableReferencesOnly) {
  std::set<std::string> tables = {"sales_data", "raw_sales"};
  EXPECT_EQ(ReferencedTables("SELECT 'sales_data' FROM Sales_Data s JOIN \"raw_sales\" USING (x) -- raw", tables),
            (std::set<std::string>{"sales_data", "raw_sales"}));
  EXPECT_TRUE(ReferencedTables("SELECT 'sales_data' /* raw_sales */", tables).empty());
  std::map<std::string, std::string> rw = {{"sales_data", "(SELECT a FROM \"sales_data\" WHERE r = 'x')"}};
  EXPECT_EQ(ReplaceTableReferences("SELECT sales_data.a FROM sales_data WHERE a > 1", rw),
            "SELECT sales_data.a FROM (SELECT a FROM \"sales_data\" WHERE r = 'x') AS sales_data WHERE a > 1");
  EXPECT_EQ(ReplaceTableReferences("SELECT s.a FROM sales_data s", rw),
            "SELECT s.a FROM (SELECT a FROM \"sales_data\" WHERE r = 'x') s");
  EXPECT_EQ(ReplaceTableReferences("SELECT a FROM sales_data", rw),
            "SELECT a FROM (SELECT a FROM \"sales_data\" WHERE r = 'x') AS sales_data");
  EXPECT_EQ(ReplaceTableReferences("SELECT 'sales_data', x.sales_data, sales_data(1)", rw),
            "SELECT 'sales_data', x.sales_data, sales_data(1)");
}

// A daily series with a weekly pattern: the forecast continues the dates, its bands nest
// (lo95 <= lo80 <= mean <= hi80 <= hi95) and the backtest reports its error.
TEST(ConsoleForecastTest, ForecastsADailySeriesWithBandsAndBacktest) {
  json rows = json::array();
  const int32_t start = *ParseIsoDate("2025-01-01");
  for (int d = 0; d < 120; ++d) {
    if (d == 50) continue;  // a day without sales: filled with 0, not an error
    rows.push_back({FormatDate(start + d), 100.0 + 30.0 * ((d % 7) == 5) + 0.5 * d + std::sin(d * 1.3) * 4});
  }
  auto f = ForecastTileRows(rows, {.horizon = 14, .season = 7, .backtest_windows = 3});
  ASSERT_TRUE(f.ok()) << f.status().message();
  ASSERT_EQ((*f)["dates"].size(), 14u);
  EXPECT_EQ((*f)["dates"][0], "2025-05-01");
  EXPECT_EQ((*f)["dates"][13], "2025-05-14");
  for (size_t i = 0; i < 14; ++i) {
    double lo95 = (*f)["lo95"][i], lo80 = (*f)["lo80"][i], mean = (*f)["mean"][i], hi80 = (*f)["hi80"][i], hi95 = (*f)["hi95"][i];
    EXPECT_LE(lo95, lo80);
    EXPECT_LE(lo80, mean);
    EXPECT_LE(mean, hi80);
    EXPECT_LE(hi80, hi95);
    EXPECT_GT(mean, 100.0);  // the series trends upward from ~100
  }
  EXPECT_FALSE((*f)["model"].get<std::string>().empty());
  ASSERT_TRUE((*f)["backtest"].is_object());
  EXPECT_EQ((*f)["backtest"]["windows"], 3);
  EXPECT_GE((*f)["backtest"]["smape"].get<double>(), 0.0);
  EXPECT_LT((*f)["backtest"]["smape"].get<double>(), 50.0);
}

TEST(ConsoleForecastTest, BadRowsAreRefusedWithTheRow) {
  auto not_date = ForecastTileRows(json::parse(R"([["2025-01-01", 1], ["yesterday", 2]])"), {});
  ASSERT_FALSE(not_date.ok());
  EXPECT_NE(not_date.status().message().find("row 2"), std::string::npos) << not_date.status().message();
  auto not_number = ForecastTileRows(json::parse(R"([["2025-01-01", 1], ["2025-01-02", "x"]])"), {});
  ASSERT_FALSE(not_number.ok());
  EXPECT_NE(not_number.status().message().find("row 2"), std::string::npos);
  EXPECT_FALSE(ForecastTileRows(json::parse(R"([["2025-01-01", 1]])"), {}).ok());
  EXPECT_FALSE(ForecastTileRows(json::parse(R"([["2025-01-01", 1], ["2025-01-01", 2]])"), {}).ok());  // duplicate day
  EXPECT_FALSE(ForecastTileRows(json::parse(R"([["2025-01-01", 1], ["2025-01-02", 2]])"), {.horizon = 0}).ok());
  // Short history: a forecast without a backtest, and no season it cannot see.
  auto short_series = ForecastTileRows(json::parse(R"([["2025-01-01", 1], ["2025-01-02", 2], ["2025-01-03", 3]])"), {.horizon = 2});
  ASSERT_TRUE(short_series.ok()) << short_series.status().message();
  EXPECT_TRUE((*short_series)["backtest"].is_null());
  EXPECT_EQ((*short_series)["dates"], json::parse(R"(["2025-01-04", "2025-01-05"])"));
}

}  // namespace
}  // namespace saleslake::server::internal
