#include "server/internal/athena_api.h"

#include <fmt/format.h>

#include "common/json.h"
#include "common/logging.h"
#include "server/internal/aws_json.h"
#include "server/internal/util.h"

namespace saleslake::server::internal {

using nlohmann::json;

std::string AthenaTypeName(const DataType& type) {
  switch (type.id) {
    case TypeId::kBoolean: return "boolean";
    case TypeId::kInt32: return "integer";
    case TypeId::kInt64: return "bigint";
    case TypeId::kFloat: return "float";
    case TypeId::kDouble: return "double";
    case TypeId::kDecimal: return "decimal";
    case TypeId::kDate: return "date";
    case TypeId::kTimestamp: return "timestamp";
    case TypeId::kInterval: return "interval day to second";
    case TypeId::kNull:
    case TypeId::kVarchar: return "varchar";
  }
  return "varchar";
}

namespace {

constexpr const char* kTarget = "AmazonAthena.";
constexpr const char* kWorkGroup = "primary";
constexpr int64_t kMaxResultsPerPage = 1000;
// How long GetQueryExecution of a query that is still QUEUED or RUNNING waits for it to end
// before it answers with the current state: the bound of a Trino nextUri long-poll (1 s), so a
// client polling in a loop sends about one poll a second while a query runs (it was 50 ms: ~20
// signed polls a second, each made and verified on the cores the query runs on; a 600 ms query
// was polled ~12 times) and still learns of the end at once.
constexpr std::chrono::milliseconds kPollHold{1000};
// ResultReuseByAgeConfiguration.MaxAgeInMinutes: Athena's default and upper bound (7 days).
constexpr int64_t kDefaultReuseMinutes = 60;
constexpr int64_t kMaxReuseMinutes = 10080;
// QueryRequest::tags key under which the ResultReuseConfiguration a query was started with is
// kept, to be echoed by GetQueryExecution as Athena does.
constexpr const char* kReuseTag = "ResultReuseConfiguration";

int Precision(const DataType& t) {
  switch (t.id) {
    case TypeId::kBoolean: return 0;
    case TypeId::kInt32: return 10;
    case TypeId::kInt64: return 19;
    case TypeId::kFloat: return 17;
    case TypeId::kDouble: return 17;
    case TypeId::kDecimal: return t.precision;
    case TypeId::kDate: return 0;
    case TypeId::kTimestamp: return 3;
    default: return 2147483647;
  }
}

// A JSON string as nlohmann's dump(error_handler_t::replace) writes it: ASCII without control
// bytes other than \n \r \t (the common path, where AppendJsonString writes the same escapes)
// directly, anything else (UTF-8 to check, \b, \f) through nlohmann.
void AppendJsonText(std::string& out, std::string_view s) {
  bool plain = true;
  for (unsigned char c : s) {
    if (c >= 0x7f || (c < 0x20 && c != '\n' && c != '\r' && c != '\t')) {
      plain = false;
      break;
    }
  }
  if (plain) return AppendJsonString(out, s);
  out += json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

// ResultSetMetadata.ColumnInfo (a JSON array, keys in nlohmann's sorted order) of `schema`.
void AppendColumnInfoJson(std::string& out, const Schema& schema) {
  out += '[';
  bool first = true;
  for (const Field& f : schema.fields) {
    if (!first) out += ',';
    first = false;
    out += "{\"CaseSensitive\":";
    out += f.type.id == TypeId::kVarchar ? "true" : "false";
    out += ",\"CatalogName\":\"hive\",\"Label\":";
    AppendJsonText(out, f.name);
    out += ",\"Name\":";
    AppendJsonText(out, f.name);
    out += ",\"Nullable\":\"UNKNOWN\",\"Precision\":";
    out += std::to_string(Precision(f.type));
    out += ",\"Scale\":";
    out += std::to_string(f.type.id == TypeId::kDecimal ? f.type.scale : 0);
    out += ",\"SchemaName\":\"\",\"TableName\":\"\",\"Type\":";
    AppendJsonText(out, AthenaTypeName(f.type));
    out += '}';
  }
  out += ']';
}

class AthenaService final : public Service {
 public:
  AthenaService(const ServiceContext& context, LakeSqlService* sql) : context_(context), sql_(sql) {}
  std::string name() const override { return "athena"; }

  Status Register(Dispatcher& d) override {
    auto workgroup_arn = [this](const json& in) {
      std::string wg = StringField(in, "WorkGroup");
      return WorkGroupArn(wg.empty() ? kWorkGroup : wg);
    };
    auto any = [this](const json&) { return WorkGroupArn("*"); };
    Add(d, "StartQueryExecution", workgroup_arn, &AthenaService::StartQueryExecution);
    Add(d, "GetQueryExecution", any, &AthenaService::GetQueryExecution);
    Add(d, "BatchGetQueryExecution", any, &AthenaService::BatchGetQueryExecution);
    Add(d, "GetQueryResults", any, &AthenaService::GetQueryResults);
    Add(d, "StopQueryExecution", any, &AthenaService::StopQueryExecution);
    Add(d, "ListQueryExecutions", workgroup_arn, &AthenaService::ListQueryExecutions);
    Add(d, "ListWorkGroups", any, &AthenaService::ListWorkGroups);
    Add(d, "GetWorkGroup", workgroup_arn, &AthenaService::GetWorkGroup);
    Add(d, "ListDataCatalogs", any, &AthenaService::ListDataCatalogs);
    Add(d, "ListDatabases", any, &AthenaService::ListDatabases);
    return Status::OK();
  }

  Status Start() override {
    sql_->queries().SetSucceededListener([this](const QueryInfo& q) { WriteResultFile(q); });
    return Status::OK();
  }
  void Stop() override { sql_->queries().SetSucceededListener({}); }

 private:
  using Handler = Outcome (AthenaService::*)(const json&, const Principal&, const HttpRequest&);

  void Add(Dispatcher& d, const std::string& op, std::function<std::string(const json&)> resource,
           Handler handler) {
    AddMemberOperation(d, this, "athena", kTarget, op, std::move(resource), handler);
  }

  std::string WorkGroupArn(const std::string& wg) const {
    return "arn:aws:athena:" + sql_->region() + ":" + sql_->account_id() + ":workgroup/" + wg;
  }

  static ApiError Invalid(std::string message) { return JsonError("InvalidRequestException", std::move(message)); }

  // The query of `id` when it exists and was submitted through Athena's workgroups.
  Result<QueryInfo> Find(const json& in) const {
    std::string id = StringField(in, "QueryExecutionId");
    if (id.empty()) return Status::InvalidArgument("QueryExecutionId is required");
    auto info = sql_->queries().Get(id);
    if (!info.ok()) return Status::NotFound("QueryExecution " + id + " was not found");
    return info;
  }

  json Execution(const QueryInfo& q) const {
    // A query whose result file is still being written is RUNNING, as in Athena, where the file
    // exists once the query is SUCCEEDED (clients read it the moment they see that state).
    const QueryState state = q.listener_pending ? QueryState::kRunning : q.state;
    const bool finished = q.finished.has_value() && !q.listener_pending;
    json status = {{"State", QueryStateName(state)}, {"SubmissionDateTime", EpochSeconds(q.submitted)}};
    if (finished) status["CompletionDateTime"] = EpochSeconds(*q.finished);
    if (q.state == QueryState::kFailed || q.state == QueryState::kCancelled) {
      status["StateChangeReason"] = q.error;
      if (q.state == QueryState::kFailed) {
        const bool user = q.error_code == StatusCode::kInvalidArgument || q.error_code == StatusCode::kNotFound;
        status["AthenaError"] = {{"ErrorCategory", user ? 2 : 1},
                                 {"ErrorType", user ? 1006 : 1001},
                                 {"Retryable", !user},
                                 {"ErrorMessage", q.error}};
      }
    }
    auto ms = [](TimePoint a, TimePoint b) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
    };
    json stats = {{"DataScannedInBytes", q.bytes_scanned},
                  {"ResultReuseInformation", {{"ReusedPreviousResult", !q.reused_from.empty()}}}};
    if (q.started) stats["QueryQueueTimeInMillis"] = ms(q.submitted, *q.started);
    if (q.started && finished) stats["EngineExecutionTimeInMillis"] = ms(*q.started, *q.finished);
    if (finished) stats["TotalExecutionTimeInMillis"] = ms(q.submitted, *q.finished);
    std::string statement = q.has_rows ? "DML" : "DDL";
    // A reused result points at the file of the query that computed it, as Athena's does.
    const std::string& result_id = q.reused_from.empty() ? q.id : q.reused_from;
    json reuse = {{"ResultReuseByAgeConfiguration", {{"Enabled", false}}}};
    if (auto tag = q.request.tags.find(kReuseTag); tag != q.request.tags.end()) {
      reuse = json::parse(tag->second, nullptr, false);
    }
    return {{"QueryExecutionId", q.id},
            {"Query", q.request.sql},
            {"StatementType", statement},
            {"ResultConfiguration",
             {{"OutputLocation", "s3://" + context_.options->bucket + "/athena_results/" + result_id + ".csv"}}},
            {"ResultReuseConfiguration", reuse},
            {"QueryExecutionContext", {{"Database", q.request.database}, {"Catalog", "AwsDataCatalog"}}},
            {"Status", status},
            {"Statistics", stats},
            {"WorkGroup", q.request.workgroup},
            {"EngineVersion",
             {{"SelectedEngineVersion", "AUTO"}, {"EffectiveEngineVersion", "Athena engine version 3"}}}};
  }

  Outcome StartQueryExecution(const json& in, const Principal& p, const HttpRequest& r) {
    std::string sql = StringField(in, "QueryString");
    if (sql.empty()) return Invalid("QueryString is required");
    std::string wg = StringField(in, "WorkGroup");
    if (wg.empty()) wg = kWorkGroup;
    const std::optional<WorkGroup> group = sql_->FindWorkGroup(wg);
    if (!group) return Invalid("WorkGroup " + wg + " is not found.");
    QueryRequest req{.sql = sql, .user = p.arn.empty() ? "anonymous" : p.arn, .workgroup = wg, .source = "athena"};
    req.announce = true;  // its result file is written before it is reported SUCCEEDED
    req.max_bytes_scanned = group->bytes_scanned_cutoff_per_query;
    req.time_limit = std::chrono::seconds(group->query_time_limit_seconds);
    if (auto ctx = in.find("QueryExecutionContext"); ctx != in.end() && ctx->is_object()) {
      std::string db = StringField(*ctx, "Database");
      if (!db.empty()) req.database = db;
    }
    if (auto reuse = in.find("ResultReuseConfiguration"); reuse != in.end()) {
      auto parsed = ReuseConfiguration(*reuse, &req);
      if (!parsed.ok()) return Invalid(parsed.message());
    }
    if (!sql_->MayReadPii(p, r)) req.redact_columns = sql_->PiiColumns();
    auto id = sql_->queries().Submit(std::move(req));
    if (!id.ok()) {
      if (id.status().code() == StatusCode::kResourceExhausted) {
        return JsonError("TooManyRequestsException", id.status().message());
      }
      return Invalid(id.status().message());
    }
    return JsonOk({{"QueryExecutionId", *id}});
  }

  // ResultReuseConfiguration {ResultReuseByAgeConfiguration {Enabled, MaxAgeInMinutes}} into
  // the request's reuse_max_age (when Enabled; 60 minutes unless given) and its echo tag.
  static Status ReuseConfiguration(const json& reuse, QueryRequest* req) {
    if (!reuse.is_object()) return Status::InvalidArgument("ResultReuseConfiguration must be an object");
    auto by_age = reuse.find("ResultReuseByAgeConfiguration");
    if (by_age == reuse.end()) return Status::OK();
    if (!by_age->is_object()) return Status::InvalidArgument("ResultReuseByAgeConfiguration must be an object");
    auto enabled = by_age->find("Enabled");
    if (enabled == by_age->end() || !enabled->is_boolean()) {
      return Status::InvalidArgument("ResultReuseByAgeConfiguration.Enabled is required and must be a boolean");
    }
    auto max = IntField(*by_age, "MaxAgeInMinutes");
    if (!max.ok()) return max.status();
    const int64_t minutes = max->value_or(kDefaultReuseMinutes);
    if (minutes < 0 || minutes > kMaxReuseMinutes) {
      return Status::InvalidArgument(fmt::format("MaxAgeInMinutes must be between 0 and {} (got {})",
                                                 kMaxReuseMinutes, minutes));
    }
    json echo = {{"Enabled", enabled->get<bool>()}};
    if (*max) echo["MaxAgeInMinutes"] = minutes;
    req->tags[kReuseTag] = json{{"ResultReuseByAgeConfiguration", echo}}.dump();
    if (enabled->get<bool>()) req->reuse_max_age = std::chrono::minutes(minutes);
    return Status::OK();
  }

  Outcome GetQueryExecution(const json& in, const Principal&, const HttpRequest&) {
    auto q = Find(in);
    if (!q.ok()) return Invalid(q.status().message());
    if (!IsFinal(q->state) || q->listener_pending) {
      // Held until the query ends, for at most kPollHold: a client polling in a loop learns of
      // the end at once instead of at its next poll, and sends (and the server verifies) a
      // fraction of the requests. Polls every few ms took CPU from the query being waited for.
      auto waited = sql_->queries().Wait(q->id, kPollHold);
      if (waited.ok()) q = std::move(waited);
    }
    return JsonOk({{"QueryExecution", Execution(*q)}});
  }

  Outcome BatchGetQueryExecution(const json& in, const Principal&, const HttpRequest&) {
    auto ids = in.find("QueryExecutionIds");
    if (ids == in.end() || !ids->is_array() || ids->empty() || ids->size() > 50) {
      return Invalid("QueryExecutionIds must list 1 to 50 ids");
    }
    json found = json::array(), missing = json::array();
    for (const json& id : *ids) {
      if (!id.is_string()) return Invalid("QueryExecutionIds must be strings");
      auto q = sql_->queries().Get(id.get<std::string>());
      if (q.ok()) {
        found.push_back(Execution(*q));
      } else {
        missing.push_back({{"QueryExecutionId", id}, {"ErrorCode", "INVALID_INPUT"},
                           {"ErrorMessage", "QueryExecution " + id.get<std::string>() + " was not found"}});
      }
    }
    return JsonOk({{"QueryExecutions", found}, {"UnprocessedQueryExecutionIds", missing}});
  }

  Outcome GetQueryResults(const json& in, const Principal&, const HttpRequest&) {
    auto q = Find(in);
    if (!q.ok()) return Invalid(q.status().message());
    auto max = IntField(in, "MaxResults");
    if (!max.ok()) return Invalid(max.status().message());
    const int64_t max_results = max->value_or(kMaxResultsPerPage);
    if (max_results < 1 || max_results > kMaxResultsPerPage) {
      return Invalid(fmt::format("MaxResults must be between 1 and {} (got {})", kMaxResultsPerPage, max_results));
    }
    if (q->state == QueryState::kFailed || q->state == QueryState::kCancelled) {
      return Invalid(fmt::format("Query has not succeeded: {}. {}", QueryStateName(q->state), q->error));
    }
    if (q->state != QueryState::kSucceeded) {
      return Invalid(fmt::format("Query has not yet finished. Current state: {}", QueryStateName(q->state)));
    }
    uint64_t offset = 0;
    std::string token = StringField(in, "NextToken");
    if (!token.empty()) {
      auto parsed = ParsePageToken(token, q->id);
      if (!parsed) return Invalid("The NextToken is not valid for this query");
      offset = *parsed;
    }
    // Athena puts the column names in the first row of the first page, as a row of its own.
    const bool header = offset == 0 && q->has_rows;
    auto page = sql_->queries().Fetch(q->id, offset, static_cast<size_t>(max_results - (header ? 1 : 0)));
    if (!page.ok()) return Invalid(page.status().message());
    std::optional<std::string> next;
    if (!page->complete) next = PageToken(q->id, offset + page->rows.size());
    HttpResponse r;
    r.Set("Content-Type", "application/x-amz-json-1.1");
    r.body = QueryResultsJson(*page, header, next);
    return r;
  }

  // ResultSetMetadata.ColumnInfo as a tree, for the result file's .metadata: the text
  // GetQueryResults writes (AppendColumnInfoJson), so the two never differ.
  static json ColumnInfo(const Schema& schema) {
    std::string text;
    AppendColumnInfoJson(text, schema);
    return json::parse(text);
  }

  // Athena's result file: athena_results/<id>.csv in the lake (so `aws s3 cp` reads it), every
  // value in double quotes, NULL as an empty field, the header first; beside it <id>.csv.metadata
  // with the ColumnInfo (JSON here; Athena's own is binary). Written on the runner's thread when
  // an Athena query succeeds, paged from the query manager so a large result is never whole in
  // memory. A failure is logged: the rows stay readable through GetQueryResults.
  // Both files are written unsynced (OpenWriteUnsynced): each appears atomically and exists when
  // SUCCEEDED is reported, and survives the server being killed, but is not made durable against
  // a crash of the machine. A result file is derived data, made again by rerunning its query,
  // and the query history that names it lives in the server's memory (gone after any restart);
  // the fsyncs of the CSV, its folder and the .metadata were 1-3 ms of every Athena query's
  // time, spent before SUCCEEDED.
  void WriteResultFile(const QueryInfo& q) {
    // A reused result's file is its source's (Execution names that one).
    if (!q.has_rows || !q.reused_from.empty()) return;
    const std::string key = "athena_results/" + q.id + ".csv";
    auto written = [&]() -> Status {
      SL_ASSIGN_OR_RETURN(auto out, context_.lake->OpenWriteUnsynced(key));
      auto quoted = [](std::string* line, std::string_view v) {
        line->push_back('"');
        for (char c : v) {
          if (c == '"') line->push_back('"');
          line->push_back(c);
        }
        line->push_back('"');
      };
      std::string text;
      for (size_t c = 0; c < q.schema.size(); ++c) {
        if (c) text.push_back(',');
        quoted(&text, q.schema[c].name);
      }
      text.push_back('\n');
      for (uint64_t offset = 0;;) {
        SL_ASSIGN_OR_RETURN(ResultPage page, sql_->queries().Fetch(q.id, offset, 4096));
        for (const auto& row : page.rows) {
          for (size_t c = 0; c < row.size(); ++c) {
            if (c) text.push_back(',');
            if (row[c]) quoted(&text, *row[c]);
          }
          text.push_back('\n');
        }
        SL_RETURN_IF_ERROR(out->Append(text));
        text.clear();
        offset += page.rows.size();
        if (page.complete || page.rows.empty()) break;
      }
      SL_RETURN_IF_ERROR(out->Commit());
      json meta = {{"QueryExecutionId", q.id}, {"ColumnInfo", ColumnInfo(q.schema)}, {"RowCount", q.rows}};
      SL_ASSIGN_OR_RETURN(auto meta_out, context_.lake->OpenWriteUnsynced(key + ".metadata"));
      SL_RETURN_IF_ERROR(meta_out->Append(meta.dump()));
      return meta_out->Commit();
    }();
    if (!written.ok()) {
      Log(LogLevel::kWarn, "athena: result file not written", {{"key", key}, {"error", written.ToString()}});
    }
  }

  Outcome StopQueryExecution(const json& in, const Principal&, const HttpRequest&) {
    auto q = Find(in);
    if (!q.ok()) return Invalid(q.status().message());
    Status s = sql_->queries().Cancel(q->id);
    if (!s.ok()) return Invalid(s.message());
    return JsonOk(json::object());
  }

  Outcome ListQueryExecutions(const json& in, const Principal&, const HttpRequest&) {
    std::string wg = StringField(in, "WorkGroup");
    if (wg.empty()) wg = kWorkGroup;
    auto max = IntField(in, "MaxResults");
    if (!max.ok()) return Invalid(max.status().message());
    const int64_t max_results = max->value_or(50);
    if (max_results < 0 || max_results > 50) return Invalid("MaxResults must be between 0 and 50");
    uint64_t offset = 0;
    if (std::string token = StringField(in, "NextToken"); !token.empty()) {
      auto parsed = ParsePageToken(token, "list:" + wg);
      if (!parsed) return Invalid("The NextToken is not valid");
      offset = *parsed;
    }
    std::vector<QueryInfo> all = sql_->queries().List(wg);
    json ids = json::array();
    for (uint64_t i = offset; i < all.size() && ids.size() < static_cast<size_t>(max_results); ++i) {
      ids.push_back(all[i].id);
    }
    json out = {{"QueryExecutionIds", ids}};
    if (offset + ids.size() < all.size()) out["NextToken"] = PageToken("list:" + wg, offset + ids.size());
    return JsonOk(out);
  }

  static json WorkGroupSummary(const WorkGroup& group) {
    return {{"Name", group.name}, {"State", "ENABLED"},
            {"Description", group.name == kWorkGroup ? "The lake's workgroup" : "From pipeline.yaml"},
            {"CreationTime", 0.0},
            {"EngineVersion", {{"SelectedEngineVersion", "AUTO"}, {"EffectiveEngineVersion", "Athena engine version 3"}}}};
  }

  Outcome ListWorkGroups(const json&, const Principal&, const HttpRequest&) {
    json list = json::array();
    for (const WorkGroup& w : sql_->workgroups()) list.push_back(WorkGroupSummary(w));
    return JsonOk({{"WorkGroups", list}});
  }

  Outcome GetWorkGroup(const json& in, const Principal&, const HttpRequest&) {
    std::string wg = StringField(in, "WorkGroup");
    const std::optional<WorkGroup> group = sql_->FindWorkGroup(wg);
    if (!group) return Invalid("WorkGroup " + wg + " is not found.");
    json w = WorkGroupSummary(*group);
    w["Configuration"] = {
        {"ResultConfiguration", {{"OutputLocation", "s3://" + context_.options->bucket + "/athena_results/"}}},
        {"EnforceWorkGroupConfiguration", false},
        {"PublishCloudWatchMetricsEnabled", false},
        {"RequesterPaysEnabled", false},
        {"EngineVersion", w["EngineVersion"]}};
    if (group->bytes_scanned_cutoff_per_query > 0) {
      w["Configuration"]["BytesScannedCutoffPerQuery"] = group->bytes_scanned_cutoff_per_query;
    }
    return JsonOk({{"WorkGroup", w}});
  }

  Outcome ListDataCatalogs(const json&, const Principal&, const HttpRequest&) {
    return JsonOk({{"DataCatalogsSummary", json::array({{{"CatalogName", "AwsDataCatalog"}, {"Type", "GLUE"}}})}});
  }

  Outcome ListDatabases(const json&, const Principal&, const HttpRequest&) {
    return JsonOk({{"DatabaseList", json::array({{{"Name", "sales"}, {"Description", "The lake's tables"}}})}});
  }

  ServiceContext context_;
  LakeSqlService* sql_;
};

}  // namespace

std::string QueryResultsJson(const ResultPage& page, bool header, const std::optional<std::string>& next_token) {
  // Keys in the order nlohmann's (sorted) objects print them.
  std::string out;
  size_t cells = 0;
  for (const auto& row : page.rows) {
    for (const auto& cell : row) cells += 20 + (cell ? cell->size() : 0);
  }
  out.reserve(256 + cells + page.schema.fields.size() * 200);
  if (next_token) {
    out += "{\"NextToken\":";
    AppendJsonText(out, *next_token);
    out += ",\"ResultSet\":{\"ResultSetMetadata\":{\"ColumnInfo\":";
  } else {
    out += "{\"ResultSet\":{\"ResultSetMetadata\":{\"ColumnInfo\":";
  }
  AppendColumnInfoJson(out, page.schema);
  out += "},\"Rows\":[";
  bool first = true;
  if (header) {
    out += "{\"Data\":[";
    for (size_t c = 0; c < page.schema.fields.size(); ++c) {
      if (c) out += ',';
      out += "{\"VarCharValue\":";
      AppendJsonText(out, page.schema.fields[c].name);
      out += '}';
    }
    out += "]}";
    first = false;
  }
  for (const auto& row : page.rows) {
    if (!first) out += ',';
    first = false;
    out += "{\"Data\":[";
    for (size_t c = 0; c < row.size(); ++c) {
      if (c) out += ',';
      if (row[c]) {
        out += "{\"VarCharValue\":";
        AppendJsonText(out, *row[c]);
        out += '}';
      } else {
        out += "{}";
      }
    }
    out += "]}";
  }
  out += "]},\"UpdateCount\":0}";
  return out;
}

std::unique_ptr<Service> MakeAthenaService(const ServiceContext& context, LakeSqlService* sql) {
  return std::make_unique<AthenaService>(context, sql);
}

}  // namespace saleslake::server::internal
