// Exact DISTINCT aggregates (sql/functions/internal/distinct_set.h): the value tables alone, the
// aggregate state through its implicit-to-explicit pair switch and merges, and whole queries
// (NULLs ignored, empty input, many groups, parallel partials, the memory limit). Every answer
// is checked against a std::set of what the rows hold.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>

#include "sql/exec/executor.h"  // MemoryCatalog, MemoryTable: inside src/sql
#include "sql/functions/functions.h"
#include "sql/functions/internal/distinct_set.h"
#include "sql/result_format.h"
#include "sql/sql.h"
#include "sql_test_util.h"

namespace saleslake::sql {
namespace {

using internal::ByteKeyTable;
using internal::PairSet;
using internal::ValueSet;

ColumnVector Strings(const std::vector<std::string>& v) {
  ColumnVector c(DataType::Varchar(), std::max<size_t>(v.size(), 1));
  c.Resize(v.size());
  for (size_t i = 0; i < v.size(); ++i) c.SetString(i, v[i]);
  return c;
}

std::vector<uint32_t> AllRows(size_t n) {
  std::vector<uint32_t> r(n);
  for (size_t i = 0; i < n; ++i) r[i] = static_cast<uint32_t>(i);
  return r;
}

std::vector<uint32_t> Intern(ValueSet& set, const ColumnVector& c) {
  std::vector<uint32_t> ids(c.size());
  const ColumnVector* p = &c;
  auto rows = AllRows(c.size());
  set.Intern(std::span<const ColumnVector* const>(&p, 1), rows.data(), rows.size(), ids.data());
  return ids;
}

// Embedded NUL bytes, UTF-8, the empty string and prefixes of each other are all different keys;
// equal bytes get one id however often and in whatever batch they come.
TEST(DistinctAggregateTest, ByteKeysAreExactBytes) {
  const std::string nul1("a\0b", 3), nul2("a\0c", 3), nul3("a\0", 2);
  std::vector<std::string> v = {"a", nul1, nul2, nul3, "", "ü", "u\xcc\x88", "日本", "日本語", "a", nul1, ""};
  ValueSet set({DataType::Varchar()}, /*keep_values=*/true);
  auto ids = Intern(set, Strings(v));
  std::map<std::string, uint32_t> first;
  for (size_t i = 0; i < v.size(); ++i) {
    auto [it, fresh] = first.emplace(v[i], ids[i]);
    EXPECT_EQ(it->second, ids[i]) << "row " << i;
    if (fresh) {
      EXPECT_EQ(ids[i], first.size() - 1) << "ids are dense, in order of first sight";
    }
  }
  EXPECT_EQ(set.size(), 9u);
  // Kept values are the bytes themselves.
  for (const auto& [s, id] : first) EXPECT_EQ(set.values()[0].data<std::string_view>()[id], s);
  // A second batch finds the same ids.
  auto again = Intern(set, Strings({nul3, "日本語", "new"}));
  EXPECT_EQ(again[0], first[nul3]);
  EXPECT_EQ(again[1], first["日本語"]);
  EXPECT_EQ(again[2], 9u);
}

// Tables grown far past their first size keep every key; ids survive a merge through the map.
TEST(DistinctAggregateTest, GrowthAndMergeKeepEveryKey) {
  ValueSet a({DataType::Varchar()}, false), b({DataType::Varchar()}, false);
  std::vector<std::string> va, vb;
  for (int i = 0; i < 50000; ++i) va.push_back("tok_" + std::to_string(i * 7919 % 30011));
  for (int i = 0; i < 20000; ++i) vb.push_back("tok_" + std::to_string(20000 + i));
  for (size_t s = 0; s < va.size(); s += 2048)
    Intern(a, Strings(std::vector<std::string>(va.begin() + static_cast<ptrdiff_t>(s),
                                               va.begin() + static_cast<ptrdiff_t>(std::min(s + 2048, va.size())))));
  auto idb = Intern(b, Strings(vb));
  EXPECT_EQ(a.size(), 30011u);
  std::vector<uint32_t> map;
  a.MergeFrom(b, map);
  EXPECT_EQ(a.size(), 40000u);  // tok_0 .. tok_39999
  // The merged ids are the ids `a` gives the same strings.
  auto ida = Intern(a, Strings(vb));
  for (size_t i = 0; i < vb.size(); ++i) ASSERT_EQ(map[idb[i]], ida[i]) << vb[i];
}

TEST(DistinctAggregateTest, PairSetHoldsEachPairOnce) {
  PairSet p;
  std::set<uint64_t> expect;
  for (uint64_t i = 0; i < 100000; ++i) {
    const uint64_t key = ((i % 977) << 32) | (i * 31 % 5003);
    EXPECT_EQ(p.Insert(key), expect.insert(key).second);
  }
  EXPECT_EQ(p.size(), expect.size());
  size_t seen = 0;
  p.ForEach([&](uint64_t k) { seen += expect.count(k); });
  EXPECT_EQ(seen, expect.size());
}

// Fixed-width values: -0.0 = 0.0, every NaN alike, REAL and DOUBLE exact, integer extremes.
TEST(DistinctAggregateTest, FixedWidthImages) {
  ColumnVector d(DataType::Double(), 8);
  d.Resize(8);
  const double vals[] = {0.0, -0.0, std::nan(""), -std::nan(""), 1.5, 1.5000000000000002,
                         std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  for (size_t i = 0; i < 8; ++i) d.data<double>()[i] = vals[i];
  ValueSet ds({DataType::Double()}, false);
  auto ids = Intern(ds, d);
  EXPECT_EQ(ids[0], ids[1]);
  EXPECT_EQ(ids[2], ids[3]);
  EXPECT_NE(ids[4], ids[5]);
  EXPECT_EQ(ds.size(), 6u);

  ColumnVector l(DataType::Int64(), 4);
  l.Resize(4);
  const int64_t lv[] = {INT64_MIN, INT64_MAX, -1, INT64_MIN};
  for (size_t i = 0; i < 4; ++i) l.data<int64_t>()[i] = lv[i];
  ValueSet ls({DataType::Int64()}, true);
  auto lids = Intern(ls, l);
  EXPECT_EQ(ls.size(), 3u);
  EXPECT_EQ(lids[0], lids[3]);
  EXPECT_EQ(ls.values()[0].data<int64_t>()[lids[1]], INT64_MAX);
}

// A dictionary-encoded column is interned per entry; ids match the flat path's, and a new
// dictionary (the next file) is met afresh.
TEST(DistinctAggregateTest, DictionaryArgumentsGiveTheFlatIds) {
  auto dict = std::make_shared<ColumnVector>(Strings({"x", "y", "z", "unused"}));
  ColumnVector c(DataType::Varchar(), 6);
  c.MakeDictionary(dict, 6);
  const uint32_t codes[] = {2, 0, 2, 1, 0, 2};
  std::copy(codes, codes + 6, c.data<uint32_t>());
  ValueSet set({DataType::Varchar()}, false);
  auto ids = Intern(set, c);
  EXPECT_EQ(set.size(), 3u);  // "unused" is never interned
  auto flat = Intern(set, Strings({"x", "y", "z"}));
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(ids[i], flat[codes[i]]);
  auto dict2 = std::make_shared<ColumnVector>(Strings({"z", "w"}));
  ColumnVector c2(DataType::Varchar(), 2);
  c2.MakeDictionary(dict2, 2);
  c2.data<uint32_t>()[0] = 0;
  c2.data<uint32_t>()[1] = 1;
  auto ids2 = Intern(set, c2);
  EXPECT_EQ(ids2[0], flat[2]);
  EXPECT_EQ(ids2[1], 3u);
}

using Pairs = std::set<std::pair<uint32_t, std::string>>;

// Finalizes a count(DISTINCT) state of `groups` groups and compares each with `seen`.
void ExpectCounts(AggregateState& st, const Pairs& seen, uint32_t groups, const std::string& label) {
  ColumnVector out(DataType::Int64(), groups);
  out.Resize(groups);
  ASSERT_TRUE(st.Finalize(out).ok());
  for (uint32_t g = 0; g < groups; ++g) {
    int64_t expect = 0;
    for (const auto& [gg, v] : seen) expect += gg == g;
    EXPECT_EQ(out.data<int64_t>()[g], expect) << "group " << g << ", " << label;
  }
}

// The aggregate state: rows of group 0 first (implicit pairs), then other groups (the pairs
// written down), NULLs skipped, and merges of every combination of implicit and explicit states.
TEST(DistinctAggregateTest, CountDistinctStateSwitchesAndMerges) {
  auto f = ResolveAggregate("count", {DataType::Varchar()}, true);
  ASSERT_TRUE(f.ok());
  // Feeds `batches` batches; from batch `multi_from` on, rows spread over `groups` groups.
  auto feed = [&](AggregateState& st, size_t batches, size_t multi_from, uint32_t groups, int salt,
                  const std::vector<uint32_t>& to_final, Pairs& seen) {
    st.Resize(groups);
    for (size_t b = 0; b < batches; ++b) {
      std::vector<std::string> v;
      std::vector<uint32_t> gids;
      for (size_t i = 0; i < 1000; ++i) {
        v.push_back("c" + std::to_string((b * 1000 + i) * 13 % (700 + salt)));
        gids.push_back(b < multi_from ? 0 : static_cast<uint32_t>((i + b) % groups));
      }
      ColumnVector c = Strings(v);
      for (size_t i = 0; i < v.size(); ++i) {
        if (i % 11 == 3) {
          c.SetNull(i);
        } else {
          seen.insert({to_final[gids[i]], v[i]});
        }
      }
      std::vector<const ColumnVector*> args{&c};
      ASSERT_TRUE(st.Update(gids.data(), args, v.size()).ok());
    }
  };
  struct Case {
    size_t a_multi_from, b_multi_from;
    std::vector<uint32_t> b_map;
  };
  const Case cases[] = {
      {99, 99, {0, 1, 2}},  // both implicit, b into group 0: stays implicit
      {99, 99, {2, 1, 0}},  // both implicit, b's group 0 is group 2: explicit
      {99, 1, {1, 0, 2}},   // implicit a, explicit b
      {2, 99, {0, 2, 1}},   // explicit a, implicit b
      {1, 0, {2, 0, 1}},    // both explicit
  };
  for (const Case& c : cases) {
    Pairs seen;
    auto a = MakeAggregateState(*f);
    auto b = MakeAggregateState(*f);
    feed(*a, 4, c.a_multi_from, 3, 0, {0, 1, 2}, seen);
    feed(*b, 3, c.b_multi_from, 3, 55, c.b_map, seen);
    EXPECT_GT(a->MemoryBytes(), 0);
    ASSERT_TRUE(a->Merge(*b, c.b_map.data()).ok());
    ExpectCounts(*a, seen, 3, "case map " + std::to_string(c.b_map[0]));
  }
}

// count(DISTINCT x): values spread over groups from the first row, NULLs skipped, the tables
// grown far past their first size, and two thread-local partials merged with a group map.
TEST(DistinctAggregateTest, CountDistinctStringsAcrossGroupsAndMerge) {
  auto f = ResolveAggregate("count", {DataType::Varchar()}, true);
  ASSERT_TRUE(f.ok());
  Pairs seen;
  auto feed = [&](AggregateState& st, size_t rows, size_t distinct, uint32_t groups,
                  const std::vector<uint32_t>& to_final) {
    st.Resize(groups);
    for (size_t start = 0; start < rows; start += 2048) {
      size_t n = std::min<size_t>(2048, rows - start);
      ColumnVector c(DataType::Varchar(), n);
      c.Resize(n);
      std::vector<uint32_t> gids(n);
      for (size_t i = 0; i < n; ++i) {
        size_t r = start + i;
        std::string v = "tok_" + std::to_string((r * 7919) % distinct) + "_customer_token";
        c.SetString(i, v);
        gids[i] = static_cast<uint32_t>(r % groups);
        if (r % 13 == 5) {
          c.SetNull(i);
        } else {
          seen.insert({to_final[gids[i]], v});
        }
      }
      std::vector<const ColumnVector*> args{&c};
      ASSERT_TRUE(st.Update(gids.data(), args, n).ok());
    }
  };
  auto a = MakeAggregateState(*f);
  auto b = MakeAggregateState(*f);
  feed(*a, 30000, 9000, 3, {0, 1, 2});
  feed(*b, 20000, 5000, 2, {2, 0});  // b's group 0 is final group 2, its group 1 is group 0
  std::vector<uint32_t> map = {2, 0};
  ASSERT_TRUE(a->Merge(*b, map.data()).ok());
  ExpectCounts(*a, seen, 3, "merged");
}

// Aggregates other than count get each group's distinct values: sum(DISTINCT) over DECIMAL
// (the encoded-key path) and avg(DISTINCT) over integers.
TEST(DistinctAggregateTest, SumAndAvgOfDistinctValues) {
  auto sum = ResolveAggregate("sum", {DataType::Decimal(10, 2)}, true);
  auto avg = ResolveAggregate("avg", {DataType::Int32()}, true);
  ASSERT_TRUE(sum.ok() && avg.ok());
  auto s = MakeAggregateState(*sum);
  auto v = MakeAggregateState(*avg);
  s->Resize(2);
  v->Resize(2);
  ColumnVector dec(DataType::Decimal(10, 2), 6), ints(DataType::Int32(), 6);
  dec.Resize(6);
  ints.Resize(6);
  const int64_t cents[] = {150, 150, 275, 150, 275, 99};  // group 0: 1.50, 2.75; group 1: 1.50, 2.75, 0.99
  const int32_t iv[] = {4, 4, 8, 1, 1, 7};
  const uint32_t gids[] = {0, 0, 0, 1, 1, 1};
  for (size_t i = 0; i < 6; ++i) {
    SetValueAt(dec, i, Value::Decimal(cents[i], 10, 2));
    ints.data<int32_t>()[i] = iv[i];
  }
  std::vector<const ColumnVector*> a1{&dec}, a2{&ints};
  ASSERT_TRUE(s->Update(gids, a1, 6).ok());
  ASSERT_TRUE(v->Update(gids, a2, 6).ok());
  ColumnVector so(sum->return_type, 2), vo(avg->return_type, 2);
  so.Resize(2);
  vo.Resize(2);
  ASSERT_TRUE(s->Finalize(so).ok());
  ASSERT_TRUE(v->Finalize(vo).ok());
  EXPECT_EQ(ValueText(so, 0), "4.25");
  EXPECT_EQ(ValueText(so, 1), "5.24");
  EXPECT_DOUBLE_EQ(vo.data<double>()[0], 6.0);  // (4 + 8) / 2
  EXPECT_DOUBLE_EQ(vo.data<double>()[1], 4.0);  // (1 + 7) / 2
}

// Whole queries over a table of several morsels (parallel partials merged): NULLs ignored,
// empty input, many groups, and the memory limit.
class DistinctQueryTest : public ::testing::Test {
 protected:
  static constexpr int64_t kRows = 60000;
  static void SetUpTestSuite() {
    Schema schema;
    schema.fields = {{"k", DataType::Int64()}, {"s", DataType::Varchar()}, {"x", DataType::Double()}};
    std::vector<Batch> batches;
    for (int64_t start = 0; start < kRows; start += static_cast<int64_t>(kBatchRows)) {
      const size_t n = static_cast<size_t>(std::min<int64_t>(kRows - start, static_cast<int64_t>(kBatchRows)));
      Batch b;
      b.num_rows = n;
      ColumnVector k(DataType::Int64(), n), s(DataType::Varchar(), n), x(DataType::Double(), n);
      k.Resize(n);
      s.Resize(n);
      x.Resize(n);
      for (size_t i = 0; i < n; ++i) {
        const int64_t r = start + static_cast<int64_t>(i);
        k.data<int64_t>()[i] = K(r);
        if (S(r).empty()) {
          s.SetNull(i);
        } else {
          s.SetString(i, S(r));
        }
        x.data<double>()[i] = static_cast<double>(r % 1000) / 4;
      }
      b.columns.push_back(std::move(k));
      b.columns.push_back(std::move(s));
      b.columns.push_back(std::move(x));
      batches.push_back(std::move(b));
    }
    catalog_ = std::make_shared<MemoryCatalog>();
    catalog_->AddTable(MemoryTable::Make("t", schema, std::move(batches), 5000));
  }
  static void TearDownTestSuite() { catalog_.reset(); }
  static int64_t K(int64_t r) { return r % 7919; }  // many groups
  // "" = NULL; values with an embedded NUL and UTF-8 bytes.
  static std::string S(int64_t r) {
    if (r % 17 == 0) return "";
    return std::string("cust\0", 5) + "é" + std::to_string((r * 104729) % 25013);
  }
  static std::string Run(const std::string& sql, int64_t limit = 0) {
    auto engine = Engine::Open({.catalog = catalog_, .exec = {.memory_limit_bytes = limit}});
    if (!engine.ok()) return "ERROR: " + engine.status().message();
    return testutil::RowsText(**engine, sql);
  }
  static std::shared_ptr<MemoryCatalog> catalog_;
};
std::shared_ptr<MemoryCatalog> DistinctQueryTest::catalog_;

TEST_F(DistinctQueryTest, GlobalAndGroupedCountsMatchASet) {
  std::set<std::string> all;
  std::map<int64_t, std::set<std::string>> by_k;
  for (int64_t r = 0; r < kRows; ++r) {
    if (S(r).empty()) continue;
    all.insert(S(r));
    by_k[K(r)].insert(S(r));
  }
  EXPECT_EQ(Run("SELECT count(DISTINCT s), count(s), count(*) FROM t"),
            std::to_string(all.size()) + "|" + std::to_string(kRows - (kRows + 16) / 17) + "|" +
                std::to_string(kRows) + "\n");
  std::string expect;
  for (const auto& [k, set] : by_k) expect += std::to_string(k) + "|" + std::to_string(set.size()) + "\n";
  EXPECT_EQ(Run("SELECT k, count(DISTINCT s) FROM t GROUP BY k ORDER BY k"), expect);
  // A filter in front, and two DISTINCT aggregates side by side.
  std::set<std::string> odd;
  std::set<double> xs;
  for (int64_t r = 0; r < kRows; ++r) {
    if (K(r) % 2 == 1 && !S(r).empty()) odd.insert(S(r));
    if (K(r) % 2 == 1) xs.insert(static_cast<double>(r % 1000) / 4);
  }
  EXPECT_EQ(Run("SELECT count(DISTINCT s), count(DISTINCT x) FROM t WHERE k % 2 = 1"),
            std::to_string(odd.size()) + "|" + std::to_string(xs.size()) + "\n");
}

TEST_F(DistinctQueryTest, EmptyInputAndAllNulls) {
  EXPECT_EQ(Run("SELECT count(DISTINCT s), sum(DISTINCT x) FROM t WHERE k < 0"), "0|NULL\n");
  EXPECT_EQ(Run("SELECT k, count(DISTINCT s) FROM t WHERE k < 0 GROUP BY k"), "");
  // Rows 0, 17, 34, ... are NULL: a group of only those counts 0.
  EXPECT_EQ(Run("SELECT count(DISTINCT s), count(*) FROM t WHERE k = 0 AND s IS NULL"), "0|" +
            std::to_string([] {
              int n = 0;
              for (int64_t r = 0; r < kRows; ++r) n += K(r) == 0 && S(r).empty();
              return n;
            }()) + "\n");
}

// A distinct set that does not fit the memory limit is refused with the limit's error, naming
// the aggregate (a global count(DISTINCT) reserves nothing else); the same queries run within an
// ample limit. Grouped, the group table may be the one that crosses the limit first.
TEST_F(DistinctQueryTest, MemoryLimitCountsTheDistinctValues) {
  for (const char* sql : {"SELECT count(DISTINCT s) FROM t", "SELECT k, count(DISTINCT s) FROM t GROUP BY k"}) {
    std::string r = Run(sql, 256 * 1024);
    EXPECT_NE(r.find("ERROR: "), std::string::npos) << sql << ": " << r;
    EXPECT_NE(r.find("query exceeded memory limit of 256.0 KB"), std::string::npos) << sql << ": " << r;
    EXPECT_EQ(Run(sql, int64_t{256} << 20).find("ERROR"), std::string::npos) << sql;
  }
  std::string r = Run("SELECT count(DISTINCT s) FROM t", 256 * 1024);
  EXPECT_NE(r.find("count(DISTINCT ...) holds"), std::string::npos) << r;
}

}  // namespace
}  // namespace saleslake::sql
