#include "server/internal/dispatch.h"

#include "server/internal/cbor.h"
#include "server/internal/metrics.h"
#include "server/internal/s3.h"
#include "server/internal/util.h"

namespace saleslake::server::internal {

namespace {

bool IsFormBody(const HttpRequest& request) {
  const std::string* ct = request.Header("content-type");
  return ct && ct->rfind("application/x-www-form-urlencoded", 0) == 0;
}

// A JSON 1.1 answer (result or error) re-encoded as AWS CBOR; anything else is left as it is.
HttpResponse AsCbor(HttpResponse r) {
  for (auto& [name, value] : r.headers) {
    if (name != "Content-Type" || value != "application/x-amz-json-1.1") continue;
    auto doc = nlohmann::json::parse(r.body.empty() ? std::string("{}") : r.body, nullptr, false);
    if (doc.is_discarded()) break;
    r.body = EncodeAwsCbor(doc);
    value = std::string(kCborContentType);
    break;
  }
  return r;
}

std::string ArnOfS3(const std::string& bucket, const std::string& key) {
  return "arn:aws:s3:::" + bucket + (key.empty() ? "" : "/" + key);
}

}  // namespace

Dispatcher::Dispatcher(DispatcherOptions options, Gate* gate, S3Service* s3, Metrics* metrics)
    : options_(std::move(options)), gate_(gate), s3_(s3), metrics_(metrics) {}

void Dispatcher::AddJsonOperation(std::string api, std::string target, JsonOperation op) {
  json_ops_[std::move(target)] = {std::move(api), std::move(op)};
}

void Dispatcher::AddQueryOperation(std::string api, std::string action, QueryOperation op) {
  query_ops_[std::move(action)] = {std::move(api), std::move(op)};
}

void Dispatcher::AddRoute(std::string path_prefix, HttpRoute route) {
  routes_[std::move(path_prefix)] = std::move(route);
}

Protocol Dispatcher::Detect(const HttpRequest& request) const {
  if (request.Header("x-amz-target")) return Protocol::kJson;
  if (request.raw_path == "/") {
    const std::string* host = request.Header("host");
    bool virtual_host = host && host->rfind(options_.bucket + ".", 0) == 0;
    if (!virtual_host) {
      if (request.method == "POST" && IsFormBody(request)) return Protocol::kQuery;
      if (request.raw_query.rfind("Action=", 0) == 0 ||
          request.raw_query.find("&Action=") != std::string::npos) {
        return Protocol::kQuery;
      }
    }
  }
  return Protocol::kRestXml;
}

HttpResponse Dispatcher::RenderError(Protocol protocol, const ApiError& error,
                                     const HttpRequest& request) {
  HttpResponse r;
  r.status = error.http_status;
  switch (protocol) {
    case Protocol::kRestXml:
      if (request.method == "HEAD") {
        r.head_length = 0;  // HEAD carries no body: the status says it all
        break;
      }
      r.Set("Content-Type", "application/xml");
      r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + XmlEscape(error.code) +
               "</Code><Message>" + XmlEscape(error.message) + "</Message>" +
               (error.resource.empty() ? "" : "<Resource>" + XmlEscape(error.resource) + "</Resource>") +
               "<RequestId>" + request.request_id + "</RequestId></Error>";
      break;
    case Protocol::kJson: {
      nlohmann::json j;
      j["__type"] = error.code;
      j["message"] = error.message;
      r.Set("Content-Type", "application/x-amz-json-1.1");
      r.Set("x-amzn-ErrorType", error.code);
      r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      break;
    }
    case Protocol::kQuery:
      r.Set("Content-Type", "text/xml");
      r.body = "<ErrorResponse><Error><Type>" + std::string(error.http_status >= 500 ? "Receiver" : "Sender") +
               "</Type><Code>" + XmlEscape(error.code) + "</Code><Message>" + XmlEscape(error.message) +
               "</Message></Error><RequestId>" + request.request_id + "</RequestId></ErrorResponse>";
      break;
  }
  return r;
}

HttpResponse Dispatcher::HandleMetrics(HttpRequest& request, RequestNote* note) {
  note->api = "server";
  note->operation = "Metrics";
  if (!options_.metrics_open) {
    Principal principal;
    if (auto denied = Authenticate(Protocol::kRestXml, request, note, &principal)) return *denied;
  }
  HttpResponse r;
  r.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  r.body = metrics_->Render(options_.lake);
  return r;
}

HttpResponse Dispatcher::Handle(HttpRequest& request, RequestNote* note) {
  if (request.raw_path == "/healthz" && (request.method == "GET" || request.method == "HEAD")) {
    note->api = "server";
    note->operation = "Healthz";
    HttpResponse r;
    r.Set("Content-Type", "text/plain");
    r.body = "ok\n";
    return r;
  }
  if (request.raw_path == "/metrics" && request.method == "GET") return HandleMetrics(request, note);
  // Reverse order puts "/v1/statement/" before "/v1/": the first prefix that matches is the longest.
  for (auto& [prefix, route] : routes_) {
    if (request.raw_path.rfind(prefix, 0) == 0) {
      note->api = route.api;
      return route.handler(request, note);
    }
  }

  Protocol protocol = Detect(request);
  if (protocol == Protocol::kRestXml) {
    auto decoded = DecodeS3Request(request, options_.bucket);
    return HandleS3(request, note, decoded);
  }
  Principal principal;
  if (auto denied = Authenticate(protocol, request, note, &principal)) return *denied;
  if (protocol == Protocol::kJson) return HandleJson(request, principal, note);
  return HandleQuery(request, principal, note);
}

std::optional<HttpResponse> Dispatcher::HandleInline(HttpRequest& request, RequestNote* note) {
  if (!options_.inline_object_reads || (request.method != "GET" && request.method != "HEAD")) return std::nullopt;
  if (request.raw_path == "/healthz" || request.raw_path == "/metrics") return std::nullopt;
  for (const auto& entry : routes_) {
    if (request.raw_path.rfind(entry.first, 0) == 0) return std::nullopt;
  }
  if (Detect(request) != Protocol::kRestXml) return std::nullopt;
  auto decoded = DecodeS3Request(request, options_.bucket);
  const S3Request* s3 = std::get_if<S3Request>(&decoded);
  if (s3 == nullptr || (s3->operation != "GetObject" && s3->operation != "HeadObject")) return std::nullopt;
  return HandleS3(request, note, decoded);
}

std::optional<HttpResponse> Dispatcher::Authenticate(Protocol protocol, HttpRequest& request,
                                                     RequestNote* note, Principal* principal) {
  if (auto err = gate_->Authenticate(request, principal)) {
    metrics_->AuthDenied(err->code);
    note->error_code = err->code;
    return RenderError(protocol, *err, request);
  }
  note->principal = principal->arn;
  return std::nullopt;
}

HttpResponse Dispatcher::HandleS3(HttpRequest& request, RequestNote* note,
                                  std::variant<S3Request, ApiError>& decoded) {
  const Protocol protocol = Protocol::kRestXml;
  note->api = "s3";
  Principal principal;
  if (auto denied = Authenticate(protocol, request, note, &principal)) return *denied;
  if (auto* err = std::get_if<ApiError>(&decoded)) {
    note->error_code = err->code;
    return RenderError(protocol, *err, request);
  }
  S3Request& s3 = std::get<S3Request>(decoded);
  note->operation = s3.operation;
  const S3OperationInfo* info = FindS3Operation(s3.operation);
  std::string resource;
  if (info && info->iam_action) {
    ConditionContext ctx;
    if (s3.operation == "ListObjects" || s3.operation == "ListObjectsV2") {
      auto it = s3.query.find("prefix");
      ctx["s3:prefix"] = it == s3.query.end() ? "" : it->second;
      if (auto d = s3.query.find("delimiter"); d != s3.query.end()) ctx["s3:delimiter"] = d->second;
    }
    resource = s3.bucket.empty() ? "arn:aws:s3:::*" : ArnOfS3(s3.bucket, info->object_resource ? s3.key : "");
    if (auto denied = gate_->Authorize(principal, info->iam_action, resource, request, ctx)) {
      metrics_->AuthDenied(denied->code);
      note->error_code = denied->code;
      return RenderError(protocol, *denied, request);
    }
  }
  Outcome out = s3_->Handle(s3, request, principal, *gate_);
  if (auto* err = std::get_if<ApiError>(&out)) {
    note->error_code = err->code;
    if (err->code == "AccessDenied") metrics_->AuthDenied(err->code);
    return RenderError(protocol, *err, request);
  }
  if (info && info->audited_write && info->iam_action) gate_->AuditWrite(principal, info->iam_action, resource, request);
  return std::get<HttpResponse>(std::move(out));
}

template <class Run>
HttpResponse Dispatcher::AuthorizeAndRun(Protocol protocol, const std::string& action,
                                         const std::string& resource, bool audited_write, HttpRequest& request,
                                         const Principal& principal, RequestNote* note, Run run) {
  // An empty action: the handler decides itself (STS AssumeRole weighs the role's trust policy)
  // or nothing needs permission (GetCallerIdentity).
  if (auto denied = action.empty() ? std::nullopt : gate_->Authorize(principal, action, resource, request, {})) {
    metrics_->AuthDenied(denied->code);
    note->error_code = denied->code;
    return RenderError(protocol, *denied, request);
  }
  Outcome out = run();
  if (auto* err = std::get_if<ApiError>(&out)) {
    note->error_code = err->code;
    return RenderError(protocol, *err, request);
  }
  if (audited_write) gate_->AuditWrite(principal, action, resource, request);
  return std::get<HttpResponse>(std::move(out));
}

HttpResponse Dispatcher::HandleJson(HttpRequest& request, const Principal& principal,
                                    RequestNote* note) {
  const std::string target = request.HeaderOr("x-amz-target");
  note->operation = target.substr(target.find('.') == std::string::npos ? 0 : target.find('.') + 1);
  auto it = json_ops_.find(target);
  if (it == json_ops_.end()) {
    ApiError e = MakeError(400, "UnknownOperationException", "Unknown operation " + target);
    note->error_code = e.code;
    return RenderError(Protocol::kJson, e, request);
  }
  note->api = it->second.first;
  const JsonOperation& op = it->second.second;
  const std::string* ct = request.Header("content-type");
  if (op.accepts_cbor && ct && ct->rfind(kCborContentType, 0) == 0) {
    auto input = DecodeAwsCbor(request.body);
    HttpResponse r;
    if (!input.ok() || !input->is_object()) {
      ApiError e = MakeError(400, "SerializationException",
                             input.ok() ? "the request body is not a CBOR map" : input.status().message());
      note->error_code = e.code;
      r = RenderError(Protocol::kJson, e, request);
    } else {
      r = AuthorizeAndRun(Protocol::kJson, op.iam_action, op.resource(*input), op.audited_write, request,
                          principal, note, [&] { return op.handler(*input, principal, request); });
    }
    return AsCbor(std::move(r));
  }
  if (!ct || ct->rfind("application/x-amz-json-1.", 0) != 0) {
    ApiError e = MakeError(400, "SerializationException", "Content-Type must be application/x-amz-json-1.1");
    note->error_code = e.code;
    return RenderError(Protocol::kJson, e, request);
  }
  if (op.fast) {
    if (std::optional<FastJsonCall> call = op.fast(request)) {
      return AuthorizeAndRun(Protocol::kJson, op.iam_action, call->resource, op.audited_write, request, principal,
                             note, [&] { return call->run(); });
    }
  }
  auto input = nlohmann::json::parse(request.body.empty() ? std::string("{}") : request.body, nullptr, false);
  if (input.is_discarded() || !input.is_object()) {
    ApiError e = MakeError(400, "SerializationException", "the request body is not a JSON object");
    note->error_code = e.code;
    return RenderError(Protocol::kJson, e, request);
  }
  return AuthorizeAndRun(Protocol::kJson, op.iam_action, op.resource(input), op.audited_write, request,
                         principal, note, [&] { return op.handler(input, principal, request); });
}

HttpResponse Dispatcher::HandleQuery(HttpRequest& request, const Principal& principal,
                                     RequestNote* note) {
  std::map<std::string, std::string> params;
  for (std::string_view text : {std::string_view(request.raw_query),
                                IsFormBody(request) ? std::string_view(request.body) : std::string_view()}) {
    auto parsed = ParseQuery(text, /*plus_is_space=*/true);
    if (!parsed) {
      ApiError e = MakeError(400, "MalformedQueryString", "the form body or query string is malformed");
      note->error_code = e.code;
      return RenderError(Protocol::kQuery, e, request);
    }
    for (auto& [k, v] : *parsed) params.emplace(std::move(k), std::move(v));
  }
  std::string action = params.count("Action") ? params["Action"] : "";
  note->operation = action.empty() ? "-" : action;
  auto it = query_ops_.find(action);
  if (it == query_ops_.end()) {
    ApiError e = MakeError(400, "InvalidAction", "The action " + action + " is not valid for this endpoint.");
    note->error_code = e.code;
    return RenderError(Protocol::kQuery, e, request);
  }
  note->api = it->second.first;
  const QueryOperation& op = it->second.second;
  return AuthorizeAndRun(Protocol::kQuery, op.iam_action, op.resource(params), op.audited_write, request,
                         principal, note,
                         [&] { return op.handler(params, principal, request); });
}

}  // namespace saleslake::server::internal
