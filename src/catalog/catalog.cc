#include "catalog/catalog.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "catalog/internal/json_codec.h"
#include "common/encoding.h"
#include "common/thread_pool.h"

namespace saleslake::catalog {

namespace {

constexpr int64_t kDefaultMinSnapshots = 20;
constexpr int64_t kDefaultMaxAgeMs = 7LL * 24 * 3600 * 1000;
constexpr int64_t kDefaultMetadataVersions = 100;
// Past this many manifests in one snapshot, a commit merges them into one so that reading a
// snapshot stays a handful of objects even after thousands of small appends.
constexpr size_t kMaxManifestsPerSnapshot = 64;

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Fresh entropy per call (getrandom underneath): a thread_local generator would repeat its
// sequence in every process forked after it was seeded, and object names would collide.
uint64_t RandomU64() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

std::string RandomSuffix() {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(RandomU64()));
  return buf;
}

std::string VersionName(int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "v%020lld.json", static_cast<long long>(v));
  return buf;
}

// Parses "v00000000000000000042.json" -> 42, or -1.
int64_t ParseVersionName(std::string_view name) {
  if (name.size() != 26 || name[0] != 'v' || name.substr(21) != ".json") return -1;
  int64_t v = 0;
  for (char c : name.substr(1, 20)) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

int64_t PropertyInt(const TableSpec& spec, const std::string& key, int64_t fallback) {
  auto it = spec.properties.find(key);
  if (it == spec.properties.end()) return fallback;
  char* end = nullptr;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  if (end == it->second.c_str() || *end != '\0' || v < 0) return fallback;
  return v;
}

Status ValidateSchema(const Schema& schema, const std::vector<std::string>& partition_keys) {
  std::set<std::string> names;
  for (const Field& f : schema.fields) {
    if (f.name.empty()) return Status::InvalidArgument("schema has a column with an empty name");
    if (f.type.id == TypeId::kNull)
      return Status::InvalidArgument("column '" + f.name + "' has no type");
    if (!names.insert(f.name).second)
      return Status::InvalidArgument("schema has two columns named '" + f.name + "'");
  }
  std::set<std::string> keys;
  for (const std::string& k : partition_keys) {
    if (!names.count(k))
      return Status::InvalidArgument("partition key '" + k + "' is not a column of the schema");
    if (!keys.insert(k).second)
      return Status::InvalidArgument("partition key '" + k + "' is listed twice");
  }
  return Status::OK();
}

Status ValidateLocation(const std::string& location) {
  if (location.empty() || location.back() != '/')
    return Status::InvalidArgument("table location '" + location +
                                   "' must be a folder key ending in '/'");
  return io::ValidateKey(location.substr(0, location.size() - 1));
}

}  // namespace

// ---- small model helpers ----

std::string_view FileFormatName(FileFormat format) {
  switch (format) {
    case FileFormat::kCsv: return "csv";
    case FileFormat::kParquet: return "parquet";
    case FileFormat::kJsonl: return "jsonl";
  }
  return "unknown";
}

Result<FileFormat> ParseFileFormat(std::string_view name) {
  std::string l(name);
  for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "csv") return FileFormat::kCsv;
  if (l == "parquet") return FileFormat::kParquet;
  if (l == "jsonl" || l == "json" || l == "ndjson") return FileFormat::kJsonl;
  return Status::InvalidArgument("unknown file format '" + std::string(name) +
                                 "' (expected csv, parquet or jsonl)");
}

const ColumnStats* DataFile::FindStats(std::string_view column) const {
  for (const ColumnStats& c : column_stats)
    if (c.column == column) return &c;
  return nullptr;
}

std::string DataFile::PartitionPath() const {
  std::string out;
  for (const PartitionValue& p : partition_values) {
    if (!out.empty()) out += '/';
    out += EscapePartitionValue(p.key) + "=" +
           (p.value ? EscapePartitionValue(*p.value) : std::string("__HIVE_DEFAULT_PARTITION__"));
  }
  return out;
}

std::string DataFile::ContentId() const {
  if (sha256.empty() || partition_values.empty()) return sha256;
  return sha256 + "@" + PartitionPath();
}

const SnapshotInfo* TableMetadata::FindSnapshot(int64_t id) const {
  if (id == 0) return nullptr;
  for (const SnapshotInfo& s : snapshots)
    if (s.id == id) return &s;
  return nullptr;
}

