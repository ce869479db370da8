#include "server/internal/console.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "auth/auth.h"
#include "catalog/catalog.h"
#include "catalog/describe.h"
#include "etl/report.h"
#include "sql/sql.h"
#include "stack/dashboard.h"
#include "server/internal/console_assets.h"
#include "server/internal/console_forecast.h"
#include "server/internal/console_ops.h"
#include "server/internal/console_session.h"
#include "server/internal/console_sql.h"
#include "server/internal/lake_sql.h"
#include "server/internal/metrics.h"
#include "server/internal/stream_metrics_api.h"

namespace saleslake::server::internal {

namespace {

using nlohmann::json;

constexpr const char* kCookie = "sl_session";
constexpr size_t kMaxResultRows = 100000;  // rows a console query keeps (paged to the page)
constexpr size_t kCacheEntries = 512;
constexpr size_t kCacheBytes = 128u << 20;
constexpr const char* kCancelledByUser = "query cancelled by the user";

// ---- HTTP helpers

HttpResponse Json(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.Set("Content-Type", "application/json; charset=utf-8");
  r.Set("Cache-Control", "no-store");
  r.Set("X-Content-Type-Options", "nosniff");
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

HttpResponse Error(int status, const std::string& code, const std::string& message, json extra = json::object()) {
  json e = {{"code", code}, {"message", message}};
  for (auto& [k, v] : extra.items()) e[k] = v;
  return Json(status, {{"error", e}});
}

std::string Cookie(const HttpRequest& request, std::string_view name) {
  auto [b, e] = request.headers.equal_range("cookie");
  for (auto it = b; it != e; ++it) {
    std::string_view s = it->second;
    while (!s.empty()) {
      size_t semi = s.find(';');
      std::string_view part = s.substr(0, semi);
      while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
      size_t eq = part.find('=');
      if (eq != std::string_view::npos && part.substr(0, eq) == name) return std::string(part.substr(eq + 1));
      if (semi == std::string_view::npos) break;
      s.remove_prefix(semi + 1);
    }
  }
  return "";
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::strtol(std::string(s.substr(i + 1, 2)).c_str(), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

bool StateChanging(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

const char* ContentType(std::string_view path) {
  auto ends = [&](std::string_view ext) {
    return path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".json")) return "application/json";
  return "application/octet-stream";
}

// ---- results

// One cell as the page receives it: numbers as JSON numbers, NULL as null, the rest as the
// engine's text (dates ISO, decimals exact).
json CellJson(const std::optional<std::string>& cell, const DataType& type) {
  if (!cell) return nullptr;
  const std::string& text = *cell;
  switch (type.id) {
    case TypeId::kBoolean:
      return text == "true";
    case TypeId::kInt32:
    case TypeId::kInt64:
      return std::strtoll(text.c_str(), nullptr, 10);
    case TypeId::kFloat:
    case TypeId::kDouble:
    case TypeId::kDecimal: {
      char* end = nullptr;
      double d = std::strtod(text.c_str(), &end);
      if (end && *end == '\0' && std::isfinite(d)) return d;
      return text;  // NaN / Infinity are not JSON numbers
    }
    default:
      return text;
  }
}

std::string TypeText(const DataType& t) { return t.ToString(); }

struct CachedResult {
  json columns;  // [{"name", "type"}]
  json rows;     // [[...], ...]
  size_t total_rows = 0;
  bool truncated = false;
  double seconds = 0;
  size_t bytes = 0;
  json forecast;  // the forecast entries of the cache: ForecastTileRows' answer
};

// An LRU of statement results keyed by (final SQL, snapshot ids of the tables it reads).
class ResultCache {
 public:
  std::shared_ptr<const CachedResult> Get(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second.second);
    return it->second.first;
  }
  void Put(const std::string& key, std::shared_ptr<const CachedResult> value) {
    if (value->bytes > kCacheBytes / 4) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.count(key)) return;
    order_.push_front(key);
    bytes_ += value->bytes;
    map_[key] = {std::move(value), order_.begin()};
    while (map_.size() > kCacheEntries || bytes_ > kCacheBytes) {
      auto last = map_.find(order_.back());
      bytes_ -= last->second.first->bytes;
      map_.erase(last);
      order_.pop_back();
    }
  }

 private:
  std::mutex mu_;
  std::list<std::string> order_;  // GUARDED_BY(mu_), most recent first
  std::unordered_map<std::string, std::pair<std::shared_ptr<const CachedResult>, std::list<std::string>::iterator>>
      map_;                        // GUARDED_BY(mu_)
  size_t bytes_ = 0;              // GUARDED_BY(mu_)
};

// "line 1:23: ..." at the start of an engine error -> {"line": 1, "column": 23}.
json ErrorPosition(const std::string& message) {
  size_t at = message.find("line ");
  if (at == std::string::npos) return json::object();
  int line = 0, col = 0;
  if (std::sscanf(message.c_str() + at, "line %d:%d", &line, &col) == 2) return {{"line", line}, {"column", col}};
  return json::object();
}

class ConsoleService final : public Service {
 public:
  ConsoleService(const ServiceContext& context, LakeSqlService* lake_sql)
      : ctx_(context), sql_(lake_sql), sessions_(std::chrono::hours(8)), limiter_(5, std::chrono::seconds(300)) {}

  std::string name() const override { return "console"; }

  Status Register(Dispatcher& dispatcher) override {
    dispatcher.AddRoute("/console/", HttpRoute{"console", [this](HttpRequest& r, RequestNote* n) { return Pages(r, n); }});
    dispatcher.AddRoute("/api/", HttpRoute{"console", [this](HttpRequest& r, RequestNote* n) { return Api(r, n); }});
    return Status::OK();
  }

 private:
  TimePoint Now() const { return ctx_.clock ? ctx_.clock->Now() : ProcessClock().Now(); }

  // ---- pages

  HttpResponse Pages(HttpRequest& request, RequestNote* note) {
    note->operation = "Page";
    if (request.method != "GET" && request.method != "HEAD") return Error(405, "MethodNotAllowed", "pages are GET only");
    std::string path = request.raw_path.substr(std::string_view("/console/").size());
    if (path.empty()) path = "index.html";
    for (size_t i = 0; i < kNumConsoleAssets; ++i) {
      const EmbeddedAsset& a = kConsoleAssets[i];
      if (path != a.path) continue;
      HttpResponse r;
      r.Set("Content-Type", ContentType(path));
      r.Set("X-Content-Type-Options", "nosniff");
      r.Set("X-Frame-Options", "DENY");
      r.Set("Referrer-Policy", "same-origin");
      // No inline script and nothing from elsewhere: an injected tag has nothing to run.
      r.Set("Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'");
      r.Set("Cache-Control", "no-cache");
      r.body.assign(reinterpret_cast<const char*>(a.data), a.size);
      if (request.method == "HEAD") {
        r.head_length = r.body.size();
        r.body.clear();
      }
      return r;
    }
    return Error(404, "NotFound", "no such page");
  }

  // ---- API

  // nlohmann's value() and get() throw on a field of the wrong type ({"offset": "x"}); no
  // exception may leave a handler, so the API's edge turns them into 400.
  HttpResponse Api(HttpRequest& request, RequestNote* note) {
    try {
      return ApiRoutes(request, note);
    } catch (const json::exception& e) {
      note->error_code = "BadRequest";
      return Error(400, "BadRequest", std::string("a field of the request has the wrong type: ") + e.what());
    }
  }

  HttpResponse ApiRoutes(HttpRequest& request, RequestNote* note) {
    const std::string path = request.raw_path;
    const std::string& m = request.method;
    if (path == "/api/login" && m == "POST") {
      note->operation = "Login";
      return Login(request, note);
    }
    // Everything else needs a session.
    std::optional<ConsoleSession> session;
    std::string token = Cookie(request, kCookie);
    if (!token.empty()) session = sessions_.Find(token, Now());
    if (!session) {
      note->operation = "Unauthenticated";
      note->error_code = "Unauthenticated";
      return Error(401, "Unauthenticated", "sign in first");
    }
    note->principal = session->principal.arn;
    if (StateChanging(m)) {
      std::string sent = request.HeaderOr("x-csrf-token");
      if (sent.empty() || !auth::sigv4::ConstantTimeEquals(sent, session->csrf)) {
        note->operation = "CsrfRejected";
        note->error_code = "InvalidCsrfToken";
        return Error(403, "InvalidCsrfToken", "missing or wrong X-CSRF-Token");
      }
    }
    if (path == "/api/logout" && m == "POST") {
      note->operation = "Logout";
      sessions_.Erase(token);
      HttpResponse r = Json(200, {{"signed_out", true}});
      r.Set("Set-Cookie", std::string(kCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
                              (request.secure ? "; Secure" : ""));
      return r;
    }
    if (path == "/api/session" && m == "GET") {
      note->operation = "GetSession";
      return Json(200, SessionJson(*session, request));
    }
    if (path == "/api/query" && m == "POST") {
      note->operation = "Query";
      return Query(request, *session, note);
    }
    if (path == "/api/query/cancel" && m == "POST") {
      note->operation = "CancelQuery";
      return CancelQuery(request, *session);
    }
    if (path == "/api/queries" && m == "GET") {
      note->operation = "ListQueries";
      return QueryHistory(request, *session);
    }
    if (path == "/api/saved-queries" && m == "GET") {
      note->operation = "ListSavedQueries";
      return ListSavedQueries(request, *session);
    }
    const std::string saved = "/api/saved-queries/";
    if (path.rfind(saved, 0) == 0) {
      std::string name = PercentDecode(path.substr(saved.size()));
      if (!stack::ValidDashboardId(name)) return Error(404, "NotFound", "a saved query name is [a-z0-9][a-z0-9_-]*");
      if (m == "PUT") {
        note->operation = "SaveQuery";
        return SaveQuery(request, *session, name);
      }
      if (m == "DELETE") {
        note->operation = "DeleteSavedQuery";
        return DeleteSavedQuery(request, *session, name);
      }
      return Error(405, "MethodNotAllowed", "PUT or DELETE");
    }
    if (path == "/api/dashboards" && m == "GET") {
      note->operation = "ListDashboards";
      return ListDashboards(request, *session);
    }
    const std::string dash = "/api/dashboards/";
    if (path.rfind(dash, 0) == 0) {
      std::string id = PercentDecode(path.substr(dash.size()));
      if (!stack::ValidDashboardId(id)) return Error(404, "NotFound", "no such dashboard");
      if (m == "GET") {
        note->operation = "GetDashboard";
        return GetDashboard(request, *session, id);
      }
      if (m == "PUT") {
        note->operation = "SaveDashboard";
        return SaveDashboard(request, *session, id);
      }
      return Error(405, "MethodNotAllowed", "GET or PUT");
    }
    if (path == "/api/catalog/tables" && m == "GET") {
      note->operation = "ListTables";
      return Tables(request, *session);
    }
    const std::string table_prefix = "/api/catalog/tables/";
    if (path.rfind(table_prefix, 0) == 0 && m == "GET") {
      note->operation = "GetTable";
      return TableDetail(request, *session, PercentDecode(path.substr(table_prefix.size())));
    }
    if (path == "/api/runs" && m == "GET") {
      note->operation = "ListRuns";
      return Runs(request, *session);
    }
    const std::string runs_prefix = "/api/runs/";
    if (path.rfind(runs_prefix, 0) == 0 && m == "GET") {
      // /api/runs/JOB/RUN_ID/quarantine
      std::string rest = path.substr(runs_prefix.size());
      size_t a = rest.find('/'), b = a == std::string::npos ? a : rest.find('/', a + 1);
      if (b != std::string::npos && rest.substr(b) == "/quarantine") {
        note->operation = "GetQuarantine";
        return Quarantine(request, *session, PercentDecode(rest.substr(0, a)), PercentDecode(rest.substr(a + 1, b - a - 1)));
      }
    }
    const std::string streams = "/api/streams/", metrics = "/metrics";
    if (path.rfind(streams, 0) == 0 && path.size() > streams.size() + metrics.size() &&
        path.compare(path.size() - metrics.size(), metrics.size(), metrics) == 0 && m == "GET") {
      note->operation = "GetStreamMetrics";
      std::string name = PercentDecode(path.substr(streams.size(), path.size() - streams.size() - metrics.size()));
      if (!Allowed(*session, "kinesis:DescribeStreamSummary", Arn(*session, "kinesis", "stream/" + name), request)) {
        return Forbidden("kinesis:DescribeStreamSummary on stream " + name);
      }
      auto j = StreamMetricsJson(sql_->engine(), name, ToEpochMs(Now()));
      if (!j.ok()) {
        const int code = j.status().code() == StatusCode::kInvalidArgument ? 400
                         : j.status().code() == StatusCode::kNotFound      ? 404
                                                                             : 500;
        return Error(code, code == 500 ? "InternalError" : code == 400 ? "InvalidParameter" : "NotFound",
                     j.status().message());
      }
      return Json(200, *j);
    }
    if (path == "/api/streams" && m == "GET") {
      note->operation = "ListStreams";
      return Streams(request, *session);
    }
    if (path == "/api/events" && m == "GET") {
      note->operation = "ListEvents";
      return Events(request, *session);
    }
    note->operation = "NotFound";
    return Error(404, "NotFound", "no such API");
  }

  // ---- operations pages (console_ops.h)

  // Streams, shards, records and delivery backlog; only streams the principal may describe.
  HttpResponse Streams(const HttpRequest& request, const ConsoleSession& s) {
    if (!Allowed(s, "kinesis:ListStreams", Arn(s, "kinesis", "stream/*"), request)) return Forbidden("kinesis:ListStreams");
    auto j = StreamsJson(sql_->engine());
    if (!j.ok()) {
      if (j.status().code() == StatusCode::kNotFound) return Json(200, {{"streams", json::array()}});
      return Error(500, "InternalError", j.status().message());
    }
    json visible = json::array();
    for (auto& st : (*j)["streams"]) {
      if (Allowed(s, "kinesis:DescribeStreamSummary", Arn(s, "kinesis", "stream/" + st["name"].get<std::string>()), request)) {
        visible.push_back(std::move(st));
      }
    }
    return Json(200, {{"streams", visible}});
  }

  // Rules, alarms, recent events, command runs and dead letters (events:ListRules), topics and
  // subscriptions (sns:ListTopics and sns:ListSubscriptions): each part only when allowed.
  HttpResponse Events(const HttpRequest& request, const ConsoleSession& s) {
    const bool rules = Allowed(s, "events:ListRules", Arn(s, "events", "rule/*"), request);
    const bool topics = Allowed(s, "sns:ListTopics", Arn(s, "sns", "*"), request) &&
                        Allowed(s, "sns:ListSubscriptions", Arn(s, "sns", "*"), request);
    if (!rules && !topics) return Forbidden("events:ListRules or sns:ListTopics");
    auto j = EventsJson(*ctx_.lake, 50, rules, topics);
    if (!j.ok()) return Error(500, "InternalError", j.status().message());
    (*j)["allowed"] = {{"rules", rules}, {"topics", topics}};
    return Json(200, *j);
  }

  std::string Arn(const ConsoleSession& /*s*/, const std::string& service, const std::string& resource) const {
    return "arn:aws:" + service + ":" + sql_->region() + ":" + sql_->account_id() + ":" + resource;
  }
  std::string TableArn(const ConsoleSession& s, const std::string& table) const {
    return Arn(s, "glue", "table/default/" + table);
  }
  bool Allowed(const ConsoleSession& s, const std::string& action, const std::string& resource,
               const HttpRequest& request) {
    return !ctx_.gate->Authorize(s.principal, action, resource, request, {}).has_value();
  }
  HttpResponse Forbidden(const std::string& action) {
    return Error(403, "AccessDenied", "not allowed to " + action);
  }

  json SessionJson(const ConsoleSession& s, const HttpRequest& request) {
    return {{"user", s.principal.user},
            {"arn", s.principal.arn},
            {"csrf_token", s.csrf},
            {"expires_ms", ToEpochMs(s.expires)},
            {"read_pii", sql_->MayReadPii(s.principal, request)}};
  }

  HttpResponse Login(HttpRequest& request, RequestNote* note) {
    // A JSON body cannot be sent cross-site without a CORS preflight, which this API never
    // answers: no login CSRF through a form on another site.
    if (request.HeaderOr("content-type").rfind("application/json", 0) != 0) {
      return Error(415, "UnsupportedMediaType", "send the credentials as application/json");
    }
    json in;
    try {
      in = json::parse(request.body);
    } catch (const json::exception&) {
      return Error(400, "BadRequest", "the body is not JSON");
    }
    if (!in.is_object()) return Error(400, "BadRequest", "the body is not a JSON object");
    std::string user = in.value("user_name", "");
    std::string key_id = in.value("access_key_id", "");
    std::string who = user.empty() ? key_id : user;
    if (who.empty()) return Error(400, "BadRequest", "user_name and password, or access_key_id and secret_access_key");
    TimePoint now = Now();
    const std::string ip_key = "ip:" + request.remote_ip, who_key = "id:" + who;
    int64_t wait = std::max(limiter_.RetryAfterSeconds(ip_key, now), limiter_.RetryAfterSeconds(who_key, now));
    if (wait > 0) {
      ctx_.metrics->Count("console_login_throttled_total", "Console sign-ins refused by the rate limit.");
      note->error_code = "TooManyRequests";
      HttpResponse r = Error(429, "TooManyRequests", "too many failed sign-ins; try again in " + std::to_string(wait) + " s");
      r.Set("Retry-After", std::to_string(wait));
      return r;
    }
    Principal principal;
    std::optional<ApiError> err;
    if (!user.empty()) {
      err = ctx_.gate->CheckPassword(user, in.value("password", ""), request, &principal);
    } else {
      err = CheckAccessKey(key_id, in.value("secret_access_key", ""), request, &principal);
    }
    if (err) {
      limiter_.Failed(ip_key, now);
      limiter_.Failed(who_key, now);
      ctx_.metrics->Count("console_login_failures_total", "Console sign-ins refused (wrong credentials).");
      note->error_code = "AccessDenied";
      return Error(401, "InvalidCredentials", "wrong user name or password, or access key");
    }
    limiter_.Succeeded(who_key);
    auto session = sessions_.Create(principal, now);
    if (!session.ok()) return Error(500, "InternalError", session.status().message());
    note->principal = principal.arn;
    HttpResponse r = Json(200, SessionJson(*session, request));
    r.Set("Set-Cookie", std::string(kCookie) + "=" + session->token + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                            std::to_string(sessions_.ttl().count()) + (request.secure ? "; Secure" : ""));
    return r;
  }

  // An access key signs in by proving its secret: the server signs a request with the secret
  // given and lets the gate verify it like any SigV4 request (so inactive keys, unknown keys and
  // wrong secrets fail exactly as they do for the S3 API).
  std::optional<ApiError> CheckAccessKey(const std::string& key_id, const std::string& secret,
                                         const HttpRequest& original, Principal* principal) {
    HttpRequest probe;
    probe.method = "GET";
    probe.target = probe.raw_path = "/console-signin";
    probe.remote_ip = original.remote_ip;
    probe.secure = original.secure;
    const std::string amz_date = auth::FormatAmzDate(SystemClock().Now());
    const std::string payload = auth::sigv4::HexSha256("");
    probe.headers.emplace("host", "saleslake");
    probe.headers.emplace("x-amz-date", amz_date);
    probe.headers.emplace("x-amz-content-sha256", payload);
    auth::HttpRequestView view;
    view.method = probe.method;
    view.raw_path = probe.raw_path;
    view.headers.assign(probe.headers.begin(), probe.headers.end());
    auth::sigv4::SignInput in;
    in.access_key_id = key_id;
    in.secret = secret;
    in.amz_date = amz_date;
    in.signed_headers = {"host", "x-amz-content-sha256", "x-amz-date"};
    in.payload_hash = payload;
    auto header = auth::sigv4::AuthorizationHeader(view, in);
    if (!header.ok()) return MakeError(403, "AccessDenied", "bad access key");
    probe.headers.emplace("authorization", *header);
    return ctx_.gate->Authenticate(probe, principal);
  }

  // ---- query

  struct Prepared {
    std::string sql;                             // after parameters, filters and PII masking
    std::map<std::string, int64_t> snapshots;   // table -> snapshot id
    bool cacheable = true;
    bool read_pii = false;
  };

  // Binds parameters, checks table permissions, applies the dashboard filters and masks PII.
  // Returns an HTTP error response in *error when refused.
  std::optional<Prepared> Prepare(const std::string& sql_in, const json& params, const json& filters,
                                  const ConsoleSession& s, const HttpRequest& request,
                                  catalog::Catalog& cat, HttpResponse* error) {
    auto bound = BindParameters(sql_in, params);
    if (!bound.ok()) {
      *error = Error(400, "InvalidParameter", bound.status().message());
      return std::nullopt;
    }
    if (!sql::IsReadOnlyStatement(*bound)) {
      *error = Error(400, "ReadOnly", "the console runs queries only (SELECT, WITH, VALUES, SHOW, DESCRIBE, EXPLAIN)");
      return std::nullopt;
    }
    auto names = cat.ListTables();
    if (!names.ok()) {
      *error = Error(500, "InternalError", names.status().message());
      return std::nullopt;
    }
    std::set<std::string> tables(names->begin(), names->end());
    const bool read_pii = sql_->MayReadPii(s.principal, request);
    Prepared p;
    p.read_pii = read_pii;
    // Views (queries/views/) could read PII columns around the masking below: only principals
    // who may read PII use them from the console.
    std::set<std::string> views;
    if (auto listed = ctx_.lake->List("queries/views/"); listed.ok()) {
      for (const auto& o : *listed) {
        std::string n = o.key.substr(std::string("queries/views/").size());
        if (n.size() > 4 && n.substr(n.size() - 4) == ".sql") views.insert(n.substr(0, n.size() - 4));
      }
    }
    if (!ReferencedTables(*bound, views).empty()) {
      p.cacheable = false;
      if (!read_pii) {
        *error = Error(403, "AccessDenied", "views need saleslake:ReadPii in the console");
        return std::nullopt;
      }
    }
    std::map<std::string, std::string> rewrites;
    for (const std::string& t : ReferencedTables(*bound, tables)) {
      if (!Allowed(s, "glue:GetTable", TableArn(s, t), request)) {
        *error = Error(403, "AccessDenied", "not allowed to read table " + t);
        return std::nullopt;
      }
      auto meta = cat.LoadTable(t);
      if (!meta.ok()) {
        *error = Error(500, "InternalError", meta.status().message());
        return std::nullopt;
      }
      p.snapshots[t] = (*meta)->current_snapshot_id;
      std::set<std::string> pii = PiiColumns(**meta);
      std::vector<std::string> where;
      if (filters.is_object()) {
        for (const auto& f : (*meta)->schema().fields) {
          if (!filters.contains(f.name)) continue;
          const json& v = filters[f.name];
          if (v.is_array() && !v.empty()) {
            auto list = BindParameters(":v", json{{"v", v}});
            if (!list.ok()) {
              *error = Error(400, "InvalidFilter", list.status().message());
              return std::nullopt;
            }
            where.push_back(Quote(f.name) + " IN " + *list);
          } else if (v.is_object()) {  // {"from": .., "to": ..} inclusive
            for (const auto& [k, op] : {std::pair<const char*, const char*>{"from", ">="}, {"to", "<="}}) {
              if (!v.contains(k) || v[k].is_null()) continue;
              auto lit = SqlLiteral(v[k]);
              if (!lit.ok()) {
                *error = Error(400, "InvalidFilter", lit.status().message());
                return std::nullopt;
              }
              std::string col = Quote(f.name);
              // Compare as the column's type: a date column against a date literal.
              std::string rhs = f.type.id == TypeId::kDate ? "CAST(" + *lit + " AS DATE)" : *lit;
              where.push_back(col + " " + op + " " + rhs);
            }
          }
        }
      }
      bool mask = !read_pii && !pii.empty();
      if (where.empty() && !mask) continue;
      std::string cols;
      for (const auto& f : (*meta)->schema().fields) {
        if (!cols.empty()) cols += ", ";
        if (mask && pii.count(f.name)) cols += "CAST(NULL AS " + TypeText(f.type) + ") AS " + Quote(f.name);
        else cols += Quote(f.name);
      }
      std::string sub = "(SELECT " + cols + " FROM " + Quote(t);
      for (size_t i = 0; i < where.size(); ++i) sub += (i ? " AND " : " WHERE ") + where[i];
      rewrites[t] = sub + ")";
    }
    p.sql = ReplaceTableReferences(*bound, rewrites);
    if (p.snapshots.empty()) p.cacheable = false;  // nothing to key a result on (now(), SHOW ...)
    // System tables (system.stream_metrics) change without a snapshot: never from the cache.
    std::string lower = *bound;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.find("system.") != std::string::npos) p.cacheable = false;
    return p;
  }

  static std::string Quote(const std::string& ident) {
    std::string out = "\"";
    for (char c : ident) {
      if (c == '"') out += '"';
      out += c;
    }
    return out + "\"";
  }

  // The PII columns of a table: those pipeline.yaml's jobs tokenize, those named in the table
  // property "pii.columns" (comma-separated), and customer_id.
  std::set<std::string> PiiColumns(const catalog::TableMetadata& meta) const {
    std::set<std::string> pii;
    std::set<std::string> tagged = {"customer_id"};
    for (const std::string& c : sql_->PiiColumns()) tagged.insert(c);
    auto it = meta.spec.properties.find("pii.columns");
    if (it != meta.spec.properties.end()) {
      std::string_view s = it->second;
      while (!s.empty()) {
        size_t c = s.find(',');
        std::string_view part = s.substr(0, c);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
        if (!part.empty()) pii.insert(std::string(part));
        if (c == std::string_view::npos) break;
        s.remove_prefix(c + 1);
      }
    }
    for (const auto& f : meta.schema().fields) {
      if (tagged.count(f.name)) pii.insert(f.name);
    }
    return pii;
  }

  HttpResponse Query(HttpRequest& request, const ConsoleSession& s, RequestNote* note) {
    if (!Allowed(s, "athena:StartQueryExecution", Arn(s, "athena", "workgroup/primary"), request)) {
      return Forbidden("athena:StartQueryExecution");
    }
    json in;
    try {
      in = json::parse(request.body);
    } catch (const json::exception&) {
      return Error(400, "BadRequest", "the body is not JSON");
    }
    if (!in.is_object() || !in.contains("sql") || !in["sql"].is_string()) {
      return Error(400, "BadRequest", "{\"sql\": \"...\"} expected");
    }
    const size_t offset = in.value("offset", size_t{0});
    const size_t limit = std::min<size_t>(in.value("limit", size_t{1000}), 10000);
    HttpResponse refused;
    auto prepared = Prepare(in["sql"].get<std::string>(), in.value("params", json::object()),
                            in.value("filters", json::object()), s, request, sql_->catalog(), &refused);
    if (!prepared) {
      note->error_code = "Refused";
      return refused;
    }
    std::string key = prepared->sql;
    for (const auto& [t, id] : prepared->snapshots) key += "\n-- " + t + "@" + std::to_string(id);
    std::shared_ptr<const CachedResult> result;
    bool cached = false;
    if (prepared->cacheable) result = cache_.Get(key);
    if (result) {
      cached = true;
      ctx_.metrics->Count("console_cache_hits_total", "Console queries answered from the result cache (no table changed).");
    } else {
      ctx_.metrics->Count("console_queries_total", "Console queries run by the engine.");
      double timeout_s = std::clamp(in.value("timeout_seconds", 60.0), 0.1, 600.0);
      std::string client_id;
      if (in.contains("client_id") && in["client_id"].is_string() && in["client_id"].get<std::string>().size() <= 64) {
        client_id = in["client_id"].get<std::string>();
      }
      auto run = Run(*prepared, s, timeout_s, in["sql"].get<std::string>(), client_id);
      if (!run.ok()) {
        ctx_.metrics->Count("console_query_errors_total", "Console queries that failed.");
        const Status& st = run.status();
        note->error_code = "QueryFailed";
        int status = st.code() == StatusCode::kCancelled ? 408 : st.code() == StatusCode::kResourceExhausted ? 413 : 400;
        if (st.code() == StatusCode::kAborted && st.message() == kCancelledByUser) {
          return Error(409, "QueryCancelled", st.message());
        }
        return Error(status, st.code() == StatusCode::kCancelled ? "QueryCancelled" : "QueryFailed",
                     st.message(), {{"position", ErrorPosition(st.message())}});
      }
      result = std::move(*run);
      if (prepared->cacheable) cache_.Put(key, result);
    }
    json page = json::array();
    for (size_t i = offset; i < result->rows.size() && i < offset + limit; ++i) page.push_back(result->rows[i]);
    json snaps = json::object();
    for (const auto& [t, id] : prepared->snapshots) snaps[t] = id;
    json forecast = nullptr;
    if (in.contains("forecast") && in["forecast"].is_object()) {
      // Forecast bands of a line tile: computed from the (cached) rows and cached beside them
      // under the same snapshot ids, so a no-change refresh fits no model either.
      TileForecastOptions fo;
      const json& f = in["forecast"];
      auto days = [&](const char* k, int dflt) {  // out-of-range values are refused by ForecastTileRows
        return f.contains(k) && f[k].is_number_integer() ? static_cast<int>(std::clamp<int64_t>(f[k].get<int64_t>(), -1, 100000)) : dflt;
      };
      fo.horizon = days("horizon", 28);
      fo.season = days("season", 7);
      const std::string fkey = key + "\n-- forecast " + std::to_string(fo.horizon) + " " + std::to_string(fo.season);
      std::shared_ptr<const CachedResult> fc = prepared->cacheable ? cache_.Get(fkey) : nullptr;
      if (!fc) {
        auto made = std::make_shared<CachedResult>();
        auto f = ForecastTileRows(result->rows, fo);
        made->forecast = f.ok() ? *f : json{{"error", f.status().message()}};
        made->bytes = made->forecast.dump().size();
        if (prepared->cacheable) cache_.Put(fkey, made);
        fc = made;
      }
      forecast = fc->forecast;
    }
    return Json(200, {{"columns", result->columns},
                      {"forecast", std::move(forecast)},
                      {"rows", std::move(page)},
                      {"offset", offset},
                      {"total_rows", result->total_rows},
                      {"truncated", result->truncated},
                      {"cached", cached},
                      {"snapshots", snaps},
                      {"elapsed_ms", cached ? 0.0 : result->seconds * 1000}});
  }

  // Runs the statement through the server's one query manager (shared with Athena and Trino),
  // waits at most `timeout_s` (then cancels it) and keeps up to kMaxResultRows rows. With a
  // `client_id`, POST /api/query/cancel can stop it meanwhile (kAborted "cancelled by the user").
  // `original` (the SQL as the user wrote it) is what the history shows.
  Result<std::shared_ptr<const CachedResult>> Run(const Prepared& p, const ConsoleSession& s, double timeout_s,
                                                  const std::string& original, const std::string& client_id) {
    QueryRequest req;
    req.sql = p.sql;
    req.user = s.principal.arn.empty() ? "anonymous" : s.principal.arn;
    req.source = "console";
    req.tags["console.sql"] = original.substr(0, 10000);
    if (!p.read_pii) {  // belt and braces: the rewrite already replaced them by NULL
      for (const std::string& c : sql_->PiiColumns()) req.redact_columns.push_back(c);
      req.redact_columns.push_back("customer_id");
    }
    QueryManager& qm = sql_->queries();
    SL_ASSIGN_OR_RETURN(std::string id, qm.Submit(std::move(req)));
    const std::string running_key = s.principal.arn + "\n" + client_id;
    if (!client_id.empty()) {
      std::lock_guard<std::mutex> lock(running_mu_);
      running_[running_key] = id;
    }
    auto info = qm.Wait(id, std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000)));
    bool by_user = false;
    if (!client_id.empty()) {
      std::lock_guard<std::mutex> lock(running_mu_);
      running_.erase(running_key);
      by_user = cancelled_.erase(id) > 0;
    }
    if (!info.ok()) return info.status();
    if (by_user && info->state == QueryState::kCancelled) {
      qm.Release(id);
      return Status::Aborted(kCancelledByUser);
    }
    if (!IsFinal(info->state)) {
      (void)qm.Cancel(id);
      qm.Release(id);
      return Status::Cancelled("query cancelled: over the time limit of " + std::to_string(static_cast<int>(timeout_s)) + " s");
    }
    if (info->state != QueryState::kSucceeded) {
      qm.Release(id);
      return Status(info->error_code == StatusCode::kOk ? StatusCode::kInvalidArgument : info->error_code, info->error);
    }
    auto out = std::make_shared<CachedResult>();
    out->columns = json::array();
    for (const auto& f : info->schema.fields) out->columns.push_back({{"name", f.name}, {"type", TypeText(f.type)}});
    out->rows = json::array();
    out->total_rows = info->rows;
    out->truncated = info->rows > kMaxResultRows;
    auto page = qm.Fetch(id, 0, kMaxResultRows);
    qm.Release(id);
    if (!page.ok()) return page.status();
    for (const auto& row : page->rows) {
      json r = json::array();
      for (size_t c = 0; c < row.size() && c < info->schema.fields.size(); ++c) {
        r.push_back(CellJson(row[c], info->schema.fields[c].type));
        out->bytes += row[c] ? row[c]->size() + 8 : 8;
      }
      out->rows.push_back(std::move(r));
    }
    if (info->started && info->finished) {
      out->seconds = std::chrono::duration<double>(*info->finished - *info->started).count();
    }
    return std::shared_ptr<const CachedResult>(std::move(out));
  }

