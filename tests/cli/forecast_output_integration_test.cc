// `saleslake forecast` as a user meets it: short series are refused with the minimum or get a
// loud notice (never zero-width intervals), metrics come with the forecasts, a baseline, units
// and a legend, errors name the user's input, --to-table confirms.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "support/test_support.h"

namespace saleslake::testing {
namespace {

// `days` days from 2025-03-01 with a weekly pattern (or one constant value).
std::string Daily(int days, bool constant = false) {
  std::string s = "day,sales\n";
  for (int d = 0; d < days; ++d) {
    static const int kMonthDays[] = {31, 30, 31, 30, 31, 31};  // March .. August
    int month = 0, day = d;
    while (day >= kMonthDays[month]) day -= kMonthDays[month++];
    char date[32];
    std::snprintf(date, sizeof date, "2025-%02d-%02d", 3 + month, 1 + day);
    s += std::string(date) + "," + std::to_string(constant ? 50 : 100 + (d % 7) * 9 + (d * 13 % 5)) + "\n";
  }
  return s;
}

CommandResult Forecast(const TempDir& dir, const std::string& csv, std::vector<std::string> extra) {
  WriteFile(dir.Join("in.csv"), csv);
  std::vector<std::string> args = {"forecast", "--input", dir.Join("in.csv"), "--date", "day",
                                   "--value", "sales", "--horizon", "7"};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunSaleslake(args);
}

// Every hi95 above its lo95 in CSV output "date,forecast,lo80,hi80,lo95,hi95,model".
void ExpectIntervalsHaveWidth(const std::string& csv) {
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  int rows = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) f.push_back(cell);
    ASSERT_GE(f.size(), 6u) << line;
    EXPECT_LT(std::stod(f[4]), std::stod(f[5])) << line;
    ++rows;
  }
  EXPECT_GT(rows, 0);
}

TEST(ForecastOutputTest, OneAndThreeDaysAreRefusedWithTheMinimum) {
  TempDir dir;
  auto r = Forecast(dir, Daily(1), {});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("in.csv: the series: 1 day of history; a forecast needs at least 4"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  r = Forecast(dir, Daily(3), {});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("3 days of history; a forecast needs at least 4 (and 16 for a weekly pattern"),
            std::string::npos) << r.err;
}

TEST(ForecastOutputTest, FourteenDaysForecastWithANaiveModelAndALoudNotice) {
  TempDir dir;
  auto r = Forecast(dir, Daily(14), {"--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("saleslake: notice: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("only 14 days of history"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Naive"), std::string::npos) << r.err;
  ExpectIntervalsHaveWidth(r.out);
}

TEST(ForecastOutputTest, AHistoryWithoutVariationIsRefusedNotGivenZeroWidthIntervals) {
  TempDir dir;
  auto r = Forecast(dir, Daily(30, /*constant=*/true), {"--format", "csv"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("zero width"), std::string::npos) << r.err;
}

TEST(ForecastOutputTest, ANonDateColumnIsNamedWithItsLine) {
  TempDir dir;
  WriteFile(dir.Join("in.csv"), Daily(30));
  auto r = RunSaleslake({"forecast", "--input", dir.Join("in.csv"), "--date", "sales", "--value", "sales",
                         "--horizon", "7"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("in.csv:2: column 'sales': '100' is not a date (YYYY-MM-DD)"), std::string::npos) << r.err;
  r = RunSaleslake({"forecast", "--input", dir.Join("in.csv"), "--date", "when", "--value", "sales",
                    "--horizon", "7"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--date when: no such column (columns: day, sales)"), std::string::npos) << r.err;
}

TEST(ForecastOutputTest, MetricsComeWithTheForecastsABaselineUnitsAndALegend) {
  TempDir dir;
  auto r = Forecast(dir, Daily(90), {"--backtest", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("forecast"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2025-05-30"), std::string::npos) << r.out;  // the first forecast day
  EXPECT_NE(r.out.find("Backtest: 3 rolling windows of 7 days"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("baseline_mae"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(baseline seasonal naive "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mae, rmse: sales a day"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("coverage80/95: share of held-out days"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Auto[A+B+...]"), std::string::npos) << r.out;
  // JSON: one document with both.
  auto j = Forecast(dir, Daily(90), {"--backtest", "2", "--format", "json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(j.out.rfind("{\"forecasts\": [", 0), 0u) << j.out;
  EXPECT_NE(j.out.find("\"metrics\": ["), std::string::npos) << j.out;
}

TEST(ForecastOutputTest, QueryInputErrorsNameTheQueryAndToTableConfirms) {
  TempDir dir;
  const std::string lake = dir.Join("lake");
  auto sl = [&](std::vector<std::string> args) { return RunSaleslakeIn(lake, std::move(args)); };
  ASSERT_EQ(sl({"init"}).exit_code, 0);
  ASSERT_EQ(sl({"generate", "--rows", "5000"}).exit_code, 0);
  ASSERT_EQ(sl({"crawl"}).exit_code, 0);
  const std::string q = "SELECT purchase_date AS d, sum(amount) AS v FROM raw_sales GROUP BY 1";
  auto r = sl({"forecast", "--query", q, "--date", "d", "--value", "nosuch", "--horizon", "7"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("forecast --query: --value nosuch: no such column (columns: d, v)"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("/tmp"), std::string::npos) << r.err;
  r = sl({"forecast", "--query", "SELECT 'x' AS d, 1 AS v", "--date", "d", "--value", "v", "--horizon", "7"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("forecast --query: row 1: column 'd': 'x' is not a date"), std::string::npos) << r.err;
  r = sl({"forecast", "--query", q, "--date", "d", "--value", "v", "--horizon", "7", "--to-table", "fc"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("appended 7 rows (1 series x 7 days) to lake table 'fc'"), std::string::npos) << r.err;
}

TEST(ForecastOutputTest, PlotDrawsPngAndSvg) {
  TempDir dir;
  WriteFile(dir.Join("in.csv"), Daily(60));
  for (const char* name : {"fc.png", "fc.svg"}) {
    auto r = RunSaleslake({"forecast", "--input", dir.Join("in.csv"), "--date", "day", "--value", "sales",
                           "--horizon", "14", "--plot", dir.Join(name)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find(std::string("plotted 1 series to ") + dir.Join(name)), std::string::npos) << r.err;
    const std::string img = ReadFile(dir.Join(name));
    EXPECT_GT(img.size(), 2000u) << name;
    if (std::string(name) == "fc.png") EXPECT_EQ(img.rfind("\x89PNG", 0), 0u);
    else EXPECT_NE(img.find("<svg"), std::string::npos);
  }
  auto bad = RunSaleslake({"forecast", "--input", dir.Join("in.csv"), "--date", "day", "--value", "sales",
                           "--horizon", "14", "--plot", dir.Join("fc.jpg")});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("must end in .png or .svg"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace saleslake::testing
