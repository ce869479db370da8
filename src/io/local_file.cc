// Local files: positional reads (mmap), atomic writes, and the in-memory file.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>

#include "io/internal/local_file.h"
#include "io/object_store.h"

namespace saleslake::io {

Result<std::string> RandomAccessFile::ReadString(uint64_t offset, uint64_t n) const {
  if (offset > size() || n > size() - offset)
    return Status::IOError(name() + ": read of " + std::to_string(n) + " bytes at offset " +
                           std::to_string(offset) + " passes the end (size " +
                           std::to_string(size()) + ")");
  std::string out(n, '\0');
  SL_RETURN_IF_ERROR(ReadAt(offset, std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), n)));
  return out;
}

namespace {

class MappedFile final : public RandomAccessFile {
 public:
  MappedFile(std::string name, int fd, uint64_t size, void* map)
      : name_(std::move(name)), fd_(fd), size_(size), map_(map) {}
  ~MappedFile() override {
    if (map_ != nullptr) munmap(map_, size_);
    close(fd_);
  }
  uint64_t size() const override { return size_; }
  const std::string& name() const override { return name_; }
  const uint8_t* mapped_data() const override { return static_cast<const uint8_t*>(map_); }
  void DoneWith(uint64_t offset, uint64_t n) const override {
    if (map_ == nullptr || offset >= size_) return;
    // Only whole pages inside the range; the read-only private mapping was never written, so
    // MADV_DONTNEED drops our references to page-cache pages without losing data.
    static const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    uint64_t begin = (offset + page - 1) / page * page;
    uint64_t end = std::min(offset + n, size_) / page * page;
    if (end > begin) madvise(static_cast<uint8_t*>(map_) + begin, end - begin, MADV_DONTNEED);
  }
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const override {
    if (offset > size_ || out.size() > size_ - offset)
      return Status::IOError(name_ + ": read of " + std::to_string(out.size()) +
                             " bytes at offset " + std::to_string(offset) +
                             " passes the end (size " + std::to_string(size_) + ")");
    // pread even when the file is mapped: a copy out of the mapping would fault its pages into
    // this process, where they stay resident (and later cost a release and faults again), while
    // pread copies straight from the page cache and leaves nothing mapped behind.
    size_t done = 0;
    while (done < out.size()) {
      ssize_t r = pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(errno, name_);
      }
      if (r == 0) return Status::IOError(name_ + ": unexpected end of file");
      done += static_cast<size_t>(r);
    }
    return Status::OK();
  }

 private:
  std::string name_;
  int fd_;
  uint64_t size_;
  void* map_;
};

class MemoryFile final : public RandomAccessFile {
 public:
  MemoryFile(std::string data, std::string name) : data_(std::move(data)), name_(std::move(name)) {}
  uint64_t size() const override { return data_.size(); }
  const std::string& name() const override { return name_; }
  const uint8_t* mapped_data() const override {
    return reinterpret_cast<const uint8_t*>(data_.data());
  }
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const override {
    if (offset > data_.size() || out.size() > data_.size() - offset)
      return Status::IOError(name_ + ": read of " + std::to_string(out.size()) +
                             " bytes at offset " + std::to_string(offset) +
                             " passes the end (size " + std::to_string(data_.size()) + ")");
    if (!out.empty()) std::memcpy(out.data(), data_.data() + offset, out.size());
    return Status::OK();
  }

 private:
  std::string data_;
  std::string name_;
};

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Status WriteAll(int fd, std::string_view data, const std::string& name) {
  while (!data.empty()) {
    ssize_t w = write(fd, data.data(), data.size());
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, name);
    }
    data.remove_prefix(static_cast<size_t>(w));
  }
  return Status::OK();
}

