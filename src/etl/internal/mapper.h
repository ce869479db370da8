// Column mappings of a job: target column = SQL expression over the typed source columns,
// evaluated by the SQL engine (sql/sql.h) as `SELECT <expr> AS <target>, ... FROM src` over each
// batch. Columns listed as pass-through (the quality flags) are carried along unchanged, so they
// stay with their rows whatever order the engine returns them in.
// Thread safety: immutable after Make; Map may run on many threads at once.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/batch.h"
#include "common/status.h"
#include "common/types.h"

namespace saleslake::etl::internal {

class Mapper {
 public:
  // `columns` empty = every source column unchanged. `passthrough`: names of source columns
  // appended to the output as they are. Errors name the target column and the expression
  // ("column 'x' = 'amout * 2': ...").
  static Result<std::unique_ptr<Mapper>> Make(
      const Schema& source, const std::vector<std::pair<std::string, std::string>>& columns,
      const std::vector<std::string>& passthrough);
  ~Mapper();

  const Schema& output_schema() const { return output_; }
  // Maps every row of `in` (no selection; consumed) into `out`.
  Status Map(Batch&& in, Batch* out) const;

 private:
  Mapper() = default;
  Schema source_;
  Schema output_;
  std::string select_sql_;  // empty = identity (no expression to evaluate)
  std::vector<size_t> identity_;  // source column per output column, for the identity case
};

}  // namespace saleslake::etl::internal
