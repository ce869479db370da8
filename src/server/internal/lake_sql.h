// What the SQL- and catalog-speaking services (Athena, Glue, the Trino protocol, the web
// console) share: the lake's catalog, one sql::Engine over it and the one QueryManager, opened
// when the server starts and closed (running queries cancelled) when it stops. It is listed
// first in services.cc, so it starts before and stops after the services that use it.
// Thread safety: the accessors may be called from any handler thread between Start and Stop.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "common/thread_annotations.h"
#include "server/internal/query_manager.h"
#include "server/internal/service.h"
#include "sql/sql.h"
#include "sql/workgroups.h"

namespace saleslake::auth {
class Iam;
}

namespace saleslake::server::internal {

// Athena workgroups come from pipeline.yaml through sql's parser (sql/workgroups.h), which the
// stack's deploy validation shares.
using sql::ParseWorkGroups;
using sql::WorkGroup;

class LakeSqlService final : public Service {
 public:
  explicit LakeSqlService(const ServiceContext& context);
  ~LakeSqlService() override;
  std::string name() const override { return "lake-sql"; }
  Status Register(Dispatcher&) override { return Status::OK(); }
  Status Start() override;
  void Stop() override;
  // SIGHUP: rereads the workgroups of pipeline.yaml (on the watcher thread, which also rereads
  // them within a second of a change to the file). A refused file is logged with file:line:col
  // and the previous workgroups stay.
  void Reload() override;

  const ServiceContext& context() const { return context_; }
  catalog::Catalog& catalog() const { return *catalog_; }
  const sql::Engine& engine() const { return *engine_; }
  QueryManager& queries() const { return *queries_; }
  // The engine's system tables: services add theirs here in Start (system.queries is this
  // service's: the query manager's history).
  sql::SystemTables& system_tables() const { return *system_tables_; }
  // The IAM account's id ("000000000000" without IAM, e.g. under --no-auth): for resource ARNs.
  const std::string& account_id() const { return account_id_; }
  std::string region() const { return "us-east-1"; }
  // The workgroups pipeline.yaml declares (as last loaded); nullopt for an unknown name.
  std::vector<WorkGroup> workgroups() const;
  std::optional<WorkGroup> FindWorkGroup(const std::string& name) const;

  // Columns that hold PII: the `pii: tokenize:` columns of every job in pipeline.yaml. A caller
  // without saleslake:ReadPii gets them as NULL.
  std::vector<std::string> PiiColumns() const;
  // Whether `principal` may read PII (saleslake:ReadPii on the Glue catalog ARN).
  bool MayReadPii(const Principal& principal, const HttpRequest& request) const;
  // HTTP Basic credentials of the non-AWS protocols (Trino): an access key id with its secret
  // (proven by signing a request with it and verifying that signature, so secrets are never
  // compared by hand), or a user name with its console password. kPermissionDenied when wrong
  // or when the lake has no IAM.
  Result<Principal> CheckBasic(const std::string& user, const std::string& password) const;

 private:
  Status RegisterQueryHistory();
  Status RegisterCatalogTables();
  // Loads the workgroups of pipeline.yaml into workgroups_ and the query manager's limits when
  // the file changed (size or mtime) or `force`: whether it loaded, or the error of a refused
  // file (then nothing changes).
  Result<bool> LoadSettings(bool force);
  void ReloadSettings(bool force);  // LoadSettings, with the outcome logged
  void Watch();                     // the watcher thread's loop

  ServiceContext context_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::shared_ptr<sql::SystemTables> system_tables_ = std::make_shared<sql::SystemTables>();
  std::unique_ptr<sql::Engine> engine_;
  std::unique_ptr<QueryManager> queries_;
  std::string account_id_ = "000000000000";
  mutable Mutex settings_mu_;
  std::vector<WorkGroup> workgroups_ SL_GUARDED_BY(settings_mu_) = {WorkGroup{.name = "primary"}};
  int64_t pipeline_stamp_ SL_GUARDED_BY(settings_mu_) = 0;
  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool watch_stop_ = false;         // guarded by watch_mu_
  bool reload_requested_ = false;   // guarded by watch_mu_
  std::thread watcher_;
  std::unique_ptr<auth::Iam> iam_;  // null when the lake has no IAM store
};

}  // namespace saleslake::server::internal
