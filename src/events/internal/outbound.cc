#include "events/internal/outbound.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <mutex>
#include <random>

#include "io/curl.h"

namespace saleslake::events::internal {

namespace {

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

// A header value on one line: CR and LF would let a subject add headers of its own.
std::string OneLine(const std::string& s) {
  std::string out;
  for (char c : s) out += (c == '\r' || c == '\n' || c == '\t') ? ' ' : c;
  return out;
}

std::string Base64(const std::string& in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(v >> k) & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// RFC 2047: a subject with non-ASCII bytes travels base64-encoded.
std::string EncodeSubject(const std::string& subject) {
  std::string s = OneLine(subject);
  bool ascii = std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 128; });
  return ascii ? s : "=?UTF-8?B?" + Base64(s) + "?=";
}

// The body with CRLF line ends (SMTP's); libcurl dot-stuffs lines that start with '.'.
std::string CrLf(const std::string& body) {
  std::string out;
  out.reserve(body.size() + body.size() / 40);
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\n' && (i == 0 || body[i - 1] != '\r')) out += '\r';
    out += body[i];
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

struct MailSource {
  const std::string* data;
  size_t pos = 0;
};

size_t ReadMail(char* buffer, size_t size, size_t n, void* user) {
  auto* src = static_cast<MailSource*>(user);
  size_t left = src->data->size() - src->pos;
  size_t take = std::min(left, size * n);
  std::memcpy(buffer, src->data->data() + src->pos, take);
  src->pos += take;
  return take;
}

}  // namespace

HttpResult SendMail(const SmtpSettings& settings, const std::string& to, const std::string& subject,
                    const std::string& body, int64_t date_epoch_ms) {
  HttpResult r;
  if (settings.url.empty()) {
    r.error = "no smtp server configured (the smtp: section of pipeline.yaml)";
    return r;
  }
  if (!ValidEmailAddress(to)) {
    r.error = "not an e-mail address: " + to;
    return r;
  }
  auto loaded = io::Curl();
  if (!loaded.ok()) {
    r.error = loaded.status().message();
    return r;
  }
  const io::CurlLibrary& lib = **loaded;
  time_t secs = static_cast<time_t>(date_epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char message_id[96];
  std::string domain = settings.from.substr(settings.from.find('@') + 1);
  std::snprintf(message_id, sizeof message_id, "<%016llx.%lld@%s>", static_cast<unsigned long long>(rng()),
                static_cast<long long>(date_epoch_ms), domain.substr(0, 60).c_str());
  // SMTP lines end at 998 bytes: a body with a longer line travels base64-encoded (76 a line).
  bool long_line = false;
  for (size_t pos = 0; pos < body.size() && !long_line;) {
    size_t nl = body.find('\n', pos);
    if (nl == std::string::npos) nl = body.size();
    long_line = nl - pos > 990;
    pos = nl + 1;
  }
  std::string text;
  if (long_line) {
    std::string b64 = Base64(body);
    for (size_t i = 0; i < b64.size(); i += 76) text += b64.substr(i, 76) + "\r\n";
  } else {
    text = CrLf(body);
  }
  std::string mail = std::string("Date: ") + date + "\r\nFrom: " + settings.from + "\r\nTo: " + to +
                     "\r\nSubject: " + EncodeSubject(subject) + "\r\nMessage-ID: " + message_id +
                     "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                     "Content-Transfer-Encoding: " + (long_line ? "base64" : "8bit") + "\r\n\r\n" + text;
  CURL* curl = lib.easy_init();
  if (!curl) {
    r.error = "curl_easy_init failed";
    return r;
  }
  MailSource source{&mail};
  curl_slist* rcpt = lib.slist_append(nullptr, ("<" + to + ">").c_str());
  std::string from = "<" + settings.from + ">";
  lib.easy_setopt(curl, CURLOPT_URL, settings.url.c_str());
  lib.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  lib.easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  lib.easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  lib.easy_setopt(curl, CURLOPT_READFUNCTION, ReadMail);
  lib.easy_setopt(curl, CURLOPT_READDATA, &source);
  lib.easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  lib.easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(mail.size()));
  long timeout_ms = static_cast<long>(settings.timeout_s) * 1000;
  lib.easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  lib.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  lib.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (settings.starttls == "required") lib.easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (settings.starttls == "try") lib.easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
  if (!settings.ca_file.empty()) lib.easy_setopt(curl, CURLOPT_CAINFO, settings.ca_file.c_str());
  if (!settings.username.empty()) {
    lib.easy_setopt(curl, CURLOPT_USERNAME, settings.username.c_str());
    lib.easy_setopt(curl, CURLOPT_PASSWORD, settings.password.c_str());
  }
  CURLcode rc = lib.easy_perform(curl);
  long code = 0;
  lib.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  if (rc == CURLE_OK) {
    r.status = static_cast<int>(code);
  } else {
    r.status = 0;
    r.error = std::string("smtp: ") + lib.easy_strerror(rc) + (code ? " (" + std::to_string(code) + ")" : "");
  }
  lib.slist_free_all(rcpt);
  lib.easy_cleanup(curl);
  return r;
}

HttpResult HttpPost(const std::string& url, const std::string& body,
                    const std::vector<std::pair<std::string, std::string>>& headers, int timeout_ms) {
  HttpResult r;
  auto loaded = io::Curl();
  if (!loaded.ok()) {
    r.error = loaded.status().message();
    return r;
  }
  const io::CurlLibrary& lib = **loaded;
  // One handle per thread, reset for each POST: its connection cache keeps a keep-alive
  // endpoint's connection open from one delivery to the next (no TCP setup per message).
  struct Handle {
    const io::CurlLibrary* lib = nullptr;
    CURL* curl = nullptr;
    ~Handle() {
      if (curl) lib->easy_cleanup(curl);
    }
  };
  static thread_local Handle handle;
  if (handle.lib == nullptr) {
    handle.lib = &lib;
    handle.curl = lib.easy_init();
  }
  CURL* curl = handle.curl;
  if (!curl) {
    r.error = "curl_easy_init failed";
    return r;
  }
  lib.easy_reset(curl);
  curl_slist* list = nullptr;
  for (const auto& [k, v] : headers) list = lib.slist_append(list, (k + ": " + v).c_str());
  list = lib.slist_append(list, "Expect:");
  lib.easy_setopt(curl, CURLOPT_URL, url.c_str());
  lib.easy_setopt(curl, CURLOPT_POST, 1L);
  lib.easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  lib.easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  lib.easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  lib.easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  lib.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_ms));
  lib.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  lib.easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  lib.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  CURLcode rc = lib.easy_perform(curl);
  if (rc == CURLE_OK) {
    long code = 0;
    lib.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    r.status = static_cast<int>(code);
    if (code < 200 || code > 299) r.error = "HTTP " + std::to_string(code);
  } else {
    r.error = lib.easy_strerror(rc);
  }
  lib.slist_free_all(list);
  return r;
}

