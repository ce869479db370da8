// Scalar kernels and their resolution: operators, math, strings, dates (Trino semantics).
#include <re2/re2.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <random>

#include <fmt/format.h>

#include "sql/functions/functions.h"
#include "sql/functions/internal/kernels.h"

namespace saleslake::sql {

using namespace internal;  // NOLINT: kernels.h helpers
using Args = std::span<const ColumnVector* const>;
using Resolver = Result<ScalarFunction> (*)(const std::vector<DataType>&);

namespace {

Status Bad(std::string_view fn, const std::vector<DataType>& args, std::string_view expected) {
  std::string got;
  for (size_t i = 0; i < args.size(); ++i) got += (i ? ", " : "") + args[i].ToString();
  return Status::InvalidArgument(fmt::format("function {}({}) does not exist; expected {}", fn, got,
                                             expected));
}

ScalarFunction Fn(std::string_view name, std::vector<DataType> args, DataType ret, ScalarKernel k,
                  bool deterministic = true) {
  return ScalarFunction{std::string(name), std::move(args), ret, k, deterministic};
}

bool IsInt(const DataType& t) { return t.id == TypeId::kInt32 || t.id == TypeId::kInt64; }
bool IsNumericOrNull(const DataType& t) { return t.is_numeric() || t.id == TypeId::kNull; }
bool IsStringOrNull(const DataType& t) { return t.id == TypeId::kVarchar || t.id == TypeId::kNull; }
bool Bit(const uint64_t* v, size_t i) { return v == nullptr || ((v[i >> 6] >> (i & 63)) & 1); }

// ---------------------------------------------------------------- arithmetic

struct AddOp {
  static constexpr const char* kName = "addition";
  template <typename T> static bool Apply(T a, T b, T* r) {
    if constexpr (std::is_integral_v<T>) return !__builtin_add_overflow(a, b, r);
    *r = a + b;
    return true;
  }
};
struct SubOp {
  static constexpr const char* kName = "subtraction";
  template <typename T> static bool Apply(T a, T b, T* r) {
    if constexpr (std::is_integral_v<T>) return !__builtin_sub_overflow(a, b, r);
    *r = a - b;
    return true;
  }
};
struct MulOp {
  static constexpr const char* kName = "multiplication";
  template <typename T> static bool Apply(T a, T b, T* r) {
    if constexpr (std::is_integral_v<T>) return !__builtin_mul_overflow(a, b, r);
    *r = a * b;
    return true;
  }
};
struct DivOp {
  static constexpr const char* kName = "division";
  template <typename T> static bool Apply(T a, T b, T* r) {
    if constexpr (std::is_integral_v<T>) {
      if (b == 0) return false;
      if (b == -1) return !__builtin_sub_overflow(T{0}, a, r);
      *r = a / b;
      return true;
    }
    *r = a / b;  // IEEE: x/0 is +-Infinity or NaN, as in Trino
    return true;
  }
};
struct ModOp {
  static constexpr const char* kName = "modulus";
  template <typename T> static bool Apply(T a, T b, T* r) {
    if constexpr (std::is_integral_v<T>) {
      if (b == 0) return false;
      *r = b == -1 ? 0 : a % b;
      return true;
    }
    *r = std::fmod(a, b);
    return true;
  }
};

template <typename T, typename Op>
Status Arith(Args a, size_t n, ColumnVector& out) {
  PropagateNulls(a, n, out);
  auto x = Read<T>(*a[0]);
  auto y = Read<T>(*a[1]);
  T* o = out.data<T>();
  const uint64_t* valid = out.validity();
  bool failed = false;
  for (size_t i = 0; i < n; ++i) {
    T r{};
    if (!Op::Apply(x[i], y[i], &r)) {
      r = T{};
      failed |= Bit(valid, i);
    }
    o[i] = r;
  }
  if (failed) {
    if ((std::is_same_v<Op, DivOp> || std::is_same_v<Op, ModOp>)) {
      for (size_t i = 0; i < n; ++i)
        if (Bit(valid, i) && y[i] == T{0}) return Status::InvalidArgument("Division by zero");
    }
    return Status::InvalidArgument(fmt::format("{} overflow in {}", std::is_same_v<T, int32_t>
                                                                        ? "integer" : "bigint",
                                               Op::kName));
  }
  return Status::OK();
}

template <typename T>
Status Negate(Args a, size_t n, ColumnVector& out) {
  PropagateNulls(a, n, out);
  auto x = Read<T>(*a[0]);
  T* o = out.data<T>();
  const uint64_t* valid = out.validity();
  for (size_t i = 0; i < n; ++i) {
    if constexpr (std::is_integral_v<T>) {
      if (x[i] == std::numeric_limits<T>::min() && Bit(valid, i))
        return Status::InvalidArgument("integer overflow in negation");
      o[i] = x[i] == std::numeric_limits<T>::min() ? 0 : -x[i];
    } else {
      o[i] = -x[i];
    }
  }
  return Status::OK();
}

Status NegateDecimal(Args a, size_t n, ColumnVector& out) {
  PropagateNulls(a, n, out);
  auto x = ReadDecimal(*a[0]);
  for (size_t i = 0; i < n; ++i) SetDecimal(out, i, -x[i]);
  return Status::OK();
}

enum class DecOp { kAdd, kSub, kMul, kDiv, kMod };

template <DecOp op>
Status DecimalArith(Args a, size_t n, ColumnVector& out) {
  PropagateNulls(a, n, out);
  auto x = ReadDecimal(*a[0]);
  auto y = ReadDecimal(*a[1]);
  int s1 = a[0]->type().scale, s2 = a[1]->type().scale;
  int so = out.type().scale, po = out.type().precision;
  __int128 lim = Pow10(po);
  const uint64_t* valid = out.validity();
  for (size_t i = 0; i < n; ++i) {
    if (!Bit(valid, i)) {
      SetDecimal(out, i, 0);
      continue;
    }
    __int128 p = x[i], q = y[i], r = 0;
    bool ok = true;
    if constexpr (op == DecOp::kAdd || op == DecOp::kSub || op == DecOp::kMod) {
      int s = std::max(s1, s2);
      ok = !__builtin_mul_overflow(p, Pow10(s - s1), &p) && !__builtin_mul_overflow(q, Pow10(s - s2), &q);
      if (ok) {
        if constexpr (op == DecOp::kAdd) ok = !__builtin_add_overflow(p, q, &r);
        if constexpr (op == DecOp::kSub) ok = !__builtin_sub_overflow(p, q, &r);
        if constexpr (op == DecOp::kMod) {
          if (q == 0) return Status::InvalidArgument("Division by zero");
          r = p % q;
        }
      }
      if (ok && s != so) ok = CheckedRescale(r, s, so, po, &r);
    } else if constexpr (op == DecOp::kMul) {
      ok = !__builtin_mul_overflow(p, q, &r);
      if (ok && s1 + s2 != so) ok = CheckedRescale(r, s1 + s2, so, po, &r);
    } else {
      if (q == 0) return Status::InvalidArgument("Division by zero");
      // p/10^s1 / (q/10^s2) at scale so: p * 10^(so - s1 + s2) / q, rounded half up.
      int shift = so - s1 + s2;
      __int128 num = p;
      if (shift >= 0) {
        ok = !__builtin_mul_overflow(p, Pow10(shift), &num);
      } else {
        q *= Pow10(-shift);
      }
      if (ok) {
        __int128 quo = num / q, rem = num % q;
        if (rem < 0) rem = -rem;
        __int128 aq = q < 0 ? -q : q;
        if (rem * 2 >= aq) quo += ((num < 0) != (q < 0)) ? -1 : 1;
        r = quo;
      }
    }
    if (!ok || r >= lim || r <= -lim)
      return Status::InvalidArgument("decimal overflow: result does not fit " +
                                     out.type().ToString());
    SetDecimal(out, i, r);
  }
  return Status::OK();
}

// date/timestamp +- interval
int64_t AddMonthsToDays(int32_t days, int32_t months) {
  CivilDate c = CivilFromDays(days);
  int64_t total = int64_t{c.year} * 12 + (c.month - 1) + months;
  int32_t y = static_cast<int32_t>(total >= 0 ? total / 12 : -((-total + 11) / 12));
  unsigned m = static_cast<unsigned>(total - int64_t{y} * 12) + 1;
  unsigned d = std::min<unsigned>(c.day, static_cast<unsigned>(DaysInMonth(y, m)));
  return DaysFromCivil(y, m, d);
}
int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t AddIntervalToMicros(int64_t t, const Interval& iv, int sign) {
  if (iv.months) {
    int64_t day = FloorDiv(t, kMicrosPerDay);
    int64_t rem = t - day * kMicrosPerDay;
    t = AddMonthsToDays(static_cast<int32_t>(day), sign * iv.months) * kMicrosPerDay + rem;
  }
  return t + sign * (int64_t{iv.days} * kMicrosPerDay + iv.micros);
}

template <int sign>
Status DatePlusInterval(Args a, size_t n, ColumnVector& out) {
  PropagateNulls(a, n, out);
  auto d = Read<int32_t>(*a[0]);
  auto iv = Read<Interval>(*a[1]);
  const uint64_t* valid = out.validity();
  for (size_t i = 0; i < n; ++i) {
    if (!Bit(valid, i)) continue;
    Interval v = iv[i];
    if (v.micros % kMicrosPerDay != 0)
      return Status::InvalidArgument("cannot add an interval with a time part to a DATE");
    int64_t r = AddIntervalToMicros(int64_t{d[i]} * kMicrosPerDay, v, sign);
    out.data<int32_t>()[i] = static_cast<int32_t>(FloorDiv(r, kMicrosPerDay));
  }
  return Status::OK();
}
template <int sign>
Status TsPlusInterval(Args a, size_t n, ColumnVector& out) {
  PropagateNulls(a, n, out);
  auto t = Read<int64_t>(*a[0]);
  auto iv = Read<Interval>(*a[1]);
  const uint64_t* valid = out.validity();
  for (size_t i = 0; i < n; ++i)
    if (Bit(valid, i)) out.data<int64_t>()[i] = AddIntervalToMicros(t[i], iv[i], sign);
  return Status::OK();
}
Status TsMinusTs(Args a, size_t n, ColumnVector& out) {
  PropagateNulls(a, n, out);
  auto x = Read<int64_t>(*a[0]);
  auto y = Read<int64_t>(*a[1]);
  for (size_t i = 0; i < n; ++i) {
    int64_t d = x[i] - y[i];
    out.data<Interval>()[i] = Interval{0, static_cast<int32_t>(d / kMicrosPerDay), d % kMicrosPerDay};
  }
  return Status::OK();
}
Status IntervalAdd(Args a, size_t n, ColumnVector& out) {
  PropagateNulls(a, n, out);
  auto x = Read<Interval>(*a[0]);
  auto y = Read<Interval>(*a[1]);
  for (size_t i = 0; i < n; ++i)
    out.data<Interval>()[i] = Interval{x[i].months + y[i].months, x[i].days + y[i].days,
                                       x[i].micros + y[i].micros};
  return Status::OK();
}

template <typename Op>
ScalarKernel NumericKernel(TypeId id) {
  switch (id) {
    case TypeId::kInt32: return &Arith<int32_t, Op>;
    case TypeId::kInt64: return &Arith<int64_t, Op>;
    case TypeId::kFloat: return &Arith<float, Op>;
    default: return &Arith<double, Op>;
  }
}

DataType DecimalResult(DecOp op, const DataType& a, const DataType& b) {
  int p1 = a.precision, s1 = a.scale, p2 = b.precision, s2 = b.scale;
  int p, s;
  switch (op) {
    case DecOp::kAdd:
    case DecOp::kSub:
      s = std::max(s1, s2);
      p = std::max(p1 - s1, p2 - s2) + s + 1;
      break;
    case DecOp::kMul:
      s = s1 + s2;
      p = p1 + p2;
      break;
    case DecOp::kDiv:
      s = std::max(s1, s2);
      p = p1 - s1 + s2 + s;
      break;
    default:
      s = std::max(s1, s2);
      p = std::min(p2 - s2, p1 - s1) + s;
  }
  p = std::clamp(p, 1, 38);
  s = std::min(s, p);
  return DataType::Decimal(static_cast<uint8_t>(p), static_cast<uint8_t>(s));
}

template <typename Op, DecOp dop>
Result<ScalarFunction> ResolveArith(std::string_view name, const std::vector<DataType>& t) {
  if (t.size() != 2) return Bad(name, t, "two arguments");
  const DataType &a = t[0], &b = t[1];
  if constexpr (dop == DecOp::kAdd || dop == DecOp::kSub) {
    TypeId ia = a.id, ib = b.id;
    if (ia == TypeId::kDate && ib == TypeId::kInterval)
      return Fn(name, t, a, dop == DecOp::kAdd ? &DatePlusInterval<1> : &DatePlusInterval<-1>);
    if (ia == TypeId::kTimestamp && ib == TypeId::kInterval)
      return Fn(name, t, a, dop == DecOp::kAdd ? &TsPlusInterval<1> : &TsPlusInterval<-1>);
    if (dop == DecOp::kAdd && ia == TypeId::kInterval && ib == TypeId::kDate)
      return Bad(name, t, "DATE + INTERVAL (write the date first)");
    if (dop == DecOp::kSub && ia == TypeId::kTimestamp && ib == TypeId::kTimestamp)
      return Fn(name, t, DataType::IntervalType(), &TsMinusTs);
    if (dop == DecOp::kAdd && ia == TypeId::kInterval && ib == TypeId::kInterval)
      return Fn(name, t, a, &IntervalAdd);
  }
  if (!IsNumericOrNull(a) || !IsNumericOrNull(b))
    return Bad(name, t, "numeric arguments");
  DataType ca = a.id == TypeId::kNull ? b : a;
  DataType cb = b.id == TypeId::kNull ? a : b;
  if (ca.id == TypeId::kNull) ca = cb = DataType::Int32();
  auto common = CommonSuperType(ca, cb);
  if (!common) return Bad(name, t, "numeric arguments");
  if (common->id == TypeId::kDecimal) {
    DataType da = DecimalFor(ca), db = DecimalFor(cb);
    ScalarKernel k;
    switch (dop) {
      case DecOp::kAdd: k = &DecimalArith<DecOp::kAdd>; break;
      case DecOp::kSub: k = &DecimalArith<DecOp::kSub>; break;
      case DecOp::kMul: k = &DecimalArith<DecOp::kMul>; break;
      case DecOp::kDiv: k = &DecimalArith<DecOp::kDiv>; break;
      default: k = &DecimalArith<DecOp::kMod>; break;
    }
    return Fn(name, {da, db}, DecimalResult(dop, da, db), k);
  }
  return Fn(name, {*common, *common}, *common, NumericKernel<Op>(common->id));
}

// ---------------------------------------------------------------- comparison

enum class Cmp { kEq, kNe, kLt, kLe, kGt, kGe };

// String equality that rejects on the length, then on the first 8 bytes, before a memcmp
// call: ids and tokens of one column mostly share a length and differ early.
inline bool StringEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;  // data() may be null
  if (a.size() < 8) return std::memcmp(a.data(), b.data(), a.size()) == 0;
  uint64_t x, y;
  std::memcpy(&x, a.data(), 8);
  std::memcpy(&y, b.data(), 8);
  return x == y && std::memcmp(a.data() + 8, b.data() + 8, a.size() - 8) == 0;
}

template <Cmp c, typename T>
inline bool Compare(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, std::string_view> && (c == Cmp::kEq || c == Cmp::kNe)) {
    return StringEquals(a, b) == (c == Cmp::kEq);
  }
  if constexpr (c == Cmp::kEq) return a == b;
  if constexpr (c == Cmp::kNe) return a != b;
  if constexpr (c == Cmp::kLt) return a < b;
  if constexpr (c == Cmp::kLe) return a <= b;
  if constexpr (c == Cmp::kGt) return a > b;
  return a >= b;
}

