#include "server/internal/lake_sql.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "auth/auth.h"
#include "common/logging.h"
#include "etl/job_spec.h"

namespace saleslake::server::internal {

LakeSqlService::LakeSqlService(const ServiceContext& context) : context_(context) {}
LakeSqlService::~LakeSqlService() = default;

Status LakeSqlService::Start() {
  SL_ASSIGN_OR_RETURN(catalog_, catalog::Catalog::Open(context_.lake));
  sql::EngineOptions engine_options;
  engine_options.system_tables = system_tables_;
  SL_ASSIGN_OR_RETURN(engine_, sql::Engine::OpenLake(context_.lake, catalog_.get(), std::move(engine_options)));
  // Two runners: the machine's cores are shared with request handling and ETL runs.
  // Large results spool next to the lake, or in the state directory of a lake that is not local
  // (the temp directory may be a RAM disk). The files are unlinked as soon as they are made, so
  // the folder stays empty.
  const std::string spool_dir = context_.state->root() + "/_system/query_spool";
  std::error_code ec;
  std::filesystem::create_directories(spool_dir, ec);
  if (ec) return Status::IOError("cannot create " + spool_dir + ": " + ec.message());
  SL_ASSIGN_OR_RETURN(queries_, QueryManager::Create(engine_.get(), {.max_running = 2,
                                                                    .spool_dir = spool_dir,
                                                                    .clock = context_.clock}));
  // A bad file at start stops the server (as before); later ones are logged and the previous
  // workgroups stay.
  SL_RETURN_IF_ERROR(LoadSettings(/*force=*/true).status());
  {
    std::lock_guard lock(watch_mu_);
    watch_stop_ = false;
  }
  watcher_ = std::thread([this] { Watch(); });
  SL_RETURN_IF_ERROR(RegisterQueryHistory());
  SL_RETURN_IF_ERROR(RegisterCatalogTables());
  auth::IamOptions iam_options;
  iam_options.clock = context_.clock;
  auto iam = auth::Iam::Open(*context_.lake, iam_options);
  if (iam.ok()) {
    iam_ = std::move(*iam);
    account_id_ = iam_->account_id();
  }
  return Status::OK();
}

void LakeSqlService::Stop() {
  {
    std::lock_guard lock(watch_mu_);
    watch_stop_ = true;
  }
  watch_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  for (const char* name : {"system.queries", "system.runtime.nodes", "information_schema.schemata",
                           "information_schema.tables", "information_schema.columns"}) {
    system_tables_->Unregister(name);
  }
  queries_.reset();
  engine_.reset();
  catalog_.reset();
}

// system.queries: the query manager's history (Athena, Trino and the console), newest first.
// Every caller who may query sees every query, as in Trino's system.runtime.queries.
Status LakeSqlService::RegisterQueryHistory() {
  Schema schema;
  auto add = [&](const char* name, DataType type) { schema.fields.push_back(Field{name, type, true}); };
  add("query_id", DataType::Varchar());
  add("state", DataType::Varchar());
  add("user", DataType::Varchar());
  add("source", DataType::Varchar());
  add("workgroup", DataType::Varchar());
  add("query", DataType::Varchar());
  add("created", DataType::Timestamp());
  add("started", DataType::Timestamp());
  add("finished", DataType::Timestamp());
  add("queued_ms", DataType::Int64());
  add("elapsed_ms", DataType::Int64());
  add("rows", DataType::Int64());
  add("result_bytes", DataType::Int64());
  add("spooled_rows", DataType::Int64());
  add("bytes_read", DataType::Int64());
  add("error", DataType::Varchar());
  QueryManager* queries = queries_.get();
  Clock* clock = context_.clock ? context_.clock : &SystemClock();
  return system_tables_->Register("system.queries", std::move(schema), [queries, clock]() -> Result<sql::SystemTableRows> {
    auto micros = [](TimePoint t) {
      return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
    };
    auto ms = [](TimePoint a, TimePoint b) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
    };
    auto time_or_null = [&](const std::optional<TimePoint>& t) {
      return t ? Value::Timestamp(micros(*t)) : Value::Null(DataType::Timestamp());
    };
    const TimePoint now = clock->Now();
    sql::SystemTableRows rows;
    for (const QueryInfo& q : queries->List()) {
      const TimePoint started = q.started.value_or(q.finished.value_or(now));
      const TimePoint finished = q.finished.value_or(now);
      rows.push_back({
          Value::Varchar(q.id),
          Value::Varchar(QueryStateName(q.state)),
          Value::Varchar(q.request.user),
          Value::Varchar(q.request.source),
          Value::Varchar(q.request.workgroup),
          Value::Varchar(q.request.sql),
          Value::Timestamp(micros(q.submitted)),
          time_or_null(q.started),
          time_or_null(q.finished),
          Value::Int64(ms(q.submitted, started)),
          Value::Int64(ms(q.submitted, finished)),
          Value::Int64(static_cast<int64_t>(q.rows)),
          Value::Int64(static_cast<int64_t>(q.result_bytes)),
          Value::Int64(static_cast<int64_t>(q.spooled_rows)),
          Value::Int64(static_cast<int64_t>(q.bytes_scanned)),
          q.error.empty() ? Value::Null(DataType::Varchar()) : Value::Varchar(q.error),
      });
    }
    return rows;
  });
}

