#include "io/internal/group_append.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "io/internal/local_file.h"

namespace saleslake::io::internal {

namespace {

// A batch's state.
constexpr uint32_t kQueued = 0;
constexpr uint32_t kHandedOver = 1;  // the previous leader finished: one of this batch's appenders leads it
constexpr uint32_t kLed = 2;
constexpr uint32_t kDone = 3;

// The appenders that queued while the previous batch was being written. Each caller's bytes stay
// in the caller's own buffer (it blocks until its batch is done), so a batch is a list of
// pointers and the leader hands them to one writev: no copy and no allocation per append beyond
// the list's growth.
struct Batch {
  std::vector<iovec> parts;
  // Its appenders sleep on this word (a futex), not on the queue's mutex: finishing a batch wakes
  // them with one call and none of them has to take the mutex again on the way out (with a
  // condition variable, dozens of woken appenders queued on the mutex one after another).
  std::atomic<uint32_t> state{kQueued};
  Status status;  // written by the leader before state becomes kDone
};

struct FileQueue {
  std::mutex mu;
  std::shared_ptr<Batch> filling;  // null until someone queues after the last leader took it
  bool writing = false;            // a leader is writing (or handing over to the next batch)
};

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) && std::atomic<uint32_t>::is_always_lock_free);

void FutexWait(std::atomic<uint32_t>& word, uint32_t expected) {
  // Returns at once when the word is no longer `expected`; spurious returns are re-checked.
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}

void FutexWake(std::atomic<uint32_t>& word, int waiters) {
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, waiters, nullptr, nullptr, 0);
}

// One queue per path for the life of the process: the appended-to files are a handful of
// journals (events, markers, outbox, one dead-letter file per rule), never one per object.
// Each thread remembers the queues it used, so the shared registry (and its mutex, contended
// by every appender) is consulted once per thread and path.
FileQueue& QueueFor(const std::string& path) {
  thread_local std::unordered_map<std::string, FileQueue*> cache;
  if (auto it = cache.find(path); it != cache.end()) return *it->second;
  static std::mutex registry_mu;
  static auto* registry = new std::unordered_map<std::string, std::unique_ptr<FileQueue>>();
  std::lock_guard lock(registry_mu);
  auto& q = (*registry)[path];
  if (!q) q = std::make_unique<FileQueue>();
  if (cache.size() > 256) cache.clear();  // a long-lived thread that appended to many dead-letter files
  cache.emplace(path, q.get());
  return *q;
}

// Writes every part with as few writev calls as the kernel allows (one, unless there are more
// than IOV_MAX parts or a write comes back short). Adds to `written` what reached the file.
Status WriteParts(int fd, std::vector<iovec> parts, const std::string& path, size_t* written) {
  size_t first = 0;
  while (first < parts.size()) {
    int n = static_cast<int>(std::min<size_t>(parts.size() - first, IOV_MAX));
    ssize_t w = ::writev(fd, parts.data() + first, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return Status::FromErrno(w < 0 ? errno : EIO, "append " + path);
    *written += static_cast<size_t>(w);
    auto left = static_cast<size_t>(w);
    while (first < parts.size() && left >= parts[first].iov_len) left -= parts[first++].iov_len;
    if (left > 0) {
      parts[first].iov_base = static_cast<char*>(parts[first].iov_base) + left;
      parts[first].iov_len -= left;
    }
  }
  return Status::OK();
}

// One batch: open, close a torn line, one writev, one fdatasync (and the folder's fsync when the
// file is new, so the file itself survives a crash). A batch that fails is cut off again where
// it began, when no other process appended after it, so a caller that sees an error never has
// some of its lines read as events later (its retry would journal them twice).
Status WriteSynced(const std::string& path, const Batch& batch) {
  bool created = false;
  int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    SL_RETURN_IF_ERROR(MakeDirs(path.substr(0, path.rfind('/'))));
    fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    created = true;
  }
  if (fd < 0) return Status::FromErrno(errno, "append " + path);
  std::vector<iovec> parts;
  parts.reserve(batch.parts.size() + 1);
  static char newline = '\n';
  // Line records (the batch's last byte is '\n'): a torn last line left by a crash is closed first.
  if (!batch.parts.empty() && batch.parts.back().iov_len > 0 &&
      static_cast<const char*>(batch.parts.back().iov_base)[batch.parts.back().iov_len - 1] == '\n') {
    struct stat st {};
    char last = '\n';
    if (::fstat(fd, &st) == 0 && st.st_size > 0 && ::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n')
      parts.push_back({&newline, 1});
  }
  parts.insert(parts.end(), batch.parts.begin(), batch.parts.end());
  size_t written = 0;
  Status s = WriteParts(fd, std::move(parts), path, &written);
  if (s.ok() && ::fdatasync(fd) != 0) s = Status::FromErrno(errno, "sync " + path);
  if (!s.ok() && written > 0) {
    // With O_APPEND the offset is just past this batch's bytes; if the file still ends there, the
    // batch is its tail.
    off_t end = ::lseek(fd, 0, SEEK_CUR);
    struct stat st {};
    if (end >= static_cast<off_t>(written) && ::fstat(fd, &st) == 0 && st.st_size == end &&
        ::ftruncate(fd, end - static_cast<off_t>(written)) == 0)
      (void)::fdatasync(fd);
  }
  ::close(fd);
  if (s.ok() && created) s = SyncDir(path.substr(0, path.rfind('/')));
  return s;
}

}  // namespace

Status GroupAppend(const std::string& path, std::string_view data) {
  FileQueue& q = QueueFor(path);
  std::shared_ptr<Batch> mine;
  bool lead = false;
  {
    std::lock_guard lock(q.mu);
    if (!q.filling) q.filling = std::make_shared<Batch>();
    mine = q.filling;
    if (!data.empty()) mine->parts.push_back({const_cast<char*>(data.data()), data.size()});
    // Nobody writing: this caller leads its batch now; later appenders fill the next one.
    lead = !q.writing;
    if (lead) {
      q.writing = true;
      q.filling = nullptr;
    }
  }
  if (!lead) {
    for (;;) {
      uint32_t s = mine->state.load(std::memory_order_acquire);
      if (s == kDone) return mine->status;
      if (s == kHandedOver && mine->state.compare_exchange_strong(s, kLed, std::memory_order_acq_rel)) break;
      FutexWait(mine->state, s);
    }
  }
  Status s = WriteSynced(path, *mine);
  mine->status = s;
  // The batch that formed meanwhile (its appenders are all waiting) is handed over while
  // `writing` stays set, so no newcomer can start a write of its own in between.
  std::shared_ptr<Batch> next;
  {
    std::lock_guard lock(q.mu);
    next = std::move(q.filling);
    q.filling = nullptr;
    if (!next) q.writing = false;
  }
  mine->state.store(kDone, std::memory_order_release);
  FutexWake(mine->state, INT_MAX);
  if (next) {
    next->state.store(kHandedOver, std::memory_order_release);
    FutexWake(next->state, 1);
  }
  return s;
}

}  // namespace saleslake::io::internal
