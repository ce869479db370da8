// S3Store fault handling against a scripted HTTP server on loopback: each connection's request
// gets the next scripted reply (an S3 error, a dropped connection, a truncated body, success).
// Retries wait through an injected sleeper, so nothing here sleeps.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <chrono>
#include <thread>

#include "io/s3_store.h"
#include "support/http_request.h"
#include "support/test_support.h"

namespace saleslake::io {
namespace {

struct Reply {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  enum Kind { kNormal, kDrop, kTruncate } kind = kNormal;
};

struct Seen {
  std::string method, target, head, body;
};

// One request per connection (the reply says "Connection: close"), replies taken in order.
// Every wait is bounded by poll timeouts; the destructor stops and joins the thread.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<Reply> script) : script_(script.begin(), script.end()) {
    fd_ = saleslake::testing::ListenLoopback(&port_, 16);
    thread_ = std::thread([this] { Loop(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Seen> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      Serve(c);
      close(c);
    }
  }
  void Serve(int c) {
    std::string in;
    size_t head_end = 0;
    if (!saleslake::testing::ReadHttpRequest(c, &in, &head_end)) return;
    Seen s;
    s.head = in.substr(0, head_end);
    s.body = in.substr(head_end + 4);
    size_t sp1 = s.head.find(' '), sp2 = s.head.find(' ', sp1 + 1);
    s.method = s.head.substr(0, sp1);
    s.target = s.head.substr(sp1 + 1, sp2 - sp1 - 1);
    Reply r;
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(s);
      if (script_.empty()) {
        r.status = 500;
        r.body = "<Error><Code>ScriptEnded</Code></Error>";
      } else {
        r = script_.front();
        script_.pop_front();
      }
    }
    if (r.kind == Reply::kDrop) return;
    std::string out = "HTTP/1.1 " + std::to_string(r.status) + " X\r\nConnection: close\r\n";
    for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
    size_t announced = r.body.size() + (r.kind == Reply::kTruncate ? 100 : 0);
    out += "Content-Length: " + std::to_string(announced) + "\r\n";
    out += "\r\n";
    if (s.method != "HEAD") out += r.body;
    (void)!write(c, out.data(), out.size());
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::deque<Reply> script_;
  std::vector<Seen> seen_;
};

Reply S3Error(int status, const std::string& code) {
  return {status, "<?xml version=\"1.0\"?><Error><Code>" + code + "</Code><Message>scripted " + code +
                      "</Message></Error>"};
}

// The options of a store on a scripted server: retries wait into `slept` (never really), fixed
// jitter and signing time. Tests that need more change the fields they need.
S3Options ScriptedOptions(const std::string& endpoint, std::vector<int64_t>* slept) {
  S3Options o;
  o.bucket = "my-analytics-bucket";
  o.prefix = "lake";
  o.endpoint = endpoint;
  o.path_style = true;
  o.access_key_id = "AKIDEXAMPLE";
  o.secret_access_key = "secret";
  o.sleep_ms = [slept](int64_t ms) { slept->push_back(ms); };
  o.random = [] { return uint64_t{7}; };
  o.now_s = [] { return int64_t{1'700'000'000}; };
  return o;
}

std::unique_ptr<S3Store> OpenAt(const std::string& endpoint, std::vector<int64_t>* slept, int attempts = 4,
                                bool trace = false) {
  S3Options o = ScriptedOptions(endpoint, slept);
  o.trace = trace;
  o.max_attempts = attempts;
  auto s = S3Store::Open(std::move(o));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

TEST(S3StoreFaults, SlowDownAndServerErrorsAreRetriedThenSucceed) {
  ScriptedServer server({S3Error(503, "SlowDown"), S3Error(500, "InternalError"), {200, "", {{"ETag", "\"e\""}}}});
  std::vector<int64_t> slept;
  auto store = OpenAt(server.endpoint(), &slept);
  ASSERT_TRUE(store);
  Status s = store->Put("raw_data/a.csv", "x,y\n1,2\n");
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(slept.size(), 2u);
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 3u);
  for (const Seen& r : seen) {
    EXPECT_EQ(r.method, "PUT");
    EXPECT_EQ(r.target, "/my-analytics-bucket/lake/raw_data/a.csv");
    EXPECT_EQ(r.body, "x,y\n1,2\n");  // the same request each time
    EXPECT_NE(r.head.find("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/s3/aws4_request"),
              std::string::npos) << r.head;
  }
}

// SALESLAKE_S3_TRACE=1: one stderr line per attempt, with what was asked and what came back.
TEST(S3StoreFaults, TraceShowsEveryAttempt) {
  ScriptedServer server({S3Error(503, "SlowDown"), {200, "x,y\n", {{"ETag", "\"e\""}}}});
  std::vector<int64_t> slept;
  auto store = OpenAt(server.endpoint(), &slept, 4, /*trace=*/true);
  ASSERT_TRUE(store);
  ::testing::internal::CaptureStderr();
  auto got = store->Get("raw_data/a.csv");
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_NE(err.find("GET /lake/raw_data/a.csv -> 503"), std::string::npos) << err;
  EXPECT_NE(err.find("GET /lake/raw_data/a.csv -> 200 4 B"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 2) << err;
}

TEST(S3StoreFaults, GivesUpWithTheLastErrorAfterTheLastAttempt) {
  ScriptedServer server({S3Error(500, "InternalError"), S3Error(503, "SlowDown"), S3Error(500, "InternalError")});
  std::vector<int64_t> slept;
  auto store = OpenAt(server.endpoint(), &slept, 3);
  ASSERT_TRUE(store);
  auto got = store->Get("catalog/x.json");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kIOError);
  EXPECT_NE(got.status().message().find("HTTP 500 InternalError"), std::string::npos) << got.status().ToString();
  EXPECT_NE(got.status().message().find("gave up after 3 attempts"), std::string::npos);
  EXPECT_NE(got.status().message().find("s3://my-analytics-bucket/lake/catalog/x.json"), std::string::npos);
  EXPECT_EQ(slept.size(), 2u);
}

TEST(S3StoreFaults, ConnectionRefusedIsAClearError) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);  // nothing listens there now
  std::string endpoint = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  std::vector<int64_t> slept;
  auto store = OpenAt(endpoint, &slept);
  ASSERT_TRUE(store);
  auto e = store->Exists("pipeline.yaml");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kIOError);
  EXPECT_NE(e.status().message().find("connect"), std::string::npos) << e.status().ToString();
  EXPECT_NE(e.status().message().find(endpoint), std::string::npos) << e.status().ToString();
  EXPECT_EQ(slept.size(), 3u);  // retried: a server restarting is worth waiting for
}

TEST(S3StoreFaults, DroppedConnectionsAndTruncatedBodiesAreRetried) {
  Reply truncated{200, "0123"};
  truncated.kind = Reply::kTruncate;
  Reply dropped;
  dropped.kind = Reply::kDrop;
  ScriptedServer server({dropped, truncated, {200, "0123456789"}});
  std::vector<int64_t> slept;
  auto store = OpenAt(server.endpoint(), &slept);
  ASSERT_TRUE(store);
  auto got = store->Get("raw_data/a.csv");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "0123456789");
  EXPECT_EQ(slept.size(), 2u);
}

