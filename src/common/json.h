// The one JSON string escaper every hand-written JSON output uses (logs, events, query results,
// parquet-meta, `cat --format json`). Larger documents that are built as trees use nlohmann.
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace saleslake {

// Appends `s` as a JSON string literal (quotes included): \" \\ \n \r \t, other control bytes
// as \u00XX; every other byte, UTF-8 included, is copied as is.
void AppendJsonString(std::string& out, std::string_view s);

// The same, returned as a new string.
std::string JsonQuote(std::string_view s);

}  // namespace saleslake
