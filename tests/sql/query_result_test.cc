// sql::QueryResult, the facade's streaming result: schema before rows, batches pulled one at a
// time, the same rows as Execute, cancellation, errors, and statements without rows.
#include <gtest/gtest.h>

#include "sql/exec/executor.h"  // MemoryCatalog, MemoryTable: inside src/sql
#include "sql/internal/memory_writer.h"
#include "sql/sql.h"

namespace saleslake::sql {
namespace {

// n rows of (id BIGINT), one morsel per kBatchRows rows.
std::shared_ptr<MemoryTable> Ids(int64_t n) {
  Schema schema;
  schema.fields.push_back(Field{"id", DataType::Int64(), true});
  Batch b;
  b.num_rows = static_cast<size_t>(n);
  ColumnVector id(DataType::Int64(), static_cast<size_t>(n));
  id.Resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) id.data<int64_t>()[i] = i;
  b.columns.push_back(std::move(id));
  std::vector<Batch> batches;
  batches.push_back(std::move(b));
  return MemoryTable::Make("ids", schema, std::move(batches), kBatchRows);
}

class QueryResultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = std::make_shared<MemoryCatalog>();
    catalog_->AddTable(Ids(5 * static_cast<int64_t>(kBatchRows) + 7));
    auto engine = Engine::Open({.catalog = catalog_, .writer = MakeMemoryCatalogWriter(catalog_)});
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
  }

  std::shared_ptr<MemoryCatalog> catalog_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(QueryResultTest, SchemaBeforeRowsThenBatchesOneAtATime) {
  auto r = engine_->Query("SELECT id, id * 2 AS twice, 'x' AS tag FROM ids WHERE id % 2 = 0");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Schema& schema = (*r)->schema();
  ASSERT_EQ(schema.size(), 3u);
  EXPECT_EQ(schema[0].name, "id");
  EXPECT_EQ(schema[1].name, "twice");
  EXPECT_EQ(schema[2].name, "tag");
  EXPECT_EQ(schema[0].type.id, TypeId::kInt64);
  EXPECT_EQ(schema[2].type.id, TypeId::kVarchar);

  size_t batches = 0, rows = 0;
  int64_t sum = 0;
  Batch b;
  while (true) {
    auto more = (*r)->Next(&b);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    ++batches;
    ASSERT_GT(b.num_rows, 0u);
    ASSERT_EQ(b.columns.size(), 3u);
    EXPECT_FALSE(b.selection);
    rows += b.num_rows;
    for (size_t i = 0; i < b.num_rows; ++i) sum += GetValueAt(b.columns[1], i).int_value();
  }
  const int64_t n = 5 * static_cast<int64_t>(kBatchRows) + 7;
  const int64_t evens = (n + 1) / 2;
  EXPECT_EQ(rows, static_cast<size_t>(evens));
  EXPECT_EQ(sum, 2 * (evens - 1) * evens);  // 2 * (0 + 2 + ... + 2(evens-1))
  EXPECT_GT(batches, 1u);
  // At the end it stays at the end.
  auto again = (*r)->Next(&b);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

TEST_F(QueryResultTest, MaterializeGivesWhatExecuteGives) {
  const std::string sql = "SELECT id % 3 AS k, count(*) AS n FROM ids GROUP BY 1 ORDER BY 1";
  auto executed = engine_->Execute(sql);
  ASSERT_TRUE(executed.ok()) << executed.status().ToString();
  auto r = engine_->Query(sql);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto all = (*r)->Materialize();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->num_rows(), executed->result.num_rows());
  ASSERT_EQ(all->num_rows(), 3u);
  const Batch one = ConcatBatches(all->schema, all->batches);
  const Batch want = ConcatBatches(executed->result.schema, executed->result.batches);
  for (size_t c = 0; c < 2; ++c)
    for (size_t i = 0; i < 3; ++i)
      EXPECT_EQ(GetValueAt(one.columns[c], i).Compare(GetValueAt(want.columns[c], i)), 0);
}

TEST_F(QueryResultTest, CancelBeforeTheFirstBatchStopsTheQuery) {
  auto r = engine_->Query("SELECT count(*) FROM ids a CROSS JOIN ids b");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  (*r)->Cancel();
  Batch b;
  auto more = (*r)->Next(&b);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().code(), StatusCode::kCancelled);
  // Sticky: the result stays failed.
  EXPECT_EQ((*r)->Next(&b).status().code(), StatusCode::kCancelled);
}

TEST_F(QueryResultTest, CancelBetweenBatchesStopsTheRest) {
  auto r = engine_->Query("SELECT id FROM ids");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Batch b;
  auto first = (*r)->Next(&b);
  ASSERT_TRUE(first.ok() && *first);
  (*r)->Cancel();
  EXPECT_EQ((*r)->Next(&b).status().code(), StatusCode::kCancelled);
}

TEST_F(QueryResultTest, BadSqlFailsAtQueryWithAPosition) {
  auto r = engine_->Query("SELECT nope FROM ids");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 1:8"), std::string::npos) << r.status().message();
}

TEST_F(QueryResultTest, RuntimeErrorsComeFromNext) {
  auto r = engine_->Query("SELECT 1 / (id - id) FROM ids");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Batch b;
  auto more = (*r)->Next(&b);
  EXPECT_FALSE(more.ok());
}

TEST_F(QueryResultTest, StatementsWithoutRowsGiveAMessage) {
  auto r = engine_->Query("CREATE VIEW small AS SELECT id FROM ids WHERE id < 3");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->message(), "CREATE VIEW");
  EXPECT_EQ((*r)->schema().size(), 0u);
  Batch b;
  auto more = (*r)->Next(&b);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
  auto rows = engine_->Query("SELECT id FROM small ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  auto all = (*rows)->Materialize();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->num_rows(), 3u);
}

TEST_F(QueryResultTest, CreateTableAndInsertThroughTheEngine) {
  Schema schema;
  schema.fields.push_back(Field{"v", DataType::Int64(), true});
  Batch b;
  b.num_rows = 2;
  ColumnVector v(DataType::Int64(), 2);
  v.Resize(2);
  v.data<int64_t>()[0] = 10;
  v.data<int64_t>()[1] = 20;
  b.columns.push_back(std::move(v));
  std::vector<Batch> data;
  data.push_back(std::move(b));
  ASSERT_TRUE(engine_->CreateTable("t", schema, data).ok());
  EXPECT_EQ(engine_->CreateTable("t", schema, data).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(engine_->InsertInto("t", schema, data).ok());
  auto r = engine_->Execute("SELECT sum(v) FROM t");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(GetValueAt(r->result.batches[0].columns[0], 0).int_value(), 60);

  auto read_only = Engine::Open({.catalog = catalog_});
  ASSERT_TRUE(read_only.ok());
  EXPECT_EQ((*read_only)->CreateTable("u", schema, data).code(), StatusCode::kNotImplemented);
}

}  // namespace
}  // namespace saleslake::sql
