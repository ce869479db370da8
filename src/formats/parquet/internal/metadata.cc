#include "formats/parquet/internal/metadata.h"

#include <fmt/format.h>

#include "formats/parquet/internal/thrift.h"

namespace saleslake::parquet::internal {

const char* PhysicalTypeName(int32_t t) {
  static const char* kNames[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                 "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
  return t >= 0 && t < 8 ? kNames[t] : "UNKNOWN";
}
const char* EncodingName(int32_t e) {
  static const char* kNames[] = {"PLAIN",
                                 "GROUP_VAR_INT",
                                 "PLAIN_DICTIONARY",
                                 "RLE",
                                 "BIT_PACKED",
                                 "DELTA_BINARY_PACKED",
                                 "DELTA_LENGTH_BYTE_ARRAY",
                                 "DELTA_BYTE_ARRAY",
                                 "RLE_DICTIONARY",
                                 "BYTE_STREAM_SPLIT"};
  return e >= 0 && e < 10 ? kNames[e] : "UNKNOWN";
}
const char* CodecName(int32_t c) {
  static const char* kNames[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                 "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
  return c >= 0 && c < 8 ? kNames[c] : "UNKNOWN";
}
const char* PageTypeName(int32_t t) {
  static const char* kNames[] = {"DATA_PAGE", "INDEX_PAGE", "DICTIONARY_PAGE", "DATA_PAGE_V2"};
  return t >= 0 && t < 4 ? kNames[t] : "UNKNOWN";
}
const char* ConvertedTypeName(int32_t c) {
  static const char* kNames[] = {
      "UTF8",       "MAP",        "MAP_KEY_VALUE", "LIST",   "ENUM",   "DECIMAL",
      "DATE",       "TIME_MILLIS", "TIME_MICROS",  "TIMESTAMP_MILLIS", "TIMESTAMP_MICROS",
      "UINT_8",     "UINT_16",    "UINT_32",       "UINT_64", "INT_8",  "INT_16",
      "INT_32",     "INT_64",     "JSON",          "BSON",    "INTERVAL"};
  return c >= 0 && c < 22 ? kNames[c] : "UNKNOWN";
}

std::string LogicalType::ToString() const {
  const char* units[] = {"MILLIS", "MICROS", "NANOS"};
  switch (kind) {
    case kNone: return "";
    case kString: return "STRING";
    case kMap: return "MAP";
    case kList: return "LIST";
    case kEnum: return "ENUM";
    case kDecimal: return fmt::format("DECIMAL({},{})", precision, scale);
    case kDate: return "DATE";
    case kTime: return fmt::format("TIME({},{})", units[unit], utc ? "UTC" : "local");
    case kTimestamp: return fmt::format("TIMESTAMP({},{})", units[unit], utc ? "UTC" : "local");
    case kInteger: return fmt::format("INT({},{})", bit_width, is_signed ? "signed" : "unsigned");
    case kUnknown: return "NULL";
    case kJson: return "JSON";
    case kBson: return "BSON";
    case kUuid: return "UUID";
    case kFloat16: return "FLOAT16";
    case kOther: return "OTHER";
  }
  return "";
}

namespace {

using R = ThriftReader;

// Iterates the fields of a struct: FIELDS(r) { switch (id) { ... default: r.Skip(t); } }
#define FOR_EACH_FIELD(r)      \
  int16_t id;                  \
  TType t;                     \
  (r).StructBegin();           \
  for (; (r).ok() && (r).ReadFieldBegin(&id, &t);)

bool IsBool(TType t) { return t == TType::kBoolTrue || t == TType::kBoolFalse; }

// Reads a list of `T` with `read_elem(r, T*)`; the count was bounded by the bytes left.
template <typename T, typename F>
void ReadList(R& r, TType t, std::vector<T>* out, F read_elem) {
  if (t != TType::kList && t != TType::kSet) return r.Skip(t);
  TType elem;
  uint32_t n;
  if (!r.ReadListBegin(&elem, &n)) return;
  out->clear();
  out->reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    out->emplace_back();
    read_elem(r, elem, &out->back());
  }
}

// Type checks: a field whose wire type does not match is skipped rather than misread.
int32_t I32(R& r, TType t) {
  if (t == TType::kI64) {  // some writers widen i32 fields; accept them when the value fits
    return r.ReadI32();
  }
  if (t != TType::kI32 && t != TType::kI16 && t != TType::kByte) {
    r.Skip(t);  // a field of another type (another format revision): ignore its value
    return 0;
  }
  if (t == TType::kByte) return r.ReadByte();
  return r.ReadI32();
}
int64_t I64(R& r, TType t) {
  if (t != TType::kI64 && t != TType::kI32 && t != TType::kI16) {
    r.Skip(t);
    return 0;
  }
  return r.ReadI64();
}
std::string Str(R& r, TType t) {
  if (t != TType::kBinary) {
    r.Fail("thrift: field has the wrong type (expected binary)");
    return {};
  }
  return r.ReadString();
}
bool Bool(R& r, TType t) {
  if (!IsBool(t)) {
    r.Fail("thrift: field has the wrong type (expected bool)");
    return false;
  }
  return r.ReadBoolField(t);
}

void ReadI32Elem(R& r, TType t, int32_t* out) { *out = I32(r, t); }
void ReadI64Elem(R& r, TType t, int64_t* out) { *out = I64(r, t); }
void ReadStrElem(R& r, TType t, std::string* out) { *out = Str(r, t); }

bool ExpectStruct(R& r, TType t) {
  if (t == TType::kStruct) return true;
  r.Skip(t);
  r.Fail("thrift: field has the wrong type (expected struct)");
  return false;
}

void ReadKeyValue(R& r, TType outer_t, KeyValue* kv) {
  if (!ExpectStruct(r, outer_t)) return;
  FOR_EACH_FIELD(r) {
    switch (id) {
      case 1: kv->key = Str(r, t); break;
      case 2: kv->value = Str(r, t); break;
      default: r.Skip(t);
    }
  }
  r.StructEnd();
}

void ReadStatistics(R& r, Statistics* s) {
  FOR_EACH_FIELD(r) {
    switch (id) {
      case 1: s->max = Str(r, t); break;
      case 2: s->min = Str(r, t); break;
      case 3: s->null_count = I64(r, t); break;
      case 4: s->distinct_count = I64(r, t); break;
      case 5: s->max_value = Str(r, t); break;
      case 6: s->min_value = Str(r, t); break;
      case 7: s->is_max_value_exact = Bool(r, t); break;
      case 8: s->is_min_value_exact = Bool(r, t); break;
      default: r.Skip(t);
    }
  }
  r.StructEnd();
}

// TimeUnit union: which member is set.
TimeUnit ReadTimeUnit(R& r) {
  TimeUnit unit = kMicros;
  FOR_EACH_FIELD(r) {
    if (id >= 1 && id <= 3) unit = static_cast<TimeUnit>(id - 1);
    r.Skip(t);
  }
  r.StructEnd();
  return unit;
}

void ReadLogicalType(R& r, LogicalType* lt) {
  FOR_EACH_FIELD(r) {
    if (t != TType::kStruct) {
      r.Skip(t);
      continue;
    }
    switch (id) {
      case 5: {
        lt->kind = LogicalType::kDecimal;
        FOR_EACH_FIELD(r) {
          if (id == 1) lt->scale = I32(r, t);
          else if (id == 2) lt->precision = I32(r, t);
          else r.Skip(t);
        }
        r.StructEnd();
        break;
      }
      case 7:
      case 8: {
        lt->kind = id == 7 ? LogicalType::kTime : LogicalType::kTimestamp;
        FOR_EACH_FIELD(r) {
          if (id == 1) lt->utc = Bool(r, t);
          else if (id == 2 && t == TType::kStruct) lt->unit = ReadTimeUnit(r);
          else r.Skip(t);
        }
        r.StructEnd();
        break;
      }
      case 10: {
        lt->kind = LogicalType::kInteger;
        FOR_EACH_FIELD(r) {
          if (id == 1) lt->bit_width = static_cast<int8_t>(I32(r, t));
          else if (id == 2) lt->is_signed = Bool(r, t);
          else r.Skip(t);
        }
        r.StructEnd();
        break;
      }
      case 1: case 2: case 3: case 4: case 6: case 11: case 12: case 13: case 14: case 15:
        lt->kind = static_cast<LogicalType::Kind>(id);
        r.Skip(t);
        break;
      default:
        lt->kind = LogicalType::kOther;  // a future type: callers fall back to the physical type
        r.Skip(t);
    }
  }
  r.StructEnd();
}

void ReadSchemaElement(R& r, TType outer_t, SchemaElement* e) {
  if (!ExpectStruct(r, outer_t)) return;
  bool have_name = false;
  FOR_EACH_FIELD(r) {
    switch (id) {
      case 1: e->type = I32(r, t); break;
      case 2: e->type_length = I32(r, t); break;
      case 3: e->repetition = I32(r, t); break;
      case 4: e->name = Str(r, t); have_name = true; break;
      case 5: e->num_children = I32(r, t); break;
      case 6: e->converted_type = I32(r, t); break;
      case 7: e->scale = I32(r, t); break;
      case 8: e->precision = I32(r, t); break;
      case 9: e->field_id = I32(r, t); break;
      case 10:
        if (ExpectStruct(r, t)) {
          e->logical.emplace();
          ReadLogicalType(r, &*e->logical);
        }
        break;
      default: r.Skip(t);
    }
  }
  r.StructEnd();
  if (r.ok() && !have_name) r.Fail("SchemaElement without a name");
  if (e->type && (*e->type < 0 || *e->type > 7)) r.Fail("SchemaElement with an invalid physical type");
}

void ReadColumnMetaData(R& r, ColumnMetaData* m) {
  FOR_EACH_FIELD(r) {
    switch (id) {
      case 1: m->type = I32(r, t); break;
      case 2: ReadList(r, t, &m->encodings, ReadI32Elem); break;
      case 3: ReadList(r, t, &m->path, ReadStrElem); break;
      case 4: m->codec = I32(r, t); break;
      case 5: m->num_values = I64(r, t); break;
      case 6: m->total_uncompressed_size = I64(r, t); break;
      case 7: m->total_compressed_size = I64(r, t); break;
      case 8: ReadList(r, t, &m->key_value_metadata, ReadKeyValue); break;
      case 9: m->data_page_offset = I64(r, t); break;
      case 10: m->index_page_offset = I64(r, t); break;
      case 11: m->dictionary_page_offset = I64(r, t); break;
      case 12:
        if (ExpectStruct(r, t)) {
          m->statistics.emplace();
          ReadStatistics(r, &*m->statistics);
        }
        break;
      case 13:
        ReadList(r, t, &m->encoding_stats, [](R& r, TType outer_t, PageEncodingStats* s) {
          if (!ExpectStruct(r, outer_t)) return;
          FOR_EACH_FIELD(r) {
            if (id == 1) s->page_type = I32(r, t);
            else if (id == 2) s->encoding = I32(r, t);
            else if (id == 3) s->count = I32(r, t);
            else r.Skip(t);
          }
          r.StructEnd();
        });
        break;
      case 14: m->bloom_filter_offset = I64(r, t); break;
      case 15: m->bloom_filter_length = I32(r, t); break;
      default: r.Skip(t);
    }
  }
  r.StructEnd();
}

void ReadColumnChunk(R& r, TType outer_t, ColumnChunk* c) {
  if (!ExpectStruct(r, outer_t)) return;
  FOR_EACH_FIELD(r) {
    switch (id) {
      case 1: c->file_path = Str(r, t); break;
      case 2: c->file_offset = I64(r, t); break;
      case 3:
        if (ExpectStruct(r, t)) {
          c->meta_data.emplace();
          ReadColumnMetaData(r, &*c->meta_data);
        }
        break;
      case 4: c->offset_index_offset = I64(r, t); break;
      case 5: c->offset_index_length = I32(r, t); break;
      case 6: c->column_index_offset = I64(r, t); break;
      case 7: c->column_index_length = I32(r, t); break;
      case 8: case 9: c->encrypted = true; r.Skip(t); break;
      default: r.Skip(t);
    }
  }
  r.StructEnd();
}

void ReadRowGroup(R& r, TType outer_t, RowGroup* g) {
  if (!ExpectStruct(r, outer_t)) return;
  FOR_EACH_FIELD(r) {
    switch (id) {
      case 1: ReadList(r, t, &g->columns, ReadColumnChunk); break;
      case 2: g->total_byte_size = I64(r, t); break;
      case 3: g->num_rows = I64(r, t); break;
      case 4:
        ReadList(r, t, &g->sorting_columns, [](R& r, TType outer_t, SortingColumn* s) {
          if (!ExpectStruct(r, outer_t)) return;
          FOR_EACH_FIELD(r) {
            if (id == 1) s->column_idx = I32(r, t);
            else if (id == 2) s->descending = Bool(r, t);
            else if (id == 3) s->nulls_first = Bool(r, t);
            else r.Skip(t);
          }
          r.StructEnd();
        });
        break;
      case 5: g->file_offset = I64(r, t); break;
      case 6: g->total_compressed_size = I64(r, t); break;
      case 7: g->ordinal = static_cast<int16_t>(I32(r, t)); break;
      default: r.Skip(t);
    }
  }
  r.StructEnd();
}

Status Corrupt(const char* what, const R& r) {
  return Status::Corruption(fmt::format("{}: {} (field id {}, at byte {} of {})", what, r.error(),
                                        r.error_field(), r.error_position(),
                                        r.position() + r.remaining()));
}

}  // namespace

Status DecodeFileMetaData(const uint8_t* data, size_t size, FileMetaData* md) {
  R r(data, size);
  bool have_schema = false, have_rows = false, have_groups = false;
  FOR_EACH_FIELD(r) {
    switch (id) {
      case 1: md->version = I32(r, t); break;
      case 2: ReadList(r, t, &md->schema, ReadSchemaElement); have_schema = true; break;
      case 3: md->num_rows = I64(r, t); have_rows = true; break;
      case 4: ReadList(r, t, &md->row_groups, ReadRowGroup); have_groups = true; break;
      case 5: ReadList(r, t, &md->key_value_metadata, ReadKeyValue); break;
      case 6: md->created_by = Str(r, t); break;
      case 7:
        ReadList(r, t, &md->column_orders, [](R& r, TType outer_t, int32_t* order) {
          *order = 0;
          if (!ExpectStruct(r, outer_t)) return;
          FOR_EACH_FIELD(r) {
            if (id == 1) *order = 1;
            r.Skip(t);
          }
          r.StructEnd();
        });
        break;
      case 8: md->encrypted = true; r.Skip(t); break;
      default: r.Skip(t);
    }
  }
  r.StructEnd();
  if (!r.ok()) return Corrupt("footer FileMetaData", r);
  if (!have_schema || !have_rows || !have_groups) {
    return Status::Corruption("footer FileMetaData: a required field (schema, num_rows, row_groups) is missing");
  }
  return Status::OK();
}

Status DecodePageHeader(const uint8_t* data, size_t size, PageHeader* h, size_t* consumed) {
  R r(data, size);
  bool have_type = false, have_sizes = false;
  FOR_EACH_FIELD(r) {
    switch (id) {
      case 1: h->type = I32(r, t); have_type = true; break;
      case 2: h->uncompressed_page_size = I32(r, t); break;
      case 3: h->compressed_page_size = I32(r, t); have_sizes = true; break;
      case 4: h->crc = I32(r, t); break;
      case 5:
        if (ExpectStruct(r, t)) {
          auto& d = h->data_page_header.emplace();
          FOR_EACH_FIELD(r) {
            switch (id) {
              case 1: d.num_values = I32(r, t); break;
              case 2: d.encoding = I32(r, t); break;
              case 3: d.definition_level_encoding = I32(r, t); break;
              case 4: d.repetition_level_encoding = I32(r, t); break;
              case 5:
                if (ExpectStruct(r, t)) ReadStatistics(r, &d.statistics.emplace());
                break;
              default: r.Skip(t);
            }
          }
          r.StructEnd();
        }
        break;
      case 7:
        if (ExpectStruct(r, t)) {
          auto& d = h->dictionary_page_header.emplace();
          FOR_EACH_FIELD(r) {
            switch (id) {
              case 1: d.num_values = I32(r, t); break;
              case 2: d.encoding = I32(r, t); break;
              case 3: d.is_sorted = Bool(r, t); break;
              default: r.Skip(t);
            }
          }
          r.StructEnd();
        }
        break;
      case 8:
        if (ExpectStruct(r, t)) {
          auto& d = h->data_page_header_v2.emplace();
          FOR_EACH_FIELD(r) {
            switch (id) {
              case 1: d.num_values = I32(r, t); break;
              case 2: d.num_nulls = I32(r, t); break;
              case 3: d.num_rows = I32(r, t); break;
              case 4: d.encoding = I32(r, t); break;
              case 5: d.definition_levels_byte_length = I32(r, t); break;
              case 6: d.repetition_levels_byte_length = I32(r, t); break;
              case 7: d.is_compressed = Bool(r, t); break;
              case 8:
                if (ExpectStruct(r, t)) ReadStatistics(r, &d.statistics.emplace());
                break;
              default: r.Skip(t);
            }
          }
          r.StructEnd();
        }
        break;
      default: r.Skip(t);
    }
  }
  r.StructEnd();
  if (!r.ok()) return Corrupt("page header", r);
  if (!have_type || !have_sizes) return Status::Corruption("page header: type or sizes missing");
  if (consumed) *consumed = r.position();
  return Status::OK();
}

Status DecodeColumnIndex(const uint8_t* data, size_t size, ColumnIndex* ci) {
  R r(data, size);
  FOR_EACH_FIELD(r) {
    switch (id) {
      case 1: {
        std::vector<int32_t> tmp;
        ReadList(r, t, &tmp, [](R& r, TType t, int32_t* v) {
          *v = IsBool(t) ? r.ReadBoolElement() : I32(r, t);
        });
        ci->null_pages.assign(tmp.begin(), tmp.end());
        break;
      }
      case 2: ReadList(r, t, &ci->min_values, ReadStrElem); break;
      case 3: ReadList(r, t, &ci->max_values, ReadStrElem); break;
      case 4: ci->boundary_order = I32(r, t); break;
      case 5: ReadList(r, t, &ci->null_counts, ReadI64Elem); break;
      default: r.Skip(t);
    }
  }
  r.StructEnd();
  if (!r.ok()) return Corrupt("column index", r);
  return Status::OK();
}

Status DecodeOffsetIndex(const uint8_t* data, size_t size, OffsetIndex* oi) {
  R r(data, size);
  FOR_EACH_FIELD(r) {
    if (id == 1) {
      ReadList(r, t, &oi->page_locations, [](R& r, TType outer_t, PageLocation* p) {
        if (!ExpectStruct(r, outer_t)) return;
        FOR_EACH_FIELD(r) {
          if (id == 1) p->offset = I64(r, t);
          else if (id == 2) p->compressed_page_size = I32(r, t);
          else if (id == 3) p->first_row_index = I64(r, t);
          else r.Skip(t);
        }
        r.StructEnd();
      });
    } else {
      r.Skip(t);
    }
  }
  r.StructEnd();
  if (!r.ok()) return Corrupt("offset index", r);
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Encoders

namespace {

using W = ThriftWriter;

void WriteStatistics(W& w, int16_t field, const Statistics& s) {
  w.StructField(field);
  if (s.max) w.BinaryField(1, *s.max);
  if (s.min) w.BinaryField(2, *s.min);
  if (s.null_count) w.I64Field(3, *s.null_count);
  if (s.distinct_count) w.I64Field(4, *s.distinct_count);
  if (s.max_value) w.BinaryField(5, *s.max_value);
  if (s.min_value) w.BinaryField(6, *s.min_value);
  if (s.is_max_value_exact) w.BoolField(7, *s.is_max_value_exact);
  if (s.is_min_value_exact) w.BoolField(8, *s.is_min_value_exact);
  w.StructEnd();
}

void WriteKeyValues(W& w, int16_t field, const std::vector<KeyValue>& kvs) {
  w.ListField(field, TType::kStruct, static_cast<uint32_t>(kvs.size()));
  for (const auto& kv : kvs) {
    w.StructBegin();
    w.BinaryField(1, kv.key);
    if (kv.value) w.BinaryField(2, *kv.value);
    w.StructEnd();
  }
}

void WriteLogicalType(W& w, const LogicalType& lt) {
  w.StructField(10);
  w.StructField(static_cast<int16_t>(lt.kind));
  switch (lt.kind) {
    case LogicalType::kDecimal:
      w.I32Field(1, lt.scale);
      w.I32Field(2, lt.precision);
      break;
    case LogicalType::kTime:
    case LogicalType::kTimestamp:
      w.BoolField(1, lt.utc);
      w.StructField(2);
      w.StructField(static_cast<int16_t>(lt.unit + 1));
      w.StructEnd();
      w.StructEnd();
      break;
    case LogicalType::kInteger:
      w.ByteField(1, lt.bit_width);
      w.BoolField(2, lt.is_signed);
      break;
    default:
      break;
  }
  w.StructEnd();
  w.StructEnd();
}

}  // namespace

void EncodeFileMetaData(const FileMetaData& md, std::string* out) {
  W w(out);
  w.StructBegin();
  w.I32Field(1, md.version);
  w.ListField(2, TType::kStruct, static_cast<uint32_t>(md.schema.size()));
  for (const auto& e : md.schema) {
    w.StructBegin();
    if (e.type) w.I32Field(1, *e.type);
    if (e.type && *e.type == kFixedLenByteArray) w.I32Field(2, e.type_length);
    if (e.repetition) w.I32Field(3, *e.repetition);
    w.BinaryField(4, e.name);
    if (!e.type) w.I32Field(5, e.num_children);
    if (e.converted_type) w.I32Field(6, *e.converted_type);
    if (e.scale) w.I32Field(7, *e.scale);
    if (e.precision) w.I32Field(8, *e.precision);
    if (e.field_id) w.I32Field(9, *e.field_id);
    if (e.logical && e.logical->kind != LogicalType::kNone) WriteLogicalType(w, *e.logical);
    w.StructEnd();
  }
  w.I64Field(3, md.num_rows);
  w.ListField(4, TType::kStruct, static_cast<uint32_t>(md.row_groups.size()));
  for (const auto& g : md.row_groups) {
    w.StructBegin();
    w.ListField(1, TType::kStruct, static_cast<uint32_t>(g.columns.size()));
    for (const auto& c : g.columns) {
      w.StructBegin();
      if (c.file_path) w.BinaryField(1, *c.file_path);
      w.I64Field(2, c.file_offset);
      if (c.meta_data) {
        const ColumnMetaData& m = *c.meta_data;
        w.StructField(3);
        w.I32Field(1, m.type);
        w.ListField(2, TType::kI32, static_cast<uint32_t>(m.encodings.size()));
        for (int32_t e : m.encodings) w.WriteZigzag(e);
        w.ListField(3, TType::kBinary, static_cast<uint32_t>(m.path.size()));
        for (const auto& p : m.path) w.WriteBinary(p);
        w.I32Field(4, m.codec);
        w.I64Field(5, m.num_values);
        w.I64Field(6, m.total_uncompressed_size);
        w.I64Field(7, m.total_compressed_size);
        if (!m.key_value_metadata.empty()) WriteKeyValues(w, 8, m.key_value_metadata);
        w.I64Field(9, m.data_page_offset);
        if (m.index_page_offset) w.I64Field(10, *m.index_page_offset);
        if (m.dictionary_page_offset) w.I64Field(11, *m.dictionary_page_offset);
        if (m.statistics) WriteStatistics(w, 12, *m.statistics);
        if (!m.encoding_stats.empty()) {
          w.ListField(13, TType::kStruct, static_cast<uint32_t>(m.encoding_stats.size()));
          for (const auto& s : m.encoding_stats) {
            w.StructBegin();
            w.I32Field(1, s.page_type);
            w.I32Field(2, s.encoding);
            w.I32Field(3, s.count);
            w.StructEnd();
          }
        }
        w.StructEnd();
      }
      if (c.offset_index_offset) w.I64Field(4, *c.offset_index_offset);
      if (c.offset_index_length) w.I32Field(5, *c.offset_index_length);
      if (c.column_index_offset) w.I64Field(6, *c.column_index_offset);
      if (c.column_index_length) w.I32Field(7, *c.column_index_length);
      w.StructEnd();
    }
    w.I64Field(2, g.total_byte_size);
    w.I64Field(3, g.num_rows);
    if (g.file_offset) w.I64Field(5, *g.file_offset);
    if (g.total_compressed_size) w.I64Field(6, *g.total_compressed_size);
    if (g.ordinal) w.I16Field(7, *g.ordinal);
    w.StructEnd();
  }
  if (!md.key_value_metadata.empty()) WriteKeyValues(w, 5, md.key_value_metadata);
  if (md.created_by) w.BinaryField(6, *md.created_by);
  if (!md.column_orders.empty()) {
    w.ListField(7, TType::kStruct, static_cast<uint32_t>(md.column_orders.size()));
    for (size_t i = 0; i < md.column_orders.size(); ++i) {
      w.StructBegin();
      w.StructField(1);  // TYPE_ORDER
      w.StructEnd();
      w.StructEnd();
    }
  }
  w.StructEnd();
}

void EncodePageHeader(const PageHeader& h, std::string* out) {
  W w(out);
  w.StructBegin();
  w.I32Field(1, h.type);
  w.I32Field(2, h.uncompressed_page_size);
  w.I32Field(3, h.compressed_page_size);
  if (h.crc) w.I32Field(4, *h.crc);
  if (h.data_page_header) {
    const auto& d = *h.data_page_header;
    w.StructField(5);
    w.I32Field(1, d.num_values);
    w.I32Field(2, d.encoding);
    w.I32Field(3, d.definition_level_encoding);
    w.I32Field(4, d.repetition_level_encoding);
    if (d.statistics) WriteStatistics(w, 5, *d.statistics);
    w.StructEnd();
  }
  if (h.dictionary_page_header) {
    const auto& d = *h.dictionary_page_header;
    w.StructField(7);
    w.I32Field(1, d.num_values);
    w.I32Field(2, d.encoding);
    if (d.is_sorted) w.BoolField(3, true);
    w.StructEnd();
  }
  if (h.data_page_header_v2) {
    const auto& d = *h.data_page_header_v2;
    w.StructField(8);
    w.I32Field(1, d.num_values);
    w.I32Field(2, d.num_nulls);
    w.I32Field(3, d.num_rows);
    w.I32Field(4, d.encoding);
    w.I32Field(5, d.definition_levels_byte_length);
    w.I32Field(6, d.repetition_levels_byte_length);
    w.BoolField(7, d.is_compressed);
    if (d.statistics) WriteStatistics(w, 8, *d.statistics);
    w.StructEnd();
  }
  w.StructEnd();
}

void EncodeColumnIndex(const ColumnIndex& ci, std::string* out) {
  W w(out);
  w.StructBegin();
  w.ListField(1, TType::kBoolTrue, static_cast<uint32_t>(ci.null_pages.size()));
  for (bool b : ci.null_pages) w.WriteBoolElement(b);
  w.ListField(2, TType::kBinary, static_cast<uint32_t>(ci.min_values.size()));
  for (const auto& v : ci.min_values) w.WriteBinary(v);
  w.ListField(3, TType::kBinary, static_cast<uint32_t>(ci.max_values.size()));
  for (const auto& v : ci.max_values) w.WriteBinary(v);
  w.I32Field(4, ci.boundary_order);
  if (!ci.null_counts.empty()) {
    w.ListField(5, TType::kI64, static_cast<uint32_t>(ci.null_counts.size()));
    for (int64_t n : ci.null_counts) w.WriteZigzag(n);
  }
  w.StructEnd();
}

void EncodeOffsetIndex(const OffsetIndex& oi, std::string* out) {
  W w(out);
  w.StructBegin();
  w.ListField(1, TType::kStruct, static_cast<uint32_t>(oi.page_locations.size()));
  for (const auto& p : oi.page_locations) {
    w.StructBegin();
    w.I64Field(1, p.offset);
    w.I32Field(2, p.compressed_page_size);
    w.I64Field(3, p.first_row_index);
    w.StructEnd();
  }
  w.StructEnd();
}

}  // namespace saleslake::parquet::internal
