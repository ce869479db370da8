// Scalar functions, casts and aggregates with Trino's names, types and semantics, as kernels over
// ColumnVectors (STYLE.md rule 8: one switch on the types per batch, then a typed loop).
//
// Kernel contract: arguments are flat or constant vectors (never dictionary) with at least `n`
// rows; `out` is a flat vector of the resolved return type, already Resize(n)'d and with no
// validity bitmap. A kernel fills the values and the validity of the first n rows. Failures
// (overflow, division by zero, a bad cast, a bad regex) are returned as kInvalidArgument with a
// message naming the function; the caller adds the SQL position.
//
// Thread safety: resolution and kernels are pure; a resolved function may be used from many
// threads. AggregateState objects have one owner.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/batch.h"
#include "common/status.h"
#include "common/types.h"
#include "common/value.h"

namespace saleslake::sql {

using ScalarKernel = Status (*)(std::span<const ColumnVector* const> args, size_t n,
                                ColumnVector& out);

struct ScalarFunction {
  std::string name;
  std::vector<DataType> arg_types;  // the caller casts arguments to exactly these types
  DataType return_type;
  ScalarKernel kernel = nullptr;
  bool deterministic = true;
};

// Resolves `name` (lower case; operators are "$add", "$sub", "$mul", "$div", "$mod", "$neg",
// "$eq", "$ne", "$lt", "$le", "$gt", "$ge", "$distinct", "$concat") for the given argument types.
// kNotFound when the function does not exist; kInvalidArgument when it exists but not for these
// types (the message lists the expected signature).
Result<ScalarFunction> ResolveScalar(std::string_view name, const std::vector<DataType>& args);
bool IsScalarFunctionName(std::string_view name);
bool IsAggregateFunctionName(std::string_view name);
bool IsWindowFunctionName(std::string_view name);  // ranking / offset functions only
// Every known function name (for "did you mean" hints).
std::vector<std::string> AllFunctionNames();

// ---- types and coercion (Trino rules) ----

// The type both a and b can be implicitly coerced to, or nullopt. INTEGER < BIGINT < DECIMAL <
// DOUBLE; NULL goes to anything; DECIMALs widen to hold both.
std::optional<DataType> CommonSuperType(const DataType& a, const DataType& b);
// True when an implicit coercion from -> to exists (used for function arguments).
bool CanCoerce(const DataType& from, const DataType& to);
// The DECIMAL type that holds every value of an integer type exactly.
DataType DecimalFor(const DataType& integer_type);

// CAST(in AS to) over n rows. With try_cast, failures become NULL instead of an error.
Status CastVector(const ColumnVector& in, const DataType& to, size_t n, ColumnVector& out,
                  bool try_cast);
// Same for one value (constant folding, literals).
Result<Value> CastValue(const Value& v, const DataType& to, bool try_cast = false);

// ---- helpers shared with the executor ----

// Text of one valid row as CAST(x AS VARCHAR) gives it (dates ISO, decimals with their scale).
std::string ValueText(const ColumnVector& v, size_t row);
// Value of one row as a Value (slow path).
Value GetValueAt(const ColumnVector& v, size_t row);
// Writes a Value into row `row` of a flat vector of the same type (NULL allowed).
void SetValueAt(ColumnVector& v, size_t row, const Value& value);
// Fills `out` (flat, type of value) with n copies.
void FillConstant(ColumnVector& out, const Value& value, size_t n);
// Unscaled decimal as __int128 whatever the storage width.
__int128 DecimalAt(const ColumnVector& v, size_t row);
// 10^k for k in [0, 38].
__int128 Pow10(int k);

// ---- aggregates ----

// Per-group states of one aggregate, for groups 0..groups-1 (grown with Resize). Vectorized:
// Update gets a group id per input row. Not thread-safe; thread-local partials are merged.
class AggregateState {
 public:
  virtual ~AggregateState() = default;
  virtual void Resize(size_t groups) = 0;
  // Adds rows [0, n) of `args` to groups gids[i]. Arguments are flat or constant.
  virtual Status Update(const uint32_t* gids, std::span<const ColumnVector* const> args,
                        size_t n) = 0;
  // Folds `other` (same function) into this: other's group g goes to group map[g].
  virtual Status Merge(AggregateState& other, const uint32_t* map) = 0;
  // Writes one row per group into `out` (flat, return type, Resize(groups) done by the caller).
  virtual Status Finalize(ColumnVector& out) = 0;
  // True when Update also takes dictionary-encoded arguments (then a column argument is passed
  // as scanned, and the state works once per dictionary entry instead of once per row).
  virtual bool TakesDictionaries() const { return false; }
  // Bytes the state holds beyond a fixed cost per group (the values of a DISTINCT aggregate),
  // for the query's memory limit; cheap enough to ask after every Update.
  virtual int64_t MemoryBytes() const { return 0; }
};

struct AggregateFunction {
  std::string name;
  std::vector<DataType> arg_types;  // after coercion
  DataType return_type;
  bool distinct = false;
  // Creates an empty state (no groups).
  std::unique_ptr<AggregateState> (*make)(const AggregateFunction& fn) = nullptr;
};

// Resolves an aggregate; count(*) is "count" with no arguments.
Result<AggregateFunction> ResolveAggregate(std::string_view name,
                                           const std::vector<DataType>& args, bool distinct);
std::unique_ptr<AggregateState> MakeAggregateState(const AggregateFunction& fn);

// ---- key encoding (hash aggregation, joins, DISTINCT, set operations) ----

// Appends a byte encoding of row `row` to `key` such that two rows get equal encodings iff their
// values are equal (NULL = NULL here; callers that need SQL equality test nulls first).
void AppendKey(const ColumnVector& v, size_t row, std::string& key);

// Hashes rows [0, n) of `c` (any encoding) into h[i] when `first`, else mixes them into h[i], so
// a multi-column key hashes column by column. Rows with equal values (NULL = NULL, -0.0 = 0.0,
// NaN = NaN) get equal hashes. The switch on type and encoding runs once per call, and a
// dictionary column hashes each dictionary entry once.
void HashKeyColumn(const ColumnVector& c, size_t n, uint64_t* h, bool first);

// Three-way comparison of row a of x and row b of y (same type; nulls are not handled here).
int CompareRows(const ColumnVector& x, size_t a, const ColumnVector& y, size_t b);

// Equality of row i of a (any encoding) and row j of b (flat, same type); neither is NULL.
// Hash tables verify every probe hit with it, so the common flat types skip CompareRows'
// per-call type switch.
inline bool ValuesEqual(const ColumnVector& a, size_t i, const ColumnVector& b, size_t j) {
  // A dictionary row is its entry of the (flat) dictionary: string keys of Parquet files are
  // compared inline too.
  const ColumnVector* x = &a;
  if (a.encoding() == VectorEncoding::kDictionary) {
    i = a.data<uint32_t>()[i];
    x = a.dictionary();
  } else if (a.encoding() == VectorEncoding::kConstant) {
    i = 0;
  }
  if (x->encoding() == VectorEncoding::kFlat) {
    switch (x->type().id) {
      case TypeId::kVarchar: return x->data<std::string_view>()[i] == b.data<std::string_view>()[j];
      case TypeId::kInt32:
      case TypeId::kDate: return x->data<int32_t>()[i] == b.data<int32_t>()[j];
      case TypeId::kInt64:
      case TypeId::kTimestamp: return x->data<int64_t>()[i] == b.data<int64_t>()[j];
      default: break;
    }
  }
  return CompareRows(*x, i, b, j) == 0;
}

}  // namespace saleslake::sql
