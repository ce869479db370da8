// End-to-end tests of the SQL engine over in-memory tables: exact values, NULL semantics, errors
// with positions.
#include <gtest/gtest.h>

#include "sql/exec/executor.h"  // MemoryCatalog, MemoryTable: inside src/sql
#include "sql/internal/memory_writer.h"
#include "sql/result_format.h"
#include "sql/sql.h"
#include "sql_test_util.h"

namespace saleslake::sql {
namespace {

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = std::make_shared<MemoryCatalog>();
    auto engine = Engine::Open({.catalog = catalog_, .writer = MakeMemoryCatalogWriter(catalog_)});
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    Exec(R"(CREATE TABLE sales AS SELECT * FROM (VALUES
      (1, 'north', 'apple',  3, DECIMAL '1.50', DATE '2025-01-05'),
      (2, 'north', 'pear',   1, DECIMAL '2.00', DATE '2025-01-06'),
      (3, 'south', 'apple', 10, DECIMAL '1.50', DATE '2025-02-01'),
      (4, 'south', 'plum', NULL, DECIMAL '3.25', DATE '2025-02-03'),
      (5, 'east',  'apple',  2, NULL,          DATE '2025-03-10'),
      (6, NULL,    'pear',   7, DECIMAL '2.00', NULL)
    ) AS t(id, region, product, qty, price, day))");
    Exec(R"(CREATE TABLE regions AS SELECT * FROM (VALUES
      ('north', 'N'), ('south', 'S'), ('west', 'W')) AS r(name, code))");
  }

  void Exec(const std::string& sql) {
    auto r = engine_->Execute(sql);
    ASSERT_TRUE(r.ok()) << sql << "\n" << r.status().ToString();
  }

  // Rows as "a|b" lines, in result order.
  std::string Run(const std::string& sql) { return testutil::RowsText(*engine_, sql); }

  std::string Error(const std::string& sql) {
    auto r = engine_->Execute(sql);
    if (r.ok()) return "OK";
    return r.status().message();
  }

  std::shared_ptr<MemoryCatalog> catalog_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, SelectWithoutFrom) {
  EXPECT_EQ(Run("SELECT 1 + 2, 'a' || 'b', 7 / 2, 7 % 3, -7 / 2"), "3|ab|3|1|-3\n");
  EXPECT_EQ(Run("SELECT 1.5 + 1, 10 / 4.0, CAST(7 AS DOUBLE) / 2"), "2.5|2.5|3.5\n");
}

TEST_F(EngineTest, FilterProjectOrder) {
  EXPECT_EQ(Run("SELECT id, qty * 2 AS q2 FROM sales WHERE qty > 2 ORDER BY id"), "1|6\n3|20\n6|14\n");
  EXPECT_EQ(Run("SELECT id FROM sales WHERE region IS NULL"), "6\n");
  EXPECT_EQ(Run("SELECT id FROM sales ORDER BY qty DESC, id LIMIT 3"), "3\n6\n1\n");
  // Trino: NULLS LAST by default for ASC and DESC.
  EXPECT_EQ(Run("SELECT id FROM sales ORDER BY qty, id"), "2\n5\n1\n6\n3\n4\n");
  EXPECT_EQ(Run("SELECT id FROM sales ORDER BY qty DESC NULLS FIRST, id LIMIT 2"), "4\n3\n");
  EXPECT_EQ(Run("SELECT id FROM sales ORDER BY id LIMIT 2 OFFSET 3"), "4\n5\n");
}

TEST_F(EngineTest, Aggregates) {
  EXPECT_EQ(Run("SELECT count(*), count(qty), sum(qty), min(product), max(day) FROM sales"),
            "6|5|23|apple|2025-03-10\n");
  EXPECT_EQ(Run("SELECT region, count(*) AS n, sum(qty) FROM sales GROUP BY region ORDER BY region NULLS FIRST"),
            "NULL|1|7\neast|1|2\nnorth|2|4\nsouth|2|10\n");
  EXPECT_EQ(Run("SELECT avg(qty) FROM sales"), "4.6\n");
  EXPECT_EQ(Run("SELECT sum(price), avg(price) FROM sales"), "10.25|2.05\n");
  EXPECT_EQ(Run("SELECT count(DISTINCT product), count_if(qty > 2) FROM sales"), "3|3\n");
  EXPECT_EQ(Run("SELECT region FROM sales GROUP BY region HAVING sum(qty) > 5 ORDER BY 1"), "south\nNULL\n");
  EXPECT_EQ(Run("SELECT count(*), sum(qty) FROM sales WHERE id > 100"), "0|NULL\n");
  EXPECT_EQ(Run("SELECT max_by(product, qty), min_by(id, qty) FROM sales"), "apple|2\n");
  EXPECT_EQ(Run("SELECT bool_and(qty > 0), bool_or(qty > 9) FROM sales"), "true|true\n");
  EXPECT_EQ(Run("SELECT sum(qty) FILTER (WHERE region = 'north') FROM sales"), "4\n");
}

