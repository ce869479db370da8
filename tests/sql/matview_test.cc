// Materialized views over a real lake (LocalStore + catalog): incremental refresh against a full
// recompute after many kinds of loads, query rewrite against the base-table answer, bad input.
#include <cstdlib>
#include <cmath>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "catalog/catalog.h"
#include "formats/parquet/parquet.h"
#include "io/local_store.h"
#include "sql/exec/lake_catalog.h"
#include "sql/sql.h"
#include "sql_test_util.h"
#include "support/forwarding_store.h"
#include "support/test_support.h"

namespace saleslake::sql {
namespace {

using testutil::RowsText;

std::string Sorted(std::string text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (auto& l : lines) out += l + "\n";
  return out;
}

class MatViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = io::LocalStore::Open(dir_.path(), true);
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    auto c = catalog::Catalog::Open(store_.get());
    ASSERT_TRUE(c.ok());
    cat_ = std::move(*c);
  }

  // A fresh engine: lake engines see each table as of its first use.
  std::unique_ptr<Engine> Fresh(bool rewrite = true) {
    EngineOptions o;
    o.use_materialized_views = rewrite;
    auto e = Engine::OpenLake(store_.get(), cat_.get(), o);
    EXPECT_TRUE(e.ok());
    return std::move(*e);
  }
  std::string Run(const std::string& sql, bool rewrite = true) { return RowsText(*Fresh(rewrite), sql); }
  std::string Message(const std::string& sql) {
    auto r = Fresh()->Execute(sql);
    return r.ok() ? r->message : "ERROR: " + r.status().message();
  }

  // `n` rows: region (some NULL), product, day, qty (some NULL), amount (multiples of 0.25, so
  // every sum is exact in any order), price INTEGER. `new_groups` draws keys no earlier load used.
  std::string Rows(int n, uint32_t seed, bool new_groups = false, bool null_keys = false) {
    std::mt19937 rng(seed);
    std::string v;
    for (int i = 0; i < n; ++i) {
      std::string region = new_groups ? fmt::format("'R{}'", seed) : fmt::format("'{}'", "NSEW"[rng() % 4]);
      if (null_keys && rng() % 3 == 0) region = "CAST(NULL AS VARCHAR)";
      std::string qty = rng() % 7 == 0 ? "CAST(NULL AS BIGINT)" : std::to_string(rng() % 50);
      v += fmt::format("{}({}, 'p{}', DATE '2025-0{}-1{}', {}, {}, {})", i ? ", " : "", region, rng() % 5,
                       1 + rng() % 3, rng() % 9, qty, static_cast<double>(rng() % 4000) / 4.0,
                       static_cast<int>(rng() % 100) - 20);
    }
    return v;
  }
  void Load(const std::string& values) {
    ASSERT_EQ(Message("INSERT INTO sales SELECT * FROM (VALUES " + values +
                      ") AS t(region, product, day, qty, amount, price)").substr(0, 6), "INSERT");
  }
  // The dimension table of the join views: p4 has no row (inner joins drop it, left joins keep
  // it with NULLs); ChangeProducts() adds it.
  void CreateProducts() {
    ASSERT_EQ(Message("CREATE TABLE products AS SELECT * FROM (VALUES ('p0', 'toys', 1), ('p1', 'food', 2), "
                      "('p2', 'food', 3), ('p3', 'tools', 4)) AS t(product, category, tier)").substr(0, 12),
              "CREATE TABLE");
  }
  void ChangeProducts() {
    ASSERT_EQ(Message("INSERT INTO products VALUES ('p4', 'misc', 5)").substr(0, 6), "INSERT");
  }
  // Sets a property of a catalog table (simulating what a refresh cut short leaves behind).
  void SetProperty(const std::string& table, const std::string& key, const std::string& value) {
    auto c = cat_->Commit(table, [&](const catalog::TableMetadata&) -> Result<catalog::TableChange> {
      catalog::TableChange ch;
      ch.set_properties[key] = value;
      ch.allow_empty = true;
      return ch;
    });
    ASSERT_TRUE(c.ok()) << c.status().ToString();
  }
  void CreateBase() {
    ASSERT_EQ(Message("CREATE TABLE sales AS SELECT * FROM (VALUES " + Rows(200, 1) +
                      ") AS t(region, product, day, qty, amount, price)").substr(0, 12), "CREATE TABLE");
  }

  testing::TempDir dir_;
  std::unique_ptr<io::LocalStore> store_;
  std::unique_ptr<catalog::Catalog> cat_;
};

// View shapes: each SELECT's columns are all named so the view can be compared column by column.
const std::vector<std::string>& Shapes() {
  static const std::vector<std::string> k = {
      "SELECT region, count(*) AS n FROM sales GROUP BY region",
      "SELECT region, product, sum(amount) AS s FROM sales GROUP BY region, product",
      "SELECT product, region, sum(qty) AS q, count(qty) AS nq FROM sales GROUP BY region, product",
      "SELECT region, min(amount) AS lo, max(amount) AS hi FROM sales GROUP BY region",
      "SELECT region, avg(amount) AS a FROM sales GROUP BY region",
      "SELECT region, avg(qty) AS a, count(*) AS n FROM sales GROUP BY region",
      "SELECT day, sum(amount) AS s, count(*) AS n FROM sales GROUP BY day",
      "SELECT date_trunc('month', day) AS m, sum(amount) AS s FROM sales GROUP BY 1",
      "SELECT region, day, min(qty) AS lo, max(qty) AS hi, sum(price) AS p FROM sales GROUP BY region, day",
      "SELECT count(*) AS n, sum(amount) AS s, min(day) AS d0, max(day) AS d1 FROM sales",
      "SELECT region, count_if(amount > 500) AS big FROM sales GROUP BY region",
      "SELECT region, sum(amount) AS s FROM sales WHERE qty > 10 GROUP BY region",
      "SELECT product, avg(price) AS ap, sum(price) AS sp FROM sales WHERE region <> 'N' GROUP BY product",
      "SELECT upper(region) AS r, count(*) AS n FROM sales GROUP BY upper(region)",
      "SELECT region, product, day, count(*) AS n, sum(amount) AS s, avg(amount) AS a, min(price) AS mp "
      "FROM sales GROUP BY region, product, day",
      "SELECT qty, count(*) AS n FROM sales GROUP BY qty",
      "SELECT region, max(product) AS top, min(product) AS bottom FROM sales GROUP BY region",
      "SELECT price % 10 AS bucket, sum(qty) AS q FROM sales GROUP BY price % 10",
      "SELECT region, sum(amount * qty) AS revenue FROM sales GROUP BY region",
      "SELECT region, count(*) AS n FROM sales WHERE day >= DATE '2025-02-01' AND product IN ('p1', 'p2') GROUP BY region",
      "SELECT coalesce(region, '?') AS r, sum(amount) AS s FROM sales GROUP BY coalesce(region, '?')",
      // approx_distinct (HyperLogLog sketches) and count(DISTINCT) (side tables):
      "SELECT region, approx_distinct(product) AS ap, approx_distinct(amount) AS aa FROM sales GROUP BY region",
      "SELECT region, count(DISTINCT product) AS dp FROM sales GROUP BY region",
      "SELECT day, count(DISTINCT region) AS dr, count(*) AS n, count(DISTINCT qty) AS dq FROM sales GROUP BY day",
      "SELECT count(DISTINCT price) AS dp, approx_distinct(qty) AS aq FROM sales",
      "SELECT region, product, count(DISTINCT day) AS dd, approx_distinct(price, 0.01) AS ap FROM sales "
      "WHERE qty > 5 GROUP BY region, product",
      // Joins to a dimension table:
      "SELECT p.category, count(*) AS n, sum(s.qty) AS q, count(DISTINCT s.region) AS dr FROM sales s "
      "JOIN products p ON s.product = p.product GROUP BY p.category",
      "SELECT s.region, p.category, sum(s.price) AS sp, approx_distinct(s.day) AS ad FROM sales s "
      "LEFT JOIN products p ON s.product = p.product WHERE p.tier > 1 OR p.tier IS NULL GROUP BY s.region, p.category",
      "SELECT region, max(amount) AS hi, avg(amount) AS a FROM sales GROUP BY region HAVING count(*) > 10",
  };
  return k;
}

std::string Columns(const Engine& e, const std::string& sql) {
  auto r = e.Execute(sql + " LIMIT 0");
  if (!r.ok()) return "*";
  std::string cols;
  for (const auto& f : r->result.schema.fields) cols += (cols.empty() ? "" : ", ") + f.name;
  return cols;
}

bool IsJoinShape(const std::string& sql) { return sql.find(" JOIN ") != std::string::npos; }

// DuckDB's CSV (header, empty field for NULL; the compared values need no quoting) in
// RowsText's form, sorted.
std::string DuckDbRows(const std::string& csv) {
  std::string out;
  size_t pos = csv.find('\n');  // past the header
  while (pos != std::string::npos && pos + 1 < csv.size()) {
    size_t nl = csv.find('\n', pos + 1);
    std::string line = csv.substr(pos + 1, nl == std::string::npos ? std::string::npos : nl - pos - 1);
    std::vector<std::string> cells(1);
    for (char ch : line) {
      if (ch == ',') cells.emplace_back();
      else cells.back() += ch;
    }
    for (size_t c = 0; c < cells.size(); ++c) out += (c ? "|" : "") + (cells[c].empty() ? "NULL" : cells[c]);
    out += "\n";
    pos = nl;
  }
  return Sorted(out);
}

