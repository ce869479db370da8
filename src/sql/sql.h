// The SQL engine facade: parse -> bind -> optimize -> execute, for the Trino/Athena dialect.
// This is the only header other modules (cli, etl, server) should include from src/sql.
//
//   auto engine = sql::Engine::Open({.catalog = my_catalog});
//   auto result = (*engine)->Execute("SELECT region, sum(amount) FROM sales_data GROUP BY 1");
//
// Thread safety: an Engine may run many statements concurrently as long as its catalog allows
// concurrent reads; DDL statements (CREATE VIEW, DROP ...) go through the CatalogWriter, which
// must synchronise itself.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sql/exec/executor.h"
#include "sql/planner/plan.h"

namespace saleslake::sql {

struct EngineOptions {
  std::shared_ptr<const Catalog> catalog;  // required
  std::shared_ptr<CatalogWriter> writer;   // optional (DDL)
  ExecOptions exec;
  bool optimize = true;
};

struct StatementResult {
  QueryResult result;     // rows (SELECT, EXPLAIN, SHOW, DESCRIBE)
  bool has_rows = true;   // false for DDL; then `message` says what happened
  std::string message;
  double seconds = 0;
};

class Engine {
 public:
  // kInvalidArgument when options.catalog is null.
  static Result<std::unique_ptr<Engine>> Open(EngineOptions options);

  // Runs one statement. Errors carry "line L:C" positions for bad SQL.
  Result<StatementResult> Execute(std::string_view sql) const;
  // Runs a ';'-separated script; returns the result of every statement (stops at the first error).
  Result<std::vector<StatementResult>> ExecuteScript(std::string_view sql) const;
  // The optimized plan of a query (tests, EXPLAIN).
  Result<PlanPtr> Plan(std::string_view sql) const;

  const EngineOptions& options() const { return options_; }

 private:
  explicit Engine(EngineOptions options) : options_(std::move(options)) {}
  EngineOptions options_;
};

// A CatalogWriter over a MemoryCatalog (tests, scratch sessions).
std::shared_ptr<CatalogWriter> MakeMemoryCatalogWriter(std::shared_ptr<MemoryCatalog> catalog);

}  // namespace saleslake::sql
