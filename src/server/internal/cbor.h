// AWS's CBOR wire format (`application/x-amz-cbor-1.1`), which the AWS SDK for Java and the
// Kinesis Producer/Client Libraries send to Kinesis by default. It is the JSON 1.1 document in
// CBOR (RFC 8949) with two differences the handlers must not see:
//   - blobs (Kinesis's record `Data`) are CBOR byte strings, where JSON carries base64 text;
//   - timestamps are tag 1 over epoch *milliseconds* (the AWS SDKs' reading of tag 1, not the
//     RFC's seconds), where JSON carries epoch seconds as a number.
// The server decodes a CBOR request into the JSON document its handlers already take and encodes
// their JSON answer back, so there is one implementation of every operation.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace saleslake::server::internal {

inline constexpr std::string_view kCborContentType = "application/x-amz-cbor-1.1";

// CBOR -> the JSON 1.1 document: byte strings become base64 text, tag 1 values (milliseconds)
// become seconds. Refuses, with the byte offset: truncated or trailing bytes, reserved or
// unsupported encodings, map keys that are not text, nesting deeper than 64, lengths beyond the
// input.
Result<nlohmann::json> DecodeAwsCbor(std::string_view bytes);

// The JSON 1.1 document -> CBOR: members named `Data` (base64 text) become byte strings, numbers
// in members whose name ends in `Timestamp` become tag 1 over milliseconds.
std::string EncodeAwsCbor(const nlohmann::json& doc);

}  // namespace saleslake::server::internal
