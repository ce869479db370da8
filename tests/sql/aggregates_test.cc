// Aggregate states fed directly: a batch whose rows all belong to one group takes a fast path
// (sums in local registers, nulls masked through the validity bitmap), and it must give what the
// row-by-row path gives for every null pattern, batch size and value (NaN, -0.0, int64 limits).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <string>

#include "sql/functions/functions.h"

namespace saleslake::sql {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

AggregateFunction Resolve(std::string_view name, const DataType& arg) {
  auto f = ResolveAggregate(name, {arg}, false);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return *f;
}

// Runs one aggregate over `batches` (rows of batch b go to gids[b][i]) and returns group values.
std::vector<Value> RunGroups(const AggregateFunction& f, const std::vector<const ColumnVector*>& batches,
                       const std::vector<std::vector<uint32_t>>& gids, size_t groups) {
  auto st = MakeAggregateState(f);
  st->Resize(groups);
  for (size_t b = 0; b < batches.size(); ++b) {
    std::vector<const ColumnVector*> args;
    if (!f.arg_types.empty()) args.push_back(batches[b]);
    Status s = st->Update(gids[b].data(), args, gids[b].size());
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  ColumnVector out(f.return_type, std::max<size_t>(groups, 1));
  out.Resize(groups);
  Status s = st->Finalize(out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::vector<Value> v;
  for (size_t g = 0; g < groups; ++g) v.push_back(GetValueAt(out, g));
  return v;
}

Value RunOneGroup(const AggregateFunction& f, const ColumnVector& x, size_t n) {
  return RunGroups(f, {&x}, {std::vector<uint32_t>(n, 0)}, 1)[0];
}

// A flat double column; rows where null(i) are NULL and hold NaN (which must not leak).
template <typename NullFn>
ColumnVector Doubles(size_t n, NullFn null) {
  ColumnVector c(DataType::Double(), std::max<size_t>(n, 1));
  c.Resize(n);
  for (size_t i = 0; i < n; ++i) {
    c.data<double>()[i] = 0.25 * static_cast<double>(i % 97) - 3.0;
    if (null(i)) {
      c.data<double>()[i] = kNaN;
      c.SetNull(i);
    }
  }
  return c;
}

struct Expected {
  double sum = 0;
  int64_t count = 0;
  double min = 0, max = 0;
};
Expected RowByRow(const ColumnVector& c, size_t n) {
  Expected e;
  for (size_t i = 0; i < n; ++i) {
    if (!c.IsValid(i)) continue;
    double x = c.data<double>()[i];
    if (e.count == 0 || x < e.min) e.min = x;
    if (e.count == 0 || x > e.max) e.max = x;
    e.sum += x;
    ++e.count;
  }
  return e;
}

TEST(AggregatesTest, OneGroupDoubleMatchesRowByRow) {
  std::mt19937_64 rng(7);
  std::vector<std::pair<const char*, std::function<bool(size_t)>>> patterns = {
      {"no nulls", [](size_t) { return false; }},
      {"every 7th", [](size_t i) { return i % 7 == 3; }},
      {"all null", [](size_t) { return true; }},
      {"first word null", [](size_t i) { return i < 64; }},
      {"random 5%", [&](size_t) { return rng() % 20 == 0; }},
  };
  for (size_t n : {1, 2, 63, 64, 65, 100, 1000, 2048}) {
    for (auto& [name, null] : patterns) {
      ColumnVector c = Doubles(n, null);
      Expected e = RowByRow(c, n);
      SCOPED_TRACE(std::string(name) + ", n=" + std::to_string(n));
      Value sum = RunOneGroup(Resolve("sum", DataType::Double()), c, n);
      Value avg = RunOneGroup(Resolve("avg", DataType::Double()), c, n);
      Value cnt = RunOneGroup(Resolve("count", DataType::Double()), c, n);
      Value mn = RunOneGroup(Resolve("min", DataType::Double()), c, n);
      Value mx = RunOneGroup(Resolve("max", DataType::Double()), c, n);
      EXPECT_EQ(cnt.int_value(), e.count);
      if (e.count == 0) {
        EXPECT_TRUE(sum.is_null());
        EXPECT_TRUE(avg.is_null());
        EXPECT_TRUE(mn.is_null());
        EXPECT_TRUE(mx.is_null());
        continue;
      }
      ASSERT_FALSE(sum.is_null());
      EXPECT_NEAR(sum.double_value(), e.sum, 1e-9 * std::max(1.0, std::fabs(e.sum)));
      EXPECT_NEAR(avg.double_value(), e.sum / static_cast<double>(e.count), 1e-9);
      EXPECT_EQ(mn.double_value(), e.min);
      EXPECT_EQ(mx.double_value(), e.max);
    }
  }
}

TEST(AggregatesTest, OneGroupAddsToEarlierBatches) {
  // Batch 1 spreads rows over two groups (row-by-row path), batch 2 is all group 1 (fast path),
  // batch 3 all group 1 and all NULL, batch 4 empty.
  ColumnVector b1 = Doubles(10, [](size_t) { return false; });
  ColumnVector b2 = Doubles(130, [](size_t i) { return i % 3 == 0; });
  ColumnVector b3 = Doubles(70, [](size_t) { return true; });
  ColumnVector b4 = Doubles(0, [](size_t) { return false; });
  std::vector<uint32_t> g1(10);
  for (size_t i = 0; i < 10; ++i) g1[i] = static_cast<uint32_t>(i % 2);
  std::vector<std::vector<uint32_t>> gids = {g1, std::vector<uint32_t>(130, 1),
                                             std::vector<uint32_t>(70, 1), {}};
  std::vector<const ColumnVector*> batches = {&b1, &b2, &b3, &b4};
  double s0 = 0, s1 = 0, max1 = -1e300;
  int64_t n1 = 0;
  for (size_t i = 0; i < 10; ++i) {
    double x = b1.data<double>()[i];
    (i % 2 ? s1 : s0) += x;
    if (i % 2) max1 = std::max(max1, x), ++n1;
  }
  for (size_t i = 0; i < 130; ++i) {
    if (!b2.IsValid(i)) continue;
    s1 += b2.data<double>()[i];
    max1 = std::max(max1, b2.data<double>()[i]);
    ++n1;
  }
  auto sum = RunGroups(Resolve("sum", DataType::Double()), batches, gids, 2);
  EXPECT_NEAR(sum[0].double_value(), s0, 1e-9);
  EXPECT_NEAR(sum[1].double_value(), s1, 1e-9);
  auto cnt = RunGroups(Resolve("count", DataType::Double()), batches, gids, 2);
  EXPECT_EQ(cnt[0].int_value(), 5);
  EXPECT_EQ(cnt[1].int_value(), n1);
  auto mx = RunGroups(Resolve("max", DataType::Double()), batches, gids, 2);
  EXPECT_EQ(mx[1].double_value(), max1);
}

TEST(AggregatesTest, OneGroupEmptyAndAllNullBatches) {
  ColumnVector none = Doubles(0, [](size_t) { return false; });
  ColumnVector nulls = Doubles(2048, [](size_t) { return true; });
  for (const char* fn : {"sum", "avg", "min", "max"}) {
    SCOPED_TRACE(fn);
    EXPECT_TRUE(RunOneGroup(Resolve(fn, DataType::Double()), none, 0).is_null());
    EXPECT_TRUE(RunOneGroup(Resolve(fn, DataType::Double()), nulls, 2048).is_null());
  }
  EXPECT_EQ(RunOneGroup(Resolve("count", DataType::Double()), nulls, 2048).int_value(), 0);
  auto star = ResolveAggregate("count", {}, false);
  ASSERT_TRUE(star.ok());
  EXPECT_EQ(RunGroups(*star, {&nulls}, {std::vector<uint32_t>(2048, 0)}, 1)[0].int_value(), 2048);
  EXPECT_EQ(RunGroups(*star, {&none}, {{}}, 1)[0].int_value(), 0);
}

TEST(AggregatesTest, OneGroupNaNAndSignedZero) {
  // NaN is the largest value (Trino): max gives NaN, min ignores it; min/max keep the first of
  // equal values (-0.0 before 0.0).
  ColumnVector c(DataType::Double(), 200);
  c.Resize(200);
  for (size_t i = 0; i < 200; ++i) c.data<double>()[i] = i % 2 ? 0.0 : -0.0;
  c.data<double>()[150] = kNaN;
  c.data<double>()[10] = -5;
  c.data<double>()[11] = kNaN;
  c.SetNull(11);  // a NULL NaN does not count
  EXPECT_TRUE(std::isnan(RunOneGroup(Resolve("max", DataType::Double()), c, 200).double_value()));
  EXPECT_EQ(RunOneGroup(Resolve("min", DataType::Double()), c, 200).double_value(), -5);
  EXPECT_TRUE(std::isnan(RunOneGroup(Resolve("sum", DataType::Double()), c, 200).double_value()));
  c.data<double>()[150] = 0.0;
  c.data<double>()[10] = 0.0;
  double mn = RunOneGroup(Resolve("min", DataType::Double()), c, 200).double_value();
  EXPECT_EQ(mn, 0.0);
  EXPECT_TRUE(std::signbit(mn));  // row 0 holds -0.0
}

TEST(AggregatesTest, OneGroupIntegerSumsAreExact) {
  // int64 partial sums leave the int64 range inside one batch and come back: the fast path must
  // sum wide, as the row-by-row path does.
  const int64_t big = std::numeric_limits<int64_t>::max();
  ColumnVector c(DataType::Int64(), 130);
  c.Resize(130);
  for (size_t i = 0; i < 130; ++i) c.data<int64_t>()[i] = i < 64 ? big : (i < 128 ? -big : 3);
  c.SetNull(5);
  c.data<int64_t>()[5] = 12345;  // NULL slot: ignored
  c.data<int64_t>()[64] = 0;     // one fewer -big to balance the NULL
  EXPECT_EQ(RunOneGroup(Resolve("sum", DataType::Int64()), c, 130).int_value(), 6);
  EXPECT_EQ(RunOneGroup(Resolve("count", DataType::Int64()), c, 130).int_value(), 129);
  EXPECT_EQ(RunOneGroup(Resolve("max", DataType::Int64()), c, 130).int_value(), big);
  EXPECT_EQ(RunOneGroup(Resolve("min", DataType::Int64()), c, 130).int_value(), -big);

  ColumnVector over(DataType::Int64(), 3);
  over.Resize(3);
  for (size_t i = 0; i < 3; ++i) over.data<int64_t>()[i] = big;
  auto st = MakeAggregateState(Resolve("sum", DataType::Int64()));
  st->Resize(1);
  std::vector<uint32_t> gids(3, 0);
  std::vector<const ColumnVector*> args{&over};
  ASSERT_TRUE(st->Update(gids.data(), args, 3).ok());
  ColumnVector out(DataType::Int64(), 1);
  out.Resize(1);
  EXPECT_FALSE(st->Finalize(out).ok());  // bigint overflow in sum()

  ColumnVector i32(DataType::Int32(), 2048);
  i32.Resize(2048);
  int64_t expect = 0;
  for (size_t i = 0; i < 2048; ++i) {
    i32.data<int32_t>()[i] = std::numeric_limits<int32_t>::min() + static_cast<int32_t>(i);
    if (i % 11 == 0) {
      i32.SetNull(i);
    } else {
      expect += i32.data<int32_t>()[i];
    }
  }
  EXPECT_EQ(RunOneGroup(Resolve("sum", DataType::Int32()), i32, 2048).int_value(), expect);
  EXPECT_EQ(RunOneGroup(Resolve("min", DataType::Int32()), i32, 2048).int_value(),
            std::numeric_limits<int32_t>::min() + 1);
}

TEST(AggregatesTest, OneGroupCountIf) {
  ColumnVector b(DataType::Boolean(), 200);
  b.Resize(200);
  int64_t expect = 0;
  for (size_t i = 0; i < 200; ++i) {
    b.data<uint8_t>()[i] = i % 3 == 0;
    if (i % 5 == 0) {
      b.SetNull(i);  // NULL rows are not counted, even with a true slot
    } else {
      expect += i % 3 == 0;
    }
  }
  EXPECT_EQ(RunOneGroup(Resolve("count_if", DataType::Boolean()), b, 200).int_value(), expect);
}

TEST(AggregatesTest, OneGroupFloatSum) {
  ColumnVector f(DataType::Float(), 100);
  f.Resize(100);
  double expect = 0;
  for (size_t i = 0; i < 100; ++i) {
    f.data<float>()[i] = 0.5f * static_cast<float>(i);
    if (i % 9 == 0) {
      f.SetNull(i);
    } else {
      expect += 0.5 * static_cast<double>(i);
    }
  }
  EXPECT_NEAR(RunOneGroup(Resolve("sum", DataType::Float()), f, 100).double_value(), expect, 1e-3);
}

// Batches spread over a few groups (sums kept in several lanes per group) and over many groups,
// with NULLs, against sums computed row by row.
TEST(AggregatesTest, FewAndManyGroupsMatchRowByRow) {
  std::mt19937_64 rng(11);
  for (uint32_t groups : {2u, 5u, 16u, 17u, 40u}) {
    SCOPED_TRACE("groups=" + std::to_string(groups));
    std::vector<ColumnVector> batches;
    std::vector<std::vector<uint32_t>> gids;
    std::vector<double> sum(groups, 0);
    std::vector<int64_t> count(groups, 0), rows(groups, 0);
    for (size_t n : {2048, 1000, 3}) {
      ColumnVector c = Doubles(n, [&](size_t) { return rng() % 10 == 0; });
      std::vector<uint32_t> g(n);
      for (size_t i = 0; i < n; ++i) {
        g[i] = rng() % 3 == 0 ? 0 : static_cast<uint32_t>(rng() % groups);  // group 0 in runs
        ++rows[g[i]];
        if (!c.IsValid(i)) continue;
        sum[g[i]] += c.data<double>()[i];
        ++count[g[i]];
      }
      batches.push_back(std::move(c));
      gids.push_back(std::move(g));
    }
    std::vector<const ColumnVector*> ptrs;
    for (const auto& b : batches) ptrs.push_back(&b);
    auto s = RunGroups(Resolve("sum", DataType::Double()), ptrs, gids, groups);
    auto a = RunGroups(Resolve("avg", DataType::Double()), ptrs, gids, groups);
    auto c = RunGroups(Resolve("count", DataType::Double()), ptrs, gids, groups);
    auto star = ResolveAggregate("count", {}, false);
    ASSERT_TRUE(star.ok());
    auto r = RunGroups(*star, ptrs, gids, groups);
    for (uint32_t g = 0; g < groups; ++g) {
      EXPECT_EQ(c[g].int_value(), count[g]);
      EXPECT_EQ(r[g].int_value(), rows[g]);
      if (count[g] == 0) {
        EXPECT_TRUE(s[g].is_null());
        continue;
      }
      EXPECT_NEAR(s[g].double_value(), sum[g], 1e-9 * std::max(1.0, std::fabs(sum[g])));
      EXPECT_NEAR(a[g].double_value(), sum[g] / static_cast<double>(count[g]), 1e-9);
    }
  }
}

// $count_distinct_ids (a view's side table counted at a coarser grouping): per group, the
// number of distinct non-NULL ids, equal to count(DISTINCT) over the same rows, across batches
// and merged partials, ids arriving in any order (bitmaps grown on the way).
TEST(AggregatesTest, CountDistinctIdsEqualsCountDistinct) {
  auto ids = ResolveAggregate("$count_distinct_ids", {DataType::Int64()}, false);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  auto distinct = ResolveAggregate("count", {DataType::Int64()}, true);
  ASSERT_TRUE(distinct.ok());
  EXPECT_FALSE(ResolveAggregate("$count_distinct_ids", {DataType::Varchar()}, false).ok());
  constexpr size_t kGroups = 5;
  std::mt19937 rng(3);
  // Two partials of three batches each; group 4 gets only NULLs, and every id of group 3 is
  // below 64 (one word) while others reach 70,000.
  auto a = MakeAggregateState(*ids), b = MakeAggregateState(*ids), d = MakeAggregateState(*distinct);
  a->Resize(kGroups);
  b->Resize(kGroups);
  d->Resize(kGroups);
  for (int batch = 0; batch < 6; ++batch) {
    const size_t n = 1500;
    ColumnVector x(DataType::Int64(), n);
    x.Resize(n);
    std::vector<uint32_t> gids(n);
    for (size_t i = 0; i < n; ++i) {
      gids[i] = static_cast<uint32_t>(rng() % kGroups);
      const int64_t range = gids[i] == 3 ? 64 : 70000;
      x.data<int64_t>()[i] = static_cast<int64_t>(rng() % static_cast<uint64_t>(range));
      if (gids[i] == 4 || rng() % 11 == 0) x.SetNull(i);
    }
    std::vector<const ColumnVector*> args = {&x};
    ASSERT_TRUE((batch % 2 ? a : b)->Update(gids.data(), args, n).ok());
    ASSERT_TRUE(d->Update(gids.data(), args, n).ok());
  }
  std::vector<uint32_t> map = {0, 1, 2, 3, 4};
  ASSERT_TRUE(a->Merge(*b, map.data()).ok());
  ColumnVector got(DataType::Int64(), kGroups), want(DataType::Int64(), kGroups);
  got.Resize(kGroups);
  want.Resize(kGroups);
  ASSERT_TRUE(a->Finalize(got).ok());
  ASSERT_TRUE(d->Finalize(want).ok());
  for (size_t g = 0; g < kGroups; ++g) EXPECT_EQ(got.data<int64_t>()[g], want.data<int64_t>()[g]) << "group " << g;
  EXPECT_EQ(got.data<int64_t>()[4], 0);
  EXPECT_GT(a->MemoryBytes(), 0);
  // An id no dictionary gives is an error, not a huge bitmap.
  ColumnVector bad(DataType::Int64(), 1);
  bad.Resize(1);
  bad.data<int64_t>()[0] = -1;
  uint32_t g0 = 0;
  std::vector<const ColumnVector*> bad_args = {&bad};
  EXPECT_FALSE(a->Update(&g0, bad_args, 1).ok());
}

}  // namespace
}  // namespace saleslake::sql
