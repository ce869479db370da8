// The logical plan: bound expressions (names resolved to column indexes, types known, functions
// resolved) and plan nodes, plus the small table interface the engine needs from a catalog.
//
// Column references are indexes into the child's output (for a join: left columns, then right).
// Plans and expressions are immutable once built and shared through shared_ptr<const>, so the
// optimizer can rewrite by copying and the executor can run one plan on many threads.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/batch.h"
#include "common/status.h"
#include "common/types.h"
#include "common/value.h"
#include "sql/functions/functions.h"
#include "sql/parser/ast.h"

namespace saleslake::sql {

// ------------------------------------------------------------------ tables

struct ColumnStats {
  Value min, max;           // NULL when unknown
  int64_t null_count = -1;  // -1 when unknown
};

// A unit of scan work: a file, a Parquet row group or a CSV byte range. Stats let the scan skip
// it without reading; `partition_values` are the Hive values of its partition columns.
struct Morsel {
  size_t index = 0;           // the table's own id for ReadMorsel
  int64_t rows = -1;          // -1 when unknown
  std::string file;           // for EXPLAIN ANALYZE ("files read / skipped")
  // A large file is read as several morsels (its row groups shared out, so that every core
  // reads one file); part is this morsel's piece, 0 for the first or only one (EXPLAIN ANALYZE
  // counts a file once).
  int part = 0;
  std::vector<ColumnStats> stats;  // per table column, or empty when unknown
};

// A table as the engine sees it. Implementations: in-memory tables (tests, CTAS results before
// they are written), and the catalog adapter over Parquet/CSV files (sql/exec).
// Thread safety: every method may be called from many threads at once.
class Table {
 public:
  virtual ~Table() = default;
  virtual const std::string& name() const = 0;
  virtual const Schema& schema() const = 0;
  // The morsels of the current snapshot.
  virtual Result<std::vector<Morsel>> Morsels() const = 0;
  // Reads morsel `m`, projected to `columns` (indexes into schema()), calling sink per batch of
  // at most kBatchRows rows (with no columns asked, a batch of no columns may count more).
  // Batches are flat or constant/dictionary-encoded columns.
  virtual Status ReadMorsel(const Morsel& m, const std::vector<int>& columns,
                            const std::function<Status(Batch&)>& sink) const = 0;