// Opening an object for reads asks for its end with a suffix range: a server that ignores Range
// (200, everything) and one that answers 416 for an empty object both still give its size, and
// a truncated end is fetched again, and a server that takes a suffix range for a prefix is asked
// for the end by its offsets.
TEST(S3StoreFaults, OpeningReadsTheEndAndCopesWithServersThatMisreadRangesOrHaveNoEnd) {
  Reply truncated{206, "6789", {{"Content-Range", "bytes 6-9/10"}, {"ETag", "\"e1\""}}};
  truncated.kind = Reply::kTruncate;
  ScriptedServer server({{200, "0123456789", {{"ETag", "\"e1\""}}},
                         {416, ""},
                         {200, "", {{"ETag", "\"e0\""}}},
                         truncated,
                         {206, "6789", {{"Content-Range", "bytes 6-9/10"}, {"ETag", "\"e1\""}}},
                         {206, "23", {{"Content-Range", "bytes 2-3/10"}}},
                         {206, "0123", {{"Content-Range", "bytes 0-3/10"}, {"ETag", "\"e2\""}}},
                         {206, "0123456789", {{"Content-Range", "bytes 0-9/10"}}},
                         {206, "01", {{"Content-Range", "bytes 0-1/2"}}},
                         {206, "01", {{"Content-Range", "bytes 0-5/2"}}}});
  std::vector<int64_t> slept;
  auto store = OpenAt(server.endpoint(), &slept);
  ASSERT_TRUE(store);
  auto V = [](const Result<std::string>& r) { return r.ok() ? *r : "error: " + r.status().ToString(); };
  auto whole = store->OpenRead("processed_data/a.parquet");
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ((*whole)->size(), 10u);
  EXPECT_EQ(V((*whole)->ReadString(2, 3)), "234");  // from what the open fetched
  auto empty = store->OpenRead("processed_data/empty.parquet");  // 416, then a HEAD
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ((*empty)->size(), 0u);
  auto ranged = store->OpenRead("processed_data/b.parquet");  // truncated, then whole
  ASSERT_TRUE(ranged.ok()) << ranged.status().ToString();
  EXPECT_EQ((*ranged)->size(), 10u);
  EXPECT_EQ(V((*ranged)->ReadString(7, 2)), "78");
  EXPECT_EQ(V((*ranged)->ReadString(2, 2)), "23");  // exactly its range, pinned to e1
  // s3rver answers "bytes=-N" with the first N bytes: the end is then asked for by offsets.
  auto prefix = store->OpenRead("processed_data/c.parquet");
  ASSERT_TRUE(prefix.ok()) << prefix.status().ToString();
  EXPECT_EQ((*prefix)->size(), 10u);
  EXPECT_EQ(V((*prefix)->ReadString(6, 4)), "6789");
  auto small = store->OpenRead("processed_data/d.parquet");
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ((*small)->size(), 2u);
  auto bad = store->OpenRead("processed_data/e.parquet");  // a range past the object's size
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unusable Content-Range 'bytes 0-5/2'"), std::string::npos) << bad.status().ToString();
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 10u);
  EXPECT_NE(seen[7].head.find("range: bytes=0-9"), std::string::npos) << seen[7].head;
  EXPECT_NE(seen[7].head.find("if-match: \"e2\""), std::string::npos) << seen[7].head;
  EXPECT_NE(seen[0].head.find("range: bytes=-2048"), std::string::npos) << seen[0].head;
  EXPECT_EQ(seen[2].method, "HEAD");
  EXPECT_NE(seen[5].head.find("range: bytes=2-3"), std::string::npos) << seen[5].head;
  EXPECT_NE(seen[5].head.find("if-match: \"e1\""), std::string::npos) << seen[5].head;
  EXPECT_EQ(slept.size(), 1u);  // the truncated end only
}