TEST_F(EngineTest, GroupingSets) {
  EXPECT_EQ(Run("SELECT region, product, sum(qty) FROM sales WHERE region IS NOT NULL "
                "GROUP BY ROLLUP (region, product) ORDER BY region NULLS LAST, product NULLS LAST"),
            "east|apple|2\neast|NULL|2\nnorth|apple|3\nnorth|pear|1\nnorth|NULL|4\n"
            "south|apple|10\nsouth|plum|NULL\nsouth|NULL|10\nNULL|NULL|16\n");
}

TEST_F(EngineTest, Joins) {
  EXPECT_EQ(Run("SELECT s.id, r.code FROM sales s JOIN regions r ON s.region = r.name ORDER BY 1"),
            "1|N\n2|N\n3|S\n4|S\n");
  EXPECT_EQ(Run("SELECT s.id, r.code FROM sales s LEFT JOIN regions r ON s.region = r.name ORDER BY 1"),
            "1|N\n2|N\n3|S\n4|S\n5|NULL\n6|NULL\n");
  EXPECT_EQ(Run("SELECT r.name, count(s.id) FROM sales s RIGHT JOIN regions r ON s.region = r.name "
                "GROUP BY r.name ORDER BY 1"),
            "north|2\nsouth|2\nwest|0\n");
  EXPECT_EQ(Run("SELECT count(*) FROM sales s FULL JOIN regions r ON s.region = r.name"), "7\n");
  EXPECT_EQ(Run("SELECT count(*) FROM sales CROSS JOIN regions"), "18\n");
  EXPECT_EQ(Run("SELECT s.id FROM sales s, regions r WHERE s.region = r.name AND r.code = 'S' ORDER BY 1"),
            "3\n4\n");
  EXPECT_EQ(Run("SELECT name, count(*) FROM sales JOIN regions ON region = name GROUP BY name ORDER BY 1"),
            "north|2\nsouth|2\n");
}

TEST_F(EngineTest, SubqueriesAndCtes) {
  EXPECT_EQ(Run("SELECT id FROM sales WHERE qty = (SELECT max(qty) FROM sales)"), "3\n");
  EXPECT_EQ(Run("SELECT id FROM sales WHERE region IN (SELECT name FROM regions WHERE code <> 'N') ORDER BY 1"),
            "3\n4\n");
  EXPECT_EQ(Run("SELECT count(*) FROM sales WHERE EXISTS (SELECT 1 FROM regions WHERE code = 'W')"), "6\n");
  EXPECT_EQ(Run("WITH t AS (SELECT region, sum(qty) AS q FROM sales GROUP BY region) "
                "SELECT max(q) FROM t"), "10\n");
  EXPECT_EQ(Run("SELECT x FROM (SELECT id * 10 AS x FROM sales) WHERE x > 40 ORDER BY x"), "50\n60\n");
}

TEST_F(EngineTest, SetOperations) {
  EXPECT_EQ(Run("SELECT region FROM sales UNION SELECT name FROM regions ORDER BY 1"),
            "east\nnorth\nsouth\nwest\nNULL\n");
  EXPECT_EQ(Run("SELECT count(*) FROM (SELECT region FROM sales UNION ALL SELECT name FROM regions)"), "9\n");
  EXPECT_EQ(Run("SELECT region FROM sales INTERSECT SELECT name FROM regions ORDER BY 1"), "north\nsouth\n");
  EXPECT_EQ(Run("SELECT name FROM regions EXCEPT SELECT region FROM sales"), "west\n");
}

