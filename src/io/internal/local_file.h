// Internals shared by LocalStore and the local-file helpers.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "io/object_store.h"

namespace saleslake::io::internal {

// Prefix of in-flight temporary files; never listed as objects.
constexpr std::string_view kTempPrefix = ".tmp-";

Status SyncDir(const std::string& dir);
// mkdir -p.
Status MakeDirs(const std::string& dir);
// A temp file beside `path` that Commit() renames (or, when exclusive, hard-links) into place.
Result<std::unique_ptr<OutputStream>> OpenAtomicWrite(const std::string& path, bool exclusive);

}  // namespace saleslake::io::internal