  // Stops the caller's running query started with this client_id (its POST /api/query then
  // answers 409 QueryCancelled). Only the principal who started it can stop it.
  HttpResponse CancelQuery(const HttpRequest& request, const ConsoleSession& s) {
    if (!Allowed(s, "athena:StopQueryExecution", Arn(s, "athena", "workgroup/primary"), request)) {
      return Forbidden("athena:StopQueryExecution");
    }
    json in = json::parse(request.body, nullptr, false);
    if (!in.is_object() || !in.contains("client_id") || !in["client_id"].is_string()) {
      return Error(400, "BadRequest", "{\"client_id\": \"...\"} expected");
    }
    std::string id;
    {
      std::lock_guard<std::mutex> lock(running_mu_);
      auto it = running_.find(s.principal.arn + "\n" + in["client_id"].get<std::string>());
      if (it == running_.end()) return Json(200, {{"cancelled", false}});  // finished meanwhile
      id = it->second;
      cancelled_.insert(id);
    }
    Status st = sql_->queries().Cancel(id);
    if (!st.ok() && st.code() != StatusCode::kNotFound) return Error(500, "InternalError", st.message());
    return Json(200, {{"cancelled", true}, {"query_id", id}});
  }

  // The caller's console queries, newest first (the query manager's history: at most its bound).
  HttpResponse QueryHistory(const HttpRequest& request, const ConsoleSession& s) {
    if (!Allowed(s, "athena:ListQueryExecutions", Arn(s, "athena", "workgroup/primary"), request)) {
      return Forbidden("athena:ListQueryExecutions");
    }
    json out = json::array();
    for (const QueryInfo& q : sql_->queries().List()) {
      if (q.request.source != "console" || q.request.user != s.principal.arn) continue;
      auto tag = q.request.tags.find("console.sql");
      json item = {{"id", q.id},
                   {"sql", tag == q.request.tags.end() ? q.request.sql : tag->second},
                   {"state", QueryStateName(q.state)},
                   {"submitted_ms", std::chrono::duration_cast<std::chrono::milliseconds>(q.submitted.time_since_epoch()).count()},
                   {"rows", q.rows}};
      if (q.started && q.finished) {
        item["elapsed_ms"] = std::chrono::duration<double, std::milli>(*q.finished - *q.started).count();
      }
      if (!q.error.empty()) item["error"] = q.error;
      out.push_back(std::move(item));
      if (out.size() >= 100) break;
    }
    return Json(200, {{"queries", out}});
  }

