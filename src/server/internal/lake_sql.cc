#include "server/internal/lake_sql.h"

#include <filesystem>

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
  // Large results spool next to the lake (the temp directory may be a RAM disk). The files are
  // unlinked as soon as they are made, so the folder stays empty.
  const std::string spool_dir = context_.lake->root() + "/_system/query_spool";
  std::error_code ec;
  std::filesystem::create_directories(spool_dir, ec);
  if (ec) return Status::IOError("cannot create " + spool_dir + ": " + ec.message());
  SL_ASSIGN_OR_RETURN(queries_, QueryManager::Create(engine_.get(), {.max_running = 2,
                                                                    .spool_dir = spool_dir,
                                                                    .clock = context_.clock}));
  SL_RETURN_IF_ERROR(RegisterQueryHistory());
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
  system_tables_->Unregister("queries");
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
  return system_tables_->Register("queries", std::move(schema), [queries, clock]() -> Result<sql::SystemTableRows> {
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