TEST_F(MatViewTest, EveryShapeEqualsAFullRecomputeAfterEachLoad) {
  CreateBase();
  CreateProducts();
  const auto& shapes = Shapes();
  for (size_t i = 0; i < shapes.size(); ++i) {
    std::string msg = Message(fmt::format("CREATE MATERIALIZED VIEW mv{} AS {}", i, shapes[i]));
    ASSERT_EQ(msg.rfind("CREATE MATERIALIZED VIEW", 0), 0u) << shapes[i] << ": " << msg;
  }
  enum Expect { kAny, kIncremental, kFull, kDimension };
  auto check = [&](const std::string& when, Expect expect) {
    for (size_t i = 0; i < shapes.size(); ++i) {
      std::string msg = Message(fmt::format("REFRESH MATERIALIZED VIEW mv{}", i));
      ASSERT_EQ(msg.rfind("REFRESH MATERIALIZED VIEW", 0), 0u) << msg;
      bool full_only = i + 1 == shapes.size();  // HAVING
      if (expect == kIncremental && !full_only) {
        EXPECT_NE(msg.find("incremental"), std::string::npos) << when << " mv" << i << ": " << msg;
      }
      if (expect == kFull) {
        EXPECT_NE(msg.find("full"), std::string::npos) << when << " mv" << i << ": " << msg;
      }
      if (expect == kDimension) {  // only the views that join the changed table are rebuilt
        if (IsJoinShape(shapes[i])) {
          EXPECT_NE(msg.find("full: dimension table 'products' changed"), std::string::npos) << when << " mv" << i << ": " << msg;
        } else {
          EXPECT_NE(msg.find("up to date"), std::string::npos) << when << " mv" << i << ": " << msg;
        }
      }
      auto engine = Fresh(false);
      std::string view = Sorted(RowsText(*engine, fmt::format("SELECT {} FROM mv{}", Columns(*engine, shapes[i]), i)));
      std::string full = Sorted(RowsText(*engine, shapes[i]));
      ASSERT_EQ(view, full) << when << ": " << shapes[i];
      ASSERT_EQ(view.find("ERROR"), std::string::npos) << view;
    }
  };
  check("initial build", kAny);
  Load(Rows(100, 2));
  check("load 1 (new files)", kIncremental);
  Load(Rows(50, 3, /*new_groups=*/true));
  check("load 2 (only new groups)", kIncremental);
  Load(Rows(60, 4, false, /*null_keys=*/true));
  check("load 3 (NULL keys)", kIncremental);
  Load(Rows(1, 5));
  check("load 4 (one row)", kIncremental);
  // Load 5: an empty Parquet file committed to the table.
  {
    auto meta = cat_->LoadTable("sales");
    ASSERT_TRUE(meta.ok());
    std::string key = (*meta)->spec.location + "empty.parquet";
    auto out = store_->OpenWrite(key);
    ASSERT_TRUE(out.ok());
    auto w = parquet::ParquetWriter::Open(out->get(), (*meta)->schema(), {});
    ASSERT_TRUE(w.ok());
    auto st = (*w)->Close();
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE((*out)->Commit().ok());
    catalog::DataFile empty;
    empty.key = key;
    empty.size = st->file_size;
    empty.row_count = 0;
    auto c = cat_->Commit("sales", [&](const catalog::TableMetadata&) -> Result<catalog::TableChange> {
      catalog::TableChange ch;
      ch.add_files = {empty};
      ch.allow_empty = true;
      return ch;
    });
    ASSERT_TRUE(c.ok()) << c.status().ToString();
  }
  check("load 5 (empty commit)", kIncremental);
  Load(Rows(80, 6) + ", " + Rows(20, 7, false, true));
  check("load 6 (mixed)", kIncremental);
  // Load 7: a replaced file (rows left the table): every view falls back to a full recompute.
  {
    auto meta = cat_->LoadTable("sales");
    auto files = cat_->ListFiles(**meta);
    ASSERT_TRUE(files.ok());
    std::string victim = files->front().key;
    auto e = Fresh();
    auto c = cat_->Commit("sales", [&](const catalog::TableMetadata&) -> Result<catalog::TableChange> {
      catalog::TableChange ch;
      ch.operation = "replace";
      ch.remove_files = {victim};
      return ch;
    });
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    auto plan = RowsText(*e, "EXPLAIN REFRESH mv0");
    EXPECT_NE(plan.find("refresh: full"), std::string::npos) << plan;
    EXPECT_NE(plan.find("replaced or deleted"), std::string::npos) << plan;
  }
  check("load 7 (replaced file)", kFull);
  Load(Rows(30, 8));
  check("load 8", kIncremental);
  ChangeProducts();
  check("load 8b (the dimension table changed)", kDimension);
  Load(Rows(30, 9, true, true));
  check("load 9 (new groups and NULL keys)", kIncremental);
  Load(Rows(300, 10));
  check("load 10 (bigger)", kIncremental);

  // Every side table was kept incrementally after its first build.
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (shapes[i].find("DISTINCT") == std::string::npos) continue;
    auto side = cat_->LoadTable(fmt::format("mv{}__distinct_0", i));
    ASSERT_TRUE(side.ok()) << shapes[i];
    EXPECT_EQ((*side)->spec.properties.at("matview.last_refresh"), "incremental") << shapes[i];
  }

  // The views equal DuckDB's answer over the same Parquet files (shapes DuckDB prints alike:
  // no doubles, no approximations).
  SL_REQUIRE_DUCKDB();
  std::string setup;
  for (const char* table : {"sales", "products"}) {
    auto meta = cat_->LoadTable(table);
    ASSERT_TRUE(meta.ok());
    auto files = cat_->ListFiles(**meta);
    ASSERT_TRUE(files.ok());
    std::string list;
    for (const auto& f : *files) list += fmt::format("{}'{}/{}'", list.empty() ? "" : ", ", dir_.path(), f.key);
    setup += fmt::format("CREATE VIEW {} AS SELECT * FROM read_parquet([{}]);\n", table, list);
  }
  size_t compared = 0;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const std::string& sql = shapes[i];
    if (sql.find("amount") != std::string::npos || sql.find("approx") != std::string::npos ||
        sql.find("avg") != std::string::npos || sql.find("date_trunc") != std::string::npos)
      continue;
    auto duck = testing::RunDuckDb(setup + sql + ";\n");
    ASSERT_EQ(duck.exit_code, 0) << sql << ": " << duck.err;
    auto engine = Fresh(false);
    std::string view = Sorted(RowsText(*engine, fmt::format("SELECT {} FROM mv{}", Columns(*engine, sql), i)));
    EXPECT_EQ(view, DuckDbRows(duck.out)) << sql;
    ++compared;
  }
  EXPECT_GE(compared, 11u);
}

TEST_F(MatViewTest, ExplainRefreshAndShow) {
  CreateBase();
  EXPECT_EQ(Message("CREATE MATERIALIZED VIEW by_region WITH (refresh = 'rate(5 minutes)') AS "
                    "SELECT region, sum(amount) AS s FROM sales GROUP BY region").rfind("CREATE MATERIALIZED VIEW", 0), 0u);
  std::string plan = Run("EXPLAIN REFRESH by_region");
  EXPECT_NE(plan.find("refresh: nothing to do"), std::string::npos) << plan;
  Load(Rows(10, 2));
  plan = Run("EXPLAIN REFRESH MATERIALIZED VIEW by_region");
  EXPECT_NE(plan.find("refresh: incremental"), std::string::npos) << plan;
  EXPECT_NE(plan.find("1 file(s) added"), std::string::npos) << plan;
  std::string show = Run("SHOW MATERIALIZED VIEWS");
  EXPECT_NE(show.find("by_region|sales|1|2|stale (1 commit(s) behind)"), std::string::npos) << show;
  EXPECT_NE(show.find("rate(5 minutes)"), std::string::npos) << show;
  EXPECT_NE(Message("REFRESH MATERIALIZED VIEW by_region").find("incremental"), std::string::npos);
  show = Run("SHOW MATERIALIZED VIEWS");
  EXPECT_NE(show.find("by_region|sales|2|2|fresh|0|"), std::string::npos) << show;
  EXPECT_NE(Message("REFRESH MATERIALIZED VIEW by_region FULL").find("full: FULL was asked for"), std::string::npos);
  // The view is an ordinary catalog table with Parquet files in the lake.
  auto meta = cat_->LoadTable("by_region");
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ((*meta)->spec.location, "processed_data/by_region/");
  EXPECT_EQ((*meta)->spec.properties.at("matview.base_snapshot"), "2");
}

TEST_F(MatViewTest, OnCommitViewsFollowInserts) {
  CreateBase();
  Message("CREATE MATERIALIZED VIEW live WITH (refresh = 'on_commit') AS SELECT region, count(*) AS n FROM sales GROUP BY region");
  Message("CREATE MATERIALIZED VIEW manual_one AS SELECT region, count(*) AS n FROM sales GROUP BY region");
  Load(Rows(25, 11));
  std::string show = Run("SHOW MATERIALIZED VIEWS");
  EXPECT_NE(show.find("live|sales|2|2|fresh"), std::string::npos) << show;
  EXPECT_NE(show.find("manual_one|sales|1|2|stale"), std::string::npos) << show;
  EXPECT_EQ(Sorted(Run("SELECT region, n FROM live")),
            Sorted(Run("SELECT region, count(*) AS n FROM sales GROUP BY region", false)));
  // The public hook the ETL calls after its commit.
  auto r = RefreshOnCommitViews(store_.get(), cat_.get(), "sales");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_NE((*r)[0].find("up to date"), std::string::npos) << (*r)[0];
}

