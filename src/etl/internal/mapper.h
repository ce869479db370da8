// Column mappings of a job: target column = expression over the typed source columns.
// A bare column name is a copy; any other expression is evaluated by the SQL engine's
// expression evaluator (sql/sql.h).
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
  // `columns` empty = every source column unchanged. Errors name the target column and the
  // expression ("column 'x' = 'amout * 2': column 'amout' not found").
  static Result<std::unique_ptr<Mapper>> Make(
      const Schema& source, const std::vector<std::pair<std::string, std::string>>& columns);
  ~Mapper();

  const Schema& output_schema() const { return output_; }
  // Fills `out` (reset by the callee) with in.num_rows rows. `in` has no selection. String
  // values of `out` may point into `in`: keep `in` alive while `out` is used.
  Status Map(const Batch& in, Batch* out) const;

 private:
  struct Target;
  Mapper(Schema output, std::vector<Target> targets);
  Schema output_;
  std::vector<Target> targets_;
};

// Copies n rows of a flat vector (values and validity; string views are shared, not copied).
void ShallowCopy(const ColumnVector& src, size_t n, ColumnVector* dst);

}  // namespace saleslake::etl::internal
