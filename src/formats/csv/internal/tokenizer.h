// Record tokenizer: splits one CSV record into field spans without copying. Shared by the reader
// (per morsel) and the sniffer. Not thread-safe: one tokenizer per thread.
//
// Quoting rules (the contract of csv_reader.h): a quote only opens a quoted field at the start of
// a field; inside quotes, a doubled quote (or escape+char when escape != quote) is a literal; a
// quote in the middle of an unquoted field is literal. Records end at LF; a CR right before the
// LF (outside quotes) is dropped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/csv/csv_reader.h"

namespace saleslake::csv::internal {

struct FieldRef {
  const char* begin;
  const char* end;
  bool quoted;
  bool escaped;  // holds doubled quotes or escapes: Text() must unescape
};

class Tokenizer {
 public:
  explicit Tokenizer(const Dialect& dialect);

  enum class Outcome {
    kRecord,    // a record: fields(), raw(), newlines(); maybe has_error()
    kBlank,     // an empty line (counted, not a record)
    kEnd,       // no more input (only when at_eof)
    kNeedMore,  // the record runs past `end` and end is not the end of input
  };

  // Tokenizes the record starting at `p` (a record start) within [p, end). On kRecord/kBlank,
  // *next is the start of the following record. `at_eof`: `end` is the true end of the input.
  Outcome Next(const char* p, const char* end, bool at_eof, const char** next);

  size_t num_fields() const { return num_fields_; }
  const FieldRef& field(size_t i) const { return fields_[i]; }
  // The field's text, unescaped. The view is valid until the next Text() or Next() call.
  std::string_view Text(size_t i);
  // The record without its line ending.
  std::string_view raw() const { return raw_; }
  // '\n' bytes consumed by the record (its terminator and any inside quotes).
  uint32_t newlines() const { return newlines_; }

  // A structural error (unterminated quote, text after a closing quote): the 1-based column
  // and the reason. The fields are still filled as well as possible.
  bool has_error() const { return error_column_ != 0; }
  uint32_t error_column() const { return error_column_; }
  const std::string& error() const { return error_; }

 private:
  void SetError(uint32_t column, std::string reason) {
    if (error_column_ == 0) {
      error_column_ = column;
      error_ = std::move(reason);
    }
  }

  // Appends a field. Inline and without the vector's capacity check: every field of every
  // record passes here (push_back was not inlined and cost 3% of an ETL run).
  void AddField(const FieldRef& f) {
    if (num_fields_ == fields_.size()) fields_.resize(fields_.size() * 2);
    fields_[num_fields_++] = f;
  }

  char delim_, quote_, escape_;
  std::vector<FieldRef> fields_;  // the first num_fields_ are this record's
  size_t num_fields_ = 0;
  std::string scratch_;
  std::string_view raw_;
  uint32_t newlines_ = 0;
  uint32_t error_column_ = 0;
  std::string error_;
};

// "expected 6 fields, found 5" etc.; shared so reader and sniffer speak alike.
std::string FieldCountReason(size_t expected, size_t found);

// Offset of the first byte that is not valid UTF-8, or npos.
size_t FindInvalidUtf8(std::string_view s);

}  // namespace saleslake::csv::internal
