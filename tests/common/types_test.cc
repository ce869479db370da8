#include "common/types.h"

#include <gtest/gtest.h>

#include "common/value.h"

namespace saleslake {
namespace {

TEST(TypesTest, CivilRoundTripOverFourCenturies) {
  for (int32_t d = DaysFromCivil(1800, 1, 1); d < DaysFromCivil(2200, 1, 1); ++d) {
    CivilDate c = CivilFromDays(d);
    ASSERT_EQ(DaysFromCivil(c.year, c.month, c.day), d);
  }
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(FormatDate(DaysFromCivil(2025, 8, 25)), "2025-08-25");
  EXPECT_EQ(IsoDayOfWeek(DaysFromCivil(2025, 11, 24)), 1);  // a Monday
}

TEST(TypesTest, ParseDates) {
  EXPECT_EQ(ParseIsoDate("2024-02-29"), DaysFromCivil(2024, 2, 29));
  EXPECT_FALSE(ParseIsoDate("2025-02-29"));
  EXPECT_FALSE(ParseIsoDate("2025-13-01"));
  EXPECT_FALSE(ParseIsoDate("2025/01/01"));
  auto ts = ParseIsoTimestamp("2025-01-02T03:04:05.25Z");
  ASSERT_TRUE(ts);
  EXPECT_EQ(FormatTimestamp(*ts), "2025-01-02 03:04:05.250000");
  EXPECT_EQ(FormatTimestamp(*ParseIsoTimestamp("2025-01-02 03:04")), "2025-01-02 03:04:00");
  EXPECT_FALSE(ParseIsoTimestamp("2025-01-02 25:00:00"));
}

TEST(TypesTest, UtcNowIsIsoAndParses) {
  std::string now = UtcNow();
  ASSERT_EQ(now.size(), 20u) << now;
  EXPECT_EQ(now.back(), 'Z');
  auto ts = ParseIsoTimestamp(now);
  ASSERT_TRUE(ts);
  EXPECT_GT(*ts, *ParseIsoTimestamp("2025-01-01T00:00:00Z"));
  EXPECT_EQ(UtcNow("%Y").size(), 4u);
}

TEST(TypesTest, TypeNames) {
  EXPECT_EQ(DataType::Decimal(12, 2).ToString(), "DECIMAL(12,2)");
  EXPECT_EQ(ParseDataType("decimal(10, 3)")->ToString(), "DECIMAL(10,3)");
  EXPECT_EQ(ParseDataType("decimal(5)")->ToString(), "DECIMAL(5,0)");
  EXPECT_EQ(ParseDataType("varchar")->id, TypeId::kVarchar);
  EXPECT_FALSE(ParseDataType("decimal(40,2)").ok());
  EXPECT_FALSE(ParseDataType("blob").ok());
}

TEST(ValueTest, FormatAndCompare) {
  EXPECT_EQ(FormatDecimal(12345, 2), "123.45");
  EXPECT_EQ(FormatDecimal(-5, 3), "-0.005");
  EXPECT_EQ(Value::Decimal(-1250, 10, 2).ToString(), "-12.50");
  EXPECT_EQ(Value::Double(0.1).ToString(), "0.1");
  EXPECT_LT(Value::Null(DataType::Int64()).Compare(Value::Int64(1)), 0);
  EXPECT_EQ(Value::Varchar("b").Compare(Value::Varchar("a")), 1);
}

TEST(TypesTest, FormatsDecimalsAndDatesDigitByDigit) {
  EXPECT_EQ(FormatDecimal(0, 0), "0");
  EXPECT_EQ(FormatDecimal(0, 2), "0.00");
  EXPECT_EQ(FormatDecimal(5, 2), "0.05");
  EXPECT_EQ(FormatDecimal(-5, 2), "-0.05");
  EXPECT_EQ(FormatDecimal(100, 2), "1.00");
  EXPECT_EQ(FormatDecimal(-12345678901234567, 4), "-1234567890123.4567");
  __int128 big = 1;
  for (int i = 0; i < 38; ++i) big *= 10;
  EXPECT_EQ(FormatDecimal(big - 1, 38), "0." + std::string(38, '9'));
  EXPECT_EQ(FormatDecimal(-(big - 1), 0), "-" + std::string(38, '9'));
  EXPECT_EQ(FormatDate(0), "1970-01-01");
  EXPECT_EQ(FormatDate(DaysFromCivil(9999, 12, 31)), "9999-12-31");
  EXPECT_EQ(FormatDate(DaysFromCivil(5, 3, 7)), "0005-03-07");
  EXPECT_EQ(FormatDate(DaysFromCivil(-1, 1, 1)), "-1-01-01");
}

}  // namespace
}  // namespace saleslake
