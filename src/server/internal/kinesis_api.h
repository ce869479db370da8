// The Kinesis Data Streams API (JSON 1.1, X-Amz-Target Kinesis_20131202.*) over src/stream.
#pragma once

#include <memory>

#include "server/internal/service.h"
#include "sql/sql.h"

namespace saleslake::server::internal {

// Streams live under <lake>/streams/. IAM actions are kinesis:<Operation> on
// arn:aws:kinesis:us-east-1:<account>:stream/<name>. The live metrics are registered as
// system.stream_metrics in `system_tables` (the lake-sql service's).
std::unique_ptr<Service> MakeKinesisService(const ServiceContext& context, sql::SystemTables* system_tables);

}  // namespace saleslake::server::internal
