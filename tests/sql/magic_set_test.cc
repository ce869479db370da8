// Magic sets: a correlated aggregate subquery, decorrelated into a join with the subquery
// grouped by its correlation keys, aggregates only the rows whose keys the outer rows can have
// (a semi join with the part of the outer plan that yields the keys, under the aggregate), and
// its results stay those of aggregating every row (checked against sums computed here).
#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "sql/exec/executor.h"  // MemoryCatalog, MemoryTable: inside src/sql
#include "sql/result_format.h"
#include "sql/sql.h"
#include "sql_test_util.h"

namespace saleslake::sql {
namespace {

constexpr int64_t kParts = 2000;   // parts 1200..1999 have no items
constexpr int64_t kItems = 60000;  // item i: part i % 1200 (NULL when i % 97 == 0)

int64_t ItemPart(int64_t i) { return i % 1200; }
bool ItemPartNull(int64_t i) { return i % 97 == 0; }
int64_t ItemSupp(int64_t i) { return (i / 1200) % 4; }
int64_t ItemQty(int64_t i) { return (i * 7 + i / 1200 * 3) % 50 + 1; }
// Offers: 4 per part, one per supplier.
int64_t OfferAvail(int64_t part, int64_t supp) { return (part * 13 + supp * 7) % 200; }

Batch MakeBatch(const Schema& schema, int64_t n,
                const std::function<void(size_t col, ColumnVector& c, size_t row)>& fill) {
  Batch b;
  b.num_rows = static_cast<size_t>(n);
  for (size_t c = 0; c < schema.fields.size(); ++c) {
    ColumnVector v(schema.fields[c].type, b.num_rows);
    v.Resize(b.num_rows);
    for (size_t r = 0; r < b.num_rows; ++r) fill(c, v, r);
    b.columns.push_back(std::move(v));
  }
  return b;
}

class MagicSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Schema parts;
    parts.fields = {{"p_key", DataType::Int64(), true}, {"p_brand", DataType::Varchar(), true}};
    std::vector<Batch> pb;
    pb.push_back(MakeBatch(parts, kParts, [](size_t c, ColumnVector& v, size_t r) {
      const int64_t i = static_cast<int64_t>(r);
      if (c == 0) v.data<int64_t>()[r] = i;
      if (c == 1) v.SetString(r, "brand" + std::to_string(i % 20));
    }));
    Schema items;
    items.fields = {{"i_part", DataType::Int64(), true}, {"i_supp", DataType::Int64(), true},
                    {"i_qty", DataType::Int64(), true}};
    std::vector<Batch> ib;
    for (int64_t start = 0; start < kItems; start += 2048) {
      const int64_t n = std::min<int64_t>(2048, kItems - start);
      ib.push_back(MakeBatch(items, n, [&](size_t c, ColumnVector& v, size_t r) {
        const int64_t i = start + static_cast<int64_t>(r);
        if (c == 0) {
          v.data<int64_t>()[r] = ItemPart(i);
          if (ItemPartNull(i)) v.SetNull(r);
        }
        if (c == 1) v.data<int64_t>()[r] = ItemSupp(i);
        if (c == 2) v.data<int64_t>()[r] = ItemQty(i);
      }));
    }
    Schema offers;
    offers.fields = {{"o_part", DataType::Int64(), true}, {"o_supp", DataType::Int64(), true},
                     {"o_avail", DataType::Int64(), true}};
    std::vector<Batch> ob;
    ob.push_back(MakeBatch(offers, kParts * 4, [](size_t c, ColumnVector& v, size_t r) {
      const int64_t part = static_cast<int64_t>(r) / 4, supp = static_cast<int64_t>(r) % 4;
      v.data<int64_t>()[r] = c == 0 ? part : c == 1 ? supp : OfferAvail(part, supp);
    }));
    auto catalog = std::make_shared<MemoryCatalog>();
    catalog->AddTable(MemoryTable::Make("offers", offers, std::move(ob), 1000));
    catalog->AddTable(MemoryTable::Make("parts", parts, std::move(pb), 500));
    catalog->AddTable(MemoryTable::Make("items", items, std::move(ib), 4096));
    auto e = Engine::Open({.catalog = catalog});
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(*e);
  }
  std::string Run(const std::string& sql) { return testutil::RowsText(*engine_, sql); }
  // The EXPLAIN lines from the first Aggregate line on.
  std::string AggregateAndBelow(const std::string& sql) {
    std::string plan = Run("EXPLAIN " + sql);
    const size_t at = plan.find("Aggregate groups: [#0");
    return at == std::string::npos ? plan : plan.substr(at);
  }
  std::unique_ptr<Engine> engine_;
};

