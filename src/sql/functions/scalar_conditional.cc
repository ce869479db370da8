// Conditional functions that pick among their arguments (greatest, least, nullif) and the
// $single_row guard of decorrelated scalar subqueries.
#include <algorithm>
#include <cstring>

#include "sql/functions/functions.h"
#include "sql/functions/internal/kernels.h"
#include "sql/functions/internal/scalar_family.h"

namespace saleslake::sql {

using namespace internal;  // NOLINT: kernels.h and scalar_family.h helpers

namespace {

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

// greatest(...) and least(...): every argument coerces to one common type.
template <bool greatest>
R ResolveGreatestLeast(std::string_view name, const Types& t) {
  if (t.empty()) return Bad(name, t, "at least one argument");
  DataType c = t[0];
  for (const DataType& x : t) {
    auto s = CommonSuperType(c, x);
    if (!s) return Bad(name, t, "arguments of one comparable type");
    c = *s;
  }
  if (c.id == TypeId::kNull) c = DataType::Int32();
  return Fn(name, Types(t.size(), c), c, &GreatestLeast<greatest>);
}

}  // namespace

void internal::AddConditionalFunctions(ScalarRegistry& reg) {
  reg.insert({
      {"$single_row", [](const Types& t) -> R {
         if (t.size() != 1 || t[0].id != TypeId::kInt64) return Bad("$single_row", t, "(BIGINT)");
         return Fn("$single_row", {DataType::Int64()}, DataType::Boolean(), &SingleRowKernel);
       }},
      {"greatest", [](const Types& t) { return ResolveGreatestLeast<true>("greatest", t); }},
      {"least", [](const Types& t) { return ResolveGreatestLeast<false>("least", t); }},
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
  });
}

}  // namespace saleslake::sql