TEST_F(MatViewTest, BadInput) {
  CreateBase();
  EXPECT_NE(Message("CREATE MATERIALIZED VIEW r AS SELECT region, sum(amount * random()) AS s FROM sales GROUP BY region")
                .find("non-deterministic"), std::string::npos);
  EXPECT_NE(Message("CREATE MATERIALIZED VIEW r WITH (refresh = 'sometimes') AS SELECT count(*) AS n FROM sales")
                .find("refresh must be"), std::string::npos);
  EXPECT_NE(Message("CREATE MATERIALIZED VIEW r WITH (colour = 'red') AS SELECT count(*) AS n FROM sales")
                .find("unknown materialized view property"), std::string::npos);
  EXPECT_NE(Message("CREATE MATERIALIZED VIEW r WITH (partitioned_by = ARRAY['n']) AS SELECT region, count(*) AS n FROM sales GROUP BY region")
                .find("must be a GROUP BY column"), std::string::npos);
  EXPECT_NE(Message("CREATE MATERIALIZED VIEW r AS SELECT count(*) AS n FROM nowhere").find("not found"), std::string::npos);
  EXPECT_NE(Message("CREATE MATERIALIZED VIEW sales AS SELECT count(*) AS n FROM sales").find("already exists"), std::string::npos);
  // Full-refresh-only shapes are created with a notice.
  std::string msg = Message("CREATE MATERIALIZED VIEW d AS SELECT region, sum(DISTINCT price) AS n FROM sales GROUP BY region");
  EXPECT_NE(msg.find("notice: full refresh only"), std::string::npos) << msg;
  EXPECT_EQ(Message("CREATE MATERIALIZED VIEW IF NOT EXISTS d AS SELECT 1 AS x FROM sales"), "CREATE MATERIALIZED VIEW: already exists");
  Message("CREATE MATERIALIZED VIEW a AS SELECT region, count(*) AS n FROM sales GROUP BY region");
  msg = Message("DROP TABLE sales");
  EXPECT_NE(msg.find("materialized views depend on it (a, d)"), std::string::npos) << msg;
  EXPECT_NE(Message("DROP TABLE a").find("use DROP MATERIALIZED VIEW"), std::string::npos);
  EXPECT_NE(Message("REFRESH MATERIALIZED VIEW sales").find("is a table, not a materialized view"), std::string::npos);
  EXPECT_NE(Message("REFRESH MATERIALIZED VIEW nope").find("not found"), std::string::npos);
  EXPECT_EQ(Message("DROP MATERIALIZED VIEW a"), "DROP MATERIALIZED VIEW");
  EXPECT_EQ(Message("DROP MATERIALIZED VIEW IF EXISTS a"), "DROP MATERIALIZED VIEW");
  EXPECT_FALSE(cat_->LoadTable("a").ok());
  auto left = store_->List("processed_data/a/");
  EXPECT_TRUE(!left.ok() || left->empty());
  msg = Message("DROP TABLE sales");
  EXPECT_NE(msg.find("(d)"), std::string::npos) << msg;
}

// ---------------------------------------------------------------- rewrite

struct RewriteCase {
  std::string sql;
  bool uses_view;
};

TEST_F(MatViewTest, RewriteAnswersExactlyAndOnlyWhereItCan) {
  CreateBase();
  CreateProducts();
  Load(Rows(300, 21, false, true));
  ASSERT_EQ(Message("CREATE MATERIALIZED VIEW daily WITH (partitioned_by = ARRAY['region']) AS "
                    "SELECT region, product, day, count(*) AS n, count(qty) AS nq, sum(qty) AS q, "
                    "sum(amount) AS s, min(amount) AS lo, max(amount) AS hi, avg(price) AS ap, "
                    "count_if(amount > 500) AS big FROM sales GROUP BY region, product, day")
                .rfind("CREATE MATERIALIZED VIEW", 0), 0u);
  ASSERT_EQ(Message("CREATE MATERIALIZED VIEW by_region AS SELECT region, count(*) AS n, sum(amount) AS s "
                    "FROM sales GROUP BY region").rfind("CREATE MATERIALIZED VIEW", 0), 0u);
  ASSERT_EQ(Message("CREATE MATERIALIZED VIEW big_qty AS SELECT region, sum(amount) AS s FROM sales "
                    "WHERE qty > 10 GROUP BY region").rfind("CREATE MATERIALIZED VIEW", 0), 0u);
  ASSERT_EQ(Message("CREATE MATERIALIZED VIEW uniq AS SELECT region, product, count(DISTINCT day) AS dd, "
                    "approx_distinct(price) AS ap, count(*) AS n, count(DISTINCT qty) AS dq FROM sales "
                    "GROUP BY region, product")
                .rfind("CREATE MATERIALIZED VIEW", 0), 0u);
  ASSERT_EQ(Message("CREATE MATERIALIZED VIEW by_cat AS SELECT p.category, s.region, count(*) AS n, sum(s.qty) AS q "
                    "FROM sales s JOIN products p ON s.product = p.product GROUP BY p.category, s.region")
                .rfind("CREATE MATERIALIZED VIEW", 0), 0u);
  const std::vector<RewriteCase> cases = {
      {"SELECT region, count(*) FROM sales GROUP BY region", true},
      {"SELECT region, sum(amount) FROM sales GROUP BY region ORDER BY 2 DESC", true},
      {"SELECT region, product, day, count(*) FROM sales GROUP BY region, product, day", true},
      {"SELECT product, sum(qty) FROM sales GROUP BY product", true},
      {"SELECT product, count(qty) FROM sales GROUP BY product", true},
      {"SELECT day, min(amount), max(amount) FROM sales GROUP BY day", true},
      {"SELECT product, avg(price) FROM sales GROUP BY product", true},
      {"SELECT count(*) FROM sales", true},
      {"SELECT count(*), sum(amount) FROM sales WHERE region = 'N'", true},
      {"SELECT count(*) FROM sales WHERE region = 'nowhere'", true},
      {"SELECT sum(qty) FROM sales WHERE region = 'nowhere'", true},
      {"SELECT avg(price) FROM sales WHERE region = 'nowhere'", true},
      {"SELECT region, sum(amount) FROM sales WHERE day >= DATE '2025-02-01' GROUP BY region", true},
      {"SELECT date_trunc('month', day) AS m, sum(amount) FROM sales GROUP BY 1 ORDER BY 1", true},
      {"SELECT region, count_if(amount > 500) FROM sales GROUP BY region", true},
      {"SELECT region, count(*) FROM sales WHERE product IN ('p1', 'p3') GROUP BY region", true},
      {"SELECT region, count(*) FROM sales GROUP BY region HAVING count(*) > 50", true},
      {"SELECT region, sum(amount) FROM sales WHERE qty > 10 GROUP BY region", true},
      {"SELECT sum(amount) FROM sales WHERE qty > 10", true},
      {"SELECT min(day), max(day), max(product) FROM sales", true},
      {"SELECT region IS NULL AS unknown, count(*) FROM sales GROUP BY 1", true},
      {"SELECT upper(region), sum(qty) FROM sales WHERE region IS NOT NULL GROUP BY upper(region)", true},
      {"SELECT * FROM (SELECT region, sum(amount) AS s FROM sales GROUP BY region) t WHERE s > 0", true},
      {"SELECT region, count(*) FROM sales GROUP BY region LIMIT 2", true},
      {"SELECT region, avg(price) AS ap, sum(qty) AS q FROM sales WHERE day < DATE '2025-03-01' GROUP BY region ORDER BY region", true},
      // count(DISTINCT): from the view at its own grouping, from its side table when coarser.
      {"SELECT region, product, count(DISTINCT day) FROM sales GROUP BY region, product", true},
      {"SELECT product, region, count(DISTINCT day), count(*) FROM sales GROUP BY product, region", true},
      {"SELECT region, count(DISTINCT day) FROM sales GROUP BY region", true},
      {"SELECT count(DISTINCT day) FROM sales", true},
      {"SELECT count(DISTINCT day) FROM sales WHERE region = 'N'", true},
      {"SELECT product, count(DISTINCT day) FROM sales WHERE region IN ('N', 'S') GROUP BY product", true},
      {"SELECT count(DISTINCT day) FROM sales WHERE region = 'nowhere'", true},
      // approx_distinct: sketches merged across the coarser grouping.
      {"SELECT region, approx_distinct(price) FROM sales GROUP BY region", true},
      {"SELECT approx_distinct(price) FROM sales WHERE product = 'p1'", true},
      {"SELECT approx_distinct(price) FROM sales WHERE product = 'nowhere'", true},
      // Joins: the same join tree, grouping on (or coarser than) the view's keys.
      {"SELECT p.category, count(*) FROM sales s JOIN products p ON s.product = p.product GROUP BY p.category", true},
      {"SELECT s.region, sum(s.qty) FROM sales s JOIN products p ON s.product = p.product "
       "WHERE p.category = 'food' GROUP BY s.region", true},
      // Not answerable from any view:
      {"SELECT region, count(DISTINCT qty) FROM sales GROUP BY region", true},
      {"SELECT count(DISTINCT qty) FROM sales WHERE product <> 'p2'", true},
      {"SELECT region, count(DISTINCT qty), count(*) FROM sales GROUP BY region", false},  // side holds no count(*)
      {"SELECT region, count(DISTINCT price) FROM sales GROUP BY region", false},          // not kept
      {"SELECT region, approx_distinct(price, 0.01) FROM sales GROUP BY region", false},   // other precision
      {"SELECT region, approx_distinct(qty) FROM sales GROUP BY region", false},           // not kept
      {"SELECT p.category, count(*) FROM sales s LEFT JOIN products p ON s.product = p.product GROUP BY p.category", false},
      {"SELECT p.tier, count(*) FROM sales s JOIN products p ON s.product = p.product GROUP BY p.tier", false},
      {"SELECT p.category, count(*) FROM sales s JOIN products p ON s.product = p.product WHERE s.qty > 3 "
       "GROUP BY p.category", false},  // filter on a non-key
      {"SELECT region, count(*) FROM sales WHERE amount > 100 GROUP BY region", false},  // filter on a non-key
      {"SELECT region, price, count(*) FROM sales GROUP BY region, price", false},       // finer grouping
      {"SELECT region, count(DISTINCT product) FROM sales GROUP BY region", true},      // a key of daily
      {"SELECT count(DISTINCT day), sum(qty) FROM sales WHERE region = 'E'", true},     // a key of daily
      {"SELECT region, avg(amount) FROM sales GROUP BY region", false},                  // no count(amount)
      {"SELECT region, max(price) FROM sales GROUP BY region", false},                   // max(price) not kept
      {"SELECT region, stddev(amount) FROM sales GROUP BY region", false},               // not re-aggregable
      {"SELECT region, sum(amount) FROM sales WHERE qty > 11 GROUP BY region", false},   // other filter
      {"SELECT region, product FROM sales", false},                                      // no aggregation
  };
  // Equal, except doubles may differ in the last bits (parallel partial sums add in any order):
  // within 1e-9 relative, as the issue allows.
  auto same = [](const std::string& a, const std::string& b) {
    auto cells = [](const std::string& t) {
      std::vector<std::string> out;
      std::string cur;
      for (char ch : t) {
        if (ch == '|' || ch == '\n') {
          out.push_back(cur);
          cur.clear();
        } else {
          cur += ch;
        }
      }
      out.push_back(cur);
      return out;
    };
    auto x = cells(a), y = cells(b);
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (x[i] == y[i]) continue;
      char* ex = nullptr;
      char* ey = nullptr;
      double dx = std::strtod(x[i].c_str(), &ex), dy = std::strtod(y[i].c_str(), &ey);
      if (x[i].empty() || y[i].empty() || *ex || *ey) return false;
      if (std::fabs(dx - dy) > 1e-9 * std::max(std::fabs(dx), std::fabs(dy))) return false;
    }
    return true;
  };
  for (const auto& c : cases) {
    std::string with = Sorted(Run(c.sql));
    std::string without = Sorted(Run(c.sql, false));
    EXPECT_TRUE(same(with, without)) << c.sql << "\n" << with << "\nvs\n" << without;
    EXPECT_EQ(with.find("ERROR"), std::string::npos) << c.sql << ": " << with;
    std::string plan = Run("EXPLAIN " + c.sql);
    bool used = plan.find("answers the aggregation") != std::string::npos;
    EXPECT_EQ(used, c.uses_view) << c.sql << "\n" << plan;
  }
  // The smallest fitting view answers, and EXPLAIN says why the others did not.
  std::string plan = Run("EXPLAIN SELECT region, sum(amount) FROM sales GROUP BY region");
  EXPECT_NE(plan.find("by_region answers"), std::string::npos) << plan;
  EXPECT_NE(plan.find("not daily: by_region is smaller"), std::string::npos) << plan;
  EXPECT_NE(plan.find("not big_qty: its WHERE condition"), std::string::npos) << plan;
  // A stale view is not used, unless the engine allows that much staleness.
  Load(Rows(10, 22));
  plan = Run("EXPLAIN SELECT region, sum(amount) FROM sales GROUP BY region");
  EXPECT_EQ(plan.find("answers"), std::string::npos) << plan;
  EXPECT_NE(plan.find("stale: it reflects base snapshot 2, the query reads 3"), std::string::npos) << plan;
  {
    EngineOptions o;
    o.materialized_view_max_staleness_ms = 3600 * 1000;
    auto e = Engine::OpenLake(store_.get(), cat_.get(), o);
    ASSERT_TRUE(e.ok());
    plan = RowsText(**e, "EXPLAIN SELECT region, sum(amount) FROM sales GROUP BY region");
    EXPECT_NE(plan.find("by_region answers"), std::string::npos) << plan;
  }
  Message("REFRESH MATERIALIZED VIEW by_region");
  EXPECT_EQ(Sorted(Run("SELECT region, sum(amount) FROM sales GROUP BY region")),
            Sorted(Run("SELECT region, sum(amount) FROM sales GROUP BY region", false)));
  EXPECT_NE(Run("EXPLAIN SELECT region, sum(amount) FROM sales GROUP BY region").find("by_region answers"),
            std::string::npos);
  // A join view is used only while the dimension table is at the snapshot it reflects.
  const std::string by_category =
      "SELECT p.category, count(*) FROM sales s JOIN products p ON s.product = p.product GROUP BY p.category";
  Message("REFRESH MATERIALIZED VIEW by_cat");
  EXPECT_NE(Run("EXPLAIN " + by_category).find("by_cat answers"), std::string::npos);
  ChangeProducts();
  plan = Run("EXPLAIN " + by_category);
  EXPECT_EQ(plan.find("by_cat answers"), std::string::npos) << plan;
  EXPECT_NE(plan.find("not by_cat: dimension table products is at snapshot 2, the view reflects 1"), std::string::npos) << plan;
  EXPECT_EQ(Sorted(Run(by_category)), Sorted(Run(by_category, false)));
}

