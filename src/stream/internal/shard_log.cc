#include "stream/internal/shard_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "stream/internal/codec.h"

namespace saleslake::stream::internal {
namespace fs = std::filesystem;

namespace {

constexpr size_t kFrameHeader = 8;                    // length + CRC
constexpr size_t kBodyFixed = 8 + 8 + 4;              // ordinal, arrival, key length
constexpr uint32_t kMaxBody = (16u << 20);            // far above Kinesis's 1 MiB record limit

void StoreU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void StoreU64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

std::string SegmentName(uint64_t first) {
  std::string digits = std::to_string(first);
  return std::string(20 - digits.size(), '0') + digits + ".log";
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(Errno("open " + dir));
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::OK() : Status::IOError(Errno("fsync " + dir));
}

Status PreadAll(int fd, char* buf, size_t n, uint64_t off) {
  while (n > 0) {
    ssize_t r = ::pread(fd, buf, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return Status::IOError(r == 0 ? std::string("short read") : Errno("pread"));
    buf += r;
    n -= static_cast<size_t>(r);
    off += static_cast<uint64_t>(r);
  }
  return Status::OK();
}

}  // namespace

struct ShardLog::Segment {
  uint64_t first = 0;
  std::string path;
  int fd = -1;
  uint64_t size = 0;                // durable bytes
  std::vector<uint64_t> offsets;    // frame offset of record first + i
  std::vector<int64_t> arrivals;    // its arrival time
  ~Segment() {
    if (fd >= 0) ::close(fd);
  }
};

// One Append call waiting in the group-commit queue.
struct ShardLog::Batch {
  std::span<const LogEntryRef> entries;
  bool done = false;
  Status status;
  uint64_t first = 0;
};

ShardLog::ShardLog(std::string dir, uint64_t segment_bytes)
    : dir_(std::move(dir)), segment_bytes_(segment_bytes) {}

ShardLog::~ShardLog() = default;

Result<std::unique_ptr<ShardLog>> ShardLog::Open(const std::string& dir, uint64_t segment_bytes) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("create " + dir + ": " + ec.message());
  std::unique_ptr<ShardLog> log(new ShardLog(dir, segment_bytes));
  if (Status st = log->Recover(); !st.ok()) return st;
  return log;
}

Status ShardLog::Recover() {
  std::vector<uint64_t> firsts;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() != 24 || name.substr(20) != ".log") continue;
    if (name.find_first_not_of("0123456789") != 20) continue;
    firsts.push_back(std::stoull(name.substr(0, 20)));
  }
  if (ec) return Status::IOError("list " + dir_ + ": " + ec.message());
  std::sort(firsts.begin(), firsts.end());
  for (size_t si = 0; si < firsts.size(); ++si) {
    const bool last = si + 1 == firsts.size();
    auto seg = std::make_shared<Segment>();
    seg->first = firsts[si];
    seg->path = dir_ + "/" + SegmentName(seg->first);
    seg->fd = ::open(seg->path.c_str(), O_RDWR | O_CLOEXEC);
    if (seg->fd < 0) return Status::IOError(Errno("open " + seg->path));
    struct stat stbuf;
    if (::fstat(seg->fd, &stbuf) != 0) return Status::IOError(Errno("stat " + seg->path));
    const auto file_size = static_cast<uint64_t>(stbuf.st_size);
    if (!segments_.empty() && seg->first != end_) {
      return Status::Corruption(seg->path + ": starts at record " + std::to_string(seg->first) +
                                " but the previous segment ends at " + std::to_string(end_));
    }
    end_ = seg->first;
    // Scan frames in 1 MiB chunks; the first frame that does not check out ends the segment.
    uint64_t pos = 0;
    std::string head(kFrameHeader, '\0'), body;
    while (pos + kFrameHeader <= file_size) {
      if (!PreadAll(seg->fd, head.data(), kFrameHeader, pos).ok()) break;
      uint32_t len = GetU32(head.data()), crc = GetU32(head.data() + 4);
      if (len < kBodyFixed || len > kMaxBody || pos + kFrameHeader + len > file_size) break;
      body.resize(len);
      if (!PreadAll(seg->fd, body.data(), len, pos + kFrameHeader).ok()) break;
      if (Crc32c(body) != crc || GetU64(body.data()) != end_) break;
      seg->offsets.push_back(pos);
      seg->arrivals.push_back(static_cast<int64_t>(GetU64(body.data() + 8)));
      pos += kFrameHeader + len;
      ++end_;
    }
    if (pos != file_size) {
      if (!last) {
        return Status::Corruption(seg->path + ": damaged at byte " + std::to_string(pos) +
                                  " before the newest segment");
      }
      // A torn tail: the write of those bytes never completed its fsync, so nothing in it was
      // acknowledged.
      if (::ftruncate(seg->fd, static_cast<off_t>(pos)) != 0 || ::fsync(seg->fd) != 0) {
        return Status::IOError(Errno("truncate " + seg->path));
      }
    }
    seg->size = pos;
    segments_.push_back(std::move(seg));
  }
  return Status::OK();
}

