// Internals shared by LocalStore and the local-file helpers.
#pragma once

#include <sys/stat.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "io/object_store.h"

namespace saleslake::io::internal {

// Prefix of in-flight temporary files; never listed as objects.
constexpr std::string_view kTempPrefix = ".tmp-";

Status SyncDir(const std::string& dir);
// mkdir -p.
Status MakeDirs(const std::string& dir);

// Group commit of new names for many small atomic writes. Each writer makes its own content
// durable first (fdatasync of its file: cheap, and concurrent ones share the file system's
// journal commit); the folder entries, whose fsync is the expensive part (a journal commit each),
// are synced in batches: SyncDir(dir) returns once an fsync of `dir` that began after the call
// has completed. While one batch runs, the callers that arrive queue for the next, whose leader
// fsyncs each distinct folder of that batch once. (This replaced one syncfs(2) per batch, which
// also flushed every other dirty page of the file system: 5-90 ms when other processes write.)
// Thread safety: SyncDir may be called from any thread.
class GroupSync {
 public:
  GroupSync() = default;
  GroupSync(const GroupSync&) = delete;
  GroupSync& operator=(const GroupSync&) = delete;
  // kIOError (from the fsync) when the batch that covered this call failed.
  Status SyncDir(const std::string& dir);

 private:
  std::mutex mu_;
  std::condition_variable done_;
  std::set<std::string> pending_;  // folders of the tickets after `completed_`; GUARDED_BY(mu_)
  uint64_t requested_ = 0;  // tickets handed out
  uint64_t completed_ = 0;  // every ticket <= this has seen its batch finish, failed or not
  uint64_t durable_ = 0;    // every ticket <= this has seen its batch succeed
  Status last_error_;
  bool running_ = false;
};

// A temp file beside `path` that Commit() renames (or, when exclusive, hard-links) into place.
// With `group`, Commit makes the data and then the new name durable through group->Sync()
// instead of fsyncs of its own (the same order, so a crash never shows a torn object). Without
// `durable`, nothing is synced (ObjectStore::OpenWriteUnsynced) and `group` is not used.
Result<std::unique_ptr<OutputStream>> OpenAtomicWrite(const std::string& path, bool exclusive,
                                                      GroupSync* group = nullptr, bool durable = true);

// OpenLocalFile's second half: a RandomAccessFile over `fd` (owned from now on, closed on every
// path) whose fstat is `st`. kInvalidArgument for a folder.
Result<std::unique_ptr<RandomAccessFile>> OpenLocalFd(int fd, const std::string& path,
                                                      const struct stat& st);

// How many fsync and fdatasync calls this process's atomic writes (their files, folders and
// group commits) have made: for tests of what is synced and what is not.
uint64_t SyncCalls();
void CountSync();

}  // namespace saleslake::io::internal
