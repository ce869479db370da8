// Glue between the public Server and the auth seam.
#pragma once

#include <memory>

#include "common/status.h"
#include "server/internal/gate.h"
#include "server/server.h"

namespace saleslake::server::internal {

// The gate the options ask for: the open gate with no_auth, else the IAM gate of src/auth.
Result<std::unique_ptr<Gate>> MakeGate(const ServerOptions& options);

}  // namespace saleslake::server::internal
