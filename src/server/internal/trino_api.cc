#include "server/internal/trino_api.h"

#include <algorithm>
#include <map>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/thread_annotations.h"
#include "server/internal/trino_session.h"
#include "server/internal/util.h"

namespace saleslake::server::internal {

using nlohmann::json;

TrinoError ClassifyTrinoError(StatusCode code, const std::string& message) {
  auto has = [&](const char* s) { return message.find(s) != std::string::npos; };
  switch (code) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
      // The protocol layer's own errors (trino_session.h).
      if (has("Incorrect number of parameters")) return {"GENERIC_USER_ERROR", 0, "USER_ERROR"};
      if (has("Prepared statement not found")) return {"NOT_FOUND", 5, "USER_ERROR"};
      if (has("session property")) return {"INVALID_SESSION_PROPERTY", 14, "USER_ERROR"};
      if (has("column '") && has("not found")) return {"COLUMN_NOT_FOUND", 47, "USER_ERROR"};
      if (has("table '") && has("not found")) return {"TABLE_NOT_FOUND", 46, "USER_ERROR"};
      if (has("function '") && has("not found")) return {"FUNCTION_NOT_FOUND", 6, "USER_ERROR"};
      if (has("does not exist")) return {"TYPE_MISMATCH", 58, "USER_ERROR"};
      if (has("expected") || has("unexpected") || has("syntax")) return {"SYNTAX_ERROR", 1, "USER_ERROR"};
      return {"GENERIC_USER_ERROR", 0, "USER_ERROR"};
    case StatusCode::kNotImplemented: return {"NOT_SUPPORTED", 13, "USER_ERROR"};
    case StatusCode::kPermissionDenied: return {"PERMISSION_DENIED", 4, "USER_ERROR"};
    case StatusCode::kCancelled:
      if (has("time") || has("deadline")) return {"EXCEEDED_TIME_LIMIT", 131075, "INSUFFICIENT_RESOURCES"};
      return {"USER_CANCELED", 3, "USER_ERROR"};
    case StatusCode::kResourceExhausted:
      return {"EXCEEDED_LOCAL_MEMORY_LIMIT", 131079, "INSUFFICIENT_RESOURCES"};
    default: return {"GENERIC_INTERNAL_ERROR", 65536, "INTERNAL_ERROR"};
  }
}

namespace {

constexpr size_t kMaxPageRows = 16384;
constexpr size_t kMaxPageBytes = 1 << 20;
constexpr auto kLongPoll = std::chrono::milliseconds(1000);

json LongArg(int64_t v) { return {{"kind", "LONG"}, {"value", v}}; }

// The column's type as Trino writes it: the name and its signature.
json Column(const Field& f) {
  std::string raw, full;
  json args = json::array();
  switch (f.type.id) {
    case TypeId::kBoolean: raw = "boolean"; break;
    case TypeId::kInt32: raw = "integer"; break;
    case TypeId::kInt64: raw = "bigint"; break;
    case TypeId::kFloat: raw = "real"; break;
    case TypeId::kDouble: raw = "double"; break;
    case TypeId::kDecimal:
      raw = "decimal";
      full = fmt::format("decimal({},{})", f.type.precision, f.type.scale);
      args = {LongArg(f.type.precision), LongArg(f.type.scale)};
      break;
    case TypeId::kDate: raw = "date"; break;
    case TypeId::kTimestamp:
      raw = "timestamp";
      full = "timestamp(6)";
      args = {LongArg(6)};
      break;
    case TypeId::kInterval: raw = "interval day to second"; break;
    case TypeId::kNull:
    case TypeId::kVarchar:
      raw = "varchar";
      args = {LongArg(2147483647)};
      break;
  }
  return {{"name", f.name}, {"type", full.empty() ? raw : full},
          {"typeSignature", {{"rawType", raw}, {"arguments", args}}}};
}

json Stats(const QueryInfo& q, uint64_t rows_sent) {
  std::string state;
  switch (q.state) {
    case QueryState::kQueued: state = "QUEUED"; break;
    case QueryState::kRunning: state = "RUNNING"; break;
    case QueryState::kSucceeded: state = "FINISHED"; break;
    case QueryState::kFailed:
    case QueryState::kCancelled: state = "FAILED"; break;
  }
  int64_t elapsed = 0;
  if (q.finished) elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(*q.finished - q.submitted).count();
  return {{"state", state},
          {"queued", q.state == QueryState::kQueued},
          {"scheduled", q.state != QueryState::kQueued},
          {"nodes", 1},
          {"totalSplits", 1},
          {"queuedSplits", q.state == QueryState::kQueued ? 1 : 0},
          {"runningSplits", q.state == QueryState::kRunning ? 1 : 0},
          {"completedSplits", IsFinal(q.state) ? 1 : 0},
          {"cpuTimeMillis", elapsed},
          {"wallTimeMillis", elapsed},
          {"queuedTimeMillis", 0},
          {"elapsedTimeMillis", elapsed},
          {"processedRows", rows_sent},
          {"processedBytes", q.bytes_scanned},
          {"physicalInputBytes", q.bytes_scanned},
          {"peakMemoryBytes", q.result_bytes},
          {"spilledBytes", 0},
          {"progressPercentage", IsFinal(q.state) ? 100.0 : 0.0}};
}

class TrinoService final : public Service {
 public:
  TrinoService(const ServiceContext& context, LakeSqlService* sql) : context_(context), sql_(sql) {}
  std::string name() const override { return "trino"; }

