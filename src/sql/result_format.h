// Printing query results: aligned tables (REPL / terminal), CSV (as `cat` prints it: header,
// RFC 4180 quoting, empty field for NULL) and JSON (an array of objects).
// Thread safety: pure functions.
#pragma once

#include <string>

#include "sql/sql.h"

namespace saleslake::sql {

// Text of one cell; NULL gives `null_text`.
std::string CellText(const ColumnVector& v, size_t row, const std::string& null_text = "NULL");

std::string FormatCsv(const MaterializedResult& r);
std::string FormatJson(const MaterializedResult& r);
// Aligned table plus "(N rows)" footer; numbers right-aligned.
// With seconds >= 0 the footer also gives the elapsed time.
std::string FormatTable(const MaterializedResult& r, double seconds = -1);

}  // namespace saleslake::sql
