// End-to-end tests of `saleslake serve` through real clients: the AWS CLI v2, boto3, the AWS SDK
// for JavaScript, and raw sockets for what no polite client sends.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "server/server_test_util.h"
#include "support/test_support.h"

namespace saleslake::testing {
namespace {

constexpr const char* kBucket = "my-analytics-bucket";
constexpr const char* kAdminPolicy =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})";

std::string Md5sum(const std::string& path) {
  auto r = RunProgram({"md5sum", path});
  return r.out.substr(0, 32);
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_.Join("lake");
    auto init = RunSaleslakeIn(lake_, {"init"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }

  void StartServer(std::vector<std::string> extra = {}) {
    extra.push_back("--access-log");
    extra.push_back(dir_.Join("access.jsonl"));
    std::string err;
    ASSERT_TRUE(server_.Start(lake_, extra, &err)) << err;
  }

  // An admin key and the environment the AWS CLI / boto3 / the SDK read it from.
  void UseAdmin() {
    admin_ = CreateUserWithKey(lake_, "s3admin", kAdminPolicy);
    WriteFile(dir_.Join("aws-config"), "[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n");
    env_ = {"AWS_ACCESS_KEY_ID=" + admin_.id, "AWS_SECRET_ACCESS_KEY=" + admin_.secret,
            "AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=" + dir_.Join("aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
            "AWS_PAGER=", "HOME=" + dir_.path()};
  }

  CommandResult Aws(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/aws", "--endpoint-url", server_.url()};
    argv.insert(argv.end(), args.begin(), args.end());
    if (args.size() > 1 && args[0] == "s3" && (args[1] == "cp" || args[1] == "sync")) {
      argv.push_back("--no-progress");
    }
    return RunProgram(argv, "", env_);
  }

  TempDir dir_;
  std::string lake_;
  ServerProcess server_;
  Key admin_;
  std::vector<std::string> env_;
};

TEST_F(ServerTest, AwsCliCopySyncRangePresign) {
  UseAdmin();
  StartServer();
  auto ls = Aws({"s3", "ls"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find(kBucket), std::string::npos) << ls.out;

  // A large file goes up in parts (the CLI switches to multipart at 8 MB) and comes back equal.
  std::string big = dir_.Join("big.bin");
  {
    std::mt19937_64 rng(7);
    std::string data(100u << 20, '\0');
    for (size_t i = 0; i + 8 <= data.size(); i += 8) {
      uint64_t v = rng();
      std::memcpy(&data[i], &v, 8);
    }
    WriteFile(big, data);
  }
  auto up = Aws({"s3", "cp", big, std::string("s3://") + kBucket + "/raw_data/big.bin"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  auto down = Aws({"s3", "cp", std::string("s3://") + kBucket + "/raw_data/big.bin", dir_.Join("big.out")});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(Md5sum(big), Md5sum(dir_.Join("big.out")));
  auto head = Aws({"s3api", "head-object", "--bucket", kBucket, "--key", "raw_data/big.bin"});
  EXPECT_NE(head.out.find("-13\\\""), std::string::npos) << head.out;  // 100 MiB / 8 MiB parts
  std::remove(dir_.Join("big.out").c_str());

  // Ranged GET.
  auto range = Aws({"s3api", "get-object", "--bucket", kBucket, "--key", "raw_data/big.bin", "--range",
                    "bytes=0-99", dir_.Join("range.out")});
  ASSERT_EQ(range.exit_code, 0) << range.err;
  EXPECT_EQ(ReadFile(dir_.Join("range.out")), ReadFile(big).substr(0, 100));
  std::remove(big.c_str());

  // cp --recursive and sync (twice: the second copies nothing).
  std::string tree = dir_.Join("tree");
  RunProgram({"mkdir", "-p", tree + "/sub"});
  for (int i = 0; i < 4; ++i) WriteFile(tree + "/f" + std::to_string(i) + ".csv", "a,b\n" + std::to_string(i) + ",x\n");
  WriteFile(tree + "/sub/deep name.txt", "deep");
  auto rec = Aws({"s3", "cp", "--recursive", tree, std::string("s3://") + kBucket + "/raw_data/tree/"});
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  auto sync1 = Aws({"s3", "sync", tree, std::string("s3://") + kBucket + "/raw_data/synced/"});
  ASSERT_EQ(sync1.exit_code, 0) << sync1.err;
  EXPECT_NE(sync1.out.find("upload:"), std::string::npos);
  auto sync2 = Aws({"s3", "sync", tree, std::string("s3://") + kBucket + "/raw_data/synced/"});
  ASSERT_EQ(sync2.exit_code, 0) << sync2.err;
  EXPECT_EQ(sync2.out, "") << "second sync copied again";
  auto back = Aws({"s3", "sync", std::string("s3://") + kBucket + "/raw_data/synced/", dir_.Join("back")});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(ReadFile(dir_.Join("back/sub/deep name.txt")), "deep");
  auto list = Aws({"s3", "ls", "--recursive", std::string("s3://") + kBucket + "/raw_data/tree/"});
  EXPECT_NE(list.out.find("raw_data/tree/sub/deep name.txt"), std::string::npos) << list.out;

  // rm, then the object is gone.
  auto rm = Aws({"s3", "rm", std::string("s3://") + kBucket + "/raw_data/tree/f0.csv"});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  auto gone = Aws({"s3api", "head-object", "--bucket", kBucket, "--key", "raw_data/tree/f0.csv"});
  EXPECT_NE(gone.exit_code, 0);
  auto rmr = Aws({"s3", "rm", "--recursive", std::string("s3://") + kBucket + "/raw_data/synced/"});
  ASSERT_EQ(rmr.exit_code, 0) << rmr.err;

  // presign, then plain curl.
  auto url = Aws({"s3", "presign", std::string("s3://") + kBucket + "/raw_data/tree/f1.csv", "--expires-in", "300"});
  ASSERT_EQ(url.exit_code, 0) << url.err;
  std::string u = url.out.substr(0, url.out.find('\n'));
  auto curl = RunProgram({"curl", "-s", "-w", "\n%{http_code}", u});
  EXPECT_EQ(curl.out, "a,b\n1,x\n\n200");
  std::string bad_sig = u;
  size_t sig = bad_sig.find("X-Amz-Signature=");
  ASSERT_NE(sig, std::string::npos);
  bad_sig[sig + 16] = bad_sig[sig + 16] == '0' ? '1' : '0';
  auto tampered = RunProgram({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", bad_sig});
  EXPECT_EQ(tampered.out, "403");

  // The access log has one JSON line per request, without signatures.
  EXPECT_EQ(server_.Stop(), 0);
  std::string log = ReadFile(dir_.Join("access.jsonl"));
  EXPECT_NE(log.find("\"operation\":\"UploadPart\""), std::string::npos);
  EXPECT_NE(log.find("X-Amz-Signature=REDACTED"), std::string::npos);
  EXPECT_EQ(log.find(admin_.secret), std::string::npos);
}

TEST_F(ServerTest, Boto3RoundTrip) {
  UseAdmin();
  StartServer();
  auto r = RunProgram({"/usr/bin/python3", std::string(SALESLAKE_SOURCE_DIR) + "/tests/server/clients/boto3_roundtrip.py",
                       server_.url(), kBucket}, "", env_);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("boto3 round trip ok"), std::string::npos) << r.out << r.err;
}

TEST_F(ServerTest, JavaScriptSdkRoundTrip) {
  UseAdmin();
  StartServer();
  auto r = RunProgram({"node", std::string(SALESLAKE_SOURCE_DIR) + "/tools/peers/s3_sdk_roundtrip.mjs",
                       server_.url(), kBucket}, "", env_);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("sdk round trip ok"), std::string::npos) << r.out << r.err;
}

// A file uploaded with `/usr/bin/aws s3 cp` (Debian's AWS CLI v2) is crawled and loaded by
// my-etl-job exactly like one uploaded with `saleslake upload`: same event, same rows. The
// server runs the crawl and the job itself (the default rules of pipeline.yaml, src/events);
// the other lake runs them by hand.
TEST_F(ServerTest, AwsCliUploadFeedsTheEtlJobLikeSaleslakeUpload) {
  UseAdmin();
  StartServer();
  std::string csv = dir_.Join("sales.csv");
  ASSERT_EQ(RunSaleslake({"generate", "--rows", "3000", "--seed", "5", "--messy", "--out", csv}).exit_code, 0);
  auto cp = Aws({"s3", "cp", csv, std::string("s3://") + kBucket + "/raw_data/"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  std::string other = dir_.Join("other");
  ASSERT_EQ(RunSaleslakeIn(other, {"init"}).exit_code, 0);
  ASSERT_EQ(RunSaleslakeIn(other, {"upload", csv}).exit_code, 0);
  auto crawl = RunSaleslakeIn(other, {"crawl"});
  EXPECT_EQ(crawl.exit_code, 0) << crawl.err;
  EXPECT_NE(crawl.out.find("raw_data/sales.csv"), std::string::npos) << crawl.out;
  auto job = RunSaleslakeIn(other, {"start-job", "--job-name", "my-etl-job", "--format", "json"});
  EXPECT_EQ(job.exit_code, 0) << job.err;
  // The served lake: wait (bounded) for the job run the upload's event started.
  bool ran = false;
  for (int i = 0; i < 1500 && !ran; ++i) {
    ran = ReadFile(lake_ + "/_system/events.jsonl").find("\"type\":\"job.") != std::string::npos;
    if (!ran) usleep(20000);
  }
  ASSERT_TRUE(ran) << ReadFile(lake_ + "/_system/events.jsonl");

  auto summary = [](const std::string& lake) {
    auto q = RunSaleslakeIn(lake, {"query", "SELECT count(*), round(sum(amount), 2), count(DISTINCT customer_id) FROM sales_data",
                                   "--format", "csv"});
    EXPECT_EQ(q.exit_code, 0) << q.err;
    std::string events = ReadFile(lake + "/_system/events.jsonl");
    size_t sha = events.find("\"sha256\":");
    return q.out + "|" + (sha == std::string::npos ? "" : events.substr(sha, 76));
  };
  std::string via_s3 = summary(lake_);
  EXPECT_EQ(via_s3, summary(other));
  EXPECT_NE(ReadFile(lake_ + "/_system/events.jsonl").find("\"type\":\"crawler.succeeded\""), std::string::npos);
  // /metrics reads the job figures from the run history.
  auto metrics = RawExchange(server_.port(), "GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n");
  EXPECT_NE(metrics.body.find("saleslake_job_runs_total{job=\"my-etl-job\",status=\""), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("saleslake_job_rows_loaded_total{job=\"my-etl-job\"}"), std::string::npos);
  EXPECT_NE(metrics.body.find("saleslake_request_duration_seconds_bucket{api=\"s3\",operation=\"PutObject\",le=\"+Inf\"} 1"),
            std::string::npos);
}

TEST_F(ServerTest, ServesTls) {
  UseAdmin();
  auto cert = RunProgram({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                          "/CN=localhost", "-keyout", dir_.Join("key.pem"), "-out", dir_.Join("cert.pem")});
  ASSERT_EQ(cert.exit_code, 0) << cert.err;
  StartServer({"--tls-cert", dir_.Join("cert.pem"), "--tls-key", dir_.Join("key.pem")});
  std::string url = "https://127.0.0.1:" + std::to_string(server_.port());
  auto health = RunProgram({"curl", "-sk", url + "/healthz"});
  EXPECT_EQ(health.out, "ok\n") << health.err;
  auto plain = RunProgram({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", server_.url() + "/healthz"});
  EXPECT_NE(plain.out, "200");
  auto ls = RunProgram({"/usr/bin/aws", "--endpoint-url", url, "--no-verify-ssl", "s3", "ls"}, "", env_);
  EXPECT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find(kBucket), std::string::npos);
  EXPECT_EQ(server_.Stop(), 0);
}

TEST_F(ServerTest, AuthenticationAndAuthorization) {
  UseAdmin();
  Key nobody = CreateUserWithKey(lake_, "nobody", "");
  Key reader = CreateUserWithKey(lake_, "reader",
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]})");
  StartServer();
  int port = server_.port();
  // Only /healthz answers without a key.
  EXPECT_EQ(RawExchange(port, "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n").status, 200);
  auto anon = RawExchange(port, "GET /my-analytics-bucket HTTP/1.1\r\nhost: x\r\n\r\n");
  EXPECT_EQ(anon.status, 403);
  EXPECT_NE(anon.body.find("<Code>AccessDenied</Code>"), std::string::npos) << anon.body;
  EXPECT_FALSE(anon.headers["x-amz-request-id"].empty());
  // A wrong secret.
  Key wrong{admin_.id, admin_.secret + "x"};
  auto bad = RawExchange(port, SignedRequest("GET", "/my-analytics-bucket?list-type=2", port, wrong));
  EXPECT_EQ(bad.status, 403);
  EXPECT_NE(bad.body.find("SignatureDoesNotMatch"), std::string::npos) << bad.body;
  // A user with no policy: implicit deny; a reader may read and not write.
  EXPECT_EQ(RawExchange(port, SignedRequest("GET", "/my-analytics-bucket?list-type=2", port, nobody)).status, 403);
  EXPECT_EQ(RawExchange(port, SignedRequest("GET", "/my-analytics-bucket?list-type=2", port, reader)).status, 200);
  auto put = RawExchange(port, SignedRequest("PUT", "/my-analytics-bucket/raw_data/r.txt", port, reader, "data"));
  EXPECT_EQ(put.status, 403) << put.body;
  auto ok = RawExchange(port, SignedRequest("PUT", "/my-analytics-bucket/raw_data/r.txt", port, admin_, "data"));
  EXPECT_EQ(ok.status, 200) << ok.body;
  // A body that does not match the signed hash.
  std::string raw = SignedRequest("PUT", "/my-analytics-bucket/raw_data/t.txt", port, admin_, "abcd");
  raw.replace(raw.size() - 4, 4, "abce");
  auto tampered = RawExchange(port, raw);
  EXPECT_EQ(tampered.status, 400) << tampered.body;
  EXPECT_EQ(RawExchange(port, SignedRequest("HEAD", "/my-analytics-bucket/raw_data/t.txt", port, admin_), 10000, true).status, 404);
  // Denials are audited; /metrics (loopback) counts them.
  auto metrics = RawExchange(port, "GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("saleslake_auth_denials_total{code=\"AccessDenied\"}"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("saleslake_requests_total{api=\"s3\",operation=\"PutObject\",status=\"200\"} 1"),
            std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("saleslake_open_connections"), std::string::npos);
  auto audit = RunProgram({"sh", "-c", "cat " + lake_ + "/_system/audit/*.jsonl"});
  EXPECT_NE(audit.out.find("user/nobody"), std::string::npos) << audit.out;
}

TEST_F(ServerTest, RefusesUnsafeBinds) {
  auto r = RunSaleslakeIn(lake_, {"serve", "--host", "0.0.0.0", "--port", "0", "--no-auth"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--no-auth"), std::string::npos) << r.err;
  CreateUserWithKey(lake_, "s3admin", kAdminPolicy);
  r = RunSaleslakeIn(lake_, {"serve", "--host", "0.0.0.0", "--port", "0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("TLS is required"), std::string::npos) << r.err;
}

// A second `serve` of a lake that is being served fails with the reason and exit 1 (it crashed:
// the services that never started were stopped too, and Athena's Stop used a query manager
// that did not exist).
TEST_F(ServerTest, ASecondServerOfAServedLakeRefusesCleanly) {
  StartServer();
  auto second = RunSaleslakeIn(lake_, {"serve", "--port", "0"});
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_NE(second.err.find("open in another process"), std::string::npos) << second.err;
  EXPECT_EQ(server_.Stop(), 0);
}

}  // namespace
}  // namespace saleslake::testing