template <Cmp c, typename T>
Status CompareKernel(Args a, size_t n, ColumnVector& out) {
  PropagateNulls(a, n, out);
  uint8_t* o = out.data<uint8_t>();
  if constexpr (std::is_same_v<T, __int128>) {
    auto x = ReadDecimal(*a[0]);
    auto y = ReadDecimal(*a[1]);
    for (size_t i = 0; i < n; ++i) o[i] = Compare<c>(x[i], y[i]);
  } else if constexpr (std::is_same_v<T, std::string_view>) {
    auto x = Read<std::string_view>(*a[0]);
    auto y = Read<std::string_view>(*a[1]);
    const uint64_t* valid = out.validity();
    for (size_t i = 0; i < n; ++i) o[i] = Bit(valid, i) ? Compare<c>(x[i], y[i]) : 0;
  } else if constexpr (std::is_same_v<T, Interval>) {
    auto x = Read<Interval>(*a[0]);
    auto y = Read<Interval>(*a[1]);
    for (size_t i = 0; i < n; ++i) {
      auto key = [](const Interval& v) {
        return static_cast<__int128>(v.months) * 30 * kMicrosPerDay +
               static_cast<__int128>(v.days) * kMicrosPerDay + v.micros;
      };
      o[i] = Compare<c>(key(x[i]), key(y[i]));
    }
  } else {
    auto x = Read<T>(*a[0]);
    auto y = Read<T>(*a[1]);
    for (size_t i = 0; i < n; ++i) o[i] = Compare<c>(x[i], y[i]);
  }
  return Status::OK();
}

template <Cmp c>
ScalarKernel CompareFor(const DataType& t) {
  switch (t.id) {
    case TypeId::kBoolean: return &CompareKernel<c, uint8_t>;
    case TypeId::kInt32:
    case TypeId::kDate: return &CompareKernel<c, int32_t>;
    case TypeId::kInt64:
    case TypeId::kTimestamp: return &CompareKernel<c, int64_t>;
    case TypeId::kFloat: return &CompareKernel<c, float>;
    case TypeId::kDouble: return &CompareKernel<c, double>;
    case TypeId::kDecimal: return &CompareKernel<c, __int128>;
    case TypeId::kVarchar: return &CompareKernel<c, std::string_view>;
    case TypeId::kInterval: return &CompareKernel<c, Interval>;
    default: return &CompareKernel<c, uint8_t>;
  }
}

// The common type of a comparison; string literals meeting dates are the binder's business.
std::optional<DataType> ComparisonType(const DataType& a, const DataType& b) {
  auto c = CommonSuperType(a, b);
  if (c && c->id == TypeId::kNull) return DataType::Boolean();
  return c;
}

template <Cmp c>
Result<ScalarFunction> ResolveCompare(std::string_view name, const std::vector<DataType>& t) {
  if (t.size() != 2) return Bad(name, t, "two arguments");
  auto common = ComparisonType(t[0], t[1]);
  if (!common) {
    return Status::InvalidArgument(fmt::format("cannot compare {} with {}", t[0].ToString(),
                                               t[1].ToString()));
  }
  return Fn(name, {*common, *common}, DataType::Boolean(), CompareFor<c>(*common));
}

// a IS DISTINCT FROM b: never NULL.
Status DistinctKernel(Args a, size_t n, ColumnVector& out) {
  uint8_t* o = out.data<uint8_t>();
  for (size_t i = 0; i < n; ++i) {
    bool va = a[0]->IsValid(i), vb = a[1]->IsValid(i);
    if (!va || !vb) {
      o[i] = va != vb;
    } else {
      o[i] = CompareRows(*a[0], i, *a[1], i) != 0;
    }
  }
  return Status::OK();
}

// ---------------------------------------------------------------- generic per-row helpers

// Runs f(i) for each row where every argument is valid; f writes out and returns false to set
// the row NULL. Errors: f may set *err.
template <typename F>
Status PerRow(Args a, size_t n, ColumnVector& out, F f) {
  PropagateNulls(a, n, out);
  const uint64_t* valid = out.validity();
  Status err;
  for (size_t i = 0; i < n; ++i) {
    if (!Bit(valid, i)) continue;
    if (!f(i, &err)) {
      if (!err.ok()) return err;
      out.SetNull(i);
      valid = out.validity();
    }
  }
  return Status::OK();
}