// TPC-H Q17's shape: items whose quantity is under the average of their part's items.
TEST_F(MagicSetTest, CorrelatedAverageAggregatesOnlyTheOuterKeys) {
  const std::string sql =
      "SELECT count(*), sum(i_qty) FROM items, parts WHERE p_key = i_part AND p_brand = 'brand3' "
      "AND i_qty < (SELECT avg(i_qty) FROM items WHERE i_part = p_key)";
  // The subquery's aggregate reads items reduced by a semi join with the filtered parts.
  const std::string below = AggregateAndBelow(sql);
  const size_t semi = below.find("Semi HashJoin on [#0] = [#0]");
  EXPECT_NE(semi, std::string::npos) << Run("EXPLAIN " + sql);
  EXPECT_NE(below.find("Scan parts", semi), std::string::npos) << below;
  EXPECT_NE(below.find("brand3", semi), std::string::npos) << below;

  std::map<int64_t, std::pair<int64_t, int64_t>> per_part;  // sum, count
  for (int64_t i = 0; i < kItems; ++i)
    if (!ItemPartNull(i)) {
      per_part[ItemPart(i)].first += ItemQty(i);
      per_part[ItemPart(i)].second += 1;
    }
  int64_t count = 0, sum = 0;
  for (int64_t i = 0; i < kItems; ++i) {
    if (ItemPartNull(i) || ItemPart(i) % 20 != 3) continue;
    const auto& [s, n] = per_part[ItemPart(i)];
    if (ItemQty(i) * n < s) {  // qty < s / n
      ++count;
      sum += ItemQty(i);
    }
  }
  ASSERT_GT(count, 0);
  EXPECT_EQ(Run(sql), std::to_string(count) + "|" + std::to_string(sum) + "\n");
}

// A count of a key no item has is 0, not NULL: the reduction keeps the LEFT join's rows.
TEST_F(MagicSetTest, CountOfAnOuterKeyWithoutRowsStaysZero) {
  const std::string sql =
      "SELECT p_key, (SELECT count(*) FROM items WHERE i_part = p_key) FROM parts "
      "WHERE p_brand = 'brand7' AND p_key % 400 < 40 ORDER BY p_key";
  EXPECT_NE(AggregateAndBelow(sql).find("Semi HashJoin"), std::string::npos) << Run("EXPLAIN " + sql);
  std::map<int64_t, int64_t> n;
  for (int64_t i = 0; i < kItems; ++i)
    if (!ItemPartNull(i)) ++n[ItemPart(i)];
  std::string expect;
  for (int64_t p = 0; p < kParts; ++p)
    if (p % 20 == 7 && p % 400 < 40) expect += std::to_string(p) + "|" + std::to_string(n[p]) + "\n";
  EXPECT_NE(expect.find("|0\n"), std::string::npos);  // some parts have no items
  EXPECT_EQ(Run(sql), expect);
}