  // Like ReadMorsel, for tables whose morsels have parts with statistics of their own (a
  // Parquet file's row groups): a part is skipped when `may_match` (given its statistics per
  // table column, laid out as Morsel::stats) says no row can qualify. Parts read and skipped
  // are added to `counts` (EXPLAIN ANALYZE). Default: no finer pruning.
  struct PartCounts {
    uint64_t read = 0, skipped = 0;
    uint64_t batches_skipped = 0;  // by a RowFilter, without decoding their other columns
    // Bytes of the lake the read took in: a Parquet file's column chunks of the row groups read
    // (footers not counted), a CSV file whole; 0 when answered from the catalog's counts.
    uint64_t bytes_read = 0;
  };
  using StatsFilter = std::function<bool(const std::vector<ColumnStats>&)>;
  // The scan's filters as a test of a batch, for readers that decode column by column:
  // `columns` are the positions (in the read's column list) the filters read; any_row gets a
  // batch of all the read's columns in which only those hold data (the others are all-null
  // constants) and says whether any of its rows may pass. A reader may then skip batches, and
  // the other columns of parts, with no such row (the Filter above still tests every row).
  // any_row may also set the batch's selection to the rows that pass: a reader that honours it
  // delivers the batch with that selection (one evaluation of the filters serves both).
  struct RowFilter {
    std::vector<size_t> columns;
    std::function<bool(Batch&)> any_row;
  };
  // The catalog snapshot the table reads (materialized views compare it with the snapshot a
  // view reflects); -1 for tables without snapshots.
  virtual int64_t snapshot_id() const { return -1; }
  // A hint that `morsels` (in this order) will be read soon with `columns`: a table over a
  // remote store may start fetching what opening them needs (footers) ahead of the readers.
  // Default: nothing.
  virtual void WillRead(const std::vector<Morsel>& /*morsels*/, const std::vector<int>& /*columns*/) const {}
  virtual Status ReadMorselPruned(const Morsel& m, const std::vector<int>& columns,
                                  const StatsFilter& /*may_match*/, const RowFilter* /*row_filter*/,
                                  PartCounts* /*counts*/,
                                  const std::function<Status(Batch&)>& sink) const {
    return ReadMorsel(m, columns, sink);
  }
};

struct ViewDefinition {
  std::string sql;  // the SELECT text
};

// The catalog as the engine sees it. Names are lower-case, possibly qualified ("db.table": the
// last part is the table). Thread safety: implementations must be safe for concurrent reads.
class Catalog {
 public:
  virtual ~Catalog() = default;
  // kNotFound when there is no such table (views are looked up with GetView).
  virtual Result<std::shared_ptr<const Table>> GetTable(const std::string& name) const = 0;
  virtual std::optional<ViewDefinition> GetView(const std::string& name) const = 0;
  virtual std::vector<std::string> ListTables() const = 0;
};

// Optional write side of a catalog, for DDL and INSERT. Statements that need it fail with
// kNotImplemented when the engine has none. Implementations synchronise themselves.
class CatalogWriter {
 public:
  virtual ~CatalogWriter() = default;
  virtual Status CreateView(const std::string& name, const std::string& sql, bool or_replace) = 0;
  virtual Status DropView(const std::string& name, bool if_exists) = 0;
  // CREATE TABLE ... AS: `properties` are the WITH (...) pairs as text; arrays are
  // comma-separated ("partitioned_by" -> "region,month").
  virtual Status CreateTable(const std::string& name, const Schema& schema,
                             const std::vector<Batch>& data,
                             const std::vector<std::pair<std::string, std::string>>& properties,
                             bool if_not_exists) = 0;
  // Rows already shaped to the table's schema.
  virtual Status InsertInto(const std::string& name, const Schema& schema,
                            const std::vector<Batch>& data) = 0;
  virtual Status DropTable(const std::string& name, bool if_exists) = 0;
};

// ------------------------------------------------------------------ expressions

struct PlanNode;
using PlanPtr = std::shared_ptr<const PlanNode>;

enum class ExprKind : uint8_t {
  kColumn,      // column
  kLiteral,     // value
  kCall,        // fn(args)
  kCast,        // args[0] AS type (try_cast)
  kAnd,         // args (2+), three-valued
  kOr,
  kNot,
  kIsNull,      // args[0] IS [NOT] NULL (negated)
  kCase,        // args = when0, then0, when1, then1, ..., [else]; has_else
  kCoalesce,    // args
  kIn,          // args[0] IN (args[1..]) (negated); all args of one type
  kTry,         // try(args[0]): errors become NULL
  kScalarSubquery,  // subquery plan with one column
  kInSubquery,  // args[0] IN (subquery) (negated)
  kExists,      // EXISTS (subquery) (negated)
};

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  DataType type;
  SourcePos pos;
  int column = -1;
  std::string name;  // column name (EXPLAIN) / function name
  Value value;
  std::shared_ptr<const ScalarFunction> fn;
  std::vector<ExprPtr> args;
  bool negated = false;
  bool try_cast = false;
  bool has_else = false;
  PlanPtr subquery;

  // Canonical text (EXPLAIN, and the key for matching GROUP BY expressions).
  std::string ToString() const;
  bool deterministic() const;
  // True when evaluating it cannot fail on any row (comparisons, IN and logic over columns and
  // literals). Such an expression may be evaluated on rows the query would not have evaluated it
  // on: the evaluator runs AND/OR operands of this kind over whole batches, and the optimizer
  // filters a join's input with the part of an OR that reads that input alone. A failing one (a
  // division, a cast) must not see the rows an earlier operand ruled out.
  bool cannot_fail() const;
};

