// Helpers shared by the SQL unit tests.
#pragma once

#include <string>

#include "sql/result_format.h"
#include "sql/sql.h"

namespace saleslake::sql::testutil {

// Runs `sql`; its rows as "a|b" lines in result order (NULL as "NULL"), or "ERROR: message".
inline std::string RowsText(const Engine& engine, const std::string& sql) {
  auto r = engine.Execute(sql);
  if (!r.ok()) return "ERROR: " + r.status().message();
  std::string out;
  for (const auto& b : r->result.batches)
    for (size_t i = 0; i < b.num_rows; ++i) {
      for (size_t c = 0; c < b.columns.size(); ++c) out += (c ? "|" : "") + CellText(b.columns[c], i);
      out += "\n";
    }
  return out;
}

}  // namespace saleslake::sql::testutil