Result<uint64_t> ShardLog::Append(const std::vector<LogEntry>& entries) {
  std::vector<LogEntryRef> refs;
  refs.reserve(entries.size());
  for (const LogEntry& e : entries) refs.push_back({e.partition_key, e.data, e.arrival_ms});
  return Append(std::span<const LogEntryRef>(refs));
}

Result<uint64_t> ShardLog::Append(std::span<const LogEntryRef> entries) {
  if (entries.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    return end_;
  }
  Batch batch;
  batch.entries = entries;
  Submit(&batch);
  return Await(&batch);
}

std::vector<Result<uint64_t>> ShardLog::AppendMany(std::span<ShardLog* const> logs,
                                                   std::span<const std::span<const LogEntryRef>> entries) {
  std::vector<Batch> batches(logs.size());
  for (size_t i = 0; i < logs.size(); ++i) {
    batches[i].entries = entries[i];
    if (!entries[i].empty()) logs[i]->Submit(&batches[i]);
  }
  std::vector<Result<uint64_t>> out;
  out.reserve(logs.size());
  for (size_t i = 0; i < logs.size(); ++i) {
    if (entries[i].empty()) {
      out.push_back(logs[i]->end_ordinal());
    } else {
      out.push_back(logs[i]->Await(&batches[i]));
    }
  }
  return out;
}

void ShardLog::Submit(Batch* batch) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.push_back(batch);
}

// Leads a flush whenever none runs and this batch is not done yet; another leader may well have
// written it meanwhile (it was queued before).
Result<uint64_t> ShardLog::Await(Batch* batch) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!batch->done) {
    if (!flushing_) {
      (void)FlushLocked(lock);  // the outcome is in each batch
    } else {
      cv_.wait(lock);
    }
  }
  if (!batch->status.ok()) return batch->status;
  return batch->first;
}