// ---------------------------------------------------------------- math

template <typename T>
Status AbsKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    T v = Read<T>(*a[0])[i];
    if constexpr (std::is_integral_v<T>) {
      if (v == std::numeric_limits<T>::min()) {
        *err = Status::InvalidArgument("integer overflow in abs()");
        return false;
      }
    }
    out.data<T>()[i] = v < 0 ? -v : v;
    return true;
  });
}
Status AbsDecimal(Args a, size_t n, ColumnVector& out) {
  PropagateNulls(a, n, out);
  auto x = ReadDecimal(*a[0]);
  for (size_t i = 0; i < n; ++i) SetDecimal(out, i, x[i] < 0 ? -x[i] : x[i]);
  return Status::OK();
}

template <double (*F)(double)>
Status DoubleUnary(Args a, size_t n, ColumnVector& out) {
  PropagateNulls(a, n, out);
  auto x = Read<double>(*a[0]);
  double* o = out.data<double>();
  for (size_t i = 0; i < n; ++i) o[i] = F(x[i]);
  return Status::OK();
}
double RoundHalfAway(double x) { return std::round(x); }
double Sign(double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : x); }

Status PowerKernel(Args a, size_t n, ColumnVector& out) {
  PropagateNulls(a, n, out);
  auto x = Read<double>(*a[0]);
  auto y = Read<double>(*a[1]);
  for (size_t i = 0; i < n; ++i) out.data<double>()[i] = std::pow(x[i], y[i]);
  return Status::OK();
}

Status RoundDouble2(Args a, size_t n, ColumnVector& out) {
  PropagateNulls(a, n, out);
  auto x = Read<double>(*a[0]);
  auto d = Read<int32_t>(*a[1]);
  for (size_t i = 0; i < n; ++i) {
    double f = std::pow(10.0, d[i]);
    double v = x[i];
    double r = std::round(v * f) / f;
    out.data<double>()[i] = std::isfinite(r) ? r : v;
  }
  return Status::OK();
}
template <typename T>
Status RoundInt2(Args a, size_t n, ColumnVector& out) {
  PropagateNulls(a, n, out);
  auto x = Read<T>(*a[0]);
  auto d = Read<int32_t>(*a[1]);
  for (size_t i = 0; i < n; ++i) {
    if (d[i] >= 0) {
      out.data<T>()[i] = x[i];
      continue;
    }
    __int128 f = Pow10(-d[i]);
    __int128 v = x[i];
    __int128 q = v / f, r = v % f;
    if ((r < 0 ? -r : r) * 2 >= f) q += v < 0 ? -1 : 1;
    out.data<T>()[i] = static_cast<T>(q * f);
  }
  return Status::OK();
}
// round(decimal(p,s), d) keeps the type, as Trino does; plain round(decimal) drops the scale.
Status RoundDecimal2(Args a, size_t n, ColumnVector& out) {
  PropagateNulls(a, n, out);
  auto x = ReadDecimal(*a[0]);
  int s = a[0]->type().scale;
  int so = out.type().scale;
  Reader<int32_t> d{nullptr, 0};
  int32_t zero = 0;
  if (a.size() > 1) {
    d = Read<int32_t>(*a[1]);
  } else {
    d = Reader<int32_t>{&zero, 0};
  }
  for (size_t i = 0; i < n; ++i) {
    if (!out.IsValid(i)) {
      SetDecimal(out, i, 0);
      continue;
    }
    int keep = std::clamp(d[i], -38, s);
    __int128 r;
    CheckedRescale(x[i], s, keep, 38, &r);
    __int128 v;
    if (keep >= 0) {
      CheckedRescale(r, keep, so, 38, &v);
    } else {
      v = r * Pow10(-keep);
      CheckedRescale(v, 0, so, 38, &v);
    }
    SetDecimal(out, i, v);
  }
  return Status::OK();
}
template <bool ceil>
Status FloorCeilDecimal(Args a, size_t n, ColumnVector& out) {
  PropagateNulls(a, n, out);
  auto x = ReadDecimal(*a[0]);
  __int128 f = Pow10(a[0]->type().scale);
  for (size_t i = 0; i < n; ++i) {
    __int128 v = x[i], q = v / f, r = v % f;
    if (ceil && r > 0) q += 1;
    if (!ceil && r < 0) q -= 1;
    SetDecimal(out, i, q);
  }
  return Status::OK();
}
template <typename T>
Status Identity(Args a, size_t n, ColumnVector& out) {
  PropagateNulls(a, n, out);
  auto x = Read<T>(*a[0]);
  for (size_t i = 0; i < n; ++i) out.data<T>()[i] = x[i];
  return Status::OK();
}

// greatest / least over k arguments of one type; NULL if any is NULL (Trino).
template <bool greatest>
Status GreatestLeast(Args a, size_t n, ColumnVector& out) {
  PropagateNulls(a, n, out);
  for (size_t i = 0; i < n; ++i) {
    if (!out.IsValid(i)) continue;
    size_t best = 0;
    for (size_t k = 1; k < a.size(); ++k) {
      int c = CompareRows(*a[k], i, *a[best], i);
      if (greatest ? c > 0 : c < 0) best = k;
    }
    if (out.type().id == TypeId::kVarchar) {
      out.data<std::string_view>()[i] = out.AddString(a[best]->GetValue<std::string_view>(i));
    } else if (out.type().id == TypeId::kDecimal) {
      SetDecimal(out, i, DecimalAt(*a[best], i));
    } else {
      size_t w = out.type().byte_width();
      const ColumnVector& src = *a[best];
      size_t at = src.encoding() == VectorEncoding::kConstant ? 0 : i;
      std::memcpy(out.data<uint8_t>() + i * w, src.data<uint8_t>() + at * w, w);
    }
  }
  return Status::OK();
}

Status NullIfKernel(Args a, size_t n, ColumnVector& out) {
  for (size_t i = 0; i < n; ++i) {
    if (!a[0]->IsValid(i) || (a[1]->IsValid(i) && CompareRows(*a[0], i, *a[1], i) == 0)) {
      out.SetNull(i);
      continue;
    }
    if (out.type().id == TypeId::kVarchar) {
      out.data<std::string_view>()[i] = out.AddString(a[0]->GetValue<std::string_view>(i));
    } else if (out.type().id == TypeId::kDecimal) {
      SetDecimal(out, i, DecimalAt(*a[0], i));
    } else {
      size_t w = out.type().byte_width();
      size_t at = a[0]->encoding() == VectorEncoding::kConstant ? 0 : i;
      std::memcpy(out.data<uint8_t>() + i * w, a[0]->data<uint8_t>() + at * w, w);
    }
  }
  return Status::OK();
}

Status RandomKernel(Args, size_t n, ColumnVector& out) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  for (size_t i = 0; i < n; ++i) out.data<double>()[i] = dist(rng);
  return Status::OK();
}

// ---------------------------------------------------------------- strings

// Number of UTF-8 code points.
size_t CodePoints(std::string_view s) {
  size_t c = 0;
  for (unsigned char ch : s) c += (ch & 0xC0) != 0x80;
  return c;
}
// Byte offset of code point k (k may equal the count: returns size).
size_t ByteOfCodePoint(std::string_view s, size_t k) {
  size_t cp = 0;
  for (size_t b = 0; b < s.size(); ++b) {
    if ((static_cast<unsigned char>(s[b]) & 0xC0) != 0x80) {
      if (cp == k) return b;
      ++cp;
    }
  }
  return s.size();
}

template <typename F>
Status StrToStr(Args a, size_t n, ColumnVector& out, F f) {
  std::string buf;
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    buf.clear();
    if (!f(i, buf, err)) return false;
    out.data<std::string_view>()[i] = out.AddString(buf);
    return true;
  });
}

std::string_view S(const ColumnVector& v, size_t i) { return v.GetValue<std::string_view>(i); }
int64_t I64(const ColumnVector& v, size_t i) { return v.GetValue<int64_t>(i); }

