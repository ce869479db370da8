// The one renderer of rows for the command line: query results, forecasts, metrics, `tables`.
// Four modes:
//   table  aligned columns, numbers right-aligned, NULL shown as NULL, newlines and tabs shown
//          escaped (\n, \t) so a row stays one line; optionally at most max_rows rows (the first
//          and the last half, with a "… N more rows …" line between) and at most max_width
//          characters per line (the widest columns are cut with "…"). A "(N rows)" footer.
//   csv    RFC 4180 through csv::CsvWriter: a header, NULL as an empty field.
//   json   one array of objects; numbers and booleans unquoted, NULL as null.
//   line   one "column = value" line per cell, a blank line between rows (sqlite's .mode line).
// Only the table is ever truncated; csv, json and line always carry every row and every byte.
//
// Thread safety: one Renderer per thread.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace saleslake::csv {
class CsvWriter;
}

namespace saleslake::cli {

enum class OutputMode { kTable, kCsv, kJson, kLine };

// "table", "csv", "json" or "line"; nullopt otherwise.
std::optional<OutputMode> ParseOutputMode(std::string_view name);
std::string_view OutputModeName(OutputMode mode);

enum class CellKind {
  kText,     // left-aligned, a JSON string
  kNumber,   // right-aligned, a JSON number (NaN and Infinity become JSON strings)
  kBoolean,  // left-aligned, a JSON true/false
};

struct Column {
  std::string name;
  CellKind kind = CellKind::kText;
};

struct RenderOptions {
  OutputMode mode = OutputMode::kTable;
  size_t max_rows = 0;   // table: 0 = every row
  size_t max_width = 0;  // table: 0 = no limit (a terminal's width otherwise)
  bool footer = true;    // table: "(N rows)" after the rows
};

// Rows arrive one cell at a time. CSV, JSON and line text can be taken as it grows, so a big
// result streams; the table needs every width before its first line, so it comes out of Finish
// (with max_rows it keeps only the rows it will show, whatever the row count).
class Renderer {
 public:
  Renderer(std::vector<Column> columns, RenderOptions options);
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  void AddCell(std::string_view text);
  void AddNull();
  void EndRow();

  // Text produced so far and not yet taken (csv, json, line; always empty for the table).
  std::string TakeText();
  // The rest of the text. `footer_extra` goes inside the table footer: "(3 rows, 0.012 s)".
  std::string Finish(std::string_view footer_extra = "");

  uint64_t rows() const { return rows_; }

 private:
  using Row = std::vector<std::optional<std::string>>;
  void EndTableRow();
  void EndJsonRow();
  void EndLineRow();
  std::string RenderTable(std::string_view footer_extra) const;

  std::vector<Column> columns_;
  RenderOptions options_;
  std::string text_;  // csv / json / line output not yet taken
  std::unique_ptr<csv::CsvWriter> csv_;
  Row row_;  // the cells of the row being added (table, json, line)
  std::vector<Row> head_;
  std::deque<Row> tail_;
  uint64_t rows_ = 0;
};

// Width of the terminal on stdout, 0 when stdout is not a terminal ($COLUMNS wins when set).
size_t TerminalWidth();

// A double as people read it: the shortest text that reads back as the same double, unless that
// needs more than 15 significant digits (float noise of sums: 3289868.0300000003), which are then
// rounded away (3289868.03). The table uses it; csv and json keep the exact round-trip text.
std::string DisplayDouble(double v);

// 1234567 -> "1,234,567" (row counts, summary lines).
std::string Thousands(uint64_t n);

// How many characters (UTF-8 code points) `s` shows.
size_t DisplayWidth(std::string_view s);

}  // namespace saleslake::cli
