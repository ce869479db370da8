// The SQL abstract syntax tree produced by the parser (syntax only: no names are resolved here).
//
// Nodes own their children through unique_ptr; a whole Statement is freed at once. Every node
// carries the line:column where it starts so that the binder can point at the offending text.
// Identifiers are stored lower-cased unless they were quoted ("Name"), as Trino does.
// Thread safety: plain data; immutable after parsing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace saleslake::sql {

struct SourcePos {
  uint32_t line = 1;
  uint32_t column = 1;
  std::string ToString() const { return std::to_string(line) + ":" + std::to_string(column); }
};

struct Query;

enum class AstKind : uint8_t {
  kLiteral,      // literal_kind + text
  kColumn,       // names = qualified name parts (a.b.c)
  kStar,         // names = optional qualifier (t.*)
  kUnary,        // op ("-", "+", "not"), args[0]
  kBinary,       // op ("+","-","*","/","%","||","=","<>","<","<=",">",">=","and","or",
                 //     "is distinct from", "is not distinct from"), args[0], args[1]
  kFunction,     // name, args, distinct, filter (optional), window (optional), star (count(*))
  kCase,         // args = [operand?] when/then pairs [else]; has_operand, has_else
  kCast,         // args[0], type_name, try_cast
  kIn,           // args[0] IN (args[1..]); negated
  kInSubquery,   // args[0] IN (subquery); negated
  kExists,       // subquery; negated
  kSubquery,     // scalar subquery
  kBetween,      // args[0] BETWEEN args[1] AND args[2]; negated
  kLike,         // args[0] LIKE args[1] [ESCAPE args[2]]; negated
  kIsNull,       // args[0] IS [NOT] NULL; negated
  kExtract,      // EXTRACT(field FROM args[0]); name = field
};

enum class LiteralKind : uint8_t {
  kNull, kTrue, kFalse, kInteger, kDecimal, kDouble, kString, kDate, kTimestamp, kInterval,
};

enum class FrameUnit : uint8_t { kRows, kRange };
enum class BoundKind : uint8_t {
  kUnboundedPreceding, kPreceding, kCurrentRow, kFollowing, kUnboundedFollowing,
};

struct AstExpr;
using AstExprPtr = std::unique_ptr<AstExpr>;

struct FrameBound {
  BoundKind kind = BoundKind::kCurrentRow;
  AstExprPtr offset;  // kPreceding / kFollowing
};

struct OrderItem {
  AstExprPtr expr;
  bool descending = false;
  std::optional<bool> nulls_first;  // unset = dialect default (Trino: NULLS LAST)
};

struct WindowSpec {
  std::vector<AstExprPtr> partition_by;
  std::vector<OrderItem> order_by;
  bool has_frame = false;
  FrameUnit unit = FrameUnit::kRange;
  FrameBound start, end;
};

struct AstExpr {
  AstKind kind;
  SourcePos pos;
  LiteralKind literal_kind = LiteralKind::kNull;
  std::string text;                // literal text; operator; function name; extract field
  std::string interval_unit;       // kInterval literal: "year" ... "second"
  std::string interval_to_unit;    // INTERVAL '1-2' YEAR TO MONTH (optional)
  std::vector<std::string> names;  // kColumn / kStar qualifier
  std::vector<AstExprPtr> args;
  std::string type_name;           // kCast
  bool try_cast = false;
  bool distinct = false;           // kFunction
  bool star = false;               // count(*)
  bool negated = false;
  bool has_operand = false;        // kCase
  bool has_else = false;           // kCase
  AstExprPtr filter;               // aggregate FILTER (WHERE ...)
  std::unique_ptr<WindowSpec> window;
  std::unique_ptr<Query> subquery;

  AstExpr(AstKind k, SourcePos p) : kind(k), pos(p) {}
  ~AstExpr();
};

// The last four come only from the optimizer (correlated EXISTS / NOT EXISTS): a semi join keeps
// the rows of one input that have a match in the other (anti: that have none), and outputs that
// input's columns alone. kSemi/kAnti keep the left (probe) input; kRightSemi/kRightAnti keep the
// right (build) input, probed by the left in parallel, for when the kept input is the small one.
enum class JoinType : uint8_t { kInner, kLeft, kRight, kFull, kCross, kSemi, kAnti, kRightSemi, kRightAnti };

