// The dispatcher: protocol detection, the operation tables of the JSON 1.1 and query protocols,
// and each protocol's error format.
#include <gtest/gtest.h>

#include "io/local_store.h"
#include "server/internal/aws_json.h"
#include "server/internal/cbor.h"
#include "server/internal/dispatch.h"
#include "server/internal/metrics.h"
#include "server/internal/s3.h"
#include "server/test_request.h"
#include "support/test_support.h"

namespace saleslake::server::internal {
namespace {

class DispatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = io::LocalStore::Open(dir_.path(), true);
    ASSERT_TRUE(store.ok());
    lake_ = std::move(*store);
    gate_ = MakeOpenGate();
    s3_ = std::make_unique<S3Service>(lake_.get(), lake_.get(), "my-analytics-bucket");
    DispatcherOptions options;
    options.bucket = "my-analytics-bucket";
    options.metrics_open = true;
    options.lake = lake_.get();
    dispatcher_ = std::make_unique<Dispatcher>(options, gate_.get(), s3_.get(), &metrics_);
    JsonOperation list;
    list.iam_action = "kinesis:ListStreams";
    list.resource = [](const nlohmann::json&) { return std::string("*"); };
    list.handler = [](const nlohmann::json& in, const Principal&, const HttpRequest&) -> Outcome {
      if (in.contains("Fail")) return MakeError(400, "InvalidArgumentException", "asked to fail");
      HttpResponse r;
      r.body = R"({"StreamNames":["s1"]})";
      return r;
    };
    dispatcher_->AddJsonOperation("kinesis", "Kinesis_20131202.ListStreams", list);
    QueryOperation topics;
    topics.iam_action = "sns:ListTopics";
    topics.resource = [](const std::map<std::string, std::string>&) { return std::string("*"); };
    topics.handler = [](const std::map<std::string, std::string>& p, const Principal&, const HttpRequest&) -> Outcome {
      HttpResponse r;
      r.body = "<ListTopicsResponse>" + p.at("Version") + "</ListTopicsResponse>";
      return r;
    };
    dispatcher_->AddQueryOperation("sns", "ListTopics", topics);
  }

  HttpResponse Run(std::string method, std::string target, std::vector<std::pair<std::string, std::string>> headers,
                   std::string body, RequestNote* note) {
    HttpRequest r = MakeRequest(std::move(method), target);
    for (auto& [k, v] : headers) r.headers.emplace(k, v);
    r.body = std::move(body);
    r.request_id = "REQ1";
    return dispatcher_->Handle(r, note);
  }

  saleslake::testing::TempDir dir_;
  std::unique_ptr<io::LocalStore> lake_;
  std::unique_ptr<Gate> gate_;
  std::unique_ptr<S3Service> s3_;
  Metrics metrics_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(DispatchTest, JsonProtocol) {
  RequestNote note;
  auto r = Run("POST", "/", {{"x-amz-target", "Kinesis_20131202.ListStreams"}, {"content-type", "application/x-amz-json-1.1"}},
               "{}", &note);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"StreamNames":["s1"]})");
  EXPECT_EQ(note.api, "kinesis");
  EXPECT_EQ(note.operation, "ListStreams");
  auto e = Run("POST", "/", {{"x-amz-target", "Kinesis_20131202.ListStreams"}, {"content-type", "application/x-amz-json-1.1"}},
               R"({"Fail":1})", &note);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(nlohmann::json::parse(e.body)["__type"], "InvalidArgumentException");
  auto bad = Run("POST", "/", {{"x-amz-target", "Kinesis_20131202.ListStreams"}, {"content-type", "application/x-amz-json-1.1"}},
                 "{not json", &note);
  EXPECT_EQ(nlohmann::json::parse(bad.body)["__type"], "SerializationException");
  auto ct = Run("POST", "/", {{"x-amz-target", "Kinesis_20131202.ListStreams"}, {"content-type", "text/plain"}}, "{}", &note);
  EXPECT_EQ(ct.status, 400);
  auto unknown = Run("POST", "/", {{"x-amz-target", "Glue.Nope"}, {"content-type", "application/x-amz-json-1.1"}}, "{}", &note);
  EXPECT_EQ(nlohmann::json::parse(unknown.body)["__type"], "UnknownOperationException");
}

