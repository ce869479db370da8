#include "formats/csv/csv_writer.h"

namespace saleslake::csv {
namespace {

constexpr size_t kFlushBytes = 1 << 20;

}  // namespace

void AppendField(std::string& out, std::string_view field, const Dialect& dialect, bool quote_empty) {
  const char specials[] = {dialect.delimiter, dialect.quote, '\n', '\r', '\0'};
  const bool quote = (quote_empty && field.empty()) ||
                     field.find_first_of(std::string_view(specials, 4)) != std::string_view::npos;
  if (!quote) {
    out.append(field);
    return;
  }
  out.push_back(dialect.quote);
  for (char c : field) {
    if (c == dialect.quote) out.push_back(c);
    out.push_back(c);
  }
  out.push_back(dialect.quote);
}

CsvWriter::CsvWriter(std::string* out, const std::vector<std::string>& names, WriteOptions options)
    : text_(out), options_(std::move(options)) {
  if (!options_.dialect.header) return;
  for (const std::string& n : names) AddField(n);
  row_started_ = false;
  text_->push_back('\n');
}

CsvWriter::CsvWriter(io::OutputStream* out, const std::vector<std::string>& names, WriteOptions options)
    : CsvWriter(&buffer_, names, std::move(options)) {
  stream_ = out;
}

void CsvWriter::Separator() {
  if (row_started_) text_->push_back(options_.dialect.delimiter);
  row_started_ = true;
}

void CsvWriter::AddField(std::string_view text) {
  Separator();
  AppendField(*text_, text, options_.dialect, options_.quote_empty);
}

void CsvWriter::AddNull() {
  Separator();
  text_->append(options_.null_text);
}

Status CsvWriter::EndRow() {
  text_->push_back('\n');
  row_started_ = false;
  ++rows_;
  if (stream_ != nullptr && buffer_.size() >= kFlushBytes) return Finish();
  return Status::OK();
}

Status CsvWriter::Finish() {
  if (stream_ == nullptr || buffer_.empty()) return Status::OK();
  Status s = stream_->Append(buffer_);
  buffer_.clear();
  return s;
}

}  // namespace saleslake::csv
