// approx_distinct: a HyperLogLog sketch per group (Flajolet et al. 2007) with Ertl's improved
// estimator (arXiv:1702.01284), which needs no empirical bias tables. Trino's default standard
// error 2.3% gives 2^11 registers (1.04 / sqrt(2048) = 0.023). A group keeps the exact set of
// its 64-bit hashes while that is smaller than the registers (few distinct values are counted
// exactly, and a million small groups do not cost 2 KB each).
#pragma once

#include <memory>

#include "sql/functions/functions.h"

namespace saleslake::sql::internal {

// The register count exponent for a maximum standard error (Trino accepts 0.0040625 to 0.26).
// kInvalidArgument outside that range.
Result<int> HllPrecisionFor(double max_standard_error);
inline constexpr int kDefaultHllPrecision = 11;

// What the state reads and writes. Materialized views keep approx_distinct as a sketch so that
// refreshes and coarser queries can merge it; the sketch is the exact state (the sorted hashes
// while sparse, else the registers), so merging sketches gives the very estimate approx_distinct
// gives over all the rows at once.
enum class HllMode : uint8_t {
  kEstimate,       // approx_distinct(x [, e]) -> BIGINT
  kSketch,         // $hll_sketch(x [, e]) -> VARCHAR: the state, hex-encoded
  kMergeSketch,    // $hll_merge(sketch) -> VARCHAR: the union of the sketches
  kMergeEstimate,  // $hll_estimate(sketch) -> BIGINT: the union's estimate
};

// approx_distinct(x [, max_standard_error]): arguments as resolved (x, then DOUBLE); the error
// is read from the first row of the second argument (a constant). The merge modes take one
// VARCHAR argument (sketches; NULLs are skipped) and fail on text that is not a sketch or on
// sketches of different precisions.
std::unique_ptr<AggregateState> MakeHllState(HllMode mode = HllMode::kEstimate);

// The cardinality estimate of a full register array (tests).
double HllEstimate(const uint8_t* registers, int precision);

}  // namespace saleslake::sql::internal
