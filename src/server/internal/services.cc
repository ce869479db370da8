// The list of services the server hosts beside S3 (see service.h). Add one line per service.
#include "server/internal/athena_api.h"
#include "server/internal/console.h"
#include "server/internal/glue_api.h"
#include "server/internal/lake_sql.h"
#include "server/internal/service.h"

namespace saleslake::server::internal {

std::vector<std::unique_ptr<Service>> MakeServices(const ServiceContext& context) {
  std::vector<std::unique_ptr<Service>> services;
  // The catalog, engine and query manager of the SQL services: first, so it starts before them.
  auto lake_sql = std::make_unique<LakeSqlService>(context);
  LakeSqlService* sql = lake_sql.get();
  services.push_back(std::move(lake_sql));
  services.push_back(MakeAthenaService(context, sql));
  services.push_back(MakeGlueService(context, sql));
  services.push_back(MakeConsoleService(context, sql));
  return services;
}

}  // namespace saleslake::server::internal