const SnapshotInfo* TableMetadata::SnapshotAsOf(int64_t timestamp_ms) const {
  const SnapshotInfo* best = nullptr;
  for (const SnapshotInfo& s : snapshots)
    if (s.timestamp_ms <= timestamp_ms && (best == nullptr || s.id > best->id)) best = &s;
  return best;
}

const SchemaVersion* TableMetadata::FindSchema(int64_t id) const {
  for (const SchemaVersion& s : schemas)
    if (s.id == id) return &s;
  return nullptr;
}

Status ValidateTableName(std::string_view name) {
  if (name.empty() || name.size() > 128)
    return Status::InvalidArgument("table name must have 1..128 characters");
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok)
      return Status::InvalidArgument("invalid table name '" + std::string(name) +
                                     "': use letters, digits and '_', not starting with a digit");
  }
  return Status::OK();
}

namespace {
bool HiveEscapes(unsigned char c) {
  if (c < 0x20 || c == 0x7F) return true;
  switch (c) {
    case '"': case '#': case '%': case '\'': case '*': case '/': case ':': case '=':
    case '?': case '\\': case '{': case '[': case ']': case '^':
      return true;
    default:
      return false;
  }
}
}  // namespace

std::string ColumnCommentProperty(std::string_view column) { return "comment." + std::string(column); }

std::string EscapePartitionValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (HiveEscapes(c)) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

std::string UnescapePartitionValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '%' && i + 2 < value.size() && HexDigitValue(value[i + 1]) >= 0 &&
        HexDigitValue(value[i + 2]) >= 0) {
      out += static_cast<char>(HexDigitValue(value[i + 1]) * 16 + HexDigitValue(value[i + 2]));
      i += 2;
    } else {
      out += value[i];
    }
  }
  return out;
}

// ---- Catalog ----

struct Catalog::Impl {
  io::ObjectStore* store;
  CatalogOptions options;

  int64_t Now() const { return options.clock ? options.clock() : SystemNowMs(); }
  std::string TableDir(std::string_view name) const {
    return options.prefix + "tables/" + std::string(name) + "/";
  }
  std::string MetadataDir(std::string_view name) const { return TableDir(name) + "metadata/"; }

