#include "forecast/series.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/types.h"

namespace saleslake::forecast {
namespace {

int32_t D(const char* s) { return *ParseIsoDate(s); }

TEST(SeriesBuilderTest, GroupsSortsAndFillsZeroGaps) {
  SeriesBuilder b;
  ASSERT_TRUE(b.Add({"EU"}, D("2025-01-03"), 3, 2).ok());
  ASSERT_TRUE(b.Add({"US"}, D("2025-01-01"), 10, 3).ok());
  ASSERT_TRUE(b.Add({"EU"}, D("2025-01-01"), 1, 4).ok());
  auto r = b.Finish();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].group, std::vector<std::string>{"EU"});  // order of first appearance
  EXPECT_EQ((*r)[0].start_day, D("2025-01-01"));
  EXPECT_EQ((*r)[0].values, (std::vector<double>{1, 0, 3}));
  EXPECT_EQ((*r)[0].filled_days, 1);
  EXPECT_EQ((*r)[1].values, (std::vector<double>{10}));
}

TEST(SeriesBuilderTest, DuplicateDatesErrorOrSum) {
  SeriesBuilder strict;
  ASSERT_TRUE(strict.Add({"A"}, D("2025-02-01"), 1, 7).ok());
  ASSERT_TRUE(strict.Add({"A"}, D("2025-02-01"), 2, 9).ok());
  auto r = strict.Finish();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("duplicate date 2025-02-01 (rows 7 and 9)"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("series [A]"), std::string::npos);

  SeriesBuilder sum({.duplicates = DuplicatePolicy::kSum});
  ASSERT_TRUE(sum.Add({}, D("2025-02-01"), 1, 1).ok());
  ASSERT_TRUE(sum.Add({}, D("2025-02-01"), 2.5, 2).ok());
  ASSERT_TRUE(sum.Add({}, D("2025-02-01"), std::nan(""), 3).ok());  // missing amount: ignored
  auto s = sum.Finish();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)[0].values, std::vector<double>{3.5});
}

TEST(SeriesBuilderTest, InterpolateAndErrorPolicies) {
  SeriesBuilder b({.gaps = GapPolicy::kInterpolate});
  ASSERT_TRUE(b.Add({}, D("2025-01-01"), 10, 1).ok());
  ASSERT_TRUE(b.Add({}, D("2025-01-02"), std::nan(""), 2).ok());
  ASSERT_TRUE(b.Add({}, D("2025-01-05"), 40, 3).ok());
  auto r = b.Finish();
  ASSERT_TRUE(r.ok());
  const std::vector<double> expect = {10, 17.5, 25, 32.5, 40};
  ASSERT_EQ((*r)[0].values.size(), expect.size());
  for (size_t i = 0; i < expect.size(); ++i) EXPECT_DOUBLE_EQ((*r)[0].values[i], expect[i]);
  EXPECT_EQ((*r)[0].filled_days, 3);

  SeriesBuilder e({.gaps = GapPolicy::kError});
  ASSERT_TRUE(e.Add({"x"}, D("2025-01-01"), 1, 1).ok());
  ASSERT_TRUE(e.Add({"x"}, D("2025-01-03"), 1, 2).ok());
  auto er = e.Finish();
  ASSERT_FALSE(er.ok());
  EXPECT_NE(er.status().message().find("no value for 2025-01-02"), std::string::npos);
}

TEST(SeriesBuilderTest, RejectsInfiniteAndAllMissing) {
  SeriesBuilder b;
  EXPECT_FALSE(b.Add({}, D("2025-01-01"), INFINITY, 5).ok());
  ASSERT_TRUE(b.Add({"g"}, D("2025-01-01"), std::nan(""), 6).ok());
  auto r = b.Finish();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("every value is missing"), std::string::npos);
  EXPECT_FALSE(ParseGapPolicy("fill").ok());
  EXPECT_EQ(*ParseDuplicatePolicy("sum"), DuplicatePolicy::kSum);
}

}  // namespace
}  // namespace saleslake::forecast