struct TableRef;
using TableRefPtr = std::unique_ptr<TableRef>;

struct TableRef {
  enum class Kind : uint8_t { kTable, kSubquery, kJoin, kValues } kind;
  SourcePos pos;
  std::vector<std::string> name;  // kTable: qualified name
  std::string alias;
  std::vector<std::string> column_aliases;
  std::unique_ptr<Query> subquery;  // kSubquery
  std::vector<std::vector<AstExprPtr>> values;  // kValues rows
  JoinType join_type = JoinType::kInner;
  TableRefPtr left, right;
  AstExprPtr on;
  std::vector<std::string> using_columns;

  TableRef(Kind k, SourcePos p) : kind(k), pos(p) {}
  ~TableRef();
};

struct SelectItem {
  AstExprPtr expr;  // kStar for * and t.*
  std::string alias;
  SourcePos pos;
};

struct GroupingElement {
  enum class Kind : uint8_t { kSimple, kRollup, kCube, kSets } kind = Kind::kSimple;
  std::vector<AstExprPtr> exprs;                   // kSimple (one), kRollup, kCube
  std::vector<std::vector<AstExprPtr>> sets;       // kSets
};

struct QuerySpec {
  bool distinct = false;
  std::vector<SelectItem> items;
  TableRefPtr from;  // null: SELECT without FROM
  AstExprPtr where;
  std::vector<GroupingElement> group_by;
  bool has_group_by = false;
  AstExprPtr having;
};

struct QueryBody;
using QueryBodyPtr = std::unique_ptr<QueryBody>;

struct QueryBody {
  enum class Kind : uint8_t { kSpec, kSetOp, kValues, kQuery } kind;
  SourcePos pos;
  std::unique_ptr<QuerySpec> spec;
  std::vector<std::vector<AstExprPtr>> values;  // kValues
  std::unique_ptr<Query> query;                  // kQuery: parenthesised query
  enum class SetOp : uint8_t { kUnion, kIntersect, kExcept } op = SetOp::kUnion;
  bool all = false;
  QueryBodyPtr left, right;

  QueryBody(Kind k, SourcePos p) : kind(k), pos(p) {}
  ~QueryBody();
};

struct Cte {
  std::string name;
  std::vector<std::string> column_aliases;
  std::unique_ptr<Query> query;
  SourcePos pos;
};

struct Query {
  SourcePos pos;
  std::vector<Cte> with;
  QueryBodyPtr body;
  std::vector<OrderItem> order_by;
  AstExprPtr limit;   // null: no limit
  AstExprPtr offset;  // null: no offset
  ~Query();
};

struct Statement {
  enum class Kind : uint8_t {
    kQuery, kExplain, kCreateTableAs, kCreateView, kInsert, kDropTable, kDropView, kShowTables,
    kShowColumns, kShowCatalogs, kShowSchemas,
    // Materialized views (sql/internal/matview.h).
    kCreateMatView, kRefreshMatView, kDropMatView, kShowMatViews, kExplainRefresh,
  } kind = Kind::kQuery;
  SourcePos pos;
  std::unique_ptr<Query> query;    // kQuery, kExplain, kCreateTableAs, kCreateView, kInsert
  bool analyze = false;            // EXPLAIN ANALYZE
  bool full = false;               // REFRESH MATERIALIZED VIEW ... FULL
  std::vector<std::string> name;   // target table / view; SHOW SCHEMAS/TABLES FROM
  bool or_replace = false;
  bool if_exists = false;
  bool if_not_exists = false;
  // CREATE TABLE ... WITH (key = value, ...): values kept as expressions (strings, arrays).
  std::vector<std::pair<std::string, AstExprPtr>> properties;
  std::vector<std::string> insert_columns;
  std::string like_pattern;        // SHOW CATALOGS/SCHEMAS/TABLES LIKE
};

}  // namespace saleslake::sql
