// Result cells as the Trino client protocol's JSON carries them — the one place that encoding
// is made. The query runner writes each result row once, straight from its typed column batch,
// as the JSON array Trino sends (`["2025-01-03","C1",12.5,null]`); the query manager keeps that
// text (result_spool.h) and a Trino page is those rows copied out. Athena and the console, which
// want each cell's text as sql::CellText prints it, decode the same text back (DecodeTrinoRow).
//
//   AppendTrinoRows(batch, 0, batch.num_rows, redacted, &rows);   // "[...]\n" per row
//   DecodeTrinoRow(line, &cells);                                 // one line, without its '\n'
//
// Encoding, per type (what trino-client, presto-client and Trino's JDBC driver expect):
//   boolean                      true / false
//   integer, bigint              the number
//   real, double                 the number in its shortest round-trip form with a fraction
//                                (2.0, 1.5e-07); NaN and infinities as the strings "NaN",
//                                "Infinity", "-Infinity"
//   everything else              a string of sql::CellText: decimal "12.50", date "2025-01-03",
//                                timestamp, interval, varchar (invalid UTF-8 replaced by U+FFFD)
//   NULL (and redacted columns)  null
// A row is written as the JSON array followed by '\n'. JSON strings never hold a raw newline
// (control characters are escaped), so '\n' marks the end of a row and nothing else.
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/batch.h"
#include "common/status.h"

namespace saleslake::server::internal {

// Appends rows [first, last) of `batch` (flat or constant columns, no selection: what
// sql::QueryResult::Next hands out) to `out`, each as its JSON array and '\n'. Columns whose
// `redacted` entry is true (the vector may be shorter than the row) are written as null.
void AppendTrinoRows(const Batch& batch, size_t first, size_t last,
                     const std::vector<bool>& redacted, std::string* out);

// One cell of type `type` given as its sql::CellText text (nullopt for NULL), encoded as above:
// the path of the types without a typed one, and the reference the typed paths are tested
// against.
void AppendTrinoCellFromText(const DataType& type, const std::optional<std::string_view>& text,
                             std::string* out);

// The cells of one encoded row (without its '\n'), each as its text (strings unescaped, numbers
// and booleans as written), nullopt for null. kCorruption for text that is not such a row.
Status DecodeTrinoRow(std::string_view line, std::vector<std::optional<std::string>>* cells);

}  // namespace saleslake::server::internal
