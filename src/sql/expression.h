// Scalar SQL expressions compiled once against an input schema and evaluated over batches: the
// ETL's column mappings ("amount = Quantity * UnitPrice") are parsed and bound once per job and
// then run vectorized on every batch, instead of planning a query per batch.
//
//   auto exprs = sql::CompiledExpressions::Compile(schema, {{"amount", "Quantity * UnitPrice"}});
//   Batch out;
//   SL_RETURN_IF_ERROR((*exprs)->Evaluate(in, &out));
//
// Thread safety: immutable after Compile; Evaluate may run on many threads at once.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/batch.h"
#include "common/status.h"
#include "common/types.h"

namespace saleslake::sql {

class CompiledExpressions {
 public:
  // `exprs`: (output column name, SQL expression over the columns of `input`). Errors carry the
  // expression's line:column and name the output column. Expressions may not read tables
  // (subqueries) or aggregate.
  static Result<std::unique_ptr<CompiledExpressions>> Compile(
      const Schema& input, const std::vector<std::pair<std::string, std::string>>& exprs);
  ~CompiledExpressions();

  const Schema& output_schema() const { return output_; }
  // Indexes of the input columns some expression reads, ascending.
  const std::vector<size_t>& input_columns() const { return inputs_; }

  // Evaluates every expression over the rows of `in` (which must have no selection) into
  // `out`: one flat or constant column per expression, in.num_rows rows. String results may
  // point into `in`'s buffers; `out` holds a reference to `in` (shared) so they stay valid.
  Status Evaluate(std::shared_ptr<const Batch> in, Batch* out) const;

 private:
  struct Impl;
  explicit CompiledExpressions(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  Schema output_;
  std::vector<size_t> inputs_;
};

}  // namespace saleslake::sql
