// System tables: a module above sql registers a table and its producer; statements read it as
// system.<name> (also lake.system.<name>) beside the catalog's tables, with the rows of the moment
// they are planned.
#include "sql/sql.h"

#include <gtest/gtest.h>

#include <atomic>

#include "sql/exec/executor.h"  // MemoryCatalog: inside src/sql
#include "sql/internal/memory_writer.h"
#include "sql/sql.h"
#include "sql_test_util.h"

namespace saleslake::sql {
namespace {

Schema QueriesSchema() {
  Schema s;
  s.fields.push_back(Field{"query_id", DataType::Varchar(), false});
  s.fields.push_back(Field{"rows", DataType::Int64(), true});
  s.fields.push_back(Field{"created", DataType::Timestamp(), true});
  return s;
}

class SystemTablesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = std::make_shared<MemoryCatalog>();
    auto engine = Engine::Open({.catalog = catalog_, .writer = MakeMemoryCatalogWriter(catalog_),
                                .system_tables = tables_});
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    ASSERT_TRUE(engine_->Execute("CREATE TABLE queries AS SELECT 'not the system table' AS note").ok());
  }

  std::string Run(const std::string& sql) { return testutil::RowsText(*engine_, sql); }

  std::shared_ptr<MemoryCatalog> catalog_;
  std::shared_ptr<SystemTables> tables_ = std::make_shared<SystemTables>();
  std::unique_ptr<Engine> engine_;
};

TEST_F(SystemTablesTest, ATableRegisteredAfterTheEngineOpenedIsReadWithTheRowsOfTheMoment) {
  std::atomic<int> calls{0};
  ASSERT_TRUE(tables_->Register("system.queries", QueriesSchema(), [&]() -> Result<SystemTableRows> {
    int n = ++calls;
    SystemTableRows rows;
    for (int i = 0; i < n; ++i) {
      rows.push_back({Value::Varchar("q" + std::to_string(i)), i == 0 ? Value::Null(DataType::Int64()) : Value::Int64(i * 10),
                      Value::Timestamp(1'750'000'000'000'000 + i)});
    }
    return rows;
  }).ok());
  EXPECT_EQ(Run("SELECT query_id, rows FROM system.queries ORDER BY query_id"), "q0|NULL\n");
  EXPECT_EQ(Run("SELECT count(*), sum(rows) FROM lake.system.queries"), "2|10\n");
  EXPECT_EQ(Run("SELECT count(*) FROM SYSTEM.QUERIES WHERE created > TIMESTAMP '2025-01-01 00:00:00'"), "3\n");
  // The unqualified name is still the catalog's table.
  EXPECT_EQ(Run("SELECT note FROM queries"), "not the system table\n");
  // A second table is one call; both are listed.
  Schema nodes;
  nodes.fields.push_back(Field{"node_id", DataType::Varchar(), false});
  ASSERT_TRUE(tables_->Register("system.runtime.nodes", nodes, []() -> Result<SystemTableRows> {
    return SystemTableRows{{Value::Varchar("saleslake")}};
  }).ok());
  EXPECT_EQ(Run("SELECT node_id FROM system.runtime.nodes"), "saleslake\n");
  EXPECT_EQ(tables_->Names(), (std::vector<std::string>{"system.queries", "system.runtime.nodes"}));
}

TEST_F(SystemTablesTest, UnknownNamesProducerErrorsAndBadRowsFail) {
  auto missing = engine_->Execute("SELECT * FROM system.nothing");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("line 1:15"), std::string::npos) << missing.status().ToString();
  EXPECT_EQ(tables_->Register("", QueriesSchema(), nullptr).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(tables_->Register("queries", QueriesSchema(), nullptr).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(tables_->Register("system.broken", QueriesSchema(), []() -> Result<SystemTableRows> {
    return Status::Aborted("history is closed");
  }).ok());
  EXPECT_EQ(tables_->Register("SYSTEM.BROKEN", QueriesSchema(), nullptr).code(), StatusCode::kAlreadyExists);
  auto broken = engine_->Execute("SELECT * FROM system.broken");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("history is closed"), std::string::npos);
  ASSERT_TRUE(tables_->Register("system.wrong", QueriesSchema(), []() -> Result<SystemTableRows> {
    return SystemTableRows{{Value::Int64(1), Value::Int64(2), Value::Timestamp(0)}};
  }).ok());
  EXPECT_EQ(engine_->Execute("SELECT * FROM system.wrong").status().code(), StatusCode::kInternal);
  tables_->Unregister("system.broken");
  EXPECT_EQ(engine_->Execute("SELECT * FROM system.broken").status().code(), StatusCode::kInvalidArgument);
}

// SHOW CATALOGS/SCHEMAS answer from information_schema.schemata (whoever registers it names the
// catalogs and schemas); SHOW TABLES FROM a system schema lists its system tables.
TEST_F(SystemTablesTest, ShowCatalogsSchemasAndTablesFromReadTheRegisteredSchemata) {
  auto needs = engine_->Execute("SHOW SCHEMAS");
  ASSERT_FALSE(needs.ok());
  EXPECT_EQ(needs.status().code(), StatusCode::kNotImplemented);
  Schema schemata;
  schemata.fields.push_back(Field{"catalog_name", DataType::Varchar(), false});
  schemata.fields.push_back(Field{"schema_name", DataType::Varchar(), false});
  ASSERT_TRUE(tables_->Register("information_schema.schemata", schemata, []() -> Result<SystemTableRows> {
    return SystemTableRows{{Value::Varchar("lake"), Value::Varchar("system")},
                           {Value::Varchar("lake"), Value::Varchar("sales")},
                           {Value::Varchar("lake"), Value::Varchar("information_schema")}};
  }).ok());
  ASSERT_TRUE(tables_->Register("system.queries", QueriesSchema(), []() -> Result<SystemTableRows> {
    return SystemTableRows{};
  }).ok());
  EXPECT_EQ(Run("SHOW CATALOGS"), "lake\n");
  EXPECT_EQ(Run("show catalogs like 'x%'"), "");
  EXPECT_EQ(Run("SHOW SCHEMAS"), "information_schema\nsales\nsystem\n");
  EXPECT_EQ(Run("SHOW SCHEMAS FROM lake LIKE 's%'"), "sales\nsystem\n");
  EXPECT_EQ(Run("SHOW TABLES FROM lake.sales"), "queries\n");
  EXPECT_EQ(Run("SHOW TABLES IN sales LIKE 'q%'"), "queries\n");
  EXPECT_EQ(Run("SHOW TABLES FROM lake.information_schema"), "schemata\n");
  EXPECT_EQ(Run("SHOW TABLES FROM system"), "queries\n");
  auto shown = engine_->Execute("SHOW SCHEMAS");
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(shown->result.schema[0].name, "Schema");
  auto bad_catalog = engine_->Execute("SHOW SCHEMAS FROM hive");
  ASSERT_FALSE(bad_catalog.ok());
  EXPECT_EQ(bad_catalog.status().code(), StatusCode::kNotFound);
  EXPECT_NE(bad_catalog.status().message().find("Catalog 'hive' does not exist"), std::string::npos);
  auto bad_schema = engine_->Execute("SHOW TABLES FROM lake.nowhere");
  ASSERT_FALSE(bad_schema.ok());
  EXPECT_NE(bad_schema.status().message().find("Schema 'nowhere' does not exist"), std::string::npos);
  EXPECT_FALSE(engine_->Execute("SHOW TABLES FROM a.b.c").ok());
}

}  // namespace
}  // namespace saleslake::sql
