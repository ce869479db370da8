// The binder: AST + catalog -> logical plan. Resolves names (with "did you mean" hints), types
// (Trino's implicit coercions), functions and aggregates; every error names the line:column.
// Thread safety: Bind* are pure functions of their inputs; the catalog must allow reads.
#pragma once

#include "common/status.h"
#include "sql/parser/ast.h"
#include "sql/planner/plan.h"

namespace saleslake::sql {

// Binds a query. Views are expanded by parsing their SQL.
Result<PlanPtr> BindQuery(const Query& query, const Catalog& catalog);

// Binds a standalone scalar expression over the columns of `input` (ETL column mappings).
Result<ExprPtr> BindScalarExpression(const AstExpr& expr, const Schema& input);

// " ; did you mean 'x'?" for the closest candidate within a small distance, else "".
std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace saleslake::sql
