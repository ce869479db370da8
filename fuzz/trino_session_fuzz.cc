// Fuzzes the Trino protocol's client-state parsers (server/internal/trino_session.h): the first
// line is an X-Trino-Session / X-Trino-Prepared-Statement header, the rest a statement. Nothing
// may crash, and a PREPARE's X-Trino-Added-Prepare header must decode back to its statement.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/internal/trino_session.h"

using namespace saleslake::server::internal;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view header = in.substr(0, nl), sql = nl == std::string_view::npos ? "" : in.substr(nl + 1);
  auto pairs = ParseTrinoPairs(header);
  if (pairs.ok()) {
    (void)TrinoSessionTimeLimit(*pairs);
    (void)ExpandTrinoExecute(sql, *pairs);
  }
  (void)ParseTrinoDuration(header);
  auto local = TrinoSessionStatementOf(sql);
  if (local.ok() && *local && (*local)->update_type == "PREPARE") {
    auto back = ParseTrinoPairs((*local)->headers.at(0).second);
    if (!back.ok() || back->size() != 1) __builtin_trap();
    // Executing what was prepared finds it by its name.
    std::string quoted;
    for (char c : back->begin()->first) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    auto run = ExpandTrinoExecute("EXECUTE \"" + quoted + "\"", *back);
    if (!run.ok() && run.status().code() == saleslake::StatusCode::kNotFound) __builtin_trap();
  }
  return 0;
}
