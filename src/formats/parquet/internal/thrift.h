// Thrift compact protocol: the byte-level reader and writer that the Parquet metadata codec
// (metadata.h) is built on. Written from the Thrift compact protocol specification.
//
// ThriftReader keeps a sticky error: after the first problem (read past the end, bad type, too
// deep, a length or count larger than the bytes left) every read returns zero values and ok()
// turns false, so decoders can read a whole struct and check once. Every length and count is
// checked against the bytes that remain, so a lying length can never cause a big allocation.
// Thread safety: none; one reader/writer per buffer.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace saleslake::parquet::internal {

enum class TType : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

class ThriftReader {
 public:
  ThriftReader(const uint8_t* data, size_t size) : p_(data), begin_(data), end_(data + size) {}

  bool ok() const { return error_ == nullptr; }
  const char* error() const { return error_ ? error_ : ""; }
  size_t error_position() const { return error_pos_; }
  int16_t error_field() const { return error_field_; }
  size_t position() const { return static_cast<size_t>(p_ - begin_); }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  // Id of the last field header read (for error messages).
  int16_t last_field() const { return last_id_; }
  void Fail(const char* why) {
    if (error_ == nullptr) {
      error_ = why;
      error_pos_ = position();
      error_field_ = last_id_;
    }
    p_ = end_;
  }

  // Struct traversal. ReadFieldBegin returns false at the field stop (or on error).
  void StructBegin() {
    if (++depth_ > kMaxDepth) Fail("thrift: structs nested too deeply");
    last_ids_.push_back(last_id_);
    last_id_ = 0;
  }
  void StructEnd() {
    --depth_;
    if (!last_ids_.empty()) {
      last_id_ = last_ids_.back();
      last_ids_.pop_back();
    }
  }
  bool ReadFieldBegin(int16_t* id, TType* type);

  // Values. For a bool field the value is in the field header: pass the header's type.
  bool ReadBoolField(TType header_type) { return header_type == TType::kBoolTrue; }
  bool ReadBoolElement() { return ReadByte() == 1; }  // in lists: 1 = true, 2 (or 0) = false
  int8_t ReadByte() {
    if (p_ >= end_) {
      Fail("thrift: read past the end");
      return 0;
    }
    return static_cast<int8_t>(*p_++);
  }
  uint64_t ReadVarint();
  int64_t ReadZigzag() {
    uint64_t v = ReadVarint();
    return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
  }
  int16_t ReadI16() { return static_cast<int16_t>(ReadZigzag()); }
  int32_t ReadI32() {
    int64_t v = ReadZigzag();
    if (v < INT32_MIN || v > INT32_MAX) Fail("thrift: i32 out of range");
    return static_cast<int32_t>(v);
  }
  int64_t ReadI64() { return ReadZigzag(); }
  double ReadDouble();
  // A view into the buffer (valid as long as the buffer).
  std::string_view ReadBinary();
  std::string ReadString() { return std::string(ReadBinary()); }
  // List/set header: element type and count. The count is checked against the bytes left
  // (every element takes at least one byte, except bools never take less than one either).
  bool ReadListBegin(TType* elem, uint32_t* count);
  bool ReadMapBegin(TType* key, TType* value, uint32_t* count);

  // Skips one value of any type (bounded recursion).
  void Skip(TType type);

 private:
  static constexpr int kMaxDepth = 64;
  const uint8_t* p_;
  const uint8_t* begin_;
  const uint8_t* end_;
  const char* error_ = nullptr;
  size_t error_pos_ = 0;
  int16_t error_field_ = 0;
  int depth_ = 0;
  int16_t last_id_ = 0;
  std::vector<int16_t> last_ids_;
};

class ThriftWriter {
 public:
  explicit ThriftWriter(std::string* out) : out_(out) {}

  void StructBegin() {
    last_ids_.push_back(last_id_);
    last_id_ = 0;
  }
  void StructEnd() {
    out_->push_back(0);  // stop
    last_id_ = last_ids_.back();
    last_ids_.pop_back();
  }
  void FieldBegin(int16_t id, TType type);

  void I32Field(int16_t id, int32_t v) {
    FieldBegin(id, TType::kI32);
    WriteZigzag(v);
  }
  void I64Field(int16_t id, int64_t v) {
    FieldBegin(id, TType::kI64);
    WriteZigzag(v);
  }
  void I16Field(int16_t id, int16_t v) {
    FieldBegin(id, TType::kI16);
    WriteZigzag(v);
  }
  void ByteField(int16_t id, int8_t v) {
    FieldBegin(id, TType::kByte);
    out_->push_back(static_cast<char>(v));
  }
  void BoolField(int16_t id, bool v) { FieldBegin(id, v ? TType::kBoolTrue : TType::kBoolFalse); }
  void BinaryField(int16_t id, std::string_view v) {
    FieldBegin(id, TType::kBinary);
    WriteBinary(v);
  }
  // Begins a struct-valued field; close it with StructEnd().
  void StructField(int16_t id) {
    FieldBegin(id, TType::kStruct);
    StructBegin();
  }
  void ListField(int16_t id, TType elem, uint32_t count) {
    FieldBegin(id, TType::kList);
    ListBegin(elem, count);
  }
  void ListBegin(TType elem, uint32_t count);

  void WriteVarint(uint64_t v);
  void WriteZigzag(int64_t v) {
    WriteVarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  void WriteBinary(std::string_view v) {
    WriteVarint(v.size());
    out_->append(v);
  }
  void WriteBoolElement(bool v) { out_->push_back(v ? 1 : 2); }

 private:
  std::string* out_;
  int16_t last_id_ = 0;
  std::vector<int16_t> last_ids_;
};

}  // namespace saleslake::parquet::internal
