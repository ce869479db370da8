// Expression evaluation over batches, and the column utilities every operator uses.
#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/batch.h"
#include "common/thread_annotations.h"
#include "sql/exec/executor.h"
#include "sql/planner/plan.h"

namespace saleslake::sql::internal {

// Copies rows[0..n) of src (any encoding) into out (flat, src's type). Strings are copied.
void GatherColumn(const ColumnVector& src, const uint32_t* rows, size_t n, ColumnVector& out);
// Appends rows [0, n) of src to the end of out (flat).
void AppendColumn(const ColumnVector& src, size_t n, ColumnVector& out);
// A column whose rows are all NULL.
void MakeNullColumn(const DataType& type, size_t n, ColumnVector& out);
// Copies a whole column (first n rows).
void CopyColumn(const ColumnVector& src, size_t n, ColumnVector& out);
// Gathers every column of a batch (flat; dictionary columns stay dictionaries, their codes
// gathered).
Batch GatherBatch(const Batch& in, const std::vector<uint32_t>& rows);

// Results of uncorrelated subqueries, computed once per query and shared by all threads.
class SubqueryCache {
 public:
  // `stop`: passed on to the subqueries' ExecutePlan (see there), or null.
  SubqueryCache(const ExecOptions& options, const std::atomic<bool>* stop)
      : options_(options), stop_(stop) {}
  Result<Value> Scalar(const Expr& e);
  struct InSet {
    std::unordered_set<std::string> keys;
    bool has_null = false;
  };
  Result<const InSet*> Set(const Expr& e);
  Result<bool> Exists(const Expr& e);

 private:
  const ExecOptions& options_;
  const std::atomic<bool>* stop_;
  Mutex mu_;
  std::unordered_map<const Expr*, Value> scalars_ SL_GUARDED_BY(mu_);
  std::unordered_map<const Expr*, std::unique_ptr<InSet>> sets_ SL_GUARDED_BY(mu_);
  std::unordered_map<const Expr*, bool> exists_ SL_GUARDED_BY(mu_);
};

// Evaluates expressions over a batch. One evaluator per thread (it owns scratch vectors).
class Evaluator {
 public:
  explicit Evaluator(SubqueryCache* subqueries) : subqueries_(subqueries) {}
  // Evaluates e over the batch's rows; the result lives until the next Reset() (or in the batch).
  Result<const ColumnVector*> Eval(const Expr& e, const Batch& in);
  // Evaluates e and returns an owned column (moved out of scratch or copied).
  Result<ColumnVector> EvalOwned(const Expr& e, const Batch& in);
  // Row indexes where a boolean expression is TRUE.
  Status Select(const Expr& predicate, const Batch& in, std::vector<uint32_t>* rows);
  void Reset() {
    scratch_.clear();
    sub_batches_.clear();
    flattened_.clear();
  }

 private:
  ColumnVector* NewVector(const DataType& t, size_t n);
  Result<const ColumnVector*> EvalOnRows(const Expr& e, const Batch& in,
                                         const std::vector<uint32_t>& rows);
  Result<const ColumnVector*> EvalTry(const Expr& e, const Batch& in);
  Result<const ColumnVector*> EvalLogical(const Expr& e, const Batch& in, bool is_and);
  // AND/OR whose operands cannot fail: each over every row, combined without gathers.
  Result<const ColumnVector*> EvalLogicalWhole(const Expr& e, const Batch& in, bool is_and);
  Result<const ColumnVector*> EvalCase(const Expr& e, const Batch& in);
  Result<const ColumnVector*> EvalCoalesce(const Expr& e, const Batch& in);

  // A dictionary-encoded input column as a flat vector (views into the dictionary), once per
  // column per Reset(): kernels take flat or constant vectors.
  const ColumnVector* Flat(const ColumnVector& c, size_t n);
  // Evaluates e once per dictionary entry when its only column input is a dictionary column
  // without nulls in this batch, then gathers per row; null when that does not apply.
  Result<const ColumnVector*> EvalOnDictionary(const Expr& e, const Batch& in);

  SubqueryCache* subqueries_;
  std::vector<std::unique_ptr<ColumnVector>> scratch_;
  std::vector<std::pair<const ColumnVector*, const ColumnVector*>> flattened_;
  // Per expression: its single input column, or -1 (none, several, or not eligible).
  std::unordered_map<const Expr*, int> dict_column_;
  // Per expression: its values over the last dictionary it met (one per file: reused by the
  // file's batches). The dictionary is held so its address cannot be reused by another.
  struct DictResult {
    std::shared_ptr<const ColumnVector> dict;
    std::unique_ptr<ColumnVector> values;
  };
  std::unordered_map<const Expr*, DictResult> dict_results_;
  std::vector<std::unique_ptr<Batch>> sub_batches_;
  // Per AND/OR: whether its operands cannot fail (EvalLogicalWhole applies).
  std::unordered_map<const Expr*, bool> no_fail_;
  // x IN (short literal list) over a flat x of an integer, date or string type: false when
  // that does not apply (the hashed path then answers).
  Result<bool> InSmallList(const Expr& e, const ColumnVector& v, size_t n, ColumnVector& out);
  struct SmallInList {
    ColumnVector values;  // the non-NULL items, of x's type
    bool has_null = false;
  };
  std::unordered_map<const Expr*, std::unique_ptr<SmallInList>> in_lists_;  // null: not applicable
  // Literal IN lists hashed once per evaluator.
  std::unordered_map<const Expr*, std::unique_ptr<SubqueryCache::InSet>> in_sets_;
};

// Adds the SQL position of an expression to a runtime error.
Status AtPos(const Status& s, const SourcePos& pos);

}  // namespace saleslake::sql::internal
