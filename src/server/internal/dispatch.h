// The one dispatcher for the three AWS wire protocols.
//
//   REST-XML (S3):     anything that is neither of the two below; path-style /bucket/key or
//                      virtual-host bucket.host/key.
//   JSON 1.1:          an X-Amz-Target: Service.Operation header (Kinesis, Glue, Athena).
//   Query:             POST / with a form body (or GET /?Action=...) naming Action= (SNS).
//
// Every request goes through the same steps: authenticate (Gate) -> decode into an operation of
// the API's table -> authorize the operation's IAM action on its resource -> handler. Errors from
// any step are rendered by the protocol in RenderError, with AWS's HTTP status and a request id.
// Thread safety: Handle may run on many worker threads at once; tables are filled before Start.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "io/object_store.h"
#include "server/internal/api_error.h"
#include "server/internal/gate.h"
#include "server/internal/http_types.h"

namespace saleslake::server::internal {

class Metrics;
class S3Service;
struct S3Request;

enum class Protocol { kRestXml, kJson, kQuery };

// What the access log and the metrics learn about a request from the dispatcher.
struct RequestNote {
  std::string api = "-";        // "s3", "kinesis", "sns", "server"
  std::string operation = "-";  // "GetObject"
  std::string principal;        // ARN, "" when unauthenticated
  std::string error_code;       // "" on success
};

using Outcome = std::variant<HttpResponse, ApiError>;

// What a hot operation's fast decoder (JsonOperation::fast) made of a request: the resource to
// authorize and the call to run once authorized.
struct FastJsonCall {
  std::string resource;
  std::function<Outcome()> run;
};

// An operation of a JSON 1.1 API: input is the parsed request body.
struct JsonOperation {
  std::string iam_action;  // "kinesis:PutRecord"
  // The ARN the operation acts on (for authorization), from its input.
  std::function<std::string(const nlohmann::json& input)> resource;
  std::function<Outcome(const nlohmann::json& input, const Principal& principal,
                        const HttpRequest& request)> handler;
  bool audited_write = false;  // a change (CreateStream, StartJobRun): audited when it succeeds
  // Optional, for hot operations with large bodies (PutRecords): decodes the raw body without a
  // JSON tree. It declines (nullopt) whatever it does not fully understand, and the generic path
  // above decodes that input and reports its errors, so both paths answer alike.
  std::function<std::optional<FastJsonCall>(const HttpRequest& request)> fast;
  // Also takes AWS's CBOR format (application/x-amz-cbor-1.1), as Kinesis does: the request is
  // decoded to the same JSON document for the same handler, the answer encoded back (cbor.h).
  bool accepts_cbor = false;
};

// An operation of a query-protocol API: input is the decoded form parameters.
struct QueryOperation {
  std::string iam_action;  // "sns:Publish"; "" = the handler authorizes (or none is needed)
  std::function<std::string(const std::map<std::string, std::string>& params)> resource;
  std::function<Outcome(const std::map<std::string, std::string>& params,
                        const Principal& principal, const HttpRequest& request)> handler;
  bool audited_write = false;  // a change (CreateTopic, Subscribe): audited when it succeeds
};

// A route outside the AWS protocols (the Trino protocol under /v1/, the web console under
// /console/): matched by path prefix before protocol detection. The route authenticates on its
// own terms (Trino basic auth, a console session cookie) through the Gate it was given and
// renders its own errors.
struct HttpRoute {
  std::string api;  // "trino", "console": for metrics and the access log
  std::function<HttpResponse(HttpRequest& request, RequestNote* note)> handler;
};

struct DispatcherOptions {
  std::string bucket;
  bool metrics_open = false;  // /metrics needs no key (loopback bind or --no-auth)
  const io::ObjectStore* lake = nullptr;  // for the job figures of /metrics
  // The lake is a local directory: an object's GET/HEAD is an open and an fstat of a file in
  // the page cache, short enough to answer on the connection's I/O thread (HandleInline).
  bool inline_object_reads = false;
};

class Dispatcher {
 public:
  Dispatcher(DispatcherOptions options, Gate* gate, S3Service* s3, Metrics* metrics);

  // JSON 1.1: `target` is the full X-Amz-Target ("Kinesis_20131202.PutRecord"); `api` names the
  // service in metrics and logs ("kinesis").
  void AddJsonOperation(std::string api, std::string target, JsonOperation op);
  // Query protocol: `action` is the Action= value ("Publish").
  void AddQueryOperation(std::string api, std::string action, QueryOperation op);
  // A path-prefix route ("/v1/", "/console/"); the longest matching prefix wins. The S3 bucket
  // cannot be named like a route's first segment.
  void AddRoute(std::string path_prefix, HttpRoute route);

  // Never fails: errors become the protocol's error response.
  HttpResponse Handle(HttpRequest& request, RequestNote* note);
  // The same answer as Handle for the requests whose work is short and bounded: S3 GetObject and
  // HeadObject over a local lake (options.inline_object_reads); the caller runs them where the
  // request was read (the I/O thread), without the two thread hand-offs of the worker pool, which
  // cost more than such a GET itself. nullopt, before any side effect, for every other request
  // (including ones whose S3 decoding fails: Handle reports those).
  std::optional<HttpResponse> HandleInline(HttpRequest& request, RequestNote* note);

  // The protocol a request speaks (exposed for tests and the fuzzer).
  Protocol Detect(const HttpRequest& request) const;

  static HttpResponse RenderError(Protocol protocol, const ApiError& error,
                                  const HttpRequest& request);

 private:
  HttpResponse HandleJson(HttpRequest& request, const Principal& principal, RequestNote* note);
  HttpResponse HandleQuery(HttpRequest& request, const Principal& principal, RequestNote* note);
  HttpResponse HandleMetrics(HttpRequest& request, RequestNote* note);
  // Verifies the request's signature into *principal (noted); on failure the error response in
  // the protocol's format, counted and noted.
  std::optional<HttpResponse> Authenticate(Protocol protocol, HttpRequest& request, RequestNote* note,
                                           Principal* principal);
  // The S3 path after protocol detection: authenticate, then `decoded` (DecodeS3Request of the
  // request, done by the caller) authorized and run.
  HttpResponse HandleS3(HttpRequest& request, RequestNote* note,
                        std::variant<S3Request, ApiError>& decoded);
  // Authorizes `action` on `resource`, then runs the operation; errors in the protocol's format.
  template <class Run>
  HttpResponse AuthorizeAndRun(Protocol protocol, const std::string& action, const std::string& resource,
                               bool audited_write,
                               HttpRequest& request, const Principal& principal, RequestNote* note,
                               Run run);

  DispatcherOptions options_;
  Gate* gate_;
  S3Service* s3_;
  Metrics* metrics_;
  std::map<std::string, std::pair<std::string, JsonOperation>> json_ops_;    // target -> (api, op)
  std::map<std::string, std::pair<std::string, QueryOperation>> query_ops_;  // action -> (api, op)
  std::map<std::string, HttpRoute, std::greater<>> routes_;  // prefix -> route, longest first
};

}  // namespace saleslake::server::internal
