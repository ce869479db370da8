// `saleslake cat FILE.parquet` and `saleslake parquet-meta FILE.parquet`: look inside Parquet
// files. CSV output follows DuckDB's COPY ... TO conventions (header, RFC 4180 quoting only when
// needed, empty field for NULL, "" for an empty string, shortest round-trip floats, DATE as
// YYYY-MM-DD, TIMESTAMP as ISO with trailing fractional zeros trimmed, +00 for UTC-adjusted
// timestamps, \xHH escapes for non-printable bytes of binary columns).
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdio>

#include "cli/command.h"
#include "common/json.h"
#include "formats/csv/csv_writer.h"
#include "formats/parquet/parquet.h"
#include "io/object_store.h"

namespace saleslake::cli {
namespace {

struct CatOptions {
  std::string file;
  std::string format = "csv";
  std::string columns;
  int64_t limit = -1;
};

template <typename F>
void AppendFloat(std::string& out, F v) {
  if (std::isnan(v)) {
    out += "nan";
    return;
  }
  if (std::isinf(v)) {
    out += v < 0 ? "-inf" : "inf";
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
  out += s;
  if (s.find_first_of(".e") == std::string_view::npos) out += ".0";
}

std::string TimestampText(int64_t micros, bool utc) {
  std::string s = FormatTimestamp(micros);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
  }
  if (utc) s += "+00";
  return s;
}

// Text of one value (not quoted). Returns false for NULL.
bool ValueText(const ColumnVector& v, size_t row, const parquet::ColumnInfo& info, std::string& out) {
  if (!v.IsValid(row)) return false;
  switch (v.type().id) {
    case TypeId::kBoolean: out += v.GetValue<uint8_t>(row) ? "true" : "false"; break;
    case TypeId::kInt32: out += std::to_string(v.GetValue<int32_t>(row)); break;
    case TypeId::kInt64: out += std::to_string(v.GetValue<int64_t>(row)); break;
    case TypeId::kFloat: AppendFloat(out, v.GetValue<float>(row)); break;
    case TypeId::kDouble: AppendFloat(out, v.GetValue<double>(row)); break;
    case TypeId::kDate: out += FormatDate(v.GetValue<int32_t>(row)); break;
    case TypeId::kTimestamp: out += TimestampText(v.GetValue<int64_t>(row), info.utc); break;
    case TypeId::kDecimal:
      if (v.type().is_wide_decimal()) {
        __int128 x;
        const uint8_t* src;
        if (v.encoding() == VectorEncoding::kFlat) src = v.data<uint8_t>() + row * 16;
        else if (v.encoding() == VectorEncoding::kConstant) src = v.data<uint8_t>();
        else src = v.dictionary()->data<uint8_t>() + v.data<uint32_t>()[row] * 16;
        std::memcpy(&x, src, 16);
        out += FormatDecimal(x, v.type().scale);
      } else {
        out += FormatDecimal(v.GetValue<int64_t>(row), v.type().scale);
      }
      break;
    case TypeId::kVarchar: {
      std::string_view s = v.GetValue<std::string_view>(row);
      if (!info.binary) {
        out += s;
      } else {
        for (unsigned char c : s) {
          if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'' && c != '"') out.push_back(static_cast<char>(c));
          else out += fmt::format("\\x{:02X}", c);
        }
      }
      break;
    }
    default: out += "?"; break;
  }
  return true;
}

Status Flush(std::string& buf) {
  if (!buf.empty() && std::fwrite(buf.data(), 1, buf.size(), stdout) != buf.size()) {
    return Status::IOError("cannot write to stdout");
  }
  buf.clear();
  return Status::OK();
}

Status RunCat(const CatOptions& o) {
  if (o.format != "csv" && o.format != "json") {
    return Status::InvalidArgument("--format must be csv or json, not '" + o.format + "'");
  }
  SL_ASSIGN_OR_RETURN(auto file, io::OpenLocalFile(o.file));
  std::shared_ptr<const io::RandomAccessFile> shared(std::move(file));
  SL_ASSIGN_OR_RETURN(auto reader, parquet::ParquetReader::Open(shared));
  const Schema& schema = reader->schema();
  std::vector<int> cols;
  if (o.columns.empty()) {
    for (size_t i = 0; i < schema.size(); ++i) cols.push_back(static_cast<int>(i));
  } else {
    size_t start = 0;
    while (start <= o.columns.size()) {
      size_t comma = o.columns.find(',', start);
      if (comma == std::string::npos) comma = o.columns.size();
      std::string name = o.columns.substr(start, comma - start);
      auto idx = schema.FindField(name);
      if (!idx) return Status::NotFound(fmt::format("{}: no column named '{}'", o.file, name));
      cols.push_back(static_cast<int>(*idx));
      start = comma + 1;
    }
  }
  std::string buf;
  std::string field;
  if (o.format == "csv") {
    for (size_t i = 0; i < cols.size(); ++i) {
      if (i) buf.push_back(',');
      csv::AppendField(buf, schema[cols[i]].name, csv::Dialect{});
    }
    buf.push_back('\n');
  }
  int64_t left = o.limit < 0 ? INT64_MAX : o.limit;
  for (int rg = 0; rg < reader->num_row_groups() && left > 0; ++rg) {
    Status s = reader->ReadRowGroup(rg, cols, [&](Batch& batch) -> Status {
      size_t n = std::min<size_t>(batch.num_rows, static_cast<size_t>(std::min<int64_t>(left, INT64_MAX)));
      for (size_t r = 0; r < n; ++r) {
        if (o.format == "json") buf.push_back('{');
        for (size_t i = 0; i < cols.size(); ++i) {
          const parquet::ColumnInfo& info = reader->column_info(cols[i]);
          const ColumnVector& v = batch.columns[i];
          field.clear();
          bool valid = ValueText(v, r, info, field);
          if (o.format == "csv") {
            if (i) buf.push_back(',');
            if (valid) csv::AppendField(buf, field, csv::Dialect{}, v.type().id == TypeId::kVarchar);
          } else {
            if (i) buf.push_back(',');
            AppendJsonString(buf, schema[cols[i]].name);
            buf.push_back(':');
            TypeId t = v.type().id;
            bool numeric = t == TypeId::kInt32 || t == TypeId::kInt64 || t == TypeId::kDecimal ||
                           ((t == TypeId::kFloat || t == TypeId::kDouble) &&
                            field.find_first_of("ni") == std::string::npos);
            if (!valid) buf += "null";
            else if (t == TypeId::kBoolean || numeric) buf += field;
            else AppendJsonString(buf, field);
          }
        }
        buf += o.format == "json" ? "}\n" : "\n";
      }
      left -= static_cast<int64_t>(n);
      if (buf.size() > (1 << 20)) SL_RETURN_IF_ERROR(Flush(buf));
      if (left <= 0) return Status::Cancelled("limit reached");
      return Status::OK();
    });
    if (!s.ok() && !(s.code() == StatusCode::kCancelled && left <= 0)) return s;
  }
  SL_RETURN_IF_ERROR(Flush(buf));
  std::fflush(stdout);
  return Status::OK();
}

Status RunMeta(const std::string& path, const std::string& format) {
  if (format != "text" && format != "json") {
    return Status::InvalidArgument("--format must be text or json, not '" + format + "'");
  }
  SL_ASSIGN_OR_RETURN(auto file, io::OpenLocalFile(path));
  std::shared_ptr<const io::RandomAccessFile> shared(std::move(file));
  SL_ASSIGN_OR_RETURN(auto reader, parquet::ParquetReader::Open(shared));
  std::string text = reader->DescribeMetadata(format == "json");
  std::fwrite(text.data(), 1, text.size(), stdout);
  return Status::OK();
}

void Register(CLI::App& root, Context& ctx) {
  auto cat = std::make_shared<CatOptions>();
  auto* c = root.add_subcommand("cat", "Print the rows of a Parquet file as CSV or JSON lines");
  c->add_option("file", cat->file, "Parquet file")->required();
  c->add_option("--format", cat->format, "csv (default) or json")->check(CLI::IsMember({"csv", "json"}));
  c->add_option("--columns", cat->columns, "Comma-separated column names to print (default: all)");
  c->add_option("--limit", cat->limit, "Print at most N rows")->check(CLI::NonNegativeNumber);
  c->callback([&ctx, cat] {
    ctx.action = [cat] {
      Status s = RunCat(*cat);
      return s.ok() ? 0 : Fail(s);
    };
  });

  auto meta_file = std::make_shared<std::string>();
  auto meta_format = std::make_shared<std::string>("text");
  auto* m = root.add_subcommand("parquet-meta", "Show a Parquet file's footer: schema, row groups, column chunks, statistics");
  m->add_option("file", *meta_file, "Parquet file")->required();
  m->add_option("--format", *meta_format, "text (default) or json")->check(CLI::IsMember({"text", "json"}));
  m->callback([&ctx, meta_file, meta_format] {
    ctx.action = [meta_file, meta_format] {
      Status s = RunMeta(*meta_file, *meta_format);
      return s.ok() ? 0 : Fail(s);
    };
  });
}

const CommandRegistrar kRegistrar(40, &Register);

}  // namespace
}  // namespace saleslake::cli