// Parts go up several at once; a part the server refuses fails the write with the part's error,
// and the upload is aborted once the other parts in flight have their answers.
TEST(S3StoreFaults, ARefusedPartFailsTheWriteAndAbortsTheUploadAfterThePartsInFlight) {
  ScriptedServer server({{200, "<InitiateMultipartUploadResult><UploadId>up-1</UploadId></InitiateMultipartUploadResult>"},
                         S3Error(403, "AccessDenied"),
                         S3Error(403, "AccessDenied"),
                         {204, ""}});
  std::vector<int64_t> slept;
  S3Options o = ScriptedOptions(server.endpoint(), &slept);
  o.multipart_threshold = 5u << 20;
  o.part_size = 5u << 20;
  o.parts_in_flight = 2;
  auto store = S3Store::Open(std::move(o));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  {
    auto out = (*store)->OpenWrite("processed_data/big.parquet");
    ASSERT_TRUE(out.ok());
    const std::string mib(1u << 20, 'x');
    Status s;
    for (int i = 0; i < 12 && s.ok(); ++i) s = (*out)->Append(mib);
    if (s.ok()) s = (*out)->Commit();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
    EXPECT_NE(s.message().find("UploadPart"), std::string::npos) << s.ToString();
  }
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[1].method, "PUT");
  EXPECT_EQ(seen[2].method, "PUT");  // both parts were in flight together
  EXPECT_EQ(seen[3].method, "DELETE");
  EXPECT_NE(seen[3].target.find("uploadId=up-1"), std::string::npos) << seen[3].target;
}

