// Logging: human text on a terminal, JSON lines (one object per line) with --log-format json.
// Everything goes to stderr so stdout stays for results. Thread safety: safe from any thread;
// each line is written with one call.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "common/json.h"  // JsonQuote, for callers that log JSON fields

namespace saleslake {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };

void SetLogFormat(LogFormat format);
LogFormat GetLogFormat();
void SetLogLevel(LogLevel min_level);
// Parses "text" or "json".
bool ParseLogFormat(std::string_view s, LogFormat* out);

using LogField = std::pair<std::string_view, std::string>;
void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});

}  // namespace saleslake
