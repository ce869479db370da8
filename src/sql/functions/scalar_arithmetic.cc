// Arithmetic operators (+ - * / %, unary minus) over integers, floats, decimals and
// date/timestamp/interval (Trino semantics): the kernels and their resolution.
#include <algorithm>
#include <cstring>
#include <string>
#include <type_traits>

#include <fmt/format.h>

#include "sql/functions/functions.h"
#include "sql/functions/internal/kernels.h"
#include "sql/functions/internal/scalar_family.h"

namespace saleslake::sql {

using namespace internal;  // NOLINT: kernels.h and scalar_family.h helpers

namespace {

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

// One typed loop for + - * of decimals whose result keeps the operands' natural scale (see
// DecimalArith): fa, fb align the operands' scales (1 for *); A, B are the inputs' storage
// (int64_t or __int128), O the output's. Unchecked (`exact`: the result type holds every result
// of operands within their precision), the arithmetic is unsigned, so the garbage of a NULL row
// cannot overflow; checked (the precision capped at 38), each step tests for overflow. False
// when some row overflowed or left the result's precision: the caller then takes the general
// path, which reports the error for a valid row or leaves a NULL one alone.
template <DecOp op, bool exact, typename A, typename B, typename O>
bool DecimalFast(Args a, size_t n, O fa, O fb, ColumnVector& out) {
  using U = std::conditional_t<std::is_same_v<O, int64_t>, uint64_t, unsigned __int128>;
  struct In {
    const uint8_t* p;
    size_t mask;
  };
  auto in = [](const ColumnVector& v) {
    return In{v.data<uint8_t>(), v.encoding() == VectorEncoding::kConstant ? size_t{0} : ~size_t{0}};
  };
  const In xa = in(*a[0]), xb = in(*a[1]);
  const O lim = static_cast<O>(Pow10(out.type().precision));
  uint8_t* o = out.data<uint8_t>();
  bool bad = false;
  for (size_t i = 0; i < n; ++i) {
    A x;
    B y;
    std::memcpy(&x, xa.p + (i & xa.mask) * sizeof(A), sizeof(A));
    std::memcpy(&y, xb.p + (i & xb.mask) * sizeof(B), sizeof(B));
    const O ox = static_cast<O>(x), oy = static_cast<O>(y);
    O v;
    if constexpr (exact) {
      U r;
      if constexpr (op == DecOp::kMul) {
        r = static_cast<U>(ox) * static_cast<U>(oy);
      } else if constexpr (op == DecOp::kAdd) {
        r = static_cast<U>(ox) * static_cast<U>(fa) + static_cast<U>(oy) * static_cast<U>(fb);
      } else {
        r = static_cast<U>(ox) * static_cast<U>(fa) - static_cast<U>(oy) * static_cast<U>(fb);
      }
      v = static_cast<O>(r);
    } else if constexpr (op == DecOp::kMul) {
      bad |= __builtin_mul_overflow(ox, oy, &v);
    } else {
      O p, q;
      bad |= __builtin_mul_overflow(ox, fa, &p);
      bad |= __builtin_mul_overflow(oy, fb, &q);
      if constexpr (op == DecOp::kAdd) {
        bad |= __builtin_add_overflow(p, q, &v);
      } else {
        bad |= __builtin_sub_overflow(p, q, &v);
      }
    }
    bad |= v >= lim || v <= -lim;
    std::memcpy(o + i * sizeof(O), &v, sizeof(O));
  }
  if (bad) return false;
  if (const uint64_t* valid = out.validity()) {  // NULL rows hold 0, as the general path leaves them
    const O zero = 0;
    for (size_t i = 0; i < n; ++i)
      if (!Bit(valid, i)) std::memcpy(o + i * sizeof(O), &zero, sizeof(O));
  }
  return true;
}

template <DecOp op, bool exact, typename O>
bool DecimalFastBy(Args a, size_t n, O fa, O fb, ColumnVector& out) {
  const bool wa = a[0]->type().is_wide_decimal(), wb = a[1]->type().is_wide_decimal();
  if (!wa && !wb) return DecimalFast<op, exact, int64_t, int64_t, O>(a, n, fa, fb, out);
  if (!wa) return DecimalFast<op, exact, int64_t, __int128, O>(a, n, fa, fb, out);
  if (!wb) return DecimalFast<op, exact, __int128, int64_t, O>(a, n, fa, fb, out);
  return DecimalFast<op, exact, __int128, __int128, O>(a, n, fa, fb, out);
}

template <DecOp op>
Status DecimalArith(Args a, size_t n, ColumnVector& out) {
  PropagateNulls(a, n, out);
  int s1 = a[0]->type().scale, s2 = a[1]->type().scale;
  int so = out.type().scale, po = out.type().precision;
  if constexpr (op == DecOp::kAdd || op == DecOp::kSub || op == DecOp::kMul) {
    // The result at the operands' natural scale (no rounding): one typed loop. When its type is
    // the exact one (precision not capped at 38), every result of operands within their
    // precision fits it, and the loop tests nothing per row.
    const int p1 = a[0]->type().precision, p2 = a[1]->type().precision;
    const int s = op == DecOp::kMul ? s1 + s2 : std::max(s1, s2);
    const int p = op == DecOp::kMul ? p1 + p2 : std::max(p1 - s1, p2 - s2) + s + 1;
    if (so == s) {
      const int ka = op == DecOp::kMul ? 0 : s - s1, kb = op == DecOp::kMul ? 0 : s - s2;
      bool done;
      if (!out.type().is_wide_decimal()) {  // then both operands are narrow too
        const auto fa = static_cast<int64_t>(Pow10(ka)), fb = static_cast<int64_t>(Pow10(kb));
        done = po == p ? DecimalFastBy<op, true, int64_t>(a, n, fa, fb, out)
                       : DecimalFastBy<op, false, int64_t>(a, n, fa, fb, out);
      } else {
        done = po == p ? DecimalFastBy<op, true, __int128>(a, n, Pow10(ka), Pow10(kb), out)
                       : DecimalFastBy<op, false, __int128>(a, n, Pow10(ka), Pow10(kb), out);
      }
      if (done) return Status::OK();
    }
  }
  auto x = ReadDecimal(*a[0]);
  auto y = ReadDecimal(*a[1]);
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

}  // namespace

void internal::AddArithmeticFunctions(ScalarRegistry& reg) {
  reg.insert({
      {"$add", [](const Types& t) { return ResolveArith<AddOp, DecOp::kAdd>("+", t); }},
      {"$sub", [](const Types& t) { return ResolveArith<SubOp, DecOp::kSub>("-", t); }},
      {"$mul", [](const Types& t) { return ResolveArith<MulOp, DecOp::kMul>("*", t); }},
      {"$div", [](const Types& t) { return ResolveArith<DivOp, DecOp::kDiv>("/", t); }},
      {"$mod", [](const Types& t) { return ResolveArith<ModOp, DecOp::kMod>("%", t); }},
      {"mod", [](const Types& t) { return ResolveArith<ModOp, DecOp::kMod>("mod", t); }},
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
  });
}

}  // namespace saleslake::sql
