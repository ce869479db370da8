// SQL text work the console does before a statement reaches the engine: named parameters bound
// as literals, the tables a statement names, and a table reference replaced by a filtered (or
// PII-masked) subquery. A small lexer walks the text so that string literals, quoted
// identifiers and comments are never touched.
// Thread safety: pure functions.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace saleslake::server::internal {

// A SQL literal for a JSON scalar: strings quoted with '' doubling, numbers as written, true /
// false, null as NULL. kInvalidArgument for arrays and objects.
Result<std::string> SqlLiteral(const nlohmann::json& value);

// Replaces each `:name` (outside strings, quoted identifiers and comments; not `::`) with the
// literal of params[name]; an array becomes a parenthesised list for IN. kInvalidArgument names
// a parameter the statement uses but `params` lacks.
Result<std::string> BindParameters(std::string_view sql, const nlohmann::json& params);

// The identifiers of `sql` (bare or double-quoted, lower-cased when bare) that are in `tables`.
std::set<std::string> ReferencedTables(std::string_view sql, const std::set<std::string>& tables);

// Replaces every bare identifier equal (case-insensitively) to a key of `replacements` that is
// not qualified by a preceding '.' and not followed by '.' or '(' with the mapped text (a
// parenthesised subquery), aliased with the table's name unless the statement names an alias.
std::string ReplaceTableReferences(std::string_view sql,
                                   const std::map<std::string, std::string>& replacements);

}  // namespace saleslake::server::internal
