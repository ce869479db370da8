// What the scalar function families (scalar_*.cc) share: the registry each one adds its
// functions to, signature helpers for resolution, and per-row loop helpers for kernels.
// Internal to sql/functions.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/batch.h"
#include "common/types.h"
#include "sql/functions/functions.h"
#include "sql/functions/internal/kernels.h"

namespace saleslake::sql::internal {

using Args = std::span<const ColumnVector* const>;
using R = Result<ScalarFunction>;
using Types = std::vector<DataType>;
// Checks the argument types of one call and picks the kernel and the coerced signature.
using Resolver = R (*)(const Types&);
using ScalarRegistry = std::map<std::string, Resolver, std::less<>>;

// Each family adds its functions (by lower-case name; operators are "$add", "$eq", ...).
void AddArithmeticFunctions(ScalarRegistry& reg);
void AddComparisonFunctions(ScalarRegistry& reg);
void AddMathFunctions(ScalarRegistry& reg);
void AddConditionalFunctions(ScalarRegistry& reg);
void AddStringFunctions(ScalarRegistry& reg);
void AddDateTimeFunctions(ScalarRegistry& reg);

// "function f(GOT) does not exist; expected EXPECTED".
Status Bad(std::string_view fn, const Types& args, std::string_view expected);
ScalarFunction Fn(std::string_view name, Types args, DataType ret, ScalarKernel k,
                  bool deterministic = true);
// A function of a fixed signature whose trailing arguments (past min_args) are optional;
// every argument must coerce to its slot in `sig`.
R StringFn(std::string_view name, const Types& t, size_t min_args, size_t max_args, Types sig,
           DataType ret, ScalarKernel k);

inline bool IsInt(const DataType& t) { return t.id == TypeId::kInt32 || t.id == TypeId::kInt64; }
inline bool IsNumericOrNull(const DataType& t) { return t.is_numeric() || t.id == TypeId::kNull; }
inline bool IsStringOrNull(const DataType& t) {
  return t.id == TypeId::kVarchar || t.id == TypeId::kNull;
}
inline bool AnyNumeric(const DataType& t) { return IsNumericOrNull(t); }
inline bool AnyString(const DataType& t) { return IsStringOrNull(t); }
inline bool AnyInt(const DataType& t) { return IsInt(t) || t.id == TypeId::kNull; }
inline bool AnyDateLike(const DataType& t) {
  return t.id == TypeId::kDate || t.id == TypeId::kTimestamp || t.id == TypeId::kNull;
}
inline DataType DateLike(const DataType& t) {
  return t.id == TypeId::kNull ? DataType::Timestamp() : t;
}

// Bit i of a validity bitmap; no bitmap means every row is valid.
inline bool Bit(const uint64_t* v, size_t i) {
  return v == nullptr || ((v[i >> 6] >> (i & 63)) & 1);
}
inline std::string_view S(const ColumnVector& v, size_t i) {
  return v.GetValue<std::string_view>(i);
}
inline int64_t I64(const ColumnVector& v, size_t i) { return v.GetValue<int64_t>(i); }

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

// PerRow for a VARCHAR result: f(i, buffer, err) fills the buffer, which becomes row i.
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

// Date arithmetic shared by the operators (date + interval) and date_add / date_diff.
inline int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
// Adds `months` calendar months, clamping the day to the target month's length.
inline int64_t AddMonthsToDays(int32_t days, int32_t months) {
  CivilDate c = CivilFromDays(days);
  int64_t total = int64_t{c.year} * 12 + (c.month - 1) + months;
  int32_t y = static_cast<int32_t>(total >= 0 ? total / 12 : -((-total + 11) / 12));
  unsigned m = static_cast<unsigned>(total - int64_t{y} * 12) + 1;
  unsigned d = std::min<unsigned>(c.day, static_cast<unsigned>(DaysInMonth(y, m)));
  return DaysFromCivil(y, m, d);
}
// t (micros since the epoch) + sign * iv: months first, on the calendar, then days and micros.
inline int64_t AddIntervalToMicros(int64_t t, const Interval& iv, int sign) {
  if (iv.months) {
    int64_t day = FloorDiv(t, kMicrosPerDay);
    int64_t rem = t - day * kMicrosPerDay;
    t = AddMonthsToDays(static_cast<int32_t>(day), sign * iv.months) * kMicrosPerDay + rem;
  }
  return t + sign * (int64_t{iv.days} * kMicrosPerDay + iv.micros);
}

}  // namespace saleslake::sql::internal
