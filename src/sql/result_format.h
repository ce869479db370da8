// Printing query results: aligned tables (REPL / terminal), CSV (as `cat` prints it: header,
// RFC 4180 quoting, empty field for NULL) and JSON (an array of objects).
// Thread safety: pure functions.
#pragma once

#include <string>

#include "sql/exec/executor.h"

namespace saleslake::sql {

// Text of one cell; NULL gives `null_text`.
std::string CellText(const ColumnVector& v, size_t row, const std::string& null_text = "NULL");

std::string FormatCsv(const QueryResult& r);
std::string FormatJson(const QueryResult& r);
// Aligned table plus "(N rows)" footer; numbers right-aligned.
// With seconds >= 0 the footer also gives the elapsed time.
std::string FormatTable(const QueryResult& r, double seconds = -1);

}  // namespace saleslake::sql
