#include "io/s3_store.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "common/encoding.h"
#include "common/text.h"
#include "io/internal/aws_config.h"
#include "io/internal/http_client.h"
#include "io/internal/retry.h"
#include "io/internal/s3_xml.h"
#include "io/internal/sigv4.h"

namespace saleslake::io {

using internal::HttpCall;
using internal::HttpResult;
using Params = std::vector<std::pair<std::string, std::string>>;

bool IsS3Uri(std::string_view lake) { return lake.rfind("s3://", 0) == 0; }

Status ParseS3Uri(std::string_view uri, std::string* bucket, std::string* prefix) {
  if (!IsS3Uri(uri)) return Status::InvalidArgument("not an S3 URI (s3://bucket/prefix): '" + std::string(uri) + "'");
  std::string_view rest = uri.substr(5);
  size_t slash = rest.find('/');
  std::string_view b = rest.substr(0, slash);
  std::string_view p = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  // Bucket names: 3-63 of [a-z0-9.-] (the rules every S3 server shares).
  bool ok = b.size() >= 3 && b.size() <= 63;
  for (char c : b) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-');
  if (!ok) return Status::InvalidArgument("invalid bucket name '" + std::string(b) + "' in " + std::string(uri));
  if (!p.empty()) SL_RETURN_IF_ERROR(ValidateKey(p).WithContext("prefix of " + std::string(uri)));
  *bucket = std::string(b);
  *prefix = std::string(p);
  return Status::OK();
}

namespace {

// Reads of an object's start under kSmallRead fetch kReadWindow. Others fetch exactly their
// range: a window around every small column chunk tripled the bytes a query read.
constexpr uint64_t kSmallRead = 4 << 10;
constexpr uint64_t kReadWindow = 64 << 10;
// Opening an object for reads fetches its end, at first kFirstTail bytes: the footer of a Parquet
// file with a few row groups (ours are ~1 KB) fits. A footer read that finds its footer longer
// raises the store's guess for the files opened after it (up to kMaxTail), so files of a larger
// kind cost one more GET until the guess has learnt their size.
constexpr uint64_t kFirstTail = 2 << 10;
constexpr uint64_t kMaxTail = 1 << 20;

Status ValidateObjectKey(std::string_view key) {
  SL_RETURN_IF_ERROR(ValidateKey(key));
  if (key.back() == '/')
    return Status::InvalidArgument("invalid object key '" + std::string(key) + "': names a folder, not an object");
  return Status::OK();
}

std::string AmzDate(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

// RFC 1123 ("Wed, 12 Oct 2009 17:50:00 GMT") or ISO 8601 ("2009-10-12T17:50:00.000Z") -> ns,
// truncated to whole seconds so HEAD and LIST give the same value.
int64_t ParseHttpTime(const std::string& s) {
  struct tm tm = {};
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (end == nullptr) {
    tm = {};
    end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  }
  if (end == nullptr) return 0;
  return static_cast<int64_t>(timegm(&tm)) * 1'000'000'000;
}

std::string Unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

std::string Md5Base64(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_md5(), nullptr);
  unsigned char out[64];
  int len = EVP_EncodeBlock(out, md, static_cast<int>(n));
  return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(len));
}

bool Retryable(long status) { return status >= 500 || status == 429 || status == 408; }

// The request trace's clock starts when the binary's statics are initialised, i.e. at the
// process's start, so that the trace shows what a command does before its first request too.
const std::chrono::steady_clock::time_point kProcessStart = std::chrono::steady_clock::now();

double MsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

struct S3Store::Impl {
  S3Options o;
  std::string scheme_host;  // "http://127.0.0.1:9000" or "https://bucket.s3.us-east-1.amazonaws.com"
  std::string host;         // Host header
  std::string path_base;    // "/bucket" (path style) or ""
  std::unique_ptr<internal::HttpClient> http;
  internal::Backoff backoff{internal::RetryPolicy{}, nullptr, nullptr};
  std::mutex probe_mu;
  std::atomic<int> conditional{0};  // 0 unknown, 1 honoured, 2 ignored by the server
  mutable std::atomic<uint64_t> tail_guess{kFirstTail};  // bytes an open fetches from the end
  std::once_flag single_writer_notice;

  // The fetch threads of read-ahead (S3File::WillRead): started on the first hint, o.ahead_fetches
  // of them, taking tasks in the order they were queued (the order the scan will read them).
  mutable std::mutex fetch_mu;
  mutable std::condition_variable fetch_cv;
  mutable std::deque<std::function<void()>> fetch_queue;  // guarded by fetch_mu
  mutable std::vector<std::thread> fetch_threads;         // guarded by fetch_mu
  bool fetch_stop = false;                                // guarded by fetch_mu
  // Bytes of blocks fetched ahead (or being fetched) and not yet read, over all files.
  mutable std::atomic<uint64_t> ahead_held{0};

  ~Impl() {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(fetch_mu);
      fetch_stop = true;
      threads.swap(fetch_threads);
    }
    fetch_cv.notify_all();
    for (auto& t : threads) t.join();
  }

  void SubmitFetch(std::function<void()> task) const {
    {
      std::lock_guard<std::mutex> lock(fetch_mu);
      if (fetch_threads.empty()) {
        for (int i = 0; i < std::max(1, o.ahead_fetches); ++i) fetch_threads.emplace_back([this] { FetchLoop(); });
      }
      fetch_queue.push_back(std::move(task));
    }
    fetch_cv.notify_one();
  }

