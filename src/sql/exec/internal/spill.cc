#include "sql/exec/internal/spill.h"

#include <atomic>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <set>
#include <system_error>

#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include "sql/exec/internal/eval.h"
#include "sql/exec/internal/operators.h"

namespace saleslake::sql::internal {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "saleslake-spill-";

std::string BaseDir(const std::string& base) {
  if (!base.empty()) return base;
  std::error_code ec;
  fs::path t = fs::temp_directory_path(ec);
  return ec ? std::string("/tmp") : t.string();
}

// The pid in "saleslake-spill-<pid>-<n>", or 0 when the name is not a spill directory's.
pid_t SpillDirPid(std::string_view name) {
  if (name.substr(0, kPrefix.size()) != kPrefix) return 0;
  name.remove_prefix(kPrefix.size());
  long pid = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
  if (ec != std::errc() || end == name.data() || end == name.data() + name.size() || *end != '-') return 0;
  return static_cast<pid_t>(pid);
}

}  // namespace

size_t RemoveStaleSpillDirs(const std::string& base) {
  size_t removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(BaseDir(base), ec), end; !ec && it != end; it.increment(ec)) {
    const pid_t pid = SpillDirPid(it->path().filename().string());
    if (pid <= 0 || pid == getpid()) continue;
    // ESRCH: no such process. EPERM means it lives under another user: leave it.
    if (kill(pid, 0) == 0 || errno != ESRCH) continue;
    std::error_code rec;
    if (fs::remove_all(it->path(), rec) > 0 && !rec) ++removed;
  }
  return removed;
}

SpillDir::SpillDir(std::string base) : base_(BaseDir(base)) {}

SpillDir::~SpillDir() {
  MutexLock lock(mu_);
  if (dir_.empty()) return;
  std::error_code ec;
  fs::remove_all(dir_, ec);  // best effort: the next process's RemoveStaleSpillDirs retries
}

Result<std::string> SpillDir::NewFile(std::string_view tag) {
  MutexLock lock(mu_);
  if (dir_.empty()) {
    // Once per process and base: the directories a crashed process left.
    static Mutex cleaned_mu;
    static std::set<std::string> cleaned;
    {
      MutexLock c(cleaned_mu);
      if (cleaned.insert(base_).second) RemoveStaleSpillDirs(base_);
    }
    static std::atomic<uint64_t> seq{0};
    std::error_code ec;
    fs::create_directories(base_, ec);
    std::string dir = fmt::format("{}/{}{}-{}", base_, kPrefix, getpid(), seq.fetch_add(1));
    if (!fs::create_directory(dir, ec) || ec)
      return Status::IOError(fmt::format("cannot make spill directory {}: {}", dir,
                                         ec ? ec.message() : std::string("it exists")));
    dir_ = std::move(dir);
  }
  return fmt::format("{}/{}-{}.spill", dir_, tag, next_++);
}

// ---- writer ----

Result<std::unique_ptr<SpillWriter>> SpillWriter::Open(std::string path) {
  FILE* f = fopen(path.c_str(), "wb");
  if (f == nullptr) return Status::FromErrno(errno, fmt::format("spill file {}", path));
  return std::unique_ptr<SpillWriter>(new SpillWriter(std::move(path), f));
}

SpillWriter::~SpillWriter() {
  if (f_) fclose(f_);
}

Status SpillWriter::Put(const void* p, size_t n) {
  if (n == 0) return Status::OK();
  if (fwrite(p, 1, n, f_) != n)
    return Status::FromErrno(errno, fmt::format("writing spill file {}", path_));
  bytes_ += n;
  return Status::OK();
}

