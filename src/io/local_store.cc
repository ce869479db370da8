#include "io/local_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <ctime>

#include "io/internal/group_append.h"
#include "io/internal/local_file.h"

namespace saleslake::io {

Status ValidateKey(std::string_view key) {
  auto bad = [&](std::string_view why) {
    std::string shown;
    for (char c : key) shown += c == '\0' ? std::string("\\0") : std::string(1, c);
    return Status::InvalidArgument("invalid object key '" + shown + "': " + std::string(why));
  };
  if (key.empty()) return bad("empty");
  if (key.size() > 1024) return bad("longer than 1024 bytes");
  if (key.find('\0') != std::string_view::npos) return bad("contains a NUL byte");
  if (key.front() == '/') return bad("absolute paths are not allowed");
  if (key.find('\\') != std::string_view::npos) return bad("backslashes are not allowed");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view seg = key.substr(start, end - start);
    if (seg.empty() && end != key.size()) return bad("empty path segment");
    if (seg == "..") return bad("'..' would escape the lake");
    if (seg == ".") return bad("'.' segments are not allowed");
    if (seg.substr(0, internal::kTempPrefix.size()) == internal::kTempPrefix)
      return bad("names starting with '.tmp-' are reserved for in-flight writes");
    start = end + 1;
  }
  return Status::OK();
}

namespace {

// Keys naming a folder may end with '/', but may not be a bare file key with empty segments.
Status ValidateObjectKey(std::string_view key) {
  SL_RETURN_IF_ERROR(ValidateKey(key));
  if (key.back() == '/')
    return Status::InvalidArgument("invalid object key '" + std::string(key) +
                                   "': names a folder, not an object");
  return Status::OK();
}

ObjectInfo InfoFromStat(std::string key, const struct stat& st) {
  ObjectInfo info;
  info.key = std::move(key);
  info.size = static_cast<uint64_t>(st.st_size);
  info.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  info.etag = std::to_string(info.size) + "-" + std::to_string(info.mtime_ns) + "-" +
              std::to_string(st.st_ino);
  return info;
}

Status ListDir(const std::string& root, const std::string& rel, std::vector<ObjectInfo>* out) {
  std::string dir = rel.empty() ? root : root + "/" + rel;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::OK();
    return Status::FromErrno(errno, "list " + dir);
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == ".." || n.substr(0, internal::kTempPrefix.size()) == internal::kTempPrefix)
      continue;
    names.emplace_back(n);
  }
  closedir(d);
  for (const std::string& n : names) {
    std::string key = rel.empty() ? n : rel + "/" + n;
    struct stat st;
    if (lstat((root + "/" + key).c_str(), &st) != 0) continue;  // removed meanwhile
    if (S_ISDIR(st.st_mode)) {
      SL_RETURN_IF_ERROR(ListDir(root, key, out));
    } else if (S_ISREG(st.st_mode)) {
      out->push_back(InfoFromStat(key, st));
    }
    // Symlinks and special files are not objects: they could point outside the lake.
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<LocalStore>> LocalStore::Open(const std::string& root, bool create) {
  if (root.empty()) return Status::InvalidArgument("lake directory is empty");
  if (root.find('\0') != std::string::npos)
    return Status::InvalidArgument("lake directory contains a NUL byte");
  if (create) SL_RETURN_IF_ERROR(internal::MakeDirs(root));
  char resolved[PATH_MAX];
  if (realpath(root.c_str(), resolved) == nullptr) {
    if (errno == ENOENT)
      return Status::NotFound("lake " + root + " does not exist (run 'saleslake init' first)");
    return Status::FromErrno(errno, "lake " + root);
  }
  struct stat st;
  if (stat(resolved, &st) != 0 || !S_ISDIR(st.st_mode))
    return Status::IOError("lake " + root + " is not a directory");
  std::string r = resolved;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  return std::unique_ptr<LocalStore>(new LocalStore(r));
}

LocalStore::LocalStore(std::string root) : root_(std::move(root)) {}
LocalStore::~LocalStore() = default;

Status LocalStore::EnableGroupCommit() {
  if (group_) return Status::OK();
  int fd = open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open lake " + root_);
  group_ = std::make_unique<internal::GroupSync>(fd);
  return Status::OK();
}

Status LocalStore::Put(std::string_view key, std::string_view data) {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  SL_ASSIGN_OR_RETURN(auto out, internal::OpenAtomicWrite(PathOf(key), false, group_.get()));
  SL_RETURN_IF_ERROR(out->Append(data));
  return out->Commit();
}

Status LocalStore::PutIfAbsent(std::string_view key, std::string_view data) {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  SL_ASSIGN_OR_RETURN(auto out, internal::OpenAtomicWrite(PathOf(key), true, group_.get()));
  SL_RETURN_IF_ERROR(out->Append(data));
  return out->Commit();
}

Result<std::unique_ptr<OutputStream>> LocalStore::OpenWrite(std::string_view key) {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  return internal::OpenAtomicWrite(PathOf(key), false);
}

Result<std::unique_ptr<OutputStream>> LocalStore::OpenWriteUnsynced(std::string_view key) {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  return internal::OpenAtomicWrite(PathOf(key), false, nullptr, /*durable=*/false);
}

Status LocalStore::Sync(std::string_view key) {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::string path = PathOf(key);
  // fsync through a read-only descriptor flushes the file's dirty pages as well (Linux, POSIX).
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) return Status::NotFound("object '" + std::string(key) + "' not found in lake " + root_);
    return Status::FromErrno(err, path);
  }
  internal::CountSync();
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0) return Status::FromErrno(err, "fsync " + path);
  // Then the folder, which holds the name an unsynced write's rename gave the file.
  return internal::SyncDir(path.substr(0, path.rfind('/')));
}

