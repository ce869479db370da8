// A CatalogWriter over a MemoryCatalog: DDL for tests and scratch sessions. Not for other
// modules (they reach a writable engine through sql::Engine::OpenLake).
#pragma once

#include <memory>

#include "sql/exec/executor.h"

namespace saleslake::sql {

// Thread safety: the writer serialises its own calls; reads of `catalog` by running statements
// are not synchronised with them (see MemoryCatalog).
std::shared_ptr<CatalogWriter> MakeMemoryCatalogWriter(std::shared_ptr<MemoryCatalog> catalog);

}  // namespace saleslake::sql
