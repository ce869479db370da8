// The text of a result cell as Trino prints it (2.0 for a double, 12.50 for DECIMAL(_,2), ISO
// dates and timestamps). Tables, CSV and JSON around it are written by the CLI's renderer
// (src/cli/render.h) and csv::CsvWriter. Thread safety: pure functions.
#pragma once

#include <string>

#include "sql/sql.h"

namespace saleslake::sql {

// Text of one cell; NULL gives `null_text`.
std::string CellText(const ColumnVector& v, size_t row, const std::string& null_text = "NULL");

// The same text appended to `out`, for a row that is not NULL: without a Value or a string of
// its own for the common types (result paging formats every cell of millions of rows).
void AppendCellText(const ColumnVector& v, size_t row, std::string* out);

}  // namespace saleslake::sql
