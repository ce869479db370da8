#include "catalog/internal/json_codec.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include <simdjson.h>

namespace saleslake::catalog::internal {

using nlohmann::json;

std::string Int128ToString(__int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  unsigned __int128 u = neg ? static_cast<unsigned __int128>(-(v + 1)) + 1 : v;
  std::string s;
  while (u > 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  if (neg) s.push_back('-');
  return std::string(s.rbegin(), s.rend());
}

bool ParseInt128(std::string_view s, __int128* out) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 39) return false;
  unsigned __int128 u = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    u = u * 10 + static_cast<unsigned>(c - '0');
  }
  *out = neg ? -static_cast<__int128>(u) : static_cast<__int128>(u);
  return true;
}

namespace {

// JSON strings must be UTF-8. Names and text that are not become U+FFFD when encoded (see the
// dump calls), which is harmless for display but would make a min/max statistic wrong.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

}  // namespace

json ValueToJson(const Value& v) {
  if (v.is_null()) return nullptr;
  json j;
  j["type"] = v.type().ToString();
  switch (v.type().id) {
    case TypeId::kBoolean: j["v"] = v.bool_value(); break;
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kDate:
    case TypeId::kTimestamp: j["v"] = v.int_value(); break;
    case TypeId::kFloat:
    case TypeId::kDouble: {
      double d = v.double_value();
      if (std::isnan(d)) j["v"] = "nan";
      else if (std::isinf(d)) j["v"] = d > 0 ? "inf" : "-inf";
      else j["v"] = d;
      break;
    }
    case TypeId::kDecimal: j["v"] = Int128ToString(v.wide_value()); break;
    case TypeId::kVarchar: j["v"] = v.string_value(); break;
    case TypeId::kInterval: {
      Interval i = v.interval_value();
      j["v"] = json::array({i.months, i.days, i.micros});
      break;
    }
    case TypeId::kNull: return nullptr;
  }
  return j;
}

namespace {

namespace dom = simdjson::dom;

// A read value of the wanted kind, or false (a missing member or another kind).
template <typename T>
bool Get(dom::element e, T* out) {
  return e.get(*out) == simdjson::SUCCESS;
}
template <typename T>
bool Member(dom::object o, std::string_view key, T* out) {
  dom::element e;
  return o[key].get(e) == simdjson::SUCCESS && Get(e, out);
}
bool Has(dom::object o, std::string_view key) {
  dom::element e;
  return o[key].get(e) == simdjson::SUCCESS;
}
// An optional member: absent or null leave `*out` as it is; another kind is corrupt.
template <typename T>
Status Optional(dom::object o, std::string_view key, T* out) {
  dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS || e.is_null()) return Status::OK();
  if (!Get(e, out)) return Status::Corruption("member \"" + std::string(key) + "\" has the wrong type");
  return Status::OK();
}
template <typename T>
Status Required(dom::object o, std::string_view key, T* out) {
  if (!Member(o, key, out)) return Status::Corruption("member \"" + std::string(key) + "\" is missing or has the wrong type");
  return Status::OK();
}

bool FitsInt32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

