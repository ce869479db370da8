#include "io/internal/group_append.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "io/internal/local_file.h"

namespace saleslake::io::internal {

namespace {

// The bytes of the appenders that queued while no leader was writing.
struct Batch {
  std::string data;
  bool done = false;
  Status status;
};

struct FileQueue {
  std::mutex mu;
  std::condition_variable cv;
  std::shared_ptr<Batch> filling;  // null until someone queues after the last leader took it
  bool writing = false;
};

// One queue per path for the life of the process: the appended-to files are a handful of
// journals (events, markers, outbox, one dead-letter file per rule), never one per object.
FileQueue& QueueFor(const std::string& path) {
  static std::mutex registry_mu;
  static auto* registry = new std::unordered_map<std::string, std::unique_ptr<FileQueue>>();
  std::lock_guard lock(registry_mu);
  auto& q = (*registry)[path];
  if (!q) q = std::make_unique<FileQueue>();
  return *q;
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return Status::FromErrno(errno, "append " + path);
    data.remove_prefix(static_cast<size_t>(w));
  }
  return Status::OK();
}

// One batch: open, close a torn line, one write, one fdatasync (and the folder's fsync when the
// file is new, so the file itself survives a crash).
Status WriteSynced(const std::string& path, const std::string& data) {
  bool created = false;
  int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    SL_RETURN_IF_ERROR(MakeDirs(path.substr(0, path.rfind('/'))));
    fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    created = true;
  }
  if (fd < 0) return Status::FromErrno(errno, "append " + path);
  Status s;
  std::string_view bytes = data;
  std::string repaired;
  if (!data.empty() && data.back() == '\n') {
    struct stat st {};
    char last = '\n';
    if (::fstat(fd, &st) == 0 && st.st_size > 0 && ::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') {
      repaired = "\n" + data;
      bytes = repaired;
    }
  }
  s = WriteAll(fd, bytes, path);
  if (s.ok() && ::fdatasync(fd) != 0) s = Status::FromErrno(errno, "sync " + path);
  ::close(fd);
  if (s.ok() && created) s = SyncDir(path.substr(0, path.rfind('/')));
  return s;
}

}  // namespace

Status GroupAppend(const std::string& path, std::string_view data) {
  FileQueue& q = QueueFor(path);
  std::unique_lock lock(q.mu);
  if (!q.filling) q.filling = std::make_shared<Batch>();
  std::shared_ptr<Batch> mine = q.filling;
  mine->data.append(data);
  while (!mine->done) {
    if (q.writing) {
      q.cv.wait(lock);
      continue;
    }
    // Leader: take what is queued (this call's bytes among them, unless an earlier leader
    // already wrote them) and write it without the lock; later appenders fill the next batch.
    q.writing = true;
    std::shared_ptr<Batch> batch = std::move(q.filling);
    q.filling = nullptr;
    lock.unlock();
    Status s = WriteSynced(path, batch->data);
    lock.lock();
    batch->status = std::move(s);
    batch->done = true;
    batch->data = std::string();
    q.writing = false;
    q.cv.notify_all();
  }
  return mine->status;
}

}  // namespace saleslake::io::internal
