#include "server/internal/result_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <random>

#include <fmt/format.h>

namespace saleslake::server::internal {

namespace {

// Reads the spool file sequentially from an offset, a block at a time.
class SpoolReader {
 public:
  SpoolReader(int fd, uint64_t offset, uint64_t end) : fd_(fd), file_pos_(offset), end_(end) {}

  Result<uint64_t> Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      SL_RETURN_IF_ERROR(Need(1));
      auto byte = static_cast<uint8_t>(buf_[pos_++]);
      v |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if (!(byte & 0x80)) return v;
    }
    return Status::Corruption("result spool: bad varint");
  }

  // A row is read whole before its cells are looked at: the bytes from the row's start on stay
  // in the buffer (Need moves them, never drops them), so its cells can be handed out as views
  // at (RowBase() + offset) once the row is read.
  void StartRow() { row_start_ = pos_; }
  uint64_t RowOffset() const { return pos_ - row_start_; }
  const char* RowBase() const { return buf_.get() + row_start_; }
  Status Skip(uint64_t n) {
    SL_RETURN_IF_ERROR(Need(n));
    pos_ += n;
    return Status::OK();
  }

 private:
  static constexpr uint64_t kBlock = 256 << 10;

  // Makes sure `n` unread bytes are buffered. The buffer is never zero-filled: only what pread
  // wrote is read.
  Status Need(uint64_t n) {
    if (len_ - pos_ >= n) return Status::OK();
    if (n - (len_ - pos_) > end_ - file_pos_) return Status::Corruption("result spool: truncated row");
    if (row_start_ > 0) {
      std::memmove(buf_.get(), buf_.get() + row_start_, len_ - row_start_);
      len_ -= row_start_;
      pos_ -= row_start_;
      row_start_ = 0;
    }
    if (cap_ < std::max(pos_ + n, kBlock)) {
      const uint64_t cap = std::max(2 * (pos_ + n), kBlock);
      auto bigger = std::make_unique_for_overwrite<char[]>(cap);
      if (len_ > 0) std::memcpy(bigger.get(), buf_.get(), len_);
      buf_ = std::move(bigger);
      cap_ = cap;
    }
    while (len_ - pos_ < n) {
      if (file_pos_ >= end_) return Status::Corruption("result spool: truncated row");
      const uint64_t want = std::min<uint64_t>(end_ - file_pos_, cap_ - len_);
      ssize_t got = ::pread(fd_, buf_.get() + len_, want, static_cast<off_t>(file_pos_));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return Status::FromErrno(got < 0 ? errno : EIO, "result spool: read");
      len_ += static_cast<uint64_t>(got);
      file_pos_ += static_cast<uint64_t>(got);
    }
    return Status::OK();
  }

  int fd_;
  uint64_t file_pos_;
  uint64_t end_;
  std::unique_ptr<char[]> buf_;
  uint64_t cap_ = 0;
  uint64_t len_ = 0;  // bytes in buf_
  uint64_t pos_ = 0;  // next unread byte
  uint64_t row_start_ = 0;  // kept from here on (the row being read)
};

}  // namespace

Result<std::unique_ptr<ResultSpool>> ResultSpool::Create(const std::string& dir) {
  std::random_device rd;
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string path = fmt::format("{}/spool-{:08x}{:08x}", dir, rd(), rd());
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0) return Status::FromErrno(errno, "result spool: create " + path);
    // Unlinked at once: the rows live as long as the descriptor, and a crash leaves nothing.
    ::unlink(path.c_str());
    return std::unique_ptr<ResultSpool>(new ResultSpool(fd));
  }
  return Status::IOError("result spool: no free file name in " + dir);
}

ResultSpool::~ResultSpool() { ::close(fd_); }

void EncodedRows::Clear() {
  bytes_.clear();
  starts_.clear();
  text_bytes_ = 0;
}

void EncodedRows::BeginRow(size_t cells) {
  starts_.push_back(bytes_.size());
  PutVarint(cells);
}

void EncodedRows::Null() { PutVarint(0); }

