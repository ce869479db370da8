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
    s += std::string(date) + ",\"US, East\"," + std::to_string(200 + 2 * pat[d % 7] + (d * 53 % 7)) + "\n";
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
  r = RunSaleslake({"forecast", "--input", dir.Join("dup.csv"), "--date", "day", "--value", "sales",
                    "--horizon", "3", "--duplicates", "sum", "--format", "csv"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2025-01-02,11.00"), std::string::npos) << r.out;
  r = RunSaleslake({"forecast", "--input", dir.Join("dup.csv"), "--date", "nope", "--value", "sales",
                    "--horizon", "3"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no column 'nope'"), std::string::npos);
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

}  // namespace
}  // namespace saleslake::testing
