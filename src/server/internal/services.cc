// The list of services the server hosts beside S3 (see service.h). Add one line per service.
#include "server/internal/service.h"

#include "server/internal/athena_api.h"
#include "server/internal/console.h"
#include "server/internal/glue_api.h"
#include "server/internal/kinesis_api.h"
#include "server/internal/lake_sql.h"
#include "server/internal/sns_api.h"
#include "server/internal/trino_api.h"

namespace saleslake::server::internal {

std::unique_ptr<Service> MakeStsService(const ServiceContext& context);

std::vector<std::unique_ptr<Service>> MakeServices(const ServiceContext& context) {
  std::vector<std::unique_ptr<Service>> services;
  // The catalog, engine and query manager of the SQL services, and the system tables others
  // fill: first, so it starts before them.
  auto lake_sql = std::make_unique<LakeSqlService>(context);
  LakeSqlService* sql = lake_sql.get();
  services.push_back(std::move(lake_sql));
  services.push_back(MakeStsService(context));
  services.push_back(MakeKinesisService(context, &sql->system_tables()));
  services.push_back(MakeEventsService(context));
  services.push_back(MakeAthenaService(context, sql));
  services.push_back(MakeGlueService(context, sql));
  services.push_back(MakeTrinoService(context, sql));
  services.push_back(MakeConsoleService(context, sql));
  return services;
}

}  // namespace saleslake::server::internal