TEST_F(MatViewTest, CountDistinctKeepsASideTable) {
  CreateBase();
  ASSERT_EQ(Message("CREATE MATERIALIZED VIEW u AS SELECT region, product, count(DISTINCT day) AS dd, "
                    "count(DISTINCT qty) AS dq FROM sales GROUP BY region, product").rfind("CREATE MATERIALIZED VIEW", 0), 0u);
  // One side table per count(DISTINCT) column, an ordinary lake table.
  for (const char* side : {"u__distinct_0", "u__distinct_1"}) {
    auto meta = cat_->LoadTable(side);
    ASSERT_TRUE(meta.ok()) << side;
    EXPECT_EQ((*meta)->spec.properties.at("matview.side_of"), "u");
    EXPECT_EQ((*meta)->spec.properties.at("matview.base_snapshot"), "1");
  }
  std::string pairs = Run("SELECT count(*) FROM u__distinct_0 WHERE _mv_vid IS NOT NULL");
  EXPECT_EQ(pairs.find("ERROR"), std::string::npos) << pairs;
  const std::string coarse = "SELECT region, count(DISTINCT day) AS n FROM sales GROUP BY region";
  Load(Rows(40, 31, false, true));
  std::string plan = Run("EXPLAIN REFRESH u");
  EXPECT_NE(plan.find("count(DISTINCT"), std::string::npos) << plan;
  EXPECT_NE(plan.find("side table u__distinct_0 (add the new (group, value) pairs"), std::string::npos) << plan;
  EXPECT_NE(Message("REFRESH MATERIALIZED VIEW u").find("incremental"), std::string::npos);
  EXPECT_EQ((*cat_->LoadTable("u__distinct_1"))->spec.properties.at("matview.last_refresh"), "incremental");
  EXPECT_NE(Run("EXPLAIN " + coarse).find("u answers"), std::string::npos);
  EXPECT_EQ(Sorted(Run(coarse)), Sorted(Run(coarse, false)));
  // A side table at another base snapshot than the view is not used for rewrite.
  SetProperty("u__distinct_0", "matview.base_snapshot", "1");
  plan = Run("EXPLAIN " + coarse);
  EXPECT_EQ(plan.find("u answers"), std::string::npos) << plan;
  EXPECT_NE(plan.find("at another base snapshot than the view"), std::string::npos) << plan;
  EXPECT_EQ(Sorted(Run(coarse)), Sorted(Run(coarse, false)));
  // A refresh cut short between the side tables' commit and the view's leaves a side table
  // ahead of the view; the next refresh merges into it all the same.
  Load(Rows(40, 32));
  SetProperty("u__distinct_0", "matview.base_snapshot", "3");
  EXPECT_NE(Message("REFRESH MATERIALIZED VIEW u").find("incremental"), std::string::npos);
  EXPECT_EQ(Sorted(Run("SELECT region, product, dd, dq FROM u")),
            Sorted(Run("SELECT region, product, count(DISTINCT day), count(DISTINCT qty) FROM sales GROUP BY region, product", false)));
  EXPECT_EQ(Sorted(Run(coarse)), Sorted(Run(coarse, false)));
  EXPECT_NE(Run("EXPLAIN " + coarse).find("u answers"), std::string::npos);
  // A side table the view cannot trust (behind the view) is rebuilt from the base.
  Load(Rows(10, 33));
  SetProperty("u__distinct_1", "matview.base_snapshot", "1");
  EXPECT_NE(Message("REFRESH MATERIALIZED VIEW u").find("incremental"), std::string::npos);
  EXPECT_EQ((*cat_->LoadTable("u__distinct_1"))->spec.properties.at("matview.last_refresh"), "full");
  EXPECT_EQ(Sorted(Run("SELECT region, product, dd, dq FROM u")),
            Sorted(Run("SELECT region, product, count(DISTINCT day), count(DISTINCT qty) FROM sales GROUP BY region, product", false)));
  // A user's table with a side table's name blocks CREATE; DROP takes the side tables along.
  Message("CREATE TABLE w__distinct_0 AS SELECT 1 AS x");
  EXPECT_NE(Message("CREATE MATERIALIZED VIEW w AS SELECT region, count(DISTINCT day) AS n FROM sales GROUP BY region")
                .find("needs that name"), std::string::npos);
  EXPECT_EQ(Message("DROP MATERIALIZED VIEW u"), "DROP MATERIALIZED VIEW");
  EXPECT_FALSE(cat_->LoadTable("u__distinct_0").ok());
  EXPECT_FALSE(cat_->LoadTable("u__distinct_1").ok());
  auto left = store_->List("processed_data/u__distinct_0/");
  EXPECT_TRUE(!left.ok() || left->empty());
}

