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

// The sketch of one group (HllMode::kSketch) as text.
std::string SketchOf(int64_t from, int64_t distinct, const ColumnVector* error = nullptr) {
  auto st = MakeHllState(HllMode::kSketch);
  Feed(*st, from, distinct, error);
  ColumnVector out(DataType::Varchar(), 1);
  out.Resize(1);
  EXPECT_TRUE(st->Finalize(out).ok());
  return std::string(out.data<std::string_view>()[0]);
}

// Merges `sketches` (all into group 0) with `mode`; the estimate or the merged sketch as text.
std::string MergeSketches(const std::vector<std::string>& sketches, HllMode mode, Status* status = nullptr) {
  auto st = MakeHllState(mode);
  st->Resize(1);
  ColumnVector in(DataType::Varchar(), sketches.size());
  in.Resize(sketches.size());
  for (size_t i = 0; i < sketches.size(); ++i) in.SetString(i, sketches[i]);
  std::vector<uint32_t> gids(sketches.size(), 0);
  std::vector<const ColumnVector*> args{&in};
  Status s = st->Update(gids.data(), args, sketches.size());
  if (status) *status = s;
  if (!s.ok()) return "";
  ColumnVector out(mode == HllMode::kMergeSketch ? DataType::Varchar() : DataType::Int64(), 1);
  out.Resize(1);
  EXPECT_TRUE(st->Finalize(out).ok());
  if (mode == HllMode::kMergeSketch) return std::string(out.data<std::string_view>()[0]);
  return std::to_string(out.data<int64_t>()[0]);
}

// Materialized views keep approx_distinct as sketches: merging them, in any grouping and in
// several steps, gives exactly the estimate of one state fed every value.
TEST(HyperLogLogTest, SketchesMergeToTheSameEstimate) {
  for (int64_t n : {0, 1, 100, 300, 50000}) {
    auto whole = MakeHllState();
    Feed(*whole, 0, n);
    std::string expect = std::to_string(Result(*whole));
    // Overlapping parts: sparse + sparse crossing the sparse limit, dense + sparse, dense + dense.
    std::vector<std::string> parts = {SketchOf(0, n / 2), SketchOf(n / 3, n - n / 3), SketchOf(0, std::min<int64_t>(n, 5))};
    EXPECT_EQ(MergeSketches(parts, HllMode::kMergeEstimate), expect) << n;
    std::string merged = MergeSketches({parts[0], parts[1]}, HllMode::kMergeSketch);
    EXPECT_EQ(MergeSketches({merged, parts[2]}, HllMode::kMergeEstimate), expect) << n;
    EXPECT_EQ(MergeSketches({SketchOf(0, n)}, HllMode::kMergeEstimate), expect) << n;
  }
}

TEST(HyperLogLogTest, SketchesKeepTheirPrecisionAndRejectGarbage) {
  ColumnVector e(DataType::Double(), 4096);
  e.Resize(4096);
  for (size_t i = 0; i < 4096; ++i) e.data<double>()[i] = 0.01;
  auto whole = MakeHllState();
  Feed(*whole, 0, 20000, &e);
  EXPECT_EQ(MergeSketches({SketchOf(0, 12000, &e), SketchOf(8000, 12000, &e)}, HllMode::kMergeEstimate),
            std::to_string(Result(*whole)));
  Status s;
  MergeSketches({SketchOf(0, 5000, &e), SketchOf(0, 5000)}, HllMode::kMergeEstimate, &s);
  EXPECT_NE(s.message().find("different precisions"), std::string::npos) << s.ToString();
  for (const char* bad : {"zz", "", "02", "000b00"}) {
    MergeSketches({bad}, HllMode::kMergeEstimate, &s);
    EXPECT_NE(s.message().find("not a HyperLogLog sketch"), std::string::npos) << bad << ": " << s.ToString();
  }
}

TEST(HyperLogLogTest, EmptyRegistersEstimateZero) {
  std::vector<uint8_t> regs(size_t{1} << kDefaultHllPrecision, 0);
  EXPECT_EQ(HllEstimate(regs.data(), kDefaultHllPrecision), 0.0);
}

}  // namespace
}  // namespace saleslake::sql::internal