// ASCII case mapping, byte by byte: what std::tolower/toupper do on single bytes in the C
// locale (bytes of multi-byte UTF-8 characters stay as they are), without a call per byte.
template <bool upper>
Status CaseKernel(Args a, size_t n, ColumnVector& out) {
  return StrToStr(a, n, out, [&](size_t i, std::string& b, Status*) {
    b = S(*a[0], i);
    constexpr char from = upper ? 'a' : 'A';
    for (char& c : b)
      if (static_cast<unsigned char>(c - from) < 26) c = static_cast<char>(c ^ 0x20);
    return true;
  });
}
Status LowerKernel(Args a, size_t n, ColumnVector& out) { return CaseKernel<false>(a, n, out); }
Status UpperKernel(Args a, size_t n, ColumnVector& out) { return CaseKernel<true>(a, n, out); }
template <bool left, bool right>
Status TrimKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status*) {
    std::string_view s = S(*a[0], i);
    if (left) while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    if (right) while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    out.data<std::string_view>()[i] = out.AddString(s);
    return true;
  });
}
Status LengthKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status*) {
    out.data<int64_t>()[i] = static_cast<int64_t>(CodePoints(S(*a[0], i)));
    return true;
  });
}
Status ReverseKernel(Args a, size_t n, ColumnVector& out) {
  return StrToStr(a, n, out, [&](size_t i, std::string& b, Status*) {
    std::string_view s = S(*a[0], i);
    size_t end = s.size();
    while (end > 0) {
      size_t start = end - 1;
      while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
      b.append(s.substr(start, end - start));
      end = start;
    }
    return true;
  });
}
// substr(s, start [, length]): 1-based code points; negative start counts from the end.
Status SubstrKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status*) {
    std::string_view s = S(*a[0], i);
    int64_t start = I64(*a[1], i);
    int64_t cps = static_cast<int64_t>(CodePoints(s));
    std::string_view r;
    if (start < 0) start = cps + start + 1;
    if (start >= 1 && start <= cps) {
      int64_t len = a.size() > 2 ? I64(*a[2], i) : cps;
      if (len > 0) {
        int64_t end = std::min(cps, start - 1 + len);
        size_t b0 = ByteOfCodePoint(s, static_cast<size_t>(start - 1));
        size_t b1 = ByteOfCodePoint(s, static_cast<size_t>(end));
        r = s.substr(b0, b1 - b0);
      }
    }
    out.data<std::string_view>()[i] = out.AddString(r);
    return true;
  });
}
Status ConcatKernel(Args a, size_t n, ColumnVector& out) {
  return StrToStr(a, n, out, [&](size_t i, std::string& b, Status*) {
    for (const ColumnVector* v : a) b.append(S(*v, i));
    return true;
  });
}
Status ReplaceKernel(Args a, size_t n, ColumnVector& out) {
  return StrToStr(a, n, out, [&](size_t i, std::string& b, Status*) {
    std::string_view s = S(*a[0], i), from = S(*a[1], i);
    std::string_view to = a.size() > 2 ? S(*a[2], i) : std::string_view();
    if (from.empty()) {  // Trino: insert `to` between every character
      b.append(to);
      for (size_t k = 0; k < s.size(); ++k) {
        b.push_back(s[k]);
        if (k + 1 == s.size() || (static_cast<unsigned char>(s[k + 1]) & 0xC0) != 0x80) b.append(to);
      }
      return true;
    }
    size_t pos = 0;
    while (true) {
      size_t f = s.find(from, pos);
      if (f == std::string_view::npos) break;
      b.append(s.substr(pos, f - pos));
      b.append(to);
      pos = f + from.size();
    }
    b.append(s.substr(pos));
    return true;
  });
}
Status SplitPartKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    std::string_view s = S(*a[0], i), d = S(*a[1], i);
    int64_t idx = I64(*a[2], i);
    if (idx <= 0) {
      *err = Status::InvalidArgument("split_part: index must be greater than zero");
      return false;
    }
    if (d.empty()) {
      if (idx != 1) return false;
      out.data<std::string_view>()[i] = out.AddString(s);
      return true;
    }
    size_t pos = 0;
    for (int64_t k = 1;; ++k) {
      size_t f = s.find(d, pos);
      if (k == idx) {
        out.data<std::string_view>()[i] =
            out.AddString(s.substr(pos, f == std::string_view::npos ? s.npos : f - pos));
        return true;
      }
      if (f == std::string_view::npos) return false;
      pos = f + d.size();
    }
  });
}
Status StrposKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status*) {
    std::string_view s = S(*a[0], i), sub = S(*a[1], i);
    size_t f = s.find(sub);
    out.data<int64_t>()[i] =
        f == std::string_view::npos ? 0 : static_cast<int64_t>(CodePoints(s.substr(0, f))) + 1;
    return true;
  });
}
Status StartsWithKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status*) {
    out.data<uint8_t>()[i] = S(*a[0], i).starts_with(S(*a[1], i));
    return true;
  });
}
template <bool left>
Status PadKernel(Args a, size_t n, ColumnVector& out) {
  return StrToStr(a, n, out, [&](size_t i, std::string& b, Status* err) {
    std::string_view s = S(*a[0], i);
    int64_t size = I64(*a[1], i);
    std::string_view pad = a.size() > 2 ? S(*a[2], i) : std::string_view(" ");
    if (size < 0) {
      *err = Status::InvalidArgument(std::string(left ? "lpad" : "rpad") +
                                     ": target size must be non-negative");
      return false;
    }
    if (size > (1 << 20)) {
      *err = Status::InvalidArgument("lpad/rpad: target size is too large");
      return false;
    }
    int64_t cps = static_cast<int64_t>(CodePoints(s));
    if (cps >= size) {
      b.append(s.substr(0, ByteOfCodePoint(s, static_cast<size_t>(size))));
      return true;
    }
    if (pad.empty()) {
      *err = Status::InvalidArgument("lpad/rpad: padding string must not be empty");
      return false;
    }
    std::string fill;
    int64_t need = size - cps;
    size_t pcp = CodePoints(pad);
    while (static_cast<int64_t>(CodePoints(fill)) + static_cast<int64_t>(pcp) <= need) fill.append(pad);
    int64_t rest = need - static_cast<int64_t>(CodePoints(fill));
    fill.append(pad.substr(0, ByteOfCodePoint(pad, static_cast<size_t>(rest))));
    if (left) {
      b = fill;
      b.append(s);
    } else {
      b = s;
      b.append(fill);
    }
    return true;
  });
}

// LIKE with % and _ (code points) and an optional escape character.
bool LikeMatch(std::string_view s, std::string_view p, int esc) {
  size_t si = 0, pi = 0, star_p = std::string_view::npos, star_s = 0;
  auto next_cp = [](std::string_view t, size_t i) {
    ++i;
    while (i < t.size() && (static_cast<unsigned char>(t[i]) & 0xC0) == 0x80) ++i;
    return i;
  };
  while (si < s.size()) {
    if (pi < p.size()) {
      char c = p[pi];
      if (esc >= 0 && c == static_cast<char>(esc) && pi + 1 < p.size()) {
        size_t pe = next_cp(p, pi + 1);
        size_t se = next_cp(s, si);
        if (p.substr(pi + 1, pe - pi - 1) == s.substr(si, se - si)) {
          pi = pe;
          si = se;
          continue;
        }
      } else if (c == '%') {
        star_p = pi++;
        star_s = si;
        continue;
      } else if (c == '_') {
        pi = next_cp(p, pi);
        si = next_cp(s, si);
        continue;
      } else if (c == s[si]) {
        ++pi;
        ++si;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p + 1;
    si = star_s = next_cp(s, star_s);
  }
  while (pi < p.size() && p[pi] == '%' && !(esc >= 0 && p[pi] == static_cast<char>(esc))) ++pi;
  return pi == p.size();
}

Status LikeKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    int esc = -1;
    if (a.size() > 2) {
      std::string_view e = S(*a[2], i);
      if (CodePoints(e) != 1) {
        *err = Status::InvalidArgument("LIKE: escape must be a single character");
        return false;
      }
      esc = static_cast<unsigned char>(e[0]);
      std::string_view p = S(*a[1], i);
      for (size_t k = 0; k < p.size(); ++k) {
        if (static_cast<unsigned char>(p[k]) == esc) {
          if (k + 1 >= p.size() || (p[k + 1] != '%' && p[k + 1] != '_' && p[k + 1] != p[k])) {
            *err = Status::InvalidArgument("LIKE: escape character must be followed by '%', '_' "
                                           "or the escape character");
            return false;
          }
          ++k;
        }
      }
    }
    out.data<uint8_t>()[i] = LikeMatch(S(*a[0], i), S(*a[1], i), esc);
    return true;
  });
}

// Compiled regexes per kernel call: patterns are almost always constants.
class RegexCache {
 public:
  Result<const RE2*> Get(std::string_view pattern) {
    if (re_ && last_ == pattern) return re_.get();
    RE2::Options opt;
    opt.set_log_errors(false);
    re_ = std::make_unique<RE2>(pattern, opt);
    last_ = pattern;
    if (!re_->ok()) {
      std::string why = re_->error();
      re_.reset();
      return Status::InvalidArgument("invalid regular expression '" + std::string(pattern) +
                                     "': " + why);
    }
    return re_.get();
  }

 private:
  std::unique_ptr<RE2> re_;
  std::string last_;
};

Status RegexpLikeKernel(Args a, size_t n, ColumnVector& out) {
  RegexCache cache;
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    auto re = cache.Get(S(*a[1], i));
    if (!re.ok()) {
      *err = re.status();
      return false;
    }
    std::string_view s = S(*a[0], i);
    out.data<uint8_t>()[i] = RE2::PartialMatch(s, **re);
    return true;
  });
}
Status RegexpExtractKernel(Args a, size_t n, ColumnVector& out) {
  RegexCache cache;
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    auto re = cache.Get(S(*a[1], i));
    if (!re.ok()) {
      *err = re.status();
      return false;
    }
    int64_t group = a.size() > 2 ? I64(*a[2], i) : 0;
    if (group < 0 || group > (*re)->NumberOfCapturingGroups()) {
      *err = Status::InvalidArgument("regexp_extract: pattern has no group " +
                                     std::to_string(group));
      return false;
    }
    std::string_view s = S(*a[0], i);
    std::vector<re2::StringPiece> groups(static_cast<size_t>(group) + 1);
    if (!(*re)->Match(s, 0, s.size(), RE2::UNANCHORED, groups.data(),
                      static_cast<int>(groups.size())))
      return false;
    re2::StringPiece g = groups[static_cast<size_t>(group)];
    if (g.data() == nullptr) return false;
    out.data<std::string_view>()[i] = out.AddString(std::string_view(g.data(), g.size()));
    return true;
  });
}
Status RegexpReplaceKernel(Args a, size_t n, ColumnVector& out) {
  RegexCache cache;
  return StrToStr(a, n, out, [&](size_t i, std::string& b, Status* err) {
    auto re = cache.Get(S(*a[1], i));
    if (!re.ok()) {
      *err = re.status();
      return false;
    }
    // Trino writes groups as $1; RE2 as \1.
    std::string rep;
    if (a.size() > 2) {
      std::string_view r = S(*a[2], i);
      for (size_t k = 0; k < r.size(); ++k) {
        if (r[k] == '$' && k + 1 < r.size() && std::isdigit(static_cast<unsigned char>(r[k + 1]))) {
          rep.push_back('\\');
        } else if (r[k] == '\\') {
          if (k + 1 < r.size()) {
            ++k;
            if (r[k] == '\\') rep += "\\\\"; else rep.push_back(r[k]);
            continue;
          }
          rep += "\\\\";
          continue;
        } else {
          rep.push_back(r[k]);
          continue;
        }
        rep.push_back(r[++k]);
      }
    }
    std::string error;
    if (!(*re)->CheckRewriteString(rep, &error)) {
      *err = Status::InvalidArgument("regexp_replace: bad replacement: " + error);
      return false;
    }
    b = S(*a[0], i);
    RE2::GlobalReplace(&b, **re, rep);
    return true;
  });
}

// ---------------------------------------------------------------- dates

int64_t MicrosOf(const ColumnVector& v, size_t i) {
  if (v.type().id == TypeId::kDate) return int64_t{v.GetValue<int32_t>(i)} * kMicrosPerDay;
  return v.GetValue<int64_t>(i);
}

