#include "server/internal/served_lake.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace saleslake::server::internal {

bool IsLocalStateKey(std::string_view key) {
  return std::any_of(kLocalStatePrefixes.begin(), kLocalStatePrefixes.end(),
                     [key](std::string_view p) { return key.starts_with(p); });
}

namespace {

class ServedLake final : public io::ObjectStore {
 public:
  ServedLake(io::ObjectStore& lake, io::LocalStore& state) : lake_(lake), state_(state) {}

  Status Put(std::string_view key, std::string_view data) override { return For(key).Put(key, data); }
  Status PutIfAbsent(std::string_view key, std::string_view data) override {
    return For(key).PutIfAbsent(key, data);
  }
  Result<std::unique_ptr<io::OutputStream>> OpenWrite(std::string_view key) override {
    return For(key).OpenWrite(key);
  }
  Result<std::unique_ptr<io::OutputStream>> OpenWriteUnsynced(std::string_view key) override {
    return For(key).OpenWriteUnsynced(key);
  }
  Status Sync(std::string_view key) override { return For(key).Sync(key); }
  Result<std::string> Get(std::string_view key) const override { return For(key).Get(key); }
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) const override {
    return For(key).GetRange(key, offset, length);
  }
  Result<std::unique_ptr<io::RandomAccessFile>> OpenRead(std::string_view key) const override {
    return For(key).OpenRead(key);
  }
  Result<std::unique_ptr<io::RandomAccessFile>> OpenReadTail(std::string_view key, uint64_t tail_bytes) const override {
    return For(key).OpenReadTail(key, tail_bytes);
  }
  Status Append(std::string_view key, std::string_view data) override { return For(key).Append(key, data); }
  Status Delete(std::string_view key) override { return For(key).Delete(key); }
  Result<bool> Exists(std::string_view key) const override { return For(key).Exists(key); }
  Result<io::ObjectInfo> Stat(std::string_view key) const override { return For(key).Stat(key); }
  std::string uri() const override { return lake_.uri(); }

  // The lake's keys under `prefix` that are not routed to the state directory (a stale copy of a
  // state key in the lake stays invisible), merged with the state directory's when a routed
  // prefix overlaps `prefix`.
  Result<std::vector<io::ObjectInfo>> List(std::string_view prefix) const override {
    if (IsLocalStateKey(prefix)) return state_.List(prefix);
    SL_ASSIGN_OR_RETURN(std::vector<io::ObjectInfo> out, lake_.List(prefix));
    std::erase_if(out, [](const io::ObjectInfo& o) { return IsLocalStateKey(o.key); });
    for (std::string_view p : kLocalStatePrefixes) {
      if (!p.starts_with(prefix)) continue;
      auto local = state_.List(p);
      if (!local.ok()) {
        if (local.status().code() == StatusCode::kNotFound) continue;
        return local.status();
      }
      for (io::ObjectInfo& o : *local) out.push_back(std::move(o));
    }
    std::sort(out.begin(), out.end(), [](const io::ObjectInfo& a, const io::ObjectInfo& b) { return a.key < b.key; });
    out.erase(std::unique(out.begin(), out.end(),
                          [](const io::ObjectInfo& a, const io::ObjectInfo& b) { return a.key == b.key; }),
              out.end());
    return out;
  }

  Status RemoveTemporaries(std::string_view prefix, int64_t min_age_s) override {
    SL_RETURN_IF_ERROR(lake_.RemoveTemporaries(prefix, min_age_s));
    return state_.RemoveTemporaries(prefix, min_age_s);
  }

 private:
  io::ObjectStore& For(std::string_view key) const {
    return IsLocalStateKey(key) ? static_cast<io::ObjectStore&>(state_) : lake_;
  }

  io::ObjectStore& lake_;
  io::LocalStore& state_;
};

}  // namespace

std::unique_ptr<io::ObjectStore> MakeServedLake(io::ObjectStore& lake, io::LocalStore& state) {
  return std::make_unique<ServedLake>(lake, state);
}

}  // namespace saleslake::server::internal