Status SpillWriter::Write(const Batch& b) {
  const size_t n = b.num_rows;
  if (n == 0) return Status::OK();
  const uint64_t rows = n;
  SL_RETURN_IF_ERROR(Put(&rows, sizeof rows));
  std::vector<uint32_t> all;
  for (const ColumnVector& src : b.columns) {
    const ColumnVector* c = &src;
    ColumnVector flat;
    if (c->encoding() != VectorEncoding::kFlat) {  // rare: partitions are gathered (flat)
      if (all.size() != n) {
        all.resize(n);
        for (size_t i = 0; i < n; ++i) all[i] = static_cast<uint32_t>(i);
      }
      GatherColumn(*c, all.data(), n, flat);
      c = &flat;
    }
    const uint8_t has_validity = c->validity() != nullptr;
    SL_RETURN_IF_ERROR(Put(&has_validity, 1));
    if (has_validity) SL_RETURN_IF_ERROR(Put(c->validity(), (n + 63) / 64 * 8));
    if (c->type().id == TypeId::kVarchar) {
      const auto* s = c->data<std::string_view>();
      std::vector<uint32_t> lens(n);
      for (size_t i = 0; i < n; ++i) lens[i] = static_cast<uint32_t>(s[i].size());
      SL_RETURN_IF_ERROR(Put(lens.data(), n * 4));
      for (size_t i = 0; i < n; ++i) SL_RETURN_IF_ERROR(Put(s[i].data(), s[i].size()));
    } else {
      SL_RETURN_IF_ERROR(Put(c->data<uint8_t>(), n * c->type().byte_width()));
    }
  }
  rows_ += n;
  batch_bytes_ += BatchBytes(b);
  return Status::OK();
}

Status SpillWriter::Finish() {
  if (f_ == nullptr) return Status::OK();
  const int rc = fclose(f_);
  f_ = nullptr;
  if (rc != 0) return Status::FromErrno(errno, fmt::format("writing spill file {}", path_));
  return Status::OK();
}

// ---- reader ----

Result<std::unique_ptr<SpillReader>> SpillReader::Open(const std::string& path, std::vector<DataType> types) {
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::FromErrno(errno, fmt::format("spill file {}", path));
  return std::unique_ptr<SpillReader>(new SpillReader(path, f, std::move(types)));
}

SpillReader::~SpillReader() {
  if (f_) fclose(f_);
}

Status SpillReader::Get(void* p, size_t n) {
  if (n == 0) return Status::OK();
  if (fread(p, 1, n, f_) != n) return Status::Corruption(fmt::format("spill file {} is truncated", path_));
  return Status::OK();
}

Result<bool> SpillReader::Next(Batch& out) {
  uint64_t rows = 0;
  if (fread(&rows, 1, sizeof rows, f_) != sizeof rows) {
    if (feof(f_)) return false;
    return Status::FromErrno(errno, fmt::format("reading spill file {}", path_));
  }
  if (rows == 0 || rows > (uint64_t{1} << 32))
    return Status::Corruption(fmt::format("spill file {}: bad batch of {} rows", path_, rows));
  const size_t n = rows;
  out = Batch();
  out.num_rows = n;
  for (const DataType& t : types_) {
    ColumnVector c(t, n);
    c.Resize(n);
    uint8_t has_validity = 0;
    SL_RETURN_IF_ERROR(Get(&has_validity, 1));
    if (has_validity) SL_RETURN_IF_ERROR(Get(c.EnsureValidity(), (n + 63) / 64 * 8));
    if (t.id == TypeId::kVarchar) {
      std::vector<uint32_t> lens(n);
      SL_RETURN_IF_ERROR(Get(lens.data(), n * 4));
      size_t total = 0;
      for (uint32_t l : lens) total += l;
      char* buf = total ? c.heap().Allocate(total) : nullptr;
      SL_RETURN_IF_ERROR(Get(buf, total));
      auto* s = c.data<std::string_view>();
      for (size_t i = 0; i < n; ++i) {
        s[i] = std::string_view(buf, lens[i]);
        buf += lens[i];
      }
    } else {
      SL_RETURN_IF_ERROR(Get(c.data<uint8_t>(), n * t.byte_width()));
    }
    out.columns.push_back(std::move(c));
  }
  return true;
}

}  // namespace saleslake::sql::internal