  // Saved queries: queries/NAME.sql in the lake (versionable beside dashboards/; queries/views/
  // holds views and is not listed here). IAM: Athena's named-query actions.
  HttpResponse ListSavedQueries(const HttpRequest& request, const ConsoleSession& s) {
    if (!Allowed(s, "athena:ListNamedQueries", Arn(s, "athena", "workgroup/primary"), request)) {
      return Forbidden("athena:ListNamedQueries");
    }
    auto listed = ctx_.lake->List("queries/");
    if (!listed.ok()) return Error(500, "InternalError", listed.status().message());
    json out = json::array();
    for (const auto& o : *listed) {
      std::string n = o.key.substr(std::string("queries/").size());
      if (n.size() <= 4 || n.substr(n.size() - 4) != ".sql") continue;
      std::string name = n.substr(0, n.size() - 4);
      if (!stack::ValidDashboardId(name)) continue;  // also skips views/...
      auto text = ctx_.lake->Get(o.key);
      if (!text.ok()) continue;
      out.push_back({{"name", name}, {"sql", *text}});
    }
    return Json(200, {{"queries", out}});
  }

  HttpResponse SaveQuery(const HttpRequest& request, const ConsoleSession& s, const std::string& name) {
    const std::string arn = Arn(s, "athena", "workgroup/primary");
    if (!Allowed(s, "athena:CreateNamedQuery", arn, request)) return Forbidden("athena:CreateNamedQuery");
    json in = json::parse(request.body, nullptr, false);
    if (!in.is_object() || !in.contains("sql") || !in["sql"].is_string() || in["sql"].get<std::string>().empty() ||
        in["sql"].get<std::string>().size() > 100000) {
      return Error(400, "BadRequest", "{\"sql\": \"...\"} expected (at most 100000 bytes)");
    }
    std::string text = in["sql"].get<std::string>();
    if (text.back() != '\n') text += '\n';
    Status st = ctx_.lake->Put("queries/" + name + ".sql", text);  // atomic: old or new, never half
    if (!st.ok()) return Error(500, "InternalError", st.message());
    ctx_.gate->AuditWrite(s.principal, "athena:CreateNamedQuery", arn, request);
    return Json(200, {{"name", name}, {"sql", text}});
  }

