// Join planning: comma joins with WHERE conditions become hash joins in an order that never
// builds a cross product while a condition connects the tables, conditions common to every
// branch of an OR become join keys, and the results equal those of the written order.
#include <gtest/gtest.h>

#include "sql/exec/executor.h"  // MemoryCatalog, MemoryTable: inside src/sql
#include "sql/result_format.h"
#include "sql/sql.h"
#include "sql_test_util.h"

namespace saleslake::sql {
namespace {

// n rows of (<p>key BIGINT = i, <p>ref BIGINT = i % refs, <p>name VARCHAR).
std::shared_ptr<MemoryTable> Keyed(const std::string& name, const std::string& p, int64_t n, int64_t refs) {
  Schema schema;
  schema.fields.push_back(Field{p + "key", DataType::Int64(), true});
  schema.fields.push_back(Field{p + "ref", DataType::Int64(), true});
  schema.fields.push_back(Field{p + "name", DataType::Varchar(), true});
  Batch b;
  b.num_rows = static_cast<size_t>(n);
  ColumnVector key(DataType::Int64(), b.num_rows), ref(DataType::Int64(), b.num_rows);
  ColumnVector nm(DataType::Varchar(), b.num_rows);
  key.Resize(b.num_rows);
  ref.Resize(b.num_rows);
  nm.Resize(b.num_rows);
  for (int64_t i = 0; i < n; ++i) {
    key.data<int64_t>()[i] = i;
    ref.data<int64_t>()[i] = i % refs;
    nm.SetString(static_cast<size_t>(i), name + std::to_string(i % 7));
  }
  b.columns.push_back(std::move(key));
  b.columns.push_back(std::move(ref));
  b.columns.push_back(std::move(nm));
  std::vector<Batch> batches;
  batches.push_back(std::move(b));
  return MemoryTable::Make(name, schema, std::move(batches), 1000);
}

class JoinOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = std::make_shared<MemoryCatalog>();
    catalog->AddTable(Keyed("facts", "f_", 20000, 500));  // f_ref -> dims.d_key
    catalog->AddTable(Keyed("dims", "d_", 500, 20));      // d_ref -> groups.g_key
    catalog->AddTable(Keyed("groups", "g_", 20, 20));
    catalog->AddTable(Keyed("events", "e_", 20000, 20000));  // e_key = f_key
    auto e = Engine::Open({.catalog = catalog});
    ASSERT_TRUE(e.ok());
    engine_ = std::move(*e);
  }
  std::string Plan(const std::string& sql) { return testutil::RowsText(*engine_, "EXPLAIN " + sql); }
  // The EXPLAIN line of the scan of `table`, or "" when there is none.
  static std::string ScanLine(const std::string& plan, const std::string& table) {
    size_t at = plan.find("Scan " + table + " ");
    if (at == std::string::npos) return "";
    return plan.substr(at, plan.find('\n', at) - at);
  }
  std::unique_ptr<Engine> engine_;
};

TEST_F(JoinOrderTest, CommaJoinWrittenAsCrossProductBecomesHashJoins) {
  // groups and facts have no condition between them: the written order starts with a cross product.
  const std::string sql =
      "SELECT g_name, count(*), sum(f_key) FROM groups, facts, dims "
      "WHERE f_ref = d_key AND d_ref = g_key AND d_name <> 'dims3' GROUP BY g_name ORDER BY g_name";
  std::string plan = Plan(sql);
  EXPECT_EQ(plan.find("Cross"), std::string::npos) << plan;
  EXPECT_NE(plan.find("Inner HashJoin on"), std::string::npos) << plan;
  // The same joins written in a connected order give the same rows.
  const std::string connected =
      "SELECT g_name, count(*), sum(f_key) FROM facts JOIN dims ON f_ref = d_key "
      "JOIN groups ON d_ref = g_key WHERE d_name <> 'dims3' GROUP BY g_name ORDER BY g_name";
  std::string rows = testutil::RowsText(*engine_, sql);
  EXPECT_EQ(rows, testutil::RowsText(*engine_, connected));
  EXPECT_EQ(rows.find("ERROR"), std::string::npos) << rows;
  EXPECT_NE(rows, "");
}

