// libcurl, loaded on first use: the one table of the libcurl functions saleslake calls (the S3
// store's HTTP client here in io, and events' webhook and mail deliveries).
//
// Why not linked: libcurl pulls in ~40 libraries (nghttp2, idn2, ssh2, rtmp, psl, Kerberos, LDAP,
// GnuTLS...) that every process would map and relocate at start-up, while a query over a local
// lake never makes an HTTP request (common/shared_library.h). Types and constants come from
// <curl/curl.h> as usual; only the calls go through the table, e.g.
// `curl->easy_setopt(h, CURLOPT_URL, url)` instead of `curl_easy_setopt(h, CURLOPT_URL, url)`.
//
// Thread safety: Curl() may be called from any thread; the table is read-only once returned.
#pragma once

#include <curl/curl.h>

#include "common/status.h"

namespace saleslake::io {

// X(member, libcurl function): the functions we call, each typed from curl.h's declaration.
#define SL_CURL_FUNCTIONS(X)                  \
  X(global_init, curl_global_init)            \
  X(easy_init, curl_easy_init)                \
  X(easy_setopt, curl_easy_setopt)            \
  X(easy_perform, curl_easy_perform)          \
  X(easy_getinfo, curl_easy_getinfo)          \
  X(easy_reset, curl_easy_reset)              \
  X(easy_cleanup, curl_easy_cleanup)          \
  X(easy_strerror, curl_easy_strerror)        \
  X(slist_append, curl_slist_append)          \
  X(slist_free_all, curl_slist_free_all)

struct CurlLibrary {
#define SL_CURL_MEMBER(member, function) decltype(&::function) member = nullptr;
  SL_CURL_FUNCTIONS(SL_CURL_MEMBER)
#undef SL_CURL_MEMBER
};

// Loads libcurl.so.4 and runs curl_global_init(CURL_GLOBAL_DEFAULT), once per process; later
// calls return the same table (or the same error). kNotFound, naming the library and the
// package, when libcurl is not installed or lacks one of the functions.
Result<const CurlLibrary*> Curl();

}  // namespace saleslake::io