  void FetchLoop() const {
    while (true) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(fetch_mu);
        fetch_cv.wait(lock, [&] { return fetch_stop || !fetch_queue.empty(); });
        if (fetch_queue.empty()) return;  // stopping, nothing left
        task = std::move(fetch_queue.front());
        fetch_queue.pop_front();
      }
      task();
    }
  }

  // Reserves `n` bytes of the read-ahead budget; false (nothing reserved) when they do not fit.
  // One block is always allowed when nothing is held, so a chunk larger than the budget still
  // goes ahead alone.
  bool ReserveAhead(uint64_t n) const {
    uint64_t held = ahead_held.load(std::memory_order_relaxed);
    do {
      if (held > 0 && held + n > o.ahead_bytes) return false;
    } while (!ahead_held.compare_exchange_weak(held, held + n, std::memory_order_relaxed));
    return true;
  }

  struct Request {
    std::string method;
    std::string key;  // full key in the bucket; "" for bucket operations
    Params query;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string_view body;
    bool retry_conflict = false;  // 409 ConditionalRequestConflict is retried (conditional PUT)
    size_t expect_body = 0;       // see HttpCall::expect_body
    std::span<uint8_t> into;      // see HttpCall::into
  };

  std::string Full(std::string_view key) const {
    return o.prefix.empty() ? std::string(key) : o.prefix + "/" + std::string(key);
  }
  std::string Where(std::string_view full_key) const { return "s3://" + o.bucket + "/" + std::string(full_key); }

  // One request, signed afresh for every attempt, retried on 5xx/429 and transport failures.
  // `attempts` receives how many were made (idempotence checks need to know).
  Result<HttpResult> Send(const Request& r, int* attempts = nullptr) const {
    std::string path = path_base + "/" + PercentEncode(r.key, /*keep_slash=*/true);
    std::string query = internal::CanonicalQueryString(r.query);
    std::string payload_hash = Sha256Hex(r.body);
    Status last;
    for (int attempt = 1;; ++attempt) {
      if (attempts != nullptr) *attempts = attempt;
      const std::string amz_date = AmzDate(o.now_s());
      internal::SignInput in;
      in.method = r.method;
      in.canonical_uri = path;
      in.query = r.query;
      in.headers = r.headers;
      in.headers.emplace_back("host", host);
      in.headers.emplace_back("x-amz-date", amz_date);
      in.headers.emplace_back("x-amz-content-sha256", payload_hash);
      if (!o.session_token.empty()) in.headers.emplace_back("x-amz-security-token", o.session_token);
      in.payload_sha256_hex = payload_hash;
      in.amz_date = amz_date;
      in.region = o.region;
      HttpCall call;
      call.method = r.method;
      call.url = scheme_host + path + (query.empty() ? "" : "?" + query);
      call.headers = in.headers;
      call.headers.emplace_back("Authorization", internal::AuthorizationHeader(in, {o.access_key_id, o.secret_access_key, o.session_token}));
      call.body = r.body;
      call.expect_body = r.expect_body;
      call.into = r.into;
      const double start_ms = o.trace ? MsSince(kProcessStart) : 0;
      auto res = http->Send(call);
      if (o.trace) Trace(r, start_ms, res);
      if (res.ok()) {
        bool conflict = r.retry_conflict && res->status == 409;
        if (!Retryable(res->status) && !conflict) return res;
        last = Status::IOError(r.method + " " + Where(r.key) + ": HTTP " + std::to_string(res->status) + " " +
                               ErrorText(*res));
      } else {
        last = res.status();
      }
      if (!backoff.BeforeRetry(attempt))
        return Status::IOError(last.message() + " (gave up after " + std::to_string(attempt) + " attempts to " +
                               (o.endpoint.empty() ? scheme_host : o.endpoint) + ")");
    }
  }

  // One line on stderr per attempt (SALESLAKE_S3_TRACE=1): when it started (ms since the
  // process started), how long it took, what it asked and what came back.
  void Trace(const Request& r, double start_ms, const Result<HttpResult>& res) const {
    std::string range;
    for (const auto& [name, value] : r.headers)
      if (name == "range") range = " " + value;
    std::string query;
    for (const auto& [name, value] : r.query) query += (query.empty() ? "?" : "&") + name + (value.empty() ? "" : "=" + value);
    std::string outcome = res.ok() ? std::to_string(res->status) + " " + std::to_string(res->body.size() + res->into_bytes) + " B"
                                   : res.status().message();
    std::fprintf(stderr, "s3 trace: at %.1f ms, %.1f ms: %s /%s%s%s -> %s\n", start_ms, MsSince(kProcessStart) - start_ms,
                 r.method.c_str(), r.key.c_str(), query.c_str(), range.c_str(), outcome.c_str());
  }

  static std::string ErrorText(const HttpResult& r) {
    std::string code = internal::XmlText(r.body, "Code");
    std::string msg = internal::XmlText(r.body, "Message");
    if (code.empty()) return r.body.size() < 200 ? r.body : r.body.substr(0, 200);
    return code + (msg.empty() ? "" : ": " + msg);
  }

  // An unexpected status as a Status naming the object.
  Status Error(const HttpResult& r, const std::string& what, const std::string& full_key) const {
    std::string code = internal::XmlText(r.body, "Code");
    std::string detail = ErrorText(r);
    std::string where = Where(full_key);
    if (code == "NoSuchBucket")
      return Status::NotFound("bucket '" + o.bucket + "' does not exist at " +
                              (o.endpoint.empty() ? scheme_host : o.endpoint) + " (" + what + " " + where + ")");
    if (r.status == 404) return Status::NotFound("object '" + full_key + "' not found in " + Where(o.prefix));
    if (r.status == 401 || r.status == 403)
      return Status::PermissionDenied(what + " " + where + " denied: " +
                                      (detail.empty() ? "HTTP " + std::to_string(r.status) : detail) +
                                      " (credentials: key " + o.access_key_id + ")");
    return Status::IOError(what + " " + where + ": HTTP " + std::to_string(r.status) + (detail.empty() ? "" : " " + detail));
  }

  Result<ObjectInfo> Head(std::string_view key) const {
    std::string full = Full(key);
    SL_ASSIGN_OR_RETURN(HttpResult r, Send({.method = "HEAD", .key = full}));
    if (r.status == 404) return Status::NotFound("object '" + std::string(key) + "' not found in " + Where(o.prefix));
    if (r.status != 200) return Error(r, "HEAD", full);
    ObjectInfo info;
    info.key = std::string(key);
    if (const std::string* len = r.Header("content-length")) info.size = std::strtoull(len->c_str(), nullptr, 10);
    if (const std::string* etag = r.Header("etag")) info.etag = Unquote(*etag);
    if (const std::string* lm = r.Header("last-modified")) info.mtime_ns = ParseHttpTime(*lm);
    return info;
  }

  // The last bytes of an object, at most `n`, with its size and ETag, from one suffix-range GET:
  // what opening an object for positional reads needs (Parquet footers are at the end) without
  // a HEAD first. An empty object has no last bytes (416): its facts come from a HEAD.
  struct Tail {
    ObjectInfo info;
    uint64_t offset = 0;  // where `bytes` start in the object
    std::string bytes;
  };
  Result<Tail> TailOf(std::string_view key, uint64_t n) const {
    const std::string full = Full(key);
    Request r{.method = "GET", .key = full, .expect_body = n};
    r.headers.emplace_back("range", "bytes=-" + std::to_string(n));
    for (int attempt = 1;; ++attempt) {
      SL_ASSIGN_OR_RETURN(HttpResult res, Send(r));
      if (res.status == 404) return Status::NotFound("object '" + std::string(key) + "' not found in " + Where(o.prefix));
      if (res.status == 416) {
        SL_ASSIGN_OR_RETURN(ObjectInfo info, Head(key));
        return Tail{std::move(info), 0, ""};
      }
      if (res.status != 200 && res.status != 206) return Error(res, "GET", full);
      Tail t;
      t.info.key = std::string(key);
      if (const std::string* etag = res.Header("etag")) t.info.etag = Unquote(*etag);
      if (const std::string* lm = res.Header("last-modified")) t.info.mtime_ns = ParseHttpTime(*lm);
      if (res.status == 200) {  // a server that ignores Range sends everything
        t.info.size = res.body.size();
        t.offset = t.info.size > n ? t.info.size - n : 0;
        t.bytes = res.body.substr(t.offset);
        return t;
      }
      // "bytes FIRST-LAST/TOTAL": the body must be all of it.
      const std::string* cr = res.Header("content-range");
      uint64_t first = 0, last = 0, total = 0;
      if (cr == nullptr || std::sscanf(cr->c_str(), "bytes %" SCNu64 "-%" SCNu64 "/%" SCNu64, &first, &last, &total) != 3 ||
          first > last || last >= total)
        return Status::IOError("GET " + Where(full) + ": unusable Content-Range '" + (cr ? *cr : "") + "' for the last " +
                               std::to_string(n) + " bytes");
      if (res.body.size() == last - first + 1) {
        t.info.size = total;
        if (last + 1 != total) {
          // Not the end: a server that reads "bytes=-N" as "bytes=0-N" (s3rver does). Now that
          // the size is known, the end is asked for by its offsets.
          t.offset = total > n ? total - n : 0;
          SL_ASSIGN_OR_RETURN(t.bytes, Range(full, t.offset, total - t.offset, t.info.etag));
          if (t.bytes.size() != total - t.offset)
            return Status::IOError("GET " + Where(full) + ": short read of its last " + std::to_string(total - t.offset) + " bytes");
          return t;
        }
        t.offset = first;
        t.bytes = std::move(res.body);
        return t;
      }
      if (!backoff.BeforeRetry(attempt))
        return Status::IOError("GET " + Where(full) + ": " + std::to_string(res.body.size()) + " of " +
                               std::to_string(last - first + 1) + " bytes of its end arrived");
    }
  }

  // The headers of a GET of [offset, offset + n) pinned to `etag` ("" = any version), and the
  // error its 412 answer means.
  static void AddRangeHeaders(Request* r, uint64_t offset, uint64_t n, const std::string& etag) {
    r->headers.emplace_back("range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + n - 1));
    if (!etag.empty()) r->headers.emplace_back("if-match", "\"" + etag + "\"");
  }
  Status ChangedWhileRead(const std::string& full, const std::string& etag) const {
    return Status::Aborted("object " + Where(full) + " changed while it was being read (ETag was " + etag + ")");
  }

  // [offset, offset + n) of the object; `etag` pins the version ("" = any).
  Result<std::string> Range(const std::string& full, uint64_t offset, uint64_t n, const std::string& etag) const {
    Request r{.method = "GET", .key = full, .expect_body = n};
    AddRangeHeaders(&r, offset, n, etag);
    for (int attempt = 1;; ++attempt) {
      SL_ASSIGN_OR_RETURN(HttpResult res, Send(r));
      if (res.status == 412) return ChangedWhileRead(full, etag);
      if (res.status == 416) return std::string();
      if (res.status == 200) {  // a server that ignores Range sends everything
        if (offset >= res.body.size()) return std::string();
        return res.body.substr(offset, n);
      }
      if (res.status != 206) return Error(res, "GET", full);
      // A range reaching past the end gets what there is: Content-Range says how much that is.
      uint64_t expected = n;
      if (const std::string* cr = res.Header("content-range"); cr != nullptr && cr->find('/') != std::string::npos) {
        uint64_t total = std::strtoull(cr->c_str() + cr->find('/') + 1, nullptr, 10);
        if (total > offset) expected = std::min<uint64_t>(n, total - offset);
      }
      if (res.body.size() == expected) return std::move(res.body);
      // Fewer bytes than asked although the range is inside the object: a truncated body.
      if (!backoff.BeforeRetry(attempt))
        return Status::IOError("GET " + Where(full) + ": " + std::to_string(res.body.size()) + " of " +
                               std::to_string(expected) + " bytes at offset " + std::to_string(offset) + " arrived");
    }
  }

  // [offset, offset + out.size()) of the object, which must lie inside it, straight into `out`
  // (no string in between); `etag` pins the version.
  Status RangeInto(const std::string& full, uint64_t offset, std::span<uint8_t> out, const std::string& etag) const {
    const uint64_t n = out.size();
    Request r{.method = "GET", .key = full, .into = out};
    AddRangeHeaders(&r, offset, n, etag);
    for (int attempt = 1;; ++attempt) {
      SL_ASSIGN_OR_RETURN(HttpResult res, Send(r));
      if (res.status == 412) return ChangedWhileRead(full, etag);
      if (res.status == 200) {  // a server that ignores Range sends everything
        if (res.body.size() < offset + n)
          return Status::IOError("GET " + Where(full) + ": the object ends before offset " + std::to_string(offset + n));
        std::memcpy(out.data(), res.body.data() + offset, n);
        return Status::OK();
      }
      if (res.status != 206) return Error(res, "GET", full);
      if (res.into_bytes == n) return Status::OK();
      // Fewer bytes than asked inside the object: a truncated body, read again.
      if (!backoff.BeforeRetry(attempt))
        return Status::IOError("GET " + Where(full) + ": " + std::to_string(res.into_bytes) + " of " + std::to_string(n) +
                               " bytes at offset " + std::to_string(offset) + " arrived");
    }
  }

  Status PutObject(const std::string& full, std::string_view data, bool if_absent) const {
    Request r{.method = "PUT", .key = full, .body = data, .retry_conflict = if_absent};
    if (if_absent) r.headers.emplace_back("if-none-match", "*");
    int attempts = 0;
    SL_ASSIGN_OR_RETURN(HttpResult res, Send(r, &attempts));
    if (res.status == 200) return Status::OK();
    if (if_absent && res.status == 412) {
      // A retried attempt may have lost only the reply to our own successful write: the key
      // holding exactly our bytes means we won. (Two writers of byte-identical content are
      // indistinguishable here; commits carry unique ids and times, so theirs never are.)
      if (attempts > 1) {
        SL_ASSIGN_OR_RETURN(HttpResult got, Send({.method = "GET", .key = full}));
        if (got.status == 200 && got.body == data) return Status::OK();
      }
      return Status::AlreadyExists("object " + Where(full) + " already exists");
    }
    return Error(res, "PUT", full);
  }

  // Does the server honour If-None-Match: * on PUT? Asked once per store.
  Result<bool> ConditionalWrites() {
    int c = conditional.load();
    if (c != 0) return c == 1;
    std::lock_guard<std::mutex> lock(probe_mu);
    if ((c = conditional.load()) != 0) return c == 1;
    unsigned char raw[8];
    RAND_bytes(raw, sizeof raw);
    char hex[17];
    for (int i = 0; i < 8; ++i) std::snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    std::string probe = Full(std::string("_system/probes/put-if-absent-") + hex);
    SL_RETURN_IF_ERROR(PutObject(probe, "first", true).WithContext("probing conditional writes"));
    // Other bytes the second time: a retried 412 must not pass for our own earlier success.
    Status second = PutObject(probe, "second", true);
    (void)Send({.method = "DELETE", .key = probe});
    if (!second.ok() && second.code() != StatusCode::kAlreadyExists) return second;
    conditional.store(second.ok() ? 2 : 1);
    return !second.ok();
  }
};