TEST_F(JoinOrderTest, KeyCommonToEveryOrBranchBecomesAJoinKey) {
  const std::string sql =
      "SELECT count(*) FROM facts, dims WHERE (f_ref = d_key AND d_name = 'dims1' AND f_key < 100) "
      "OR (f_ref = d_key AND d_name = 'dims2' AND f_key >= 19000)";
  std::string plan = Plan(sql);
  EXPECT_NE(plan.find("HashJoin on"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("Cross"), std::string::npos) << plan;
  // f_key < 100: refs 0..99, of which dims1 (ref % 7 == 1): 15; f_key >= 19000: refs 0..499
  // twice, dims2 (ref % 7 == 2): 2 * 72 = 144.
  EXPECT_EQ(testutil::RowsText(*engine_, sql), "159\n");
}

TEST_F(JoinOrderTest, OrOverTwoInputsFiltersEachInputWithItsPart) {
  // Without the derived filters both scans read every row and the OR is only a join residual.
  const std::string sql =
      "SELECT count(*) FROM facts, dims WHERE f_ref = d_key AND "
      "((d_name = 'dims1' AND f_key < 100) OR (d_name = 'dims2' AND f_key >= 19000))";
  std::string plan = Plan(sql);
  std::string dims = ScanLine(plan, "dims"), facts = ScanLine(plan, "facts");
  EXPECT_NE(dims.find("'dims1'"), std::string::npos) << plan;
  EXPECT_NE(dims.find("'dims2'"), std::string::npos) << plan;
  EXPECT_NE(facts.find("100"), std::string::npos) << plan;
  EXPECT_NE(facts.find("19000"), std::string::npos) << plan;
  // The rows of KeyCommonToEveryOrBranchBecomesAJoinKey.
  EXPECT_EQ(testutil::RowsText(*engine_, sql), "159\n");
}

TEST_F(JoinOrderTest, OrPartThatCanFailStaysAboveTheJoin) {
  // 100 / f_ref fails for f_ref = 0 (dims0), a row the OR never divides for: d_name = 'dims1' is
  // false first. The facts part of the OR would need the division, so facts is not filtered.
  const std::string sql =
      "SELECT count(*) FROM facts, dims WHERE f_ref = d_key AND "
      "((d_name = 'dims1' AND 100 / f_ref > 1) OR (d_name = 'dims2' AND f_key < 5))";
  std::string plan = Plan(sql);
  EXPECT_EQ(ScanLine(plan, "facts").find("filters"), std::string::npos) << plan;
  EXPECT_NE(ScanLine(plan, "dims").find("'dims2'"), std::string::npos) << plan;
  // refs 1..50 with ref % 7 == 1 (8 refs, 40 facts rows each) and f_key 2 (dims2): 321.
  EXPECT_EQ(testutil::RowsText(*engine_, sql), "321\n");
}

TEST_F(JoinOrderTest, BuildSideIsTheSmallerEstimatedJoinOutput) {
  // facts x dims keeps the 200 facts rows of d_key < 5: that join (not the 20,000-row events)
  // is the build side of the join with events, which streams as the probe side. Estimated as
  // its larger input (20,000 facts rows), the join would be the probe side and events the build.
  const std::string sql =
      "SELECT count(*) FROM facts, dims, events "
      "WHERE f_ref = d_key AND f_key = e_key AND d_key < 5";
  std::string plan = Plan(sql);
  size_t events = plan.find("Scan events"), facts = plan.find("Scan facts");
  ASSERT_NE(events, std::string::npos) << plan;
  ASSERT_NE(facts, std::string::npos) << plan;
  EXPECT_LT(events, facts) << plan;  // the probe (left) child is listed first
  EXPECT_EQ(testutil::RowsText(*engine_, sql), "200\n");
}

TEST_F(JoinOrderTest, FilterWithUncorrelatedSubqueryMovesBelowTheJoin) {
  const std::string sql =
      "SELECT count(*) FROM facts, dims WHERE f_ref = d_key AND "
      "f_key IN (SELECT e_key FROM events WHERE e_key < 10)";
  std::string plan = Plan(sql);
  size_t filter = plan.find("subquery");
  ASSERT_NE(filter, std::string::npos) << plan;
  // The Filter with the subquery sits right above the scan of facts, below the join.
  size_t next = plan.find('\n', filter);
  EXPECT_EQ(plan.find("Scan facts", next), plan.find("- ", next) + 2) << plan;
  EXPECT_GT(filter, plan.find("HashJoin")) << plan;
  EXPECT_EQ(testutil::RowsText(*engine_, sql), "10\n");
}

TEST_F(JoinOrderTest, LeftJoinOverASmallEstimatedJoinStaysLeft) {
  // The inner join is estimated at 200 rows against 6,000 groups; as a RIGHT join its probe would
  // run on one thread, so the LEFT join swaps only on the upper estimate (20,000 facts rows).
  const std::string sql =
      "SELECT count(*), count(x.k) FROM facts JOIN dims ON f_ref = d_key "
      "LEFT JOIN (SELECT e_key AS k, count(*) AS c FROM events GROUP BY e_key) x ON f_key = x.k "
      "WHERE d_key < 5";
  std::string plan = Plan(sql);
  EXPECT_NE(plan.find("Left HashJoin"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("Right HashJoin"), std::string::npos) << plan;
  EXPECT_EQ(testutil::RowsText(*engine_, sql), "200|200\n");
}

TEST_F(JoinOrderTest, ExplicitOuterJoinsKeepTheirPlace) {
  const std::string sql =
      "SELECT count(*), count(g_key) FROM facts JOIN dims ON f_ref = d_key "
      "LEFT JOIN groups ON d_ref = g_key AND g_key < 5";
  EXPECT_EQ(testutil::RowsText(*engine_, sql), "20000|5000\n");
}

TEST_F(JoinOrderTest, InputJoinedOnlyToOneOtherIsJoinedToItFirst) {
  // groups joins only dims and keeps 3 of its 20 keys: dims x groups (75 rows) is joined apart
  // and is the build side of the facts probe (a bushy plan), rather than facts x dims (20,000
  // rows) joined to groups after.
  const std::string sql =
      "SELECT count(*) FROM facts, dims, groups WHERE f_ref = d_key AND d_ref = g_key AND g_name = 'groups1'";
  std::string plan = Plan(sql);
  size_t first_join = plan.find("HashJoin"), facts = plan.find("Scan facts");
  ASSERT_NE(first_join, std::string::npos) << plan;
  ASSERT_NE(facts, std::string::npos) << plan;
  EXPECT_GT(plan.find("HashJoin", first_join + 1), facts) << plan;  // the second join is below facts' side
  EXPECT_EQ(testutil::RowsText(*engine_, sql), "3000\n");
}

TEST_F(JoinOrderTest, ExistsWithFewOuterRowsBuildsThemAndProbesTheSubquery) {
  // 12 dims rows against ~5,000 facts: the dims rows are the build side, the facts scan probes
  // them (no DISTINCT of the facts' keys); refs 5..11 have facts with f_key < 5000.
  const std::string exists =
      "SELECT count(*) FROM dims WHERE d_key < 12 AND "
      "EXISTS (SELECT 1 FROM facts WHERE f_ref = d_key AND f_key < 5000 AND f_ref > 4)";
  std::string plan = Plan(exists);
  EXPECT_NE(plan.find("RightSemi HashJoin"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("aggregates: []"), std::string::npos) << plan;
  EXPECT_EQ(testutil::RowsText(*engine_, exists), "7\n");
  const std::string not_exists =
      "SELECT count(*) FROM dims WHERE d_key < 12 AND "
      "NOT EXISTS (SELECT 1 FROM facts WHERE f_ref = d_key AND f_key < 5000 AND f_ref > 4)";
  EXPECT_NE(Plan(not_exists).find("RightAnti HashJoin"), std::string::npos) << Plan(not_exists);
  EXPECT_EQ(testutil::RowsText(*engine_, not_exists), "5\n");
}

TEST_F(JoinOrderTest, ExistsWithManyOuterRowsProbesTheSubqueryRows) {
  // 72 of the 500 dims are named dims1 (d_key % 7 == 1), each the ref of 40 facts rows.
  const std::string exists =
      "SELECT count(*) FROM facts WHERE "
      "EXISTS (SELECT 1 FROM dims WHERE d_key = f_ref AND d_name = 'dims1')";
  std::string plan = Plan(exists);
  EXPECT_NE(plan.find("- Semi HashJoin"), std::string::npos) << plan;
  EXPECT_EQ(testutil::RowsText(*engine_, exists), "2880\n");
  const std::string not_exists =
      "SELECT count(*) FROM facts WHERE "
      "NOT EXISTS (SELECT 1 FROM dims WHERE d_key = f_ref AND d_name = 'dims1')";
  EXPECT_NE(Plan(not_exists).find("- Anti HashJoin"), std::string::npos) << Plan(not_exists);
  EXPECT_EQ(testutil::RowsText(*engine_, not_exists), "17120\n");
}

TEST_F(JoinOrderTest, SemiJoinsMatchNoNullKey) {
  // An outer NULL key has no match: NOT EXISTS keeps it, EXISTS drops it, on either build side.
  EXPECT_EQ(testutil::RowsText(*engine_,
                               "SELECT count(*) FROM (VALUES (1), (NULL), (3)) t(k) WHERE "
                               "EXISTS (SELECT 1 FROM dims WHERE d_key = t.k)"),
            "2\n");
  EXPECT_EQ(testutil::RowsText(*engine_,
                               "SELECT count(*) FROM (VALUES (1), (NULL), (3)) t(k) WHERE "
                               "NOT EXISTS (SELECT 1 FROM dims WHERE d_key = t.k)"),
            "1\n");
  // An inner NULL key matches nothing either.
  EXPECT_EQ(testutil::RowsText(*engine_,
                               "SELECT count(*) FROM facts WHERE NOT EXISTS "
                               "(SELECT 1 FROM (VALUES (1), (NULL)) v(x) WHERE v.x = f_ref)"),
            "19960\n");
  EXPECT_EQ(testutil::RowsText(*engine_,
                               "SELECT count(*) FROM facts WHERE EXISTS "
                               "(SELECT 1 FROM (VALUES (1), (NULL)) v(x) WHERE v.x = f_ref)"),
            "40\n");
}

}  // namespace
}  // namespace saleslake::sql
