// libFuzzer target: arbitrary text through the SQL parser and, when it parses, the binder and the
// optimizer against a small in-memory catalog. Must never crash, hang or leak; errors are fine.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sql/exec/executor.h"  // MemoryCatalog, MemoryTable, ExecutePlan: inside src/sql
#include "sql/optimizer/optimizer.h"
#include "sql/parser/parser.h"
#include "sql/planner/binder.h"
#include "sql/sql.h"

namespace {

std::shared_ptr<saleslake::sql::MemoryCatalog> MakeCatalog() {
  using namespace saleslake;
  auto cat = std::make_shared<sql::MemoryCatalog>();
  Schema s;
  s.fields = {{"id", DataType::Int64()}, {"region", DataType::Varchar()},
              {"amount", DataType::Double()}, {"price", DataType::Decimal(10, 2)},
              {"day", DataType::Date()}, {"ts", DataType::Timestamp()}, {"ok", DataType::Boolean()}};
  cat->AddTable(sql::MemoryTable::Make("sales", s, {}));
  cat->AddView("v", "SELECT region, sum(amount) AS total FROM sales GROUP BY region");
  return cat;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto catalog = MakeCatalog();
  std::string_view sql(reinterpret_cast<const char*>(data), size);
  auto st = saleslake::sql::ParseStatement(sql);
  if (!st.ok() || !(*st)->query) return 0;
  auto plan = saleslake::sql::BindQuery(*(*st)->query, *catalog);
  if (!plan.ok()) return 0;
  auto opt = saleslake::sql::Optimize(*plan);
  (void)opt;
  // Executing over the empty table is cheap and exercises the operators' empty-input paths.
  if (opt.ok()) (void)saleslake::sql::ExecutePlan(*opt, {});
  return 0;
}