namespace {

// Positional reads of one S3 object version. Opening it fetched its last bytes (the
// Parquet footer and everything the reader looks up there); other reads fetch exactly their
// range (a column chunk, however small), except small reads of the object's start (format
// sniffing and classification, under kSmallRead), which fetch kReadWindow so that the burst
// of them costs one GET. Ranges are pinned to the opened ETag.
// A block of an object fetched ahead (WillRead): one ranged GET covering one or more hinted
// ranges. Whoever takes it first fetches it: a fetch thread, or a ReadAt that needs it before
// any thread got to it (so a read never waits behind the queue). Its bytes count against the
// store's read-ahead budget until it is dropped.
struct AheadBlock {
  AheadBlock(const S3Store::Impl* store, uint64_t off, uint64_t len, uint64_t hinted)
      : impl(store), offset(off), length(len), data(new uint8_t[len]), unread(hinted), done(fetched.get_future().share()) {}
  ~AheadBlock() { impl->ahead_held.fetch_sub(length, std::memory_order_relaxed); }
  // Fetches the block unless someone else took it.
  void Fetch(const std::string& full, const std::string& etag) {
    if (taken.exchange(true)) return;
    fetched.set_value(impl->RangeInto(full, offset, std::span<uint8_t>(data.get(), length), etag));
  }
  bool Holds(uint64_t off, uint64_t n) const { return off >= offset && off + n <= offset + length; }