Result<Value> ValueFromDom(dom::element e) {
  if (e.is_null()) return Value();
  dom::object o;
  std::string_view type;
  dom::element v;
  if (!Get(e, &o) || !Member(o, "type", &type) || o["v"].get(v) != simdjson::SUCCESS)
    return Status::Corruption("value must be {\"type\", \"v\"}");
  SL_ASSIGN_OR_RETURN(DataType t, ParseDataType(type));
  int64_t i = 0;
  std::string_view text;
  switch (t.id) {
    case TypeId::kBoolean: {
      bool b = false;
      if (!Get(v, &b)) break;
      return Value::Boolean(b);
    }
    case TypeId::kInt32:
      if (!Get(v, &i) || !FitsInt32(i)) break;
      return Value::Int32(static_cast<int32_t>(i));
    case TypeId::kInt64:
      if (!Get(v, &i)) break;
      return Value::Int64(i);
    case TypeId::kDate:
      if (!Get(v, &i) || !FitsInt32(i)) break;
      return Value::Date(static_cast<int32_t>(i));
    case TypeId::kTimestamp:
      if (!Get(v, &i)) break;
      return Value::Timestamp(i);
    case TypeId::kFloat:
    case TypeId::kDouble: {
      double d;
      if (Get(v, &text)) {
        if (text == "nan") d = std::numeric_limits<double>::quiet_NaN();
        else if (text == "inf") d = std::numeric_limits<double>::infinity();
        else if (text == "-inf") d = -std::numeric_limits<double>::infinity();
        else break;
      } else if (!Get(v, &d)) {
        break;
      }
      return t.id == TypeId::kFloat ? Value::Float(static_cast<float>(d)) : Value::Double(d);
    }
    case TypeId::kDecimal: {
      __int128 u;
      if (!Get(v, &text) || !ParseInt128(text, &u)) break;
      return Value::Decimal(u, t.precision, t.scale);
    }
    case TypeId::kVarchar:
      if (!Get(v, &text)) break;
      return Value::Varchar(std::string(text));
    case TypeId::kInterval: {
      dom::array a;
      int64_t months = 0, days = 0, micros = 0;
      if (!Get(v, &a) || a.size() != 3 || !Get(a.at(0).value_unsafe(), &months) ||
          !Get(a.at(1).value_unsafe(), &days) || !Get(a.at(2).value_unsafe(), &micros) || !FitsInt32(months) ||
          !FitsInt32(days))
        break;
      return Value::FromInterval(Interval{static_cast<int32_t>(months), static_cast<int32_t>(days), micros});
    }
    case TypeId::kNull:
      return Value();
  }
  return Status::Corruption("value of type " + t.ToString() + " has a bad payload: " + simdjson::to_string(v));
}

Result<DataFile> DataFileFromDom(dom::element e) {
  dom::object o;
  if (!Get(e, &o)) return Status::Corruption("a data file must be an object");
  DataFile f;
  std::string_view text;
  SL_RETURN_IF_ERROR(Required(o, "key", &text));
  f.key = std::string(text);
  SL_RETURN_IF_ERROR(Required(o, "size", &f.size));
  f.row_count = -1;
  SL_RETURN_IF_ERROR(Optional(o, "rows", &f.row_count));
  for (auto [name, out] : {std::pair{"etag", &f.etag}, std::pair{"sha256", &f.sha256}, std::pair{"source", &f.source_id}}) {
    text = {};
    SL_RETURN_IF_ERROR(Optional(o, name, &text));
    *out = std::string(text);
  }
  dom::array list;
  if (Has(o, "partition")) {
    SL_RETURN_IF_ERROR(Required(o, "partition", &list));
    for (dom::element p : list) {
      dom::array kv;
      std::string_view key, value;
      if (!Get(p, &kv) || kv.size() != 2 || !Get(kv.at(0).value_unsafe(), &key))
        return Status::Corruption("a partition value must be [key, value]");
      PartitionValue pv;
      pv.key = std::string(key);
      dom::element v = kv.at(1).value_unsafe();
      if (!v.is_null()) {
        if (!Get(v, &value)) return Status::Corruption("partition " + pv.key + ": the value must be a string or null");
        pv.value = std::string(value);
      }
      f.partition_values.push_back(std::move(pv));
    }
  }
  if (Has(o, "file_columns")) {
    SL_RETURN_IF_ERROR(Required(o, "file_columns", &list));
    for (dom::element c : list) {
      if (!Get(c, &text)) return Status::Corruption("file_columns must hold strings");
      f.file_columns.emplace_back(text);
    }
  }
  if (Has(o, "stats")) {
    SL_RETURN_IF_ERROR(Required(o, "stats", &list));
    for (dom::element c : list) {
      dom::object co;
      if (!Get(c, &co)) return Status::Corruption("stats must hold objects");
      ColumnStats cs;
      SL_RETURN_IF_ERROR(Required(co, "column", &text));
      cs.column = std::string(text);
      cs.null_count = -1;
      SL_RETURN_IF_ERROR(Optional(co, "nulls", &cs.null_count));
      SL_RETURN_IF_ERROR(Optional(co, "non_conforming", &cs.non_conforming));
      dom::element bound;
      if (co["min"].get(bound) == simdjson::SUCCESS) {
        SL_ASSIGN_OR_RETURN(cs.min, ValueFromDom(bound));
      }
      if (co["max"].get(bound) == simdjson::SUCCESS) {
        SL_ASSIGN_OR_RETURN(cs.max, ValueFromDom(bound));
      }
      f.column_stats.push_back(std::move(cs));
    }
  }
  return f;
}