  HttpResponse DeleteSavedQuery(const HttpRequest& request, const ConsoleSession& s, const std::string& name) {
    const std::string arn = Arn(s, "athena", "workgroup/primary");
    if (!Allowed(s, "athena:DeleteNamedQuery", arn, request)) return Forbidden("athena:DeleteNamedQuery");
    Status st = ctx_.lake->Delete("queries/" + name + ".sql");
    if (!st.ok() && st.code() != StatusCode::kNotFound) return Error(500, "InternalError", st.message());
    ctx_.gate->AuditWrite(s.principal, "athena:DeleteNamedQuery", arn, request);
    return Json(200, {{"deleted", name}});
  }

  // ---- dashboards

  HttpResponse ListDashboards(const HttpRequest& request, const ConsoleSession& s) {
    if (!Allowed(s, "quicksight:ListDashboards", Arn(s, "quicksight", "dashboard/*"), request)) {
      return Forbidden("quicksight:ListDashboards");
    }
    auto listed = ctx_.lake->List("dashboards/");
    if (!listed.ok()) return Error(500, "InternalError", listed.status().message());
    json out = json::array();
    for (const auto& o : *listed) {
      std::string n = o.key.substr(std::string("dashboards/").size());
      if (n.size() <= 5 || n.substr(n.size() - 5) != ".json") continue;
      std::string id = n.substr(0, n.size() - 5);
      if (!stack::ValidDashboardId(id)) continue;
      json item = {{"id", id}};
      auto text = ctx_.lake->Get(o.key);
      if (text.ok()) {
        auto d = stack::ParseDashboard(*text, o.key);
        if (d.ok()) item["title"] = (*d)["title"];
        else item["error"] = d.status().message();
      }
      out.push_back(item);
    }
    return Json(200, {{"dashboards", out}});
  }