void EncodedRows::PutVarint(uint64_t v) {
  while (v >= 0x80) {
    bytes_.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  bytes_.push_back(static_cast<char>(v));
}

std::vector<EncodedRows::Row> EncodedRows::Decode() const {
  std::vector<Row> out;
  out.reserve(rows());
  size_t pos = 0;
  // The bytes were written by this class: no bounds to doubt.
  auto varint = [&] {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      auto byte = static_cast<uint8_t>(bytes_[pos++]);
      v |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if (!(byte & 0x80)) return v;
    }
  };
  while (pos < bytes_.size()) {
    Row row(varint());
    for (auto& cell : row) {
      const uint64_t len = varint();
      if (len == 0) continue;
      cell.emplace(bytes_, pos, len - 1);
      pos += len - 1;
    }
    out.push_back(std::move(row));
  }
  return out;
}

EncodedRows::Row CopyRow(RowView row) {
  EncodedRows::Row out(row.size());
  for (size_t c = 0; c < row.size(); ++c) {
    if (row[c]) out[c].emplace(*row[c]);
  }
  return out;
}

Status ResultSpool::Append(const std::vector<Row>& rows) {
  EncodedRows encoded;
  for (const Row& row : rows) {
    encoded.BeginRow(row.size());
    for (const auto& cell : row) {
      if (!cell) {
        encoded.Null();
      } else {
        encoded.Cell([&](std::string* out) { *out += *cell; });
      }
    }
  }
  return Append(encoded);
}

Status ResultSpool::Append(const EncodedRows& rows) {
  uint64_t first_row = 0;
  uint64_t at = 0;
  {
    MutexLock lock(mu_);
    first_row = rows_;
    at = bytes_;
  }
  std::vector<uint64_t> marks;
  for (size_t r = 0; r < rows.rows(); ++r) {
    if ((first_row + r) % kIndexEvery == 0) marks.push_back(at + rows.starts_[r]);
  }
  const std::string& buf = rows.bytes_;
  for (size_t done = 0; done < buf.size();) {
    ssize_t n = ::pwrite(fd_, buf.data() + done, buf.size() - done, static_cast<off_t>(at + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::FromErrno(n < 0 ? errno : EIO, "result spool: write");
    done += static_cast<size_t>(n);
  }
  MutexLock lock(mu_);
  index_.insert(index_.end(), marks.begin(), marks.end());
  rows_ += rows.rows();
  bytes_ += buf.size();
  return Status::OK();
}

Result<std::vector<ResultSpool::Row>> ResultSpool::Read(uint64_t first, size_t max_rows) const {
  std::vector<Row> out;
  SL_RETURN_IF_ERROR(Visit(first, max_rows, [&out](RowView row) {
    out.push_back(CopyRow(row));
    return true;
  }));
  return out;
}

Status ResultSpool::Visit(uint64_t first, size_t max_rows, const std::function<bool(RowView)>& visit) const {
  uint64_t offset = 0, end = 0, count = 0;
  {
    MutexLock lock(mu_);
    if (first >= rows_ || max_rows == 0) return Status::OK();
    count = std::min<uint64_t>(max_rows, rows_ - first);
    offset = index_[first / kIndexEvery];
    end = bytes_;
  }
  constexpr uint64_t kNull = ~uint64_t{0};
  SpoolReader reader(fd_, offset, end);
  std::vector<std::pair<uint64_t, uint64_t>> spans;  // (offset in the row, length) per cell
  std::vector<std::optional<std::string_view>> cells;
  for (uint64_t r = first - first % kIndexEvery; r < first + count; ++r) {
    reader.StartRow();
    SL_ASSIGN_OR_RETURN(uint64_t n, reader.Varint());
    spans.clear();
    for (uint64_t c = 0; c < n; ++c) {
      SL_ASSIGN_OR_RETURN(uint64_t len, reader.Varint());
      if (len == 0) {
        spans.emplace_back(kNull, 0);
        continue;
      }
      spans.emplace_back(reader.RowOffset(), len - 1);
      SL_RETURN_IF_ERROR(reader.Skip(len - 1));
    }
    if (r < first) continue;
    cells.clear();
    const char* base = reader.RowBase();
    for (const auto& [at, len] : spans) {
      if (at == kNull) {
        cells.emplace_back(std::nullopt);
      } else {
        cells.emplace_back(std::string_view(base + at, len));
      }
    }
    if (!visit(cells)) break;
  }
  return Status::OK();
}

uint64_t ResultSpool::rows() const {
  MutexLock lock(mu_);
  return rows_;
}

uint64_t ResultSpool::bytes() const {
  MutexLock lock(mu_);
  return bytes_;
}

}  // namespace saleslake::server::internal