// A refresh whose added rows bring no new (group, x) pair leaves the side tables uncommitted
// (an empty commit costs a catalog write and its syncs); the view's commit records the side
// tables' snapshots, so that the rewrite and the next refresh take them as at the view's base
// snapshot. A later commit to a side table (here a property set, as a refresh cut short would
// leave it) makes its own base snapshot count again.
TEST_F(MatViewTest, NoNewPairsLeaveTheSideTablesUncommitted) {
  CreateBase();
  ASSERT_EQ(Message("CREATE MATERIALIZED VIEW u AS SELECT region, count(DISTINCT product) AS dp, count(*) AS n "
                    "FROM sales GROUP BY region").rfind("CREATE MATERIALIZED VIEW", 0), 0u);
  ASSERT_EQ(Message("CREATE MATERIALIZED VIEW t AS SELECT count(DISTINCT product) AS dp FROM sales")
                .rfind("CREATE MATERIALIZED VIEW", 0), 0u);
  const std::string truth_u = "SELECT region, count(DISTINCT product), count(*) FROM sales GROUP BY region";
  const std::string truth_t = "SELECT count(DISTINCT product) FROM sales";
  const std::string coarse = "SELECT count(DISTINCT product) AS n FROM sales WHERE region IN ('N', 'S')";
  auto version = [&](const std::string& table) {
    auto meta = cat_->LoadTable(table);
    EXPECT_TRUE(meta.ok()) << table;
    return meta.ok() ? (*meta)->version : -1;
  };
  auto check = [&](const std::string& when) {
    EXPECT_EQ(Sorted(Run("SELECT region, dp, n FROM u", false)), Sorted(Run(truth_u, false))) << when;
    EXPECT_EQ(Run("SELECT dp FROM t", false), Run(truth_t, false)) << when;
    std::string plan = Run("EXPLAIN " + coarse);
    EXPECT_NE(plan.find("u answers"), std::string::npos) << when << "\n" << plan;
    EXPECT_EQ(Run(coarse), Run(coarse, false)) << when;
  };
  for (int load = 0; load < 2; ++load) {
    // The base's first rows again: every pair is in the side tables already.
    const int64_t side_u = version("u__distinct_0"), side_t = version("t__distinct_0");
    const int64_t values_u = version("u__values_0");
    Load(Rows(200, 1));
    for (const char* v : {"u", "t"})
      ASSERT_NE(Message(std::string("REFRESH MATERIALIZED VIEW ") + v).find("incremental"), std::string::npos) << v;
    EXPECT_EQ(version("u__distinct_0"), side_u) << "load " << load;
    EXPECT_EQ(version("t__distinct_0"), side_t) << "load " << load;
    EXPECT_EQ(version("u__values_0"), values_u) << "load " << load;
    check("load " + std::to_string(load));
  }
  // A new region: new pairs for u, appended as before (its side table is taken as at the view's
  // base snapshot: not rebuilt); still none for t (the products are the old ones).
  const int64_t side_t = version("t__distinct_0");
  Load(Rows(30, 7, true));
  ASSERT_NE(Message("REFRESH MATERIALIZED VIEW u").find("incremental"), std::string::npos);
  ASSERT_NE(Message("REFRESH MATERIALIZED VIEW t").find("incremental"), std::string::npos);
  EXPECT_EQ((*cat_->LoadTable("u__distinct_0"))->spec.properties.at("matview.last_refresh"), "incremental");
  EXPECT_EQ(version("t__distinct_0"), side_t);
  check("new pairs");
  // No new pairs again, then a commit to the side table behind the view's back: its own (older)
  // base snapshot applies, the rewrite does not use it, and the next refresh rebuilds it.
  Load(Rows(200, 1));
  ASSERT_NE(Message("REFRESH MATERIALIZED VIEW u").find("incremental"), std::string::npos);
  SetProperty("u__distinct_0", "matview.refreshed_ms", "0");
  std::string plan = Run("EXPLAIN " + coarse);
  EXPECT_NE(plan.find("at another base snapshot than the view"), std::string::npos) << plan;
  EXPECT_EQ(Run(coarse), Run(coarse, false));
  Load(Rows(20, 8));
  ASSERT_NE(Message("REFRESH MATERIALIZED VIEW u").find("incremental"), std::string::npos);
  EXPECT_EQ((*cat_->LoadTable("u__distinct_0"))->spec.properties.at("matview.last_refresh"), "full");
  check("after a commit behind the view's back");
}

// count(DISTINCT x) at a grouping coarser than the view's counts the side table's value ids in
// a bitmap per group ($count_distinct_ids), across the side table's appended files, with NULL x
// (not counted), NULL keys, filters on the view's keys and expressions of them.
TEST_F(MatViewTest, CoarserCountDistinctCountsIdBitmaps) {
  CreateBase();
  Load(Rows(300, 21, false, true));
  ASSERT_EQ(Message("CREATE MATERIALIZED VIEW u AS SELECT region, product, count(DISTINCT qty) AS dq "
                    "FROM sales GROUP BY region, product").rfind("CREATE MATERIALIZED VIEW", 0), 0u);
  const std::vector<std::string> queries = {
      "SELECT region, count(DISTINCT qty) FROM sales GROUP BY region",
      "SELECT product, count(DISTINCT qty) AS n FROM sales GROUP BY product",
      "SELECT count(DISTINCT qty) FROM sales",
      "SELECT count(DISTINCT qty) FROM sales WHERE region = 'N'",
      "SELECT count(DISTINCT qty) FROM sales WHERE region = 'nowhere'",
      "SELECT upper(region), count(DISTINCT qty) FROM sales WHERE product IN ('p1', 'p3') GROUP BY upper(region)",
      "SELECT region IS NULL, count(DISTINCT qty) FROM sales GROUP BY 1",
  };
  for (int load = 0; load < 3; ++load) {
    Load(Rows(60, 50 + static_cast<uint32_t>(load), load == 1, true));
    ASSERT_NE(Message("REFRESH MATERIALIZED VIEW u").find("incremental"), std::string::npos);
    // The refresh appended only pairs the side table lacked (NULL x included): the pairs stay
    // distinct, so counting their ids per coarser group is exact.
    EXPECT_EQ(Run("SELECT count(*) FROM u__distinct_0", false),
              Run("SELECT count(*) FROM (SELECT DISTINCT region, product, qty FROM sales) x", false))
        << "load " << load;
    for (const auto& q : queries) {
      std::string plan = Run("EXPLAIN " + q);
      EXPECT_NE(plan.find("u answers"), std::string::npos) << q << "\n" << plan;
      EXPECT_NE(plan.find("$count_distinct_ids"), std::string::npos) << q << "\n" << plan;
      EXPECT_EQ(Sorted(Run(q)), Sorted(Run(q, false))) << "load " << load << ": " << q;
    }
  }
}

