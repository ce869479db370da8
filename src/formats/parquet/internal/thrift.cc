#include "formats/parquet/internal/thrift.h"

namespace saleslake::parquet::internal {

uint64_t ThriftReader::ReadVarint() {
  uint64_t result = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (p_ >= end_) {
      Fail("thrift: read past the end");
      return 0;
    }
    uint8_t b = *p_++;
    if (shift == 63 && (b & 0x7e)) {
      Fail("thrift: varint overflows 64 bits");
      return 0;
    }
    result |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return result;
  }
  Fail("thrift: varint too long");
  return 0;
}

double ThriftReader::ReadDouble() {
  if (remaining() < 8) {
    Fail("thrift: read past the end");
    return 0;
  }
  double d;
  std::memcpy(&d, p_, 8);
  p_ += 8;
  return d;
}

std::string_view ThriftReader::ReadBinary() {
  uint64_t n = ReadVarint();
  if (!ok()) return {};
  if (n > remaining()) {
    Fail("thrift: binary length larger than the bytes left");
    return {};
  }
  std::string_view v(reinterpret_cast<const char*>(p_), n);
  p_ += n;
  return v;
}

static bool ValidType(uint8_t t) { return t <= 12; }

bool ThriftReader::ReadFieldBegin(int16_t* id, TType* type) {
  if (!ok()) return false;
  uint8_t b = static_cast<uint8_t>(ReadByte());
  if (!ok()) return false;
  uint8_t t = b & 0x0f;
  if (t == 0) return false;  // stop
  if (!ValidType(t)) {
    Fail("thrift: bad field type");
    return false;
  }
  uint8_t delta = b >> 4;
  if (delta == 0) {
    *id = ReadI16();
  } else {
    *id = static_cast<int16_t>(last_id_ + delta);
  }
  last_id_ = *id;
  *type = static_cast<TType>(t);
  return ok();
}

bool ThriftReader::ReadListBegin(TType* elem, uint32_t* count) {
  uint8_t b = static_cast<uint8_t>(ReadByte());
  if (!ok()) return false;
  uint64_t n = b >> 4;
  if (n == 15) n = ReadVarint();
  uint8_t t = b & 0x0f;
  if (!ValidType(t) || t == 0) {
    Fail("thrift: bad list element type");
    return false;
  }
  // Every element occupies at least one byte, so a count above the bytes left is a lie.
  if (n > remaining()) {
    Fail("thrift: list count larger than the bytes left");
    return false;
  }
  *elem = static_cast<TType>(t);
  *count = static_cast<uint32_t>(n);
  return ok();
}

bool ThriftReader::ReadMapBegin(TType* key, TType* value, uint32_t* count) {
  uint64_t n = ReadVarint();
  if (!ok()) return false;
  if (n == 0) {
    *count = 0;
    *key = *value = TType::kStop;
    return true;
  }
  uint8_t b = static_cast<uint8_t>(ReadByte());
  if (n > remaining()) {
    Fail("thrift: map count larger than the bytes left");
    return false;
  }
  if (!ValidType(b >> 4) || !ValidType(b & 0xf)) {
    Fail("thrift: bad map type");
    return false;
  }
  *key = static_cast<TType>(b >> 4);
  *value = static_cast<TType>(b & 0xf);
  *count = static_cast<uint32_t>(n);
  return ok();
}

void ThriftReader::Skip(TType type) {
  if (!ok()) return;
  switch (type) {
    case TType::kBoolTrue:
    case TType::kBoolFalse:
      return;  // in a field header; list elements are handled below
    case TType::kByte:
      ReadByte();
      return;
    case TType::kI16:
    case TType::kI32:
    case TType::kI64:
      ReadVarint();
      return;
    case TType::kDouble:
      ReadDouble();
      return;
    case TType::kBinary:
      ReadBinary();
      return;
    case TType::kList:
    case TType::kSet: {
      TType elem;
      uint32_t n;
      if (!ReadListBegin(&elem, &n)) return;
      if (++depth_ > kMaxDepth) return Fail("thrift: values nested too deeply");
      for (uint32_t i = 0; i < n && ok(); ++i) {
        if (elem == TType::kBoolTrue || elem == TType::kBoolFalse) ReadByte();
        else Skip(elem);
      }
      --depth_;
      return;
    }
    case TType::kMap: {
      TType k, v;
      uint32_t n;
      if (!ReadMapBegin(&k, &v, &n)) return;
      if (++depth_ > kMaxDepth) return Fail("thrift: values nested too deeply");
      for (uint32_t i = 0; i < n && ok(); ++i) {
        if (k == TType::kBoolTrue || k == TType::kBoolFalse) ReadByte();
        else Skip(k);
        if (v == TType::kBoolTrue || v == TType::kBoolFalse) ReadByte();
        else Skip(v);
      }
      --depth_;
      return;
    }
    case TType::kStruct: {
      StructBegin();
      int16_t id;
      TType t;
      while (ok() && ReadFieldBegin(&id, &t)) Skip(t);
      StructEnd();
      return;
    }
    default:
      Fail("thrift: bad type");
  }
}

void ThriftWriter::FieldBegin(int16_t id, TType type) {
  int delta = id - last_id_;
  if (delta > 0 && delta <= 15) {
    out_->push_back(static_cast<char>((delta << 4) | static_cast<uint8_t>(type)));
  } else {
    out_->push_back(static_cast<char>(type));
    WriteZigzag(id);
  }
  last_id_ = id;
}

void ThriftWriter::ListBegin(TType elem, uint32_t count) {
  if (count < 15) {
    out_->push_back(static_cast<char>((count << 4) | static_cast<uint8_t>(elem)));
  } else {
    out_->push_back(static_cast<char>(0xf0 | static_cast<uint8_t>(elem)));
    WriteVarint(count);
  }
}

void ThriftWriter::WriteVarint(uint64_t v) {
  while (v >= 0x80) {
    out_->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_->push_back(static_cast<char>(v));
}

}  // namespace saleslake::parquet::internal
