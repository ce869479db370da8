// Value: one typed scalar (a SQL literal, a min/max statistic, a partition value).
// Not for hot loops: batches are. Thread safety: a plain value.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "common/types.h"

namespace saleslake {

class Value {
 public:
  Value() = default;  // NULL of unknown type
  static Value Null(DataType type) { return Value(type); }
  static Value Boolean(bool v) { return Value(DataType::Boolean(), Payload(v)); }
  static Value Int32(int32_t v) { return Value(DataType::Int32(), Payload(int64_t{v})); }
  static Value Int64(int64_t v) { return Value(DataType::Int64(), Payload(v)); }
  static Value Float(float v) { return Value(DataType::Float(), Payload(double{v})); }
  static Value Double(double v) { return Value(DataType::Double(), Payload(v)); }
  static Value Date(int32_t days) { return Value(DataType::Date(), Payload(int64_t{days})); }
  static Value Timestamp(int64_t micros) { return Value(DataType::Timestamp(), Payload(micros)); }
  // Unscaled value; precision <= 18 keeps an int64, wider an __int128.
  static Value Decimal(__int128 unscaled, uint8_t precision, uint8_t scale);
  static Value Varchar(std::string v) { return Value(DataType::Varchar(), Payload(std::move(v))); }
  static Value FromInterval(Interval v) { return Value(DataType::IntervalType(), Payload(v)); }

  const DataType& type() const { return type_; }
  bool is_null() const { return std::holds_alternative<std::monostate>(v_); }

  // REQUIRES: !is_null() and the matching physical kind (see types.h).
  bool bool_value() const { return std::get<bool>(v_); }
  // Int32, Int64, Date, Timestamp and decimals of precision <= 18.
  int64_t int_value() const { return std::get<int64_t>(v_); }
  // Float and Double.
  double double_value() const { return std::get<double>(v_); }
  __int128 wide_value() const;  // any decimal
  const std::string& string_value() const { return std::get<std::string>(v_); }
  Interval interval_value() const { return std::get<Interval>(v_); }

  // Human text: NULL, true, 42, 1.5, 2025-08-01, 2025-08-01 10:00:00, 12.50 (decimal), abc.
  std::string ToString() const;

  // Total order within one type (NULL first); values of different types compare by type id.
  int Compare(const Value& other) const;
  bool operator==(const Value& other) const { return type_ == other.type_ && Compare(other) == 0; }

 private:
  using Payload = std::variant<std::monostate, bool, int64_t, double, __int128, std::string, Interval>;
  explicit Value(DataType t) : type_(t) {}
  Value(DataType t, Payload p) : type_(t), v_(std::move(p)) {}

  DataType type_;
  Payload v_;
};

// Decimal text of an unscaled value: (12345, 2) -> "123.45", (-5, 3) -> "-0.005".
std::string FormatDecimal(__int128 unscaled, int scale);

}  // namespace saleslake