  const S3Store::Impl* impl;
  const uint64_t offset, length;
  const std::unique_ptr<uint8_t[]> data;  // written by the fetch only
  uint64_t unread;  // hinted bytes not read yet (S3File::mu_): at 0 the block is dropped
  std::atomic<bool> taken{false};
  std::promise<Status> fetched;
  std::shared_future<Status> done;
};

class S3File final : public RandomAccessFile {
 public:
  S3File(const S3Store::Impl* impl, std::string full, S3Store::Impl::Tail tail, bool tail_asked)
      : impl_(impl),
        full_(std::move(full)),
        info_(std::move(tail.info)),
        name_(impl->Where(full_)),
        tail_off_(tail.offset),
        tail_(std::move(tail.bytes)),
        tail_asked_(tail_asked) {}
  uint64_t size() const override { return info_.size; }
  const std::string& name() const override { return name_; }
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const override {
    const uint64_t n = out.size();
    if (offset > info_.size || n > info_.size - offset)
      return Status::IOError(name_ + ": read of " + std::to_string(n) + " bytes at offset " + std::to_string(offset) +
                             " passes the end (size " + std::to_string(info_.size) + ")");
    if (n == 0) return Status::OK();
    if (offset >= tail_off_ && offset + n <= tail_off_ + tail_.size()) {
      std::copy_n(tail_.data() + (offset - tail_off_), n, out.data());
      return Status::OK();
    }
    if (Status s = FromBlock(offset, out); s.code() != StatusCode::kNotFound) return s;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (offset >= window_off_ && offset + n <= window_off_ + window_.size()) {
        std::copy_n(window_.data() + (offset - window_off_), n, out.data());
        return Status::OK();
      }
    }
    // A Parquet footer (it ends 8 bytes before the end) longer than the end fetched at open:
    // the next opens fetch enough for one like it (when the open used the store's guess; a
    // caller's own tail size says nothing about other files).
    if (!tail_asked_ && info_.size >= 8 && offset + n == info_.size - 8 && info_.size - offset < kMaxTail) {
      const uint64_t want_tail = std::min<uint64_t>(kMaxTail, (info_.size - offset + 1024 + 1023) / 1024 * 1024);
      uint64_t guess = impl_->tail_guess.load(std::memory_order_relaxed);
      while (guess < want_tail && !impl_->tail_guess.compare_exchange_weak(guess, want_tail, std::memory_order_relaxed)) {
      }
    }
    // A read that ends inside the end fetched at open (the last column chunks) fetches only
    // what lies before it.
    uint64_t fetch = n;
    if (offset < tail_off_ && offset + n > tail_off_ && offset + n <= tail_off_ + tail_.size()) {
      fetch = tail_off_ - offset;
      std::copy_n(tail_.data(), n - fetch, out.data() + fetch);
    }
    const bool window = offset == 0 && fetch == n && fetch < kSmallRead;
    if (!window) return impl_->RangeInto(full_, offset, out.subspan(0, fetch), info_.etag);
    const uint64_t want = std::min(kReadWindow, info_.size);
    SL_ASSIGN_OR_RETURN(std::string got, impl_->Range(full_, offset, want, info_.etag));
    if (got.size() != want) return Status::IOError(name_ + ": short read at offset " + std::to_string(offset));
    std::copy_n(got.data(), fetch, out.data());
    if (want > fetch) {
      std::lock_guard<std::mutex> lock(mu_);
      window_ = std::move(got);
      window_off_ = offset;
    }
    return Status::OK();
  }

