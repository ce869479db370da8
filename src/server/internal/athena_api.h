// Athena's JSON 1.1 API (X-Amz-Target: AmazonAthena.<Operation>) over the shared query manager
// (lake_sql.h): queries submitted here are the same queries the Trino protocol and the console
// see. One table of operations in athena_api.cc (name -> IAM action, resource, handler).
// Thread safety: handlers run on many worker threads; all state is in the QueryManager.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "server/internal/lake_sql.h"
#include "server/internal/query_manager.h"
#include "server/internal/service.h"

namespace saleslake::server::internal {

std::unique_ptr<Service> MakeAthenaService(const ServiceContext& context, LakeSqlService* sql);

// Athena's name for a column type in ResultSetMetadata ("varchar", "bigint", "integer",
// "double", "float", "decimal", "date", "timestamp", "boolean").
std::string AthenaTypeName(const DataType& type);

// GetQueryResults' answer for one page, written straight as JSON text (no nlohmann tree: the
// tree of a 237-row page was most of the request's server CPU): ResultSet.Rows with the column
// names as the first row when `header`, ResultSetMetadata.ColumnInfo, UpdateCount, and NextToken
// when given. Byte for byte what nlohmann's dump of the same document gives (keys in its sorted
// order, invalid UTF-8 replaced by U+FFFD).
std::string QueryResultsJson(const ResultPage& page, bool header, const std::optional<std::string>& next_token);

}  // namespace saleslake::server::internal
