#include <fcntl.h>
#include <sys/file.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <shared_mutex>
#include <sstream>

#include "stream/internal/codec.h"
#include "stream/internal/shard_log.h"
#include "stream/stream.h"

namespace saleslake::stream {
namespace fs = std::filesystem;
using internal::ShardLog;

std::string KinesisErrorOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kNotFound: return "ResourceNotFoundException";
    case StatusCode::kAlreadyExists: return "ResourceInUseException";
    case StatusCode::kInvalidArgument: return "InvalidArgumentException";
    case StatusCode::kCancelled: return "ExpiredIteratorException";
    case StatusCode::kResourceExhausted: return "ProvisionedThroughputExceededException";
    case StatusCode::kAborted: return "LimitExceededException";
    default: return "InternalFailure";
  }
}

std::optional<IteratorType> ParseIteratorType(const std::string& text) {
  if (text == "TRIM_HORIZON") return IteratorType::kTrimHorizon;
  if (text == "LATEST") return IteratorType::kLatest;
  if (text == "AT_SEQUENCE_NUMBER") return IteratorType::kAtSequenceNumber;
  if (text == "AFTER_SEQUENCE_NUMBER") return IteratorType::kAfterSequenceNumber;
  if (text == "AT_TIMESTAMP") return IteratorType::kAtTimestamp;
  return std::nullopt;
}

std::string ShardIdOf(int shard) {
  std::string digits = std::to_string(shard);
  return "shardId-" + std::string(digits.size() < 12 ? 12 - digits.size() : 0, '0') + digits;
}

void AppendSequenceNumber(std::string* out, uint64_t ordinal) { internal::AppendSequence(out, ordinal); }

namespace {

constexpr size_t kMaxGetRecordsBytes = 10u << 20;

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return name != "." && name != "..";
}

std::optional<int> ParseShardId(const std::string& id) {
  const std::string prefix = "shardId-";
  if (id.rfind(prefix, 0) != 0 || id.size() != prefix.size() + 12) return std::nullopt;
  int v = 0;
  for (char c : id.substr(prefix.size())) {
    if (c < '0' || c > '9' || v > 100000000) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// Writes `text` to `path` so that a crash leaves either the old or the new file.
Status WriteFileAtomic(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("create " + tmp);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t w = ::write(fd, text.data() + done, text.size() - done);
    if (w <= 0) {
      ::close(fd);
      return Status::IOError("write " + tmp);
    }
    done += static_cast<size_t>(w);
  }
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) return Status::IOError("replace " + path);
  std::string dir = fs::path(path).parent_path().string();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::OK();
}

struct Stream {
  std::string name;
  std::string dir;
  int64_t created_ms = 0;
  bool on_demand = false;
  std::vector<std::unique_ptr<ShardLog>> shards;
  mutable std::mutex mu;  // the fields below
  int retention_hours = kMinRetentionHours;
  std::map<std::string, std::string> tags;
  std::vector<std::pair<int64_t, int>> rate;  // per shard: (second, records accepted in it)

  std::string MetaJsonLocked() const {
    nlohmann::json j;
    j["name"] = name;
    j["shard_count"] = shards.size();
    j["on_demand"] = on_demand;
    j["created_ms"] = created_ms;
    j["retention_hours"] = retention_hours;
    j["tags"] = tags;
    return j.dump(2);
  }
  Status SaveLocked() const { return WriteFileAtomic(dir + "/stream.json", MetaJsonLocked()); }
};

class StoreImpl final : public StreamStore {
 public:
  explicit StoreImpl(StoreOptions o) : options_(std::move(o)) {
    clock_ = options_.clock ? options_.clock : &ProcessClock();
  }
  ~StoreImpl() override {
    streams_.clear();  // close every log before the lock goes
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }

  Status Load() {
    std::error_code ec;
    fs::create_directories(options_.root, ec);
    if (ec) return Status::IOError("create " + options_.root + ": " + ec.message());
    // Group commit and sequence numbers live in this process: a second one appending to the same
    // files would interleave frames. The lock goes with the process, also when it is killed.
    std::string lock_path = options_.root + "/.lock";
    lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd_ < 0) return Status::IOError("open " + lock_path);
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      return Status::Aborted("the streams in " + options_.root +
                             " are open in another process (a running `saleslake serve`?)");
    }
    if (Status st = LoadKey(); !st.ok()) return st;
    for (const auto& e : fs::directory_iterator(options_.root, ec)) {
      if (!e.is_directory()) continue;
      std::string name = e.path().filename().string();
      if (name.rfind(".deleted-", 0) == 0) {
        fs::remove_all(e.path(), ec);  // a delete interrupted by a crash
        continue;
      }
      if (!ValidName(name)) continue;
      std::ifstream in(e.path() / "stream.json");
      if (!in) {
        fs::remove_all(e.path(), ec);  // a create interrupted before its metadata was written
        continue;
      }
      std::stringstream ss;
      ss << in.rdbuf();
      auto j = nlohmann::json::parse(ss.str(), nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        return Status::Corruption(e.path().string() + "/stream.json is not JSON");
      }
      auto s = std::make_shared<Stream>();
      s->name = name;
      s->dir = e.path().string();
      s->created_ms = j.value("created_ms", int64_t{0});
      s->on_demand = j.value("on_demand", false);
      s->retention_hours = j.value("retention_hours", kMinRetentionHours);
      if (j.contains("tags") && j["tags"].is_object()) {
        s->tags = j["tags"].get<std::map<std::string, std::string>>();
      }
      int n = j.value("shard_count", 0);
      if (n < 1) return Status::Corruption(s->dir + "/stream.json: bad shard_count");
      for (int i = 0; i < n; ++i) {
        auto log = ShardLog::Open(s->dir + "/shard-" + std::to_string(i), options_.segment_bytes);
        if (!log.ok()) return log.status();
        s->shards.push_back(std::move(*log));
      }
      s->rate.assign(static_cast<size_t>(n), {0, 0});
      total_shards_ += n;
      streams_[name] = std::move(s);
    }
    if (ec) return Status::IOError("list " + options_.root + ": " + ec.message());
    return Status::OK();
  }

  Status CreateStream(const std::string& name, int shard_count, bool on_demand) override {
    if (!ValidName(name)) return Status::InvalidArgument("invalid stream name " + name);
    if (on_demand) shard_count = kOnDemandShards;
    if (shard_count < 1) return Status::InvalidArgument("ShardCount must be at least 1");
    std::unique_lock<std::shared_mutex> lock(mu_);
    if (streams_.count(name)) return Status::AlreadyExists("Stream " + name + " already exists");
    if (total_shards_ + shard_count > options_.max_shards) {
      return Status::Aborted("this request would exceed the shard limit of " +
                             std::to_string(options_.max_shards));
    }
    auto s = std::make_shared<Stream>();
    s->name = name;
    s->dir = options_.root + "/" + name;
    s->created_ms = ToEpochMs(clock_->Now());
    s->on_demand = on_demand;
    std::error_code ec;
    fs::remove_all(s->dir, ec);
    for (int i = 0; i < shard_count; ++i) {
      auto log = ShardLog::Open(s->dir + "/shard-" + std::to_string(i), options_.segment_bytes);
      if (!log.ok()) return log.status();
      s->shards.push_back(std::move(*log));
    }
    s->rate.assign(static_cast<size_t>(shard_count), {0, 0});
    {
      std::lock_guard<std::mutex> l(s->mu);
      if (Status st = s->SaveLocked(); !st.ok()) return st;
    }
    total_shards_ += shard_count;
    streams_[name] = std::move(s);
    return Status::OK();
  }

  Status DeleteStream(const std::string& name) override {
    std::shared_ptr<Stream> s;
    {
      std::unique_lock<std::shared_mutex> lock(mu_);
      auto it = streams_.find(name);
      if (it == streams_.end()) return NotFound(name);
      s = it->second;
      streams_.erase(it);
      total_shards_ -= static_cast<int>(s->shards.size());
    }
    // Renamed first so a crash mid-removal cannot leave a half stream that loads again.
    std::string doomed = options_.root + "/.deleted-" + name + "-" + std::to_string(s->created_ms);
    std::error_code ec;
    fs::rename(s->dir, doomed, ec);
    if (ec) return Status::IOError("delete " + s->dir + ": " + ec.message());
    fs::remove_all(doomed, ec);
    return Status::OK();
  }

  std::vector<std::string> ListStreams() const override {
    std::shared_lock<std::shared_mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& [n, s] : streams_) out.push_back(n);
    return out;
  }

  Result<StreamInfo> Describe(const std::string& name) const override {
    auto s = Find(name);
    if (!s) return NotFound(name);
    StreamInfo info;
    info.name = s->name;
    info.on_demand = s->on_demand;
    info.created_ms = s->created_ms;
    {
      std::lock_guard<std::mutex> l(s->mu);
      info.retention_hours = s->retention_hours;
      info.tags = s->tags;
    }
    const int n = static_cast<int>(s->shards.size());
    for (int i = 0; i < n; ++i) {
      ShardInfo sh;
      sh.shard_id = ShardIdOf(i);
      sh.starting_hash_key = internal::FormatHashKey(internal::ShardStart(i, n));
      sh.ending_hash_key = internal::FormatHashKey(internal::ShardEnd(i, n));
      sh.starting_sequence_number = internal::FormatSequence(0);
      info.shards.push_back(std::move(sh));
    }
    return info;
  }

  Result<PutResult> Put(const std::string& name, const PutEntry& entry) override {
    auto r = PutBatch(name, {entry});
    if (!r.ok()) return r.status();
    if (!(*r)[0].status.ok()) return (*r)[0].status;
    return std::move((*r)[0]);
  }

  Result<std::vector<PutResult>> PutBatch(const std::string& name,
                                          const std::vector<PutEntry>& entries) override {
    std::vector<PutEntryRef> refs;
    refs.reserve(entries.size());
    for (const PutEntry& e : entries) refs.push_back({e.partition_key, e.explicit_hash_key, e.data});
    auto placed = PutRefs(name, refs);
    if (!placed.ok()) return placed.status();
    std::vector<PutResult> results(entries.size());
    for (size_t i = 0; i < results.size(); ++i) {
      const PutPlacement& p = (*placed)[i];
      results[i].shard_id = ShardIdOf(p.shard);
      results[i].status = p.status;
      if (p.status.ok()) results[i].sequence_number = internal::FormatSequence(p.ordinal);
    }
    return results;
  }

  Result<std::vector<PutPlacement>> PutRefs(const std::string& name, std::span<const PutEntryRef> entries) override {
    auto s = Find(name);
    if (!s) return NotFound(name);
    const int n = static_cast<int>(s->shards.size());
    std::vector<PutPlacement> results(entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      const PutEntryRef& e = entries[i];
      if (e.partition_key.empty() || e.partition_key.size() > 256) {
        return Status::InvalidArgument("a partition key must have 1 to 256 characters");
      }
      if (e.data.size() + e.partition_key.size() > kMaxRecordBytes) {
        return Status::InvalidArgument("a record's data and partition key exceed 1 MiB");
      }
      internal::HashKey key;
      if (!e.explicit_hash_key.empty()) {
        auto k = internal::ParseHashKey(e.explicit_hash_key);
        if (!k) {
          return Status::InvalidArgument("ExplicitHashKey " + std::string(e.explicit_hash_key) +
                                         " is not a decimal number in [0, 2^128)");
        }
        key = *k;
      } else {
        key = internal::HashKeyOf(e.partition_key);
      }
      results[i].shard = internal::ShardOf(key, n);
    }
    const int64_t now = ToEpochMs(clock_->Now());
    // Each shard's records in request order, in one array (no allocation per shard or record).
    std::vector<size_t> count(static_cast<size_t>(n) + 1, 0);
    std::vector<internal::LogEntryRef> ordered(entries.size());
    std::vector<size_t> member(entries.size());
    std::vector<bool> accepted(entries.size(), true);
    {
      std::lock_guard<std::mutex> l(s->mu);
      for (size_t i = 0; i < entries.size(); ++i) {
        auto sh = static_cast<size_t>(results[i].shard);
        if (options_.shard_records_per_second > 0) {
          auto& [second, taken] = s->rate[sh];
          if (second != now / 1000) second = now / 1000, taken = 0;
          if (taken >= options_.shard_records_per_second) {
            results[i].status = Status::ResourceExhausted("Rate exceeded for shard " + ShardIdOf(results[i].shard) +
                                                          " in stream " + name);
            accepted[i] = false;
            continue;
          }
          ++taken;
        }
        ++count[sh + 1];
      }
    }
    for (size_t sh = 1; sh < count.size(); ++sh) count[sh] += count[sh - 1];
    std::vector<size_t> fill(count.begin(), count.end() - 1);
    for (size_t i = 0; i < entries.size(); ++i) {
      if (!accepted[i]) continue;
      size_t at = fill[static_cast<size_t>(results[i].shard)]++;
      ordered[at] = {entries[i].partition_key, entries[i].data, now};
      member[at] = i;
    }
    std::vector<internal::ShardLog*> logs;
    std::vector<std::span<const internal::LogEntryRef>> groups;
    std::vector<size_t> shard_of_group;
    for (size_t sh = 0; sh + 1 < count.size(); ++sh) {
      if (count[sh + 1] == count[sh]) continue;
      logs.push_back(s->shards[sh].get());
      groups.emplace_back(ordered.data() + count[sh], count[sh + 1] - count[sh]);
      shard_of_group.push_back(sh);
    }
    auto firsts = internal::ShardLog::AppendMany(logs, groups);
    for (size_t g = 0; g < groups.size(); ++g) {
      const size_t base = count[shard_of_group[g]];
      for (size_t k = 0; k < groups[g].size(); ++k) {
        PutPlacement& r = results[member[base + k]];
        if (!firsts[g].ok()) {
          r.status = firsts[g].status();
        } else {
          r.ordinal = *firsts[g] + k;
        }
      }
    }
    return results;
  }

  Result<std::string> GetShardIterator(const std::string& name, const std::string& shard_id,
                                       IteratorType type, const std::string& sequence_number,
                                       int64_t timestamp_ms) override {
    auto s = Find(name);
    if (!s) return NotFound(name);
    auto shard = ParseShardId(shard_id);
    if (!shard || *shard >= static_cast<int>(s->shards.size())) {
      return Status::NotFound("Shard " + shard_id + " in stream " + name + " does not exist");
    }
    const ShardLog& log = *s->shards[static_cast<size_t>(*shard)];
    uint64_t ordinal = 0;
    switch (type) {
      case IteratorType::kTrimHorizon: ordinal = log.first_ordinal(); break;
      case IteratorType::kLatest: ordinal = log.end_ordinal(); break;
      case IteratorType::kAtTimestamp: ordinal = log.FindByTime(timestamp_ms); break;
      case IteratorType::kAtSequenceNumber:
      case IteratorType::kAfterSequenceNumber: {
        auto o = internal::ParseSequence(sequence_number);
        if (!o || *o >= log.end_ordinal()) {
          return Status::InvalidArgument("StartingSequenceNumber " + sequence_number +
                                         " used in GetShardIterator on shard " + shard_id +
                                         " in stream " + name + " is invalid");
        }
        ordinal = *o + (type == IteratorType::kAfterSequenceNumber ? 1 : 0);
        break;
      }
    }
    internal::IteratorState st{name, s->created_ms, *shard, ordinal, ToEpochMs(clock_->Now())};
    return internal::EncodeIterator(st, key_);
  }

  Result<GetRecordsResult> GetRecords(const std::string& iterator, int limit) override {
    auto st = internal::DecodeIterator(iterator, key_);
    if (!st) return Status::InvalidArgument("Invalid ShardIterator");
    const int64_t now = ToEpochMs(clock_->Now());
    if (now - st->issued_ms > kIteratorLifetimeMs || now < st->issued_ms - kIteratorLifetimeMs) {
      return Status::Cancelled("Iterator expired. The iterator was created at time " +
                               std::to_string(st->issued_ms) + " while right now it is " + std::to_string(now) +
                               " which is further in the future than the tolerated delay of 300000 milliseconds.");
    }
    auto s = Find(st->stream);
    if (!s || s->created_ms != st->stream_epoch_ms ||
        st->shard >= static_cast<int>(s->shards.size())) {
      return Status::NotFound("Shard " + ShardIdOf(st->shard) + " in stream " + st->stream + " does not exist");
    }
    if (limit <= 0 || limit > kMaxGetRecordsLimit) limit = kMaxGetRecordsLimit;
    const ShardLog& log = *s->shards[static_cast<size_t>(st->shard)];
    auto recs = log.Read(st->ordinal, static_cast<size_t>(limit), kMaxGetRecordsBytes);
    if (!recs.ok()) return recs.status();
    GetRecordsResult out;
    uint64_t next = std::max(st->ordinal, log.first_ordinal());
    for (auto& r : *recs) {
      next = r.ordinal + 1;
      out.records.push_back({internal::FormatSequence(r.ordinal), std::move(r.partition_key),
                             std::move(r.data), r.arrival_ms, r.ordinal});
    }
    const uint64_t end = log.end_ordinal();
    if (next < end) out.millis_behind_latest = std::max<int64_t>(0, now - log.ArrivalOf(next));
    internal::IteratorState ns{st->stream, st->stream_epoch_ms, st->shard, next, now};
    out.next_iterator = internal::EncodeIterator(ns, key_);
    return out;
  }

  Result<std::vector<StreamRecord>> ReadShard(const std::string& name, int shard, uint64_t position,
                                              size_t max_records) const override {
    auto s = Find(name);
    if (!s) return NotFound(name);
    if (shard < 0 || shard >= static_cast<int>(s->shards.size())) return Status::NotFound("no shard " + ShardIdOf(shard));
    auto recs = s->shards[static_cast<size_t>(shard)]->Read(position, max_records, kMaxGetRecordsBytes);
    if (!recs.ok()) return recs.status();
    std::vector<StreamRecord> out;
    for (auto& r : *recs) {
      if (r.ordinal < position) continue;
      out.push_back({internal::FormatSequence(r.ordinal), std::move(r.partition_key), std::move(r.data), r.arrival_ms, r.ordinal});
    }
    return out;
  }

  Status VisitShard(const std::string& name, int shard, uint64_t position, size_t max_records,
                    const RecordVisitor& visit) const override {
    auto s = Find(name);
    if (!s) return NotFound(name);
    if (shard < 0 || shard >= static_cast<int>(s->shards.size())) return Status::NotFound("no shard " + ShardIdOf(shard));
    return s->shards[static_cast<size_t>(shard)]->Visit(
        position, max_records, kMaxGetRecordsBytes,
        [&](uint64_t ordinal, int64_t arrival_ms, std::string_view, std::string_view data) {
          if (ordinal >= position) visit(ordinal, arrival_ms, data);
        });
  }

  Result<std::vector<uint64_t>> EndPositions(const std::string& name) const override {
    auto s = Find(name);
    if (!s) return NotFound(name);
    std::vector<uint64_t> out;
    for (const auto& log : s->shards) out.push_back(log->end_ordinal());
    return out;
  }

  Result<uint64_t> BytesFrom(const std::string& name, const std::vector<uint64_t>& positions) const override {
    auto s = Find(name);
    if (!s) return NotFound(name);
    uint64_t bytes = 0;
    for (size_t i = 0; i < s->shards.size(); ++i) bytes += s->shards[i]->BytesFrom(i < positions.size() ? positions[i] : 0);
    return bytes;
  }

  Result<std::vector<uint64_t>> PositionsAt(const std::string& name, int64_t timestamp_ms) const override {
    auto s = Find(name);
    if (!s) return NotFound(name);
    std::vector<uint64_t> out;
    for (const auto& log : s->shards) out.push_back(log->FindByTime(timestamp_ms));
    return out;
  }

  std::string IteratorStream(const std::string& iterator) const override {
    auto st = internal::DecodeIterator(iterator, key_);
    return st ? st->stream : std::string();
  }

  Status SetRetention(const std::string& name, int hours, bool increase) override {
    auto s = Find(name);
    if (!s) return NotFound(name);
    if (hours < kMinRetentionHours || hours > kMaxRetentionHours) {
      return Status::InvalidArgument("Minimum allowed retention period is 24 hours, maximum is 8760 hours. "
                                     "Requested retention period (" + std::to_string(hours) + " hours) is out of range.");
    }
    std::lock_guard<std::mutex> l(s->mu);
    if (increase && hours < s->retention_hours) {
      return Status::InvalidArgument("Requested retention period (" + std::to_string(hours) +
                                     " hours) for stream " + name + " can not be shorter than existing retention period (" +
                                     std::to_string(s->retention_hours) + " hours). Use DecreaseRetentionPeriod API.");
    }
    if (!increase && hours > s->retention_hours) {
      return Status::InvalidArgument("Requested retention period (" + std::to_string(hours) +
                                     " hours) for stream " + name + " can not be longer than existing retention period (" +
                                     std::to_string(s->retention_hours) + " hours). Use IncreaseRetentionPeriod API.");
    }
    s->retention_hours = hours;
    return s->SaveLocked();
  }

  Status AddTags(const std::string& name, const std::map<std::string, std::string>& tags) override {
    auto s = Find(name);
    if (!s) return NotFound(name);
    std::lock_guard<std::mutex> l(s->mu);
    auto merged = s->tags;
    for (const auto& [k, v] : tags) merged[k] = v;
    if (merged.size() > 50) return Status::Aborted("a stream holds at most 50 tags");
    s->tags = std::move(merged);
    return s->SaveLocked();
  }

  Status RemoveTags(const std::string& name, const std::vector<std::string>& keys) override {
    auto s = Find(name);
    if (!s) return NotFound(name);
    std::lock_guard<std::mutex> l(s->mu);
    for (const auto& k : keys) s->tags.erase(k);
    return s->SaveLocked();
  }

  Status EnforceRetention() override {
    std::vector<std::shared_ptr<Stream>> all;
    {
      std::shared_lock<std::shared_mutex> lock(mu_);
      for (const auto& [n, s] : streams_) all.push_back(s);
    }
    const int64_t now = ToEpochMs(clock_->Now());
    for (const auto& s : all) {
      int hours;
      {
        std::lock_guard<std::mutex> l(s->mu);
        hours = s->retention_hours;
      }
      for (auto& log : s->shards) {
        if (Status st = log->TrimBefore(now - int64_t{hours} * 3600 * 1000); !st.ok()) return st;
      }
    }
    return Status::OK();
  }

 private:
  static Status NotFound(const std::string& name) {
    return Status::NotFound("Stream " + name + " under account 000000000000 not found.");
  }

  std::shared_ptr<Stream> Find(const std::string& name) const {
    std::shared_lock<std::shared_mutex> lock(mu_);
    auto it = streams_.find(name);
    return it == streams_.end() ? nullptr : it->second;
  }

  Status LoadKey() {
    std::string path = options_.root + "/.iterator.key";
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      key_ = ss.str();
      if (key_.size() == 32) return Status::OK();
    }
    key_.assign(32, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(key_.data()), 32) != 1) {
      return Status::Internal("no randomness for the iterator key");
    }
    return WriteFileAtomic(path, key_);
  }

  StoreOptions options_;
  Clock* clock_;
  std::string key_;
  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<Stream>> streams_;
  int total_shards_ = 0;
  int lock_fd_ = -1;
};

}  // namespace

Result<std::unique_ptr<StreamStore>> StreamStore::Open(const StoreOptions& options) {
  auto store = std::make_unique<StoreImpl>(options);
  if (Status st = store->Load(); !st.ok()) return st;
  return std::unique_ptr<StreamStore>(std::move(store));
}

}  // namespace saleslake::stream