// Parses `text` with the thread's parser (its buffers are reused from document to document).
Result<dom::element> ParseDom(std::string_view text) {
  thread_local dom::parser parser;
  dom::element doc;
  simdjson::error_code err = parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(doc);
  if (err != simdjson::SUCCESS) return Status::Corruption(std::string("not JSON: ") + simdjson::error_message(err));
  return doc;
}

}  // namespace

Result<Value> ValueFromJson(std::string_view text) {
  SL_ASSIGN_OR_RETURN(dom::element doc, ParseDom(text));
  return ValueFromDom(doc);
}

json SchemaToJson(const Schema& s) {
  json arr = json::array();
  for (const Field& f : s.fields)
    arr.push_back({{"name", f.name}, {"type", f.type.ToString()}, {"nullable", f.nullable}});
  return arr;
}

Result<Schema> SchemaFromJson(const json& j) {
  if (!j.is_array()) return Status::Corruption("schema must be an array");
  Schema s;
  for (const json& f : j) {
    Field field;
    field.name = f.at("name").get<std::string>();
    SL_ASSIGN_OR_RETURN(field.type, ParseDataType(f.at("type").get<std::string>()));
    field.nullable = f.value("nullable", true);
    s.fields.push_back(std::move(field));
  }
  return s;
}

json DataFileToJson(const DataFile& f) {
  json j;
  j["key"] = f.key;
  j["size"] = f.size;
  j["rows"] = f.row_count;
  if (!f.etag.empty()) j["etag"] = f.etag;
  if (!f.sha256.empty()) j["sha256"] = f.sha256;
  if (!f.source_id.empty()) j["source"] = f.source_id;
  if (!f.partition_values.empty()) {
    json pv = json::array();
    for (const PartitionValue& p : f.partition_values)
      pv.push_back({p.key, p.value ? json(*p.value) : json(nullptr)});
    j["partition"] = std::move(pv);
  }
  if (!f.file_columns.empty()) j["file_columns"] = f.file_columns;
  if (!f.column_stats.empty()) {
    json st = json::array();
    for (const ColumnStats& c : f.column_stats) {
      json cj{{"column", c.column}, {"nulls", c.null_count}};
      // A bound that JSON cannot hold exactly (non-UTF-8 bytes) is dropped: unknown is safe for
      // pruning, a mangled bound is not.
      auto storable = [](const Value& v) {
        return !v.is_null() && (v.type().id != TypeId::kVarchar || IsValidUtf8(v.string_value()));
      };
      if (storable(c.min) && storable(c.max)) {
        cj["min"] = ValueToJson(c.min);
        cj["max"] = ValueToJson(c.max);
      }
      if (c.non_conforming != 0) cj["non_conforming"] = c.non_conforming;
      st.push_back(std::move(cj));
    }
    j["stats"] = std::move(st);
  }
  return j;
}