  void WillRead(std::span<const ByteRange> ranges) const override {
    std::vector<ByteRange> want;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const ByteRange& r : ranges) {
        if (r.length == 0 || r.offset > info_.size || r.length > info_.size - r.offset) continue;
        if (r.offset >= tail_off_ && r.offset + r.length <= tail_off_ + tail_.size()) continue;  // in the end read at open
        bool overlaps = false;  // a range a block already covers (or touches) is left alone
        for (const auto& b : blocks_) overlaps |= r.offset < b->offset + b->length && b->offset < r.offset + r.length;
        if (!overlaps) want.push_back(r);
      }
    }
    if (want.empty()) return;
    std::sort(want.begin(), want.end(), [](const ByteRange& a, const ByteRange& b) { return a.offset < b.offset; });
    // Coalesce: a range that starts within the gap of the block being formed joins it, while
    // the block stays under the largest GET.
    std::vector<std::shared_ptr<AheadBlock>> made;
    const auto& o = impl_->o;
    for (size_t i = 0; i < want.size();) {
      uint64_t begin = want[i].offset, end = want[i].offset + want[i].length, hinted = want[i].length;
      size_t j = i + 1;
      for (; j < want.size(); ++j) {
        const uint64_t next_end = std::max(end, want[j].offset + want[j].length);
        if (want[j].offset > end + o.coalesce_gap || next_end - begin > o.max_ahead_block) break;
        hinted += want[j].length;
        end = next_end;
      }
      i = j;
      if (!impl_->ReserveAhead(end - begin)) break;  // over the budget: the rest are read when needed
      made.push_back(std::make_shared<AheadBlock>(impl_, begin, end - begin, hinted));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      blocks_.insert(blocks_.end(), made.begin(), made.end());
    }
    for (auto& b : made) impl_->SubmitFetch([b, full = full_, etag = info_.etag] { b->Fetch(full, etag); });
  }

 private:
  // The read from a block fetched ahead: kNotFound when no block holds [offset, offset + n)
  // or its fetch failed (the caller then reads it directly, retrying; a persistent failure is
  // reported there), kAborted when the object changed.
  Status FromBlock(uint64_t offset, std::span<uint8_t> out) const {
    const uint64_t n = out.size();
    std::shared_ptr<AheadBlock> block;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& b : blocks_)
        if (b->Holds(offset, n)) block = b;
    }
    if (!block) return Status::NotFound("");
    block->Fetch(full_, info_.etag);  // no thread started it yet: fetch it here
    const Status& fetched = block->done.get();
    std::lock_guard<std::mutex> lock(mu_);
    if (!fetched.ok()) {
      std::erase(blocks_, block);
      return fetched.code() == StatusCode::kAborted ? fetched : Status::NotFound("");
    }
    std::copy_n(block->data.get() + (offset - block->offset), n, out.data());
    block->unread -= std::min(block->unread, n);
    if (block->unread == 0) std::erase(blocks_, block);  // every hinted range read: memory back
    return Status::OK();
  }

  const S3Store::Impl* impl_;
  std::string full_;
  ObjectInfo info_;
  std::string name_;
  const uint64_t tail_off_;
  const std::string tail_;
  const bool tail_asked_;  // the open fetched the caller's tail size (OpenReadTail), not the guess
  mutable std::mutex mu_;
  mutable std::string window_;  // GUARDED_BY(mu_)
  mutable uint64_t window_off_ = 0;
  mutable std::vector<std::shared_ptr<AheadBlock>> blocks_;  // GUARDED_BY(mu_): fetched ahead, not all read
};