// ISO week number and week-based year.
void IsoWeek(int32_t days, int* week, int* year) {
  int dow = IsoDayOfWeek(days);             // 1..7
  int32_t thursday = days - (dow - 1) + 3;  // the Thursday of this week decides the year
  CivilDate c = CivilFromDays(thursday);
  int32_t jan1 = DaysFromCivil(c.year, 1, 1);
  *week = (thursday - jan1) / 7 + 1;
  *year = c.year;
}

enum class Field { kYear, kQuarter, kMonth, kWeek, kDay, kDayOfWeek, kDayOfYear, kHour, kMinute,
                   kSecond, kMillisecond, kYearOfWeek };

template <Field f>
Status ExtractKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status*) {
    int64_t micros = MicrosOf(*a[0], i);
    int32_t days = static_cast<int32_t>(FloorDiv(micros, kMicrosPerDay));
    int64_t tod = micros - int64_t{days} * kMicrosPerDay;
    // The civil date only for the fields that need it (it is most of the cost of the others).
    constexpr bool kCivil = f == Field::kYear || f == Field::kQuarter || f == Field::kMonth ||
                            f == Field::kDay || f == Field::kDayOfYear;
    CivilDate c{};
    if constexpr (kCivil) c = CivilFromDays(days);
    int64_t r = 0;
    switch (f) {
      case Field::kYear: r = c.year; break;
      case Field::kQuarter: r = (c.month - 1) / 3 + 1; break;
      case Field::kMonth: r = c.month; break;
      case Field::kWeek: { int w, y; IsoWeek(days, &w, &y); r = w; break; }
      case Field::kYearOfWeek: { int w, y; IsoWeek(days, &w, &y); r = y; break; }
      case Field::kDay: r = c.day; break;
      case Field::kDayOfWeek: r = IsoDayOfWeek(days); break;
      case Field::kDayOfYear: r = days - DaysFromCivil(c.year, 1, 1) + 1; break;
      case Field::kHour: r = tod / (3600 * kMicrosPerSecond); break;
      case Field::kMinute: r = (tod / (60 * kMicrosPerSecond)) % 60; break;
      case Field::kSecond: r = (tod / kMicrosPerSecond) % 60; break;
      case Field::kMillisecond: r = (tod / 1000) % 1000; break;
    }
    out.data<int64_t>()[i] = r;
    return true;
  });
}

enum class Unit { kMillisecond, kSecond, kMinute, kHour, kDay, kWeek, kMonth, kQuarter, kYear };
std::optional<Unit> ParseUnit(std::string_view u) {
  std::string s(u);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!s.empty() && s.back() == 's') s.pop_back();
  if (s == "millisecond") return Unit::kMillisecond;
  if (s == "second") return Unit::kSecond;
  if (s == "minute") return Unit::kMinute;
  if (s == "hour") return Unit::kHour;
  if (s == "day") return Unit::kDay;
  if (s == "week") return Unit::kWeek;
  if (s == "month") return Unit::kMonth;
  if (s == "quarter") return Unit::kQuarter;
  if (s == "year") return Unit::kYear;
  return std::nullopt;
}
Status BadUnit(std::string_view fn, std::string_view u) {
  return Status::InvalidArgument(fmt::format("{}: unknown unit '{}' (expected one of millisecond, "
                                             "second, minute, hour, day, week, month, quarter, "
                                             "year)", fn, u));
}
int64_t UnitMicros(Unit u) {
  switch (u) {
    case Unit::kMillisecond: return 1000;
    case Unit::kSecond: return kMicrosPerSecond;
    case Unit::kMinute: return 60 * kMicrosPerSecond;
    case Unit::kHour: return 3600 * kMicrosPerSecond;
    case Unit::kDay: return kMicrosPerDay;
    case Unit::kWeek: return 7 * kMicrosPerDay;
    default: return 0;
  }
}

int64_t TruncMicros(int64_t t, Unit u) {
  int32_t days = static_cast<int32_t>(FloorDiv(t, kMicrosPerDay));
  CivilDate c = CivilFromDays(days);
  switch (u) {
    case Unit::kYear: return int64_t{DaysFromCivil(c.year, 1, 1)} * kMicrosPerDay;
    case Unit::kQuarter:
      return int64_t{DaysFromCivil(c.year, static_cast<unsigned>((c.month - 1) / 3 * 3 + 1), 1)} *
             kMicrosPerDay;
    case Unit::kMonth: return int64_t{DaysFromCivil(c.year, c.month, 1)} * kMicrosPerDay;
    case Unit::kWeek: return int64_t{days - (IsoDayOfWeek(days) - 1)} * kMicrosPerDay;
    default: {
      int64_t m = UnitMicros(u);
      return FloorDiv(t, m) * m;
    }
  }
}

Status DateTruncKernel(Args a, size_t n, ColumnVector& out) {
  std::string last;
  std::optional<Unit> unit;
  bool is_date = a[1]->type().id == TypeId::kDate;
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    std::string_view u = S(*a[0], i);
    if (!unit || u != last) {
      last = u;
      unit = ParseUnit(u);
      if (!unit) {
        *err = BadUnit("date_trunc", u);
        return false;
      }
    }
    if (is_date) {
      if (UnitMicros(*unit) != 0 && *unit != Unit::kDay && *unit != Unit::kWeek) {
        *err = Status::InvalidArgument("date_trunc: '" + last + "' is not a valid unit for DATE");
        return false;
      }
      out.data<int32_t>()[i] = static_cast<int32_t>(
          TruncMicros(int64_t{a[1]->GetValue<int32_t>(i)} * kMicrosPerDay, *unit) / kMicrosPerDay);
    } else {
      out.data<int64_t>()[i] = TruncMicros(a[1]->GetValue<int64_t>(i), *unit);
    }
    return true;
  });
}

Status DateAddKernel(Args a, size_t n, ColumnVector& out) {
  bool is_date = a[2]->type().id == TypeId::kDate;
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    auto unit = ParseUnit(S(*a[0], i));
    if (!unit) {
      *err = BadUnit("date_add", S(*a[0], i));
      return false;
    }
    int64_t k = I64(*a[1], i);
    int64_t t = MicrosOf(*a[2], i);
    int64_t r;
    if (*unit == Unit::kMonth || *unit == Unit::kQuarter || *unit == Unit::kYear) {
      int64_t months = k * (*unit == Unit::kMonth ? 1 : *unit == Unit::kQuarter ? 3 : 12);
      if (months > INT32_MAX || months < INT32_MIN) {
        *err = Status::InvalidArgument("date_add: value out of range");
        return false;
      }
      r = AddIntervalToMicros(t, Interval{static_cast<int32_t>(months), 0, 0}, 1);
    } else {
      if (is_date && UnitMicros(*unit) < kMicrosPerDay) {
        *err = Status::InvalidArgument("date_add: '" + std::string(S(*a[0], i)) +
                                       "' is not a valid unit for DATE");
        return false;
      }
      int64_t delta;
      if (__builtin_mul_overflow(k, UnitMicros(*unit), &delta) ||
          __builtin_add_overflow(t, delta, &r)) {
        *err = Status::InvalidArgument("date_add: value out of range");
        return false;
      }
    }
    if (is_date) {
      out.data<int32_t>()[i] = static_cast<int32_t>(FloorDiv(r, kMicrosPerDay));
    } else {
      out.data<int64_t>()[i] = r;
    }
    return true;
  });
}

// Whole months from a to b, as Joda's Months.between (used by Trino): the largest m with
// a + m months <= b (for b >= a), adding months with the day clamped to the month's end.
int64_t MonthsBetween(int64_t a, int64_t b) {
  auto ym = [](int64_t t) {
    CivilDate c = CivilFromDays(static_cast<int32_t>(FloorDiv(t, kMicrosPerDay)));
    return int64_t{c.year} * 12 + c.month - 1;
  };
  int64_t m = ym(b) - ym(a);
  auto plus = [&](int64_t k) {
    return AddIntervalToMicros(a, Interval{static_cast<int32_t>(k), 0, 0}, 1);
  };
  if (m > 0 && plus(m) > b) --m;
  if (m < 0 && plus(m) < b) ++m;
  return m;
}

Status DateDiffKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    auto unit = ParseUnit(S(*a[0], i));
    if (!unit) {
      *err = BadUnit("date_diff", S(*a[0], i));
      return false;
    }
    int64_t x = MicrosOf(*a[1], i), y = MicrosOf(*a[2], i);
    int64_t r;
    switch (*unit) {
      case Unit::kMonth: r = MonthsBetween(x, y); break;
      case Unit::kQuarter: r = MonthsBetween(x, y) / 3; break;
      case Unit::kYear: r = MonthsBetween(x, y) / 12; break;
      default: r = (y - x) / UnitMicros(*unit); break;
    }
    out.data<int64_t>()[i] = r;
    return true;
  });
}

Status CurrentDateKernel(Args, size_t n, ColumnVector& out) {
  auto now = std::chrono::system_clock::now();
  int64_t micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  for (size_t i = 0; i < n; ++i) out.data<int32_t>()[i] = static_cast<int32_t>(FloorDiv(micros, kMicrosPerDay));
  return Status::OK();
}
Status NowKernel(Args, size_t n, ColumnVector& out) {
  auto now = std::chrono::system_clock::now();
  int64_t micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  for (size_t i = 0; i < n; ++i) out.data<int64_t>()[i] = micros;
  return Status::OK();
}

const char* kMonthNames[] = {"January", "February", "March",     "April",   "May",      "June",
                             "July",    "August",   "September", "October", "November", "December"};
