// The binder's shared pieces: scopes, the expression context and the Binder class, whose methods
// are spread over binder.cc (literals, columns, calls), binder_expression.cc (expressions,
// functions, window frames), binder_correlation.cc (correlated subqueries), binder_from.cc (FROM,
// VALUES) and binder_select.cc (SELECT, set operations, WITH). Internal to sql/planner.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sql/planner/binder.h"
#include "sql/planner/cte_table.h"
#include "sql/planner/plan.h"

namespace saleslake::sql::internal {

// "line L:C: what" as kInvalidArgument.
Status ErrAt(SourcePos p, const std::string& what);
// Adds the position to an error that has none.
Status WithPos(const Status& s, SourcePos p);
bool IEquals(std::string_view a, std::string_view b);

struct ScopeCol {
  std::string table;  // alias or table name ("" for derived columns)
  std::string name;
  DataType type;
  bool hidden_for_unqualified = false;  // the right copy of a USING column
};

struct Scope {
  std::vector<ScopeCol> cols;
  const Scope* outer = nullptr;  // enclosing query's scope: only to explain correlation errors
};

struct ExprCtx {
  const Scope* scope = nullptr;
  const char* clause = "expression";
  bool post_agg = false;
  const Scope* pre_scope = nullptr;
  const std::vector<std::pair<std::string, int>>* group_keys = nullptr;
  const std::unordered_map<const AstExpr*, int>* agg_cols = nullptr;
  const std::unordered_map<const AstExpr*, int>* window_cols = nullptr;
  // Select aliases usable as a fallback (GROUP BY alias, as many engines allow).
  const std::vector<std::pair<std::string, const AstExpr*>>* select_aliases = nullptr;
  // The plan whose first columns are `scope`: a correlated subquery is decorrelated by joining
  // onto it (the plan grows columns at its end). Null where that rewrite is not possible.
  PlanPtr* correlated_plan = nullptr;
  // After GROUP BY: the grouping sets (empty = one set of all groups) and the column holding
  // each row's set index (-1 when the query does not use grouping()).
  const std::vector<std::vector<int>>* grouping_sets = nullptr;
  int grouping_id_col = -1;
  // While binding a correlated subquery's WHERE conjuncts: names not found in `scope` resolve
  // here, as columns corr_offset + i (the layout subquery columns ++ outer columns).
  const Scope* corr_outer = nullptr;
  int corr_offset = 0;
};

ExprPtr Cast(ExprPtr e, const DataType& to, bool try_cast = false);
Result<ExprPtr> CastChecked(ExprPtr e, const DataType& to);
ExprPtr MakeNode(ExprKind k, DataType t, SourcePos p, std::vector<ExprPtr> args);
void SplitConjuncts(const ExprPtr& e, std::vector<ExprPtr>& out);
ExprPtr ShiftColumns(const ExprPtr& e, int delta);
PlanPtr MakeProject(PlanPtr child, std::vector<ExprPtr> exprs, std::vector<std::string> names);
PlanPtr MakeGroupBy(PlanPtr child, std::vector<ExprPtr> keys, std::vector<AggregateCall> aggs);
PlanPtr MakeLeftJoin(PlanPtr left, PlanPtr right, std::vector<ExprPtr> left_keys);

// binder_select.cc
// Visits function calls that are aggregates (not window calls), without entering subqueries.
void CollectAggregates(const AstExpr& e, std::vector<const AstExpr*>& out, bool inside_window_args);
void CollectWindows(const AstExpr& e, std::vector<const AstExpr*>& out);

struct CteEntry {
  PlanPtr plan;
  std::vector<std::string> names;
  int uses = 0;  // references bound so far
  // Set when the query is read more than once and deterministic: references scan it (computed
  // once) instead of inlining `plan`.
  std::shared_ptr<const CteTable> table;
};

class Binder {
 public:
  explicit Binder(const Catalog* catalog) : catalog_(catalog) {}

  Result<PlanPtr> BindQuery(const Query& q, const Scope* outer);
  Result<ExprPtr> BindExpr(const AstExpr& e, const ExprCtx& ctx);

 private:
  // The query after its WITH (whose queries are bound in ctes_.back()): body, ORDER BY, LIMIT.
  Result<PlanPtr> BindQueryBody(const Query& q, const Scope* outer);
  Result<PlanPtr> BindBody(const QueryBody& b, const Scope* outer);
  Result<PlanPtr> BindSpec(const QuerySpec& spec, const std::vector<OrderItem>* order_by,
                           const Scope* outer);
  Result<PlanPtr> BindValues(const std::vector<std::vector<AstExprPtr>>& rows, SourcePos pos);
  Status BindFrom(const TableRef& ref, const Scope* outer, PlanPtr* plan, Scope* scope);
  Result<PlanPtr> BindSetOp(const QueryBody& b, const Scope* outer);
  Result<ExprPtr> ResolveColumn(const AstExpr& e, const Scope& scope);
  Result<ExprPtr> BindFunction(const AstExpr& e, const ExprCtx& ctx);
  Result<ExprPtr> BindLiteral(const AstExpr& e);
  Result<ExprPtr> Call(std::string_view name, std::vector<ExprPtr> args, SourcePos pos);
  Result<ExprPtr> Compare(std::string_view op, ExprPtr a, ExprPtr b, SourcePos pos);
  Result<ExprPtr> ToBoolean(ExprPtr e, const char* clause);
  Result<PlanPtr> BindSubquery(const Query& q, const ExprCtx& ctx);
  Result<int64_t> ConstantInt(const AstExpr& e, const char* what);
  struct Correlation;
  Result<Correlation> BindCorrelation(const Query& q, const Scope& outer, SourcePos pos);
  Result<ExprPtr> BindCorrelated(const AstExpr& e, const ExprCtx& ctx);
  Result<AggregateCall> BindAggregateCall(const AstExpr& a, const ExprCtx& ctx);
  Result<ExprPtr> BindGrouping(const AstExpr& e, const ExprCtx& ctx);
  Status BindRangeOffsets(const WindowSpec& spec, SourcePos pos, WindowCall& call, const ExprCtx& ctx);

  const Catalog* catalog_;
  // Set when a column resolved to an enclosing query's scope (a correlated subquery).
  bool correlated_hit_ = false;
  std::vector<std::map<std::string, CteEntry>> ctes_;
  int view_depth_ = 0;
};

struct Binder::Correlation {
  PlanPtr inner;       // the subquery's FROM, filtered by its uncorrelated WHERE conjuncts
  Scope scope;         // the subquery's FROM scope
  std::vector<ExprPtr> inner_keys;  // over `inner`
  std::vector<ExprPtr> outer_keys;  // over the outer plan
  // At most one conjunct `inner_cmp <op> outer_cmp` with op one of <>, <, <=, >, >= (EXISTS
  // only, TPC-H Q21): decided per key group from min/max of inner_cmp. cmp_op empty: none.
  std::string cmp_op;
  ExprPtr inner_cmp, outer_cmp;
};

}  // namespace saleslake::sql::internal
