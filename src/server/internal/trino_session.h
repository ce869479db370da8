// The client-side state of the Trino protocol: session properties (X-Trino-Session, SET SESSION,
// RESET SESSION), prepared statements (X-Trino-Prepared-Statement, PREPARE, EXECUTE ... USING,
// DEALLOCATE PREPARE) and USE. Trino keeps none of it on the server: a statement that changes it
// is answered with a response header (X-Trino-Set-Session, X-Trino-Added-Prepare, ...) and the
// client sends the state back on every later request. So these statements are answered here, in
// the protocol layer, and never reach the engine; EXECUTE becomes the prepared text with its
// parameters in place.
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace saleslake::server::internal {

// "k=v,k2=v2" (X-Trino-Session, X-Trino-Prepared-Statement): names and percent-encoded values.
// kInvalidArgument for a pair without '=' or a bad escape.
Result<std::map<std::string, std::string>> ParseTrinoPairs(std::string_view header);

// A Trino duration: a number and a unit (ns, us, ms, s, m, h, d), "1.5m", "500ms", "10s".
Result<std::chrono::milliseconds> ParseTrinoDuration(std::string_view text);

// The session properties saleslake honours, from X-Trino-Session: query_max_execution_time and
// query_max_run_time (the smaller wins) as a time limit (0 when neither is set). Other
// properties are accepted and have no effect. kInvalidArgument for a bad value of a known one.
Result<std::chrono::milliseconds> TrinoSessionTimeLimit(const std::map<std::string, std::string>& session);

// A statement answered by the protocol layer: what Trino reports as its update type, and the
// response headers that carry the change to the client.
struct TrinoSessionStatement {
  std::string update_type;  // "SET SESSION", "RESET SESSION", "PREPARE", "DEALLOCATE", "USE"
  std::vector<std::pair<std::string, std::string>> headers;
};

// SET SESSION name = value, RESET SESSION name, PREPARE name FROM statement, DEALLOCATE PREPARE
// name, USE [catalog.]schema: what to answer. nullopt for any other statement. kInvalidArgument
// ("line 1:C: ...") for a malformed one, or a bad value of a property saleslake honours.
Result<std::optional<TrinoSessionStatement>> TrinoSessionStatementOf(std::string_view sql);

// EXECUTE name [USING value, ...]: the prepared statement `name` (from the client's prepared
// statements, X-Trino-Prepared-Statement) with its '?' parameters replaced, in order, by the
// values' text. nullopt for any other statement. kInvalidArgument when `name` is not prepared or
// the number of values differs from the parameters'.
Result<std::optional<std::string>> ExpandTrinoExecute(std::string_view sql,
                                                      const std::map<std::string, std::string>& prepared);

}  // namespace saleslake::server::internal
