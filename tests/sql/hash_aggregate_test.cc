// GROUP BY over many batches of integer keys, which go through the direct (value-indexed) group
// array while their span is small and through the hash table otherwise: keys that creep upward
// or downward batch after batch (the array grows at either end), an outlier in the middle of a
// batch (the array gives up halfway through the batch), keys far apart from the start, keys near
// INT32_MIN. Every case must give the groups a std::map gives.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "sql/exec/executor.h"  // MemoryCatalog, MemoryTable: inside src/sql
#include "sql/exec/internal/group_table.h"
#include "sql/result_format.h"
#include "sql/sql.h"
#include "sql_test_util.h"

namespace saleslake::sql {
namespace {

constexpr size_t kBatches = 20;
constexpr size_t kRows = 2048;

int64_t Key(const std::string& col, size_t r) {
  if (col == "creep") return static_cast<int64_t>(r / 3);
  if (col == "down") return 100'000 - static_cast<int64_t>(r / 5);
  if (col == "outlier") {
    if (r == 30001) return -5;  // the array grows down, then gives up
    if (r == 35007) return 1'000'000'000;
    return static_cast<int64_t>(r % 50);
  }
  if (col == "wide") return static_cast<int64_t>(r % 100) * 1'000'003 - 7;
  return INT32_MIN + static_cast<int64_t>((r * 7) % 70);  // "neg"
}

class HashAggregateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Schema schema;
    schema.fields = {{"creep", DataType::Int32()}, {"down", DataType::Int32()},
                     {"outlier", DataType::Int32()},
                     {"wide", DataType::Int64()}, {"neg", DataType::Int32()}};
    std::vector<Batch> batches;
    for (size_t b = 0; b < kBatches; ++b) {
      Batch batch;
      batch.num_rows = kRows;
      for (const auto& f : schema.fields) {
        ColumnVector c(f.type, kRows);
        c.Resize(kRows);
        for (size_t i = 0; i < kRows; ++i) {
          int64_t k = Key(f.name, b * kRows + i);
          if (f.type.id == TypeId::kInt64) {
            c.data<int64_t>()[i] = k;
          } else {
            c.data<int32_t>()[i] = static_cast<int32_t>(k);
          }
        }
        batch.columns.push_back(std::move(c));
      }
      batches.push_back(std::move(batch));
    }
    auto catalog = std::make_shared<MemoryCatalog>();
    catalog->AddTable(MemoryTable::Make("t", schema, std::move(batches), kRows));
    auto engine = Engine::Open({.catalog = catalog});
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
  }

  std::string Run(const std::string& sql) { return testutil::RowsText(*engine_, sql); }

  std::unique_ptr<Engine> engine_;
};

TEST_F(HashAggregateTest, IntegerKeysGiveTheGroupsOfAMap) {
  for (std::string col : {"creep", "down", "outlier", "wide", "neg"}) {
    std::map<int64_t, int64_t> groups;
    for (size_t r = 0; r < kBatches * kRows; ++r) ++groups[Key(col, r)];
    int64_t key_sum = 0, min_n = INT64_MAX, max_n = 0;
    for (const auto& [k, n] : groups) {
      key_sum += k;
      min_n = std::min(min_n, n);
      max_n = std::max(max_n, n);
    }
    std::string expect = std::to_string(groups.size()) + "|" + std::to_string(key_sum) + "|" +
                         std::to_string(kBatches * kRows) + "|" + std::to_string(min_n) + "|" +
                         std::to_string(max_n) + "\n";
    EXPECT_EQ(Run("SELECT count(*), sum(k), sum(n), min(n), max(n) FROM (SELECT " + col +
                  " AS k, count(*) AS n FROM t GROUP BY " + col + ")"),
              expect)
        << col;
  }
  // The outliers are groups of their own.
  EXPECT_EQ(Run("SELECT outlier, count(*) FROM t WHERE outlier < 0 OR outlier > 100 GROUP BY 1 ORDER BY 1"),
            "-5|1\n1000000000|1\n");
  EXPECT_EQ(Run("SELECT outlier, count(*) FROM t GROUP BY 1 ORDER BY 2, 1 LIMIT 3"),
            "-5|1\n1000000000|1\n1|819\n");
}

