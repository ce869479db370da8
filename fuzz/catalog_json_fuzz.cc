// Fuzzes the catalog's JSON decoders (catalog/internal/json_codec.h): manifests (simdjson),
// manifest lists and metadata versions read from the lake are decoded or refused as corrupt,
// never crash; a manifest that decodes encodes to one that decodes to the same files.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "catalog/internal/json_codec.h"

using namespace saleslake::catalog::internal;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)DecodeMetadata(text, "fuzz");
  (void)DecodeManifestList(text, "fuzz");
  (void)ValueFromJson(text);
  auto files = DecodeManifest(text, "fuzz");
  if (files.ok()) {
    auto again = DecodeManifest(EncodeManifest(*files), "fuzz");
    if (!again.ok() || again->size() != files->size()) __builtin_trap();
    for (size_t i = 0; i < files->size(); ++i) {
      if ((*again)[i].key != (*files)[i].key || (*again)[i].row_count != (*files)[i].row_count) __builtin_trap();
    }
  }
  return 0;
}