  // Versions present for `name`, ascending.
  Result<std::vector<int64_t>> Versions(std::string_view name) const {
    std::string dir = MetadataDir(name);
    SL_ASSIGN_OR_RETURN(auto infos, store->List(dir));
    std::vector<int64_t> out;
    for (const io::ObjectInfo& o : infos) {
      std::string_view rest = std::string_view(o.key).substr(dir.size());
      int64_t v = ParseVersionName(rest);
      if (v > 0) out.push_back(v);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  Result<std::shared_ptr<const TableMetadata>> LoadVersion(std::string_view name, int64_t v) const {
    std::string key = MetadataDir(name) + VersionName(v);
    SL_ASSIGN_OR_RETURN(std::string text, store->Get(key));
    SL_ASSIGN_OR_RETURN(TableMetadata m, internal::DecodeMetadata(text, key));
    if (m.version != v || m.spec.name != name)
      return Status::Corruption(key + ": holds version " + std::to_string(m.version) +
                                " of table '" + m.spec.name + "'");
    return std::shared_ptr<const TableMetadata>(std::make_shared<TableMetadata>(std::move(m)));
  }

  Result<std::vector<internal::ManifestRef>> ReadManifestList(const std::string& key) const {
    auto text = store->Get(key);
    if (!text.ok()) {
      if (text.status().code() == StatusCode::kNotFound)
        return Status::NotFound("manifest list " + key +
                                " is gone (snapshot expired meanwhile?); reload the table");
      return text.status();
    }
    return internal::DecodeManifestList(*text, key);
  }

  // A manifest is written once under a fresh key (PutIfAbsent) and never changed, so its decoded
  // files are kept: listing a table reads every manifest of its snapshot, and one process
  // (a refresh, a query's binding and planning, a server) lists the same table many times.
  Result<std::vector<DataFile>> ReadManifest(const std::string& key) const {
    {
      std::lock_guard<std::mutex> lock(cache_mu);
      auto it = manifest_cache.find(key);
      if (it != manifest_cache.end()) return *it->second;
    }
    auto text = store->Get(key);
    if (!text.ok()) {
      if (text.status().code() == StatusCode::kNotFound)
        return Status::NotFound("manifest " + key +
                                " is gone (snapshot expired meanwhile?); reload the table");
      return text.status();
    }
    SL_ASSIGN_OR_RETURN(std::vector<DataFile> files, internal::DecodeManifest(*text, key));
    std::lock_guard<std::mutex> lock(cache_mu);
    if (cached_files + files.size() > kMaxCachedFiles) {
      manifest_cache.clear();
      cached_files = 0;
    }
    if (manifest_cache.emplace(key, std::make_shared<const std::vector<DataFile>>(files)).second)
      cached_files += files.size();
    return files;
  }
  static constexpr size_t kMaxCachedFiles = 1 << 20;  // data files over all cached manifests
  mutable std::mutex cache_mu;
  mutable std::unordered_map<std::string, std::shared_ptr<const std::vector<DataFile>>> manifest_cache;
  mutable size_t cached_files = 0;
  // Decoded table versions by "<key>\n<ETag>" (LoadTable).
  static constexpr size_t kMaxCachedMetadata = 256;
  mutable std::unordered_map<std::string, std::shared_ptr<const TableMetadata>> metadata_cache;

  void BestEffortDelete(const std::vector<std::string>& keys) const {
    for (const std::string& k : keys) (void)store->Delete(k);
  }
};

Catalog::Catalog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Catalog::~Catalog() = default;

Result<std::unique_ptr<Catalog>> Catalog::Open(io::ObjectStore* store, CatalogOptions options) {
  SL_CHECK(store != nullptr);
  if (options.prefix.empty() || options.prefix.back() != '/')
    return Status::InvalidArgument("catalog prefix must end with '/'");
  if (options.max_commit_attempts < 1) options.max_commit_attempts = 1;
  auto impl = std::make_unique<Impl>();
  impl->store = store;
  impl->options = std::move(options);
  return std::unique_ptr<Catalog>(new Catalog(std::move(impl)));
}

io::ObjectStore* Catalog::store() const { return impl_->store; }

Result<std::vector<std::string>> Catalog::ListTables() const {
  std::string dir = impl_->options.prefix + "tables/";
  SL_ASSIGN_OR_RETURN(auto infos, impl_->store->List(dir));
  std::set<std::string> names;
  for (const io::ObjectInfo& o : infos) {
    std::string_view rest = std::string_view(o.key).substr(dir.size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) continue;
    if (rest.substr(slash + 1, 9) != "metadata/") continue;
    if (ParseVersionName(rest.substr(slash + 10)) <= 0) continue;
    names.emplace(rest.substr(0, slash));
  }
  return std::vector<std::string>(names.begin(), names.end());
}

Result<std::shared_ptr<const TableMetadata>> Catalog::LoadTable(std::string_view name) const {
  SL_RETURN_IF_ERROR(ValidateTableName(name));
  // The listing of the table's metadata/ names the latest version and its ETag; a version read
  // before under that ETag is not read again (a version file never changes once committed, but
  // a table removed and created anew could reuse its name, hence the ETag): a long-lived
  // process (the server, a query naming the table twice) pays one listing per lookup, not two
  // round trips.
  const std::string dir = impl_->MetadataDir(name);
  SL_ASSIGN_OR_RETURN(auto infos, impl_->store->List(dir));
  int64_t latest = 0;
  const io::ObjectInfo* latest_info = nullptr;
  for (const io::ObjectInfo& o : infos) {
    const int64_t v = ParseVersionName(std::string_view(o.key).substr(dir.size()));
    if (v > latest) {
      latest = v;
      latest_info = &o;
    }
  }
  if (latest_info == nullptr) return Status::NotFound("table '" + std::string(name) + "' not found");
  const std::string cache_key = latest_info->key + "\n" + latest_info->etag;
  if (!latest_info->etag.empty()) {
    std::lock_guard<std::mutex> lock(impl_->cache_mu);
    if (auto it = impl_->metadata_cache.find(cache_key); it != impl_->metadata_cache.end()) return it->second;
  }
  SL_ASSIGN_OR_RETURN(auto meta, impl_->LoadVersion(name, latest));
  if (!latest_info->etag.empty()) {
    std::lock_guard<std::mutex> lock(impl_->cache_mu);
    if (impl_->metadata_cache.size() >= Impl::kMaxCachedMetadata) impl_->metadata_cache.clear();  // a bound, rarely hit
    impl_->metadata_cache.emplace(cache_key, meta);
  }
  return meta;
}

Result<std::shared_ptr<const TableMetadata>> Catalog::CreateTable(const TableSpec& spec) {
  SL_RETURN_IF_ERROR(ValidateTableName(spec.name));
  SL_RETURN_IF_ERROR(ValidateLocation(spec.location));
  SL_RETURN_IF_ERROR(ValidateSchema(spec.schema, spec.partition_keys));
  int64_t now = impl_->Now();
  TableMetadata m;
  m.version = 1;
  m.spec = spec;
  m.schemas.push_back(SchemaVersion{1, now, spec.schema});
  m.current_schema_id = 1;
  m.created_ms = m.updated_ms = now;
  std::string key = impl_->MetadataDir(spec.name) + VersionName(1);
  Status s = impl_->store->PutIfAbsent(key, internal::EncodeMetadata(m));
  if (s.code() == StatusCode::kAlreadyExists)
    return Status::AlreadyExists("table '" + spec.name + "' already exists");
  SL_RETURN_IF_ERROR(s);
  return std::shared_ptr<const TableMetadata>(std::make_shared<TableMetadata>(std::move(m)));
}

Result<std::vector<DataFile>> Catalog::ListFiles(const TableMetadata& table,
                                                 std::optional<int64_t> snapshot_id) const {
  int64_t id = snapshot_id.value_or(table.current_snapshot_id);
  if (id == 0 && !snapshot_id) return std::vector<DataFile>();
  const SnapshotInfo* snap = table.FindSnapshot(id);
  if (snap == nullptr) {
    if (id > 0 && id <= table.last_snapshot_id)
      return Status::NotFound("snapshot " + std::to_string(id) + " of table '" + table.name() +
                              "' has expired (retention)");
    return Status::NotFound("table '" + table.name() + "' has no snapshot " + std::to_string(id));
  }
  SL_ASSIGN_OR_RETURN(auto list, impl_->ReadManifestList(snap->manifest_list));
  std::vector<DataFile> out;
  for (const internal::ManifestRef& ref : list) {
    SL_ASSIGN_OR_RETURN(auto files, impl_->ReadManifest(ref.key));
    for (DataFile& f : files) out.push_back(std::move(f));
  }
  return out;
}

Result<std::optional<std::vector<DataFile>>> Catalog::ListAddedFiles(const TableMetadata& table,
                                                                     int64_t since) const {
  const SnapshotInfo* cur = table.current_snapshot();
  const SnapshotInfo* old = since > 0 ? table.FindSnapshot(since) : nullptr;
  if (cur == nullptr || old == nullptr) return std::optional<std::vector<DataFile>>();
  int64_t added = 0;
  for (const SnapshotInfo* s = cur; s->id != since;) {
    if (s->removed_files != 0) return std::optional<std::vector<DataFile>>();
    added += s->added_files;
    s = table.FindSnapshot(s->parent_id);
    if (s == nullptr) return std::optional<std::vector<DataFile>>();
  }
  SL_ASSIGN_OR_RETURN(auto list, impl_->ReadManifestList(cur->manifest_list));
  SL_ASSIGN_OR_RETURN(auto old_list, impl_->ReadManifestList(old->manifest_list));
  std::unordered_set<std::string> old_keys;
  for (const internal::ManifestRef& ref : old_list) old_keys.insert(ref.key);
  std::vector<DataFile> out;
  for (const internal::ManifestRef& ref : list) {
    if (old_keys.count(ref.key)) continue;
    SL_ASSIGN_OR_RETURN(auto files, impl_->ReadManifest(ref.key));
    for (DataFile& f : files) out.push_back(std::move(f));
  }
  // Without removals, the new manifests hold exactly the added files unless a merge folded
  // older manifests into one of them.
  if (static_cast<int64_t>(out.size()) != added) return std::optional<std::vector<DataFile>>();
  return std::optional<std::vector<DataFile>>(std::move(out));
}

Result<CommitResult> Catalog::CommitOnce(const TableMetadata& base, const TableChange& change) {
  Impl& im = *impl_;
  const std::string& name = base.name();
  const std::string dir = im.TableDir(name);
  int64_t now = im.Now();
  const SnapshotInfo* cur = base.current_snapshot();
  if (cur != nullptr) now = std::max(now, cur->timestamp_ms);  // time travel stays ordered

  // Validate the files to add.
  std::unordered_set<std::string> adding;
  for (const DataFile& f : change.add_files) {
    SL_RETURN_IF_ERROR(io::ValidateKey(f.key).WithContext("data file"));
    if (!adding.insert(f.key).second)
      return Status::InvalidArgument("data file '" + f.key + "' is added twice in one commit");
    bool keys_match = f.partition_values.size() == base.spec.partition_keys.size();
    for (size_t i = 0; keys_match && i < f.partition_values.size(); ++i)
      keys_match = f.partition_values[i].key == base.spec.partition_keys[i];
    if (!keys_match)
      return Status::InvalidArgument("data file '" + f.key + "' has partition values '" +
                                     f.PartitionPath() + "' that do not match the partition keys of table '" +
                                     name + "'");
  }

  // Schema change.
  TableMetadata next = base;
  next.version = base.version + 1;
  next.updated_ms = now;
  bool meta_changed = false;
  if (change.new_schema && !(*change.new_schema == base.spec.schema)) {
    SL_RETURN_IF_ERROR(ValidateSchema(*change.new_schema, base.spec.partition_keys));
    int64_t id = 0;
    for (const SchemaVersion& s : base.schemas) id = std::max(id, s.id);
    next.schemas.push_back(SchemaVersion{id + 1, now, *change.new_schema});
    next.current_schema_id = id + 1;
    next.spec.schema = *change.new_schema;
    meta_changed = true;
  }
  for (const auto& [k, v] : change.set_properties) {
    auto it = next.spec.properties.find(k);
    if (it == next.spec.properties.end() || it->second != v) {
      next.spec.properties[k] = v;
      meta_changed = true;
    }
  }
  if (change.new_csv_dialect && !(*change.new_csv_dialect == base.spec.csv)) {
    next.spec.csv = *change.new_csv_dialect;
    meta_changed = true;
  }

  // The new manifest list.
  std::vector<internal::ManifestRef> manifests;
  std::vector<std::string> written;  // objects to delete if we lose the race
  int64_t removed_files = 0, removed_rows = 0, removed_bytes = 0;
  bool files_changed = !change.add_files.empty();
  std::vector<internal::ManifestRef> base_list;
  if (cur != nullptr) {
    SL_ASSIGN_OR_RETURN(base_list, im.ReadManifestList(cur->manifest_list));
  }
  int64_t snap_id = base.last_snapshot_id + 1;
  // The new manifests and manifest list are written together just before the publish, in
  // parallel: nothing references them until then, and on a local lake each durable write costs
  // a file and a folder sync, which overlap when issued at once.
  std::vector<std::pair<std::string, std::string>> pending;  // key, content
  auto write_manifest = [&](const std::vector<DataFile>& files) -> Result<internal::ManifestRef> {
    std::string key = dir + "manifests/m-" + std::to_string(snap_id) + "-" + RandomSuffix() + ".json";
    pending.emplace_back(key, internal::EncodeManifest(files));
    return internal::ManifestRef{key, static_cast<int64_t>(files.size())};
  };
  auto fail = [&](Status s) -> Status {
    im.BestEffortDelete(written);
    return s;
  };

  if (change.remove_all_files) {
    if (cur != nullptr && cur->total_files > 0) files_changed = true;
    if (cur != nullptr) {
      removed_files = cur->total_files;
      removed_rows = cur->total_rows;
      removed_bytes = cur->total_bytes;
    }
  } else if (!change.remove_files.empty()) {
    std::unordered_set<std::string> to_remove(change.remove_files.begin(), change.remove_files.end());
    size_t found = 0;
    for (const internal::ManifestRef& ref : base_list) {
      SL_ASSIGN_OR_RETURN(auto files, im.ReadManifest(ref.key));
      std::vector<DataFile> kept;
      for (DataFile& f : files) {
        if (to_remove.count(f.key)) {
          ++found;
          ++removed_files;
          removed_rows += std::max<int64_t>(f.row_count, 0);
          removed_bytes += static_cast<int64_t>(f.size);
        } else {
          kept.push_back(std::move(f));
        }
      }
      if (kept.size() == files.size()) {
        manifests.push_back(ref);
      } else if (!kept.empty()) {
        auto m = write_manifest(kept);
        if (!m.ok()) return fail(m.status());
        manifests.push_back(*m);
      }
    }
    if (found != to_remove.size())
      return fail(Status::InvalidArgument("commit to table '" + name +
                                          "' removes a file that is not in snapshot " +
                                          std::to_string(base.current_snapshot_id)));
    files_changed = true;
  } else {
    manifests = base_list;
  }
  if (!change.add_files.empty()) {
    auto m = write_manifest(change.add_files);
    if (!m.ok()) return fail(m.status());
    manifests.push_back(*m);
  }
  if (manifests.size() > kMaxManifestsPerSnapshot) {
    // Merge the smallest manifests (by file count) into one, so that a compaction rewrites the
    // recent small appends, not the big manifests that hold most of the table: bytes written
    // stay proportional to what changed, amortized.
    std::vector<size_t> order(manifests.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return manifests[a].files < manifests[b].files;
    });
    size_t merge_n = manifests.size() - kMaxManifestsPerSnapshot / 2 + 1;
    std::vector<bool> merged(manifests.size(), false);
    for (size_t i = 0; i < merge_n; ++i) merged[order[i]] = true;
    std::vector<DataFile> all;
    for (size_t i = 0; i < manifests.size(); ++i) {
      if (!merged[i]) continue;
      auto files = im.ReadManifest(manifests[i].key);
      if (!files.ok()) return fail(files.status());
      for (DataFile& f : *files) all.push_back(std::move(f));
    }
    auto m = write_manifest(all);
    if (!m.ok()) return fail(m.status());
    std::vector<internal::ManifestRef> next_list;
    bool placed = false;
    for (size_t i = 0; i < manifests.size(); ++i) {
      if (!merged[i]) {
        next_list.push_back(manifests[i]);
      } else if (!placed) {
        next_list.push_back(*m);
        placed = true;
      }
    }
    manifests = std::move(next_list);
  }

  bool new_snapshot = files_changed || change.allow_empty;
  if (new_snapshot) {
    SnapshotInfo s;
    s.id = snap_id;
    s.parent_id = base.current_snapshot_id;
    s.timestamp_ms = now;
    s.operation = change.operation;
    s.schema_id = next.current_schema_id;
    s.added_files = static_cast<int64_t>(change.add_files.size());
    s.removed_files = removed_files;
    int64_t added_rows = 0, added_bytes = 0;
    for (const DataFile& f : change.add_files) {
      added_rows += std::max<int64_t>(f.row_count, 0);
      added_bytes += static_cast<int64_t>(f.size);
    }
    s.total_files = (cur ? cur->total_files : 0) - removed_files + s.added_files;
    s.total_rows = (cur ? cur->total_rows : 0) - removed_rows + added_rows;
    s.total_bytes = (cur ? cur->total_bytes : 0) - removed_bytes + added_bytes;
    s.manifest_list = dir + "snapshots/snap-" + std::to_string(snap_id) + "-" + RandomSuffix() + ".json";
    pending.emplace_back(s.manifest_list, internal::EncodeManifestList(manifests));
    next.snapshots.push_back(std::move(s));
    next.current_snapshot_id = snap_id;
    next.last_snapshot_id = snap_id;
  }

  // Retention: keep the newest min_count snapshots and the current one; drop older ones past
  // max_age. Done in this same write, so expiry is as atomic as any commit.
  int64_t min_count = PropertyInt(next.spec, "snapshot.retention.min_count", kDefaultMinSnapshots);
  int64_t max_age = PropertyInt(next.spec, "snapshot.retention.max_age_ms", kDefaultMaxAgeMs);
  std::vector<SnapshotInfo> expired;
  {
    std::vector<SnapshotInfo> kept;
    int64_t n = static_cast<int64_t>(next.snapshots.size());
    for (int64_t i = 0; i < n; ++i) {
      SnapshotInfo& s = next.snapshots[static_cast<size_t>(i)];
      bool among_newest = n - i <= std::max<int64_t>(min_count, 1);
      bool young = now - s.timestamp_ms <= max_age;
      if (s.id == next.current_snapshot_id || among_newest || young) kept.push_back(std::move(s));
      else expired.push_back(std::move(s));
    }
    next.snapshots = std::move(kept);
  }

  if (!new_snapshot && !meta_changed && expired.empty()) {
    CommitResult r;
    r.metadata = std::make_shared<TableMetadata>(base);
    r.committed = false;
    return r;
  }

  {
    // One parallel round: the manifests' durable writes and, when the writer left them
    // unsynced, the added data files' syncs. Nothing references either before the publish below.
    const size_t syncs = change.sync_added_files ? change.add_files.size() : 0;
    std::vector<Status> put(pending.size() + syncs);
    ThreadPool::Default().ParallelFor(put.size(), [&](size_t i) {
      if (i < syncs) {
        put[i] = im.store->Sync(change.add_files[i].key).WithContext("data file");
      } else {
        put[i] = im.store->PutIfAbsent(pending[i - syncs].first, pending[i - syncs].second);
      }
    });
    for (size_t i = 0; i < pending.size(); ++i)
      if (put[syncs + i].ok()) written.push_back(pending[i].first);
    for (const Status& st : put)
      if (!st.ok()) return fail(st);
  }

  if (im.options.before_publish) im.options.before_publish();
  if (im.options.commit_pause_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(im.options.commit_pause_ms));
  }