// One and two flat integer keys without NULLs take GroupTable's inline comparison: the groups
// must be those of a map, through the table's growth in the middle of a batch, and a key whose
// value equals the bytes stored for the NULL group (0) must not fall into that group.
template <typename T0, typename T1>
void CheckFlatKeys(DataType t0, DataType t1) {
  using internal::GroupTable;
  GroupTable table({t0, t1});
  // First batch: NULLs in both keys, so the table stores a NULL group with 0 beneath it.
  ColumnVector n0(t0, 4), n1(t1, 4);
  n0.Resize(4);
  n1.Resize(4);
  for (size_t i = 0; i < 4; ++i) {
    n0.data<T0>()[i] = 0;
    n1.data<T1>()[i] = 0;
    n0.SetNull(i);
    n1.SetNull(i);
  }
  uint32_t null_gid[4];
  table.FindOrInsert({&n0, &n1}, 4, null_gid);
  ASSERT_EQ(table.size(), 1u);
  std::map<std::pair<int64_t, int64_t>, uint32_t> seen;
  for (size_t b = 0; b < 6; ++b) {
    const size_t n = 2048;
    ColumnVector c0(t0, n), c1(t1, n);
    c0.Resize(n);
    c1.Resize(n);
    for (size_t i = 0; i < n; ++i) {  // ~5000 distinct pairs, 0|0 among them, spread wide
      const int64_t r = static_cast<int64_t>((b * n + i) * 7919 % 5003);
      c0.data<T0>()[i] = static_cast<T0>(r % 71 * 1'000'003);
      c1.data<T1>()[i] = static_cast<T1>(r / 71);
    }
    ASSERT_EQ(c0.validity(), nullptr);
    std::vector<uint32_t> gids(n);
    table.FindOrInsert({&c0, &c1}, n, gids.data());
    for (size_t i = 0; i < n; ++i) {
      ASSERT_NE(gids[i], null_gid[0]) << i;
      auto [it, fresh] = seen.emplace(std::make_pair(static_cast<int64_t>(c0.data<T0>()[i]),
                                                     static_cast<int64_t>(c1.data<T1>()[i])),
                                      gids[i]);
      ASSERT_EQ(it->second, gids[i]) << b << " " << i;
    }
  }
  EXPECT_EQ(table.size(), seen.size() + 1);
  EXPECT_TRUE(seen.count({0, 0}));
}

TEST(GroupTableTest, FlatIntegerKeysGiveTheGroupsOfAMap) {
  CheckFlatKeys<int64_t, int64_t>(DataType::Int64(), DataType::Int64());
  CheckFlatKeys<int32_t, int64_t>(DataType::Int32(), DataType::Int64());
  CheckFlatKeys<int64_t, int32_t>(DataType::Int64(), DataType::Date());
}

TEST(GroupTableTest, OneFlatKeyIsNotTheNullGroup) {
  using internal::GroupTable;
  GroupTable table({DataType::Int64()});
  ColumnVector nulls(DataType::Int64(), 2);
  nulls.Resize(2);
  nulls.data<int64_t>()[0] = nulls.data<int64_t>()[1] = 0;
  nulls.SetNull(0);
  nulls.SetNull(1);
  uint32_t g[2];
  table.FindOrInsert({&nulls}, 2, g);
  // Values far apart, so the key cannot go through the value-indexed array.
  ColumnVector keys(DataType::Int64(), 3);
  keys.Resize(3);
  keys.data<int64_t>()[0] = 0;
  keys.data<int64_t>()[1] = int64_t{1} << 40;
  keys.data<int64_t>()[2] = 0;
  uint32_t k[3];
  table.FindOrInsert({&keys}, 3, k);
  EXPECT_NE(k[0], g[0]);
  EXPECT_EQ(k[0], k[2]);
  EXPECT_NE(k[0], k[1]);
  EXPECT_EQ(table.size(), 3u);
}