  HttpResponse GetDashboard(const HttpRequest& request, const ConsoleSession& s, const std::string& id) {
    if (!Allowed(s, "quicksight:DescribeDashboard", Arn(s, "quicksight", "dashboard/" + id), request)) {
      return Forbidden("quicksight:DescribeDashboard");
    }
    std::string key = "dashboards/" + id + ".json";
    auto text = ctx_.lake->Get(key);
    if (!text.ok()) {
      if (text.status().code() == StatusCode::kNotFound) return Error(404, "NotFound", "no dashboard " + id);
      return Error(500, "InternalError", text.status().message());
    }
    auto d = stack::ParseDashboard(*text, key);
    if (!d.ok()) return Error(422, "InvalidDashboard", d.status().message());
    json out = *d;
    out["id"] = id;
    return Json(200, out);
  }

  HttpResponse SaveDashboard(const HttpRequest& request, const ConsoleSession& s, const std::string& id) {
    const std::string arn = Arn(s, "quicksight", "dashboard/" + id);
    if (!Allowed(s, "quicksight:UpdateDashboard", arn, request)) return Forbidden("quicksight:UpdateDashboard");
    std::string key = "dashboards/" + id + ".json";
    // Tiles run read-only statements only: refused at save time with the position of their SQL.
    auto d = stack::ParseDashboard(request.body, key, stack::TileSqlIsAQuery);
    if (!d.ok()) return Error(400, "InvalidDashboard", d.status().message());
    // Stored as sent (the user's formatting survives for diffs), newline-terminated.
    std::string text = request.body;
    if (text.empty() || text.back() != '\n') text += '\n';
    Status st = ctx_.lake->Put(key, text);
    if (!st.ok()) return Error(500, "InternalError", st.message());
    ctx_.gate->AuditWrite(s.principal, "quicksight:UpdateDashboard", arn, request);
    json out = *d;
    out["id"] = id;
    return Json(200, out);
  }