  std::string key = im.MetadataDir(name) + VersionName(next.version);
  Status ps = im.store->PutIfAbsent(key, internal::EncodeMetadata(next));
  if (ps.code() == StatusCode::kAlreadyExists)
    return fail(Status::Aborted("table '" + name + "' changed concurrently: version " +
                                std::to_string(next.version) + " was published by another writer"));
  if (!ps.ok()) return fail(ps);

  // Published. Everything below is cleanup; failures there leave only unreferenced objects.
  if (!expired.empty()) {
    std::unordered_set<std::string> live;
    for (const SnapshotInfo& s : next.snapshots) {
      live.insert(s.manifest_list);
      auto list = im.ReadManifestList(s.manifest_list);
      if (!list.ok()) { live.clear(); break; }
      for (const auto& ref : *list) live.insert(ref.key);
    }
    if (!live.empty()) {
      for (const SnapshotInfo& s : expired) {
        auto list = im.ReadManifestList(s.manifest_list);
        if (list.ok())
          for (const auto& ref : *list)
            if (!live.count(ref.key)) (void)im.store->Delete(ref.key);
        (void)im.store->Delete(s.manifest_list);
      }
    }
  }
  int64_t keep_versions = std::max<int64_t>(
      PropertyInt(next.spec, "metadata.retention.versions", kDefaultMetadataVersions), 2);
  if (next.version > keep_versions) {
    auto versions = im.Versions(name);
    if (versions.ok())
      for (int64_t v : *versions)
        if (v <= next.version - keep_versions) (void)im.store->Delete(im.MetadataDir(name) + VersionName(v));
  }

