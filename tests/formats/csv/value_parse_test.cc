#include "formats/csv/value_parse.h"

#include <gtest/gtest.h>

namespace saleslake::csv {
namespace {

TEST(ValueParseTest, Integers) {
  int64_t v;
  EXPECT_TRUE(ParseInt64("0", &v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(ParseInt64("-9223372036854775808", &v));
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_TRUE(ParseInt64(" +42 ", &v));
  EXPECT_EQ(v, 42);
  EXPECT_FALSE(ParseInt64("9223372036854775808", &v));
  EXPECT_FALSE(ParseInt64("99999999999999999999999", &v));
  EXPECT_FALSE(ParseInt64("1.0", &v));
  EXPECT_FALSE(ParseInt64("", &v));
  EXPECT_FALSE(ParseInt64("-", &v));
  EXPECT_FALSE(ParseInt64("12a", &v));
  int32_t w;
  EXPECT_FALSE(ParseInt32("2147483648", &w));
  EXPECT_TRUE(ParseInt32("-2147483648", &w));
}

TEST(ValueParseTest, Doubles) {
  double d;
  EXPECT_TRUE(ParseDouble("1.5", &d));
  EXPECT_EQ(d, 1.5);
  EXPECT_TRUE(ParseDouble("+2e-3", &d));
  EXPECT_EQ(d, 0.002);
  EXPECT_TRUE(ParseDouble(" -7 ", &d));
  EXPECT_EQ(d, -7);
  EXPECT_FALSE(ParseDouble("1,5", &d));
  EXPECT_FALSE(ParseDouble("$1", &d));
  EXPECT_FALSE(ParseDouble("+-1", &d));
  EXPECT_TRUE(ParseDouble("nan", &d));
  EXPECT_FALSE(ParseFiniteDouble("nan", &d));
  EXPECT_FALSE(ParseFiniteDouble("inf", &d));
}

TEST(ValueParseTest, Decimals) {
  __int128 v;
  EXPECT_TRUE(ParseDecimal("12.345", 10, 2, &v));
  EXPECT_EQ(static_cast<int64_t>(v), 1235);
  EXPECT_TRUE(ParseDecimal("-0.005", 10, 2, &v));
  EXPECT_EQ(static_cast<int64_t>(v), -1);
  EXPECT_TRUE(ParseDecimal("7", 5, 2, &v));
  EXPECT_EQ(static_cast<int64_t>(v), 700);
  EXPECT_FALSE(ParseDecimal("1000", 5, 2, &v));  // 100000 needs 6 digits
  EXPECT_FALSE(ParseDecimal("1.2.3", 5, 2, &v));
  EXPECT_FALSE(ParseDecimal(".", 5, 2, &v));
  EXPECT_TRUE(ParseDecimal("99999999999999999999999999999999999999", 38, 0, &v));
  EXPECT_FALSE(ParseDecimal("999999999999999999999999999999999999999", 38, 0, &v));
}

TEST(ValueParseTest, Booleans) {
  bool b;
  for (const char* t : {"true", "TRUE", "t", "yes", "Y", "1"}) {
    EXPECT_TRUE(ParseBool(t, &b)) << t;
    EXPECT_TRUE(b);
  }
  for (const char* f : {"false", "F", "no", "n", "0"}) {
    EXPECT_TRUE(ParseBool(f, &b)) << f;
    EXPECT_FALSE(b);
  }
  EXPECT_FALSE(ParseBool("maybe", &b));
}

TEST(ValueParseTest, DateFormats) {
  DateTimeFormat iso;
  EXPECT_EQ(iso.ParseDate("2025-08-01"), DaysFromCivil(2025, 8, 1));
  EXPECT_EQ(iso.ParseDate("2024-02-30"), std::nullopt);
  EXPECT_EQ(iso.ParseDate("2025-13-01"), std::nullopt);
  EXPECT_EQ(iso.ParseDate("2025-08-01 10:00:00"), std::nullopt);  // a time is not a date
  EXPECT_EQ(iso.ParseDate("2025-08-01 00:00:00"), DaysFromCivil(2025, 8, 1));
  auto dmy = DateTimeFormat::Compile("%d/%m/%Y");
  ASSERT_TRUE(dmy.ok());
  EXPECT_EQ(dmy->ParseDate("31/12/2024"), DaysFromCivil(2024, 12, 31));
  EXPECT_EQ(dmy->ParseDate("1/2/2024"), DaysFromCivil(2024, 2, 1));
  EXPECT_EQ(dmy->ParseDate("12/31/2024"), std::nullopt);
  EXPECT_EQ(dmy->ParseDate("31/12/24"), std::nullopt);
  EXPECT_EQ(dmy->ParseDate("31/12"), std::nullopt);
  EXPECT_FALSE(DateTimeFormat::Compile("%Y-%m").ok());
  EXPECT_FALSE(DateTimeFormat::Compile("%Y-%m-%d %").ok());
  EXPECT_FALSE(DateTimeFormat::Compile("%Y-%m-%d %q").ok());
}

TEST(ValueParseTest, TimestampFormats) {
  DateTimeFormat iso;
  const int64_t day = int64_t{DaysFromCivil(2025, 8, 1)} * kMicrosPerDay;
  const int64_t s = kMicrosPerSecond;
  EXPECT_EQ(iso.ParseTimestamp("2025-08-01 10:11:12"), day + (10 * 3600 + 11 * 60 + 12) * s);
  EXPECT_EQ(iso.ParseTimestamp("2025-08-01T10:11:12.5"), day + (10 * 3600 + 11 * 60 + 12) * s + 500000);
  EXPECT_EQ(iso.ParseTimestamp("2025-08-01 10:11"), day + (10 * 3600 + 11 * 60) * s);
  EXPECT_EQ(iso.ParseTimestamp("2025-08-01"), day);
  EXPECT_EQ(iso.ParseTimestamp("2025-08-01T10:00:00Z"), day + 10 * 3600 * s);
  EXPECT_EQ(iso.ParseTimestamp("2025-08-01T10:00:00+02:00"), day + 8 * 3600 * s);
  EXPECT_EQ(iso.ParseTimestamp("2025-08-01 25:00:00"), std::nullopt);
  EXPECT_EQ(iso.ParseTimestamp("2025-08-01 10:00:00 junk"), std::nullopt);
  auto us = DateTimeFormat::Compile("%m/%d/%Y %H:%M");
  ASSERT_TRUE(us.ok());
  EXPECT_EQ(us->ParseTimestamp("8/1/2025 9:05"), day + (9 * 3600 + 5 * 60) * s);
  auto ampm = DateTimeFormat::Compile("%m/%d/%Y %I:%M %p");
  ASSERT_TRUE(ampm.ok());
  EXPECT_EQ(ampm->ParseTimestamp("8/1/2025 12:05 AM"), day + 5 * 60 * s);
  EXPECT_EQ(ampm->ParseTimestamp("8/1/2025 12:05 pm"), day + (12 * 3600 + 5 * 60) * s);
  EXPECT_EQ(ampm->ParseTimestamp("8/1/2025 13:05 PM"), std::nullopt);
  auto frac = DateTimeFormat::Compile("%Y%m%d %H%M%S.%f");
  ASSERT_TRUE(frac.ok());
  EXPECT_EQ(frac->ParseTimestamp("20250801 101112.123456789"),
            day + (10 * 3600 + 11 * 60 + 12) * s + 123456);
}

}  // namespace
}  // namespace saleslake::csv
