#include "catalog/describe.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace saleslake::catalog {

namespace {

struct ColumnTotals {
  int64_t non_conforming = 0;
  int64_t nulls = 0;
  bool nulls_known = true;
};

std::map<std::string, ColumnTotals> Totals(const std::vector<DataFile>& files) {
  std::map<std::string, ColumnTotals> out;
  for (const DataFile& f : files) {
    for (const ColumnStats& c : f.column_stats) {
      ColumnTotals& t = out[c.column];
      t.non_conforming += c.non_conforming;
      if (c.null_count < 0) t.nulls_known = false;
      else t.nulls += c.null_count;
    }
  }
  return out;
}

int64_t RowCount(const std::vector<DataFile>& files) {
  int64_t rows = 0;
  for (const DataFile& f : files) rows += std::max<int64_t>(f.row_count, 0);
  return rows;
}

}  // namespace

std::string DescribeJson(const TableMetadata& table, const Schema& schema,
                         const std::vector<DataFile>& files, int64_t snapshot_id) {
  auto totals = Totals(files);
  nlohmann::ordered_json j;
  j["name"] = table.name();
  j["format"] = std::string(FileFormatName(table.spec.format));
  j["location"] = table.spec.location;
  nlohmann::ordered_json cols = nlohmann::ordered_json::array();
  for (const Field& f : schema.fields) {
    nlohmann::ordered_json c;
    c["name"] = f.name;
    c["type"] = f.type.ToString();
    c["nullable"] = f.nullable;
    auto it = totals.find(f.name);
    c["non_conforming"] = it == totals.end() ? 0 : it->second.non_conforming;
    cols.push_back(std::move(c));
  }
  j["columns"] = std::move(cols);
  j["partition_keys"] = table.spec.partition_keys;
  j["row_count"] = RowCount(files);
  j["files"] = files.size();
  j["snapshot_id"] = snapshot_id;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string DescribeText(const TableMetadata& table, const Schema& schema,
                         const std::vector<DataFile>& files, int64_t snapshot_id) {
  auto totals = Totals(files);
  std::string out;
  out += "table      " + table.name() + "\n";
  out += "format     " + std::string(FileFormatName(table.spec.format)) + "\n";
  out += "location   " + table.spec.location + "\n";
  out += "snapshot   " + std::to_string(snapshot_id);
  if (const SnapshotInfo* s = table.FindSnapshot(snapshot_id))
    out += " (" + s->operation + " at " + FormatTimestamp(s->timestamp_ms * 1000) + " UTC)";
  out += "\n";
  out += "files      " + std::to_string(files.size()) + "\n";
  out += "rows       " + std::to_string(RowCount(files)) + "\n";
  if (table.spec.format == FileFormat::kCsv) {
    const CsvDialect& d = table.spec.csv;
    std::string delim = d.delimiter == '\t' ? "TAB" : std::string(1, d.delimiter);
    out += "csv        delimiter '" + delim + "', quote '" + std::string(1, d.quote) + "', header " +
           (d.has_header ? "yes" : "no") + "\n";
  }
  size_t w = 6;
  for (const Field& f : schema.fields) w = std::max(w, f.name.size());
  out += "\ncolumns\n";
  for (const Field& f : schema.fields) {
    std::string line = "  " + f.name + std::string(w - f.name.size() + 2, ' ') + f.type.ToString();
    bool is_part = std::find(table.spec.partition_keys.begin(), table.spec.partition_keys.end(),
                             f.name) != table.spec.partition_keys.end();
    if (is_part) line += "  (partition key)";
    if (!f.nullable) line += "  NOT NULL";
    auto it = totals.find(f.name);
    if (it != totals.end()) {
      if (it->second.nulls_known) line += "  nulls " + std::to_string(it->second.nulls);
      if (it->second.non_conforming > 0)
        line += "  non-conforming " + std::to_string(it->second.non_conforming);
    }
    out += line + "\n";
  }
  std::set<std::string> parts;
  for (const DataFile& f : files)
    if (!f.partition_values.empty()) parts.insert(f.PartitionPath());
  if (!parts.empty()) {
    out += "\npartitions (" + std::to_string(parts.size()) + ")\n";
    for (const std::string& p : parts) out += "  " + p + "\n";
  }
  if (!table.spec.properties.empty()) {
    out += "\nproperties\n";
    for (const auto& [k, v] : table.spec.properties) out += "  " + k + " = " + v + "\n";
  }
  return out;
}

Result<DdlDialect> ParseDdlDialect(std::string_view name) {
  std::string l(name);
  for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "athena") return DdlDialect::kAthena;
  if (l == "trino") return DdlDialect::kTrino;
  if (l == "hive") return DdlDialect::kHive;
  return Status::InvalidArgument("unknown DDL dialect '" + std::string(name) +
                                 "' (expected athena, trino or hive)");
}