namespace {

json DialectToJson(const CsvDialect& d) {
  return {{"delimiter", std::string(1, d.delimiter)},
          {"quote", std::string(1, d.quote)},
          {"escape", std::string(1, d.escape)},
          {"header", d.has_header},
          {"null_tokens", d.null_tokens}};
}

char OneChar(const json& j, const char* name, char fallback) {
  if (!j.contains(name)) return fallback;
  std::string s = j[name].get<std::string>();
  return s.empty() ? '\0' : s[0];
}

CsvDialect DialectFromJson(const json& j) {
  CsvDialect d;
  d.delimiter = OneChar(j, "delimiter", ',');
  d.quote = OneChar(j, "quote", '"');
  d.escape = OneChar(j, "escape", '"');
  d.has_header = j.value("header", true);
  if (j.contains("null_tokens")) d.null_tokens = j["null_tokens"].get<std::vector<std::string>>();
  return d;
}

template <typename Fn>
auto Guard(std::string_view where, Fn&& fn) -> decltype(fn()) {
  try {
    auto r = fn();
    if (!r.ok()) return r.status().WithContext(where);
    return r;
  } catch (const json::exception& e) {
    return Status::Corruption(std::string(where) + ": " + e.what());
  }
}

}  // namespace

std::string EncodeMetadata(const TableMetadata& m) {
  json j;
  j["format_version"] = 1;
  j["version"] = m.version;
  j["name"] = m.spec.name;
  j["format"] = std::string(FileFormatName(m.spec.format));
  j["location"] = m.spec.location;
  j["partition_keys"] = m.spec.partition_keys;
  j["properties"] = m.spec.properties;
  if (m.spec.format == FileFormat::kCsv) j["csv"] = DialectToJson(m.spec.csv);
  json schemas = json::array();
  for (const SchemaVersion& s : m.schemas)
    schemas.push_back({{"id", s.id}, {"timestamp_ms", s.timestamp_ms}, {"fields", SchemaToJson(s.schema)}});
  j["schemas"] = std::move(schemas);
  j["current_schema_id"] = m.current_schema_id;
  json snaps = json::array();
  for (const SnapshotInfo& s : m.snapshots) {
    snaps.push_back({{"id", s.id},
                     {"parent_id", s.parent_id},
                     {"timestamp_ms", s.timestamp_ms},
                     {"operation", s.operation},
                     {"schema_id", s.schema_id},
                     {"manifest_list", s.manifest_list},
                     {"added_files", s.added_files},
                     {"removed_files", s.removed_files},
                     {"total_files", s.total_files},
                     {"total_rows", s.total_rows},
                     {"total_bytes", s.total_bytes}});
  }
  j["snapshots"] = std::move(snaps);
  j["current_snapshot_id"] = m.current_snapshot_id;
  j["last_snapshot_id"] = m.last_snapshot_id;
  j["created_ms"] = m.created_ms;
  j["updated_ms"] = m.updated_ms;
  return j.dump(1, ' ', false, json::error_handler_t::replace);
}