// Buffers up to the multipart threshold; beyond it, uploads each part as it fills, up to
// `parts_in_flight` at once on threads of their own (the SigV4 payload hash, the transfer and
// the server's work on one part overlap the next part's), so memory stays bounded by
// parts_in_flight + 1 parts. Commit waits for every part in order and completes the upload;
// destroyed uncommitted (or after a failed part), the upload is aborted once no part is in flight.
class S3Writer final : public OutputStream {
 public:
  S3Writer(S3Store::Impl* impl, std::string full) : impl_(impl), full_(std::move(full)) {}
  ~S3Writer() override {
    in_flight_.clear();  // each future's destructor waits for its part
    if (!upload_id_.empty() && !committed_)
      (void)impl_->Send({.method = "DELETE", .key = full_, .query = {{"uploadId", upload_id_}}});
  }
  uint64_t bytes_written() const override { return written_; }
  Status Append(std::string_view data) override {
    if (committed_) return Status::Internal("append after commit to " + impl_->Where(full_));
    written_ += data.size();
    if (upload_id_.empty()) {
      if (buffer_.size() + data.size() <= impl_->o.multipart_threshold) {
        buffer_.append(data);
        return Status::OK();
      }
      SL_RETURN_IF_ERROR(Start());
      // What was buffered below the threshold goes out in whole parts (copied once).
      const size_t part = impl_->o.part_size;
      size_t at = 0;
      for (; buffer_.size() - at >= part; at += part) SL_RETURN_IF_ERROR(LaunchPart(buffer_.substr(at, part)));
      buffer_.erase(0, at);
    }
    // The part being filled is a buffer of its own that is handed over whole (moved, not copied).
    const size_t part = impl_->o.part_size;
    while (!data.empty()) {
      if (buffer_.capacity() < part) buffer_.reserve(part);
      const size_t take = std::min(part - buffer_.size(), data.size());
      buffer_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (buffer_.size() == part) {
        SL_RETURN_IF_ERROR(LaunchPart(std::move(buffer_)));
        buffer_ = std::string();
      }
    }
    return Status::OK();
  }
  Status Commit() override {
    if (committed_) return Status::OK();
    if (upload_id_.empty()) {
      SL_RETURN_IF_ERROR(impl_->PutObject(full_, buffer_, false));
      committed_ = true;
      return Status::OK();
    }
    if (!buffer_.empty() || launched_ == 0) SL_RETURN_IF_ERROR(LaunchPart(std::move(buffer_)));
    buffer_.clear();
    while (!in_flight_.empty()) SL_RETURN_IF_ERROR(Finish());
    std::string xml = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < parts_.size(); ++i)
      xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>\"" + parts_[i] + "\"</ETag></Part>";
    xml += "</CompleteMultipartUpload>";
    int attempts = 0;
    SL_ASSIGN_OR_RETURN(HttpResult r, impl_->Send({.method = "POST", .key = full_, .query = {{"uploadId", upload_id_}},
                                                   .body = xml}, &attempts));
    // S3 may answer 200 with an <Error> body when completion fails late.
    bool ok = r.status == 200 && internal::XmlText(r.body, "Code").empty();
    if (!ok && attempts > 1 && internal::XmlText(r.body, "Code") == "NoSuchUpload") {
      // Our earlier attempt completed it and only the reply was lost.
      auto info = impl_->Head(full_.substr(impl_->o.prefix.empty() ? 0 : impl_->o.prefix.size() + 1));
      ok = info.ok() && info->size == written_;
    }
    if (!ok) return impl_->Error(r, "CompleteMultipartUpload", full_);
    committed_ = true;
    return Status::OK();
  }

 private:
  Status Start() {
    SL_ASSIGN_OR_RETURN(HttpResult r, impl_->Send({.method = "POST", .key = full_, .query = {{"uploads", ""}}}));
    if (r.status != 200) return impl_->Error(r, "CreateMultipartUpload", full_);
    upload_id_ = internal::XmlText(r.body, "UploadId");
    if (upload_id_.empty()) return Status::IOError("CreateMultipartUpload " + impl_->Where(full_) + ": no UploadId in reply");
    return Status::OK();
  }
  // Starts part launched_ + 1, first waiting for the oldest part if the window is full.
  Status LaunchPart(std::string data) {
    while (in_flight_.size() >= static_cast<size_t>(std::max(1, impl_->o.parts_in_flight))) SL_RETURN_IF_ERROR(Finish());
    const std::string number = std::to_string(++launched_);
    in_flight_.push_back(std::async(std::launch::async, [this, number, data = std::move(data)]() -> Result<std::string> {
      SL_ASSIGN_OR_RETURN(HttpResult r, impl_->Send({.method = "PUT", .key = full_,
                                                     .query = {{"partNumber", number}, {"uploadId", upload_id_}},
                                                     .body = data}));
      const std::string* etag = r.Header("etag");
      if (r.status != 200 || etag == nullptr) return impl_->Error(r, "UploadPart " + number, full_);
      return Unquote(*etag);
    }));
    return Status::OK();
  }
  // The oldest part's answer: its ETag in order, or its error.
  Status Finish() {
    Result<std::string> etag = in_flight_.front().get();
    in_flight_.pop_front();
    SL_RETURN_IF_ERROR(etag.status());
    parts_.push_back(std::move(*etag));
    return Status::OK();
  }

  S3Store::Impl* impl_;
  std::string full_;
  std::string buffer_;
  uint64_t written_ = 0;
  std::string upload_id_;
  size_t launched_ = 0;
  std::deque<std::future<Result<std::string>>> in_flight_;  // parts launched, oldest first
  std::vector<std::string> parts_;                         // ETags, part i + 1
  bool committed_ = false;
};

}  // namespace