Status ShardLog::FlushLocked(std::unique_lock<std::mutex>& lock) {
  flushing_ = true;
  std::deque<Batch*> taken;
  taken.swap(queue_);
  // Roll to a new segment when the active one is full (or there is none yet).
  std::shared_ptr<Segment> seg = segments_.empty() ? nullptr : segments_.back();
  Status st;
  if (!seg || seg->size >= segment_bytes_) {
    auto fresh = std::make_shared<Segment>();
    fresh->first = end_;
    fresh->path = dir_ + "/" + SegmentName(end_);
    fresh->fd = ::open(fresh->path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fresh->fd < 0) {
      st = Status::IOError(Errno("create " + fresh->path));
    } else {
      st = SyncDir(dir_);
    }
    if (st.ok()) {
      segments_.push_back(fresh);
      seg = fresh;
    }
  }
  const uint64_t first = end_;
  std::string& buf = write_buf_;
  buf.clear();
  std::vector<uint64_t> offsets;
  std::vector<int64_t> arrivals;
  if (st.ok()) {
    // Framing, the write and the fsync run without the lock (flushing_ keeps other leaders out,
    // and the batches' owners wait for them): new appenders queue up for the next leader.
    const int fd = seg->fd;
    const uint64_t at = seg->size;
    lock.unlock();
    size_t records = 0, bytes = 0;
    for (Batch* b : taken) {
      records += b->entries.size();
      for (const LogEntryRef& e : b->entries) bytes += kFrameHeader + kBodyFixed + e.partition_key.size() + e.data.size();
    }
    offsets.reserve(records);
    arrivals.reserve(records);
    buf.resize(bytes);
    char* p = buf.data();
    uint64_t ordinal = first;
    for (Batch* b : taken) {
      b->first = ordinal;
      for (const LogEntryRef& e : b->entries) {
        const size_t body_len = kBodyFixed + e.partition_key.size() + e.data.size();
        offsets.push_back(at + static_cast<uint64_t>(p - buf.data()));
        arrivals.push_back(e.arrival_ms);
        char* body = p + kFrameHeader;
        StoreU64(body, ordinal++);
        StoreU64(body + 8, static_cast<uint64_t>(e.arrival_ms));
        StoreU32(body + 16, static_cast<uint32_t>(e.partition_key.size()));
        std::memcpy(body + kBodyFixed, e.partition_key.data(), e.partition_key.size());
        std::memcpy(body + kBodyFixed + e.partition_key.size(), e.data.data(), e.data.size());
        StoreU32(p, static_cast<uint32_t>(body_len));
        StoreU32(p + 4, Crc32c(std::string_view(body, body_len)));
        p += kFrameHeader + body_len;
      }
    }
    size_t done = 0;
    while (done < buf.size()) {
      ssize_t w = ::pwrite(fd, buf.data() + done, buf.size() - done, static_cast<off_t>(at + done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        st = Status::IOError(Errno("write " + seg->path));
        break;
      }
      done += static_cast<size_t>(w);
    }
    if (st.ok() && ::fdatasync(fd) != 0) st = Status::IOError(Errno("fsync " + seg->path));
    // A failed write may have left part of the bytes: cut them so the next frames follow the
    // last durable one (recovery would stop at them anyway).
    if (!st.ok() && ::ftruncate(fd, static_cast<off_t>(at)) != 0) {
      st = Status::IOError(st.message() + "; truncate failed too: " + std::strerror(errno));
    }
    lock.lock();
  }
  if (st.ok()) {
    seg->offsets.insert(seg->offsets.end(), offsets.begin(), offsets.end());
    seg->arrivals.insert(seg->arrivals.end(), arrivals.begin(), arrivals.end());
    seg->size += buf.size();
    end_ = first + offsets.size();
  }
  if (buf.capacity() > (16u << 20)) std::string().swap(buf);  // after a rare huge batch
  for (Batch* b : taken) {
    b->status = st;
    b->done = true;
  }
  flushing_ = false;
  cv_.notify_all();
  return st;
}

const ShardLog::Segment* ShardLog::SegmentOfLocked(uint64_t ordinal) const {
  auto it = std::upper_bound(segments_.begin(), segments_.end(), ordinal,
                             [](uint64_t o, const std::shared_ptr<Segment>& s) { return o < s->first; });
  if (it == segments_.begin()) return nullptr;
  const Segment* s = std::prev(it)->get();
  return ordinal < s->first + s->offsets.size() ? s : nullptr;
}

Result<std::vector<LogRecord>> ShardLog::Read(uint64_t from, size_t max_records, size_t max_bytes) const {
  std::vector<LogRecord> out;
  Status st = Visit(from, max_records, max_bytes,
                    [&](uint64_t ordinal, int64_t arrival_ms, std::string_view key, std::string_view data) {
                      out.push_back({ordinal, arrival_ms, std::string(key), std::string(data)});
                    });
  if (!st.ok()) return st;
  return out;
}

Status ShardLog::Visit(uint64_t from, size_t max_records, size_t max_bytes, const Visitor& visit) const {
  struct Span {
    std::shared_ptr<Segment> seg;
    uint64_t first_ordinal;
    uint64_t begin, end;  // byte range
  };
  std::vector<Span> spans;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!segments_.empty()) from = std::max(from, segments_.front()->first);
    uint64_t ordinal = from;
    size_t count = 0;
    for (const auto& s : segments_) {
      if (count >= max_records) break;
      uint64_t n = s->offsets.size();
      if (ordinal >= s->first + n || ordinal < s->first) continue;
      uint64_t i = ordinal - s->first;
      uint64_t j = std::min<uint64_t>(n, i + (max_records - count));
      uint64_t begin = s->offsets[i];
      // Keep the byte budget: stop at the first frame that would pass it (one frame at least).
      uint64_t k = i + 1;
      while (k < j && s->offsets[k] - begin <= max_bytes) ++k;
      uint64_t end = k < n ? s->offsets[k] : s->size;
      spans.push_back({s, ordinal, begin, end});
      count += k - i;
      ordinal += k - i;
      if (k < j) break;  // the byte budget ended it
    }
  }
  std::string buf;
  for (const Span& sp : spans) {
    buf.resize(sp.end - sp.begin);
    if (Status st = PreadAll(sp.seg->fd, buf.data(), buf.size(), sp.begin); !st.ok()) return st;
    size_t pos = 0;
    uint64_t ordinal = sp.first_ordinal;
    while (pos + kFrameHeader <= buf.size()) {
      uint32_t len = GetU32(buf.data() + pos), crc = GetU32(buf.data() + pos + 4);
      if (len < kBodyFixed || pos + kFrameHeader + len > buf.size()) {
        return Status::Corruption(sp.seg->path + ": bad frame at byte " + std::to_string(sp.begin + pos));
      }
      std::string_view body(buf.data() + pos + kFrameHeader, len);
      if (Crc32c(body) != crc || GetU64(body.data()) != ordinal) {
        return Status::Corruption(sp.seg->path + ": checksum mismatch at byte " + std::to_string(sp.begin + pos));
      }
      uint32_t klen = GetU32(body.data() + 16);
      if (kBodyFixed + klen > len) return Status::Corruption(sp.seg->path + ": bad key length");
      visit(ordinal++, static_cast<int64_t>(GetU64(body.data() + 8)), body.substr(kBodyFixed, klen),
            body.substr(kBodyFixed + klen));
      pos += kFrameHeader + len;
    }
  }
  return Status::OK();
}