// TPC-H Q20's shape: two correlation keys; the outer rows are offers of some parts.
TEST_F(MagicSetTest, TwoKeys) {
  const std::string sql =
      "SELECT count(*), sum(o_part) FROM offers "
      "WHERE o_part IN (SELECT p_key FROM parts WHERE p_brand = 'brand5') "
      "AND o_avail > (SELECT sum(i_qty) / 4 FROM items WHERE i_part = o_part AND i_supp = o_supp)";
  EXPECT_NE(AggregateAndBelow(sql).find("Semi HashJoin on [#0, #1]"), std::string::npos)
      << Run("EXPLAIN " + sql);
  std::map<std::pair<int64_t, int64_t>, int64_t> sums;
  for (int64_t i = 0; i < kItems; ++i)
    if (!ItemPartNull(i)) sums[{ItemPart(i), ItemSupp(i)}] += ItemQty(i);
  int64_t count = 0, sum = 0;
  for (int64_t p = 5; p < kParts; p += 20)
    for (int64_t s = 0; s < 4; ++s) {
      auto it = sums.find({p, s});
      if (it != sums.end() && OfferAvail(p, s) > it->second / 4) {
        ++count;
        sum += p;
      }
    }
  ASSERT_GT(count, 0);
  EXPECT_EQ(Run(sql), std::to_string(count) + "|" + std::to_string(sum) + "\n");
}

// The outer rows come from a join estimated at fewer rows than either input: the semi join's
// build is still one input (offers), not the join, which would be evaluated a second time.
TEST_F(MagicSetTest, KeySourceHoldsNoJoin) {
  const std::string sql =
      "SELECT count(*), sum(o_avail) FROM offers, parts WHERE o_part = p_key AND p_brand = 'brand5' "
      "AND o_avail * 2000 > (SELECT sum(i_qty) FROM items WHERE i_supp = o_supp)";
  const std::string below = AggregateAndBelow(sql);
  const size_t semi = below.find("Semi HashJoin");
  ASSERT_NE(semi, std::string::npos) << Run("EXPLAIN " + sql);
  const size_t offers = below.find("Scan offers", semi);
  ASSERT_NE(offers, std::string::npos) << below;
  // The semi join's inputs: items, then offers with no join between (the outer's join follows).
  EXPECT_EQ(below.substr(semi, offers - semi).find("Inner"), std::string::npos) << below;
  std::map<int64_t, int64_t> per_supp;
  for (int64_t i = 0; i < kItems; ++i) per_supp[ItemSupp(i)] += ItemQty(i);
  int64_t count = 0, sum = 0;
  for (int64_t p = 5; p < kParts; p += 20)
    for (int64_t s = 0; s < 4; ++s)
      if (OfferAvail(p, s) * 2000 > per_supp[s]) {
        ++count;
        sum += OfferAvail(p, s);
      }
  ASSERT_GT(count, 0);
  EXPECT_EQ(Run(sql), std::to_string(count) + "|" + std::to_string(sum) + "\n");
}

// The outer rows come through a LEFT JOIN: its left input holds every key the join's rows have,
// so it is the key source (without it the aggregate ran over all items).
TEST_F(MagicSetTest, KeySourceBelowALeftJoin) {
  const std::string sql =
      "SELECT count(*), sum(o_avail) FROM (SELECT * FROM offers WHERE o_part < 100) o "
      "LEFT JOIN parts ON o.o_part = p_key "
      "WHERE o_avail * 20 > (SELECT sum(i_qty) FROM items WHERE i_part = o.o_part)";
  const std::string below = AggregateAndBelow(sql);
  const size_t semi = below.find("Semi HashJoin");
  ASSERT_NE(semi, std::string::npos) << Run("EXPLAIN " + sql);
  EXPECT_NE(below.find("Scan offers", semi), std::string::npos) << below;
  std::map<int64_t, int64_t> per_part;
  for (int64_t i = 0; i < kItems; ++i)
    if (!ItemPartNull(i)) per_part[ItemPart(i)] += ItemQty(i);
  int64_t count = 0, sum = 0;
  for (int64_t p = 0; p < 100; ++p)
    for (int64_t s = 0; s < 4; ++s)
      if (OfferAvail(p, s) * 20 > per_part[p]) {
        ++count;
        sum += OfferAvail(p, s);
      }
  ASSERT_GT(count, 0);
  ASSERT_LT(count, 400);
  EXPECT_EQ(Run(sql), std::to_string(count) + "|" + std::to_string(sum) + "\n");
}

}  // namespace
}  // namespace saleslake::sql
