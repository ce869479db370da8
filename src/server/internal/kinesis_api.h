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

// The columns of system.streams, which the service also registers: one row per stream and shard
// (the console's streams page reads it): the shard's acknowledged records since it began, and the
// stream's delivery backlog (records and log bytes acknowledged, not yet delivered into its
// table: the delivery lag), NULL for a stream without a delivery.
Schema SystemStreamsSchema();

}  // namespace saleslake::server::internal
