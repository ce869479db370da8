// Spill files: batches an operator over the memory limit writes to disk and reads back later
// (the grace hash join, hash_join_op.cc). The format is ours and lives only as long as the query:
// per batch a row count, then per column a validity flag (and bitmap), then the values — raw for
// fixed-width types, lengths then bytes for strings. No compression: the files are read back once
// by the same process, and CPU is what the machine is short of.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/batch.h"
#include "common/status.h"
#include "common/thread_annotations.h"

namespace saleslake::sql::internal {

// One query's spill directory, <base>/saleslake-spill-<pid>-<n>, made on first use and removed
// with everything in it when this object goes (the query ended, failed or was cancelled). The
// pid in the name lets the next process remove a crashed one's directories
// (RemoveStaleSpillDirs). Thread safety: NewFile is safe from any thread.
class SpillDir {
 public:
  // `base` empty: the system temp directory.
  explicit SpillDir(std::string base);
  ~SpillDir();
  SpillDir(const SpillDir&) = delete;
  SpillDir& operator=(const SpillDir&) = delete;

  // A fresh file path in the directory (made, and stale ones of dead processes removed, on the
  // first call). kIOError when the directory cannot be made.
  Result<std::string> NewFile(std::string_view tag);

 private:
  Mutex mu_;
  std::string base_;
  std::string dir_ SL_GUARDED_BY(mu_);
  uint64_t next_ SL_GUARDED_BY(mu_) = 0;
};

// Removes the spill directories under `base` (empty: the temp dir) whose process is gone: a
// crashed query's leftovers. Returns how many were removed.
size_t RemoveStaleSpillDirs(const std::string& base);

// Appends batches to one spill file. Not thread-safe.
class SpillWriter {
 public:
  static Result<std::unique_ptr<SpillWriter>> Open(std::string path);
  ~SpillWriter();
  // Any encoding; no selection vector.
  Status Write(const Batch& b);
  // Flushes and closes; the file can then be read.
  Status Finish();
  const std::string& path() const { return path_; }
  uint64_t rows() const { return rows_; }
  uint64_t bytes() const { return bytes_; }  // written to the file
  int64_t batch_bytes() const { return batch_bytes_; }  // the rows' BatchBytes in memory

 private:
  SpillWriter(std::string path, FILE* f) : path_(std::move(path)), f_(f) {}
  Status Put(const void* p, size_t n);
  std::string path_;
  FILE* f_;
  uint64_t rows_ = 0, bytes_ = 0;
  int64_t batch_bytes_ = 0;
};

// Reads back a finished spill file batch by batch. Not thread-safe.
class SpillReader {
 public:
  static Result<std::unique_ptr<SpillReader>> Open(const std::string& path, std::vector<DataType> types);
  ~SpillReader();
  // The next batch (flat columns); false at the end. kCorruption on a short or bad file.
  Result<bool> Next(Batch& out);

 private:
  SpillReader(std::string path, FILE* f, std::vector<DataType> types)
      : path_(std::move(path)), f_(f), types_(std::move(types)) {}
  Status Get(void* p, size_t n);
  std::string path_;
  FILE* f_;
  std::vector<DataType> types_;
};

}  // namespace saleslake::sql::internal
