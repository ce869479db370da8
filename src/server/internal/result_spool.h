// The rows of one large query result on disk, so that a result of millions of rows pages out
// without being held in memory. The query manager keeps a result's first rows in memory and
// appends the rest here; pages are read back by row number.
//
//   auto spool = ResultSpool::Create("/lake/_system/query_spool");
//   SL_RETURN_IF_ERROR((*spool)->Append(rows));            // the one writer (the query's runner)
//   auto page = (*spool)->Read(/*first=*/4096, /*max_rows=*/1000);   // any thread, concurrently
//
// The file is unlinked as soon as it is created: it lives as long as the open descriptor (the
// ResultSpool object), and nothing is left behind after a crash. A row is its cell count and
// then, per cell, a varint of length + 1 (0 = NULL) and the bytes; every kIndexEvery-th row's file
// offset is kept in memory (8 bytes per 256 rows), so a read seeks to the nearest one below.
// Thread safety: Append from one thread at a time; Read and the accessors from any thread, also
// while Append runs (a read sees only rows whose Append returned).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"

namespace saleslake::server::internal {

// One row's cells as views, valid only while the visitor that receives it runs; nullopt is NULL.
using RowView = std::span<const std::optional<std::string_view>>;

// Rows in the spool's encoding, built a cell at a time: what the query runner turns a batch into
// before it knows whether the rows stay in memory (Decode) or go to the spool as they are.
class EncodedRows {
 public:
  using Row = std::vector<std::optional<std::string>>;

  void Clear();
  void BeginRow(size_t cells);
  void Null();
  // `write(std::string*)` appends the cell's text.
  template <typename Write>
  void Cell(Write&& write) {
    cell_.clear();
    write(&cell_);
    PutVarint(cell_.size() + 1);
    bytes_ += cell_;
    text_bytes_ += cell_.size() + 8;
  }

  size_t rows() const { return starts_.size(); }
  // Cell text + 8 per non-NULL cell: the size the manager's limits count.
  uint64_t text_bytes() const { return text_bytes_; }
  std::vector<Row> Decode() const;

 private:
  friend class ResultSpool;
  void PutVarint(uint64_t v);

  std::string bytes_;
  std::vector<uint64_t> starts_;  // offset of each row in bytes_
  uint64_t text_bytes_ = 0;
  std::string cell_;
};

// A row's views copied into strings of its own.
EncodedRows::Row CopyRow(RowView row);

class ResultSpool {
 public:
  using Row = EncodedRows::Row;
  static constexpr uint64_t kIndexEvery = 256;

  // Creates (and at once unlinks) a file in `dir`, which must exist.
  static Result<std::unique_ptr<ResultSpool>> Create(const std::string& dir);
  ~ResultSpool();
  ResultSpool(const ResultSpool&) = delete;
  ResultSpool& operator=(const ResultSpool&) = delete;

  // Appends rows after those already written. kIoError when the disk is full or failing.
  Status Append(const EncodedRows& rows);
  Status Append(const std::vector<Row>& rows);
  // Rows [first, first + max_rows) of those appended (fewer at the end; none past it).
  Result<std::vector<Row>> Read(uint64_t first, size_t max_rows) const;
  // The same rows handed to `visit` one at a time as views into the read buffer, no copy;
  // `visit` returns false to stop.
  Status Visit(uint64_t first, size_t max_rows, const std::function<bool(RowView)>& visit) const;

  uint64_t rows() const;
  uint64_t bytes() const;  // file size

 private:
  explicit ResultSpool(int fd) : fd_(fd) {}
  const int fd_;
  mutable Mutex mu_;
  std::vector<uint64_t> index_ SL_GUARDED_BY(mu_);  // file offset of row i * kIndexEvery
  uint64_t rows_ SL_GUARDED_BY(mu_) = 0;
  uint64_t bytes_ SL_GUARDED_BY(mu_) = 0;
};

}  // namespace saleslake::server::internal