Result<std::unique_ptr<S3Store>> S3Store::Open(S3Options options) {
  if (options.bucket.empty()) return Status::InvalidArgument("S3 store: no bucket");
  // S3 refuses parts below 5 MiB (all but the last).
  if (options.part_size < (5u << 20)) return Status::InvalidArgument("S3 store: part size below 5 MiB");
  auto impl = std::make_unique<Impl>();
  if (!options.sleep_ms)
    options.sleep_ms = [](int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
  if (!options.random)
    options.random = [] {
      thread_local std::mt19937_64 rng{std::random_device{}()};
      return rng();
    };
  if (!options.now_s)
    options.now_s = [] { return static_cast<int64_t>(std::time(nullptr)); };
  std::string endpoint = options.endpoint;
  if (endpoint.empty()) endpoint = "https://s3." + options.region + ".amazonaws.com";
  size_t scheme_end = endpoint.find("://");
  if (scheme_end == std::string::npos) return Status::InvalidArgument("S3 endpoint '" + endpoint + "' has no scheme");
  std::string scheme = endpoint.substr(0, scheme_end);
  std::string host = endpoint.substr(scheme_end + 3);
  if (host.find('/') != std::string::npos) host = host.substr(0, host.find('/'));
  if (options.path_style) {
    impl->path_base = "/" + options.bucket;
  } else {
    host = options.bucket + "." + host;
  }
  impl->scheme_host = scheme + "://" + host;
  impl->host = host;
  impl->backoff = internal::Backoff(
      internal::RetryPolicy{std::max(1, options.max_attempts), options.backoff_base_ms, options.backoff_max_ms},
      options.sleep_ms, options.random);
  impl->http = std::make_unique<internal::HttpClient>(
      internal::HttpOptions{options.connect_timeout_ms, options.stall_timeout_ms});
  impl->o = std::move(options);
  return std::unique_ptr<S3Store>(new S3Store(std::move(impl)));
}

Result<std::unique_ptr<S3Store>> S3Store::OpenUri(std::string_view uri, bool assume_single_writer,
                                                  std::string commit_lock_file) {
  S3Options o;
  SL_RETURN_IF_ERROR(ParseS3Uri(uri, &o.bucket, &o.prefix));
  SL_ASSIGN_OR_RETURN(internal::AwsSettings s, internal::ResolveAwsSettings(internal::ProcessEnv()));
  o.access_key_id = s.key.access_key_id;
  o.secret_access_key = s.key.secret_access_key;
  o.session_token = s.key.session_token;
  o.region = s.region;
  o.endpoint = s.endpoint;
  o.path_style = s.path_style;
  o.assume_single_writer = assume_single_writer;
  o.commit_lock_file = std::move(commit_lock_file);
  const char* trace = std::getenv("SALESLAKE_S3_TRACE");
  o.trace = trace != nullptr && std::string_view(trace) == "1";
  return Open(std::move(o));
}

S3Store::S3Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
S3Store::~S3Store() = default;

std::string S3Store::uri() const {
  return "s3://" + impl_->o.bucket + (impl_->o.prefix.empty() ? "" : "/" + impl_->o.prefix);
}

Status S3Store::Put(std::string_view key, std::string_view data) {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  if (data.size() <= impl_->o.multipart_threshold) return impl_->PutObject(impl_->Full(key), data, false);
  SL_ASSIGN_OR_RETURN(auto out, OpenWrite(key));
  SL_RETURN_IF_ERROR(out->Append(data));
  return out->Commit();
}

Status S3Store::PutIfAbsent(std::string_view key, std::string_view data) {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  SL_ASSIGN_OR_RETURN(bool conditional, impl_->ConditionalWrites());
  if (conditional) return impl_->PutObject(impl_->Full(key), data, true);
  // Without conditional writes the check and the PUT must not interleave with another writer's.
  int lock_fd = -1;
  if (!impl_->o.commit_lock_file.empty()) {
    const std::string& path = impl_->o.commit_lock_file;
    lock_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0) return Status::IOError("cannot open the commit lock file " + path + " (SALESLAKE_S3_LOCK_FILE): " + std::strerror(errno));
    // Held for one HEAD and one PUT, each bounded by the request timeouts, so waiting is too.
    while (::flock(lock_fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(lock_fd);
      return Status::IOError("cannot lock the commit lock file " + path + ": " + std::strerror(e));
    }
  } else if (!impl_->o.assume_single_writer) {
    return Status::NotImplemented(
        "the S3 endpoint of " + uri() + " ignores conditional writes (PUT with If-None-Match: *), so two "
        "writers could both commit and one update would be lost; use a server that supports them (AWS S3, "
        "MinIO, saleslake serve), or name a lock file every writer of this lake shares in "
        "SALESLAKE_S3_LOCK_FILE, or, if only one process ever writes this lake, set SALESLAKE_S3_SINGLE_WRITER=1");
  } else {
    std::call_once(impl_->single_writer_notice, [&] {
      std::fprintf(stderr, "saleslake: notice: %s has no conditional writes; commits rely on a single writer "
                   "(SALESLAKE_S3_SINGLE_WRITER=1)\n", uri().c_str());
    });
  }
  struct Unlock {
    int fd;
    ~Unlock() {
      if (fd >= 0) ::close(fd);  // closing the descriptor releases the flock
    }
  } unlock{lock_fd};
  auto info = impl_->Head(key);
  if (info.ok()) return Status::AlreadyExists("object " + impl_->Where(impl_->Full(key)) + " already exists");
  if (info.status().code() != StatusCode::kNotFound) return info.status();
  return impl_->PutObject(impl_->Full(key), data, false);
}

Result<std::unique_ptr<OutputStream>> S3Store::OpenWrite(std::string_view key) {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  return std::unique_ptr<OutputStream>(new S3Writer(impl_.get(), impl_->Full(key)));
}

Result<std::string> S3Store::Get(std::string_view key) const {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::string full = impl_->Full(key);
  SL_ASSIGN_OR_RETURN(HttpResult r, impl_->Send({.method = "GET", .key = full}));
  if (r.status == 404 && internal::XmlText(r.body, "Code") != "NoSuchBucket")
    return Status::NotFound("object '" + std::string(key) + "' not found in lake " + uri());
  if (r.status != 200) return impl_->Error(r, "GET", full);
  return std::move(r.body);
}

Result<std::string> S3Store::GetRange(std::string_view key, uint64_t offset, uint64_t length) const {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  if (length == 0) {
    SL_RETURN_IF_ERROR(impl_->Head(key).status());
    return std::string();
  }
  auto got = impl_->Range(impl_->Full(key), offset, length, "");
  if (!got.ok() && got.status().code() == StatusCode::kNotFound)
    return Status::NotFound("object '" + std::string(key) + "' not found in lake " + uri());
  return got;
}

Result<std::unique_ptr<RandomAccessFile>> S3Store::OpenRead(std::string_view key) const {
  return OpenReadTail(key, 0);
}

Result<std::unique_ptr<RandomAccessFile>> S3Store::OpenReadTail(std::string_view key, uint64_t tail_bytes) const {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  const uint64_t n = tail_bytes == 0 ? impl_->tail_guess.load(std::memory_order_relaxed) : std::min(tail_bytes, kMaxTail);
  SL_ASSIGN_OR_RETURN(Impl::Tail tail, impl_->TailOf(key, n));
  return std::unique_ptr<RandomAccessFile>(new S3File(impl_.get(), impl_->Full(key), std::move(tail), tail_bytes != 0));
}

Result<std::vector<ObjectInfo>> S3Store::List(std::string_view prefix) const {
  if (prefix.find('\0') != std::string_view::npos || (!prefix.empty() && prefix.front() == '/'))
    return Status::InvalidArgument("invalid list prefix '" + std::string(prefix) + "'");
  const std::string root = impl_->o.prefix.empty() ? "" : impl_->o.prefix + "/";
  std::vector<ObjectInfo> out;
  std::string token;
  for (int page = 0;; ++page) {
    Params q = {{"list-type", "2"}, {"prefix", root + std::string(prefix)}};
    if (!token.empty()) q.emplace_back("continuation-token", token);
    SL_ASSIGN_OR_RETURN(HttpResult r, impl_->Send({.method = "GET", .key = "", .query = q}));
    if (r.status != 200) return impl_->Error(r, "ListObjectsV2", root + std::string(prefix));
    for (std::string_view c : internal::XmlElements(r.body, "Contents")) {
      std::string full = internal::XmlText(c, "Key");
      if (full.size() <= root.size() || full.compare(0, root.size(), root) != 0) continue;
      ObjectInfo info;
      info.key = full.substr(root.size());
      if (!ValidateObjectKey(info.key).ok()) continue;  // folder markers, foreign names
      info.size = std::strtoull(internal::XmlText(c, "Size").c_str(), nullptr, 10);
      info.etag = Unquote(internal::XmlText(c, "ETag"));
      info.mtime_ns = ParseHttpTime(internal::XmlText(c, "LastModified"));
      out.push_back(std::move(info));
    }
    token = internal::XmlText(r.body, "NextContinuationToken");
    if (internal::XmlText(r.body, "IsTruncated") != "true") break;
    if (token.empty()) return Status::IOError("ListObjectsV2 " + uri() + ": truncated page without a continuation token");
  }
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Status S3Store::Delete(std::string_view key) {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  // S3 deletes absent keys silently; the contract wants kNotFound.
  SL_RETURN_IF_ERROR(impl_->Head(key).status());
  std::string full = impl_->Full(key);
  SL_ASSIGN_OR_RETURN(HttpResult r, impl_->Send({.method = "DELETE", .key = full}));
  if (r.status != 204 && r.status != 200) return impl_->Error(r, "DELETE", full);
  return Status::OK();
}

Status S3Store::DeleteMany(const std::vector<std::string>& keys) {
  for (const std::string& k : keys) SL_RETURN_IF_ERROR(ValidateObjectKey(k));
  for (size_t begin = 0; begin < keys.size(); begin += 1000) {
    std::string xml = "<Delete><Quiet>true</Quiet>";
    for (size_t i = begin; i < std::min(keys.size(), begin + 1000); ++i)
      xml += "<Object><Key>" + XmlEscape(impl_->Full(keys[i])) + "</Key></Object>";
    xml += "</Delete>";
    SL_ASSIGN_OR_RETURN(HttpResult r, impl_->Send({.method = "POST", .key = "", .query = {{"delete", ""}},
                                                   .headers = {{"content-md5", Md5Base64(xml)}}, .body = xml}));
    if (r.status != 200) return impl_->Error(r, "DeleteObjects", impl_->o.prefix);
    auto errors = internal::XmlElements(r.body, "Error");
    if (!errors.empty())
      return Status::IOError("DeleteObjects " + impl_->Where(internal::XmlText(errors[0], "Key")) + ": " +
                             internal::XmlText(errors[0], "Code") + " " + internal::XmlText(errors[0], "Message") +
                             " (" + std::to_string(errors.size()) + " keys not deleted)");
  }
  return Status::OK();
}

Result<bool> S3Store::Exists(std::string_view key) const {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  auto info = impl_->Head(key);
  if (info.ok()) return true;
  if (info.status().code() == StatusCode::kNotFound) return false;
  return info.status();
}

Result<ObjectInfo> S3Store::Stat(std::string_view key) const {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  return impl_->Head(key);
}

}  // namespace saleslake::io
