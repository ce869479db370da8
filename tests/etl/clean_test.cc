#include "etl/internal/clean.h"

#include <gtest/gtest.h>

namespace saleslake::etl::internal {
namespace {

TEST(CleanerTest, AmountsLoseTheirDirtButNotTheirValue) {
  auto c = Cleaner::Make(DataType::Double(), "");
  ASSERT_TRUE(c.ok());
  struct Case {
    const char* raw;
    CleanOutcome outcome;
    double value;
  } cases[] = {
      {"12.50", CleanOutcome::kValue, 12.5},     {"  12.50 ", CleanOutcome::kFixed, 12.5},
      {"$12.50", CleanOutcome::kFixed, 12.5},    {"1,234.50", CleanOutcome::kFixed, 1234.5},
      {"$1,234,567.25", CleanOutcome::kFixed, 1234567.25},
      {"-12.50", CleanOutcome::kValue, -12.5},   {"-$3.00", CleanOutcome::kFixed, -3},
      {"(7.25)", CleanOutcome::kFixed, -7.25},   {"12.50 \xE2\x82\xAC", CleanOutcome::kFixed, 12.5},
      {"EUR 9", CleanOutcome::kFixed, 9},        {"", CleanOutcome::kNull, 0},
      {"N/A", CleanOutcome::kNull, 0},           {" NULL ", CleanOutcome::kNull, 0},
      {"abc", CleanOutcome::kError, 0},          {"1,23.4", CleanOutcome::kError, 0},
      {"12,50", CleanOutcome::kError, 0},        {"NaN", CleanOutcome::kError, 0},
      {"$", CleanOutcome::kError, 0},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.raw);
    double v = -999;
    EXPECT_EQ(c->CleanDouble(k.raw, &v), k.outcome);
    if (k.outcome == CleanOutcome::kValue || k.outcome == CleanOutcome::kFixed) {
      EXPECT_EQ(v, k.value);
    }
  }
  EXPECT_NE(c->ErrorReason("abc").find("cannot read 'abc' as DOUBLE"), std::string::npos);
}

TEST(CleanerTest, DatesInEveryAcceptedFormat) {
  auto c = Cleaner::Make(DataType::Date(), "%Y-%m-%d");
  ASSERT_TRUE(c.ok());
  int32_t d = 0;
  const int32_t mar14 = DaysFromCivil(2025, 3, 14);
  EXPECT_EQ(c->CleanDate("2025-03-14", &d), CleanOutcome::kValue);
  EXPECT_EQ(d, mar14);
  for (const char* raw : {"2025/03/14", " 2025-03-14", "03/14/2025", "14/03/2025", "14.03.2025",
                          "2025-03-14T10:00:00Z", "2025-03-14 23:59:59"}) {
    SCOPED_TRACE(raw);
    d = 0;
    EXPECT_EQ(c->CleanDate(raw, &d), CleanOutcome::kFixed);
    EXPECT_EQ(d, mar14);
  }
  // Ambiguous D/M: month first unless the column's own format puts the day first.
  EXPECT_EQ(c->CleanDate("04/03/2025", &d), CleanOutcome::kFixed);
  EXPECT_EQ(d, DaysFromCivil(2025, 4, 3));
  auto dmy = Cleaner::Make(DataType::Date(), "%d/%m/%Y");
  EXPECT_EQ(dmy->CleanDate("04/03/2025", &d), CleanOutcome::kValue);
  EXPECT_EQ(d, DaysFromCivil(2025, 3, 4));
  for (const char* bad : {"2025-13-45", "31.02.2025", "soon", "2025-02-29"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(c->CleanDate(bad, &d), CleanOutcome::kError);
  }
  EXPECT_EQ(c->CleanDate("N/A", &d), CleanOutcome::kNull);
  EXPECT_NE(c->ErrorReason("soon").find("%Y/%m/%d"), std::string::npos);
}

TEST(CleanerTest, IntegersAndTimestamps) {
  auto i = Cleaner::Make(DataType::Int64(), "");
  int64_t v = 0;
  EXPECT_EQ(i->CleanInt64("42", &v), CleanOutcome::kValue);
  EXPECT_EQ(i->CleanInt64("1,000", &v), CleanOutcome::kFixed);
  EXPECT_EQ(v, 1000);
  EXPECT_EQ(i->CleanInt64("1.5", &v), CleanOutcome::kError);
  auto t = Cleaner::Make(DataType::Timestamp(), "%m/%d/%Y %H:%M");
  int64_t ts = 0;
  EXPECT_EQ(t->CleanTimestamp("12/1/2010 8:26", &ts), CleanOutcome::kValue);
  EXPECT_EQ(FormatTimestamp(ts), "2010-12-01 08:26:00");
  EXPECT_EQ(t->CleanTimestamp("2010-12-01 08:26:00", &ts), CleanOutcome::kFixed);
  EXPECT_EQ(t->CleanTimestamp("later", &ts), CleanOutcome::kError);
}

}  // namespace
}  // namespace saleslake::etl::internal