const char* kDayNames[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

// Appends v (0 <= v) zero-padded to `width` digits: the common date_format fields, without a
// formatting call per field per row (ETL partition keys run date_format on every row).
void AppendPadded(std::string& b, int64_t v, int width) {
  char buf[24];
  int len = 0;
  do {
    buf[len++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  for (int k = len; k < width; ++k) b.push_back('0');
  while (len > 0) b.push_back(buf[--len]);
}

// MySQL-style format, as Trino's date_format.
Status DateFormatKernel(Args a, size_t n, ColumnVector& out) {
  auto format = [&](size_t i, std::string& b, Status* err) {
    int64_t t = MicrosOf(*a[0], i);
    int32_t days = static_cast<int32_t>(FloorDiv(t, kMicrosPerDay));
    int64_t tod = t - int64_t{days} * kMicrosPerDay;
    CivilDate c = CivilFromDays(days);
    int h = static_cast<int>(tod / (3600 * kMicrosPerSecond));
    int mi = static_cast<int>((tod / (60 * kMicrosPerSecond)) % 60);
    int se = static_cast<int>((tod / kMicrosPerSecond) % 60);
    int dow = IsoDayOfWeek(days);
    std::string_view f = S(*a[1], i);
    for (size_t k = 0; k < f.size(); ++k) {
      if (f[k] != '%' || k + 1 == f.size()) {
        b.push_back(f[k]);
        continue;
      }
      char s = f[++k];
      switch (s) {
        case 'Y':
          if (c.year >= 0) AppendPadded(b, c.year, 4);
          else b += fmt::format("{:04}", c.year);
          break;
        case 'y': b += fmt::format("{:02}", ((c.year % 100) + 100) % 100); break;
        case 'm': AppendPadded(b, c.month, 2); break;
        case 'c': b += std::to_string(c.month); break;
        case 'd': AppendPadded(b, c.day, 2); break;
        case 'e': b += std::to_string(c.day); break;
        case 'H': AppendPadded(b, h, 2); break;
        case 'k': b += std::to_string(h); break;
        case 'h':
        case 'I': b += fmt::format("{:02}", (h + 11) % 12 + 1); break;
        case 'l': b += std::to_string((h + 11) % 12 + 1); break;
        case 'i': AppendPadded(b, mi, 2); break;
        case 's':
        case 'S': AppendPadded(b, se, 2); break;
        case 'f': b += fmt::format("{:06}", tod % kMicrosPerSecond); break;
        case 'p': b += h < 12 ? "AM" : "PM"; break;
        case 'T': b += fmt::format("{:02}:{:02}:{:02}", h, mi, se); break;
        case 'r': b += fmt::format("{:02}:{:02}:{:02} {}", (h + 11) % 12 + 1, mi, se, h < 12 ? "AM" : "PM"); break;
        case 'M': b += kMonthNames[c.month - 1]; break;
        case 'b': b += std::string(kMonthNames[c.month - 1]).substr(0, 3); break;
        case 'W': b += kDayNames[dow - 1]; break;
        case 'a': b += std::string(kDayNames[dow - 1]).substr(0, 3); break;
        case 'j': b += fmt::format("{:03}", days - DaysFromCivil(c.year, 1, 1) + 1); break;
        case '%': b.push_back('%'); break;
        default:
          *err = Status::InvalidArgument(fmt::format("date_format: unsupported specifier %{}", s));
          return false;
      }
    }
    return true;
  };
  if (a[0]->type().id != TypeId::kDate || a[1]->encoding() != VectorEncoding::kConstant) {
    return StrToStr(a, n, out, format);
  }
  // Dates under one format repeat (the ETL derives purchase_month on every row): each day's
  // text is built once per batch and its rows share the bytes, through a small direct-mapped
  // memo of day -> text.
  struct Memo {
    int32_t day = 0;
    bool set = false;
    std::string_view text;
  };
  Memo memo[64];
  std::string buf;
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    const int32_t day = a[0]->GetValue<int32_t>(i);
    Memo& m = memo[static_cast<uint32_t>(day) % 64];
    if (!m.set || m.day != day) {
      buf.clear();
      if (!format(i, buf, err)) return false;
      m = Memo{day, true, out.AddString(buf)};
    }
    out.data<std::string_view>()[i] = m.text;
    return true;
  });
}

Status DateParseKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    std::string_view s = S(*a[0], i), f = S(*a[1], i);
    int y = 1970, mo = 1, d = 1, h = 0, mi = 0, se = 0;
    int64_t frac = 0;
    bool pm = false, has_ampm = false;
    size_t p = 0;
    auto num = [&](int max_digits, int* out_v) {
      size_t b = p;
      int v = 0;
      while (p < s.size() && p - b < static_cast<size_t>(max_digits) &&
             std::isdigit(static_cast<unsigned char>(s[p])))
        v = v * 10 + (s[p++] - '0');
      *out_v = v;
      return p > b;
    };
    auto fail = [&]() {
      *err = Status::InvalidArgument(fmt::format("date_parse: invalid value '{}' for format '{}'",
                                                 s, f));
      return false;
    };
    for (size_t k = 0; k < f.size(); ++k) {
      if (f[k] != '%' || k + 1 == f.size()) {
        if (p >= s.size() || s[p] != f[k]) return fail();
        ++p;
        continue;
      }
      char c = f[++k];
      bool ok = true;
      switch (c) {
        case 'Y': ok = num(4, &y); break;
        case 'y': ok = num(2, &y); y += y < 70 ? 2000 : 1900; break;
        case 'm': case 'c': ok = num(2, &mo); break;
        case 'd': case 'e': ok = num(2, &d); break;
        case 'H': case 'k': case 'h': case 'I': case 'l': ok = num(2, &h); break;
        case 'i': ok = num(2, &mi); break;
        case 's': case 'S': ok = num(2, &se); break;
        case 'f': {
          size_t b = p;
          int v;
          ok = num(6, &v);
          frac = v;
          for (size_t z = p - b; z < 6; ++z) frac *= 10;
          break;
        }
        case 'p':
          if (p + 2 <= s.size() && (s.substr(p, 2) == "AM" || s.substr(p, 2) == "PM")) {
            has_ampm = true;
            pm = s[p] == 'P';
            p += 2;
          } else {
            ok = false;
          }
          break;
        case '%': ok = p < s.size() && s[p++] == '%'; break;
        default:
          *err = Status::InvalidArgument(fmt::format("date_parse: unsupported specifier %{}", c));
          return false;
      }
      if (!ok) return fail();
    }
    if (p != s.size()) return fail();
    if (has_ampm) h = h % 12 + (pm ? 12 : 0);
    if (!IsValidDate(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) || h > 23 || mi > 59 ||
        se > 59)
      return fail();
    out.data<int64_t>()[i] = int64_t{DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d))} *
                                 kMicrosPerDay +
                             ((int64_t{h} * 60 + mi) * 60 + se) * kMicrosPerSecond + frac;
    return true;
  });
}

Status FromIsoDateKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    auto d = ParseIsoDate(S(*a[0], i));
    if (!d) {
      *err = Status::InvalidArgument("from_iso8601_date: invalid date '" +
                                     std::string(S(*a[0], i)) + "'");
      return false;
    }
    out.data<int32_t>()[i] = *d;
    return true;
  });
}

// ---------------------------------------------------------------- registry

using R = Result<ScalarFunction>;
using Types = std::vector<DataType>;

bool AnyNumeric(const DataType& t) { return IsNumericOrNull(t); }
bool AnyString(const DataType& t) { return IsStringOrNull(t); }
bool AnyInt(const DataType& t) { return IsInt(t) || t.id == TypeId::kNull; }
bool AnyDateLike(const DataType& t) {
  return t.id == TypeId::kDate || t.id == TypeId::kTimestamp || t.id == TypeId::kNull;
}
DataType DateLike(const DataType& t) { return t.id == TypeId::kNull ? DataType::Timestamp() : t; }

R StringFn(std::string_view name, const Types& t, size_t min_args, size_t max_args,
           std::vector<DataType> sig, DataType ret, ScalarKernel k) {
  if (t.size() < min_args || t.size() > max_args) return Bad(name, t, "(" + [&] {
    std::string s;
    for (size_t i = 0; i < sig.size(); ++i) s += (i ? ", " : "") + sig[i].ToString();
    return s;
  }() + ")");
  sig.resize(t.size());
  for (size_t i = 0; i < t.size(); ++i)
    if (!CanCoerce(t[i], sig[i])) return Bad(name, t, "(" + [&] {
      std::string s;
      for (size_t j = 0; j < sig.size(); ++j) s += (j ? ", " : "") + sig[j].ToString();
      return s;
    }() + ")");
  return Fn(name, sig, ret, k);
}

R ExtractFn(std::string_view name, const Types& t, ScalarKernel k) {
  if (t.size() != 1 || !AnyDateLike(t[0])) return Bad(name, t, "(DATE) or (TIMESTAMP)");
  return Fn(name, {DateLike(t[0])}, DataType::Int64(), k);
}

// $single_row(n): TRUE, or an error when a (decorrelated) scalar subquery found n > 1 rows for
// an outer row. NULL (no rows) is fine.
Status SingleRowKernel(Args a, size_t n, ColumnVector& out) {
  const ColumnVector& c = *a[0];
  const bool constant = c.encoding() == VectorEncoding::kConstant;
  for (size_t i = 0; i < n; ++i) {
    size_t r = constant ? 0 : i;
    if (c.IsValid(r) && c.data<int64_t>()[r] > 1)
      return Status::InvalidArgument("scalar subquery returned more than one row");
  }
  std::fill(out.data<uint8_t>(), out.data<uint8_t>() + n, uint8_t{1});
  return Status::OK();
}

