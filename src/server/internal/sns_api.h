// The events service (SNS query API, subscription confirmation, the rules' event loop).
#pragma once

#include <memory>

#include "server/internal/service.h"

namespace saleslake::server::internal {

std::unique_ptr<Service> MakeEventsService(const ServiceContext& context);

}  // namespace saleslake::server::internal
