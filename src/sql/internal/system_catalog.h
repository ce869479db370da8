// The engine's catalog with the system tables in front: names under `system.` are looked up in
// the SystemTables registry (a snapshot of the producer's rows, as an in-memory table), every
// other name in the base catalog. Engine::Open wraps its catalog with it when
// EngineOptions::system_tables is set.
#pragma once

#include <memory>

#include "sql/planner/plan.h"
#include "sql/sql.h"

namespace saleslake::sql::internal {

std::shared_ptr<const Catalog> WithSystemTables(std::shared_ptr<const Catalog> base,
                                                std::shared_ptr<const SystemTables> tables);

}  // namespace saleslake::sql::internal
