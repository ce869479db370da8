// The evaluator's and optimizer's fast paths give what SQL says, NULLs and errors included:
// AND/OR of operands that cannot fail (evaluated over whole batches), short literal IN lists,
// plan-time constant folding, a scan that applies its Filter itself, decimal + - * and sums in
// typed loops. Each answer is written out by hand from the rows.
#include <gtest/gtest.h>

#include "sql/exec/executor.h"  // MemoryCatalog, MemoryTable: inside src/sql
#include "sql/result_format.h"
#include "sql/sql.h"
#include "sql_test_util.h"

namespace saleslake::sql {
namespace {

class VectorPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = std::make_shared<MemoryCatalog>();
    engine_ = testutil::OpenMemoryEngine(catalog_);
    ASSERT_NE(engine_, nullptr);
    // a, b: every pair of TRUE / FALSE / NULL; s a string with a NULL; d a decimal with a NULL.
    Exec(R"(CREATE TABLE t AS SELECT * FROM (VALUES
      (1, 1, 1, 'MAIL', DECIMAL '10.25'),
      (2, 1, 0, 'SHIP', DECIMAL '-3.50'),
      (3, 1, NULL, 'AIR', DECIMAL '0.01'),
      (4, 0, 1, NULL, DECIMAL '7.00'),
      (5, 0, 0, 'MAIL', NULL),
      (6, 0, NULL, 'RAIL', DECIMAL '99999999999.99'),
      (7, NULL, 1, 'SHIP', DECIMAL '1.10'),
      (8, NULL, 0, 'TRUCK', DECIMAL '2.20'),
      (9, NULL, NULL, 'MAIL', DECIMAL '3.30')
    ) AS v(id, a, b, s, d))");
  }

  void Exec(const std::string& sql) {
    auto r = engine_->Execute(sql);
    ASSERT_TRUE(r.ok()) << sql << "\n" << r.status().ToString();
  }
  std::string Run(const std::string& sql) { return testutil::RowsText(*engine_, sql); }

  std::shared_ptr<MemoryCatalog> catalog_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(VectorPathsTest, AndOrFollowThreeValuedLogic) {
  // Comparisons of columns with literals cannot fail: the whole-batch path.
  EXPECT_EQ(Run("SELECT id, a = 1 AND b = 1, a = 1 OR b = 1 FROM t ORDER BY id"),
            "1|true|true\n2|false|true\n3|NULL|true\n4|false|true\n5|false|false\n"
            "6|false|NULL\n7|NULL|true\n8|false|NULL\n9|NULL|NULL\n");
  // Nested: an OR of ANDs, each evaluated the same way into scratch of its own.
  EXPECT_EQ(Run("SELECT id FROM t WHERE (a = 1 AND b = 0) OR (a = 0 AND b = 1) OR (a IS NULL AND b = 0) "
                "ORDER BY id"),
            "2\n4\n8\n");
  EXPECT_EQ(Run("SELECT id FROM t WHERE NOT (a = 1 OR b = 1) ORDER BY id"), "5\n");
  EXPECT_EQ(Run("SELECT count(*) FROM t WHERE a = 1 AND (b = 1 OR b IS NULL)"), "2\n");
}

TEST_F(VectorPathsTest, AndOrNarrowedToFewUndecidedRowsKeepThreeValuedLogic) {
  // 729 rows, every (x, a, b) combination: x = 1 leaves 81 rows (under a quarter) undecided, so
  // the later operands run on those rows alone, NULLs included.
  Exec("CREATE TABLE big AS SELECT t1.id AS x, t2.a AS a, t3.b AS b FROM t t1, t t2, t t3");
  EXPECT_EQ(Run("SELECT count(*) FROM big WHERE x = 1 AND a = 1 AND b = 1"), "9\n");
  // x = 1 AND b = NULL is NULL, not FALSE: NOT of it keeps neither.
  EXPECT_EQ(Run("SELECT count(*) FROM big WHERE NOT (x = 1 AND b = 1)"), "675\n");
  EXPECT_EQ(Run("SELECT count(*) FROM big WHERE (x = 1 AND b = 1) IS NULL"), "27\n");
  // OR: x <> 1 decides 648 rows, the 81 others meet b = 1.
  EXPECT_EQ(Run("SELECT count(*) FROM big WHERE x <> 1 OR b = 1"), "675\n");
  EXPECT_EQ(Run("SELECT count(*) FROM big WHERE NOT (x <> 1 OR b = 1)"), "27\n");
  // NULL: b NULL and a <> 0 (18 rows), or b = 0 and a NULL (9).
  EXPECT_EQ(Run("SELECT count(*) FROM big WHERE (x <> 1 OR b = 1 OR a = 0) IS NULL"), "27\n");
}

