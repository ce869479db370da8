#include <gtest/gtest.h>

#include <atomic>

#include "sql/exec/executor.h"  // MemoryCatalog: inside src/sql
#include "sql/sql.h"

namespace saleslake::sql {
namespace {

SystemTableRows Numbers(int64_t n) {
  SystemTableRows r;
  r.schema.fields = {{"n", DataType::Int64(), false}, {"name", DataType::Varchar(), true}};
  Batch b(r.schema, static_cast<size_t>(n));
  b.SetRows(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    b.columns[0].data<int64_t>()[i] = i;
    if (i % 2) b.columns[1].SetString(static_cast<size_t>(i), "odd");
    else b.columns[1].SetNull(static_cast<size_t>(i));
  }
  r.batches.push_back(std::move(b));
  return r;
}

std::string One(const Engine& e, const std::string& sql) {
  auto r = e.Execute(sql);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok() || r->result.batches.empty()) return "";
  return std::to_string(r->result.batches[0].columns[0].data<int64_t>()[0]);
}

TEST(SystemTablesTest, RegisteredTablesAreComputedPerStatementAndGoWithTheirHandle) {
  auto engine = Engine::Open({.catalog = std::make_shared<MemoryCatalog>()});
  ASSERT_TRUE(engine.ok());
  EXPECT_NE((*engine)->Execute("SELECT * FROM system.test_numbers").status().message().find("not found"),
            std::string::npos);
  std::atomic<int64_t> rows{3};
  {
    auto handle = RegisterSystemTable("test_numbers", [&]() -> Result<SystemTableRows> { return Numbers(rows); });
    EXPECT_EQ(One(**engine, "SELECT count(*) FROM system.test_numbers"), "3");
    rows = 10;  // each statement asks again: the next read sees the new rows
    EXPECT_EQ(One(**engine, "SELECT sum(n) FROM SYSTEM.TEST_NUMBERS WHERE name IS NULL"), "20");
    EXPECT_EQ(SystemTableNames(), std::vector<std::string>{"system.test_numbers"});
    // A later registration shadows the first until it goes.
    {
      auto inner = RegisterSystemTable("test_numbers", []() -> Result<SystemTableRows> { return Numbers(1); });
      EXPECT_EQ(One(**engine, "SELECT count(*) FROM system.test_numbers"), "1");
    }
    EXPECT_EQ(One(**engine, "SELECT count(*) FROM system.test_numbers"), "10");
    // A failing provider fails the statement with its error.
    auto failing = RegisterSystemTable("test_failing", []() -> Result<SystemTableRows> {
      return Status::IOError("log unreadable");
    });
    auto r = (*engine)->Execute("SELECT * FROM system.test_failing");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("log unreadable"), std::string::npos);
  }
  EXPECT_NE((*engine)->Execute("SELECT * FROM system.test_numbers").status().message().find("not found"),
            std::string::npos);
  EXPECT_TRUE(SystemTableNames().empty());
}

}  // namespace
}  // namespace saleslake::sql