  // ---- catalog

  HttpResponse Tables(const HttpRequest& request, const ConsoleSession& s) {
    catalog::Catalog* cat = &sql_->catalog();
    auto names = cat->ListTables();
    if (!names.ok()) return Error(500, "InternalError", names.status().message());
    json out = json::array();
    for (const std::string& t : *names) {
      // Tables the principal may not read are not listed at all.
      if (!Allowed(s, "glue:GetTable", TableArn(s, t), request)) continue;
      auto meta = cat->LoadTable(t);
      if (!meta.ok()) continue;
      std::set<std::string> pii = PiiColumns(**meta);
      json cols = json::array();
      for (const auto& f : (*meta)->schema().fields) {
        bool part = std::find((*meta)->spec.partition_keys.begin(), (*meta)->spec.partition_keys.end(), f.name) !=
                    (*meta)->spec.partition_keys.end();
        cols.push_back({{"name", f.name}, {"type", TypeText(f.type)}, {"pii", pii.count(f.name) > 0}, {"partition", part}});
      }
      const catalog::SnapshotInfo* snap = (*meta)->current_snapshot();
      out.push_back({{"name", t},
                     {"format", std::string(catalog::FileFormatName((*meta)->spec.format))},
                     {"columns", cols},
                     {"snapshot_id", (*meta)->current_snapshot_id},
                     {"rows", snap ? snap->total_rows : 0}});
    }
    return Json(200, {{"tables", out}});
  }

