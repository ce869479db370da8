// The list of services the server hosts beside S3 (see service.h). Add one line per service.
#include "server/internal/service.h"

#include "server/internal/console.h"

namespace saleslake::server::internal {

std::vector<std::unique_ptr<Service>> MakeServices(const ServiceContext& context) {
  std::vector<std::unique_ptr<Service>> services;
  services.push_back(MakeConsoleService(context));
  return services;
}

}  // namespace saleslake::server::internal