Result<TableMetadata> DecodeMetadata(std::string_view text, std::string_view where) {
  return Guard(where, [&]() -> Result<TableMetadata> {
    json j = json::parse(text);
    TableMetadata m;
    if (j.value("format_version", 0) != 1)
      return Status::Corruption("unsupported catalog format_version " + j.value("format_version", json(0)).dump());
    m.version = j.at("version").get<int64_t>();
    m.spec.name = j.at("name").get<std::string>();
    SL_ASSIGN_OR_RETURN(m.spec.format, ParseFileFormat(j.at("format").get<std::string>()));
    m.spec.location = j.at("location").get<std::string>();
    m.spec.partition_keys = j.at("partition_keys").get<std::vector<std::string>>();
    m.spec.properties = j.at("properties").get<std::map<std::string, std::string>>();
    if (j.contains("csv")) m.spec.csv = DialectFromJson(j["csv"]);
    for (const json& s : j.at("schemas")) {
      SchemaVersion sv;
      sv.id = s.at("id").get<int64_t>();
      sv.timestamp_ms = s.at("timestamp_ms").get<int64_t>();
      SL_ASSIGN_OR_RETURN(sv.schema, SchemaFromJson(s.at("fields")));
      m.schemas.push_back(std::move(sv));
    }
    m.current_schema_id = j.at("current_schema_id").get<int64_t>();
    const SchemaVersion* cur = m.FindSchema(m.current_schema_id);
    if (cur == nullptr) return Status::Corruption("current schema id is not in the schema history");
    m.spec.schema = cur->schema;
    for (const json& s : j.at("snapshots")) {
      SnapshotInfo si;
      si.id = s.at("id").get<int64_t>();
      si.parent_id = s.at("parent_id").get<int64_t>();
      si.timestamp_ms = s.at("timestamp_ms").get<int64_t>();
      si.operation = s.at("operation").get<std::string>();
      si.schema_id = s.at("schema_id").get<int64_t>();
      si.manifest_list = s.at("manifest_list").get<std::string>();
      si.added_files = s.value("added_files", int64_t{0});
      si.removed_files = s.value("removed_files", int64_t{0});
      si.total_files = s.value("total_files", int64_t{0});
      si.total_rows = s.value("total_rows", int64_t{0});
      si.total_bytes = s.value("total_bytes", int64_t{0});
      m.snapshots.push_back(std::move(si));
    }
    m.current_snapshot_id = j.at("current_snapshot_id").get<int64_t>();
    m.last_snapshot_id = j.at("last_snapshot_id").get<int64_t>();
    if (m.current_snapshot_id != 0 && m.current_snapshot() == nullptr)
      return Status::Corruption("current snapshot " + std::to_string(m.current_snapshot_id) +
                                " is not in the snapshot list");
    m.created_ms = j.value("created_ms", int64_t{0});
    m.updated_ms = j.value("updated_ms", int64_t{0});
    return m;
  });
}

std::string EncodeManifest(const std::vector<DataFile>& files) {
  json j;
  j["format_version"] = 1;
  json arr = json::array();
  for (const DataFile& f : files) arr.push_back(DataFileToJson(f));
  j["files"] = std::move(arr);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Manifests are what every listing of a table reads, so they are decoded with simdjson (several
// times faster than a tree of nlohmann values); the other catalog objects are small.
Result<std::vector<DataFile>> DecodeManifest(std::string_view text, std::string_view where) {
  auto decode = [&]() -> Result<std::vector<DataFile>> {
    SL_ASSIGN_OR_RETURN(dom::element doc, ParseDom(text));
    dom::object o;
    dom::array files;
    if (!Get(doc, &o) || !Member(o, "files", &files)) return Status::Corruption("a manifest needs a \"files\" array");
    std::vector<DataFile> out;
    out.reserve(files.size());
    for (dom::element f : files) {
      SL_ASSIGN_OR_RETURN(DataFile df, DataFileFromDom(f));
      out.push_back(std::move(df));
    }
    return out;
  };
  auto r = decode();
  if (!r.ok()) return r.status().WithContext(where);
  return r;
}

std::string EncodeManifestList(const std::vector<ManifestRef>& manifests) {
  json j;
  j["format_version"] = 1;
  json arr = json::array();
  for (const ManifestRef& m : manifests) arr.push_back({{"key", m.key}, {"files", m.files}});
  j["manifests"] = std::move(arr);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::vector<ManifestRef>> DecodeManifestList(std::string_view text, std::string_view where) {
  return Guard(where, [&]() -> Result<std::vector<ManifestRef>> {
    json j = json::parse(text);
    std::vector<ManifestRef> out;
    for (const json& m : j.at("manifests"))
      out.push_back({m.at("key").get<std::string>(), m.value("files", int64_t{0})});
    return out;
  });
}

}  // namespace saleslake::catalog::internal
