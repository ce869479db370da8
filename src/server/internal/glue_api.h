// Glue's JSON 1.1 API (X-Amz-Target: AWSGlue.<Operation>) over the catalog, the crawlers and the
// ETL jobs of pipeline.yaml: the same catalog::Crawl and etl::RunJob the CLI calls. Crawls and
// job runs are asynchronous, as in Glue: Start* returns at once and the work runs on the
// service's background worker; their state is kept in memory (finished job runs are also read
// back from the run reports under _system/runs/, so they survive a restart).
// Thread safety: handlers run on many worker threads; state is behind one mutex.
#pragma once

#include <memory>

#include "server/internal/lake_sql.h"
#include "server/internal/service.h"

namespace saleslake::server::internal {

std::unique_ptr<Service> MakeGlueService(const ServiceContext& context, LakeSqlService* sql);

// Glue's (Hive's) name for a column type: string, bigint, int, double, float, decimal(p,s),
// date, timestamp, boolean.
std::string GlueTypeName(const DataType& type);

}  // namespace saleslake::server::internal
