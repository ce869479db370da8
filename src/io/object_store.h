// The lake's storage: an ObjectStore of keys ("raw_data/sales.csv") to immutable byte objects.
// LocalStore keeps them under a directory; an S3 store can implement the same interface.
//
// Contract for every implementation:
//   - Put and OutputStream::Commit are atomic: a reader sees the old object, or the whole new one.
//   - PutIfAbsent is atomic create-exclusive (the basis of catalog commits): exactly one of two
//     racing writers succeeds, the other gets kAlreadyExists.
//   - Keys are relative, '/'-separated, without '.', '..' or empty segments, NUL or a leading '/';
//     anything else is refused with kInvalidArgument, so no key can escape the store's root.
//   - List returns keys under a prefix, recursively, sorted bytewise.
// Thread safety: an ObjectStore may be used from many threads at once; a RandomAccessFile
// supports concurrent ReadAt; an OutputStream has one owner.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace saleslake::io {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  int64_t mtime_ns = 0;  // modification time, ns since the epoch
  std::string etag;      // changes whenever the content may have changed (size + mtime locally)
};

// [offset, offset + length) of an object.
struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};

// Positional reads of one object or file. Cheap to share between threads.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly out.size() bytes at offset; kIOError when the range passes the end.
  virtual Status ReadAt(uint64_t offset, std::span<uint8_t> out) const = 0;
  // The whole content when it is memory-mapped (zero copy), else nullptr. Valid for the life
  // of this object.
  virtual const uint8_t* mapped_data() const { return nullptr; }
  // A hint that [offset, offset + n) will not be read again soon: a mapped file lets those
  // pages leave this process's memory (they stay readable, faulted back in from the file), so
  // a streaming pass over a large file does not grow the resident set by the file's size.
  virtual void DoneWith(uint64_t /*offset*/, uint64_t /*n*/) const {}
  // A hint that each of `ranges` will soon be read, by one ReadAt of exactly that range (a
  // column chunk): a remote file may fetch them ahead, nearby ones in one request, several at
  // once, in bounded memory. Reads outside the hinted ranges are served as without it. Local
  // files ignore it (mapped or pread, nothing to gain). Never fails: a failed fetch ahead is
  // retried by the ReadAt that needs its bytes, which reports the error.
  virtual void WillRead(std::span<const ByteRange> /*ranges*/) const {}
  // Name for error messages (a path or a key).
  virtual const std::string& name() const = 0;

  // Convenience: `n` bytes at `offset` as a string (copies).
  Result<std::string> ReadString(uint64_t offset, uint64_t n) const;
};

// A streaming write that becomes visible atomically on Commit(); if the stream is destroyed
// without Commit(), nothing appears (the temporary data is removed).
class OutputStream {
 public:
  virtual ~OutputStream() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual uint64_t bytes_written() const = 0;
  // Makes the object visible under its key (durably: data and directory entry are synced).
  virtual Status Commit() = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  virtual Status Put(std::string_view key, std::string_view data) = 0;
  // kAlreadyExists if the key exists (then nothing is written).
  virtual Status PutIfAbsent(std::string_view key, std::string_view data) = 0;
  virtual Result<std::unique_ptr<OutputStream>> OpenWrite(std::string_view key) = 0;
  // OpenWrite for derived data that can be made again (Athena's result files): Commit makes the
  // object visible atomically, and it survives the writer's process being killed, but nothing is
  // synced, so after a crash of the machine the key may be missing or hold less than was
  // written. No sync is waited for. The default is OpenWrite (stores whose writes are durable
  // anyway, such as S3).
  virtual Result<std::unique_ptr<OutputStream>> OpenWriteUnsynced(std::string_view key) {
    return OpenWrite(key);
  }
  // Makes the object `key` durable (its content, then its name), as OpenWrite's Commit would
  // have: for objects written with OpenWriteUnsynced that a later write will reference, synced
  // together just before it (a catalog commit syncs the data files it adds in the same parallel
  // round as its manifests, instead of a round of syncs per file before it). A sync of an object
  // that is durable already costs the same and changes nothing. kNotFound when absent. The
  // default does nothing (stores whose writes are durable anyway, such as S3); a store that
  // overrides OpenWriteUnsynced overrides this too.
  virtual Status Sync(std::string_view /*key*/) { return Status::OK(); }
  virtual Result<std::string> Get(std::string_view key) const = 0;
  virtual Result<std::string> GetRange(std::string_view key, uint64_t offset,
                                       uint64_t length) const = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> OpenRead(std::string_view key) const = 0;
  // OpenRead by a reader that knows about how many bytes at the object's end it reads first (a
  // Parquet footer, whose size a scan predicts from the files of the table it opened before): a
  // store that fetches the end with the open (S3) fetches `tail_bytes` instead of its own guess;
  // 0 = its guess. Others ignore it.
  virtual Result<std::unique_ptr<RandomAccessFile>> OpenReadTail(std::string_view key, uint64_t /*tail_bytes*/) const {
    return OpenRead(key);
  }
  // Keys that start with `prefix` ("" = all), recursively, sorted. A prefix that names a folder
  // should end with '/'. Temporary files of unfinished writes are never listed.
  virtual Result<std::vector<ObjectInfo>> List(std::string_view prefix) const = 0;
  // Appends `data` to the object `key` (created when absent) as one durable write: concurrent
  // appenders never interleave inside one call's bytes, and the data is synced before OK. For
  // journals of small records (events, audit lines). A store without an append primitive
  // returns kNotImplemented (the default).
  virtual Status Append(std::string_view /*key*/, std::string_view /*data*/) {
    return Status::NotImplemented("this store has no append");
  }
  // kNotFound when absent.
  virtual Status Delete(std::string_view key) = 0;
  virtual Result<bool> Exists(std::string_view key) const = 0;
  virtual Result<ObjectInfo> Stat(std::string_view key) const = 0;
  // Removes the leftovers of unfinished writes (killed processes) under `prefix` that are older
  // than `min_age_s` seconds. Callers pass 0 only when they know no writer is active there.
  // The default does nothing (for stores whose unfinished writes leave nothing behind).
  virtual Status RemoveTemporaries(std::string_view /*prefix*/, int64_t /*min_age_s*/) {
    return Status::OK();
  }
  // Where the store lives, for messages and for engines pointed at the same files
  // ("/srv/lake" or "s3://bucket/prefix").
  virtual std::string uri() const = 0;
};

// kInvalidArgument with the reason when `key` is not a valid object key (see the contract above).
Status ValidateKey(std::string_view key);

// ---- Local files outside the lake (CLI inputs and outputs) ----

// Opens a local file for positional reads: read whole when small (64 KiB), else memory-mapped
// when possible.
Result<std::unique_ptr<RandomAccessFile>> OpenLocalFile(const std::string& path);
// An in-memory RandomAccessFile (tests, fuzzers, data already in memory).
std::unique_ptr<RandomAccessFile> MakeMemoryFile(std::string data, std::string name = "<memory>");
// Atomic streaming write of a local file: temp file in the same directory, fsync, rename, fsync dir
// (through a symbolic link, of the file it names). A path that is a device, FIFO or terminal
// (/dev/null, /dev/stdout, a named pipe) is written in place instead: renaming over it would
// replace the node itself.
Result<std::unique_ptr<OutputStream>> OpenLocalWrite(const std::string& path);
Status WriteLocalFileAtomic(const std::string& path, std::string_view data);
Result<std::string> ReadLocalFile(const std::string& path);

}  // namespace saleslake::io