  Status Register(Dispatcher& d) override {
    d.AddRoute("/v1/statement", HttpRoute{"trino", [this](HttpRequest& r, RequestNote* note) { return Handle(r, note); }});
    d.AddRoute("/v1/info", HttpRoute{"trino", [this](HttpRequest& r, RequestNote* note) { return Info(r, note); }});
    d.AddRoute("/v1/query/", HttpRoute{"trino", [this](HttpRequest& r, RequestNote* note) { return KillQuery(r, note); }});
    return Status::OK();
  }

 private:
  static HttpResponse JsonResponse(int status, const json& body) {
    HttpResponse r;
    r.status = status;
    r.Set("Content-Type", "application/json");
    r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    return r;
  }

  static HttpResponse Plain(int status, std::string text) {
    HttpResponse r;
    r.status = status;
    r.Set("Content-Type", "text/plain");
    r.body = std::move(text) + "\n";
    return r;
  }

  // The caller: HTTP Basic (access key id + secret, or user + console password), else the
  // server's gate (a SigV4 signature, or anyone under --no-auth). nullopt with `*refusal` set
  // when refused.
  std::optional<Principal> Authenticate(HttpRequest& r, HttpResponse* refusal) {
    const std::string* authz = r.Header("authorization");
    if (authz && authz->rfind("Basic ", 0) == 0) {
      auto decoded = Base64Decode(std::string_view(*authz).substr(6));
      size_t colon = decoded ? decoded->find(':') : std::string::npos;
      if (colon == std::string::npos) {
        *refusal = Plain(401, "Malformed basic credentials");
        return std::nullopt;
      }
      auto p = sql_->CheckBasic(decoded->substr(0, colon), decoded->substr(colon + 1));
      if (!p.ok()) {
        *refusal = Plain(401, p.status().message());
        refusal->Set("WWW-Authenticate", "Basic realm=\"saleslake\"");
        return std::nullopt;
      }
      return *p;
    }
    Principal p;
    if (auto err = context_.gate->Authenticate(r, &p)) {
      *refusal = Plain(401, err->message.empty() ? err->code : err->message);
      refusal->Set("WWW-Authenticate", "Basic realm=\"saleslake\"");
      return std::nullopt;
    }
    if (p.user.empty() && !context_.gate->open()) {
      *refusal = Plain(401, "Authentication required: HTTP Basic with an access key id and its secret");
      refusal->Set("WWW-Authenticate", "Basic realm=\"saleslake\"");
      return std::nullopt;
    }
    return p;
  }

  std::string BaseUri(const HttpRequest& r) const {
    return std::string(r.secure ? "https" : "http") + "://" + r.HeaderOr("host", "localhost");
  }

  static std::string HeaderEither(const HttpRequest& r, const char* trino, const char* presto) {
    std::string v = r.HeaderOr(trino);
    return v.empty() ? r.HeaderOr(presto) : v;
  }

  HttpResponse Info(HttpRequest& r, RequestNote* note) {
    note->operation = "Info";
    if (r.method != "GET") return Plain(405, "Method not allowed");
    return JsonResponse(200, {{"nodeVersion", {{"version", "saleslake"}}}, {"environment", "saleslake"},
                              {"coordinator", true}, {"starting", false}, {"uptime", "1.00m"}});
  }

