// The Parquet metadata structures (parquet.thrift) and their compact-protocol codec.
// Only the fields saleslake reads or writes are kept; unknown fields are skipped on read.
// Decoders check every length and count against the bytes left (see thrift.h) and report a
// Corruption status that names the structure; they never allocate more than the input allows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace saleslake::parquet::internal {

// parquet.thrift enums (values are the wire values).
enum PhysicalType : int32_t {
  kBoolean = 0, kInt32 = 1, kInt64 = 2, kInt96 = 3, kFloat = 4, kDouble = 5, kByteArray = 6,
  kFixedLenByteArray = 7,
};
enum Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };
enum ConvertedType : int32_t {
  kUtf8 = 0, kMap = 1, kMapKeyValue = 2, kList = 3, kEnum = 4, kDecimalCT = 5, kDateCT = 6,
  kTimeMillis = 7, kTimeMicros = 8, kTimestampMillis = 9, kTimestampMicros = 10, kUint8 = 11,
  kUint16 = 12, kUint32 = 13, kUint64 = 14, kInt8 = 15, kInt16 = 16, kInt32CT = 17, kInt64CT = 18,
  kJson = 19, kBson = 20, kIntervalCT = 21,
};
enum Encoding : int32_t {
  kPlain = 0, kPlainDictionary = 2, kRle = 3, kBitPacked = 4, kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6, kDeltaByteArray = 7, kRleDictionary = 8, kByteStreamSplit = 9,
};
enum Codec : int32_t {
  kUncompressedCodec = 0, kSnappyCodec = 1, kGzipCodec = 2, kLzoCodec = 3, kBrotliCodec = 4,
  kLz4Codec = 5, kZstdCodec = 6, kLz4RawCodec = 7,
};
enum PageType : int32_t { kDataPage = 0, kIndexPage = 1, kDictionaryPage = 2, kDataPageV2 = 3 };
enum TimeUnit : int32_t { kMillis = 0, kMicros = 1, kNanos = 2 };

const char* PhysicalTypeName(int32_t t);
const char* EncodingName(int32_t e);
const char* CodecName(int32_t c);
const char* PageTypeName(int32_t t);
const char* ConvertedTypeName(int32_t c);

struct LogicalType {
  enum Kind : int32_t {
    kNone = 0, kString = 1, kMap = 2, kList = 3, kEnum = 4, kDecimal = 5, kDate = 6, kTime = 7,
    kTimestamp = 8, kInteger = 10, kUnknown = 11, kJson = 12, kBson = 13, kUuid = 14,
    kFloat16 = 15, kOther = 99,
  };
  Kind kind = kNone;
  int32_t scale = 0, precision = 0;  // decimal
  bool utc = false;                  // time, timestamp
  TimeUnit unit = kMicros;           // time, timestamp
  int8_t bit_width = 0;              // integer
  bool is_signed = true;             // integer
  std::string ToString() const;
};

struct KeyValue {
  std::string key;
  std::optional<std::string> value;
};

struct Statistics {
  std::optional<std::string> max, min;              // deprecated (signed order only)
  std::optional<std::string> max_value, min_value;  // the ones to use
  std::optional<int64_t> null_count, distinct_count;
  std::optional<bool> is_max_value_exact, is_min_value_exact;
};

struct SchemaElement {
  std::optional<int32_t> type;  // PhysicalType; absent for groups
  int32_t type_length = 0;
  std::optional<int32_t> repetition;
  std::string name;
  int32_t num_children = 0;
  std::optional<int32_t> converted_type;
  std::optional<int32_t> scale, precision, field_id;
  std::optional<LogicalType> logical;
};

struct PageEncodingStats {
  int32_t page_type = 0, encoding = 0, count = 0;
};

