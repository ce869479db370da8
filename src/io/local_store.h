// LocalStore: an ObjectStore over a directory (the default lake).
//
// Objects are files under the root; a write goes to "<dir>/.tmp-<random>-<name>.partial" first
// (the suffix keeps it out of "*.parquet" globs of other engines), is
// fsynced, renamed (or hard-linked, for PutIfAbsent) into place, and the directory is fsynced.
// Temporary names start with ".tmp-" and are never listed; RemoveTemporaries removes the ones
// left behind by a killed process.
// Thread safety: safe for concurrent use from many threads and processes.
#pragma once

#include <memory>
#include <string>

#include "io/object_store.h"

namespace saleslake::io {

namespace internal {
class GroupSync;
}

class LocalStore final : public ObjectStore {
 public:
  // Opens the store at `root`, creating the directory when `create` is true. kNotFound if it
  // does not exist and create is false; kIOError if it is not a directory.
  static Result<std::unique_ptr<LocalStore>> Open(const std::string& root, bool create);

  ~LocalStore() override;
  Status Put(std::string_view key, std::string_view data) override;
  Status PutIfAbsent(std::string_view key, std::string_view data) override;
  Result<std::unique_ptr<OutputStream>> OpenWrite(std::string_view key) override;
  // Temp file and rename as OpenWrite, without the fsyncs of the file and its folder.
  Result<std::unique_ptr<OutputStream>> OpenWriteUnsynced(std::string_view key) override;
  // fsync of the file, then of its folder.
  Status Sync(std::string_view key) override;
  Result<std::string> Get(std::string_view key) const override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset,
                               uint64_t length) const override;
  Result<std::unique_ptr<RandomAccessFile>> OpenRead(std::string_view key) const override;
  // OpenRead plus the ObjectInfo of the very file opened (from its descriptor: size, time and
  // etag describe the bytes that will be read, even when the key is replaced meanwhile), with
  // one lookup of the path instead of OpenRead's two and Stat's third. For the server's GETs:
  // the file is read with pread, never memory-mapped (mapped_data() is nullptr).
  struct OpenedObject {
    std::unique_ptr<RandomAccessFile> file;
    ObjectInfo info;
  };
  Result<OpenedObject> OpenReadWithInfo(std::string_view key) const;
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) const override;
  // O_APPEND and fdatasync with group commit: concurrent appends to one key share one write and
  // one sync (internal/group_append.h); a torn last line is closed before new lines. The folder
  // is created when missing.
  Status Append(std::string_view key, std::string_view data) override;
  Status Delete(std::string_view key) override;
  Result<bool> Exists(std::string_view key) const override;
  Result<ObjectInfo> Stat(std::string_view key) const override;
  std::string uri() const override { return root_; }

  // Creates a folder key ("raw_data/") so that an empty lake shows its layout. Idempotent.
  Status MakeDir(std::string_view key);
  Status RemoveTemporaries(std::string_view prefix, int64_t min_age_s) override;

  // Staging in place, for writers that assemble a file from pieces arriving in any order (the
  // server's multipart uploads): WriteAt writes `data` at `offset` of `key` (created when missing,
  // never atomic, durable when it returns); Promote cuts `from` to `size` bytes, syncs it and
  // renames it over `to` (folders created and synced): the staged file is published atomically,
  // without the copy an OpenWrite of its content would cost.
  Status WriteAt(std::string_view key, uint64_t offset, std::string_view data);
  Status Promote(std::string_view from, std::string_view to, uint64_t size);

  // From now on Put and PutIfAbsent make their objects durable by group commit (one syncfs(2)
  // for all the writes that wait at that moment; see internal::GroupSync) instead of two fsyncs
  // each. For a process with many concurrent small writers (the server); streams from OpenWrite
  // keep their own fsyncs. Call before the store is shared between threads.
  Status EnableGroupCommit();

  // Absolute path of a key (for engines and messages). REQUIRES: a valid key.
  std::string PathOf(std::string_view key) const { return root_ + "/" + std::string(key); }
  const std::string& root() const { return root_; }

 private:
  explicit LocalStore(std::string root);
  std::string root_;  // absolute, no trailing '/'
  std::unique_ptr<internal::GroupSync> group_;  // set by EnableGroupCommit
};

}  // namespace saleslake::io
