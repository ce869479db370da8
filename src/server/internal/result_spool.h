// The rows of one query result, kept for paging as their Trino JSON text (trino_json.h): one
// line per row. The first rows stay in memory; once they would pass `memory_bytes`, the rest
// goes to a spool file on disk, so a result of millions of rows pages out without being held in
// memory. A Trino page is then a copy of a range of the text; Athena and the console decode the
// lines they read.
//
//   auto rows = ResultSpool::Make("/tmp", /*memory_bytes=*/8 << 20);
//   SL_RETURN_IF_ERROR(rows->Append(text, n));          // the one writer (the query's runner)
//   std::string page;
//   auto got = rows->Read(/*first=*/4096, /*max_rows=*/1000, /*max_bytes=*/1 << 20, &page);
//
// The file is made when the first row goes to disk and unlinked at once: it lives as long as the
// open descriptor (the ResultSpool object), and nothing is left behind after a crash. Every
// kIndexEvery-th row's offset is kept (8 bytes per 256 rows); a read starts at the nearest one
// below its first row and finds the rows after it by their '\n'.
// Thread safety: Append from one thread at a time; Read and the accessors from any thread, also
// while Append runs (a read sees only rows whose Append returned).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"

namespace saleslake::server::internal {

class ResultSpool {
 public:
  static constexpr uint64_t kIndexEvery = 256;

  // Rows in memory up to `memory_bytes` of text, then in a file made in `dir` (which must exist
  // by then).
  static std::unique_ptr<ResultSpool> Make(std::string dir, uint64_t memory_bytes);
  ~ResultSpool();
  ResultSpool(const ResultSpool&) = delete;
  ResultSpool& operator=(const ResultSpool&) = delete;

  // Appends `rows` rows after those already written: `text` is exactly their lines, each ending
  // in '\n' (and no other '\n'). kIoError when the spool file cannot be made or written.
  Status Append(std::string_view text, uint64_t rows);
  // Appends the lines of rows [first, first + k) to `out` and returns k: at most `max_rows`
  // rows, and no more than `max_bytes` of text unless the first row alone is longer (then k is
  // 1). 0 at or past the end. Each row's '\n' is written as `row_end` (a Trino page joins its
  // rows with ',': no second pass over the text).
  Result<uint64_t> Read(uint64_t first, uint64_t max_rows, uint64_t max_bytes, std::string* out,
                        char row_end = '\n') const;

  uint64_t rows() const;
  uint64_t spooled_rows() const;  // of rows(), those on disk
  uint64_t bytes() const;         // text of all rows, in memory and on disk
  uint64_t file_bytes() const;

 private:
  ResultSpool(std::string dir, uint64_t memory_bytes)
      : dir_(std::move(dir)), memory_bytes_(memory_bytes) {}
  // Copies text bytes [at, at + n) (below bytes_, memory or file) to `to`.
  Status CopyOut(uint64_t at, uint64_t n, char* to) const;

  const std::string dir_;
  const uint64_t memory_bytes_;
  mutable Mutex mu_;
  // The first rows' text. Only appended to, and only while no row is on disk.
  std::string head_ SL_GUARDED_BY(mu_);
  int fd_ SL_GUARDED_BY(mu_) = -1;  // the rest, from byte head_.size() of the text on
  std::vector<uint64_t> index_ SL_GUARDED_BY(mu_);  // text offset of row i * kIndexEvery
  uint64_t rows_ SL_GUARDED_BY(mu_) = 0;
  uint64_t head_rows_ SL_GUARDED_BY(mu_) = 0;
  uint64_t bytes_ SL_GUARDED_BY(mu_) = 0;
};

}  // namespace saleslake::server::internal
