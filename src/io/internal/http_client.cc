#include "io/internal/http_client.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>

#include "io/curl.h"

namespace saleslake::io::internal {
namespace {

constexpr size_t kMaxIdle = 16;

// Where a body goes: the caller's buffer for a 206 when it gave one, else the result's string.
struct BodySink {
  const CurlLibrary* curl = nullptr;
  CURL* handle = nullptr;
  std::string* body = nullptr;
  std::span<uint8_t> into;
  size_t* filled = nullptr;
  int direct = -1;  // decided at the first byte, when the status is known
};

size_t OnBody(char* p, size_t size, size_t n, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const size_t len = size * n;
  if (sink->direct < 0) {
    long status = 0;
    sink->curl->easy_getinfo(sink->handle, CURLINFO_RESPONSE_CODE, &status);
    sink->direct = status == 206 && !sink->into.empty() ? 1 : 0;
  }
  if (sink->direct == 0) {
    sink->body->append(p, len);
    return len;
  }
  if (len > sink->into.size() - *sink->filled) return 0;  // more than the range: curl fails the transfer
  std::memcpy(sink->into.data() + *sink->filled, p, len);
  *sink->filled += len;
  return len;
}

size_t OnHeader(char* p, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
  std::string_view line(p, size * n);
  if (line.rfind("HTTP/", 0) == 0) headers->clear();  // a new response (after 100 Continue)
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
    headers->emplace_back(std::move(name), std::string(v));
  }
  return size * n;
}

}  // namespace

const std::string* HttpResult::Header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return &v;
  return nullptr;
}

HttpClient::HttpClient(HttpOptions options) : options_(options), plain_(std::make_unique<PlainHttp>(options)) {}

HttpClient::~HttpClient() {
  // A handle exists only once libcurl loaded.
  for (void* h : idle_) (*Curl())->easy_cleanup(static_cast<CURL*>(h));
}

void* HttpClient::Take(const CurlLibrary& curl) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl.easy_init();
}

void HttpClient::Give(const CurlLibrary& curl, void* handle) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < kMaxIdle) idle_.push_back(handle);
  else curl.easy_cleanup(static_cast<CURL*>(handle));
}

Result<HttpResult> HttpClient::Send(const HttpCall& call) {
  if (call.url.rfind("http://", 0) == 0) return plain_->Send(call);
  return SendCurl(call);
}

Result<HttpResult> HttpClient::SendCurl(const HttpCall& call) {
  SL_ASSIGN_OR_RETURN(const CurlLibrary* curl, Curl());
  CURL* h = static_cast<CURL*>(Take(*curl));
  if (h == nullptr) return Status::Internal("curl_easy_init failed");
  // reset keeps the handle's live connections: that is the reuse.
  curl->easy_reset(h);
  HttpResult result;
  if (call.into.empty()) result.body.reserve(std::min<size_t>(call.expect_body, size_t{256} << 20));  // a hint, bounded
  char error[CURL_ERROR_SIZE] = {0};
  curl->easy_setopt(h, CURLOPT_URL, call.url.c_str());
  curl->easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  curl->easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl->easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>((options_.stall_timeout_ms + 999) / 1000));
  BodySink sink{curl, h, &result.body, call.into, &result.into_bytes};
  curl->easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  curl->easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl->easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl->easy_setopt(h, CURLOPT_HEADERDATA, &result.headers);
  curl->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  if (call.method == "HEAD") {
    curl->easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (call.method == "GET") {
    curl->easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl->easy_setopt(h, CURLOPT_CUSTOMREQUEST, call.method.c_str());
    if (call.method != "DELETE" || !call.body.empty()) {
      curl->easy_setopt(h, CURLOPT_POSTFIELDS, call.body.data());
      curl->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
    }
  }
  curl_slist* list = nullptr;
  bool has_type = false;
  for (const auto& [k, v] : call.headers) {
    list = curl->slist_append(list, (k + ": " + v).c_str());
    if (k == "content-type" || k == "Content-Type") has_type = true;
  }
  // No "Expect: 100-continue" round trip, and no form content type for raw bodies.
  list = curl->slist_append(list, "Expect:");
  if (!has_type) list = curl->slist_append(list, "Content-Type:");
  curl->easy_setopt(h, CURLOPT_HTTPHEADER, list);

  CURLcode rc = curl->easy_perform(h);
  long status = 0;
  curl->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl->slist_free_all(list);
  curl->easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  if (rc != CURLE_OK) {
    // The handle may hold a broken connection: do not keep it.
    curl->easy_cleanup(h);
    std::string why = error[0] != '\0' ? error : curl->easy_strerror(rc);
    return Status::IOError(call.method + " " + call.url + ": " + why);
  }
  Give(*curl, h);
  result.status = status;
  return result;
}

}  // namespace saleslake::io::internal