namespace {

std::string QuoteLiteral(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "''";
    else out += c;
  }
  return out + "'";
}

// Hive/Athena DDL wants backslash escapes inside string literals.
std::string HiveLiteral(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    if (c == '\t') {
      out += "\\t";
      continue;
    }
    out += c;
  }
  return out + "'";
}

std::string QuoteIdent(std::string_view s, DdlDialect d) {
  char q = d == DdlDialect::kTrino ? '"' : '`';
  std::string out(1, q);
  for (char c : s) {
    if (c == q) out += q;
    out += c;
  }
  return out + q;
}

std::string HiveType(const DataType& t) {
  switch (t.id) {
    case TypeId::kVarchar: return "STRING";
    case TypeId::kInt32: return "INT";
    case TypeId::kFloat: return "FLOAT";
    case TypeId::kNull: return "STRING";
    case TypeId::kInterval: return "STRING";
    default: return t.ToString();
  }
}

std::string TrinoType(const DataType& t) {
  switch (t.id) {
    case TypeId::kNull:
    case TypeId::kInterval: return "VARCHAR";
    case TypeId::kTimestamp: return "TIMESTAMP(6)";
    default: return t.ToString();
  }
}

std::string LowerAscii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The type other engines are told a column has: non-ISO text dates/timestamps of a CSV table
// are declared as strings (see the header), with a note saying so.
DataType DeclaredType(const TableSpec& spec, const Field& f, std::vector<std::string>* notes) {
  if (spec.format == FileFormat::kCsv && (f.type.id == TypeId::kDate || f.type.id == TypeId::kTimestamp)) {
    auto it = spec.properties.find("csv.format." + f.name);
    bool iso = it == spec.properties.end() || it->second == "%Y-%m-%d" ||
               it->second.rfind("%Y-%m-%d %H:%M", 0) == 0 || it->second.rfind("%Y-%m-%dT%H:%M", 0) == 0;
    if (!iso) {
      if (notes)
        notes->push_back("-- " + f.name + ": " + f.type.ToString() + " stored as text '" + it->second +
                         "'; declared as a string");
      return DataType::Varchar();
    }
  }
  return f.type;
}

}  // namespace

std::string ExportDdl(const TableMetadata& table, std::string_view base_uri, DdlDialect dialect) {
  const TableSpec& spec = table.spec;
  std::string base(base_uri);
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string location = base + "/" + spec.location;
  bool csv = spec.format == FileFormat::kCsv;
  auto is_part = [&](const std::string& n) {
    return std::find(spec.partition_keys.begin(), spec.partition_keys.end(), n) != spec.partition_keys.end();
  };
  std::vector<std::string> notes;
  auto declared = [&](const Field& f) { return DeclaredType(spec, f, &notes); };

  std::string out;
  if (dialect == DdlDialect::kTrino) {
    std::vector<std::string> cols;
    for (const Field& f : spec.schema.fields)
      if (!is_part(f.name)) cols.push_back(QuoteIdent(f.name, dialect) + " " + TrinoType(declared(f)));
    for (const std::string& k : spec.partition_keys)  // partition columns last, as Trino requires
      if (auto i = spec.schema.FindField(k)) cols.push_back(QuoteIdent(k, dialect) + " " + TrinoType(declared(spec.schema[*i])));
    std::string body;
    for (const std::string& n : notes) body += n + "\n";
    body += "CREATE TABLE " + QuoteIdent(spec.name, dialect) + " (\n";
    for (size_t i = 0; i < cols.size(); ++i) body += "  " + cols[i] + (i + 1 < cols.size() ? ",\n" : "\n");
    body += ")\nWITH (\n";
    std::vector<std::string> with;
    with.push_back("external_location = " + QuoteLiteral(location));
    switch (spec.format) {
      case FileFormat::kParquet: with.push_back("format = 'PARQUET'"); break;
      case FileFormat::kJsonl: with.push_back("format = 'JSON'"); break;
      case FileFormat::kCsv:
        with.push_back("format = 'TEXTFILE'");
        with.push_back("textfile_field_separator = " + QuoteLiteral(std::string(1, spec.csv.delimiter)));
        if (spec.csv.has_header) with.push_back("skip_header_line_count = 1");
        break;
    }
    if (!spec.partition_keys.empty()) {
      std::string arr = "partitioned_by = ARRAY[";
      for (size_t i = 0; i < spec.partition_keys.size(); ++i)
        arr += (i ? ", " : "") + QuoteLiteral(spec.partition_keys[i]);
      with.push_back(arr + "]");
    }
    for (size_t i = 0; i < with.size(); ++i) body += "  " + with[i] + (i + 1 < with.size() ? ",\n" : "\n");
    body += ");\n";
    return body;
  }

  // Athena and Hive.
  std::vector<std::string> cols, parts;
  for (const Field& f : spec.schema.fields) {
    std::string c = QuoteIdent(f.name, dialect) + " " + HiveType(declared(f));
    if (is_part(f.name)) continue;
    cols.push_back(c);
  }
  for (const std::string& k : spec.partition_keys)
    if (auto i = spec.schema.FindField(k)) parts.push_back(QuoteIdent(k, dialect) + " " + HiveType(declared(spec.schema[*i])));
  for (const std::string& n : notes) out += n + "\n";
  out += "CREATE EXTERNAL TABLE " + QuoteIdent(spec.name, dialect) + " (\n";
  for (size_t i = 0; i < cols.size(); ++i) out += "  " + cols[i] + (i + 1 < cols.size() ? ",\n" : "\n");
  out += ")\n";
  if (!parts.empty()) {
    out += "PARTITIONED BY (\n";
    for (size_t i = 0; i < parts.size(); ++i) out += "  " + parts[i] + (i + 1 < parts.size() ? ",\n" : "\n");
    out += ")\n";
  }
  switch (spec.format) {
    case FileFormat::kParquet:
      out += "STORED AS PARQUET\n";
      break;
    case FileFormat::kJsonl:
      out += dialect == DdlDialect::kAthena
                 ? "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\n"
                 : "ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'\n";
      out += "STORED AS TEXTFILE\n";
      break;
    case FileFormat::kCsv: {
      // LazySimpleSerDe keeps typed columns (OpenCSVSerde would read every column as a string).
      out += "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'\n";
      std::string delim(1, spec.csv.delimiter);
      out += "WITH SERDEPROPERTIES (\n  'field.delim' = " + HiveLiteral(delim) +
             ",\n  'serialization.format' = " + HiveLiteral(delim) + ",\n  'serialization.null.format' = ''\n)\n";
      out += "STORED AS TEXTFILE\n";
      break;
    }
  }
  out += "LOCATION " + HiveLiteral(location);
  if (csv && spec.csv.has_header) out += "\nTBLPROPERTIES ('skip.header.line.count' = '1')";
  out += ";\n";
  if (!parts.empty()) {
    out += dialect == DdlDialect::kAthena
               ? "-- then load the partitions: MSCK REPAIR TABLE " + QuoteIdent(spec.name, dialect) + ";\n"
               : "-- then: MSCK REPAIR TABLE " + QuoteIdent(spec.name, dialect) + ";\n";
  }
  return out;
}