TEST_F(DispatchTest, CborOnlyForOperationsThatTakeIt) {
  JsonOperation echo;
  echo.iam_action = "kinesis:Echo";
  echo.resource = [](const nlohmann::json&) { return std::string("*"); };
  echo.handler = [](const nlohmann::json& in, const Principal&, const HttpRequest&) -> Outcome { return JsonOk(in); };
  echo.accepts_cbor = true;
  dispatcher_->AddJsonOperation("kinesis", "Kinesis_20131202.Echo", echo);
  echo.accepts_cbor = false;
  dispatcher_->AddJsonOperation("glue", "AWSGlue.Echo", echo);
  const std::string body = EncodeAwsCbor({{"Data", "AP8="}, {"N", 3}});
  RequestNote note;
  auto yes = Run("POST", "/", {{"x-amz-target", "Kinesis_20131202.Echo"}, {"content-type", "application/x-amz-cbor-1.1"}},
                 body, &note);
  EXPECT_EQ(yes.status, 200);
  auto decoded = DecodeAwsCbor(yes.body);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, (nlohmann::json{{"Data", "AP8="}, {"N", 3}}));
  auto no = Run("POST", "/", {{"x-amz-target", "AWSGlue.Echo"}, {"content-type", "application/x-amz-cbor-1.1"}}, body,
                &note);
  EXPECT_EQ(no.status, 400);
  EXPECT_EQ(nlohmann::json::parse(no.body)["__type"], "SerializationException");
}

TEST_F(DispatchTest, RoutesByLongestPrefixBeforeS3) {
  auto route = [](std::string tag) {
    HttpRoute r;
    r.api = "trino";
    r.handler = [tag](HttpRequest&, RequestNote* note) {
      note->operation = tag;
      HttpResponse resp;
      resp.body = tag;
      return resp;
    };
    return r;
  };
  dispatcher_->AddRoute("/v1/", route("v1"));
  dispatcher_->AddRoute("/v1/statement/", route("statement"));
  RequestNote note;
  EXPECT_EQ(Run("POST", "/v1/statement/", {}, "SELECT 1", &note).body, "statement");
  EXPECT_EQ(note.api, "trino");
  EXPECT_EQ(Run("GET", "/v1/info", {}, "", &note).body, "v1");
  // Anything else is still S3 (here: an object of the bucket, absent).
  RequestNote s3note;
  auto r = Run("GET", "/my-analytics-bucket/v1/x", {}, "", &s3note);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(s3note.api, "s3");
}

TEST_F(DispatchTest, QueryProtocol) {
  RequestNote note;
  auto r = Run("POST", "/", {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"}},
               "Action=ListTopics&Version=2010-03-31", &note);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<ListTopicsResponse>2010-03-31</ListTopicsResponse>");
  EXPECT_EQ(note.api, "sns");
  auto get = Run("GET", "/?Action=ListTopics&Version=x", {}, "", &note);
  EXPECT_EQ(get.body, "<ListTopicsResponse>x</ListTopicsResponse>");
  auto bad = Run("POST", "/", {{"content-type", "application/x-www-form-urlencoded"}}, "Action=Nope", &note);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code>"), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find("<RequestId>REQ1</RequestId>"), std::string::npos);
  auto malformed = Run("POST", "/", {{"content-type", "application/x-www-form-urlencoded"}}, "Action=%zz", &note);
  EXPECT_NE(malformed.body.find("MalformedQueryString"), std::string::npos);
}

TEST_F(DispatchTest, RestXmlAndServerPaths) {
  RequestNote note;
  EXPECT_EQ(Run("GET", "/healthz", {}, "", &note).body, "ok\n");
  auto put = Run("PUT", "/my-analytics-bucket/raw_data/a.txt", {{"content-type", "text/csv"}}, "a,b\n", &note);
  EXPECT_EQ(put.status, 200);
  EXPECT_EQ(note.operation, "PutObject");
  auto head = Run("HEAD", "/my-analytics-bucket/raw_data/missing", {}, "", &note);
  EXPECT_EQ(head.status, 404);
  EXPECT_TRUE(head.body.empty());
  auto get = Run("GET", "/my-analytics-bucket/raw_data/missing", {}, "", &note);
  EXPECT_NE(get.body.find("<Error><Code>NoSuchKey</Code>"), std::string::npos);
  EXPECT_NE(get.body.find("<RequestId>REQ1</RequestId>"), std::string::npos);
  // A virtual-host POST /?delete is S3, not the query protocol.
  HttpRequest vh;
  vh.method = "POST";
  vh.target = vh.raw_path = "/";
  vh.raw_query = "delete";
  vh.headers.emplace("host", "my-analytics-bucket.localhost");
  vh.headers.emplace("content-type", "application/x-www-form-urlencoded");
  EXPECT_EQ(dispatcher_->Detect(vh), Protocol::kRestXml);
  metrics_.Observe("s3", "PutObject", 200, 0.002, 4, 0);
  auto m = Run("GET", "/metrics", {}, "", &note);
  EXPECT_NE(m.body.find("saleslake_requests_total{api=\"s3\",operation=\"PutObject\",status=\"200\"} 1"), std::string::npos);
  EXPECT_NE(m.body.find("saleslake_request_duration_seconds_bucket{api=\"s3\",operation=\"PutObject\",le=\"0.0025\"} 1"),
            std::string::npos) << m.body;
}

}  // namespace
}  // namespace saleslake::server::internal