  HttpResponse Handle(HttpRequest& r, RequestNote* note) {
    HttpResponse refusal;
    auto principal = Authenticate(r, &refusal);
    if (!principal) {
      note->error_code = "Unauthorized";
      return refusal;
    }
    note->principal = principal->arn;
    if (r.raw_path == "/v1/statement" || r.raw_path == "/v1/statement/") {
      note->operation = "StartQuery";
      if (r.method != "POST") return Plain(405, "Method not allowed");
      return Submit(r, *principal, note);
    }
    static constexpr std::string_view kLocal = "/v1/statement/local/";
    if (r.raw_path.starts_with(kLocal)) {
      note->operation = r.method == "DELETE" ? "CancelQuery" : "FetchResults";
      if (r.method != "GET" && r.method != "DELETE") return Plain(405, "Method not allowed");
      return LocalAnswerOf(r, *principal, r.raw_path.substr(kLocal.size()));
    }
    // /v1/statement/executing/<id>/<offset>
    static const std::regex kPath("^/v1/statement/(?:executing|queued)/([0-9a-f-]{36})/([0-9]{1,18})$");
    std::smatch m;
    if (!std::regex_match(r.raw_path, m, kPath)) return Plain(404, "Unknown statement URI");
    const std::string id = m[1];
    const uint64_t offset = std::stoull(m[2]);
    auto q = sql_->queries().Get(id);
    if (!q.ok() || q->request.user != UserOf(*principal)) return Plain(404, "Query not found: " + id);
    if (r.method == "DELETE") {
      note->operation = "CancelQuery";
      (void)sql_->queries().Cancel(id);
      HttpResponse done;
      done.status = 204;
      return done;
    }
    if (r.method != "GET") return Plain(405, "Method not allowed");
    note->operation = "FetchResults";
    return Page(r, id, offset);
  }

  static std::string UserOf(const Principal& p) { return p.arn.empty() ? "anonymous" : p.arn; }

  HttpResponse Submit(HttpRequest& r, const Principal& principal, RequestNote* note) {
    std::string workgroup_arn = "arn:aws:athena:" + sql_->region() + ":" + sql_->account_id() + ":workgroup/primary";
    if (auto denied = context_.gate->Authorize(principal, "athena:StartQueryExecution", workgroup_arn, r, {})) {
      note->error_code = denied->code;
      return Plain(403, "Access Denied: athena:StartQueryExecution");
    }
    if (HeaderEither(r, "x-trino-user", "x-presto-user").empty()) {
      return Plain(400, "User must be set (X-Trino-User)");
    }
    // The client's session properties and prepared statements travel with every request.
    auto session = ParseTrinoPairs(HeaderEither(r, "x-trino-session", "x-presto-session"));
    Result<std::chrono::milliseconds> time_limit =
        session.ok() ? TrinoSessionTimeLimit(*session) : Result<std::chrono::milliseconds>(session.status());
    if (!time_limit.ok()) return Refused(r, principal, StatusCode::kInvalidArgument, time_limit.status().message());
    auto prepared = ParseTrinoPairs(HeaderEither(r, "x-trino-prepared-statement", "x-presto-prepared-statement"));
    if (!prepared.ok()) {
      return Refused(r, principal, StatusCode::kInvalidArgument, "X-Trino-Prepared-Statement: " + prepared.status().message());
    }
    auto local = TrinoSessionStatementOf(r.body);
    if (!local.ok()) return Refused(r, principal, local.status().code(), local.status().message());
    if (*local) return SessionAnswer(r, principal, **local);
    auto executed = ExpandTrinoExecute(r.body, *prepared);
    if (!executed.ok()) return Refused(r, principal, executed.status().code(), executed.status().message());
    QueryRequest req{.sql = *executed ? **executed : r.body, .user = UserOf(principal), .workgroup = "primary",
                     .source = "trino"};
    req.time_limit = *time_limit;
    std::string catalog = HeaderEither(r, "x-trino-catalog", "x-presto-catalog");
    std::string schema = HeaderEither(r, "x-trino-schema", "x-presto-schema");
    if (!catalog.empty()) req.catalog = catalog;
    if (!schema.empty()) req.database = schema;
    if (!sql_->MayReadPii(principal, r)) req.redact_columns = sql_->PiiColumns();
    auto id = sql_->queries().Submit(std::move(req));
    if (!id.ok()) {
      if (id.status().code() == StatusCode::kResourceExhausted) return Plain(503, id.status().message());
      return Refused(r, principal, id.status().code(), id.status().message());
    }
    auto info = sql_->queries().Get(*id);
    json body = {{"id", *id},
                 {"infoUri", BaseUri(r) + "/ui/query.html?" + *id},
                 {"nextUri", BaseUri(r) + "/v1/statement/queued/" + *id + "/0"},
                 {"stats", Stats(info.ok() ? *info : QueryInfo{}, 0)},
                 {"warnings", json::array()}};
    return JsonResponse(200, body);
  }

