// JSON encoding of catalog objects (metadata versions, manifest lists, manifests, Values).
// Decoding never throws: a malformed object becomes kCorruption naming `where` (the object key).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"

namespace saleslake::catalog::internal {

// A Value as {"type": "DATE", "v": 20301}; NULL values as null. Decimals keep their unscaled
// integer as a string (it may not fit a double); non-finite doubles as "nan"/"inf"/"-inf".
nlohmann::json ValueToJson(const Value& v);
// The JSON text of one such value (what ValueToJson(v).dump() gives) back to the Value.
Result<Value> ValueFromJson(std::string_view json_text);

std::string EncodeMetadata(const TableMetadata& m);
Result<TableMetadata> DecodeMetadata(std::string_view text, std::string_view where);

// A manifest: the data files one commit added (or a rewrite of them).
std::string EncodeManifest(const std::vector<DataFile>& files);
Result<std::vector<DataFile>> DecodeManifest(std::string_view text, std::string_view where);

struct ManifestRef {
  std::string key;
  int64_t files = 0;
};
std::string EncodeManifestList(const std::vector<ManifestRef>& manifests);
Result<std::vector<ManifestRef>> DecodeManifestList(std::string_view text, std::string_view where);

// Schema <-> [{"name","type","nullable"}].
nlohmann::json SchemaToJson(const Schema& s);
Result<Schema> SchemaFromJson(const nlohmann::json& j);

nlohmann::json DataFileToJson(const DataFile& f);

// Decimal text of a 128-bit integer.
std::string Int128ToString(__int128 v);
bool ParseInt128(std::string_view s, __int128* out);

}  // namespace saleslake::catalog::internal