// The end an open fetches is a guess that learns: a footer longer than it makes the next opens
// fetch enough for one like it.
TEST(S3StoreFaults, AFooterLongerThanTheFetchedEndRaisesTheGuessForTheNextOpens) {
  ScriptedServer server({{206, std::string(2048, 'e'), {{"Content-Range", "bytes 7952-9999/10000"}}},
                         {206, std::string(3952, 'f'), {{"Content-Range", "bytes 4000-7951/10000"}}},
                         {206, std::string(7168, 'g'), {{"Content-Range", "bytes 2832-9999/10000"}}}});
  std::vector<int64_t> slept;
  auto store = OpenAt(server.endpoint(), &slept);
  ASSERT_TRUE(store);
  auto a = store->OpenRead("processed_data/a.parquet");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto footer = (*a)->ReadString(4000, 5992);  // [4000, size - 8): a 6 KB footer
  ASSERT_TRUE(footer.ok()) << footer.status().ToString();
  EXPECT_EQ(*footer, std::string(3952, 'f') + std::string(2040, 'e'));
  auto b = store->OpenRead("processed_data/b.parquet");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_NE(seen[0].head.find("range: bytes=-2048"), std::string::npos) << seen[0].head;
  EXPECT_NE(seen[1].head.find("range: bytes=4000-7951"), std::string::npos) << seen[1].head;
  EXPECT_NE(seen[2].head.find("range: bytes=-7168"), std::string::npos) << seen[2].head;
}

// An open with the caller's tail size (OpenReadTail: a scan that predicts the file's footer)
// fetches exactly that many bytes of the end; a footer longer than that costs a GET of only the
// bytes missing, and, the size being the caller's, does not raise the store's guess for other
// opens (which still fetch 2 KiB).
TEST(S3StoreFaults, AnOpenWithTheCallersTailSizeFetchesThatMuch) {
  ScriptedServer server({{206, std::string(1000, 'e'), {{"Content-Range", "bytes 9000-9999/10000"}}},
                         {206, std::string(500, 'f'), {{"Content-Range", "bytes 8500-8999/10000"}}},
                         {206, std::string(2048, 'g'), {{"Content-Range", "bytes 7952-9999/10000"}}}});
  std::vector<int64_t> slept;
  auto store = OpenAt(server.endpoint(), &slept);
  ASSERT_TRUE(store);
  auto a = store->OpenReadTail("processed_data/a.parquet", 1000);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ((*a)->size(), 10000u);
  EXPECT_EQ((*a)->ReadString(9100, 892).ValueOr("error"), std::string(892, 'e'));  // inside the end: no request
  EXPECT_EQ(server.seen().size(), 1u);
  auto footer = (*a)->ReadString(8500, 1492);  // [8500, size - 8): longer than the end fetched
  ASSERT_TRUE(footer.ok()) << footer.status().ToString();
  EXPECT_EQ(*footer, std::string(500, 'f') + std::string(992, 'e'));
  auto b = store->OpenRead("processed_data/b.parquet");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_NE(seen[0].head.find("range: bytes=-1000"), std::string::npos) << seen[0].head;
  EXPECT_NE(seen[1].head.find("range: bytes=8500-8999"), std::string::npos) << seen[1].head;
  EXPECT_NE(seen[2].head.find("range: bytes=-2048"), std::string::npos) << seen[2].head;
}

