// The registry behind sql::RegisterSystemTable and the catalog decorator that serves its tables.
#pragma once

#include <memory>

#include "sql/planner/plan.h"

namespace saleslake::sql::internal {

// `inner` with system.<name> resolved from the registry first (every other name, the table
// list and views go to `inner`). Thread safety: as `inner`; the registry has its own lock.
std::shared_ptr<const Catalog> WithSystemTables(std::shared_ptr<const Catalog> inner);

}  // namespace saleslake::sql::internal