struct ColumnMetaData {
  int32_t type = 0;
  std::vector<int32_t> encodings;
  std::vector<std::string> path;
  int32_t codec = 0;
  int64_t num_values = 0, total_uncompressed_size = 0, total_compressed_size = 0;
  std::vector<KeyValue> key_value_metadata;
  int64_t data_page_offset = 0;
  std::optional<int64_t> index_page_offset, dictionary_page_offset;
  std::optional<Statistics> statistics;
  std::vector<PageEncodingStats> encoding_stats;
  std::optional<int64_t> bloom_filter_offset;
  std::optional<int32_t> bloom_filter_length;
};

struct ColumnChunk {
  std::optional<std::string> file_path;
  int64_t file_offset = 0;
  std::optional<ColumnMetaData> meta_data;
  std::optional<int64_t> offset_index_offset, column_index_offset;
  std::optional<int32_t> offset_index_length, column_index_length;
  bool encrypted = false;
};

struct SortingColumn {
  int32_t column_idx = 0;
  bool descending = false, nulls_first = false;
};

struct RowGroup {
  std::vector<ColumnChunk> columns;
  int64_t total_byte_size = 0, num_rows = 0;
  std::vector<SortingColumn> sorting_columns;
  std::optional<int64_t> file_offset, total_compressed_size;
  std::optional<int16_t> ordinal;
};

struct FileMetaData {
  int32_t version = 1;
  std::vector<SchemaElement> schema;
  int64_t num_rows = 0;
  std::vector<RowGroup> row_groups;
  std::vector<KeyValue> key_value_metadata;
  std::optional<std::string> created_by;
  std::vector<int32_t> column_orders;  // 1 = TypeDefinedOrder, 0 = unknown order
  bool encrypted = false;
};

struct DataPageHeader {
  int32_t num_values = 0, encoding = 0, definition_level_encoding = 0,
          repetition_level_encoding = 0;
  std::optional<Statistics> statistics;
};
struct DictionaryPageHeader {
  int32_t num_values = 0, encoding = 0;
  bool is_sorted = false;
};
struct DataPageHeaderV2 {
  int32_t num_values = 0, num_nulls = 0, num_rows = 0, encoding = 0,
          definition_levels_byte_length = 0, repetition_levels_byte_length = 0;
  bool is_compressed = true;
  std::optional<Statistics> statistics;
};
struct PageHeader {
  int32_t type = 0, uncompressed_page_size = 0, compressed_page_size = 0;
  std::optional<int32_t> crc;
  std::optional<DataPageHeader> data_page_header;
  std::optional<DictionaryPageHeader> dictionary_page_header;
  std::optional<DataPageHeaderV2> data_page_header_v2;
};

struct ColumnIndex {
  std::vector<bool> null_pages;
  std::vector<std::string> min_values, max_values;
  int32_t boundary_order = 0;  // 0 unordered, 1 ascending, 2 descending
  std::vector<int64_t> null_counts;
};
struct PageLocation {
  int64_t offset = 0;
  int32_t compressed_page_size = 0;
  int64_t first_row_index = 0;
};
struct OffsetIndex {
  std::vector<PageLocation> page_locations;
};

// Decoders: `*consumed` (optional) receives the bytes used. Corruption on malformed input.
Status DecodeFileMetaData(const uint8_t* data, size_t size, FileMetaData* out);
Status DecodePageHeader(const uint8_t* data, size_t size, PageHeader* out, size_t* consumed);
Status DecodeColumnIndex(const uint8_t* data, size_t size, ColumnIndex* out);
Status DecodeOffsetIndex(const uint8_t* data, size_t size, OffsetIndex* out);

// Encoders append to `out`.
void EncodeFileMetaData(const FileMetaData& md, std::string* out);
void EncodePageHeader(const PageHeader& h, std::string* out);
void EncodeColumnIndex(const ColumnIndex& ci, std::string* out);
void EncodeOffsetIndex(const OffsetIndex& oi, std::string* out);

}  // namespace saleslake::parquet::internal
