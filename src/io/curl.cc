#include "io/curl.h"

#include "common/shared_library.h"

namespace saleslake::io {
namespace {

Result<CurlLibrary> Load() {
  SL_ASSIGN_OR_RETURN(SharedLibrary lib,
                      SharedLibrary::Open("libcurl.so.4", "HTTP requests (the S3 store, webhooks, mail)",
                                          "libcurl4"));
  CurlLibrary curl;
#define SL_CURL_BIND(member, function) SL_RETURN_IF_ERROR(lib.Bind(#function, curl.member));
  SL_CURL_FUNCTIONS(SL_CURL_BIND)
#undef SL_CURL_BIND
  // Not thread-safe in older libcurl versions: it runs here, inside the static's guarded init.
  const CURLcode rc = curl.global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) {
    return Status::Internal(std::string("curl_global_init failed: ") + curl.easy_strerror(rc));
  }
  return curl;
}

}  // namespace

Result<const CurlLibrary*> Curl() {
  // Never destroyed: handles cleaned up by other statics' and threads' destructors at exit still
  // call through it.
  static const Result<CurlLibrary>* const loaded = new Result<CurlLibrary>(Load());
  if (!loaded->ok()) return loaded->status();
  return &loaded->value();
}

}  // namespace saleslake::io
