// Fuzzes the AWS CBOR decoder (Kinesis requests in application/x-amz-cbor-1.1): any input is
// decoded or refused without a crash, and whatever it decodes encodes back to CBOR it decodes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/internal/cbor.h"

using namespace saleslake::server::internal;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto doc = DecodeAwsCbor(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!doc.ok()) return 0;
  auto again = DecodeAwsCbor(EncodeAwsCbor(*doc));
  if (!again.ok()) __builtin_trap();
  return 0;
}
