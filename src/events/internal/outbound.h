// What the events module does to the world outside the lake: HTTP POSTs and e-mails (libcurl,
// bounded by a timeout) and commands (a child process with the input on stdin, a wall-clock timeout, an
// address-space limit and bounded captured output).
// Thread safety: both functions may run on many threads at once.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "events/rules.h"

namespace saleslake::events::internal {

struct HttpResult {
  int status = 0;     // 0: no response (refused, timed out)
  std::string error;  // why, when status is 0 or not 2xx
};
HttpResult HttpPost(const std::string& url, const std::string& body,
                    const std::vector<std::pair<std::string, std::string>>& headers, int timeout_ms);

// Sends one plain-text UTF-8 message to `to` through settings.url (SMTP or SMTPS, STARTTLS and
// AUTH as configured). The result's status is 250 when the server accepted it; error says why
// not (refused, no server configured, TLS or login failed, timed out).
HttpResult SendMail(const SmtpSettings& settings, const std::string& to, const std::string& subject,
                    const std::string& body, int64_t date_epoch_ms);

struct CommandResult {
  int exit_code = -1;      // -1 when killed by a signal
  int signal = 0;
  bool timed_out = false;
  std::string out, err;    // at most max_output bytes each
  bool truncated = false;
  std::string error;       // could not start
  bool ok() const { return error.empty() && !timed_out && exit_code == 0; }
  std::string Reason() const;
};
CommandResult RunCommand(const std::string& command, const std::string& input,
                         const std::map<std::string, std::string>& env, int timeout_ms, int memory_mb,
                         size_t max_output = 64 * 1024);

}  // namespace saleslake::events::internal