uint64_t ShardLog::first_ordinal() const {
  std::lock_guard<std::mutex> lock(mu_);
  return segments_.empty() ? end_ : segments_.front()->first;
}

uint64_t ShardLog::end_ordinal() const {
  std::lock_guard<std::mutex> lock(mu_);
  return end_;
}

uint64_t ShardLog::FindByTime(int64_t ms) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& s : segments_) {
    // Arrival times are not decreasing within a shard (the clock may be moved by tests, so
    // search linearly in the segment that may hold it).
    if (!s->arrivals.empty() && s->arrivals.back() >= ms) {
      auto it = std::find_if(s->arrivals.begin(), s->arrivals.end(), [&](int64_t a) { return a >= ms; });
      return s->first + static_cast<uint64_t>(it - s->arrivals.begin());
    }
  }
  return end_;
}

uint64_t ShardLog::BytesFrom(uint64_t ordinal) const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t bytes = 0;
  for (const auto& s : segments_) {
    const uint64_t n = s->offsets.size();
    if (ordinal >= s->first + n) continue;
    bytes += ordinal <= s->first ? s->size : s->size - s->offsets[ordinal - s->first];
  }
  return bytes;
}

int64_t ShardLog::ArrivalOf(uint64_t ordinal) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Segment* s = SegmentOfLocked(ordinal);
  return s ? s->arrivals[ordinal - s->first] : 0;
}

Status ShardLog::TrimBefore(int64_t cutoff_ms) {
  std::vector<std::string> doomed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (segments_.size() > 1 && !segments_.front()->arrivals.empty() &&
           segments_.front()->arrivals.back() < cutoff_ms) {
      doomed.push_back(segments_.front()->path);
      segments_.erase(segments_.begin());
    }
  }
  for (const auto& p : doomed) {
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return Status::IOError(Errno("unlink " + p));
  }
  return doomed.empty() ? Status::OK() : SyncDir(dir_);
}

}  // namespace saleslake::stream::internal
