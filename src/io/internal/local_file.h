// Internals shared by LocalStore and the local-file helpers.
#pragma once

#include <sys/stat.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "io/object_store.h"

namespace saleslake::io::internal {

// Prefix of in-flight temporary files; never listed as objects.
constexpr std::string_view kTempPrefix = ".tmp-";

Status SyncDir(const std::string& dir);
// mkdir -p; each folder it makes is synced into its parent (SyncDir of the parent).
Status MakeDirs(const std::string& dir);

// Group commit for many small atomic writes: one syncfs(2) of the file system makes durable every
// write that finished before it started, so N concurrent writers wait for one journal commit
// instead of each paying two (file, then folder). Sync() returns once a syncfs that began after
// the call has completed; while one runs, the callers that arrive queue for the next, which then
// covers them all. syncfs also flushes other files' dirty pages on that file system: the price of
// the batching, worth it where small writes arrive concurrently (the server's PUTs).
class GroupSync {
 public:
  // `dir_fd`: an open descriptor on the file system to sync; owned (closed by the destructor).
  explicit GroupSync(int dir_fd) : fd_(dir_fd) {}
  ~GroupSync();
  GroupSync(const GroupSync&) = delete;
  GroupSync& operator=(const GroupSync&) = delete;
  // kIOError when the syncfs that covered this call failed, even if a later one succeeded: after
  // a failed writeback the kernel may have dropped the pages, so a later success proves nothing.
  Status Sync();

 private:
  const int fd_;
  std::mutex mu_;
  std::condition_variable done_;
  uint64_t requested_ = 0;  // tickets handed out; GUARDED_BY(mu_)
  uint64_t completed_ = 0;  // every ticket <= this has seen its syncfs finish; GUARDED_BY(mu_)
  // The tickets (first, last) of each syncfs that failed, with its errno (few: each is an I/O
  // error of the disk). GUARDED_BY(mu_)
  struct Failed {
    uint64_t first, last;
    int err;
  };
  std::vector<Failed> failed_;
  bool running_ = false;
};

// A temp file beside `path` that Commit() renames (or, when exclusive, hard-links) into place.
// With `group`, Commit makes the data and then the new name durable through group->Sync()
// instead of fsyncs of its own (the same order, so a crash never shows a torn object). Without
// `durable`, nothing is synced (ObjectStore::OpenWriteUnsynced) and `group` is not used.
Result<std::unique_ptr<OutputStream>> OpenAtomicWrite(const std::string& path, bool exclusive,
                                                      GroupSync* group = nullptr, bool durable = true);

// OpenLocalFile's second half: a RandomAccessFile over `fd` (owned from now on, closed on every
// path) whose fstat is `st`. kInvalidArgument for a folder. A file above the read-whole size is
// memory-mapped when `map_large`, else read with pread (mapped_data() is then nullptr).
Result<std::unique_ptr<RandomAccessFile>> OpenLocalFd(int fd, const std::string& path,
                                                      const struct stat& st, bool map_large = true);

// How many fsync and syncfs calls this process's atomic writes (their files, folders and group
// commits) have made: for tests of what is synced and what is not.
uint64_t SyncCalls();
void CountSync();

// How many files this process has memory-mapped (OpenLocalFd): for tests of which sizes are
// read whole instead.
uint64_t MapCalls();

}  // namespace saleslake::io::internal
