// The list of services the server hosts beside S3 (see service.h). Add one line per service.
#include "server/internal/service.h"

#include "server/internal/kinesis_api.h"
#include "server/internal/sns_api.h"

namespace saleslake::server::internal {

std::unique_ptr<Service> MakeStsService(const ServiceContext& context);

std::vector<std::unique_ptr<Service>> MakeServices(const ServiceContext& context) {
  std::vector<std::unique_ptr<Service>> services;
  services.push_back(MakeStsService(context));
  services.push_back(MakeKinesisService(context));
  services.push_back(MakeEventsService(context));
  return services;
}

}  // namespace saleslake::server::internal
