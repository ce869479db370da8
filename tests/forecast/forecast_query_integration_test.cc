// `saleslake forecast --query`: series straight from the lake through the SQL engine.
#include <gtest/gtest.h>

#include "support/test_support.h"

namespace saleslake {
namespace {

TEST(ForecastQueryTest, ForecastsRegionsFromSalesData) {
  testing::TempDir dir;
  std::string lake = dir.Join("lake");
  auto sl = [&](std::vector<std::string> args) { return testing::RunSaleslakeIn(lake, std::move(args)); };
  ASSERT_EQ(sl({"init"}).exit_code, 0);
  ASSERT_EQ(sl({"generate", "--rows", "30000"}).exit_code, 0);
  ASSERT_EQ(sl({"crawl"}).exit_code, 0);
  auto job = sl({"start-job", "--job-name", "my-etl-job"});
  ASSERT_EQ(job.exit_code, 0) << job.err;
  auto r = sl({"forecast", "--query",
               "SELECT region, purchase_date AS d, sum(amount) AS revenue FROM sales_data "
               "WHERE status <> 'OUT' GROUP BY 1, 2",
               "--date", "d", "--value", "revenue", "--by", "region", "--horizon", "7", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t lines = std::count(r.out.begin(), r.out.end(), '\n');
  EXPECT_EQ(lines, 1u + 8 * 7);  // header + 8 regions x 7 days
  EXPECT_EQ(r.out.rfind("region,date,forecast,lo80,hi80,lo95,hi95,model\n", 0), 0u);
  EXPECT_NE(r.out.find("North America,2025-08-26,"), std::string::npos);
  EXPECT_EQ(r.out.find("nan"), std::string::npos);

  auto bad = sl({"forecast", "--query", "SELECT nope FROM sales_data", "--date", "d", "--value",
                 "v", "--horizon", "7"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("column 'nope' not found"), std::string::npos) << bad.err;
  auto both = sl({"forecast", "--query", "SELECT 1", "--input", dir.Join("x.csv"), "--date", "d",
                  "--value", "v", "--horizon", "7"});
  EXPECT_EQ(both.exit_code, 1);
}

}  // namespace
}  // namespace saleslake