// What BI tools and drivers query on connect: system.runtime.nodes and information_schema's
// schemata, tables and columns. Tables and column types come from the engine's own SHOW TABLES
// and SHOW COLUMNS, so they name what a query sees. One catalog (`lake`) with the schema `sales`.
Status LakeSqlService::RegisterCatalogTables() {
  auto schema_of = [](std::initializer_list<std::pair<const char*, DataType>> cols) {
    Schema s;
    for (const auto& [name, type] : cols) s.fields.push_back(Field{name, type, true});
    return s;
  };
  const DataType text = DataType::Varchar();
  bool tls = context_.options && !context_.options->tls_cert_file.empty();
  std::string uri = context_.options ? fmt::format("{}://{}:{}", tls ? "https" : "http", context_.options->host,
                                                   context_.options->port)
                                     : "";
  SL_RETURN_IF_ERROR(system_tables_->Register(
      "system.runtime.nodes",
      schema_of({{"node_id", text}, {"http_uri", text}, {"node_version", text}, {"coordinator", DataType::Boolean()},
                 {"state", text}}),
      [uri]() -> Result<sql::SystemTableRows> {
        return sql::SystemTableRows{{Value::Varchar("saleslake"), Value::Varchar(uri), Value::Varchar("saleslake"),
                                     Value::Boolean(true), Value::Varchar("active")}};
      }));
  SL_RETURN_IF_ERROR(system_tables_->Register(
      "information_schema.schemata", schema_of({{"catalog_name", text}, {"schema_name", text}}),
      []() -> Result<sql::SystemTableRows> {
        return sql::SystemTableRows{{Value::Varchar("lake"), Value::Varchar("information_schema")},
                                    {Value::Varchar("lake"), Value::Varchar("sales")},
                                    {Value::Varchar("lake"), Value::Varchar("system")}};
      }));
  const sql::Engine* engine = engine_.get();
  auto table_names = [engine]() -> Result<std::vector<std::string>> {
    SL_ASSIGN_OR_RETURN(auto shown, engine->Execute("SHOW TABLES"));
    std::vector<std::string> names;
    for (const Batch& b : shown.result.batches) {
      for (size_t r = 0; r < b.num_rows; ++r) names.emplace_back(b.columns[0].GetValue<std::string_view>(r));
    }
    return names;
  };
  SL_RETURN_IF_ERROR(system_tables_->Register(
      "information_schema.tables",
      schema_of({{"table_catalog", text}, {"table_schema", text}, {"table_name", text}, {"table_type", text}}),
      [table_names]() -> Result<sql::SystemTableRows> {
        SL_ASSIGN_OR_RETURN(auto names, table_names());
        sql::SystemTableRows rows;
        for (const auto& name : names) {
          rows.push_back({Value::Varchar("lake"), Value::Varchar("sales"), Value::Varchar(name),
                          Value::Varchar("BASE TABLE")});
        }
        return rows;
      }));
  return system_tables_->Register(
      "information_schema.columns",
      schema_of({{"table_catalog", text}, {"table_schema", text}, {"table_name", text}, {"column_name", text},
                 {"ordinal_position", DataType::Int64()}, {"is_nullable", text}, {"data_type", text}}),
      [engine, table_names]() -> Result<sql::SystemTableRows> {
        SL_ASSIGN_OR_RETURN(auto names, table_names());
        sql::SystemTableRows rows;
        for (const auto& name : names) {
          auto shown = engine->Execute("SHOW COLUMNS FROM \"" + name + "\"");
          if (!shown.ok()) continue;  // dropped meanwhile
          int64_t position = 0;
          for (const Batch& b : shown->result.batches) {
            for (size_t r = 0; r < b.num_rows; ++r) {
              rows.push_back({Value::Varchar("lake"), Value::Varchar("sales"), Value::Varchar(name),
                              Value::Varchar(std::string(b.columns[0].GetValue<std::string_view>(r))),
                              Value::Int64(++position), Value::Varchar("YES"),
                              Value::Varchar(std::string(b.columns[1].GetValue<std::string_view>(r)))});
            }
          }
        }
        return rows;
      });
}