  // Answers made without the query manager: statements refused before they became a query, and
  // session statements (trino_session.h). As for every query, the POST answers QUEUED with a
  // nextUri, and the GET of it returns the final answer once: clients read results (and
  // trino-client reads errors) only from the nextUri. The session statement's change rides on
  // that final answer's headers, as Trino sends it.
  HttpResponse Deferred(const HttpRequest& r, const Principal& p, json final_body,
                        const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    const std::string id = RandomHex(8);
    const std::string base = BaseUri(r);
    final_body["id"] = id;
    final_body["infoUri"] = base + "/ui/query.html?" + id;
    HttpResponse answer = JsonResponse(200, final_body);
    for (const auto& [name, value] : headers) answer.Set(name, value);
    {
      MutexLock lock(local_mu_);
      if (local_.size() >= kMaxLocalAnswers) local_.erase(local_.begin());  // never fetched
      local_[id] = LocalAnswer{UserOf(p), std::move(answer)};
    }
    return JsonResponse(200, {{"id", id},
                              {"infoUri", base + "/ui/query.html?" + id},
                              {"nextUri", base + "/v1/statement/local/" + id},
                              {"stats", Stats(QueryInfo{}, 0)},
                              {"warnings", json::array()}});
  }

  HttpResponse Refused(const HttpRequest& r, const Principal& p, StatusCode code, const std::string& message) {
    return Deferred(r, p, ErrorBody("", code, message, BaseUri(r), QueryInfo{}));
  }

  HttpResponse SessionAnswer(const HttpRequest& r, const Principal& p, const TrinoSessionStatement& s) {
    QueryInfo done;
    done.state = QueryState::kSucceeded;
    return Deferred(r, p, {{"updateType", s.update_type}, {"stats", Stats(done, 0)}, {"warnings", json::array()}},
                    s.headers);
  }

  // GET (or DELETE) /v1/statement/local/<id>: the deferred answer, once.
  HttpResponse LocalAnswerOf(const HttpRequest& r, const Principal& p, const std::string& id) {
    MutexLock lock(local_mu_);
    auto it = local_.find(id);
    if (it == local_.end() || it->second.user != UserOf(p)) return Plain(404, "Query not found: " + id);
    HttpResponse answer = std::move(it->second.response);
    local_.erase(it);
    if (r.method == "DELETE") {
      HttpResponse done;
      done.status = 204;
      return done;
    }
    return answer;
  }

  static json ErrorBody(const std::string& id, StatusCode code, const std::string& message,
                        const std::string& base, const QueryInfo& q) {
    TrinoError e = ClassifyTrinoError(code, message);
    json error = {{"message", message}, {"errorCode", e.code}, {"errorName", e.name}, {"errorType", e.type},
                  {"failureInfo", {{"type", std::string("io.trino.spi.TrinoException")}, {"message", message},
                                   {"suppressed", json::array()}, {"stack", json::array()}}}};
    static const std::regex kPos("line (\\d+):(\\d+)");
    std::smatch m;
    if (std::regex_search(message, m, kPos)) {
      json loc = {{"lineNumber", std::stoi(m[1])}, {"columnNumber", std::stoi(m[2])}};
      error["errorLocation"] = loc;
      error["failureInfo"]["errorLocation"] = loc;
    }
    json stats = Stats(q, 0);
    stats["state"] = "FAILED";
    return {{"id", id}, {"infoUri", base + "/ui/query.html?" + id}, {"stats", stats}, {"error", error},
            {"warnings", json::array()}};
  }

