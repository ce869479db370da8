// Comparison operators (= <> < <= > >=, IS DISTINCT FROM): the kernels and their resolution.
#include <cstring>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "sql/functions/functions.h"
#include "sql/functions/internal/kernels.h"
#include "sql/functions/internal/scalar_family.h"

namespace saleslake::sql {

using namespace internal;  // NOLINT: kernels.h and scalar_family.h helpers

namespace {

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
    if (!a[0]->type().is_wide_decimal() && !a[1]->type().is_wide_decimal()) {
      auto x = Read<int64_t>(*a[0]);
      auto y = Read<int64_t>(*a[1]);
      for (size_t i = 0; i < n; ++i) o[i] = Compare<c>(x[i], y[i]);
      return Status::OK();
    }
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

}  // namespace

void internal::AddComparisonFunctions(ScalarRegistry& reg) {
  reg.insert({
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
  });
}

}  // namespace saleslake::sql
