// Coercion rules, CAST, and the small per-row helpers shared by the planner and the executor.
#include <algorithm>
#include <array>
#include <cerrno>
#include <limits>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fmt/format.h>

#include "common/hash.h"
#include "sql/functions/functions.h"
#include "sql/functions/internal/kernels.h"

namespace saleslake::sql {

using internal::CheckedRescale;
using internal::FormatDoubleSql;
using internal::SetDecimal;

__int128 Pow10(int k) {
  static const auto table = [] {
    std::array<__int128, 39> t{};
    t[0] = 1;
    for (int i = 1; i <= 38; ++i) t[i] = t[i - 1] * 10;
    return t;
  }();
  return table[static_cast<size_t>(std::clamp(k, 0, 38))];
}

__int128 DecimalAt(const ColumnVector& v, size_t row) {
  if (!v.type().is_wide_decimal()) return v.GetValue<int64_t>(row);
  // 16-byte values sit at 8-byte alignment: copy them out instead of loading them directly.
  const ColumnVector* src = &v;
  size_t at = row;
  switch (v.encoding()) {
    case VectorEncoding::kFlat: break;
    case VectorEncoding::kConstant: at = 0; break;
    case VectorEncoding::kDictionary:
      at = v.data<uint32_t>()[row];
      src = v.dictionary();
      break;
  }
  __int128 x;
  std::memcpy(&x, src->data<uint8_t>() + at * 16, sizeof x);
  return x;
}

DataType DecimalFor(const DataType& t) {
  switch (t.id) {
    case TypeId::kInt32: return DataType::Decimal(10, 0);
    case TypeId::kInt64: return DataType::Decimal(19, 0);
    case TypeId::kDecimal: return t;
    default: return DataType::Decimal(38, 0);
  }
}

std::optional<DataType> CommonSuperType(const DataType& a, const DataType& b) {
  if (a == b) return a;
  if (a.id == TypeId::kNull) return b;
  if (b.id == TypeId::kNull) return a;
  auto rank = [](TypeId id) {
    switch (id) {
      case TypeId::kInt32: return 1;
      case TypeId::kInt64: return 2;
      case TypeId::kDecimal: return 3;
      case TypeId::kFloat: return 4;
      case TypeId::kDouble: return 5;
      default: return 0;
    }
  };
  int ra = rank(a.id), rb = rank(b.id);
  if (ra && rb) {
    if (ra >= 4 || rb >= 4) return (ra == 5 || rb == 5) ? DataType::Double() : DataType::Float();
    if (ra <= 2 && rb <= 2) return DataType::Int64();
    DataType da = DecimalFor(a), db = DecimalFor(b);
    int scale = std::max(da.scale, db.scale);
    int integral = std::max(da.precision - da.scale, db.precision - db.scale);
    int p = std::min(38, integral + scale);
    return DataType::Decimal(static_cast<uint8_t>(p), static_cast<uint8_t>(scale));
  }
  if (a.id == TypeId::kDecimal && b.id == TypeId::kDecimal) {
    int scale = std::max(a.scale, b.scale);
    int integral = std::max(a.precision - a.scale, b.precision - b.scale);
    return DataType::Decimal(static_cast<uint8_t>(std::min(38, integral + scale)),
                             static_cast<uint8_t>(scale));
  }
  if ((a.id == TypeId::kDate && b.id == TypeId::kTimestamp) ||
      (a.id == TypeId::kTimestamp && b.id == TypeId::kDate))
    return DataType::Timestamp();
  return std::nullopt;
}

bool CanCoerce(const DataType& from, const DataType& to) {
  if (from == to || from.id == TypeId::kNull) return true;
  auto common = CommonSuperType(from, to);
  if (!common) return false;
  if (to.id == TypeId::kDecimal && common->id == TypeId::kDecimal) {
    DataType f = DecimalFor(from);
    return f.scale <= to.scale && f.precision - f.scale <= to.precision - to.scale;
  }
  return common->id == to.id;
}

// ---- Value <-> vector ----

Value GetValueAt(const ColumnVector& v, size_t row) {
  const DataType& t = v.type();
  if (!v.IsValid(row)) return Value::Null(t);
  switch (t.id) {
    case TypeId::kNull: return Value::Null(t);
    case TypeId::kBoolean: return Value::Boolean(v.GetValue<uint8_t>(row) != 0);
    case TypeId::kInt32: return Value::Int32(v.GetValue<int32_t>(row));
    case TypeId::kInt64: return Value::Int64(v.GetValue<int64_t>(row));
    case TypeId::kFloat: return Value::Float(v.GetValue<float>(row));
    case TypeId::kDouble: return Value::Double(v.GetValue<double>(row));
    case TypeId::kDecimal: return Value::Decimal(DecimalAt(v, row), t.precision, t.scale);
    case TypeId::kVarchar: return Value::Varchar(std::string(v.GetValue<std::string_view>(row)));
    case TypeId::kDate: return Value::Date(v.GetValue<int32_t>(row));
    case TypeId::kTimestamp: return Value::Timestamp(v.GetValue<int64_t>(row));
    case TypeId::kInterval: return Value::FromInterval(v.GetValue<Interval>(row));
  }
  return Value::Null(t);
}

void SetValueAt(ColumnVector& v, size_t row, const Value& value) {
  if (value.is_null()) {
    v.SetNull(row);
    return;
  }
  v.SetValid(row);
  switch (v.type().id) {
    case TypeId::kNull: v.SetNull(row); break;
    case TypeId::kBoolean: v.data<uint8_t>()[row] = value.bool_value() ? 1 : 0; break;
    case TypeId::kInt32: v.data<int32_t>()[row] = static_cast<int32_t>(value.int_value()); break;
    case TypeId::kInt64: v.data<int64_t>()[row] = value.int_value(); break;
    case TypeId::kFloat: v.data<float>()[row] = static_cast<float>(value.double_value()); break;
    case TypeId::kDouble: v.data<double>()[row] = value.double_value(); break;
    case TypeId::kDecimal: SetDecimal(v, row, value.wide_value()); break;
    case TypeId::kVarchar: v.SetString(row, value.string_value()); break;
    case TypeId::kDate: v.data<int32_t>()[row] = static_cast<int32_t>(value.int_value()); break;
    case TypeId::kTimestamp: v.data<int64_t>()[row] = value.int_value(); break;
    case TypeId::kInterval: v.data<Interval>()[row] = value.interval_value(); break;
  }
}

void FillConstant(ColumnVector& out, const Value& value, size_t n) {
  // One slot: a constant is read at row 0 only, and partition columns make one per batch.
  out.Resize(1);
  SetValueAt(out, 0, value);
  out.MakeConstant(n);
}

// ---- key hashing ----

namespace {


// Hash of one row's value (the slow path of HashKeyColumn) (NULL has its own hash; -0.0 = 0.0; every NaN alike).
inline uint64_t HashValue(const ColumnVector& c, size_t i) {
  if (!c.IsValid(i)) return 0x5bd1e9955bd1e995ULL;
  switch (c.type().id) {
    case TypeId::kVarchar: return std::hash<std::string_view>{}(c.GetValue<std::string_view>(i));
    case TypeId::kBoolean: return MixBits64(c.GetValue<uint8_t>(i) + 1);
    case TypeId::kInt32:
    case TypeId::kDate: return MixBits64(static_cast<uint64_t>(static_cast<int64_t>(c.GetValue<int32_t>(i))));
    case TypeId::kFloat:
    case TypeId::kDouble: {
      double d = c.type().id == TypeId::kFloat ? c.GetValue<float>(i) : c.GetValue<double>(i);
      if (d == 0) d = 0;
      if (std::isnan(d)) return 0x7ff8000000000000ULL;
      uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      return MixBits64(bits);
    }
    case TypeId::kDecimal: {
      __int128 v = DecimalAt(c, i);
      return MixBits64(static_cast<uint64_t>(v) ^ MixBits64(static_cast<uint64_t>(v >> 64)));
    }
    case TypeId::kInterval: {
      Interval v = c.GetValue<Interval>(i);
      return MixBits64(static_cast<uint64_t>(v.micros) ^ MixBits64((static_cast<uint64_t>(static_cast<uint32_t>(v.months)) << 32) |
                                                       static_cast<uint32_t>(v.days)));
    }
    case TypeId::kNull: return 0x5bd1e9955bd1e995ULL;
    default: return MixBits64(static_cast<uint64_t>(c.GetValue<int64_t>(i)));
  }
}

constexpr uint64_t kNullHash = 0x5bd1e9955bd1e995ULL;

inline void CombineHash(uint64_t* h, size_t i, uint64_t v, bool first) {
  h[i] = first ? v : MixBits64(h[i] * 31 + v);
}

template <typename T, typename F>
void HashFlat(const ColumnVector& c, size_t n, uint64_t* h, bool first, F hash_one) {
  const T* d = c.data<T>();
  const uint64_t* valid = c.validity();
  if (valid == nullptr) {
    for (size_t i = 0; i < n; ++i) CombineHash(h, i, hash_one(d[i]), first);
    return;
  }
  for (size_t i = 0; i < n; ++i)
    CombineHash(h, i, ((valid[i >> 6] >> (i & 63)) & 1) ? hash_one(d[i]) : kNullHash, first);
}

}  // namespace

void HashKeyColumn(const ColumnVector& c, size_t n, uint64_t* h, bool first) {
  if (c.encoding() == VectorEncoding::kConstant) {
    uint64_t v = HashValue(c, 0);
    for (size_t i = 0; i < n; ++i) CombineHash(h, i, v, first);
    return;
  }
  if (c.encoding() == VectorEncoding::kDictionary) {
    const ColumnVector& dict = *c.dictionary();
    const uint32_t* codes = c.data<uint32_t>();
    if (dict.size() > n) {  // a big dictionary (product ids): hash the rows' entries only
      for (size_t i = 0; i < n; ++i) CombineHash(h, i, c.IsValid(i) ? HashValue(dict, codes[i]) : kNullHash, first);
      return;
    }
    std::vector<uint64_t> dh(dict.size());
    HashKeyColumn(dict, dict.size(), dh.data(), true);
    for (size_t i = 0; i < n; ++i) CombineHash(h, i, c.IsValid(i) ? dh[codes[i]] : kNullHash, first);
    return;
  }
  switch (c.type().id) {
    case TypeId::kVarchar:
      HashFlat<std::string_view>(c, n, h, first, [](std::string_view v) { return std::hash<std::string_view>{}(v); });
      return;
    case TypeId::kInt32:
    case TypeId::kDate:
      HashFlat<int32_t>(c, n, h, first, [](int32_t v) { return MixBits64(static_cast<uint64_t>(static_cast<int64_t>(v))); });
      return;
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      HashFlat<int64_t>(c, n, h, first, [](int64_t v) { return MixBits64(static_cast<uint64_t>(v)); });
      return;
    default:
      for (size_t i = 0; i < n; ++i) CombineHash(h, i, HashValue(c, i), first);
      return;
  }
}


// ---- keys and comparison ----

void AppendKey(const ColumnVector& v, size_t row, std::string& key) {
  if (!v.IsValid(row)) {
    key.push_back('\0');
    return;
  }
  key.push_back('\1');
  auto put = [&](const auto& x) {
    key.append(reinterpret_cast<const char*>(&x), sizeof(x));
  };
  switch (v.type().id) {
    case TypeId::kNull: break;
    case TypeId::kBoolean: put(v.GetValue<uint8_t>(row)); break;
    case TypeId::kInt32:
    case TypeId::kDate: put(v.GetValue<int32_t>(row)); break;
    case TypeId::kInt64:
    case TypeId::kTimestamp: put(v.GetValue<int64_t>(row)); break;
    case TypeId::kFloat: {
      float f = v.GetValue<float>(row);
      if (f == 0) f = 0;  // -0 == 0
      put(f);
      break;
    }
    case TypeId::kDouble: {
      double d = v.GetValue<double>(row);
      if (d == 0) d = 0;
      if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
      put(d);
      break;
    }
    case TypeId::kDecimal: put(DecimalAt(v, row)); break;
    case TypeId::kVarchar: {
      std::string_view s = v.GetValue<std::string_view>(row);
      uint32_t len = static_cast<uint32_t>(s.size());
      put(len);
      key.append(s);
      break;
    }
    case TypeId::kInterval: {
      Interval iv = v.GetValue<Interval>(row);
      put(iv.months);
      put(iv.days);
      put(iv.micros);
      break;
    }
  }
}

int CompareRows(const ColumnVector& x, size_t a, const ColumnVector& y, size_t b) {
  auto cmp = [](const auto& p, const auto& q) { return p < q ? -1 : (q < p ? 1 : 0); };
  switch (x.type().id) {
    case TypeId::kNull: return 0;
    case TypeId::kBoolean: return cmp(x.GetValue<uint8_t>(a), y.GetValue<uint8_t>(b));
    case TypeId::kInt32:
    case TypeId::kDate: return cmp(x.GetValue<int32_t>(a), y.GetValue<int32_t>(b));
    case TypeId::kInt64:
    case TypeId::kTimestamp: return cmp(x.GetValue<int64_t>(a), y.GetValue<int64_t>(b));
    case TypeId::kFloat: return cmp(x.GetValue<float>(a), y.GetValue<float>(b));
    case TypeId::kDouble: {
      double p = x.GetValue<double>(a), q = y.GetValue<double>(b);
      if (std::isnan(p) || std::isnan(q)) return cmp(std::isnan(p), std::isnan(q));  // NaN last
      return cmp(p, q);
    }
    case TypeId::kDecimal: return cmp(DecimalAt(x, a), DecimalAt(y, b));
    case TypeId::kVarchar: {
      int c = x.GetValue<std::string_view>(a).compare(y.GetValue<std::string_view>(b));
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case TypeId::kInterval: {
      Interval p = x.GetValue<Interval>(a), q = y.GetValue<Interval>(b);
      if (p.months != q.months) return cmp(p.months, q.months);
      if (p.days != q.days) return cmp(p.days, q.days);
      return cmp(p.micros, q.micros);
    }
  }
  return 0;
}

// ---- CAST ----

namespace {

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool ParseInt64(std::string_view s, int64_t* out) {
  s = TrimSpaces(s);
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

bool ParseDouble(std::string_view s, double* out) {
  s = TrimSpaces(s);
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  std::string lower(s);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "nan") { *out = std::nan(""); return true; }
  if (lower == "infinity" || lower == "inf") { *out = INFINITY; return true; }
  if (lower == "-infinity" || lower == "-inf") { *out = -INFINITY; return true; }
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

// "123.456" -> unscaled at `scale`, rounding half up; false when malformed or too wide.
bool ParseDecimal(std::string_view s, int precision, int scale, __int128* out) {
  s = TrimSpaces(s);
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  __int128 v = 0;
  int frac = 0;
  bool dot = false, any = false;
  int round_digit = -1;
  int exp = 0;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.') {
      if (dot) return false;
      dot = true;
      continue;
    }
    if (c == 'e' || c == 'E') break;
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    any = true;
    if (dot && frac >= scale) {
      if (round_digit < 0) round_digit = c - '0';
      continue;
    }
    if (v > Pow10(37)) return false;
    v = v * 10 + (c - '0');
    if (dot) ++frac;
  }
  if (!any) return false;
  if (i < s.size()) {  // exponent: fall back to double precision
    double d;
    if (!ParseDouble(std::string(neg ? "-" : "") + std::string(s), &d)) return false;
    double scaled = std::round(d * std::pow(10.0, scale));
    if (!(std::fabs(scaled) < 1e37)) return false;
    *out = static_cast<__int128>(scaled);
    return *out < Pow10(precision) && *out > -Pow10(precision);
  }
  (void)exp;
  while (frac < scale) {
    v *= 10;
    ++frac;
  }
  if (round_digit >= 5) v += 1;
  if (v >= Pow10(precision)) return false;
  *out = neg ? -v : v;
  return true;
}

std::string IntervalToString(const Interval& iv) {
  // Trino prints day-time intervals as "D HH:MM:SS.mmm" and year-month as "Y-M".
  if (iv.months != 0 && iv.days == 0 && iv.micros == 0)
    return fmt::format("{}-{}", iv.months / 12, std::abs(iv.months % 12));
  int64_t total = iv.micros;
  bool neg = total < 0 || iv.days < 0;
  int64_t mag = std::abs(total);
  int64_t ms = (mag / 1000) % 1000;
  int64_t secs = mag / kMicrosPerSecond;
  return fmt::format("{}{} {:02}:{:02}:{:02}.{:03}", neg ? "-" : "", std::abs(iv.days),
                     secs / 3600, (secs / 60) % 60, secs % 60, ms);
}

}  // namespace

std::string internal::FormatDoubleSql(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

std::string internal::ValueToText(const ColumnVector& v, size_t row) {
  const DataType& t = v.type();
  switch (t.id) {
    case TypeId::kNull: return "NULL";
    case TypeId::kBoolean: return v.GetValue<uint8_t>(row) ? "true" : "false";
    case TypeId::kInt32: return std::to_string(v.GetValue<int32_t>(row));
    case TypeId::kInt64: return std::to_string(v.GetValue<int64_t>(row));
    case TypeId::kFloat: return FormatDoubleSql(v.GetValue<float>(row));
    case TypeId::kDouble: return FormatDoubleSql(v.GetValue<double>(row));
    case TypeId::kDecimal: return FormatDecimal(DecimalAt(v, row), t.scale);
    case TypeId::kVarchar: return std::string(v.GetValue<std::string_view>(row));
    case TypeId::kDate: return FormatDate(v.GetValue<int32_t>(row));
    case TypeId::kTimestamp: return FormatTimestamp(v.GetValue<int64_t>(row));
    case TypeId::kInterval: return IntervalToString(v.GetValue<Interval>(row));
  }
  return "";
}

std::string ValueText(const ColumnVector& v, size_t row) { return internal::ValueToText(v, row); }

bool internal::CheckedRescale(__int128 v, int from_scale, int to_scale, int to_precision,
                              __int128* out) {
  if (to_scale >= from_scale) {
    __int128 f = Pow10(to_scale - from_scale);
    __int128 lim = Pow10(to_precision);
    if (v != 0 && (v >= lim || v <= -lim || (v > 0 ? v > lim / f : -v > lim / f))) return false;
    v *= f;
  } else {
    __int128 f = Pow10(from_scale - to_scale);
    __int128 q = v / f, r = v % f;
    if (r < 0) r = -r;
    if (r * 2 >= f) q += v < 0 ? -1 : 1;
    v = q;
  }
  if (v >= Pow10(to_precision) || v <= -Pow10(to_precision)) return false;
  *out = v;
  return true;
}

void internal::SetDecimal(ColumnVector& v, size_t row, __int128 x) {
  if (v.type().is_wide_decimal()) {
    std::memcpy(v.data<__int128>() + row, &x, sizeof x);
  } else {
    v.data<int64_t>()[row] = static_cast<int64_t>(x);
  }
}

Status CastVector(const ColumnVector& in, const DataType& to, size_t n, ColumnVector& out,
                  bool try_cast) {
  const DataType& from = in.type();
  out.Resize(n);
  if (from == to) {
    out.Resize(0);
    for (size_t i = 0; i < n; ++i) out.AppendFrom(in, i);
    return Status::OK();
  }
  std::string error;
  auto fail = [&](size_t row, const std::string& why) -> bool {
    if (try_cast) {
      out.SetNull(row);
      return true;
    }
    error = why;
    return false;
  };
  auto text_of = [&](size_t i) { return internal::ValueToText(in, i); };
  for (size_t i = 0; i < n; ++i) {
    if (!in.IsValid(i) || from.id == TypeId::kNull) {
      out.SetNull(i);
      continue;
    }
    bool ok = true;
    auto cannot = [&](const std::string& extra = "") {
      return fail(i, "cannot cast '" + text_of(i) + "' to " + to.ToString() + extra);
    };
    switch (to.id) {
      case TypeId::kVarchar: {
        out.SetString(i, text_of(i));
        break;
      }
      case TypeId::kBoolean: {
        if (from.id == TypeId::kVarchar) {
          std::string s(TrimSpaces(in.GetValue<std::string_view>(i)));
          for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          if (s == "true" || s == "t" || s == "1") {
            out.data<uint8_t>()[i] = 1;
          } else if (s == "false" || s == "f" || s == "0") {
            out.data<uint8_t>()[i] = 0;
          } else {
            ok = cannot();
          }
        } else if (from.is_numeric()) {
          Value v = GetValueAt(in, i);
          double d = from.id == TypeId::kDecimal ? static_cast<double>(v.wide_value())
                     : (from.id == TypeId::kDouble || from.id == TypeId::kFloat)
                         ? v.double_value()
                         : static_cast<double>(v.int_value());
          out.data<uint8_t>()[i] = d != 0;
        } else {
          ok = cannot();
        }
        break;
      }
      case TypeId::kInt32:
      case TypeId::kInt64: {
        int64_t lo = to.id == TypeId::kInt32 ? INT32_MIN : INT64_MIN;
        int64_t hi = to.id == TypeId::kInt32 ? INT32_MAX : INT64_MAX;
        __int128 r = 0;
        bool have = true;
        switch (from.id) {
          case TypeId::kBoolean: r = in.GetValue<uint8_t>(i); break;
          case TypeId::kInt32: r = in.GetValue<int32_t>(i); break;
          case TypeId::kInt64: r = in.GetValue<int64_t>(i); break;
          case TypeId::kFloat:
          case TypeId::kDouble: {
            double d = from.id == TypeId::kFloat ? in.GetValue<float>(i) : in.GetValue<double>(i);
            d = std::round(d);  // Trino rounds half away from zero
            if (!(d >= -9.3e18 && d <= 9.3e18)) {
              have = false;
              ok = cannot(": out of range");
              break;
            }
            r = static_cast<__int128>(d);
            break;
          }
          case TypeId::kDecimal: {
            __int128 x;
            CheckedRescale(DecimalAt(in, i), from.scale, 0, 38, &x);
            r = x;
            break;
          }
          case TypeId::kVarchar: {
            int64_t x;
            std::string_view s = in.GetValue<std::string_view>(i);
            if (ParseInt64(s, &x)) {
              r = x;
            } else {
              have = false;
              ok = cannot();
            }
            break;
          }
          default:
            have = false;
            ok = cannot();
        }
        if (!have) break;
        if (r < lo || r > hi) {
          ok = cannot(": out of range");
          break;
        }
        if (to.id == TypeId::kInt32) {
          out.data<int32_t>()[i] = static_cast<int32_t>(r);
        } else {
          out.data<int64_t>()[i] = static_cast<int64_t>(r);
        }
        break;
      }
      case TypeId::kFloat:
      case TypeId::kDouble: {
        double d = 0;
        switch (from.id) {
          case TypeId::kBoolean: d = in.GetValue<uint8_t>(i); break;
          case TypeId::kInt32: d = in.GetValue<int32_t>(i); break;
          case TypeId::kInt64: d = static_cast<double>(in.GetValue<int64_t>(i)); break;
          case TypeId::kFloat: d = in.GetValue<float>(i); break;
          case TypeId::kDouble: d = in.GetValue<double>(i); break;
          case TypeId::kDecimal:
            d = static_cast<double>(DecimalAt(in, i)) / static_cast<double>(Pow10(from.scale));
            break;
          case TypeId::kVarchar:
            if (!ParseDouble(in.GetValue<std::string_view>(i), &d)) ok = cannot();
            break;
          default: ok = cannot();
        }
        if (!ok || !out.IsValid(i)) break;
        if (to.id == TypeId::kFloat) {
          out.data<float>()[i] = static_cast<float>(d);
        } else {
          out.data<double>()[i] = d;
        }
        break;
      }
      case TypeId::kDecimal: {
        __int128 r = 0;
        bool good = true;
        switch (from.id) {
          case TypeId::kInt32:
            good = CheckedRescale(in.GetValue<int32_t>(i), 0, to.scale, to.precision, &r);
            break;
          case TypeId::kInt64:
            good = CheckedRescale(in.GetValue<int64_t>(i), 0, to.scale, to.precision, &r);
            break;
          case TypeId::kDecimal:
            good = CheckedRescale(DecimalAt(in, i), from.scale, to.scale, to.precision, &r);
            break;
          case TypeId::kFloat:
          case TypeId::kDouble: {
            double d = from.id == TypeId::kFloat ? in.GetValue<float>(i) : in.GetValue<double>(i);
            double scaled = std::round(d * std::pow(10.0, to.scale));
            if (!(std::fabs(scaled) < std::pow(10.0, to.precision))) {
              good = false;
            } else {
              r = static_cast<__int128>(scaled);
            }
            break;
          }
          case TypeId::kVarchar:
            good = ParseDecimal(in.GetValue<std::string_view>(i), to.precision, to.scale, &r);
            break;
          default: good = false;
        }
        if (!good) {
          ok = cannot();
          break;
        }
        SetDecimal(out, i, r);
        break;
      }
      case TypeId::kDate: {
        if (from.id == TypeId::kTimestamp) {
          int64_t t = in.GetValue<int64_t>(i);
          int64_t d = t >= 0 ? t / kMicrosPerDay : -((-t + kMicrosPerDay - 1) / kMicrosPerDay);
          out.data<int32_t>()[i] = static_cast<int32_t>(d);
        } else if (from.id == TypeId::kVarchar) {
          auto d = ParseIsoDate(TrimSpaces(in.GetValue<std::string_view>(i)));
          if (d) {
            out.data<int32_t>()[i] = *d;
          } else {
            ok = cannot();
          }
        } else {
          ok = cannot();
        }
        break;
      }
      case TypeId::kTimestamp: {
        if (from.id == TypeId::kDate) {
          out.data<int64_t>()[i] = int64_t{in.GetValue<int32_t>(i)} * kMicrosPerDay;
        } else if (from.id == TypeId::kVarchar) {
          std::string_view s = TrimSpaces(in.GetValue<std::string_view>(i));
          auto t = ParseIsoTimestamp(s);
          if (!t) {
            if (auto d = ParseIsoDate(s)) t = int64_t{*d} * kMicrosPerDay;
          }
          if (t) {
            out.data<int64_t>()[i] = *t;
          } else {
            ok = cannot();
          }
        } else {
          ok = cannot();
        }
        break;
      }
      default:
        ok = cannot();
    }
    if (!ok) return Status::InvalidArgument(error);
  }
  return Status::OK();
}

Result<Value> CastValue(const Value& v, const DataType& to, bool try_cast) {
  ColumnVector in(v.type().id == TypeId::kNull ? DataType::Null() : v.type(), 1);
  in.Resize(1);
  if (v.type().id != TypeId::kNull) SetValueAt(in, 0, v); else in.SetNull(0);
  ColumnVector out(to, 1);
  out.Resize(1);
  SL_RETURN_IF_ERROR(CastVector(in, to, 1, out, try_cast));
  return GetValueAt(out, 0);
}

}  // namespace saleslake::sql