  HttpResponse Page(HttpRequest& r, const std::string& id, uint64_t offset) {
    const std::string base = BaseUri(r);
    // Long-poll: until the query is final or has rows past `offset`, at most kLongPoll.
    auto deadline = std::chrono::steady_clock::now() + kLongPoll;
    Result<QueryInfo> q = sql_->queries().Get(id);
    while (q.ok() && !IsFinal(q->state) && q->rows <= offset && std::chrono::steady_clock::now() < deadline) {
      q = sql_->queries().Wait(id, std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::min<std::chrono::steady_clock::duration>(
                                           deadline - std::chrono::steady_clock::now(), std::chrono::milliseconds(100))));
    }
    if (!q.ok()) return Plain(404, "Query not found: " + id);
    if (q->state == QueryState::kFailed || q->state == QueryState::kCancelled) {
      return JsonResponse(200, ErrorBody(id, q->error_code, q->error, base, *q));
    }
    json body = {{"id", id}, {"infoUri", base + "/ui/query.html?" + id}, {"warnings", json::array()}};
    const std::string next = base + "/v1/statement/executing/" + id + "/";
    if (q->state == QueryState::kQueued || (q->state == QueryState::kRunning && q->schema.size() == 0)) {
      body["nextUri"] = next + std::to_string(offset);
      body["stats"] = Stats(*q, offset);
      return JsonResponse(200, body);
    }
    json columns = json::array();
    for (const Field& f : q->schema.fields) columns.push_back(Column(f));
    if (!q->has_rows) {
      // A statement without rows: Trino answers with its update type and no columns.
      body["updateType"] = q->message;
      body["stats"] = Stats(*q, 0);
      return JsonResponse(200, body);
    }
    body["columns"] = columns;
    // The page is written as text: the members above, then the rows as the runner encoded them
    // (trino_json.h, one line per row) copied straight into the response with their newlines
    // turned into the array's commas, until the page holds kMaxPageRows or kMaxPageBytes; then
    // the members that depend on how many rows that was.
    HttpResponse response = JsonResponse(200, body);
    std::string& text = response.body;
    text.pop_back();  // the object's closing brace
    // (room for the page's rows: at most kMaxPageBytes, and no more than the result holds)
    text.reserve(text.size() + std::min<uint64_t>(kMaxPageBytes, q->result_bytes) + (4 << 10));
    text += ",\"data\":[";
    const size_t rows_at = text.size();
    auto read = sql_->queries().ReadRows(id, offset, kMaxPageRows, kMaxPageBytes, &text, ',');
    if (!read.ok()) {
      return JsonResponse(200, ErrorBody(id, read.status().code(), read.status().message(), base, *q));
    }
    const uint64_t n = read->rows;
    if (n > 0) text.pop_back();  // the last row's ','
    text += ']';
    json tail = {{"stats", Stats(*q, offset + n)}};
    if (!read->complete) tail["nextUri"] = next + std::to_string(offset + n);
    if (read->complete) sql_->queries().Release(id);
    if (n == 0) {
      text.resize(rows_at - std::string_view(",\"data\":[").size());  // no rows: no "data"
    }
    std::string rest = tail.dump(-1, ' ', false, json::error_handler_t::replace);
    rest[0] = ',';  // the members join the object
    text += rest;
    return response;
  }

  // DELETE /v1/query/<id>: what the Trino CLI sends to kill a query.
  HttpResponse KillQuery(HttpRequest& r, RequestNote* note) {
    note->operation = "KillQuery";
    HttpResponse refusal;
    auto principal = Authenticate(r, &refusal);
    if (!principal) return refusal;
    if (r.method != "DELETE") return Plain(405, "Method not allowed");
    std::string id = r.raw_path.substr(std::string("/v1/query/").size());
    auto q = sql_->queries().Get(id);
    if (!q.ok() || q->request.user != UserOf(*principal)) return Plain(404, "Query not found: " + id);
    (void)sql_->queries().Cancel(id);
    HttpResponse done;
    done.status = 204;
    return done;
  }

  ServiceContext context_;
  LakeSqlService* sql_;
  struct LocalAnswer {
    std::string user;
    HttpResponse response;
  };
  static constexpr size_t kMaxLocalAnswers = 1024;
  Mutex local_mu_;
  std::map<std::string, LocalAnswer> local_ SL_GUARDED_BY(local_mu_);
};

}  // namespace

std::unique_ptr<Service> MakeTrinoService(const ServiceContext& context, LakeSqlService* sql) {
  return std::make_unique<TrinoService>(context, sql);
}

}  // namespace saleslake::server::internal
