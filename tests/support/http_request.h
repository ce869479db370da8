// Reads one HTTP/1.1 request (headers, then Content-Length bytes of body) from a socket: the
// request side of the scripted test servers (tests/io). Bounded: ~5 s without a byte ends it.
#pragma once

#include <poll.h>
#include <unistd.h>

#include <cctype>
#include <string>

namespace saleslake::testing {

// Appends the request's bytes to *in and sets *head_end to the offset of its "\r\n\r\n". False
// when the connection closed or stalled before the headers and body were complete.
inline bool ReadHttpRequest(int fd, std::string* in, size_t* head_end) {
  char buf[65536];
  size_t need = 0;
  *head_end = std::string::npos;
  for (int waited = 0; waited < 100;) {  // 50 ms polls: at most ~5 s per request
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) {
      ++waited;
      continue;
    }
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    in->append(buf, static_cast<size_t>(n));
    if (*head_end == std::string::npos && (*head_end = in->find("\r\n\r\n")) != std::string::npos) {
      std::string lower = in->substr(0, *head_end);
      for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      const size_t cl = lower.find("content-length:");
      if (cl != std::string::npos) need = std::stoul(lower.substr(cl + 15));
    }
    if (*head_end != std::string::npos && in->size() >= *head_end + 4 + need) return true;
  }
  return false;
}

}  // namespace saleslake::testing
