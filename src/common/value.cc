#include "common/value.h"

#include <charconv>
#include <cmath>

namespace saleslake {

Value Value::Decimal(__int128 unscaled, uint8_t precision, uint8_t scale) {
  DataType t = DataType::Decimal(precision, scale);
  if (precision <= 18) return Value(t, Payload(static_cast<int64_t>(unscaled)));
  return Value(t, Payload(unscaled));
}

__int128 Value::wide_value() const {
  if (auto* p = std::get_if<int64_t>(&v_)) return *p;
  return std::get<__int128>(v_);
}

std::string FormatDecimal(__int128 unscaled, int scale) {
  bool neg = unscaled < 0;
  unsigned __int128 mag = neg ? static_cast<unsigned __int128>(-(unscaled + 1)) + 1
                              : static_cast<unsigned __int128>(unscaled);
  // Written backwards into a buffer (39 digits, a point, the leading zeros of a small
  // fraction up to scale 38, a sign).
  char buf[96];
  char* end = buf + sizeof buf;
  char* p = end;
  int digits = 0;
  do {
    *--p = static_cast<char>('0' + static_cast<int>(mag % 10));
    mag /= 10;
    ++digits;
    if (scale > 0 && digits == scale) *--p = '.';
  } while (mag != 0 || (scale > 0 && digits <= scale));
  if (neg) *--p = '-';
  return std::string(p, static_cast<size_t>(end - p));
}

namespace {

std::string FormatDouble(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form
  return std::string(buf, r.ptr);
}

}  // namespace

std::string Value::ToString() const {
  if (is_null()) return "NULL";
  switch (type_.id) {
    case TypeId::kBoolean: return bool_value() ? "true" : "false";
    case TypeId::kInt32:
    case TypeId::kInt64: return std::to_string(int_value());
    case TypeId::kFloat:
    case TypeId::kDouble: return FormatDouble(double_value());
    case TypeId::kDecimal: return FormatDecimal(wide_value(), type_.scale);
    case TypeId::kVarchar: return string_value();
    case TypeId::kDate: return FormatDate(static_cast<int32_t>(int_value()));
    case TypeId::kTimestamp: return FormatTimestamp(int_value());
    case TypeId::kInterval: {
      Interval iv = interval_value();
      return std::to_string(iv.months) + " months " + std::to_string(iv.days) + " days " +
             std::to_string(iv.micros) + " us";
    }
    case TypeId::kNull: return "NULL";
  }
  return "?";
}

int Value::Compare(const Value& o) const {
  if (is_null() || o.is_null()) return static_cast<int>(!is_null()) - static_cast<int>(!o.is_null());
  if (type_.id != o.type_.id) return type_.id < o.type_.id ? -1 : 1;
  auto cmp = [](const auto& a, const auto& b) { return a < b ? -1 : (b < a ? 1 : 0); };
  switch (type_.id) {
    case TypeId::kBoolean: return cmp(bool_value(), o.bool_value());
    case TypeId::kFloat:
    case TypeId::kDouble: return cmp(double_value(), o.double_value());
    case TypeId::kDecimal: return cmp(wide_value(), o.wide_value());
    case TypeId::kVarchar: return string_value().compare(o.string_value()) < 0 ? -1 : (string_value() == o.string_value() ? 0 : 1);
    case TypeId::kInterval: {
      Interval a = interval_value(), b = o.interval_value();
      if (a.months != b.months) return cmp(a.months, b.months);
      if (a.days != b.days) return cmp(a.days, b.days);
      return cmp(a.micros, b.micros);
    }
    default: return cmp(int_value(), o.int_value());
  }
}

}  // namespace saleslake
