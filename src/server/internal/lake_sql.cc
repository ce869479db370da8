#include "server/internal/lake_sql.h"

#include "auth/auth.h"
#include "common/logging.h"
#include "etl/job_spec.h"

namespace saleslake::server::internal {

Status LakeSqlService::Start() {
  SL_ASSIGN_OR_RETURN(catalog_, catalog::Catalog::Open(context_.lake));
  SL_ASSIGN_OR_RETURN(engine_, sql::Engine::OpenLake(context_.lake, catalog_.get()));
  // Two runners: the machine's cores are shared with request handling and ETL runs.
  SL_ASSIGN_OR_RETURN(queries_, QueryManager::Create(engine_.get(), {.max_running = 2, .clock = context_.clock}));
  auto iam = auth::Iam::Open(*context_.lake, {});
  if (iam.ok()) account_id_ = (*iam)->account_id();
  return Status::OK();
}

void LakeSqlService::Stop() {
  queries_.reset();
  engine_.reset();
  catalog_.reset();
}

std::vector<std::string> LakeSqlService::PiiColumns() const {
  std::vector<std::string> out;
  auto text = context_.lake->Get("pipeline.yaml");
  if (!text.ok()) return out;
  auto jobs = etl::ParseJobs("pipeline.yaml", *text);
  if (!jobs.ok()) return out;
  for (const etl::JobSpec& job : *jobs) {
    out.insert(out.end(), job.pii_tokenize.begin(), job.pii_tokenize.end());
  }
  return out;
}

bool LakeSqlService::MayReadPii(const Principal& principal, const HttpRequest& request) const {
  std::string resource = "arn:aws:glue:" + region() + ":" + account_id_ + ":catalog";
  return !context_.gate->Authorize(principal, "saleslake:ReadPii", resource, request, {}).has_value();
}

}  // namespace saleslake::server::internal
