// The gate over src/auth (IAM users and policies, SigV4, audit log).
#include "server/internal/server_internal.h"

namespace saleslake::server::internal {

Result<std::unique_ptr<Gate>> MakeGate(const ServerOptions& options) {
  if (options.no_auth) return MakeOpenGate();
  // TODO(serve): wire src/auth (auth.h) here once it lands on this branch.
  return Status::NotImplemented(
      "authentication (src/auth) is not built into this binary yet: run with --no-auth on loopback");
}

}  // namespace saleslake::server::internal
