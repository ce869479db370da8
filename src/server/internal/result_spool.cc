#include "server/internal/result_spool.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

namespace saleslake::server::internal {

namespace {

Result<int> CreateUnlinked(const std::string& dir) {
  std::random_device rd;
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string path = fmt::format("{}/spool-{:08x}{:08x}", dir, rd(), rd());
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0) return Status::FromErrno(errno, "result spool: create " + path);
    // Unlinked at once: the rows live as long as the descriptor, and a crash leaves nothing.
    ::unlink(path.c_str());
    return fd;
  }
  return Status::IOError("result spool: no free file name in " + dir);
}

}  // namespace

std::unique_ptr<ResultSpool> ResultSpool::Make(std::string dir, uint64_t memory_bytes) {
  return std::unique_ptr<ResultSpool>(new ResultSpool(std::move(dir), memory_bytes));
}

ResultSpool::~ResultSpool() {
  MutexLock lock(mu_);
  if (fd_ >= 0) ::close(fd_);
}

Status ResultSpool::Append(std::string_view text, uint64_t rows) {
  if (rows == 0) return Status::OK();
  uint64_t first_row = 0, at = 0, head_size = 0;
  int fd = -1;
  bool to_file = false;
  {
    MutexLock lock(mu_);
    first_row = rows_;
    at = bytes_;
    fd = fd_;
    head_size = head_.size();
    to_file = fd_ >= 0 || head_.size() + text.size() > memory_bytes_;
  }
  // The offsets of the rows that get an index entry.
  std::vector<uint64_t> marks;
  uint64_t row = first_row;
  for (size_t pos = 0; pos < text.size(); ++row) {
    if (row % kIndexEvery == 0) marks.push_back(at + pos);
    const void* nl = std::memchr(text.data() + pos, '\n', text.size() - pos);
    SL_CHECK(nl != nullptr);  // every row ends in '\n'
    pos = static_cast<size_t>(static_cast<const char*>(nl) - text.data()) + 1;
  }
  SL_CHECK(row - first_row == rows);
  if (!to_file) {
    MutexLock lock(mu_);
    head_.append(text);
    index_.insert(index_.end(), marks.begin(), marks.end());
    rows_ += rows;
    head_rows_ += rows;
    bytes_ += text.size();
    return Status::OK();
  }
  if (fd < 0) {
    SL_ASSIGN_OR_RETURN(fd, CreateUnlinked(dir_));
    MutexLock lock(mu_);
    fd_ = fd;
  }
  // Written without the lock: reads of the rows already there go on meanwhile.
  const uint64_t file_at = at - head_size;
  for (size_t done = 0; done < text.size();) {
    ssize_t n =
        ::pwrite(fd, text.data() + done, text.size() - done, static_cast<off_t>(file_at + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::FromErrno(n < 0 ? errno : EIO, "result spool: write");
    done += static_cast<size_t>(n);
  }
  MutexLock lock(mu_);
  index_.insert(index_.end(), marks.begin(), marks.end());
  rows_ += rows;
  bytes_ += text.size();
  return Status::OK();
}

Status ResultSpool::CopyOut(uint64_t at, uint64_t n, char* to) const {
  uint64_t head_size = 0;
  int fd = -1;
  {
    // The memory part is copied under the lock: an Append may move it.
    MutexLock lock(mu_);
    head_size = head_.size();
    if (at < head_size) {
      const uint64_t k = std::min(n, head_size - at);
      std::memcpy(to, head_.data() + at, k);
      at += k;
      to += k;
      n -= k;
    }
    fd = fd_;
  }
  while (n > 0) {
    if (fd < 0) return Status::Corruption("result spool: read past the rows");
    ssize_t got = ::pread(fd, to, n, static_cast<off_t>(at - head_size));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return Status::FromErrno(got < 0 ? errno : EIO, "result spool: read");
    at += static_cast<uint64_t>(got);
    to += got;
    n -= static_cast<uint64_t>(got);
  }
  return Status::OK();
}

Result<uint64_t> ResultSpool::Read(uint64_t first, uint64_t max_rows, uint64_t max_bytes,
                                   std::string* out, char row_end) const {
  uint64_t start = 0, end = 0;
  {
    MutexLock lock(mu_);
    if (first >= rows_ || max_rows == 0) return uint64_t{0};
    max_rows = std::min(max_rows, rows_ - first);
    start = index_[first / kIndexEvery];
    // The rows asked for end at the latest at the index entry after the last of them.
    const uint64_t next = (first + max_rows + kIndexEvery - 1) / kIndexEvery;
    end = next < index_.size() ? index_[next] : bytes_;
  }
  max_bytes = std::max<uint64_t>(max_bytes, 1);
  // From the index entry to row `first`: past (first % kIndexEvery) newlines.
  constexpr uint64_t kChunk = 64 << 10;
  std::string scratch;
  for (uint64_t skip = first % kIndexEvery; skip > 0;) {
    const uint64_t n = std::min(kChunk, end - start);
    if (n == 0) return Status::Corruption("result spool: row not found");
    scratch.resize(n);
    SL_RETURN_IF_ERROR(CopyOut(start, n, scratch.data()));
    size_t pos = 0;
    while (skip > 0) {
      const void* nl = std::memchr(scratch.data() + pos, '\n', n - pos);
      if (!nl) break;
      pos = static_cast<size_t>(static_cast<const char*>(nl) - scratch.data()) + 1;
      --skip;
    }
    start += skip == 0 ? pos : n;
  }
  // Copy what may be the rows, then cut after the last whole one that fits.
  const size_t base = out->size();
  uint64_t want = std::min(end - start, max_bytes);
  out->resize(base + want);
  SL_RETURN_IF_ERROR(CopyOut(start, want, out->data() + base));
  uint64_t rows = 0;
  size_t cut = base;
  while (rows < max_rows) {
    const void* nl = std::memchr(out->data() + cut, '\n', out->size() - cut);
    if (!nl) break;
    cut = static_cast<size_t>(static_cast<const char*>(nl) - out->data()) + 1;
    (*out)[cut - 1] = row_end;
    ++rows;
  }
  while (rows == 0) {  // the first row alone is longer than max_bytes: it comes whole
    const uint64_t copied = out->size() - base;
    const uint64_t n = std::min(kChunk, end - start - copied);
    if (n == 0) return Status::Corruption("result spool: unterminated row");
    out->resize(out->size() + n);
    SL_RETURN_IF_ERROR(CopyOut(start + copied, n, out->data() + out->size() - n));
    if (const void* nl = std::memchr(out->data() + out->size() - n, '\n', n)) {
      cut = static_cast<size_t>(static_cast<const char*>(nl) - out->data()) + 1;
      (*out)[cut - 1] = row_end;
      rows = 1;
    }
  }
  out->resize(cut);
  return rows;
}

uint64_t ResultSpool::rows() const {
  MutexLock lock(mu_);
  return rows_;
}

uint64_t ResultSpool::spooled_rows() const {
  MutexLock lock(mu_);
  return rows_ - head_rows_;
}

uint64_t ResultSpool::bytes() const {
  MutexLock lock(mu_);
  return bytes_;
}

uint64_t ResultSpool::file_bytes() const {
  MutexLock lock(mu_);
  return bytes_ - head_.size();
}

}  // namespace saleslake::server::internal
