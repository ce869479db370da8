// Building blocks for kernels: typed readers that treat constant vectors as stride-0 arrays, null
// propagation 64 rows at a time, decimal helpers. Internal to sql/functions (and its tests).
#pragma once

#include <cstring>
#include <span>
#include <string>

#include "common/batch.h"
#include "sql/functions/functions.h"

namespace saleslake::sql::internal {

std::string FormatDoubleSql(double d);
// Text of one valid row as CAST(x AS VARCHAR) gives it.
std::string ValueToText(const ColumnVector& v, size_t row);
// Rescales an unscaled decimal (rounding half away from zero when the scale drops); false when
// the result does not fit `to_precision` digits.
bool CheckedRescale(__int128 v, int from_scale, int to_scale, int to_precision, __int128* out);
void SetDecimal(ColumnVector& v, size_t row, __int128 x);

// Reads row i of a flat or constant vector: constant vectors have mask 0, so every i reads slot 0.
template <typename T>
struct Reader {
  const T* p;
  size_t mask;
  T operator[](size_t i) const { return p[i & mask]; }
};
template <typename T>
Reader<T> Read(const ColumnVector& v) {
  return {v.data<T>(), v.encoding() == VectorEncoding::kConstant ? size_t{0} : ~size_t{0}};
}

// Reads a decimal of either storage width as __int128.
struct DecimalReader {
  const int64_t* narrow = nullptr;
  const __int128* wide = nullptr;
  size_t mask;
  __int128 operator[](size_t i) const {
    if (narrow) return narrow[i & mask];
    __int128 x;
    std::memcpy(&x, wide + (i & mask), sizeof x);
    return x;
  }
};
inline DecimalReader ReadDecimal(const ColumnVector& v) {
  DecimalReader r;
  r.mask = v.encoding() == VectorEncoding::kConstant ? size_t{0} : ~size_t{0};
  if (v.type().is_wide_decimal()) {
    r.wide = v.data<__int128>();
  } else {
    r.narrow = v.data<int64_t>();
  }
  return r;
}

// out's validity = AND of every argument's validity over rows [0, n).
inline void PropagateNulls(std::span<const ColumnVector* const> args, size_t n,
                           ColumnVector& out) {
  for (const ColumnVector* a : args) {
    const uint64_t* v = a->validity();
    if (v == nullptr) continue;
    uint64_t* o = out.EnsureValidity();
    size_t words = (n + 63) / 64;
    if (a->encoding() == VectorEncoding::kConstant) {
      if (!(v[0] & 1)) std::memset(o, 0, words * sizeof(uint64_t));
      continue;
    }
    for (size_t w = 0; w < words; ++w) o[w] &= v[w];
  }
}

inline bool RowValid(const ColumnVector& out, size_t i) { return out.IsValid(i); }

}  // namespace saleslake::sql::internal
