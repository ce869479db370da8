// approx_distinct's HyperLogLog: exact while a group is small, within Trino's standard error
// (2.3% by default) beyond, mergeable across thread-local partials, and precision from the
// optional max_standard_error argument.
#include "sql/functions/internal/hyperloglog.h"

#include <gtest/gtest.h>

#include <cmath>

namespace saleslake::sql::internal {
namespace {

ColumnVector Int64Column(int64_t from, size_t n, int64_t step = 1) {
  ColumnVector c(DataType::Int64(), n);
  c.Resize(n);
  for (size_t i = 0; i < n; ++i) c.data<int64_t>()[i] = from + static_cast<int64_t>(i) * step;
  return c;
}

// Feeds the values [from, from + distinct) twice each, in batches, into group 0 of `st`.
void Feed(AggregateState& st, int64_t from, int64_t distinct, const ColumnVector* error = nullptr) {
  st.Resize(1);
  for (int pass = 0; pass < 2; ++pass)
    for (int64_t s = 0; s < distinct; s += 4096) {
      size_t n = static_cast<size_t>(std::min<int64_t>(4096, distinct - s));
      ColumnVector x = Int64Column(from + s, n);
      std::vector<uint32_t> gids(n, 0);
      std::vector<const ColumnVector*> args{&x};
      if (error) args.push_back(error);
      ASSERT_TRUE(st.Update(gids.data(), args, n).ok());
    }
}

int64_t Result(AggregateState& st) {
  ColumnVector out(DataType::Int64(), 1);
  out.Resize(1);
  EXPECT_TRUE(st.Finalize(out).ok());
  return out.data<int64_t>()[0];
}

TEST(HyperLogLogTest, SmallGroupsAreExact) {
  for (int64_t n : {0, 1, 7, 100, 256}) {
    auto st = MakeHllState();
    Feed(*st, 1000, n);
    EXPECT_EQ(Result(*st), n);
  }
}

TEST(HyperLogLogTest, ErrorWithinTrinoDefaultStandardError) {
  // Each estimate within 3 standard errors, and the root mean square error over many sketches
  // close to the 2.3% Trino promises.
  double sum_sq = 0;
  int sketches = 0;
  for (int64_t n : {300, 1000, 5000, 20000, 100000, 400000}) {
    for (int64_t offset = 0; offset < 5; ++offset) {
      auto st = MakeHllState();
      Feed(*st, offset * 10'000'000, n);
      double err = (static_cast<double>(Result(*st)) - static_cast<double>(n)) / static_cast<double>(n);
      EXPECT_LE(std::fabs(err), 3 * 0.023) << "n=" << n << " offset=" << offset;
      sum_sq += err * err;
      ++sketches;
    }
  }
  EXPECT_LE(std::sqrt(sum_sq / sketches), 0.03);
}

TEST(HyperLogLogTest, MergedPartialsEqualOneSketch) {
  auto whole = MakeHllState(), a = MakeHllState(), b = MakeHllState();
  Feed(*whole, 0, 50000);
  Feed(*a, 0, 30000);
  Feed(*b, 20000, 30000);  // overlaps a
  uint32_t map = 0;
  ASSERT_TRUE(a->Merge(*b, &map).ok());
  EXPECT_EQ(Result(*a), Result(*whole));
  auto small = MakeHllState(), big = MakeHllState();  // a sparse group merged into a dense one
  Feed(*small, 7, 50);
  Feed(*big, 0, 50000);
  ASSERT_TRUE(big->Merge(*small, &map).ok());
  EXPECT_EQ(Result(*big), Result(*whole));
}

TEST(HyperLogLogTest, MaxStandardErrorChoosesPrecision) {
  EXPECT_EQ(*HllPrecisionFor(0.023), kDefaultHllPrecision);
  EXPECT_EQ(*HllPrecisionFor(0.01), 14);
  EXPECT_FALSE(HllPrecisionFor(0.001).ok());
  EXPECT_FALSE(HllPrecisionFor(0.5).ok());
  ColumnVector e(DataType::Double(), 4096);
  e.Resize(4096);
  for (size_t i = 0; i < 4096; ++i) e.data<double>()[i] = 0.01;
  auto st = MakeHllState();
  Feed(*st, 0, 200000, &e);
  EXPECT_LE(std::fabs(static_cast<double>(Result(*st)) - 200000.0) / 200000.0, 3 * 0.01);
}

TEST(HyperLogLogTest, EmptyRegistersEstimateZero) {
  std::vector<uint8_t> regs(size_t{1} << kDefaultHllPrecision, 0);
  EXPECT_EQ(HllEstimate(regs.data(), kDefaultHllPrecision), 0.0);
}

}  // namespace
}  // namespace saleslake::sql::internal
