#include "common/logging.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "common/json.h"

namespace saleslake {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};
std::atomic<LogLevel> g_level{LogLevel::kInfo};

std::string_view LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

std::string NowIso() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

void SetLogFormat(LogFormat format) { g_format = format; }
LogFormat GetLogFormat() { return g_format.load(); }
void SetLogLevel(LogLevel min_level) { g_level = min_level; }

bool ParseLogFormat(std::string_view s, LogFormat* out) {
  if (s == "text") *out = LogFormat::kText;
  else if (s == "json") *out = LogFormat::kJson;
  else return false;
  return true;
}

void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  if (level < g_level.load()) return;
  std::string line;
  if (g_format.load() == LogFormat::kJson) {
    line = "{\"time\":" + JsonQuote(NowIso()) + ",\"level\":" + JsonQuote(LevelName(level)) +
           ",\"msg\":" + JsonQuote(message);
    for (const auto& [k, v] : fields) line += "," + JsonQuote(k) + ":" + JsonQuote(v);
    line += "}\n";
  } else {
    line = std::string(LevelName(level)) + ": " + std::string(message);
    for (const auto& [k, v] : fields) line += " " + std::string(k) + "=" + v;
    line += "\n";
  }
  (void)!write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace saleslake