const std::map<std::string, Resolver, std::less<>>& Registry() {
  static const std::map<std::string, Resolver, std::less<>> reg = {
      {"$add", [](const Types& t) { return ResolveArith<AddOp, DecOp::kAdd>("+", t); }},
      {"$sub", [](const Types& t) { return ResolveArith<SubOp, DecOp::kSub>("-", t); }},
      {"$mul", [](const Types& t) { return ResolveArith<MulOp, DecOp::kMul>("*", t); }},
      {"$div", [](const Types& t) { return ResolveArith<DivOp, DecOp::kDiv>("/", t); }},
      {"$mod", [](const Types& t) { return ResolveArith<ModOp, DecOp::kMod>("%", t); }},
      {"mod", [](const Types& t) { return ResolveArith<ModOp, DecOp::kMod>("mod", t); }},
      {"$single_row", [](const Types& t) -> R {
         if (t.size() != 1 || t[0].id != TypeId::kInt64) return Bad("$single_row", t, "(BIGINT)");
         return Fn("$single_row", {DataType::Int64()}, DataType::Boolean(), &SingleRowKernel);
       }},
      {"$neg", [](const Types& t) -> R {
         if (t.size() != 1 || !(IsNumericOrNull(t[0]) || t[0].id == TypeId::kInterval))
           return Bad("-", t, "a numeric argument");
         DataType a = t[0].id == TypeId::kNull ? DataType::Int32() : t[0];
         switch (a.id) {
           case TypeId::kInt32: return Fn("-", {a}, a, &Negate<int32_t>);
           case TypeId::kInt64: return Fn("-", {a}, a, &Negate<int64_t>);
           case TypeId::kFloat: return Fn("-", {a}, a, &Negate<float>);
           case TypeId::kDecimal: return Fn("-", {a}, a, &NegateDecimal);
           case TypeId::kInterval: return Bad("-", t, "a numeric argument");
           default: return Fn("-", {a}, a, &Negate<double>);
         }
       }},
      {"$eq", [](const Types& t) { return ResolveCompare<Cmp::kEq>("=", t); }},
      {"$ne", [](const Types& t) { return ResolveCompare<Cmp::kNe>("<>", t); }},
      {"$lt", [](const Types& t) { return ResolveCompare<Cmp::kLt>("<", t); }},
      {"$le", [](const Types& t) { return ResolveCompare<Cmp::kLe>("<=", t); }},
      {"$gt", [](const Types& t) { return ResolveCompare<Cmp::kGt>(">", t); }},
      {"$ge", [](const Types& t) { return ResolveCompare<Cmp::kGe>(">=", t); }},
      {"$distinct", [](const Types& t) -> R {
         if (t.size() != 2) return Bad("IS DISTINCT FROM", t, "two arguments");
         auto c = ComparisonType(t[0], t[1]);
         if (!c) return Status::InvalidArgument("cannot compare " + t[0].ToString() + " with " + t[1].ToString());
         return Fn("is distinct from", {*c, *c}, DataType::Boolean(), &DistinctKernel);
       }},
      {"$concat", [](const Types& t) -> R {
         Types sig(t.size(), DataType::Varchar());
         for (const DataType& x : t)
           if (!AnyString(x)) return Bad("||", t, "(VARCHAR, VARCHAR)");
         return Fn("||", sig, DataType::Varchar(), &ConcatKernel);
       }},
      {"concat", [](const Types& t) -> R {
         if (t.empty()) return Bad("concat", t, "at least one VARCHAR");
         for (const DataType& x : t)
           if (!AnyString(x)) return Bad("concat", t, "VARCHAR arguments");
         return Fn("concat", Types(t.size(), DataType::Varchar()), DataType::Varchar(), &ConcatKernel);
       }},
      // math
      {"abs", [](const Types& t) -> R {
         if (t.size() != 1 || !AnyNumeric(t[0])) return Bad("abs", t, "a numeric argument");
         DataType a = t[0].id == TypeId::kNull ? DataType::Int32() : t[0];
         switch (a.id) {
           case TypeId::kInt32: return Fn("abs", {a}, a, &AbsKernel<int32_t>);
           case TypeId::kInt64: return Fn("abs", {a}, a, &AbsKernel<int64_t>);
           case TypeId::kDecimal: return Fn("abs", {a}, a, &AbsDecimal);
           case TypeId::kFloat: return Fn("abs", {a}, a, &AbsKernel<float>);
           default: return Fn("abs", {a}, a, &AbsKernel<double>);
         }
       }},
      {"round", [](const Types& t) -> R {
         if (t.empty() || t.size() > 2 || !AnyNumeric(t[0]) || (t.size() == 2 && !AnyInt(t[1])))
           return Bad("round", t, "(number) or (number, INTEGER)");
         DataType a = t[0].id == TypeId::kNull ? DataType::Double() : t[0];
         if (a.id == TypeId::kFloat) a = DataType::Double();
         if (t.size() == 1) {
           if (a.is_integer()) return Fn("round", {a}, a, a.id == TypeId::kInt32 ? &Identity<int32_t> : &Identity<int64_t>);
           if (a.id == TypeId::kDecimal) {
             DataType r = DataType::Decimal(static_cast<uint8_t>(std::min(38, a.precision - a.scale + (a.scale > 0 ? 1 : 0))), 0);
             return Fn("round", {a}, r, &RoundDecimal2);
           }
           return Fn("round", {a}, a, &DoubleUnary<RoundHalfAway>);
         }
         if (a.id == TypeId::kInt32) return Fn("round", {a, DataType::Int32()}, a, &RoundInt2<int32_t>);
         if (a.id == TypeId::kInt64) return Fn("round", {a, DataType::Int32()}, a, &RoundInt2<int64_t>);
         if (a.id == TypeId::kDecimal) {
           DataType r = DataType::Decimal(static_cast<uint8_t>(std::min(38, a.precision + (a.scale > 0 ? 1 : 0))), a.scale);
           return Fn("round", {a, DataType::Int32()}, r, &RoundDecimal2);
         }
         return Fn("round", {a, DataType::Int32()}, a, &RoundDouble2);
       }},
      {"floor", [](const Types& t) -> R {
         if (t.size() != 1 || !AnyNumeric(t[0])) return Bad("floor", t, "a numeric argument");
         DataType a = t[0].id == TypeId::kNull ? DataType::Double() : t[0];
         if (a.id == TypeId::kInt32) return Fn("floor", {a}, a, &Identity<int32_t>);
         if (a.id == TypeId::kInt64) return Fn("floor", {a}, a, &Identity<int64_t>);
         if (a.id == TypeId::kDecimal)
           return Fn("floor", {a}, DataType::Decimal(static_cast<uint8_t>(std::max(1, a.precision - a.scale + (a.scale > 0))), 0), &FloorCeilDecimal<false>);
         return Fn("floor", {DataType::Double()}, DataType::Double(), &DoubleUnary<std::floor>);
       }},
      {"ceil", [](const Types& t) -> R {
         if (t.size() != 1 || !AnyNumeric(t[0])) return Bad("ceil", t, "a numeric argument");
         DataType a = t[0].id == TypeId::kNull ? DataType::Double() : t[0];
         if (a.id == TypeId::kInt32) return Fn("ceil", {a}, a, &Identity<int32_t>);
         if (a.id == TypeId::kInt64) return Fn("ceil", {a}, a, &Identity<int64_t>);
         if (a.id == TypeId::kDecimal)
           return Fn("ceil", {a}, DataType::Decimal(static_cast<uint8_t>(std::max(1, a.precision - a.scale + (a.scale > 0))), 0), &FloorCeilDecimal<true>);
         return Fn("ceil", {DataType::Double()}, DataType::Double(), &DoubleUnary<std::ceil>);
       }},
      {"sqrt", [](const Types& t) { return StringFn("sqrt", t, 1, 1, {DataType::Double()}, DataType::Double(), &DoubleUnary<std::sqrt>); }},
      {"cbrt", [](const Types& t) { return StringFn("cbrt", t, 1, 1, {DataType::Double()}, DataType::Double(), &DoubleUnary<std::cbrt>); }},
      {"ln", [](const Types& t) { return StringFn("ln", t, 1, 1, {DataType::Double()}, DataType::Double(), &DoubleUnary<std::log>); }},
      {"log10", [](const Types& t) { return StringFn("log10", t, 1, 1, {DataType::Double()}, DataType::Double(), &DoubleUnary<std::log10>); }},
      {"log2", [](const Types& t) { return StringFn("log2", t, 1, 1, {DataType::Double()}, DataType::Double(), &DoubleUnary<std::log2>); }},
      {"exp", [](const Types& t) { return StringFn("exp", t, 1, 1, {DataType::Double()}, DataType::Double(), &DoubleUnary<std::exp>); }},
      {"sign", [](const Types& t) { return StringFn("sign", t, 1, 1, {DataType::Double()}, DataType::Double(), &DoubleUnary<Sign>); }},
      {"power", [](const Types& t) { return StringFn("power", t, 2, 2, {DataType::Double(), DataType::Double()}, DataType::Double(), &PowerKernel); }},
      {"random", [](const Types& t) -> R {
         if (!t.empty()) return Bad("random", t, "no arguments");
         return Fn("random", {}, DataType::Double(), &RandomKernel, false);
       }},
      {"greatest", [](const Types& t) -> R {
         if (t.empty()) return Bad("greatest", t, "at least one argument");
         DataType c = t[0];
         for (const DataType& x : t) {
           auto s = CommonSuperType(c, x);
           if (!s) return Bad("greatest", t, "arguments of one comparable type");
           c = *s;
         }
         if (c.id == TypeId::kNull) c = DataType::Int32();
         return Fn("greatest", Types(t.size(), c), c, &GreatestLeast<true>);
       }},
      {"least", [](const Types& t) -> R {
         if (t.empty()) return Bad("least", t, "at least one argument");
         DataType c = t[0];
         for (const DataType& x : t) {
           auto s = CommonSuperType(c, x);
           if (!s) return Bad("least", t, "arguments of one comparable type");
           c = *s;
         }
         if (c.id == TypeId::kNull) c = DataType::Int32();
         return Fn("least", Types(t.size(), c), c, &GreatestLeast<false>);
       }},
      {"nullif", [](const Types& t) -> R {
         if (t.size() != 2) return Bad("nullif", t, "two arguments");
         auto c = CommonSuperType(t[0], t[1]);
         if (!c) return Bad("nullif", t, "two arguments of comparable types");
         DataType a = t[0].id == TypeId::kNull ? *c : t[0];
         if (a.id == TypeId::kNull) a = DataType::Int32();
         DataType cc = c->id == TypeId::kNull ? a : *c;
         // The comparison happens in the common type; the result keeps the first type.
         return Fn("nullif", {cc, cc}, cc, &NullIfKernel);
       }},
      // strings
      {"lower", [](const Types& t) { return StringFn("lower", t, 1, 1, {DataType::Varchar()}, DataType::Varchar(), &LowerKernel); }},
      {"upper", [](const Types& t) { return StringFn("upper", t, 1, 1, {DataType::Varchar()}, DataType::Varchar(), &UpperKernel); }},
      {"trim", [](const Types& t) { return StringFn("trim", t, 1, 1, {DataType::Varchar()}, DataType::Varchar(), &TrimKernel<true, true>); }},
      {"ltrim", [](const Types& t) { return StringFn("ltrim", t, 1, 1, {DataType::Varchar()}, DataType::Varchar(), &TrimKernel<true, false>); }},
      {"rtrim", [](const Types& t) { return StringFn("rtrim", t, 1, 1, {DataType::Varchar()}, DataType::Varchar(), &TrimKernel<false, true>); }},
      {"length", [](const Types& t) { return StringFn("length", t, 1, 1, {DataType::Varchar()}, DataType::Int64(), &LengthKernel); }},
      {"reverse", [](const Types& t) { return StringFn("reverse", t, 1, 1, {DataType::Varchar()}, DataType::Varchar(), &ReverseKernel); }},
      {"substr", [](const Types& t) { return StringFn("substr", t, 2, 3, {DataType::Varchar(), DataType::Int64(), DataType::Int64()}, DataType::Varchar(), &SubstrKernel); }},
      {"replace", [](const Types& t) { return StringFn("replace", t, 2, 3, {DataType::Varchar(), DataType::Varchar(), DataType::Varchar()}, DataType::Varchar(), &ReplaceKernel); }},
      {"split_part", [](const Types& t) { return StringFn("split_part", t, 3, 3, {DataType::Varchar(), DataType::Varchar(), DataType::Int64()}, DataType::Varchar(), &SplitPartKernel); }},
      {"strpos", [](const Types& t) { return StringFn("strpos", t, 2, 2, {DataType::Varchar(), DataType::Varchar()}, DataType::Int64(), &StrposKernel); }},
      {"starts_with", [](const Types& t) { return StringFn("starts_with", t, 2, 2, {DataType::Varchar(), DataType::Varchar()}, DataType::Boolean(), &StartsWithKernel); }},
      {"lpad", [](const Types& t) { return StringFn("lpad", t, 3, 3, {DataType::Varchar(), DataType::Int64(), DataType::Varchar()}, DataType::Varchar(), &PadKernel<true>); }},
      {"rpad", [](const Types& t) { return StringFn("rpad", t, 3, 3, {DataType::Varchar(), DataType::Int64(), DataType::Varchar()}, DataType::Varchar(), &PadKernel<false>); }},
      {"$like", [](const Types& t) { return StringFn("like", t, 2, 3, {DataType::Varchar(), DataType::Varchar(), DataType::Varchar()}, DataType::Boolean(), &LikeKernel); }},
      {"regexp_like", [](const Types& t) { return StringFn("regexp_like", t, 2, 2, {DataType::Varchar(), DataType::Varchar()}, DataType::Boolean(), &RegexpLikeKernel); }},
      {"regexp_extract", [](const Types& t) { return StringFn("regexp_extract", t, 2, 3, {DataType::Varchar(), DataType::Varchar(), DataType::Int64()}, DataType::Varchar(), &RegexpExtractKernel); }},
      {"regexp_replace", [](const Types& t) { return StringFn("regexp_replace", t, 2, 3, {DataType::Varchar(), DataType::Varchar(), DataType::Varchar()}, DataType::Varchar(), &RegexpReplaceKernel); }},
      // dates
      {"year", [](const Types& t) { return ExtractFn("year", t, &ExtractKernel<Field::kYear>); }},
      {"quarter", [](const Types& t) { return ExtractFn("quarter", t, &ExtractKernel<Field::kQuarter>); }},
      {"month", [](const Types& t) { return ExtractFn("month", t, &ExtractKernel<Field::kMonth>); }},
      {"week", [](const Types& t) { return ExtractFn("week", t, &ExtractKernel<Field::kWeek>); }},
      {"week_of_year", [](const Types& t) { return ExtractFn("week_of_year", t, &ExtractKernel<Field::kWeek>); }},
      {"year_of_week", [](const Types& t) { return ExtractFn("year_of_week", t, &ExtractKernel<Field::kYearOfWeek>); }},
      {"day", [](const Types& t) { return ExtractFn("day", t, &ExtractKernel<Field::kDay>); }},
      {"day_of_month", [](const Types& t) { return ExtractFn("day_of_month", t, &ExtractKernel<Field::kDay>); }},
      {"day_of_week", [](const Types& t) { return ExtractFn("day_of_week", t, &ExtractKernel<Field::kDayOfWeek>); }},
      {"dow", [](const Types& t) { return ExtractFn("dow", t, &ExtractKernel<Field::kDayOfWeek>); }},
      {"day_of_year", [](const Types& t) { return ExtractFn("day_of_year", t, &ExtractKernel<Field::kDayOfYear>); }},
      {"doy", [](const Types& t) { return ExtractFn("doy", t, &ExtractKernel<Field::kDayOfYear>); }},
      {"hour", [](const Types& t) { return ExtractFn("hour", t, &ExtractKernel<Field::kHour>); }},
      {"minute", [](const Types& t) { return ExtractFn("minute", t, &ExtractKernel<Field::kMinute>); }},
      {"second", [](const Types& t) { return ExtractFn("second", t, &ExtractKernel<Field::kSecond>); }},
      {"millisecond", [](const Types& t) { return ExtractFn("millisecond", t, &ExtractKernel<Field::kMillisecond>); }},
      {"date_trunc", [](const Types& t) -> R {
         if (t.size() != 2 || !AnyString(t[0]) || !AnyDateLike(t[1]))
           return Bad("date_trunc", t, "(VARCHAR, DATE) or (VARCHAR, TIMESTAMP)");
         return Fn("date_trunc", {DataType::Varchar(), DateLike(t[1])}, DateLike(t[1]), &DateTruncKernel);
       }},
      {"date_add", [](const Types& t) -> R {
         if (t.size() != 3 || !AnyString(t[0]) || !AnyInt(t[1]) || !AnyDateLike(t[2]))
           return Bad("date_add", t, "(VARCHAR, BIGINT, DATE) or (VARCHAR, BIGINT, TIMESTAMP)");
         return Fn("date_add", {DataType::Varchar(), DataType::Int64(), DateLike(t[2])}, DateLike(t[2]), &DateAddKernel);
       }},
      {"date_diff", [](const Types& t) -> R {
         if (t.size() != 3 || !AnyString(t[0]) || !AnyDateLike(t[1]) || !AnyDateLike(t[2]))
           return Bad("date_diff", t, "(VARCHAR, DATE, DATE) or (VARCHAR, TIMESTAMP, TIMESTAMP)");
         DataType c = t[1].id == TypeId::kDate && t[2].id == TypeId::kDate ? DataType::Date() : DataType::Timestamp();
         return Fn("date_diff", {DataType::Varchar(), c, c}, DataType::Int64(), &DateDiffKernel);
       }},
      {"date_format", [](const Types& t) -> R {
         if (t.size() != 2 || !AnyDateLike(t[0]) || !AnyString(t[1]))
           return Bad("date_format", t, "(TIMESTAMP, VARCHAR)");
         return Fn("date_format", {DateLike(t[0]), DataType::Varchar()}, DataType::Varchar(), &DateFormatKernel);
       }},
      {"date_parse", [](const Types& t) { return StringFn("date_parse", t, 2, 2, {DataType::Varchar(), DataType::Varchar()}, DataType::Timestamp(), &DateParseKernel); }},
      {"from_iso8601_date", [](const Types& t) { return StringFn("from_iso8601_date", t, 1, 1, {DataType::Varchar()}, DataType::Date(), &FromIsoDateKernel); }},
      {"current_date", [](const Types& t) -> R {
         if (!t.empty()) return Bad("current_date", t, "no arguments");
         return Fn("current_date", {}, DataType::Date(), &CurrentDateKernel, false);
       }},
      {"now", [](const Types& t) -> R {
         if (!t.empty()) return Bad("now", t, "no arguments");
         return Fn("now", {}, DataType::Timestamp(), &NowKernel, false);
       }},
  };
  return reg;
}

