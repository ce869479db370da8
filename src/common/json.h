// The one JSON string escaper every hand-written JSON output uses (logs, events, query results,
// parquet-meta, `cat --format json`), and the one reader of a JSON string literal the hand-written
// parsers use (IAM policies, result rows read back). Larger documents that are built as trees
// use nlohmann. Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace saleslake {

// Appends `s` as a JSON string literal (quotes included): \" \\ \n \r \t, other control bytes
// as \u00XX; every other byte, UTF-8 included, is copied as is.
void AppendJsonString(std::string& out, std::string_view s);

// The same, returned as a new string.
std::string JsonQuote(std::string_view s);

// Reads the JSON string literal whose opening quote is text[*pos] and appends its value to `out`:
// escapes decoded, \uXXXX (surrogate pairs joined) as UTF-8, other bytes copied as they are
// (UTF-8 is not validated); *pos ends past the closing quote. Malformed input returns why, a
// fixed text, with *pos at where: the opening quote of an unterminated string, the backslash of
// a bad escape (unknown, short \u, or a lone UTF-16 surrogate), a raw control character itself.
// Returns nullptr when the literal was read.
const char* ReadJsonString(std::string_view text, size_t* pos, std::string* out);

}  // namespace saleslake
