// Column mappings of a job: target column = SQL expression over the typed source columns.
// Expressions are compiled once by the SQL engine (sql/expression.h) and evaluated per batch;
// a target that names a source column nobody else reads takes that column as it is (a move).
// Columns listed as pass-through (the quality flags) are carried along the same way.
// Thread safety: immutable after Make; Map may run on many threads at once.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/batch.h"
#include "common/status.h"
#include "common/types.h"

namespace saleslake::sql {
class CompiledExpressions;
}

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
  Schema output_;
  // Per output column: the source column it moves from, or -1 when it is computed (then the
  // next unused result of `computed_`, in order).
  std::vector<int> move_from_;
  std::unique_ptr<sql::CompiledExpressions> computed_;  // null when nothing is computed
};

}  // namespace saleslake::etl::internal