Result<std::unique_ptr<RandomAccessFile>> LocalStore::OpenRead(std::string_view key) const {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  struct stat st;
  std::string path = PathOf(key);
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::NotFound("object '" + std::string(key) + "' not found in lake " + root_);
    return Status::FromErrno(errno, path);
  }
  if (!S_ISREG(st.st_mode))
    return Status::NotFound("object '" + std::string(key) + "' is not a regular file");
  return OpenLocalFile(path);
}

Result<LocalStore::OpenedObject> LocalStore::OpenReadWithInfo(std::string_view key) const {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::string path = PathOf(key);
  // O_NOFOLLOW refuses a symbolic link as OpenRead's lstat does; O_NONBLOCK keeps a FIFO from
  // blocking the open (it is refused below, as every file that is not regular). O_NOATIME: a
  // GET does not dirty the inode (with relatime, the first read after a write did, ~2% of a
  // small GET's server CPU, and the next group-commit syncfs had it to write); the kernel
  // refuses it (EPERM) for a file this process does not own, which is then opened without it.
  constexpr int kFlags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
  int fd = open(path.c_str(), kFlags | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = open(path.c_str(), kFlags);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR || err == ELOOP) {
      return Status::NotFound("object '" + std::string(key) + "' not found in lake " + root_);
    }
    return Status::FromErrno(err, path);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return Status::FromErrno(err, path);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return Status::NotFound("object '" + std::string(key) + "' is not a regular file");
  }
  OpenedObject out;
  out.info = InfoFromStat(std::string(key), st);
  // Not mapped: a GET sends a range of the file once, and a mapping would cost an mmap, a page
  // fault per 64 KiB sent and a munmap whose TLB shootdown interrupts every core running one of
  // the server's threads; for a query's column-chunk GETs that was ~25% of the server's CPU.
  // pread copies each byte once, as the send from a mapping does.
  SL_ASSIGN_OR_RETURN(out.file, internal::OpenLocalFd(fd, path, st, /*map_large=*/false));
  return out;
}

Result<std::string> LocalStore::Get(std::string_view key) const {
  SL_ASSIGN_OR_RETURN(auto f, OpenRead(key));
  return f->ReadString(0, f->size());
}

Result<std::string> LocalStore::GetRange(std::string_view key, uint64_t offset,
                                         uint64_t length) const {
  SL_ASSIGN_OR_RETURN(auto f, OpenRead(key));
  if (offset > f->size()) return std::string();
  return f->ReadString(offset, std::min(length, f->size() - offset));
}