class LocalOutputStream final : public OutputStream {
 public:
  LocalOutputStream(std::string path, std::string tmp, int fd, bool exclusive, internal::GroupSync* group,
                    bool durable)
      : path_(std::move(path)), tmp_(std::move(tmp)), fd_(fd), exclusive_(exclusive), group_(group),
        durable_(durable) {}
  ~LocalOutputStream() override {
    if (fd_ >= 0) close(fd_);
    if (!committed_) unlink(tmp_.c_str());
  }
  Status Append(std::string_view data) override {
    if (committed_ || fd_ < 0) return Status::Internal(path_ + ": append after commit");
    // Buffer small appends: a Parquet writer appends many small pieces.
    if (buffer_.size() + data.size() > kBufferSize) {
      SL_RETURN_IF_ERROR(Flush());
      if (data.size() >= kBufferSize) {
        SL_RETURN_IF_ERROR(WriteAll(fd_, data, tmp_));
        bytes_ += data.size();
        return Status::OK();
      }
    }
    buffer_.append(data);
    bytes_ += data.size();
    return Status::OK();
  }
  uint64_t bytes_written() const override { return bytes_; }
  Status Commit() override {
    if (committed_) return Status::OK();
    SL_RETURN_IF_ERROR(Flush());
    if (durable_ && group_ == nullptr) {
      internal::CountSync();
      if (fsync(fd_) != 0) return Status::FromErrno(errno, "fsync " + tmp_);
    }
    close(fd_);
    fd_ = -1;
    // The content is durable before the name points at it: a crash shows the old object or the
    // whole new one.
    if (durable_ && group_ != nullptr) SL_RETURN_IF_ERROR(group_->Sync());
    if (exclusive_) {
      // link() fails with EEXIST if the target exists: atomic create-exclusive.
      if (link(tmp_.c_str(), path_.c_str()) != 0) {
        int err = errno;
        if (err == EEXIST) return Status::AlreadyExists(path_ + " already exists");
        return Status::FromErrno(err, "link " + path_);
      }
      unlink(tmp_.c_str());
    } else if (rename(tmp_.c_str(), path_.c_str()) != 0) {
      return Status::FromErrno(errno, "rename to " + path_);
    }
    committed_ = true;
    if (!durable_) return Status::OK();
    return group_ != nullptr ? group_->Sync() : internal::SyncDir(DirName(path_));
  }

 private:
  static constexpr size_t kBufferSize = 1 << 20;
  Status Flush() {
    if (buffer_.empty()) return Status::OK();
    SL_RETURN_IF_ERROR(WriteAll(fd_, buffer_, tmp_));
    buffer_.clear();
    return Status::OK();
  }

  std::string path_, tmp_;
  int fd_;
  bool exclusive_;
  internal::GroupSync* group_;
  bool durable_;
  bool committed_ = false;
  uint64_t bytes_ = 0;
  std::string buffer_;
};

// A stream into something that is not a regular file (a device such as /dev/null, a FIFO, a
// terminal): written in place, as `cat > /dev/null` would. There is nothing to make atomic, and a
// temp file renamed over the path would replace the device node itself with a regular file.
class InPlaceOutputStream final : public OutputStream {
 public:
  InPlaceOutputStream(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~InPlaceOutputStream() override { close(fd_); }
  Status Append(std::string_view data) override {
    bytes_ += data.size();
    return WriteAll(fd_, data, path_);
  }
  uint64_t bytes_written() const override { return bytes_; }
  Status Commit() override { return Status::OK(); }

 private:
  std::string path_;
  int fd_;
  uint64_t bytes_ = 0;
};

}  // namespace

namespace internal {

namespace {
std::atomic<uint64_t> sync_calls{0};
std::atomic<uint64_t> map_calls{0};
}  // namespace

uint64_t SyncCalls() { return sync_calls.load(std::memory_order_relaxed); }
uint64_t MapCalls() { return map_calls.load(std::memory_order_relaxed); }
void CountSync() { sync_calls.fetch_add(1, std::memory_order_relaxed); }

Status SyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open dir " + dir);
  CountSync();
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0 && err != EINVAL) return Status::FromErrno(err, "fsync dir " + dir);
  return Status::OK();
}

Status MakeDirs(const std::string& dir) {
  if (dir.empty() || dir == "/" || dir == ".") return Status::OK();
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::OK();
    return Status::IOError(dir + " exists and is not a directory");
  }
  SL_RETURN_IF_ERROR(MakeDirs(DirName(dir)));
  // The new folder's entry in its parent is made durable at once: a file's commit syncs the
  // file and the folder it lies in, not that folder's parent, so after a machine crash a new
  // partition folder, and the committed file in it, could otherwise be gone. Once per folder;
  // also when a concurrent writer made it first (EEXIST), since this writer's commit may
  // otherwise finish before that writer's sync does.
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Status::FromErrno(errno, "mkdir " + dir);
  return SyncDir(DirName(dir));
}

GroupSync::~GroupSync() { close(fd_); }