nlohmann::json ExportGlueTableInput(const TableMetadata& table, std::string_view base_uri) {
  const TableSpec& spec = table.spec;
  std::string base(base_uri);
  while (!base.empty() && base.back() == '/') base.pop_back();
  auto is_part = [&](const std::string& n) {
    return std::find(spec.partition_keys.begin(), spec.partition_keys.end(), n) != spec.partition_keys.end();
  };
  nlohmann::json columns = nlohmann::json::array(), partitions = nlohmann::json::array();
  for (const Field& f : spec.schema.fields) {
    if (is_part(f.name)) continue;
    columns.push_back({{"Name", f.name}, {"Type", LowerAscii(HiveType(DeclaredType(spec, f, nullptr)))}});
  }
  for (const std::string& k : spec.partition_keys)
    if (auto i = spec.schema.FindField(k))
      partitions.push_back({{"Name", k}, {"Type", LowerAscii(HiveType(DeclaredType(spec, spec.schema[*i], nullptr)))}});
  nlohmann::json sd = {{"Columns", columns}, {"Location", base + "/" + spec.location}};
  nlohmann::json params = {{"EXTERNAL", "TRUE"}};
  if (spec.format != FileFormat::kParquet) {  // CSV and JSON lines: Hive's text formats
    sd["InputFormat"] = "org.apache.hadoop.mapred.TextInputFormat";
    sd["OutputFormat"] = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat";
  }
  switch (spec.format) {
    case FileFormat::kParquet:
      params["classification"] = "parquet";
      sd["InputFormat"] = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat";
      sd["OutputFormat"] = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat";
      sd["SerdeInfo"] = {{"SerializationLibrary", "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}};
      break;
    case FileFormat::kJsonl:
      params["classification"] = "json";
      sd["SerdeInfo"] = {{"SerializationLibrary", "org.openx.data.jsonserde.JsonSerDe"}};
      break;
    case FileFormat::kCsv: {
      params["classification"] = "csv";
      if (spec.csv.has_header) params["skip.header.line.count"] = "1";
      std::string delim(1, spec.csv.delimiter);
      sd["SerdeInfo"] = {{"SerializationLibrary", "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"},
                         {"Parameters", {{"field.delim", delim}, {"serialization.format", delim},
                                         {"serialization.null.format", ""}}}};
      break;
    }
  }
  return {{"Name", spec.name},
          {"TableType", "EXTERNAL_TABLE"},
          {"Parameters", params},
          {"PartitionKeys", partitions},
          {"StorageDescriptor", sd}};
}

}  // namespace saleslake::catalog