std::vector<WorkGroup> LakeSqlService::workgroups() const {
  MutexLock lock(settings_mu_);
  return workgroups_;
}

std::optional<WorkGroup> LakeSqlService::FindWorkGroup(const std::string& name) const {
  MutexLock lock(settings_mu_);
  for (const WorkGroup& w : workgroups_) {
    if (w.name == name) return w;
  }
  return std::nullopt;
}

Result<bool> LakeSqlService::LoadSettings(bool force) {
  auto info = context_.lake->Stat("pipeline.yaml");
  const int64_t stamp = info.ok() ? info->mtime_ns ^ static_cast<int64_t>(info->size) : 0;
  std::vector<WorkGroup> parsed = {WorkGroup{.name = "primary"}};
  {
    MutexLock lock(settings_mu_);
    if (!force && stamp == pipeline_stamp_) return false;
    pipeline_stamp_ = stamp;  // a refused file is reported once, not at every look
  }
  if (auto text = context_.lake->Get("pipeline.yaml"); text.ok()) {
    SL_ASSIGN_OR_RETURN(parsed, ParseWorkGroups(*text, context_.lake->uri() + "/pipeline.yaml"));
  }
  std::map<std::string, int> limits;
  for (const WorkGroup& w : parsed) {
    if (w.max_concurrent_queries > 0) limits[w.name] = w.max_concurrent_queries;
  }
  if (queries_) queries_->SetWorkgroupLimits(limits);
  MutexLock lock(settings_mu_);
  workgroups_ = std::move(parsed);
  return true;
}

void LakeSqlService::ReloadSettings(bool force) {
  auto loaded = LoadSettings(force);
  if (!loaded.ok()) {
    Log(LogLevel::kError, "lake-sql: pipeline.yaml refused; the previous workgroups stay",
        {{"error", loaded.status().message()}});
  } else if (*loaded) {
    Log(LogLevel::kInfo, "lake-sql: workgroups loaded", {{"workgroups", std::to_string(workgroups().size())}});
  }
}

void LakeSqlService::Reload() {
  {
    std::lock_guard lock(watch_mu_);
    reload_requested_ = true;
  }
  watch_cv_.notify_all();
}

// Looks at pipeline.yaml once a second (a stat) and at once on SIGHUP, on its own thread: the
// signal thread and request handlers never wait for a parse.
void LakeSqlService::Watch() {
  std::unique_lock lock(watch_mu_);
  while (!watch_stop_) {
    watch_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return watch_stop_ || reload_requested_; });
    if (watch_stop_) return;
    const bool force = std::exchange(reload_requested_, false);
    lock.unlock();
    ReloadSettings(force);
    lock.lock();
  }
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

Result<Principal> LakeSqlService::CheckBasic(const std::string& user, const std::string& password) const {
  if (!iam_) return Status::PermissionDenied("the lake has no IAM users");
  (void)iam_->MaybeReload();
  auth::Principal p;
  if (user.size() == 20 && (user.rfind("AKIA", 0) == 0 || user.rfind("ASIA", 0) == 0)) {
    const TimePoint now = iam_->clock().Now();
    auth::HttpRequestView view;
    view.method = "GET";
    view.raw_path = "/";
    view.headers = {{"host", "saleslake"}, {"x-amz-date", auth::FormatAmzDate(now)}};
    view.body = std::string_view();
    auth::sigv4::SignInput in;
    in.access_key_id = user;
    in.secret = password;
    in.region = region();
    in.service = "trino";
    in.amz_date = view.headers[1].second;
    in.signed_headers = {"host", "x-amz-date"};
    in.payload_hash = auth::sigv4::HexSha256("");
    SL_ASSIGN_OR_RETURN(std::string authorization, auth::sigv4::AuthorizationHeader(view, in));
    view.headers.emplace_back("authorization", authorization);
    auto verified = iam_->Verify(view, "trino", now);
    if (!verified.ok()) return Status::PermissionDenied("invalid access key id or secret");
    p = verified->principal;
  } else {
    auto checked = iam_->CheckPassword(user, password);
    if (!checked.ok()) return Status::PermissionDenied("invalid user name or password");
    p = *checked;
  }
  Principal out;
  out.arn = p.arn;
  out.user = p.user_name;
  out.access_key_id = p.access_key_id;
  out.account_id = p.account_id;
  out.user_id = p.user_id;
  return out;
}

}  // namespace saleslake::server::internal
