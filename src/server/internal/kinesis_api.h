// The Kinesis Data Streams API (JSON 1.1, X-Amz-Target Kinesis_20131202.*) over src/stream.
#pragma once

#include <memory>

#include "server/internal/service.h"

namespace saleslake::server::internal {

// Streams live under <lake>/streams/. IAM actions are kinesis:<Operation> on
// arn:aws:kinesis:us-east-1:<account>:stream/<name>.
std::unique_ptr<Service> MakeKinesisService(const ServiceContext& context);

}  // namespace saleslake::server::internal