TEST_F(VectorPathsTest, OperandsThatCanFailStillShortCircuit) {
  // 10 / (a - 1) divides by zero where a = 1: the rows the first operand rules out never get
  // there, so the query succeeds.
  EXPECT_EQ(Run("SELECT id FROM t WHERE a = 0 AND 10 / (a - 1) < 0 ORDER BY id"), "4\n5\n6\n");
  EXPECT_EQ(Run("SELECT id FROM t WHERE a <> 1 AND 10 / (a - 1) < 0 ORDER BY id"), "4\n5\n6\n");
  EXPECT_NE(Run("SELECT id FROM t WHERE 10 / (a - 1) < 0 AND a = 0").find("ERROR: "), std::string::npos);
}

TEST_F(VectorPathsTest, ShortInListsWithNulls) {
  EXPECT_EQ(Run("SELECT id FROM t WHERE s IN ('MAIL', 'SHIP') ORDER BY id"), "1\n2\n5\n7\n9\n");
  EXPECT_EQ(Run("SELECT id FROM t WHERE s NOT IN ('MAIL', 'SHIP') ORDER BY id"), "3\n6\n8\n");
  // A NULL in the list makes a miss NULL (never TRUE), a hit stays TRUE.
  EXPECT_EQ(Run("SELECT id, s IN ('AIR', NULL) FROM t WHERE id <= 4 ORDER BY id"),
            "1|NULL\n2|NULL\n3|true\n4|NULL\n");
  EXPECT_EQ(Run("SELECT id FROM t WHERE id IN (2, 4, 9) ORDER BY id"), "2\n4\n9\n");
  EXPECT_EQ(Run("SELECT id FROM t WHERE d IN (DECIMAL '7.00', DECIMAL '0.01') ORDER BY id"), "3\n4\n");
}

TEST_F(VectorPathsTest, ConstantsAreFoldedAtPlanTime) {
  auto plan = Run("EXPLAIN SELECT id FROM t WHERE id < 1 + 2 AND d > CAST(0.06 - 0.01 AS DECIMAL(15,2))");
  EXPECT_NE(plan.find("<(#0, 3)"), std::string::npos) << plan;
  EXPECT_NE(plan.find("DECIMAL '0.05'"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("+("), std::string::npos) << plan;
  EXPECT_EQ(Run("SELECT id FROM t WHERE id < 1 + 2 AND d > CAST(0.06 - 0.01 AS DECIMAL(15,2))"), "1\n");
  EXPECT_EQ(Run("SELECT DATE '1994-01-01' + INTERVAL '1' YEAR"), "1995-01-01\n");
  // A constant that fails is left for the rows to raise: no row reaches it here.
  EXPECT_EQ(Run("SELECT id FROM t WHERE id > 100 AND id < 1 / 0"), "");
  EXPECT_NE(Run("SELECT 1 / 0").find("ERROR: "), std::string::npos);
}

TEST_F(VectorPathsTest, DecimalArithmeticAndSums) {
  // Exact result types (no per-row checks) and the capped one (38 digits, checked).
  EXPECT_EQ(Run("SELECT id, d * (1 - d), d + 1, 1 - d FROM t WHERE id IN (1, 2, 5) ORDER BY id"),
            "1|-94.8125|11.25|-9.25\n2|-15.7500|-2.50|4.50\n5|NULL|NULL|NULL\n");
  EXPECT_EQ(Run("SELECT d * (1 - d) * (1 + d) FROM t WHERE id = 2"), "39.375000\n");
  EXPECT_EQ(Run("SELECT sum(d), avg(d), count(d) FROM t"), "100000000020.35|12500000002.54|8\n");
  EXPECT_EQ(Run("SELECT a, sum(d) FROM t GROUP BY a ORDER BY a"),
            "0|100000000006.99\n1|6.76\nNULL|6.60\n");
  // Overflow is still an error, on the checked path.
  EXPECT_NE(Run("SELECT CAST(d AS DECIMAL(38,2)) * CAST(1e30 AS DECIMAL(38,0)) FROM t WHERE id = 6")
                .find("ERROR: "),
            std::string::npos);
}

}  // namespace
}  // namespace saleslake::sql
