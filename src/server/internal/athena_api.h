// Athena's JSON 1.1 API (X-Amz-Target: AmazonAthena.<Operation>) over the shared query manager
// (lake_sql.h): queries submitted here are the same queries the Trino protocol and the console
// see. One table of operations in athena_api.cc (name -> IAM action, resource, handler).
// Thread safety: handlers run on many worker threads; all state is in the QueryManager.
#pragma once

#include <memory>

#include "server/internal/lake_sql.h"
#include "server/internal/service.h"

namespace saleslake::server::internal {

std::unique_ptr<Service> MakeAthenaService(const ServiceContext& context, LakeSqlService* sql);

// Athena's name for a column type in ResultSetMetadata ("varchar", "bigint", "integer",
// "double", "float", "decimal", "date", "timestamp", "boolean").
std::string AthenaTypeName(const DataType& type);

}  // namespace saleslake::server::internal
