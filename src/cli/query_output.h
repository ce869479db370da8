// Where and how `saleslake query` (and the REPL) write statement results.
//
// Format: --format when given, else the extension of --output (.csv, .json, .parquet; anything
// else is the aligned table), else the table.
// Several statements (a script, "A; B" in the argument, piped input):
//   stdout       each result in turn: tables and CSV separated by a blank line; JSON is one
//                document, a list with one entry per statement (the array of rows, or
//                {"message": "CREATE VIEW"} for a statement without rows).
//   --output F   table: every result in F; JSON: the one document in F; CSV and Parquet: one
//                file per statement with rows, F's name with "-N" before the extension
//                (out.csv -> out-1.csv, out-3.csv for statements 1 and 3).
// A statement without rows (CREATE VIEW ...) prints its message on stdout.
//
// Thread safety: one QueryOutput per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cli/render.h"
#include "common/status.h"
#include "sql/sql.h"

namespace saleslake::cli {

enum class ResultFormat { kTable, kCsv, kJson, kLine, kParquet };

struct OutputSpec {
  ResultFormat format = ResultFormat::kTable;
  std::string path;          // "" = stdout
  size_t max_rows = 0;       // table on stdout: 0 = all
  size_t max_width = 0;      // table on stdout: 0 = no limit
  bool timing = false;       // table: elapsed time in the footer
};

// Picks the format: `format` when not empty, else from the extension of `path`, else table.
// kInvalidArgument for an unknown `format` name.
Result<ResultFormat> ChooseFormat(const std::string& format, const std::string& path);

class QueryOutput {
 public:
  // `statements`: how many statements the input holds (1 for each REPL statement); it decides
  // between the single and the several-results layouts above before the first result arrives.
  QueryOutput(OutputSpec spec, size_t statements);
  ~QueryOutput();

  using Clock = std::chrono::steady_clock;

  // Pulls and writes the rows of statement number `index` (1-based), or its message when it has
  // none (DDL). Errors of the statement itself (kCancelled, memory limit) come back from here.
  // `started`: when the statement was sent, for --timing.
  Status Add(size_t index, sql::QueryResult& result, Clock::time_point started);
  // Closes the JSON list and writes the table/JSON file. Call once, after the last Add (also
  // after a failed statement, so what ran is kept).
  Status Finish();

 private:
  Status Emit(const std::string& text);
  std::string PathFor(size_t index) const;

  OutputSpec spec_;
  size_t statements_;
  size_t results_ = 0;      // results written so far (rows or messages)
  size_t row_results_ = 0;  // of which with rows (a blank line goes between those)
  std::string file_text_;   // table / JSON going to spec_.path
};

}  // namespace saleslake::cli