// A ranged read goes straight into the reader's buffer: a truncated answer is read again, a
// server that ignores Range (200, everything) still gives the right bytes, and an answer longer
// than the range is an error, never a write past the buffer.
TEST(S3StoreFaults, RangedReadsFillTheCallersBufferOrFailCleanly) {
  Reply truncated{206, "23", {{"Content-Range", "bytes 2-4/10"}}};
  truncated.kind = Reply::kTruncate;
  ScriptedServer server({{206, "789", {{"Content-Range", "bytes 7-9/10"}}},
                         truncated,
                         {200, "0123456789"},
                         {206, "3456", {{"Content-Range", "bytes 3-4/10"}}},
                         {206, "3456", {{"Content-Range", "bytes 3-4/10"}}}});
  std::vector<int64_t> slept;
  auto store = OpenAt(server.endpoint(), &slept, /*attempts=*/2);
  ASSERT_TRUE(store);
  auto f = store->OpenRead("processed_data/a.parquet");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto got = (*f)->ReadString(2, 3);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "234");
  EXPECT_EQ(slept.size(), 1u);
  std::string guard(8, '#');
  Status over = (*f)->ReadAt(3, std::span<uint8_t>(reinterpret_cast<uint8_t*>(guard.data()), 2));
  EXPECT_EQ(over.code(), StatusCode::kIOError) << over.ToString();
  EXPECT_EQ(guard.substr(2), "######");  // nothing written past the two bytes asked for
}

// A read-ahead hint: ranges within the coalescing gap become one GET, a far one its own; every
// hinted range is then read from what was fetched, without another request.
TEST(S3StoreFaults, HintedRangesAreFetchedAheadCoalesced) {
  ScriptedServer server({{206, "89", {{"Content-Range", "bytes 98-99/100"}, {"ETag", "\"e1\""}}},
                         {206, std::string(30, 'a'), {{"Content-Range", "bytes 10-39/100"}}},
                         {206, std::string(10, 'b'), {{"Content-Range", "bytes 70-79/100"}}}});
  std::vector<int64_t> slept;
  S3Options o = ScriptedOptions(server.endpoint(), &slept);
  o.coalesce_gap = 8;
  o.ahead_fetches = 1;  // one fetch at a time: the scripted replies come in order
  auto store = S3Store::Open(std::move(o));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto f = (*store)->OpenRead("processed_data/a.parquet");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  // [10, 20) and [25, 40) are 5 bytes apart (within the gap of 8): one GET of [10, 40).
  const std::vector<ByteRange> hint{{70, 10}, {25, 15}, {10, 10}};
  (*f)->WillRead(hint);
  // The fetch thread sends both GETs by itself (bounded wait); the reads then find the bytes.
  for (int i = 0; i < 500 && server.seen().size() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ((*f)->ReadString(25, 15).ValueOr("error"), std::string(15, 'a'));
  EXPECT_EQ((*f)->ReadString(10, 10).ValueOr("error"), std::string(10, 'a'));
  EXPECT_EQ((*f)->ReadString(70, 10).ValueOr("error"), std::string(10, 'b'));
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_NE(seen[1].head.find("range: bytes=10-39"), std::string::npos) << seen[1].head;
  EXPECT_NE(seen[1].head.find("if-match: \"e1\""), std::string::npos) << seen[1].head;
  EXPECT_NE(seen[2].head.find("range: bytes=70-79"), std::string::npos) << seen[2].head;
  EXPECT_TRUE(slept.empty());
}

// A block fetched ahead that fails is fetched again by the read that needs it (with its own
// retries), and a read that keeps failing is an error naming the object, never other bytes.
TEST(S3StoreFaults, AFailedFetchAheadIsReadAgainOrFailsTheRead) {
  ScriptedServer server({{206, "89", {{"Content-Range", "bytes 98-99/100"}, {"ETag", "\"e1\""}}},
                         S3Error(500, "InternalError"),
                         {206, std::string(10, 'a'), {{"Content-Range", "bytes 10-19/100"}}},
                         S3Error(500, "InternalError"),
                         S3Error(500, "InternalError")});
  std::vector<int64_t> slept;
  auto store = OpenAt(server.endpoint(), &slept, /*attempts=*/1);
  ASSERT_TRUE(store);
  auto f = store->OpenRead("processed_data/a.parquet");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const std::vector<ByteRange> first{{10, 10}};
  (*f)->WillRead(first);
  EXPECT_EQ((*f)->ReadString(10, 10).ValueOr("error"), std::string(10, 'a'));
  const std::vector<ByteRange> second{{50, 10}};
  (*f)->WillRead(second);
  auto bad = (*f)->ReadString(50, 10);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("processed_data/a.parquet"), std::string::npos) << bad.status().ToString();
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 5u);
  for (size_t i = 1; i <= 2; ++i) EXPECT_NE(seen[i].head.find("range: bytes=10-19"), std::string::npos) << seen[i].head;
  for (size_t i = 3; i <= 4; ++i) EXPECT_NE(seen[i].head.find("range: bytes=50-59"), std::string::npos) << seen[i].head;
}

