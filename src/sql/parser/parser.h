// SQL text -> AST (Trino/Athena dialect). Syntax only; names are resolved by the binder.
//
// Errors come back as kInvalidArgument with "line L:C: <what>" (1-based positions) so that a
// user can find the offending token. Nesting deeper than kMaxDepth is refused instead of
// overflowing the stack. Thread safety: free functions, no shared state.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sql/parser/ast.h"

namespace saleslake::sql {

constexpr int kMaxParseDepth = 200;

// Parses exactly one statement (a trailing ';' is allowed).
Result<std::unique_ptr<Statement>> ParseStatement(std::string_view sql);

// Parses a script of ';'-separated statements (empty statements are skipped).
Result<std::vector<std::unique_ptr<Statement>>> ParseScript(std::string_view sql);

// Parses a standalone expression (ETL column mappings, tests).
Result<AstExprPtr> ParseExpression(std::string_view sql);

}  // namespace saleslake::sql
