// System tables: read-only tables whose rows a module above sql makes when a statement reads
// them — the server's query history (`system.queries`), stream metrics, ... The engine knows only
// this registry; what fills a table lives in the module that owns the data, so sql does not
// depend upward. A second table is one Register call. Tables live in the schemas `system`
// (`system.runtime` too) and `information_schema`, as in Trino.
//
//   auto tables = std::make_shared<sql::SystemTables>();
//   EngineOptions options;
//   options.system_tables = tables;                         // or Engine::OpenLake(store, cat, options)
//   tables->Register("system.queries", schema, [&]() -> Result<sql::SystemTableRows> { return rows; });
//   engine->Execute("SELECT state, count(*) FROM system.queries GROUP BY 1");
//
// Names: a table registered as "system.queries" is read as `system.queries` or, with the catalog
// in front as Trino clients write it, `lake.system.queries`; likewise "system.runtime.nodes" and
// "information_schema.tables". A statement sees the rows its producer returned when the
// statement was planned.
// Thread safety: every method may be called from any thread at once, also while statements run;
// producers are called on the threads that plan statements and must synchronise themselves.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "common/types.h"
#include "common/value.h"

namespace saleslake::sql {

// Rows of a system table: one Value per column of its schema, of that column's type, or NULL.
using SystemTableRows = std::vector<std::vector<Value>>;
using SystemTableProducer = std::function<Result<SystemTableRows>()>;

class SystemTables {
 public:
  // Adds the table `name` ("system.<...>" or "information_schema.<...>", any case). kAlreadyExists
  // when taken, kInvalidArgument for another schema or an empty schema.
  Status Register(const std::string& name, Schema schema, SystemTableProducer rows);
  // Removes it (a service that stops); unknown names are ignored.
  void Unregister(const std::string& name);
  // Every table's name, sorted.
  std::vector<std::string> Names() const;

  struct Entry {
    std::string name;  // as registered, lower case
    Schema schema;
    SystemTableProducer rows;
  };
  // The table a statement names ("system.queries", "lake.system.queries"; any case), or nullopt
  // when the name is not a registered system table.
  // Whether a name is in one of the system schemas (registered or not).
  static bool IsSystemName(const std::string& qualified_name);
  std::optional<Entry> Find(const std::string& qualified_name) const;

 private:
  mutable Mutex mu_;
  std::map<std::string, Entry> tables_ SL_GUARDED_BY(mu_);
};

}  // namespace saleslake::sql