TEST(S3StoreFaults, ErrorsNameTheObject) {
  ScriptedServer server({S3Error(404, "NoSuchKey"), S3Error(403, "AccessDenied"), S3Error(404, "NoSuchBucket")});
  std::vector<int64_t> slept;
  auto store = OpenAt(server.endpoint(), &slept);
  ASSERT_TRUE(store);
  auto missing = store->Get("raw_data/gone.csv");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("raw_data/gone.csv"), std::string::npos);
  auto denied = store->Get("raw_data/secret.csv");
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(denied.status().message().find("s3://my-analytics-bucket/lake/raw_data/secret.csv"), std::string::npos);
  EXPECT_NE(denied.status().message().find("AccessDenied"), std::string::npos);
  auto bucket = store->Get("raw_data/a.csv");
  EXPECT_EQ(bucket.status().code(), StatusCode::kNotFound);
  EXPECT_NE(bucket.status().message().find("bucket 'my-analytics-bucket' does not exist"), std::string::npos)
      << bucket.status().ToString();
  EXPECT_TRUE(slept.empty());  // 4xx are answers, not failures to retry
}

TEST(S3StoreFaults, ListFollowsContinuationTokens) {
  ScriptedServer server(
      {{200,
        "<ListBucketResult><IsTruncated>true</IsTruncated><KeyCount>2</KeyCount>"
        "<Contents><Key>lake/raw_data/b.csv</Key><LastModified>2025-01-02T03:04:05.678Z</LastModified>"
        "<ETag>&quot;bb&quot;</ETag><Size>20</Size></Contents>"
        "<Contents><Key>lake/raw_data/</Key><Size>0</Size><ETag>\"d\"</ETag></Contents>"
        "<NextContinuationToken>tok/+=1</NextContinuationToken></ListBucketResult>"},
       {200,
        "<ListBucketResult><IsTruncated>false</IsTruncated>"
        "<Contents><Key>lake/raw_data/a &amp; b.csv</Key><LastModified>2025-01-01T00:00:00.000Z</LastModified>"
        "<ETag>\"aa\"</ETag><Size>10</Size></Contents></ListBucketResult>"}});
  std::vector<int64_t> slept;
  auto store = OpenAt(server.endpoint(), &slept);
  ASSERT_TRUE(store);
  auto list = store->List("raw_data/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);  // the folder marker is not an object
  EXPECT_EQ((*list)[0].key, "raw_data/a & b.csv");
  EXPECT_EQ((*list)[0].size, 10u);
  EXPECT_EQ((*list)[0].etag, "aa");
  EXPECT_EQ((*list)[1].key, "raw_data/b.csv");
  EXPECT_EQ((*list)[1].etag, "bb");
  EXPECT_EQ((*list)[1].mtime_ns, int64_t{1735787045} * 1'000'000'000);
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_NE(seen[0].target.find("prefix=lake%2Fraw_data%2F"), std::string::npos) << seen[0].target;
  EXPECT_NE(seen[1].target.find("continuation-token=tok%2F%2B%3D1"), std::string::npos) << seen[1].target;
}

TEST(S3StoreFaults, PutIfAbsentNeedsAServerThatHonoursIt) {
  {
    // Probe: created, then refused -> conditional writes work; the real write then loses.
    ScriptedServer server({{200, ""}, S3Error(412, "PreconditionFailed"), {204, ""}, S3Error(412, "PreconditionFailed")});
    std::vector<int64_t> slept;
    auto store = OpenAt(server.endpoint(), &slept);
    ASSERT_TRUE(store);
    Status s = store->PutIfAbsent("catalog/t/metadata/v2.json", "{}");
    EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
    auto seen = server.seen();
    ASSERT_EQ(seen.size(), 4u);
    EXPECT_NE(seen[3].head.find("if-none-match: *"), std::string::npos) << seen[3].head;
  }
  {
    // A server that ignores If-None-Match lets the probe be created twice: refused, clearly.
    ScriptedServer server({{200, ""}, {200, ""}, {204, ""}});
    std::vector<int64_t> slept;
    auto store = OpenAt(server.endpoint(), &slept);
    ASSERT_TRUE(store);
    Status s = store->PutIfAbsent("catalog/t/metadata/v2.json", "{}");
    EXPECT_EQ(s.code(), StatusCode::kNotImplemented);
    EXPECT_NE(s.message().find("If-None-Match"), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("SALESLAKE_S3_SINGLE_WRITER"), std::string::npos);
  }
}

TEST(S3StoreFaults, ARetriedConditionalPutThatHadWonIsNotReportedLost) {
  // Probe ok; our PUT's reply is dropped (it was applied); the retry sees 412; the object holds
  // our bytes, so we won.
  Reply dropped;
  dropped.kind = Reply::kDrop;
  ScriptedServer server({{200, ""}, S3Error(412, "PreconditionFailed"), {204, ""}, dropped,
                         S3Error(412, "PreconditionFailed"), {200, "ours"}});
  std::vector<int64_t> slept;
  auto store = OpenAt(server.endpoint(), &slept);
  ASSERT_TRUE(store);
  Status s = store->PutIfAbsent("catalog/t/metadata/v2.json", "ours");
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(S3Uri, Parse) {
  std::string b, p;
  ASSERT_TRUE(ParseS3Uri("s3://my-analytics-bucket/lake/sub/", &b, &p).ok());
  EXPECT_EQ(b, "my-analytics-bucket");
  EXPECT_EQ(p, "lake/sub");
  ASSERT_TRUE(ParseS3Uri("s3://bucket", &b, &p).ok());
  EXPECT_EQ(p, "");
  EXPECT_FALSE(ParseS3Uri("s3://Bad_Bucket/x", &b, &p).ok());
  EXPECT_FALSE(ParseS3Uri("s3://bucket/../x", &b, &p).ok());
  EXPECT_FALSE(ParseS3Uri("/srv/lake", &b, &p).ok());
  EXPECT_TRUE(IsS3Uri("s3://b/x"));
  EXPECT_FALSE(IsS3Uri("./lake"));
}

}  // namespace
}  // namespace saleslake::io