// Bitmaps of ids are used only while they are no larger than the general count(DISTINCT)'s pair
// sets: 100 groups of 1,000 distinct values each (ids up to 99,999) would take 100 x 12.5 KB per
// worker against 100,000 pairs of 8 bytes, so the side table is counted the general way.
TEST_F(MatViewTest, CoarserCountDistinctWithoutBitmapsWhenTheyWouldBeLarge) {
  const std::string digits = "(VALUES 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)";
  ASSERT_EQ(Message("CREATE TABLE wide AS SELECT v % 100 AS g, v FROM (SELECT a.x + 10 * b.x + 100 * c.x + "
                    "1000 * d.x + 10000 * e.x AS v FROM " + digits + " a(x) CROSS JOIN " + digits + " b(x) CROSS JOIN " +
                    digits + " c(x) CROSS JOIN " + digits + " d(x) CROSS JOIN " + digits + " e(x)) t")
                .substr(0, 12), "CREATE TABLE");
  ASSERT_EQ(Message("CREATE MATERIALIZED VIEW w AS SELECT g, count(DISTINCT v) AS n FROM wide GROUP BY g")
                .rfind("CREATE MATERIALIZED VIEW", 0), 0u);
  for (const std::string q : {"SELECT count(DISTINCT v) FROM wide", "SELECT g % 2, count(DISTINCT v) FROM wide GROUP BY 1"}) {
    std::string plan = Run("EXPLAIN " + q);
    EXPECT_NE(plan.find("w answers"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("$count_distinct_ids"), std::string::npos) << plan;
    EXPECT_NE(plan.find("count(DISTINCT"), std::string::npos) << plan;
    EXPECT_EQ(Sorted(Run(q)), Sorted(Run(q, false))) << q;
  }
}

// An incremental refresh appends only the pairs the side table lacks, as one more file, and
// counts from the view's stored counts; past 16 files the side table is rewritten as one.
TEST_F(MatViewTest, CountDistinctSideTableGrowsByAppendsAndIsCompacted) {
  CreateBase();
  ASSERT_EQ(Message("CREATE MATERIALIZED VIEW c AS SELECT region, count(DISTINCT day) AS dd, count(*) AS n "
                    "FROM sales GROUP BY region").rfind("CREATE MATERIALIZED VIEW", 0), 0u);
  const std::string truth = "SELECT region, count(DISTINCT day), count(*) FROM sales GROUP BY region";
  auto side_files = [&] {
    auto meta = cat_->LoadTable("c__distinct_0");
    EXPECT_TRUE(meta.ok());
    auto files = cat_->ListFiles(**meta);
    EXPECT_TRUE(files.ok());
    return files.ok() ? files->size() : size_t{0};
  };
  const size_t built = side_files();
  size_t most = built;
  for (int load = 0; load < 20; ++load) {
    // Three loads in four bring a new region (new pairs: one more file); every fourth repeats
    // the first load's seed, whose pairs the side table holds already.
    bool fresh = load % 4 != 3;
    Load(Rows(20 + load, fresh ? 40 + static_cast<uint32_t>(load) : 40, fresh, load % 5 == 2));
    std::string msg = Message("REFRESH MATERIALIZED VIEW c");
    ASSERT_NE(msg.find("incremental"), std::string::npos) << "load " << load << ": " << msg;
    ASSERT_EQ(Sorted(Run("SELECT region, dd, n FROM c")), Sorted(Run(truth, false))) << "load " << load;
    size_t now = side_files();
    if (load == 0) {
      EXPECT_GT(now, built) << "the first load's new pairs are appended as a file";
    }
    most = std::max(most, now);
  }
  EXPECT_EQ(most, 16u) << "a side table of 16 files is rewritten as one on its next refresh";
  EXPECT_LT(side_files(), most);
  // The pairs stay distinct through appends and rewrites.
  EXPECT_EQ(Run("SELECT count(*) FROM c__distinct_0", false),
            Run("SELECT count(*) FROM (SELECT DISTINCT region, day FROM sales) x", false));
}

// A side table stores each x as its id in the view's value dictionary `<view>__values_<j>`
// (each distinct x once, ids 0, 1, 2, ...): joined back to it, the side table holds exactly the
// distinct (group, x) pairs of the base, across incremental refreshes, a dictionary left ahead of
// its side table (a crash between their commits), a refresh that falls back to full (a replaced
// file; the ids stay), and a lost dictionary (the side table is rebuilt from the base).
TEST_F(MatViewTest, SideTablesKeepValueIdsAcrossRefreshes) {
  CreateBase();
  const std::string def =
      "SELECT region, count(DISTINCT qty) AS dq, count(DISTINCT amount) AS da, count(*) AS n FROM sales GROUP BY region";
  ASSERT_EQ(Message("CREATE MATERIALIZED VIEW d AS " + def).rfind("CREATE MATERIALIZED VIEW", 0), 0u);
  auto check = [&](const std::string& when) {
    EXPECT_EQ(Sorted(Run("SELECT region, dq, da, n FROM d", false)), Sorted(Run(def, false))) << when;
    for (const char* x : {"qty", "amount"}) {
      const std::string j = std::string(x) == "qty" ? "0" : "1";
      const std::string values = "d__values_" + j;
      EXPECT_EQ(Sorted(Run("SELECT s.region, v._mv_value FROM d__distinct_" + j + " s LEFT JOIN " + values +
                           " v ON s._mv_vid = v._mv_vid", false)),
                Sorted(Run(std::string("SELECT DISTINCT region, ") + x + " FROM sales", false)))
          << when << ": " << x;
      EXPECT_EQ(Run("SELECT count(DISTINCT _mv_value), count(DISTINCT _mv_vid), max(_mv_vid) + 1, min(_mv_vid) FROM " +
                    values, false),
                Run("SELECT count(*), count(*), count(*), 0 FROM " + values, false))
          << when << ": " << values << " holds each value once, ids 0, 1, ...";
    }
  };
  check("built");
  Load(Rows(100, 2));
  ASSERT_NE(Message("REFRESH MATERIALIZED VIEW d").find("incremental"), std::string::npos);
  check("load 1");
  Load(Rows(60, 4, false, /*null_keys=*/true));
  ASSERT_NE(Message("REFRESH MATERIALIZED VIEW d").find("incremental"), std::string::npos);
  EXPECT_EQ((*cat_->LoadTable("d__distinct_0"))->spec.properties.at("matview.last_refresh"), "incremental");
  check("load 2 (NULL keys)");
  // A dictionary ahead of its side table: it has qty 77 (no row has it yet) under the next id.
  const std::string next = Run("SELECT max(_mv_vid) + 1 FROM d__values_0", false);
  ASSERT_EQ(Message("INSERT INTO d__values_0 VALUES (77, " + next.substr(0, next.size() - 1) + ")").substr(0, 6),
            "INSERT");
  Load("('N', 'p1', DATE '2025-01-11', 77, 5.5, 7), " + Rows(20, 5));
  ASSERT_NE(Message("REFRESH MATERIALIZED VIEW d").find("incremental"), std::string::npos);
  EXPECT_EQ(Run("SELECT _mv_vid FROM d__values_0 WHERE _mv_value = 77", false), next);
  check("load 3 (a value the dictionary had already)");
  // A replaced file: the refresh is full; the side tables are rebuilt, the dictionaries kept.
  const std::string ids_before = Sorted(Run("SELECT _mv_value, _mv_vid FROM d__values_1", false));
  {
    auto meta = cat_->LoadTable("sales");
    auto files = cat_->ListFiles(**meta);
    ASSERT_TRUE(files.ok());
    std::string victim = files->front().key;
    auto c = cat_->Commit("sales", [&](const catalog::TableMetadata&) -> Result<catalog::TableChange> {
      catalog::TableChange ch;
      ch.operation = "replace";
      ch.remove_files = {victim};
      return ch;
    });
    ASSERT_TRUE(c.ok()) << c.status().ToString();
  }
  ASSERT_NE(Message("REFRESH MATERIALIZED VIEW d").find("full: "), std::string::npos);
  EXPECT_EQ((*cat_->LoadTable("d__distinct_1"))->spec.properties.at("matview.last_refresh"), "full");
  const std::string ids_after = Sorted(Run("SELECT _mv_value, _mv_vid FROM d__values_1", false));
  size_t pos = 0;
  while (pos < ids_before.size()) {
    size_t nl = ids_before.find('\n', pos);
    std::string line = ids_before.substr(pos, nl - pos + 1);
    EXPECT_NE(ids_after.find(line), std::string::npos) << "value and id " << line << " kept";
    pos = nl + 1;
  }
  check("load 4 (replaced file: full)");
  Load(Rows(40, 6));
  ASSERT_NE(Message("REFRESH MATERIALIZED VIEW d").find("incremental"), std::string::npos);
  EXPECT_EQ((*cat_->LoadTable("d__distinct_1"))->spec.properties.at("matview.last_refresh"), "incremental");
  check("load 5 (incremental after full)");
  // A lost dictionary (or a side table of an older format, without one): the side table is
  // rebuilt from the base, the view still merges incrementally.
  ASSERT_TRUE(cat_->DropTable("d__values_0").ok());
  Load(Rows(30, 7, false, true));
  ASSERT_NE(Message("REFRESH MATERIALIZED VIEW d").find("incremental"), std::string::npos);
  EXPECT_EQ((*cat_->LoadTable("d__distinct_0"))->spec.properties.at("matview.last_refresh"), "full");
  EXPECT_EQ((*cat_->LoadTable("d__distinct_1"))->spec.properties.at("matview.last_refresh"), "incremental");
  check("load 6 (lost dictionary)");
  // The rewrite answers count(DISTINCT) at a coarser grouping from the side table's ids.
  const std::string coarse = "SELECT count(DISTINCT amount) FROM sales";
  EXPECT_NE(Run("EXPLAIN " + coarse).find("d answers"), std::string::npos);
  EXPECT_EQ(Run(coarse), Run(coarse, false));
  EXPECT_EQ(Message("DROP MATERIALIZED VIEW d"), "DROP MATERIALIZED VIEW");
  for (const char* t : {"d__distinct_0", "d__values_0", "d__distinct_1", "d__values_1"})
    EXPECT_FALSE(cat_->LoadTable(t).ok()) << t;
  // Without GROUP BY keys each x is one pair: the side table keeps x itself, no dictionary.
  ASSERT_EQ(Message("CREATE MATERIALIZED VIEW g AS SELECT count(DISTINCT amount) AS n FROM sales").rfind("CREATE", 0), 0u);
  Load(Rows(20, 8));
  ASSERT_NE(Message("REFRESH MATERIALIZED VIEW g").find("incremental"), std::string::npos);
  EXPECT_FALSE(cat_->LoadTable("g__values_0").ok());
  EXPECT_EQ(Run("SELECT count(*) FROM g__distinct_0 WHERE _mv_value IS NOT NULL", false),
            Run("SELECT count(DISTINCT amount) FROM sales", false));
  EXPECT_EQ(Run("SELECT n FROM g", false), Run("SELECT count(DISTINCT amount) FROM sales", false));
}

// A partitioned view: a refresh reads and rewrites only the partitions the added rows fall in;
// the files of the others stay as they are. Exact after every load (a new partition, NULL keys).
TEST_F(MatViewTest, PartitionedViewRewritesOnlyTheTouchedPartitions) {
  CreateBase();
  const std::string def =
      "SELECT region, day, count(*) AS n, sum(amount) AS s, avg(qty) AS aq, max(price) AS mp, "
      "count(DISTINCT product) AS dp FROM sales GROUP BY region, day";
  std::string msg = Message("CREATE MATERIALIZED VIEW pv WITH (partitioned_by = ARRAY['region']) AS " + def);
  ASSERT_EQ(msg.rfind("CREATE MATERIALIZED VIEW", 0), 0u) << msg;
  auto files = [&] {  // partition path -> its files
    std::map<std::string, std::set<std::string>> out;
    auto meta = cat_->LoadTable("pv");
    EXPECT_TRUE(meta.ok());
    auto list = cat_->ListFiles(**meta);
    EXPECT_TRUE(list.ok());
    for (const auto& f : *list) out[f.PartitionPath()].insert(f.key);
    return out;
  };
  // `n` rows in `region` (a SQL expression).
  auto rows_in = [](const std::string& region, int n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::string v;
    for (int i = 0; i < n; ++i)
      v += fmt::format("{}({}, 'p{}', DATE '2025-0{}-1{}', {}, {}, {})", i ? ", " : "", region, rng() % 7,
                       1 + rng() % 3, rng() % 9, rng() % 50, static_cast<double>(rng() % 4000) / 4.0,
                       static_cast<int>(rng() % 100) - 20);
    return v;
  };
  auto check = [&](const std::string& when, const std::set<std::string>& changed) {
    auto before = files();
    std::string m = Message("REFRESH MATERIALIZED VIEW pv");
    ASSERT_NE(m.find("incremental"), std::string::npos) << when << ": " << m;
    auto after = files();
    for (const auto& [path, keys] : before) {
      if (changed.count(path)) {
        EXPECT_NE(after[path], keys) << when << ": partition " << path << " was not rewritten";
      } else {
        EXPECT_EQ(after[path], keys) << when << ": partition " << path << " was rewritten";
      }
    }
    for (const auto& [path, keys] : after)
      if (!before.count(path)) {
        EXPECT_TRUE(changed.count(path)) << when << ": new partition " << path;
      }
    EXPECT_EQ(Sorted(Run("SELECT region, day, n, s, aq, mp, dp FROM pv", false)), Sorted(Run(def, false))) << when;
  };
  ASSERT_EQ(files().size(), 4u);  // N, S, E, W
  Load(rows_in("'N'", 30, 61));
  check("load 1 (one region)", {"region=N"});
  Load(rows_in("'Z'", 5, 62));
  check("load 2 (a new region)", {"region=Z"});
  Load(rows_in("CAST(NULL AS VARCHAR)", 7, 63));
  check("load 3 (NULL keys)", {"region=__HIVE_DEFAULT_PARTITION__"});
  Load(rows_in("'S'", 10, 64) + ", " + rows_in("CAST(NULL AS VARCHAR)", 3, 65) + ", " + rows_in("'N'", 4, 66));
  check("load 4 (three regions)", {"region=S", "region=N", "region=__HIVE_DEFAULT_PARTITION__"});
  EXPECT_EQ(files().size(), 6u);
  // The rewrite still answers from the view, exactly.
  const std::string q = "SELECT region, sum(amount), count(*) FROM sales GROUP BY region";
  EXPECT_NE(Run("EXPLAIN " + q).find("pv answers"), std::string::npos);
  EXPECT_EQ(Sorted(Run(q)), Sorted(Run(q, false)));
}

// A side table of more than kSideFileRows pairs, and a value dictionary of more than
// kSideFileRows values, are written as several files (read in parallel by the next refreshes);
// appends and counts stay exact.
TEST_F(MatViewTest, LargeSideTableIsWrittenInPartsAndStaysExact) {
  const std::string digits = "(VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9))";
  auto numbers = [&](int from, int count_tens_of_thousands) {
    return fmt::format("SELECT a.d * 10000 + b.d * 1000 + c.d * 100 + e.d * 10 + f.d + {} AS n "
                       "FROM {} AS a(d), {} AS b(d), {} AS c(d), {} AS e(d), {} AS f(d) WHERE a.d < {}",
                       from, digits, digits, digits, digits, digits, count_tens_of_thousands);
  };
  // 140,000 distinct numbers: more than two side-table files' worth of pairs.
  ASSERT_EQ(Message("CREATE TABLE big AS " + numbers(0, 10) + " UNION ALL " + numbers(100000, 4)).substr(0, 12),
            "CREATE TABLE");
  const std::string def = "SELECT n % 5 AS g, count(DISTINCT n) AS d, count(*) AS c FROM big GROUP BY n % 5";
  ASSERT_EQ(Message("CREATE MATERIALIZED VIEW bigv AS " + def).rfind("CREATE MATERIALIZED VIEW", 0), 0u);
  auto side = cat_->LoadTable("bigv__distinct_0");
  ASSERT_TRUE(side.ok());
  auto side_files = cat_->ListFiles(**side);
  ASSERT_TRUE(side_files.ok());
  EXPECT_GE(side_files->size(), 2u);
  // Its value dictionary (140,000 values) is written in parts too: refreshes stream it on
  // several workers.
  auto values = cat_->LoadTable("bigv__values_0");
  ASSERT_TRUE(values.ok());
  auto values_files = cat_->ListFiles(**values);
  ASSERT_TRUE(values_files.ok());
  EXPECT_GE(values_files->size(), 2u);
  // Loads: values already there (half of them), and new ones.
  for (int load = 0; load < 3; ++load) {
    ASSERT_EQ(Message("INSERT INTO big " + numbers(130000 + load * 5000, 1)).substr(0, 6), "INSERT");
    std::string m = Message("REFRESH MATERIALIZED VIEW bigv");
    ASSERT_NE(m.find("incremental"), std::string::npos) << m;
    EXPECT_EQ(Sorted(Run("SELECT g, d, c FROM bigv", false)), Sorted(Run(def, false))) << "load " << load;
  }
  EXPECT_EQ(Run("SELECT count(*) FROM bigv__distinct_0", false), Run("SELECT count(DISTINCT n) FROM big", false));
}

TEST_F(MatViewTest, ApproxDistinctStaysWithinTheErrorBound) {
  // 10,000 distinct numbers per load, in 3 groups: every group's sketch is dense.
  const std::string digits = "(VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9))";
  auto numbers = [&](int load) {
    return fmt::format("SELECT a.d * 1000 + b.d * 100 + c.d * 10 + e.d + {} AS n "
                       "FROM {} AS a(d), {} AS b(d), {} AS c(d), {} AS e(d)",
                       load * 10000, digits, digits, digits, digits);
  };
  ASSERT_EQ(Message("CREATE TABLE nums AS " + numbers(0)).substr(0, 12), "CREATE TABLE");
  ASSERT_EQ(Message("CREATE MATERIALIZED VIEW hll AS SELECT n % 3 AS g, approx_distinct(n) AS a, count(DISTINCT n) AS c "
                    "FROM nums GROUP BY n % 3").rfind("CREATE MATERIALIZED VIEW", 0), 0u);
  for (int load = 1; load <= 4; ++load) {
    ASSERT_EQ(Message("INSERT INTO nums " + numbers(load)).substr(0, 6), "INSERT");
    ASSERT_NE(Message("REFRESH MATERIALIZED VIEW hll").find("incremental"), std::string::npos);
    // Merged sketches give exactly approx_distinct over the base rows...
    EXPECT_EQ(Sorted(Run("SELECT g, a FROM hll")),
              Sorted(Run("SELECT n % 3, approx_distinct(n) FROM nums GROUP BY n % 3", false)));
    EXPECT_EQ(Run("SELECT approx_distinct(n) FROM nums"), Run("SELECT approx_distinct(n) FROM nums", false));
    EXPECT_NE(Run("EXPLAIN SELECT approx_distinct(n) FROM nums").find("hll answers"), std::string::npos);
    // ...which is within three standard errors (Trino's default 2.3%) of the exact count.
    auto engine = Fresh(false);
    auto r = engine->Execute("SELECT a, c FROM hll");
    ASSERT_TRUE(r.ok());
    for (const auto& b : r->result.batches)
      for (size_t i = 0; i < b.num_rows; ++i) {
        double a = static_cast<double>(b.columns[0].GetValue<int64_t>(i));
        double c = static_cast<double>(b.columns[1].GetValue<int64_t>(i));
        EXPECT_GT(c, 3000.0);
        EXPECT_LE(std::fabs(a - c) / c, 3 * 0.023) << a << " vs " << c;
      }
  }
}

TEST_F(MatViewTest, JoinViewsFollowTheirDimensionTables) {
  CreateBase();
  CreateProducts();
  const std::string def =
      "SELECT p.category, s.region, count(*) AS n, sum(s.price) AS sp FROM sales s JOIN products p "
      "ON s.product = p.product GROUP BY p.category, s.region";
  std::string msg = Message("CREATE MATERIALIZED VIEW jv AS " + def);
  ASSERT_EQ(msg.rfind("CREATE MATERIALIZED VIEW", 0), 0u) << msg;
  EXPECT_EQ(msg.find("notice"), std::string::npos) << msg;
  EXPECT_EQ((*cat_->LoadTable("jv"))->spec.properties.at("matview.dimensions"), "products=1");
  Load(Rows(30, 41));
  EXPECT_NE(Run("EXPLAIN REFRESH jv").find("refresh: incremental"), std::string::npos);
  EXPECT_NE(Message("REFRESH MATERIALIZED VIEW jv").find("incremental"), std::string::npos);
  ChangeProducts();
  std::string plan = Run("EXPLAIN REFRESH jv");
  EXPECT_NE(plan.find("refresh: full"), std::string::npos) << plan;
  EXPECT_NE(plan.find("dimension table 'products' changed (snapshot 1 -> 2)"), std::string::npos) << plan;
  EXPECT_NE(Run("SHOW MATERIALIZED VIEWS").find("stale (dimension table 'products' changed"), std::string::npos);
  msg = Message("DROP TABLE products");
  EXPECT_NE(msg.find("(jv)"), std::string::npos) << msg;
  EXPECT_NE(Message("REFRESH MATERIALIZED VIEW jv").find("full: dimension table 'products' changed"), std::string::npos);
  EXPECT_EQ(Sorted(Run("SELECT category, region, n, sp FROM jv")), Sorted(Run(def, false)));
  EXPECT_EQ((*cat_->LoadTable("jv"))->spec.properties.at("matview.dimensions"), "products=2");
  // Right and full joins are refreshed in full only (CREATE says so).
  msg = Message("CREATE MATERIALIZED VIEW rj AS SELECT p.category, count(*) AS n FROM sales s RIGHT JOIN products p "
                "ON s.product = p.product GROUP BY p.category");
  EXPECT_NE(msg.find("notice: full refresh only (RIGHT and FULL joins"), std::string::npos) << msg;
  EXPECT_EQ(Sorted(Run("SELECT category, n FROM rj")),
            Sorted(Run("SELECT p.category, count(*) AS n FROM sales s RIGHT JOIN products p ON s.product = p.product "
                       "GROUP BY p.category", false)));
}


// The lake's store, counting the reads of each object (OpenRead calls).
class CountingStore final : public saleslake::testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<std::unique_ptr<io::RandomAccessFile>> OpenRead(std::string_view k) const override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++opens_[std::string(k)];
    }
    return base_->OpenRead(k);
  }
  // Reads of the objects under `prefix`, per key.
  std::map<std::string, int> Opens(const std::string& prefix) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::map<std::string, int> out;
    for (const auto& [k, n] : opens_)
      if (k.rfind(prefix, 0) == 0) out[k] = n;
    return out;
  }

 private:
  mutable std::mutex mu_;
  mutable std::map<std::string, int> opens_;
};