const std::map<std::string, std::string, std::less<>>& Aliases() {
  static const std::map<std::string, std::string, std::less<>> a = {
      {"substring", "substr"}, {"ceiling", "ceil"},   {"pow", "power"},
      {"rand", "random"},      {"char_length", "length"}, {"current_timestamp", "now"},
      {"localtimestamp", "now"}, {"strpos", "strpos"}, {"position", "strpos"},
  };
  return a;
}

}  // namespace

Result<ScalarFunction> ResolveScalar(std::string_view name, const std::vector<DataType>& args) {
  std::string_view key = name;
  if (auto a = Aliases().find(name); a != Aliases().end()) key = a->second;
  auto it = Registry().find(key);
  if (it == Registry().end()) return Status::NotFound("function '" + std::string(name) + "' not found");
  auto r = it->second(args);
  if (r.ok() && name[0] != '$') r->name = std::string(name);
  return r;
}

bool IsScalarFunctionName(std::string_view name) {
  return Registry().count(name) > 0 || Aliases().count(name) > 0;
}

bool IsWindowFunctionName(std::string_view name) {
  static const char* k[] = {"row_number", "rank", "dense_rank", "ntile", "lag", "lead",
                            "first_value", "last_value", "nth_value", "percent_rank", "cume_dist"};
  for (const char* w : k)
    if (name == w) return true;
  return false;
}

std::vector<std::string> AllFunctionNames() {
  std::vector<std::string> out;
  for (const auto& [k, v] : Registry())
    if (k[0] != '$') out.push_back(k);
  for (const auto& [k, v] : Aliases()) out.push_back(k);
  for (const char* w : {"row_number", "rank", "dense_rank", "ntile", "lag", "lead", "first_value",
                        "last_value", "nth_value", "percent_rank", "cume_dist", "coalesce", "if",
                        "try", "count", "sum", "avg", "min", "max", "stddev", "variance",
                        "approx_distinct", "approx_percentile", "max_by", "min_by", "arbitrary",
                        "bool_and", "bool_or", "count_if", "every", "stddev_pop", "stddev_samp",
                        "var_pop", "var_samp"})
    out.push_back(w);
  return out;
}

}  // namespace saleslake::sql
