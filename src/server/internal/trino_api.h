// The Trino client protocol (the REST API every Trino/Presto client and driver speaks) over the
// shared query manager: POST /v1/statement submits, GET on the returned nextUri pages rows,
// DELETE on it cancels. Columns carry Trino type signatures; errors carry errorName, errorType
// and the line:column of the engine's message.
//
// Authentication: HTTP Basic with an IAM access key id and its secret, or a user name and its
// console password (use TLS off loopback), or a SigV4-signed request; IAM then decides
// (athena:StartQueryExecution on the primary workgroup, saleslake:ReadPii for PII columns).
// Thread safety: handlers run on many worker threads; state is in the QueryManager.
#pragma once

#include <memory>

#include "server/internal/lake_sql.h"
#include "server/internal/service.h"

namespace saleslake::server::internal {

std::unique_ptr<Service> MakeTrinoService(const ServiceContext& context, LakeSqlService* sql);

// Trino's error name, code and type for an engine error ("line 1:8: column 'x' not found" ->
// COLUMN_NOT_FOUND, 47, USER_ERROR).
struct TrinoError {
  const char* name;
  int code;
  const char* type;
};
TrinoError ClassifyTrinoError(StatusCode code, const std::string& message);

}  // namespace saleslake::server::internal