TEST_F(EngineTest, WindowFunctions) {
  EXPECT_EQ(Run("SELECT id, row_number() OVER (PARTITION BY region ORDER BY id) FROM sales "
                "WHERE region IS NOT NULL ORDER BY id"),
            "1|1\n2|2\n3|1\n4|2\n5|1\n");
  EXPECT_EQ(Run("SELECT id, sum(qty) OVER (ORDER BY id) FROM sales ORDER BY id"),
            "1|3\n2|4\n3|14\n4|14\n5|16\n6|23\n");
  EXPECT_EQ(Run("SELECT id, rank() OVER (ORDER BY price), dense_rank() OVER (ORDER BY price) FROM sales "
                "WHERE price IS NOT NULL ORDER BY id"),
            "1|1|1\n2|3|2\n3|1|1\n4|5|3\n6|3|2\n");
  EXPECT_EQ(Run("SELECT id, lag(id) OVER (ORDER BY id), lead(id, 2, 0) OVER (ORDER BY id) FROM sales ORDER BY id"),
            "1|NULL|3\n2|1|4\n3|2|5\n4|3|6\n5|4|0\n6|5|0\n");
  EXPECT_EQ(Run("SELECT id, avg(qty) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM sales ORDER BY id"),
            "1|2.0\n2|4.666666666666667\n3|5.5\n4|6.0\n5|4.5\n6|4.5\n");
}

TEST_F(EngineTest, Functions) {
  EXPECT_EQ(Run("SELECT upper('abc'), length('héllo'), substr('hello', 2, 3), strpos('hello', 'l'), "
                "split_part('a,b,c', ',', 2), lpad('7', 3, '0'), replace('aXbX', 'X', '-')"),
            "ABC|5|ell|3|b|007|a-b-\n");
  EXPECT_EQ(Run("SELECT year(DATE '2025-03-10'), month(DATE '2025-03-10'), day_of_week(DATE '2025-03-10'), "
                "date_trunc('month', DATE '2025-03-10'), date_add('day', 30, DATE '2025-03-10'), "
                "date_diff('day', DATE '2025-03-01', DATE '2025-03-10')"),
            "2025|3|1|2025-03-01|2025-04-09|9\n");
  EXPECT_EQ(Run("SELECT round(2.5), round(-2.5), round(1.2345, 2), floor(-1.5), ceil(1.2), abs(-3), "
                "mod(7, 3), power(2, 10)"),
            "3|-3|1.2300|-2|2|3|1|1024.0\n");
  EXPECT_EQ(Run("SELECT coalesce(NULL, 2), nullif(1, 1), if(1 > 2, 'a', 'b'), "
                "CASE WHEN 1 = 1 THEN 'x' END, greatest(1, 5, 3)"),
            "2|NULL|b|x|5\n");
  EXPECT_EQ(Run("SELECT 'abc' LIKE 'a%', 'a_c' LIKE 'a\\_c' ESCAPE '\\', regexp_like('abc123', '[0-9]+'), "
                "regexp_extract('abc123', '[0-9]+'), regexp_replace('a1b2', '[0-9]', '#')"),
            "true|true|true|123|a#b#\n");
  EXPECT_EQ(Run("SELECT CAST('42' AS INTEGER), TRY_CAST('x' AS INTEGER), CAST(2.5 AS INTEGER), "
                "CAST(DATE '2025-01-02' AS VARCHAR), try(1 / 0)"),
            "42|NULL|3|2025-01-02|NULL\n");
  EXPECT_EQ(Run("SELECT NULL AND false, NULL OR true, NOT (NULL = 1), 1 IN (2, NULL), 1 BETWEEN 0 AND 2"),
            "false|true|NULL|NULL|true\n");
  EXPECT_EQ(Run("SELECT DATE '2025-01-31' + INTERVAL '1' MONTH, TIMESTAMP '2025-01-01 10:00:00' + INTERVAL '90' MINUTE"),
            "2025-02-28|2025-01-01 11:30:00\n");
  // ASCII case mapping leaves other bytes alone.
  EXPECT_EQ(Run("SELECT upper('aZ-é1'), lower('AZ-É1')"), "AZ-é1|az-É1\n");
  // date_format over dates memoises each day's text per batch: repeated days, two days 64
  // apart (one memo slot), a NULL, and a format that is not constant.
  EXPECT_EQ(Run("SELECT date_format(d, '%Y-%m-%d'), date_format(d, f) FROM (VALUES "
                "(DATE '2025-01-01', '%m'), (DATE '2025-03-06', '%d'), (DATE '2025-01-01', '%Y'), "
                "(NULL, '%Y'), (DATE '2025-03-06', '%m')) AS t(d, f)"),
            "2025-01-01|01\n2025-03-06|06\n2025-01-01|2025\nNULL|NULL\n2025-03-06|03\n");
}

