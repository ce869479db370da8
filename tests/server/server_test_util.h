// Helpers for tests against a real `saleslake serve` process: start/stop it on a free loopback
// port, raw HTTP exchanges over a socket, SigV4-signed requests, and a lake with IAM users.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "support/test_support.h"

namespace saleslake::testing {

// A running `saleslake serve`. The destructor always stops it (SIGTERM, then SIGKILL).
class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts `saleslake --lake LAKE serve --port 0 EXTRA...` and waits (bounded) for its
  // "serving" line. Returns false with the server's stderr in *error. `env` ("NAME=value")
  // is added to (and overrides) this process's environment.
  bool Start(const std::string& lake, const std::vector<std::string>& extra, std::string* error,
             const std::vector<std::string>& env = {});
  // SIGTERM and wait (bounded); returns the exit code (128+signal when killed).
  int Stop();
  void Kill();  // SIGKILL and reap
  // What the server wrote to stderr since the last call and until now (no wait).
  std::string ReadStderr();
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int err_fd_ = -1;
};

struct HttpReply {
  int status = 0;  // 0: no reply (connection closed or timed out)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// Sends `raw` (a whole HTTP/1.1 request) on a new connection and reads one reply (bounded by
// timeout_ms). `head` = the request was HEAD (no body follows the headers).
HttpReply RawExchange(int port, const std::string& raw, int timeout_ms = 10000, bool head = false);
// A connected socket to 127.0.0.1:port, or -1.
int Connect(int port);

struct Key {
  std::string id;
  std::string secret;
};

// A request signed with SigV4 for service s3 (payload hash = SHA-256 of the body).
// `path_and_query` is as sent on the wire ("/bucket/key?x=y").
std::string SignedRequest(const std::string& method, const std::string& path_and_query, int port,
                          const Key& key, const std::string& body = "",
                          const std::vector<std::pair<std::string, std::string>>& headers = {});

// A presigned GET URL's path and query ("/bucket/key?X-Amz-Algorithm=...&X-Amz-Signature=..."),
// signed as if at `signed_at` and valid for `expires_seconds` from then.
std::string PresignedPath(const std::string& path, int port, const Key& key,
                          std::chrono::system_clock::time_point signed_at, int expires_seconds);

// `saleslake start-job` beside a running server, whose own event rules may be running the same
// job for an upload (one run of a job at a time): retries, bounded, while the job is held.
CommandResult StartJobBesideServer(const std::string& lake, const std::string& job);

// Creates the IAM store in `lake` (after `saleslake init`) with user `name`, an access key and,
// unless policy is empty, an inline policy.
Key CreateUserWithKey(const std::string& lake, const std::string& name, const std::string& policy);

}  // namespace saleslake::testing