Result<std::vector<ObjectInfo>> LocalStore::List(std::string_view prefix) const {
  if (prefix.find('\0') != std::string_view::npos || (!prefix.empty() && prefix.front() == '/'))
    return Status::InvalidArgument("invalid list prefix '" + std::string(prefix) + "'");
  if (!prefix.empty()) {
    // Walk only the folder the prefix names (its part up to the last '/').
    std::string_view dir_part = prefix.substr(0, prefix.rfind('/') == std::string_view::npos ? 0 : prefix.rfind('/'));
    if (!dir_part.empty()) SL_RETURN_IF_ERROR(ValidateKey(dir_part));
  }
  std::string dir(prefix.substr(0, prefix.rfind('/') == std::string_view::npos ? 0 : prefix.rfind('/')));
  std::vector<ObjectInfo> all;
  SL_RETURN_IF_ERROR(ListDir(root_, dir, &all));
  std::vector<ObjectInfo> out;
  for (ObjectInfo& o : all)
    if (o.key.compare(0, prefix.size(), prefix) == 0) out.push_back(std::move(o));
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Status LocalStore::Append(std::string_view key, std::string_view data) {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  return internal::GroupAppend(PathOf(key), data);
}

Status LocalStore::WriteAt(std::string_view key, uint64_t offset, std::string_view data) {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::string path = PathOf(key);
  std::string dir = path.substr(0, path.rfind('/'));
  SL_RETURN_IF_ERROR(internal::MakeDirs(dir));
  bool created = true;
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST) {
    created = false;
    fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  }
  if (fd < 0) return Status::FromErrno(errno, "open " + std::string(key));
  bool ok = true;
  while (ok && !data.empty()) {
    ssize_t w = pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (w < 0 && errno == EINTR) continue;
    ok = w > 0;
    if (ok) {
      data.remove_prefix(static_cast<size_t>(w));
      offset += static_cast<uint64_t>(w);
    }
  }
  ok = ok && fdatasync(fd) == 0;
  int err = errno;
  close(fd);
  if (!ok) return Status::FromErrno(err, "write " + std::string(key));
  return created ? internal::SyncDir(dir) : Status::OK();
}

Status LocalStore::Promote(std::string_view from, std::string_view to, uint64_t size) {
  SL_RETURN_IF_ERROR(ValidateObjectKey(from));
  SL_RETURN_IF_ERROR(ValidateObjectKey(to));
  std::string src = PathOf(from), dst = PathOf(to);
  int fd = open(src.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open " + std::string(from));
  bool ok = ftruncate(fd, static_cast<off_t>(size)) == 0 && fsync(fd) == 0;
  int err = errno;
  close(fd);
  if (!ok) return Status::FromErrno(err, "sync " + std::string(from));
  std::string dst_dir = dst.substr(0, dst.rfind('/'));
  SL_RETURN_IF_ERROR(internal::MakeDirs(dst_dir));
  if (rename(src.c_str(), dst.c_str()) != 0) return Status::FromErrno(errno, "rename to " + std::string(to));
  SL_RETURN_IF_ERROR(internal::SyncDir(dst_dir));
  return internal::SyncDir(src.substr(0, src.rfind('/')));
}

Status LocalStore::Delete(std::string_view key) {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  if (unlink(PathOf(key).c_str()) != 0) {
    if (errno == ENOENT) return Status::NotFound("object '" + std::string(key) + "' not found");
    return Status::FromErrno(errno, "delete " + std::string(key));
  }
  return Status::OK();
}

Result<bool> LocalStore::Exists(std::string_view key) const {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  struct stat st;
  return lstat(PathOf(key).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<ObjectInfo> LocalStore::Stat(std::string_view key) const {
  SL_RETURN_IF_ERROR(ValidateObjectKey(key));
  struct stat st;
  if (lstat(PathOf(key).c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return Status::NotFound("object '" + std::string(key) + "' not found");
  return InfoFromStat(std::string(key), st);
}

Status LocalStore::MakeDir(std::string_view key) {
  std::string_view k = key;
  while (!k.empty() && k.back() == '/') k.remove_suffix(1);
  SL_RETURN_IF_ERROR(ValidateKey(k));
  return internal::MakeDirs(PathOf(k));
}

namespace {

Status CleanupDir(const std::string& dir, int64_t cutoff_s) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return Status::OK();
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) names.emplace_back(e->d_name);
  closedir(d);
  for (const std::string& n : names) {
    if (n == "." || n == "..") continue;
    std::string path = dir + "/" + n;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      SL_RETURN_IF_ERROR(CleanupDir(path, cutoff_s));
    } else if (n.compare(0, internal::kTempPrefix.size(), internal::kTempPrefix) == 0 &&
               st.st_mtim.tv_sec < cutoff_s) {
      unlink(path.c_str());
    }
  }
  return Status::OK();
}

}  // namespace

Status LocalStore::RemoveTemporaries(std::string_view prefix, int64_t min_age_s) {
  std::string_view dir = prefix.substr(0, prefix.rfind('/') == std::string_view::npos ? 0 : prefix.rfind('/'));
  if (!dir.empty()) SL_RETURN_IF_ERROR(ValidateKey(dir));
  return CleanupDir(dir.empty() ? root_ : PathOf(dir), static_cast<int64_t>(std::time(nullptr)) - min_age_s);
}

}  // namespace saleslake::io