// The lake's store, recording in order the writes of data files (durable or unsynced), their
// syncs and the catalog's metadata publishes.
class WriteRecordingStore final : public saleslake::testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<std::unique_ptr<io::OutputStream>> OpenWrite(std::string_view k) override {
    Record("durable", k);
    return base_->OpenWrite(k);
  }
  Result<std::unique_ptr<io::OutputStream>> OpenWriteUnsynced(std::string_view k) override {
    Record("unsynced", k);
    return base_->OpenWriteUnsynced(k);
  }
  Status Sync(std::string_view k) override {
    Record("sync", k);
    return base_->Sync(k);
  }
  Status PutIfAbsent(std::string_view k, std::string_view d) override {
    Status s = base_->PutIfAbsent(k, d);
    if (s.ok() && k.find("/metadata/") != std::string_view::npos) Record("publish", k);
    return s;
  }
  std::vector<std::pair<std::string, std::string>> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(events_, {});
  }

 private:
  void Record(const char* what, std::string_view k) {
    std::lock_guard<std::mutex> lock(mu_);
    events_.emplace_back(what, std::string(k));
  }
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> events_;
};

// A refresh writes the view's files (and its side tables') without syncs of their own and the
// commit that adds them syncs each before it publishes: one round of syncs fewer, the same
// durability. Incremental and full, partitioned, with side tables; the views stay exact.
TEST_F(MatViewTest, RefreshSyncsItsUnsyncedFilesBeforeEachPublish) {
  CreateBase();
  const std::vector<std::pair<std::string, std::string>> views = {
      {"dur_part", "CREATE MATERIALIZED VIEW dur_part WITH (partitioned_by = ARRAY['region']) AS "
                   "SELECT region, day, count(*) AS n, sum(amount) AS s FROM sales GROUP BY region, day"},
      {"dur_side", "CREATE MATERIALIZED VIEW dur_side AS SELECT region, count(DISTINCT product) AS dp, "
                   "count(*) AS n FROM sales GROUP BY region"},
  };
  WriteRecordingStore rec(store_.get());
  auto rec_cat = catalog::Catalog::Open(&rec);
  ASSERT_TRUE(rec_cat.ok());
  auto run = [&](const std::string& sql) {
    auto e = Engine::OpenLake(&rec, rec_cat->get(), {});
    ASSERT_TRUE(e.ok());
    auto r = (*e)->Execute(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  };
  // Every data file written since the last check was written unsynced and synced once, after
  // its write and before the next publish; returns how many.
  auto check = [&](const std::string& step) {
    auto events = rec.Take();
    std::map<std::string, int> pending;  // unsynced file -> syncs so far
    size_t files = 0, publishes = 0;
    for (const auto& [what, key] : events) {
      if (key.rfind("processed_data/", 0) != 0 && what != "publish") continue;
      if (what == "durable") {
        ADD_FAILURE() << step << ": " << key << " written with its own syncs";
      } else if (what == "unsynced") {
        pending[key] = 0;
        ++files;
      } else if (what == "sync") {
        EXPECT_TRUE(pending.count(key)) << step << ": sync of " << key << " before (or without) its write";
        ++pending[key];
      } else {
        ++publishes;
        for (const auto& [k, n] : pending) EXPECT_EQ(n, 1) << step << ": " << k << " at the publish of " << key;
        pending.clear();
      }
    }
    EXPECT_TRUE(pending.empty()) << step << ": files written after the last publish";
    EXPECT_GT(files, 0u) << step;
    EXPECT_GT(publishes, 0u) << step;
  };
  for (const auto& [name, create] : views) {
    run(create);
    check("create " + name);
  }
  for (int load = 0; load < 2; ++load) {
    Load(Rows(30, 900 + load));
    Load(Rows(10, 950 + load, true));
    rec.Take();
    for (const auto& [name, create] : views) {
      run("REFRESH MATERIALIZED VIEW " + name);
      check("incremental refresh of " + name);
      run("REFRESH MATERIALIZED VIEW " + name + " FULL");
      check("full refresh of " + name);
    }
  }
  EXPECT_EQ(Sorted(Run("SELECT region, day, n, s FROM dur_part", false)),
            Sorted(Run("SELECT region, day, count(*) AS n, sum(amount) AS s FROM sales GROUP BY region, day", false)));
  EXPECT_EQ(Sorted(Run("SELECT region, dp, n FROM dur_side", false)),
            Sorted(Run("SELECT region, count(DISTINCT product) AS dp, count(*) AS n FROM sales GROUP BY region", false)));
}

// An incremental refresh of a view with count(DISTINCT) columns reads each added file once: the
// view's state and every side's pairs come from one scan of the added files (SharedScan), with
// a WHERE and a join as well; the result stays exact.
TEST_F(MatViewTest, IncrementalRefreshReadsEachAddedFileOnce) {
  CreateBase();
  CreateProducts();
  const std::vector<std::string> defs = {
      "SELECT region, count(DISTINCT product) AS dp, count(DISTINCT day) AS dd, count(*) AS n, "
      "sum(amount) AS s, approx_distinct(qty) AS aq FROM sales WHERE qty > 3 GROUP BY region",
      "SELECT count(DISTINCT price) AS dp, max(amount) AS hi FROM sales",
      "SELECT p.category, count(DISTINCT s.region) AS dr, sum(s.qty) AS q FROM sales s "
      "JOIN products p ON s.product = p.product GROUP BY p.category",
  };
  for (size_t i = 0; i < defs.size(); ++i)
    ASSERT_EQ(Message(fmt::format("CREATE MATERIALIZED VIEW once{} AS {}", i, defs[i])).rfind("CREATE MATERIALIZED VIEW", 0), 0u);
  for (int load = 0; load < 2; ++load) {
    auto before = cat_->LoadTable("sales");
    ASSERT_TRUE(before.ok());
    auto old_files = cat_->ListFiles(**before);
    ASSERT_TRUE(old_files.ok());
    Load(Rows(40, 300 + load));
    Load(Rows(30, 400 + load, true));
    auto after = cat_->LoadTable("sales");
    ASSERT_TRUE(after.ok());
    auto now_files = cat_->ListFiles(**after);
    ASSERT_TRUE(now_files.ok());
    std::set<std::string> added;
    for (const auto& f : *now_files) added.insert(f.key);
    for (const auto& f : *old_files) added.erase(f.key);
    ASSERT_EQ(added.size(), 2u);
    for (size_t i = 0; i < defs.size(); ++i) {
      CountingStore counting(store_.get());
      auto e = Engine::OpenLake(&counting, cat_.get(), {});
      ASSERT_TRUE(e.ok());
      auto r = (*e)->Execute(fmt::format("REFRESH MATERIALIZED VIEW once{}", i));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_NE(r->message.find("incremental"), std::string::npos) << r->message;
      auto opens = counting.Opens("processed_data/sales/");
      for (const auto& key : added) EXPECT_EQ(opens[key], 1) << defs[i] << ": " << key;
      EXPECT_EQ(opens.size(), added.size()) << defs[i];
      EXPECT_EQ(Sorted(Run(fmt::format("SELECT {} FROM once{}", Columns(*Fresh(false), defs[i]), i), false)),
                Sorted(Run(defs[i], false)))
          << defs[i] << ", load " << load;
    }
  }
}

// Over a partitioned base table the shared scan of the added files hands out the partition
// columns (constant vectors) and NULL partition values to the state and the pairs; exact.
TEST_F(MatViewTest, SharedScanOfAPartitionedBaseStaysExact) {
  ASSERT_EQ(Message("CREATE TABLE psales WITH (partitioned_by = ARRAY['region']) AS SELECT * FROM (VALUES " +
                    Rows(120, 701, false, true) + ") AS t(region, product, day, qty, amount, price)").substr(0, 12),
            "CREATE TABLE");
  const std::string def =
      "SELECT region, count(DISTINCT product) AS dp, count(DISTINCT region) AS dr, count(*) AS n, "
      "sum(amount) AS s FROM psales GROUP BY region";
  ASSERT_EQ(Message("CREATE MATERIALIZED VIEW pmv AS " + def).rfind("CREATE MATERIALIZED VIEW", 0), 0u);
  for (int load = 0; load < 3; ++load) {
    // The partition column is stored last.
    std::string m0 = Message("INSERT INTO psales SELECT product, day, qty, amount, price, region FROM (VALUES " +
                             Rows(60, 710 + load, load == 1, true) + ") AS t(region, product, day, qty, amount, price)");
    ASSERT_EQ(m0.substr(0, 6), "INSERT") << m0;
    std::string m = Message("REFRESH MATERIALIZED VIEW pmv");
    ASSERT_NE(m.find("incremental"), std::string::npos) << m;
    EXPECT_EQ(Sorted(Run("SELECT region, dp, dr, n, s FROM pmv", false)), Sorted(Run(def, false))) << "load " << load;
  }
}

// A view's tables that hold the count(DISTINCT) values themselves (value dictionaries, side
// tables without keys), which refreshes stream whole, are written uncompressed: decoding them is
// then a copy, not ZSTD. Side tables of value ids keep ZSTD.
TEST_F(MatViewTest, ValueTablesAreWrittenUncompressed) {
  CreateBase();
  ASSERT_EQ(Message("CREATE MATERIALIZED VIEW sv AS SELECT region, count(DISTINCT product) AS dp FROM sales "
                    "GROUP BY region").rfind("CREATE MATERIALIZED VIEW", 0), 0u);
  ASSERT_EQ(Message("CREATE MATERIALIZED VIEW tv AS SELECT count(DISTINCT product) AS dp FROM sales")
                .rfind("CREATE MATERIALIZED VIEW", 0), 0u);
  Load(Rows(20, 501));
  ASSERT_NE(Message("REFRESH MATERIALIZED VIEW sv").find("incremental"), std::string::npos);
  ASSERT_NE(Message("REFRESH MATERIALIZED VIEW tv").find("incremental"), std::string::npos);
  for (const auto& [table, codec] : std::vector<std::pair<std::string, std::string>>{
           {"sv__values_0", "UNCOMPRESSED"}, {"tv__distinct_0", "UNCOMPRESSED"}, {"sv__distinct_0", "ZSTD"}}) {
    auto meta = cat_->LoadTable(table);
    ASSERT_TRUE(meta.ok()) << table;
    auto files = cat_->ListFiles(**meta);
    ASSERT_TRUE(files.ok());
    ASSERT_FALSE(files->empty()) << table;
    for (const auto& f : *files) {
      auto file = store_->OpenRead(f.key);
      ASSERT_TRUE(file.ok());
      auto reader = parquet::ParquetReader::Open(std::shared_ptr<const io::RandomAccessFile>(std::move(*file)));
      ASSERT_TRUE(reader.ok());
      std::string meta_text = (*reader)->DescribeMetadata(false);
      const std::string other = codec == "ZSTD" ? "UNCOMPRESSED" : "ZSTD";
      EXPECT_NE(meta_text.find("codec " + codec), std::string::npos) << table << "\n" << meta_text;
      EXPECT_EQ(meta_text.find("codec " + other), std::string::npos) << table << "\n" << meta_text;
    }
  }
  // The view itself keeps the default codec (other engines read it as any lake table).
  auto view = cat_->LoadTable("sv");
  ASSERT_TRUE(view.ok());
  EXPECT_EQ((*view)->spec.properties.count(kCompressionProperty), 0u);
}

}  // namespace
}  // namespace saleslake::sql
