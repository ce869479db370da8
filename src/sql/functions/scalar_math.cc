// Math functions (abs, round, floor, ceil, sqrt, ln, power, random, ...): kernels and
// their resolution.
#include <algorithm>
#include <cmath>
#include <random>

#include "sql/functions/functions.h"
#include "sql/functions/internal/kernels.h"
#include "sql/functions/internal/scalar_family.h"

namespace saleslake::sql {

using namespace internal;  // NOLINT: kernels.h and scalar_family.h helpers

namespace {

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
Status RandomKernel(Args, size_t n, ColumnVector& out) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  for (size_t i = 0; i < n; ++i) out.data<double>()[i] = dist(rng);
  return Status::OK();
}

// floor(x) and ceil(x): integers are their own result; a decimal keeps its integer digits.
template <bool ceil>
R ResolveFloorCeil(std::string_view name, const Types& t) {
  if (t.size() != 1 || !AnyNumeric(t[0])) return Bad(name, t, "a numeric argument");
  DataType a = t[0].id == TypeId::kNull ? DataType::Double() : t[0];
  if (a.id == TypeId::kInt32) return Fn(name, {a}, a, &Identity<int32_t>);
  if (a.id == TypeId::kInt64) return Fn(name, {a}, a, &Identity<int64_t>);
  if (a.id == TypeId::kDecimal) {
    DataType r = DataType::Decimal(static_cast<uint8_t>(std::max(1, a.precision - a.scale + (a.scale > 0))), 0);
    return Fn(name, {a}, r, &FloorCeilDecimal<ceil>);
  }
  if constexpr (ceil) {
    return Fn(name, {DataType::Double()}, DataType::Double(), &DoubleUnary<std::ceil>);
  } else {
    return Fn(name, {DataType::Double()}, DataType::Double(), &DoubleUnary<std::floor>);
  }
}

}  // namespace

void internal::AddMathFunctions(ScalarRegistry& reg) {
  reg.insert({
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
      {"floor", [](const Types& t) { return ResolveFloorCeil<false>("floor", t); }},
      {"ceil", [](const Types& t) { return ResolveFloorCeil<true>("ceil", t); }},
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
  });
}

}  // namespace saleslake::sql