// A day-level rollup over one partition's file: two constant strings (the partition values), a
// date column of a few weeks and a dictionary status. Each combination of the batch's values is
// probed once (ComboCodes), not each row, and the groups are still those of a map: across
// batches of other constants, a batch whose dates span too far (every row probed), and int64
// keys at both ends of their range (the span must not overflow).
TEST(GroupTableTest, ConstantDictionaryAndNarrowIntegerKeysProbeOncePerCombination) {
  using internal::GroupTable;
  GroupTable table({DataType::Varchar(), DataType::Varchar(), DataType::Date(), DataType::Varchar()});
  auto dict = std::make_shared<ColumnVector>(DataType::Varchar(), 5);
  dict->Resize(5);
  const char* statuses[] = {"COMPLETED", "PENDING", "CANCELLED", "RETURNED", "OUT"};
  for (size_t d = 0; d < 5; ++d) dict->SetString(d, statuses[d]);
  std::map<std::tuple<std::string, std::string, int32_t, std::string>, uint32_t> seen;
  const size_t n = 2000;
  for (size_t b = 0; b < 6; ++b) {
    ColumnVector region(DataType::Varchar(), 1), month(DataType::Varchar(), 1);
    region.Resize(1);
    month.Resize(1);
    region.SetString(0, b % 3 == 0 ? "Africa" : "Oceania");
    month.SetString(0, "2025-0" + std::to_string(1 + b / 2));
    region.MakeConstant(n);
    month.MakeConstant(n);
    const bool wide = b == 4;  // dates ten years apart: no combination codes for this batch
    ColumnVector date(DataType::Date(), n), status(DataType::Varchar(), n);
    date.Resize(n);
    status.Resize(n);
    for (size_t i = 0; i < n; ++i) {
      date.data<int32_t>()[i] = 20000 + static_cast<int32_t>(b * 7 + (i * 13) % 31) + (wide && i % 2 ? 3650 : 0);
      status.data<uint32_t>()[i] = static_cast<uint32_t>((i * 7) % 5);
    }
    status.MakeDictionary(dict, n);
    const uint64_t before = table.generic_lookups();
    std::vector<uint32_t> gids(n);
    table.FindOrInsert({&region, &month, &date, &status}, n, gids.data());
    const uint64_t probes = table.generic_lookups() - before;
    if (wide) {
      EXPECT_EQ(probes, n);
    } else {
      EXPECT_LE(probes, 31u * 5u) << b;
    }
    for (size_t i = 0; i < n; ++i) {
      auto key = std::make_tuple(std::string(region.GetValue<std::string_view>(i)),
                                 std::string(month.GetValue<std::string_view>(i)), date.data<int32_t>()[i],
                                 std::string(status.GetValue<std::string_view>(i)));
      auto [it, fresh] = seen.emplace(key, gids[i]);
      if (fresh) {
        ASSERT_EQ(it->second, seen.size() - 1) << b << " " << i;
      } else {
        ASSERT_EQ(it->second, gids[i]) << b << " " << i;
      }
    }
  }
  EXPECT_EQ(table.size(), seen.size());

  GroupTable wide({DataType::Int64(), DataType::Int64(), DataType::Int64()});
  for (int64_t lo : {INT64_MIN, INT64_MAX - 9}) {
    ColumnVector a(DataType::Int64(), 40), c(DataType::Int64(), 40), both(DataType::Int64(), 40);
    a.Resize(40);
    c.Resize(40);
    both.Resize(40);
    for (size_t i = 0; i < 40; ++i) {
      a.data<int64_t>()[i] = lo + static_cast<int64_t>(i % 10);
      c.data<int64_t>()[i] = static_cast<int64_t>(i % 4);
      both.data<int64_t>()[i] = i % 2 ? INT64_MAX : INT64_MIN;  // spans the whole range
    }
    std::vector<uint32_t> g1(40), g2(40);
    wide.FindOrInsert({&a, &c, &both}, 40, g1.data());
    wide.FindOrInsert({&a, &c, &both}, 40, g2.data());
    EXPECT_EQ(g1, g2);
    for (size_t i = 0; i < 40; ++i)
      for (size_t j = 0; j < i; ++j) EXPECT_EQ(g1[i] == g1[j], i % 20 == j % 20) << i << " " << j;
  }
  EXPECT_EQ(wide.size(), 40u);
  GroupTable narrow({DataType::Int64(), DataType::Int64()});
  ColumnVector a(DataType::Int64(), 40), c(DataType::Int64(), 40);
  a.Resize(40);
  c.Resize(40);
  for (size_t i = 0; i < 40; ++i) {
    a.data<int64_t>()[i] = INT64_MAX - static_cast<int64_t>(i % 10);
    c.data<int64_t>()[i] = INT64_MIN + static_cast<int64_t>(i % 4);
  }
  std::vector<uint32_t> g(40);
  narrow.FindOrInsert({&a, &c}, 40, g.data());
  EXPECT_EQ(narrow.size(), 20u);
  for (size_t i = 0; i < 40; ++i)
    for (size_t j = 0; j < i; ++j) EXPECT_EQ(g[i] == g[j], i % 20 == j % 20) << i << " " << j;
}

}  // namespace
}  // namespace saleslake::sql