std::string CommandResult::Reason() const {
  if (!error.empty()) return error;
  if (timed_out) return "timed out";
  if (signal) return "killed by signal " + std::to_string(signal);
  if (exit_code != 0) {
    std::string tail = err.size() > 200 ? err.substr(err.size() - 200) : err;
    return "exit code " + std::to_string(exit_code) + (tail.empty() ? "" : ": " + tail);
  }
  return "ok";
}

CommandResult RunCommand(const std::string& command, const std::string& input,
                         const std::map<std::string, std::string>& env, int timeout_ms, int memory_mb,
                         size_t max_output) {
  CommandResult r;
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) { r.error = std::string("pipe: ") + std::strerror(errno); return r; }
  if (pipe2(out, O_CLOEXEC) != 0) { close(in[0]); close(in[1]); r.error = "pipe failed"; return r; }
  if (pipe2(err, O_CLOEXEC) != 0) {
    for (int fd : {in[0], in[1], out[0], out[1]}) close(fd);
    r.error = "pipe failed";
    return r;
  }
  // Everything the child needs is prepared before fork (only async-signal-safe calls after).
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", cmd = command;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
  rlim_t limit = static_cast<rlim_t>(memory_mb) << 20;
  pid_t pid = fork();
  if (pid < 0) {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
    r.error = "fork failed";
    return r;
  }
  if (pid == 0) {
    setpgid(0, 0);  // its own group: a timeout kills the command and its children
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    rlimit rl{limit, limit};
    setrlimit(RLIMIT_AS, &rl);
    execve(argv[0], argv, envp.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  size_t written = 0;
  int in_fd = in[1];
  if (input.empty()) { close(in_fd); in_fd = -1; }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int open_fds = 2;
  bool out_open = true, err_open = true;
  char buf[8192];
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) { r.timed_out = true; break; }
    pollfd fds[3];
    int n = 0;
    if (out_open) fds[n++] = {out[0], POLLIN, 0};
    if (err_open) fds[n++] = {err[0], POLLIN, 0};
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (poll(fds, static_cast<nfds_t>(n), static_cast<int>(std::min<int64_t>(left, 1000))) < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == in_fd) {
        ssize_t w = write(in_fd, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN) written = input.size();  // the child closed stdin
        if (written >= input.size()) { close(in_fd); in_fd = -1; }
        continue;
      }
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      std::string& sink = fds[i].fd == out[0] ? r.out : r.err;
      if (got <= 0) {
        if (fds[i].fd == out[0]) out_open = false; else err_open = false;
        --open_fds;
        continue;
      }
      // Output past the cap is read and dropped, so a flooding command never blocks on a pipe.
      size_t room = sink.size() < max_output ? max_output - sink.size() : 0;
      if (static_cast<size_t>(got) > room) r.truncated = true;
      sink.append(buf, std::min(room, static_cast<size_t>(got)));
    }
  }
  if (in_fd >= 0) close(in_fd);
  if (r.timed_out) kill(-pid, SIGKILL);
  close(out[0]);
  close(err[0]);
  int status = 0;
  // Output closed: the command is exiting; a bounded wait, then a kill.
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      r.timed_out = true;
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    usleep(2000);
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

}  // namespace saleslake::events::internal
