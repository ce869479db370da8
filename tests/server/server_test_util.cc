#include "server/server_test_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <regex>
#include <string_view>
#include <thread>

#include "auth/auth.h"
#include "io/local_store.h"

extern char** environ;

namespace saleslake::testing {

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Stop();
}

bool ServerProcess::Start(const std::string& lake, const std::vector<std::string>& extra,
                          std::string* error, const std::vector<std::string>& env) {
  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return false;
  std::vector<std::string> argv = {SALESLAKE_BINARY, "--lake", lake, "serve", "--port", "0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    bool overridden = false;
    for (const std::string& o : env) {
      size_t eq = o.find('=');
      overridden = overridden || entry.substr(0, entry.find('=') + 1) == std::string_view(o).substr(0, eq + 1);
    }
    if (!overridden) env_strings.emplace_back(entry);
  }
  env_strings.insert(env_strings.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  int rc = posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(err_pipe[1]);
  if (rc != 0) {
    close(err_pipe[0]);
    pid_ = -1;
    *error = "spawn failed";
    return false;
  }
  err_fd_ = err_pipe[0];
  std::string text;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::regex re(R"(on https?://[^ ]*:(\d+))");
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{err_fd_, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    char buf[4096];
    ssize_t n = read(err_fd_, buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    std::smatch m;
    if (std::regex_search(text, m, re)) {
      port_ = std::stoi(m[1]);
      // Keep draining stderr in the background is unnecessary: the server writes little there,
      // and the pipe buffer (64 KiB) holds it.
      return true;
    }
  }
  *error = text;
  Kill();
  return false;
}

int ServerProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  pid_t r = 0;
  while ((r = waitpid(pid_, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline) {
    usleep(10000);
  }
  if (r == 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  if (err_fd_ >= 0) close(err_fd_);
  err_fd_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  if (err_fd_ >= 0) close(err_fd_);
  err_fd_ = -1;
}

std::string ServerProcess::ReadStderr() {
  std::string text;
  while (err_fd_ >= 0) {
    pollfd p{err_fd_, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) break;
    char buf[4096];
    ssize_t n = read(err_fd_, buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

HttpReply RawExchange(int port, const std::string& raw, int timeout_ms, bool head) {
  HttpReply reply;
  int fd = Connect(port);
  if (fd < 0) return reply;
  size_t sent = 0;
  while (sent < raw.size()) {
    ssize_t n = send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string in;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  size_t header_end = std::string::npos;
  size_t want = std::string::npos;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[65536];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
    if (header_end == std::string::npos) {
      header_end = in.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        std::string lower = in.substr(0, header_end);
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t cl = lower.find("\r\ncontent-length:");
        want = head ? header_end + 4
                    : cl == std::string::npos ? std::string::npos
                                              : header_end + 4 + std::stoull(lower.substr(cl + 17));
        if (lower.compare(9, 3, "304") == 0 || lower.compare(9, 3, "204") == 0) want = header_end + 4;
      }
    }
    if (want != std::string::npos && in.size() >= want) break;
  }
  close(fd);
  if (in.size() < 12 || in.compare(0, 5, "HTTP/") != 0) return reply;
  reply.status = std::atoi(in.c_str() + 9);
  size_t end = in.find("\r\n\r\n");
  size_t pos = in.find("\r\n") + 2;
  while (end != std::string::npos && pos < end) {
    size_t eol = in.find("\r\n", pos);
    std::string line = in.substr(pos, eol - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(value.begin());
      reply.headers[name] = value;
    }
    pos = eol + 2;
  }
  if (end != std::string::npos) reply.body = in.substr(end + 4);
  return reply;
}

std::string SignedRequest(const std::string& method, const std::string& path_and_query, int port,
                          const Key& key, const std::string& body,
                          const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string host = "127.0.0.1:" + std::to_string(port);
  std::string amz_date = auth::FormatAmzDate(std::chrono::system_clock::now());
  std::string payload = auth::sigv4::HexSha256(body);
  auth::HttpRequestView view;
  view.method = method;
  size_t q = path_and_query.find('?');
  std::string path = path_and_query.substr(0, q);
  std::string query = q == std::string::npos ? "" : path_and_query.substr(q + 1);
  view.raw_path = path;
  view.raw_query = query;
  view.headers = {{"host", host}, {"x-amz-content-sha256", payload}, {"x-amz-date", amz_date}};
  for (auto [k, v] : headers) {
    for (char& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    view.headers.emplace_back(k, v);
  }
  auth::sigv4::SignInput in;
  in.access_key_id = key.id;
  in.secret = key.secret;
  in.amz_date = amz_date;
  for (const auto& [k, v] : view.headers) in.signed_headers.push_back(k);
  std::sort(in.signed_headers.begin(), in.signed_headers.end());
  in.payload_hash = payload;
  auto authz = auth::sigv4::AuthorizationHeader(view, in);
  std::string raw = method + " " + path_and_query + " HTTP/1.1\r\n";
  for (const auto& [k, v] : view.headers) raw += k + ": " + v + "\r\n";
  if (authz.ok()) raw += "authorization: " + *authz + "\r\n";
  raw += "content-length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return raw;
}

std::string PresignedPath(const std::string& path, int port, const Key& key,
                          std::chrono::system_clock::time_point signed_at, int expires_seconds) {
  std::string amz_date = auth::FormatAmzDate(signed_at);
  auth::HttpRequestView view;
  view.method = "GET";
  view.raw_path = path;
  const std::string query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + key.id + "%2F" +
                            amz_date.substr(0, 8) + "%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=" + amz_date +
                            "&X-Amz-Expires=" + std::to_string(expires_seconds) + "&X-Amz-SignedHeaders=host";
  view.raw_query = query;
  view.headers = {{"host", "127.0.0.1:" + std::to_string(port)}};
  auth::sigv4::SignInput in;
  in.access_key_id = key.id;
  in.secret = key.secret;
  in.amz_date = amz_date;
  in.signed_headers = {"host"};
  in.payload_hash = "UNSIGNED-PAYLOAD";
  auto sig = auth::sigv4::PresignSignature(view, in);
  EXPECT_TRUE(sig.ok()) << sig.status().ToString();
  return path + "?" + query + "&X-Amz-Signature=" + (sig.ok() ? *sig : "");
}

CommandResult StartJobBesideServer(const std::string& lake, const std::string& job) {
  CommandResult r;
  for (int attempt = 0; attempt < 240; ++attempt) {  // at most ~60 s
    r = RunSaleslakeIn(lake, {"start-job", "--job-name", job});
    if (r.exit_code == 0 || r.err.find("already running") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return r;
}

Key CreateUserWithKey(const std::string& lake, const std::string& name, const std::string& policy) {
  auto store = io::LocalStore::Open(lake, false);
  EXPECT_TRUE(store.ok());
  if (!store.ok()) return {};
  auth::IamOptions options;
  options.create = true;
  options.password_iterations = 1000;
  auto iam = auth::Iam::Open(**store, options);
  EXPECT_TRUE(iam.ok()) << iam.status().ToString();
  if (!iam.ok()) return {};
  auto user = (*iam)->CreateUser(name);
  EXPECT_TRUE(user.ok()) << user.status().ToString();
  if (!policy.empty()) {
    Status s = (*iam)->PutUserPolicy(name, "p", policy);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  auto k = (*iam)->CreateAccessKey(name);
  EXPECT_TRUE(k.ok()) << k.status().ToString();
  if (!k.ok()) return {};
  return {k->access_key_id, k->secret_access_key};
}

}  // namespace saleslake::testing