  CommitResult r;
  r.metadata = std::make_shared<TableMetadata>(std::move(next));
  return r;
}

Result<CommitResult> Catalog::Commit(std::string_view table, const ChangeFn& fn) {
  Status last;
  for (int attempt = 1; attempt <= impl_->options.max_commit_attempts; ++attempt) {
    SL_ASSIGN_OR_RETURN(auto base, LoadTable(table));
    SL_ASSIGN_OR_RETURN(TableChange change, fn(*base));
    auto r = CommitOnce(*base, change);
    if (r.ok()) {
      r->attempts = attempt;
      return r;
    }
    if (r.status().code() != StatusCode::kAborted) return r.status();
    last = r.status();
    // Jittered exponential backoff keeps many writers from retrying in lock step.
    int cap = 1 << std::min(attempt, 7);
    std::this_thread::sleep_for(std::chrono::microseconds(
        500 * (1 + static_cast<int64_t>(RandomU64() % static_cast<uint64_t>(cap)))));
  }
  return Status::Aborted("gave up committing to table '" + std::string(table) + "' after " +
                         std::to_string(impl_->options.max_commit_attempts) +
                         " attempts: " + last.message());
}

Status Catalog::DropTable(std::string_view name) {
  SL_RETURN_IF_ERROR(ValidateTableName(name));
  Impl& im = *impl_;
  SL_ASSIGN_OR_RETURN(auto versions, im.Versions(name));
  if (versions.empty()) return Status::NotFound("table '" + std::string(name) + "' not found");
  for (int64_t v : versions) {
    Status s = im.store->Delete(im.MetadataDir(name) + VersionName(v));
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  SL_ASSIGN_OR_RETURN(auto rest, im.store->List(im.TableDir(name)));
  for (const io::ObjectInfo& o : rest) {
    Status s = im.store->Delete(o.key);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  return Status::OK();
}

Result<CommitResult> Catalog::ExpireSnapshots(std::string_view table) {
  return Commit(table, [](const TableMetadata&) -> Result<TableChange> {
    TableChange c;
    c.operation = "expire";
    return c;
  });
}

}  // namespace saleslake::catalog