  // One table for the catalog page: columns (PII and partition tags), partitions of the current
  // snapshot (files, rows, bytes) and the retained snapshots (time travel in the SQL editor).
  HttpResponse TableDetail(const HttpRequest& request, const ConsoleSession& s, const std::string& name) {
    if (!Allowed(s, "glue:GetTable", TableArn(s, name), request)) return Forbidden("glue:GetTable");
    catalog::Catalog& cat = sql_->catalog();
    auto meta = cat.LoadTable(name);
    if (!meta.ok()) {
      if (meta.status().code() == StatusCode::kNotFound) return Error(404, "NotFound", "no table " + name);
      return Error(500, "InternalError", meta.status().message());
    }
    const catalog::TableMetadata& t = **meta;
    std::set<std::string> pii = PiiColumns(t);
    json cols = json::array();
    for (const auto& f : t.schema().fields) {
      bool part = std::find(t.spec.partition_keys.begin(), t.spec.partition_keys.end(), f.name) != t.spec.partition_keys.end();
      cols.push_back({{"name", f.name}, {"type", TypeText(f.type)}, {"pii", pii.count(f.name) > 0}, {"partition", part}});
    }
    json snaps = json::array();
    for (const auto& sn : t.snapshots) {
      snaps.push_back({{"id", sn.id}, {"timestamp_ms", sn.timestamp_ms}, {"operation", sn.operation},
                       {"files", sn.total_files}, {"rows", sn.total_rows}, {"bytes", sn.total_bytes}});
    }
    // ?snapshot=ID: the partitions as that retained snapshot had them (time travel: the engine
    // has no AS OF syntax, so the page shows a past snapshot's files and rows).
    std::optional<int64_t> at;
    for (std::string_view q = request.raw_query; !q.empty();) {
      size_t amp = q.find('&');
      std::string_view kv = q.substr(0, amp);
      if (kv.rfind("snapshot=", 0) == 0) {
        const std::string v(kv.substr(9));
        char* end = nullptr;
        const long long id = std::strtoll(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0' || !t.FindSnapshot(id)) return Error(404, "NotFound", "no retained snapshot " + v);
        at = id;
      }
      if (amp == std::string_view::npos) break;
      q.remove_prefix(amp + 1);
    }
    json partitions = json::array();
    if (!t.spec.partition_keys.empty() || at) {
      if (!Allowed(s, "glue:GetPartitions", TableArn(s, name), request)) return Forbidden("glue:GetPartitions");
      auto files = cat.ListFiles(t, at);
      if (!files.ok()) return Error(500, "InternalError", files.status().message());
      std::map<std::string, std::array<int64_t, 3>> by;  // path -> files, rows, bytes
      for (const auto& f : *files) {
        auto& e = by[f.PartitionPath()];
        e[0] += 1;
        e[1] += std::max<int64_t>(0, f.row_count);
        e[2] += static_cast<int64_t>(f.size);
      }
      for (const auto& [p, e] : by) partitions.push_back({{"path", p}, {"files", e[0]}, {"rows", e[1]}, {"bytes", e[2]}});
    }
    // DDL as Athena and Trino see the lake through this server's S3 API (as Glue's LocationUri).
    const std::string base = "s3://" + ctx_.options->bucket;
    json ddl = {{"athena", catalog::ExportDdl(t, base, catalog::DdlDialect::kAthena)},
                {"trino", catalog::ExportDdl(t, base, catalog::DdlDialect::kTrino)}};
    return Json(200, {{"name", name},
                      {"ddl", std::move(ddl)},
                      {"format", std::string(catalog::FileFormatName(t.spec.format))},
                      {"location", t.spec.location},
                      {"partition_keys", t.spec.partition_keys},
                      {"columns", cols},
                      {"current_snapshot_id", t.current_snapshot_id},
                      {"partitions_snapshot_id", at ? *at : t.current_snapshot_id},
                      {"snapshots", snaps},
                      {"partitions", partitions}});
  }

  // Job runs, newest first (the run reports under _system/runs/), for the jobs page and the
  // data-quality tile. Only jobs the principal may read (glue:GetJobRuns) are listed.
  HttpResponse Runs(const HttpRequest& request, const ConsoleSession& s) {
    std::string job;
    for (std::string_view q = request.raw_query; !q.empty();) {
      size_t amp = q.find('&');
      std::string_view kv = q.substr(0, amp);
      if (kv.rfind("job=", 0) == 0) job = PercentDecode(kv.substr(4));
      if (amp == std::string_view::npos) break;
      q.remove_prefix(amp + 1);
    }
    auto lines = etl::LoadRunReports(*ctx_.lake, job);
    if (!lines.ok()) {
      if (lines.status().code() == StatusCode::kNotFound) return Json(200, {{"runs", json::array()}});
      return Error(500, "InternalError", lines.status().message());
    }
    json runs = json::array();
    std::map<std::string, bool> allowed;
    for (auto it = lines->rbegin(); it != lines->rend() && runs.size() < 500; ++it) {
      json r = json::parse(*it, nullptr, false);
      if (!r.is_object() || !r.contains("job") || !r["job"].is_string()) continue;
      const std::string j = r["job"].get<std::string>();
      auto [a, fresh] = allowed.emplace(j, false);
      if (fresh) a->second = Allowed(s, "glue:GetJobRuns", Arn(s, "glue", "job/" + j), request);
      if (!a->second) continue;
      r.erase("rows_per_partition");  // large; the catalog page has the partitions
      r.erase("input_files");
      runs.push_back(std::move(r));
    }
    return Json(200, {{"runs", runs}});
  }

  // The quarantined rows of one run with their reasons. They are raw input (customer ids before
  // tokenization), so reading them needs saleslake:ReadPii as well.
  HttpResponse Quarantine(const HttpRequest& request, const ConsoleSession& s, const std::string& job,
                          const std::string& run_id) {
    auto safe = [](const std::string& v) {
      return !v.empty() && v.size() <= 128 && v != "." && v != ".." &&
             std::all_of(v.begin(), v.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'; });
    };
    if (!safe(job) || !safe(run_id)) return Error(404, "NotFound", "no such run");
    if (!Allowed(s, "glue:GetJobRun", Arn(s, "glue", "job/" + job), request)) return Forbidden("glue:GetJobRun");
    if (!sql_->MayReadPii(s.principal, request)) return Forbidden("saleslake:ReadPii (quarantined rows are raw input)");
    auto text = ctx_.lake->Get("quarantine/" + job + "/" + run_id + "/rejected.jsonl");
    if (!text.ok()) {
      if (text.status().code() == StatusCode::kNotFound) return Json(200, {{"rows", json::array()}, {"total", 0}});
      return Error(500, "InternalError", text.status().message());
    }
    json rows = json::array();
    size_t total = 0;
    std::string_view all = *text;
    while (!all.empty()) {
      size_t nl = all.find('\n');
      std::string_view line = all.substr(0, nl);
      all.remove_prefix(nl == std::string_view::npos ? all.size() : nl + 1);
      if (line.empty()) continue;
      ++total;
      if (rows.size() >= 1000) continue;
      json r = json::parse(line, nullptr, false);
      if (r.is_object()) rows.push_back(std::move(r));
    }
    return Json(200, {{"rows", rows}, {"total", total}});
  }

  ServiceContext ctx_;
  LakeSqlService* sql_;
  SessionStore sessions_;
  LoginLimiter limiter_;
  ResultCache cache_;
  std::mutex running_mu_;
  std::map<std::string, std::string> running_;  // GUARDED_BY(running_mu_): arn + client_id -> query id
  std::set<std::string> cancelled_;             // GUARDED_BY(running_mu_): query ids the user stopped
};

}  // namespace

std::unique_ptr<Service> MakeConsoleService(const ServiceContext& context, LakeSqlService* lake_sql) {
  return std::make_unique<ConsoleService>(context, lake_sql);
}

}  // namespace saleslake::server::internal
