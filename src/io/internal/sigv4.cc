#include "io/internal/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

#include "common/encoding.h"

namespace saleslake::io::internal {
namespace {

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Header values are trimmed and inner runs of spaces collapse to one (SigV4's canonical form).
std::string CanonicalValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> enc;
  for (const auto& [k, v] : query) enc.emplace_back(PercentEncode(k), PercentEncode(v));
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [k, v] : enc) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

std::string CanonicalRequest(const SignInput& in, std::string* signed_headers) {
  std::vector<std::pair<std::string, std::string>> h;
  for (const auto& [k, v] : in.headers) h.emplace_back(Lower(k), CanonicalValue(v));
  std::sort(h.begin(), h.end());
  std::string headers, names;
  for (const auto& [k, v] : h) {
    headers += k + ":" + v + "\n";
    if (!names.empty()) names += ';';
    names += k;
  }
  if (signed_headers != nullptr) *signed_headers = names;
  return in.method + "\n" + in.canonical_uri + "\n" + CanonicalQueryString(in.query) + "\n" +
         headers + "\n" + names + "\n" + in.payload_sha256_hex;
}

std::string StringToSign(const SignInput& in, std::string_view canonical_request) {
  return "AWS4-HMAC-SHA256\n" + in.amz_date + "\n" + in.amz_date.substr(0, 8) + "/" + in.region +
         "/" + in.service + "/aws4_request\n" + Sha256Hex(canonical_request);
}

std::string AuthorizationHeader(const SignInput& in, const SigV4Key& key) {
  std::string signed_headers;
  std::string canonical = CanonicalRequest(in, &signed_headers);
  std::string date = in.amz_date.substr(0, 8);
  std::string k = Hmac("AWS4" + key.secret_access_key, date);
  k = Hmac(k, in.region);
  k = Hmac(k, in.service);
  k = Hmac(k, "aws4_request");
  std::string sig = Hmac(k, StringToSign(in, canonical));
  return "AWS4-HMAC-SHA256 Credential=" + key.access_key_id + "/" + date + "/" + in.region + "/" +
         in.service + "/aws4_request,SignedHeaders=" + signed_headers +
         ",Signature=" + HexEncode(sig);
}

}  // namespace saleslake::io::internal