TEST_F(EngineTest, RuntimeErrors) {
  EXPECT_NE(Error("SELECT 1 / 0").find("Division by zero"), std::string::npos);
  EXPECT_NE(Error("SELECT 2147483647 + 1").find("overflow"), std::string::npos);
  EXPECT_NE(Error("SELECT CAST('abc' AS INTEGER)").find("cannot cast"), std::string::npos);
  // Lazy evaluation: the division only runs where the condition holds.
  EXPECT_EQ(Run("SELECT count(*) FROM sales WHERE qty <> 0 AND 10 / qty > 1"), "3\n");
  EXPECT_EQ(Run("SELECT CASE WHEN qty IS NULL OR qty = 0 THEN 0 ELSE 100 / qty END FROM sales WHERE id = 4"), "0\n");
}

TEST_F(EngineTest, BindErrorsHavePositionsAndHints) {
  EXPECT_EQ(Error("SELECT amnt FROM sales"), "line 1:8: column 'amnt' not found");
  EXPECT_EQ(Error("SELECT qtyy FROM sales"), "line 1:8: column 'qtyy' not found; did you mean 'qty'?");
  EXPECT_EQ(Error("SELECT * FROM salse"), "line 1:15: table 'salse' not found; did you mean 'sales'?");
  EXPECT_EQ(Error("SELECT region, count(*) FROM sales"),
            "line 1:8: column 'region' must appear in the GROUP BY clause or be used in an aggregate function");
  EXPECT_EQ(Error("SELECT id FROM sales WHERE sum(qty) > 1"),
            "line 1:28: aggregate function 'sum' is not allowed in WHERE");
  EXPECT_EQ(Error("SELECT * FROM sales s JOIN regions r ON s.region = r.nam"),
            "line 1:52: column 'r.nam' not found; did you mean 'name'?");
  EXPECT_EQ(Error("SELECT lenght('x')"), "line 1:8: function 'lenght' not found; did you mean 'length'?");
  EXPECT_EQ(Error("SELECT FROM sales"), "line 1:8: expected an expression but found 'FROM'");
  EXPECT_EQ(Error("SELECT 1 +"), "line 1:11: expected an expression but found end of input");
  EXPECT_EQ(Error("SELECT 'abc"), "line 1:8: unterminated string literal");
}

TEST_F(EngineTest, ExplainAndShow) {
  std::string plan = Run("EXPLAIN SELECT region, sum(qty) FROM sales WHERE id > 2 GROUP BY region");
  EXPECT_NE(plan.find("Aggregate"), std::string::npos) << plan;
  EXPECT_NE(plan.find("Scan sales"), std::string::npos) << plan;
  std::string analyze = Run("EXPLAIN ANALYZE SELECT count(*) FROM sales WHERE id > 2");
  EXPECT_NE(analyze.find("rows:"), std::string::npos) << analyze;
  EXPECT_EQ(Run("SHOW TABLES"), "regions\nsales\n");
  EXPECT_EQ(Run("DESCRIBE regions"), "name|varchar||\ncode|varchar||\n");
}

TEST_F(EngineTest, ViewsAndInsert) {
  Exec("CREATE VIEW big AS SELECT id, qty FROM sales WHERE qty >= 7");
  EXPECT_EQ(Run("SELECT id FROM big ORDER BY id"), "3\n6\n");
  Exec("INSERT INTO regions VALUES ('east', 'E')");
  EXPECT_EQ(Run("SELECT count(*) FROM regions"), "4\n");
  Exec("DROP VIEW big");
  EXPECT_NE(Error("SELECT * FROM big").find("not found"), std::string::npos);
}

}  // namespace
}  // namespace saleslake::sql
