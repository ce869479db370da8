// `saleslake forecast` end to end: output formats, grouping, metrics, and clear errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "support/test_support.h"

namespace saleslake::testing {
namespace {

std::string DailyCsv() {
  std::string s = "day,region,sales\n";
  const double pat[7] = {0, -10, -5, 0, 5, 20, 10};
  for (int d = 0; d < 120; ++d) {
    const int mon = d < 31 ? 1 : d < 59 ? 2 : d < 90 ? 3 : 4;
    const int dom = d < 31 ? d + 1 : d < 59 ? d - 30 : d < 90 ? d - 58 : d - 89;
    char date[16];
    std::snprintf(date, sizeof date, "2025-%02d-%02d", mon, dom);
    s += std::string(date) + ",EU," + std::to_string(100 + pat[d % 7] + (d * 37 % 11)) + "\n";
    // d * 53 % 11: not weekly, so no model fits exactly (a perfect fit has zero-width intervals,
    // which forecast refuses).
    s += std::string(date) + ",\"US, East\"," + std::to_string(200 + 2 * pat[d % 7] + (d * 53 % 11)) + "\n";
  }
  return s;
}

TEST(ForecastCliTest, CsvOutputPerGroup) {
  TempDir dir;
  WriteFile(dir.Join("s.csv"), DailyCsv());
  auto r = RunSaleslake({"forecast", "--input", dir.Join("s.csv"), "--date", "day", "--value", "sales",
                         "--by", "region", "--horizon", "14", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("region,date,forecast,lo80,hi80,lo95,hi95,model\n", 0), 0u) << r.out;
  // 2 series x 14 days + header.
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 29);
  EXPECT_NE(r.out.find("EU,2025-05-01,"), std::string::npos);
  EXPECT_NE(r.out.find("\"US, East\",2025-05-14,"), std::string::npos);
  EXPECT_EQ(r.out.find("nan"), std::string::npos);
}

TEST(ForecastCliTest, JsonMetricsAndModels) {
  TempDir dir;
  WriteFile(dir.Join("s.csv"), DailyCsv());
  auto r = RunSaleslake({"forecast", "--input", dir.Join("s.csv"), "--date", "day", "--value", "sales",
                         "--by", "region", "--horizon", "7", "--metrics", "--backtest", "3",
                         "--format", "json", "--output", dir.Join("fc.json"), "--model", "snaive"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"model\": \"SNaive\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"windows\": 3"), std::string::npos) << r.out;
  std::string fc = ReadFile(dir.Join("fc.json"));
  EXPECT_NE(fc.find("\"forecast\": "), std::string::npos);
  auto t = RunSaleslake({"forecast", "--input", dir.Join("s.csv"), "--date", "day", "--value", "sales",
                         "--by", "region", "--horizon", "7", "--model", "ets:AAdA"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("ETS(A,Ad,A)"), std::string::npos);
}

TEST(ForecastCliTest, ClearErrors) {
  TempDir dir;
  WriteFile(dir.Join("bad.csv"), "day,sales\n2025-01-01,5\n2025-01-02,abc\n");
  auto r = RunSaleslake({"forecast", "--input", dir.Join("bad.csv"), "--date", "day", "--value",
                         "sales", "--horizon", "3"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad.csv:3: column 'sales': 'abc' is not a number"), std::string::npos) << r.err;
  WriteFile(dir.Join("dup.csv"), "day,sales\n2025-01-01,5\n2025-01-01,6\n");
  r = RunSaleslake({"forecast", "--input", dir.Join("dup.csv"), "--date", "day", "--value", "sales",
                    "--horizon", "3"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("duplicate date 2025-01-01 (rows 2 and 3)"), std::string::npos) << r.err;
  // Summed duplicates (a series needs 4 days: 1 day is refused, forecast_output_integration_test).
  WriteFile(dir.Join("dup5.csv"), "day,sales\n2025-01-01,1\n2025-01-02,3\n2025-01-03,2\n2025-01-04,4\n"
                                  "2025-01-05,5\n2025-01-05,6\n");
  r = RunSaleslake({"forecast", "--input", dir.Join("dup5.csv"), "--date", "day", "--value", "sales",
                    "--horizon", "3", "--duplicates", "sum", "--format", "csv", "--model", "naive"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2025-01-06,11.00"), std::string::npos) << r.out;
  r = RunSaleslake({"forecast", "--input", dir.Join("dup.csv"), "--date", "nope", "--value", "sales",
                    "--horizon", "3"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--date nope: no such column (columns: day, sales)"), std::string::npos) << r.err;
  r = RunSaleslake({"--lake", dir.Join("no-lake"), "forecast", "--query", "SELECT 1", "--date", "d",
                    "--value", "v", "--horizon", "3"});
  EXPECT_EQ(r.exit_code, 1);  // --query needs a lake (see forecast_query_integration_test.cc)
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  r = RunSaleslake({"forecast", "--input", dir.Join("dup.csv"), "--date", "day", "--value", "sales",
                    "--horizon", "0"});
  EXPECT_EQ(r.exit_code, 2);
  r = RunSaleslake({"forecast", "--input", dir.Join("dup.csv"), "--date", "day", "--value", "sales",
                    "--horizon", "3", "--model", "prophet"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown model 'prophet'"), std::string::npos);
}


// Two group columns, a missing day per series filled by interpolation, rows in reverse order,
// US-style dates (sniffed), and a 2-window backtest with every metric column.
TEST(ForecastCliTest, SeveralGroupColumnsGapsAndBacktest) {
  TempDir dir;
  std::string s = "Day,Region,Channel,Units\n";
  std::vector<std::string> rows;
  for (int d = 0; d < 90; ++d) {
    if (d == 40) continue;  // a gap in every series
    const int mon = d < 31 ? 1 : d < 59 ? 2 : 3;
    const int dom = d < 31 ? d + 1 : d < 59 ? d - 30 : d - 58;
    char date[16];
    std::snprintf(date, sizeof date, "%02d/%02d/2025", mon, dom);
    for (const char* reg : {"EU", "US"}) {
      for (const char* ch : {"web", "store"}) {
        rows.push_back(std::string(date) + "," + reg + "," + ch + "," + std::to_string(50 + d % 7 * 4 + d % 3) + "\n");
      }
    }
  }
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) s += *it;
  WriteFile(dir.Join("u.csv"), s);
  auto r = RunSaleslake({"forecast", "--input", dir.Join("u.csv"), "--date", "Day", "--value", "Units",
                         "--by", "Region,Channel", "--horizon", "7", "--gaps", "interpolate",
                         "--backtest", "2", "--metrics", "--format", "csv", "--output", dir.Join("fc.csv")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("Region,Channel,model,windows,mae,rmse,smape,mase,coverage80,coverage95\n", 0), 0u) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 5);  // header + 4 series
  EXPECT_NE(r.out.find("US,store,"), std::string::npos);
  EXPECT_EQ(r.out.find("NA"), std::string::npos) << r.out;
  const std::string fc = ReadFile(dir.Join("fc.csv"));
  EXPECT_EQ(fc.rfind("Region,Channel,date,forecast,lo80,hi80,lo95,hi95,model\n", 0), 0u);
  EXPECT_EQ(std::count(fc.begin(), fc.end(), '\n'), 1 + 4 * 7);
  EXPECT_NE(fc.find("EU,web,2025-04-01,"), std::string::npos) << fc;  // day after 2025-03-31
  auto t = RunSaleslake({"forecast", "--input", dir.Join("u.csv"), "--date", "Day", "--value", "Units",
                         "--by", "Region,Channel", "--horizon", "7", "--gaps", "error"});
  EXPECT_EQ(t.exit_code, 1);
  EXPECT_NE(t.err.find("2025-02-10"), std::string::npos) << t.err;  // the missing day
}

// Bad rows the typed reader rejects name their line.
TEST(ForecastCliTest, ReaderErrorsNameTheLine) {
  TempDir dir;
  std::string ok = "day,sales\n";
  for (int d = 1; d <= 28; ++d) ok += "2025-02-" + std::string(d < 10 ? "0" : "") + std::to_string(d) + "," + std::to_string(100 + d % 7) + "\n";
  for (int d = 1; d <= 31; ++d) ok += "2025-03-" + std::string(d < 10 ? "0" : "") + std::to_string(d) + "," + std::to_string(100 + d % 7) + "\n";
  std::string bad = ok;
  bad.replace(bad.find("2025-03-10,"), std::string("2025-03-10,").size() + 3, "2025-03-10,abc");
  WriteFile(dir.Join("bad.csv"), bad);
  auto r = RunSaleslake({"forecast", "--input", dir.Join("bad.csv"), "--date", "day", "--value", "sales",
                         "--horizon", "3"});
  EXPECT_EQ(r.exit_code, 1);
  // 1 bad value in 59 is too many for the sniffer to call the column numeric: it is read as text
  // and parsed here; either way the line and the value are named.
  EXPECT_NE(r.err.find("bad.csv:39: column 'sales': "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'abc'"), std::string::npos) << r.err;
  std::string extra = ok;
  extra.replace(extra.find("2025-03-12,"), 0, "2025-03-31,1,2\n");
  WriteFile(dir.Join("extra.csv"), extra);
  r = RunSaleslake({"forecast", "--input", dir.Join("extra.csv"), "--date", "day", "--value", "sales",
                    "--horizon", "3"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("extra.csv:41: expected 2 fields, found 3"), std::string::npos) << r.err;
}

// --to-table: forecasts land in a lake table SQL can read; a second run appends; another
// grouping is refused instead of silently dropping its group column.
TEST(ForecastCliTest, ToTableWritesALakeTable) {
  TempDir dir;
  WriteFile(dir.Join("s.csv"), DailyCsv());
  const std::string lake = dir.Join("lake");
  ASSERT_EQ(RunSaleslake({"--lake", lake, "init"}).exit_code, 0);
  auto fc = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"--lake", lake, "forecast", "--input", dir.Join("s.csv"), "--date",
                                     "day", "--value", "sales", "--horizon", "14"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunSaleslake(args);
  };
  auto r = fc({"--by", "region", "--to-table", "forecasts"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  r = fc({"--by", "region", "--to-table", "forecasts", "--model", "snaive"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto q = RunSaleslake({"--lake", lake, "query",
                         "SELECT region, count(*) AS n, count(DISTINCT model) AS models, min(date) AS first, "
                         "sum(CASE WHEN lo95 <= forecast AND forecast <= hi95 THEN 1 ELSE 0 END) AS ok "
                         "FROM forecasts GROUP BY region ORDER BY region",
                         "--format", "csv"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.out, "region,n,models,first,ok\nEU,28,2,2025-05-01,28\n\"US, East\",28,2,2025-05-01,28\n");
  r = fc({"--to-table", "forecasts", "--duplicates", "sum"});  // no --by: different columns
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("forecast --to-table forecasts: the table has columns (region VARCHAR"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace saleslake::testing
