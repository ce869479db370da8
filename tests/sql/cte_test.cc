// WITH queries read more than once are computed once (a CteTable the executor computes before
// the pipelines) when they are deterministic; read once, or nondeterministic, they are inlined.
// Results are checked against sums computed here, and the base table counts its reads.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sql/exec/executor.h"  // MemoryCatalog, MemoryTable: inside src/sql
#include "sql/sql.h"
#include "sql_test_util.h"

namespace saleslake::sql {
namespace {

constexpr int64_t kRows = 10000;  // row i: k = i % 100, v = i
constexpr size_t kMorsels = 10;

// A table that counts the morsels read from it.
class CountingTable final : public Table {
 public:
  explicit CountingTable(std::shared_ptr<const Table> inner) : inner_(std::move(inner)) {}
  const std::string& name() const override { return inner_->name(); }
  const Schema& schema() const override { return inner_->schema(); }
  Result<std::vector<Morsel>> Morsels() const override { return inner_->Morsels(); }
  Status ReadMorsel(const Morsel& m, const std::vector<int>& columns,
                    const std::function<Status(Batch&)>& sink) const override {
    ++reads_;
    return inner_->ReadMorsel(m, columns, sink);
  }
  int reads() const { return reads_.load(); }
  void Reset() { reads_ = 0; }

 private:
  std::shared_ptr<const Table> inner_;
  mutable std::atomic<int> reads_{0};
};

class CteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Schema schema;
    schema.fields = {{"k", DataType::Int64(), true}, {"v", DataType::Int64(), true}};
    std::vector<Batch> batches;
    for (int64_t start = 0; start < kRows; start += 1000) {
      Batch b(schema, 1000);
      b.SetRows(1000);
      for (size_t r = 0; r < 1000; ++r) {
        const int64_t i = start + static_cast<int64_t>(r);
        b.columns[0].data<int64_t>()[r] = i % 100;
        b.columns[1].data<int64_t>()[r] = i;
      }
      batches.push_back(std::move(b));
    }
    table_ = std::make_shared<CountingTable>(MemoryTable::Make("t", schema, std::move(batches), kRows / kMorsels));
    auto catalog = std::make_shared<MemoryCatalog>();
    catalog->AddTable(table_);
    engine_ = testutil::OpenMemoryEngine(catalog);
    ASSERT_NE(engine_, nullptr);
  }
  std::string Explain(const std::string& sql) { return testutil::RowsText(*engine_, "EXPLAIN " + sql); }
  // The rows of `sql`, and how many morsels of t it read.
  std::string Run(const std::string& sql, int* reads) {
    table_->Reset();
    std::string rows = testutil::RowsText(*engine_, sql);
    *reads = table_->reads();
    return rows;
  }

  std::shared_ptr<CountingTable> table_;
  std::unique_ptr<Engine> engine_;
};

// TPC-H Q15's shape: a grouped WITH query read by the FROM and by a max() subquery.
TEST_F(CteTest, AWithQueryReadTwiceIsComputedOnce) {
  const std::string sql =
      "WITH r AS (SELECT k, sum(v) AS s FROM t GROUP BY k) "
      "SELECT k, s FROM r WHERE s = (SELECT max(s) FROM r) ORDER BY k";
  int64_t best = 0;
  for (int64_t i = 0; i < kRows; ++i)
    if (i % 100 == 99) best += i;
  int reads = 0;
  EXPECT_EQ(Run(sql, &reads), "99|" + std::to_string(best) + "\n");
  EXPECT_EQ(reads, static_cast<int>(kMorsels));  // inlined: twice that
  const std::string plan = Explain(sql);
  EXPECT_NE(plan.find("Scan r [k, s]"), std::string::npos) << plan;
  EXPECT_NE(plan.find("(WITH query read 2 times, computed once)"), std::string::npos) << plan;
  // The WITH query's own plan is shown below its scan.
  EXPECT_NE(plan.find("Aggregate groups: "), std::string::npos) << plan;
  EXPECT_NE(plan.find("Scan t [k, v]"), std::string::npos) << plan;
  // EXPLAIN ANALYZE runs it too.
  EXPECT_EQ(testutil::RowsText(*engine_, "EXPLAIN ANALYZE " + sql).rfind("ERROR", 0), std::string::npos);
}

TEST_F(CteTest, AWithQueryReadOnceIsInlined) {
  const std::string sql = "WITH r AS (SELECT k, sum(v) AS s FROM t GROUP BY k) SELECT max(s) FROM r";
  int64_t best = 0;
  for (int64_t i = 0; i < kRows; ++i)
    if (i % 100 == 99) best += i;
  int reads = 0;
  EXPECT_EQ(Run(sql, &reads), std::to_string(best) + "\n");
  EXPECT_EQ(reads, static_cast<int>(kMorsels));
  EXPECT_EQ(Explain(sql).find("WITH query"), std::string::npos) << Explain(sql);
}

TEST_F(CteTest, ANondeterministicWithQueryIsNotShared) {
  const std::string sql =
      "WITH r AS (SELECT k, random() AS x FROM t) "
      "SELECT count(*) FROM r WHERE x >= 0 AND k IN (SELECT k FROM r WHERE k < 10)";
  int reads = 0;
  EXPECT_EQ(Run(sql, &reads), "1000\n");
  EXPECT_EQ(reads, static_cast<int>(2 * kMorsels));
  EXPECT_EQ(Explain(sql).find("computed once"), std::string::npos) << Explain(sql);
}

// A WITH query read by two others (one of them read twice itself) and column aliases: each is
// computed once, and the results are those of the inlined queries.
TEST_F(CteTest, WithQueriesReadByOtherWithQueries) {
  const std::string sql =
      "WITH a (kk, vv) AS (SELECT k, v FROM t WHERE v < 5000), "
      "b AS (SELECT kk, sum(vv) AS s FROM a GROUP BY kk) "
      "SELECT count(*), sum(s) FROM b "
      "WHERE s > (SELECT avg(s) FROM b) AND kk IN (SELECT kk FROM a WHERE vv >= 4970)";
  std::map<int64_t, int64_t> sums;
  for (int64_t i = 0; i < 5000; ++i) sums[i % 100] += i;
  double avg = 0;
  for (auto& [k, s] : sums) avg += static_cast<double>(s) / 100;
  int64_t n = 0, total = 0;
  for (auto& [k, s] : sums)
    if (static_cast<double>(s) > avg && k >= 70) ++n, total += s;
  int reads = 0;
  EXPECT_EQ(Run(sql, &reads), std::to_string(n) + "|" + std::to_string(total) + "\n");
  EXPECT_EQ(reads, static_cast<int>(kMorsels / 2));  // v < 5000 prunes half; inlined, twice that
  const std::string plan = Explain(sql);
  EXPECT_NE(plan.find("(WITH query read 2 times, computed once)"), std::string::npos) << plan;
  // The same statement with the WITH queries written out as subqueries: the same rows.
  const std::string a = "(SELECT k AS kk, v AS vv FROM t WHERE v < 5000)";
  const std::string b = "(SELECT kk, sum(vv) AS s FROM " + a + " a GROUP BY kk)";
  EXPECT_EQ(testutil::RowsText(*engine_, "SELECT count(*), sum(s) FROM " + b + " b WHERE s > (SELECT avg(s) FROM " +
                                             b + " b2) AND kk IN (SELECT kk FROM " + a + " a2 WHERE vv >= 4970)"),
            std::to_string(n) + "|" + std::to_string(total) + "\n");
}

}  // namespace
}  // namespace saleslake::sql