Status GroupSync::Sync() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t ticket = ++requested_;  // this caller's writes all happened before this point
  while (completed_ < ticket) {
    if (running_) {
      done_.wait(lock);
      continue;
    }
    // Lead a syncfs that covers every ticket handed out so far.
    running_ = true;
    const uint64_t first = completed_ + 1, covers = requested_;
    lock.unlock();
    CountSync();
    int rc = syncfs(fd_);
    int err = errno;
    lock.lock();
    running_ = false;
    if (rc != 0) failed_.push_back({first, covers, err});
    completed_ = covers;
    done_.notify_all();
  }
  for (const Failed& f : failed_) {
    if (ticket >= f.first && ticket <= f.last) return Status::FromErrno(f.err, "syncfs");
  }
  return Status::OK();
}

Result<std::unique_ptr<OutputStream>> OpenAtomicWrite(const std::string& path, bool exclusive,
                                                      GroupSync* group, bool durable) {
  std::string dir = DirName(path);
  SL_RETURN_IF_ERROR(MakeDirs(dir));
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  // The pid keeps names unique across fork(), which copies the generator's state.
  char suffix[40];
  std::snprintf(suffix, sizeof suffix, "%d-%016llx", static_cast<int>(getpid()),
                static_cast<unsigned long long>(rng()));
  std::string tmp = dir + "/" + std::string(kTempPrefix) + suffix + "-" + BaseName(path) + ".partial";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, "create " + tmp);
  return std::unique_ptr<OutputStream>(new LocalOutputStream(path, tmp, fd, exclusive, group, durable));
}

}  // namespace internal

// Files up to this size are read whole with one pread instead of mapped. A mapping costs an
// mmap, a page fault per page touched and a munmap whose TLB shootdown interrupts every core
// running one of our threads; on a VM that was ~18% of the CPU of scanning 64 files of 18-115
// KB (a refresh's added files) at 64 KiB, more than copying files of a few hundred KB.
// Large files stay mapped: a scan reads a few of their column chunks, not all their bytes.
constexpr uint64_t kReadWholeBytes = 256 << 10;

Result<std::unique_ptr<RandomAccessFile>> OpenLocalFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::FromErrno(err, path);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return Status::FromErrno(err, path);
  }
  return internal::OpenLocalFd(fd, path, st);
}

Result<std::unique_ptr<RandomAccessFile>> internal::OpenLocalFd(int fd, const std::string& path,
                                                                const struct stat& st, bool map_large) {
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    return Status::InvalidArgument(path + ": is a directory, not a file");
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (S_ISREG(st.st_mode) && size <= kReadWholeBytes) {
    // A small file is read at once: a mapping would cost more (mmap, a page fault, and a munmap
    // that interrupts every core running one of our threads) than copying a few pages.
    std::string data(size, '\0');
    MappedFile reader(path, fd, size, nullptr);  // its pread loop; closes fd
    SL_RETURN_IF_ERROR(reader.ReadAt(0, std::span<uint8_t>(reinterpret_cast<uint8_t*>(data.data()), size)));
    return std::unique_ptr<RandomAccessFile>(new MemoryFile(std::move(data), path));
  }
  void* map = nullptr;
  if (map_large && size > 0 && S_ISREG(st.st_mode)) {
    map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    map_calls.fetch_add(1, std::memory_order_relaxed);
    if (map == MAP_FAILED) map = nullptr;  // fall back to pread
  }
  return std::unique_ptr<RandomAccessFile>(new MappedFile(path, fd, size, map));
}

std::unique_ptr<RandomAccessFile> MakeMemoryFile(std::string data, std::string name) {
  return std::make_unique<MemoryFile>(std::move(data), std::move(name));
}

Result<std::unique_ptr<OutputStream>> OpenLocalWrite(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open " + path);
    return std::unique_ptr<OutputStream>(new InPlaceOutputStream(path, fd));
  }
  // A symbolic link to a file: the file is replaced, not the link.
  char* target = realpath(path.c_str(), nullptr);
  if (target != nullptr) {
    std::string resolved(target);
    free(target);
    if (resolved != path) return internal::OpenAtomicWrite(resolved, /*exclusive=*/false);
  }
  return internal::OpenAtomicWrite(path, /*exclusive=*/false);
}

Status WriteLocalFileAtomic(const std::string& path, std::string_view data) {
  SL_ASSIGN_OR_RETURN(auto out, OpenLocalWrite(path));
  SL_RETURN_IF_ERROR(out->Append(data));
  return out->Commit();
}

Result<std::string> ReadLocalFile(const std::string& path) {
  SL_ASSIGN_OR_RETURN(auto file, OpenLocalFile(path));
  return file->ReadString(0, file->size());
}

}  // namespace saleslake::io
