// The console's static files, embedded at build time (tools/embed_assets.cmake writes
// console_assets.cc in the build tree from web/console/ and echarts' prebuilt dist file).
#pragma once

#include <cstddef>

namespace saleslake::server::internal {

struct EmbeddedAsset {
  const char* path;  // "index.html", "app.js", "vendor/echarts.min.js"
  const unsigned char* data;
  size_t size;
};

extern const EmbeddedAsset kConsoleAssets[];
extern const size_t kNumConsoleAssets;

}  // namespace saleslake::server::internal