ExprPtr MakeColumn(int index, DataType type, std::string name = "");
ExprPtr MakeLiteral(Value v);
// Adds the input columns e reads (its column references) to out.
void ColumnsOf(const Expr& e, std::set<int>& out);
// Whether e or one of its arguments holds a subquery (a plan of its own).
bool HasSubquery(const Expr& e);

// ------------------------------------------------------------------ plan nodes

enum class PlanKind : uint8_t {
  kScan, kValues, kFilter, kProject, kAggregate, kJoin, kSort, kLimit, kSetOp, kDistinct,
  kWindow,
};

struct OutputColumn {
  std::string name;
  DataType type;
};

struct SortKey {
  ExprPtr expr;
  bool descending = false;
  bool nulls_first = false;
};

struct AggregateCall {
  AggregateFunction fn;
  std::vector<ExprPtr> args;
  ExprPtr filter;  // FILTER (WHERE ...), or null
  std::string ToString() const;
};

struct WindowFrame {
  FrameUnit unit = FrameUnit::kRange;
  BoundKind start = BoundKind::kUnboundedPreceding;
  BoundKind end = BoundKind::kCurrentRow;
  int64_t start_offset = 0;
  int64_t end_offset = 0;
  // RANGE with PRECEDING/FOLLOWING offsets: the single ORDER BY key and, per row, the key value
  // each offset bound reaches (key -/+ offset, DESC reversed), all three of one comparable type.
  // Null when the bound has no offset.
  ExprPtr range_key, range_start, range_end;
};

struct WindowCall {
  std::string function;                // row_number, rank, ..., or an aggregate name
  std::optional<AggregateFunction> aggregate;  // set for aggregates over a window
  std::vector<ExprPtr> args;
  std::vector<ExprPtr> partition_by;
  std::vector<SortKey> order_by;
  WindowFrame frame;
  DataType type;
  std::string ToString() const;
};

enum class SetOpKind : uint8_t { kUnion, kIntersect, kExcept };

struct PlanNode {
  PlanKind kind;
  std::vector<OutputColumn> output;
  std::vector<PlanPtr> children;

  // kScan
  std::shared_ptr<const Table> table;
  std::vector<int> scan_columns;   // table column of each output column
  std::vector<ExprPtr> scan_filters;  // conjuncts over the scan output, used to prune morsels
  // kValues: rows of expressions over no input
  std::vector<std::vector<ExprPtr>> rows;
  // kFilter
  ExprPtr predicate;
  // kProject
  std::vector<ExprPtr> exprs;
  // kAggregate: output = groups..., aggregates...; grouping_sets index into groups (empty = one
  // set of all groups)
  std::vector<ExprPtr> groups;
  std::vector<AggregateCall> aggregates;
  std::vector<std::vector<int>> grouping_sets;
  bool grouping_id = false;  // one more output column: the index of the row's grouping set
  // kJoin
  JoinType join_type = JoinType::kInner;
  // Output: left ++ right; for kSemi/kAnti the left's alone, for kRightSemi/kRightAnti the
  // right's alone (those four have keys and no residual).
  std::vector<ExprPtr> left_keys, right_keys;  // over the left / right child's output
  ExprPtr residual;                              // over left ++ right output, or null
  // kSort (and kLimit over a sort becomes top-N in the executor)
  std::vector<SortKey> sort_keys;
  // kLimit
  int64_t limit = -1;  // -1: none
  int64_t offset = 0;
  // kSetOp
  SetOpKind set_op = SetOpKind::kUnion;
  bool all = false;
  // kWindow: output = input ++ one column per call
  std::vector<WindowCall> windows;

  explicit PlanNode(PlanKind k) : kind(k) {}
};

// Indented operator tree for EXPLAIN.
std::string ExplainPlan(const PlanNode& plan);
Schema OutputSchema(const PlanNode& plan);

}  // namespace saleslake::sql
