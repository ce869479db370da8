// AWS Signature Version 4 for the S3 store: canonical request, string to sign, signing key and
// the Authorization header. A small signer of its own because io sits below auth (whose
// verifier cannot be used from here); tests pin it to AWS's published example signatures.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/encoding.h"  // Sha256Hex, PercentEncode: the payload hash and key paths

namespace saleslake::io::internal {

struct SigV4Key {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" unless temporary credentials
};

struct SignInput {
  std::string method;           // "GET"
  std::string canonical_uri;    // the path exactly as sent, already URI-encoded ("/bucket/a%20b")
  std::vector<std::pair<std::string, std::string>> query;  // decoded names and values
  // Headers to sign (any case); must contain host, x-amz-date and x-amz-content-sha256 for S3.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_sha256_hex;  // or "UNSIGNED-PAYLOAD"
  std::string amz_date;            // "20130524T000000Z"
  std::string region;              // "us-east-1"
  std::string service = "s3";
};

// name=value pairs encoded, sorted by name then value, joined with '&'.
std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query);
// The canonical request; *signed_headers receives "host;range;x-amz-date".
std::string CanonicalRequest(const SignInput& in, std::string* signed_headers);
std::string StringToSign(const SignInput& in, std::string_view canonical_request);
// "AWS4-HMAC-SHA256 Credential=.../s3/aws4_request,SignedHeaders=...,Signature=..."
std::string AuthorizationHeader(const SignInput& in, const SigV4Key& key);

}  // namespace saleslake::io::internal
