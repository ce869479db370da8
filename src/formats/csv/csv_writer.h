// Writing CSV: RFC 4180 quoting with the reader's dialect (delimiter, quote character, header
// line), so what CsvWriter writes, ReadCsv reads back field for field. Every CSV the project
// writes goes through here: query results, forecasts, `cat`, quarantined records.
//
//   std::string text;
//   csv::CsvWriter w(&text, {"region", "amount"});
//   w.AddField("North, East"); w.AddNull(); w.EndRow();   // "North, East",\n
//
// Thread safety: one writer per thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "formats/csv/csv_reader.h"
#include "io/object_store.h"

namespace saleslake::csv {

struct WriteOptions {
  // delimiter, quote and header are used; a quote inside a field is always doubled (RFC 4180),
  // whatever dialect.escape says. null_tokens are not consulted: NULL is written as null_text.
  Dialect dialect;
  std::string null_text;  // written as is for NULL (default: an empty field)
  // Writes an empty string as "" so that it reads back apart from NULL (DuckDB's COPY does this).
  bool quote_empty = false;
};

// Appends one field, quoted when it holds the delimiter, the quote character, CR or LF (and,
// with quote_empty, when it is empty).
void AppendField(std::string& out, std::string_view field, const Dialect& dialect,
                 bool quote_empty = false);

// Writes rows to a string or an OutputStream. Text is buffered and handed to the stream in
// pieces of about 1 MiB; Finish() writes the rest (it does not Commit the stream).
class CsvWriter {
 public:
  // Appends to *out, which must outlive the writer. Writes the header line now when
  // options.dialect.header is set.
  CsvWriter(std::string* out, const std::vector<std::string>& names, WriteOptions options = {});
  // Appends to *out (not owned, must outlive the writer); IO errors come back from the calls below.
  CsvWriter(io::OutputStream* out, const std::vector<std::string>& names, WriteOptions options = {});
  CsvWriter(const CsvWriter&) = delete;  // text_ may point at this writer's own buffer_
  CsvWriter& operator=(const CsvWriter&) = delete;

  void AddField(std::string_view text);
  void AddNull();
  // Ends the current row; with a stream, flushes when the buffer is large.
  Status EndRow();
  // Writes what is buffered to the stream (a no-op for a string).
  Status Finish();

  uint64_t rows() const { return rows_; }

 private:
  void Separator();

  std::string* text_;
  io::OutputStream* stream_ = nullptr;
  std::string buffer_;  // used with a stream
  WriteOptions options_;
  bool row_started_ = false;
  uint64_t rows_ = 0;
};

}  // namespace saleslake::csv
