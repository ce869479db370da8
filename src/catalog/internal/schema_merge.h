// Type widening and schema merging for the crawler.
//
// Widening rules (symmetric): T + T = T; NULL + T = T; INTEGER + BIGINT = BIGINT;
// REAL + DOUBLE = DOUBLE; integer/REAL + DOUBLE = DOUBLE; DECIMAL(p1,s1) + DECIMAL(p2,s2) =
// DECIMAL(max integer digits + max scale, max scale) capped at 38; INTEGER/BIGINT + DECIMAL =
// DECIMAL wide enough for 10/19 integer digits; DECIMAL + REAL/DOUBLE = DOUBLE;
// DATE + TIMESTAMP = TIMESTAMP. Everything else (e.g. BIGINT + VARCHAR, DATE + BIGINT,
// BOOLEAN + BIGINT) is incompatible.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/types.h"

namespace saleslake::catalog::internal {

// The narrowest type both can be read as, or nullopt when incompatible.
std::optional<DataType> WidenType(const DataType& a, const DataType& b);

enum class SchemaChangeKind { kNewColumn, kWidened, kIncompatible };

struct SchemaChange {
  SchemaChangeKind kind;
  std::string column;
  DataType from;  // the table's type (Null for a new column)
  DataType to;    // the file's type
  std::string Describe() const;  // "new column status VARCHAR", "amount BIGINT -> DOUBLE", ...
};

struct MergedSchema {
  Schema schema;  // `base` with new columns appended and widened types; incompatible -> VARCHAR
  std::vector<SchemaChange> changes;
};

// Merges the columns of `incoming` into `base` by name (case-sensitive).
MergedSchema MergeSchemas(const Schema& base, const Schema& incoming);

}  // namespace saleslake::catalog::internal
