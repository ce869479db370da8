// Fuzzes the server's request parsing: an S3 request (method, target, headers) -> typed
// operation, the two XML request bodies, aws-chunked framing and form/query decoding.
// Input layout: line 1 "METHOD TARGET", then "name: value" header lines, an empty line, the body.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/internal/dispatch.h"
#include "server/internal/gate.h"
#include "server/internal/s3.h"
#include "server/internal/util.h"
#include "server/internal/xml.h"

using namespace saleslake::server::internal;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  HttpRequest r;
  size_t eol = in.find('\n');
  std::string first = in.substr(0, eol);
  size_t sp = first.find(' ');
  r.method = first.substr(0, sp);
  r.target = sp == std::string::npos ? "/" : first.substr(sp + 1);
  size_t q = r.target.find('?');
  r.raw_path = r.target.substr(0, q);
  r.raw_query = q == std::string::npos ? "" : r.target.substr(q + 1);
  size_t pos = eol == std::string::npos ? in.size() : eol + 1;
  while (pos < in.size()) {
    size_t e = in.find('\n', pos);
    if (e == std::string::npos) e = in.size();
    std::string line = in.substr(pos, e - pos);
    pos = e + 1;
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon != std::string::npos) r.headers.emplace(line.substr(0, colon), line.substr(colon + 1));
  }
  r.body = pos < in.size() ? in.substr(pos) : "";

  auto decoded = DecodeS3Request(r, "my-analytics-bucket");
  if (auto* s3 = std::get_if<S3Request>(&decoded)) {
    // A decoded key is always one the store accepts (or a folder marker).
    std::string k = s3->key;
    if (!k.empty() && k.back() == '/') k.pop_back();
    if (!k.empty() && !saleslake::io::ValidateKey(k).ok()) __builtin_trap();
  }
  (void)ParseCompleteMultipart(r.body);
  (void)ParseDeleteObjects(r.body);
  (void)ParseQuery(r.body, true);
  std::string body = r.body;
  HeaderMap trailers;
  (void)DecodeAwsChunked(body, &trailers);
  HttpRequest copy = r;
  DispatcherOptions options;
  options.bucket = "my-analytics-bucket";
  Dispatcher d(options, nullptr, nullptr, nullptr);
  (void)d.Detect(copy);
  return 0;
}
