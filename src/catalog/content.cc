// Content identity of raw objects: the records under _system/content/ and the raw-object writer.
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <random>

#include "catalog/crawler.h"
#include "common/encoding.h"
#include "common/logging.h"
#include "common/types.h"

namespace saleslake::catalog {

namespace {

constexpr std::string_view kContentPrefix = "_system/content/";
constexpr std::string_view kEventsKey = "_system/events.jsonl";

// Incremental SHA-256 through OpenSSL's EVP interface (which picks SHA-NI where present).
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data) { EVP_DigestUpdate(ctx_, data.data(), data.size()); }
  std::string HexDigest() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, digest, &len);
    return HexEncode(std::span<const uint8_t>(digest, len));
  }

 private:
  EVP_MD_CTX* ctx_;
};

std::string RecordKey(std::string_view key) { return std::string(kContentPrefix) + std::string(key) + ".json"; }

bool IsHexSha256(std::string_view s) { return IsLowerHex(s, 64); }

Result<std::string> HashObject(const io::ObjectStore& store, std::string_view key) {
  SL_ASSIGN_OR_RETURN(auto file, store.OpenRead(key));
  Sha256 sha;
  if (const uint8_t* mapped = file->mapped_data()) {
    constexpr uint64_t kStep = uint64_t{64} << 20;
    for (uint64_t off = 0; off < file->size(); off += kStep) {
      uint64_t n = std::min(kStep, file->size() - off);
      sha.Update(std::string_view(reinterpret_cast<const char*>(mapped) + off, n));
      file->DoneWith(off, n);
    }
  } else {
    std::string buf(size_t{1} << 20, '\0');
    for (uint64_t off = 0; off < file->size();) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), file->size() - off));
      SL_RETURN_IF_ERROR(file->ReadAt(off, std::span<uint8_t>(reinterpret_cast<uint8_t*>(buf.data()), n)));
      sha.Update(std::string_view(buf.data(), n));
      off += n;
    }
  }
  return sha.HexDigest();
}

// A new event id: the UTC time (so ids sort roughly by time) and 64 random bits.
std::string NewEventId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char rnd[17];
  std::snprintf(rnd, sizeof rnd, "%016llx", static_cast<unsigned long long>(rng()));
  return UtcNow("%Y%m%dT%H%M%SZ") + "-" + rnd;
}

// The journal line of one event (with its '\n'); `event_id` already chosen.
Result<std::string> EventLine(std::string_view event_id, std::string_view type, std::string_view fields_json,
                              const std::string& time) {
  std::string line;
  line.reserve(48 + event_id.size() + type.size() + time.size() + fields_json.size());
  line += "{\"id\":";
  line += JsonQuote(event_id);
  line += ",\"type\":";
  line += JsonQuote(type);
  line += ",\"time\":";
  line += JsonQuote(time);
  if (!fields_json.empty() && fields_json != "{}") {
    if (fields_json.front() != '{' || fields_json.back() != '}')
      return Status::InvalidArgument("event fields must be a JSON object");
    line += ",";
    line += fields_json.substr(1);
  } else {
    line += "}";
  }
  line += "\n";
  return line;
}

// A store without appends (S3) gets one object per event in the inbox; the events engine
// moves them into a journal it can append to, or acts on them where they lie (events.h).
Status PutEventObject(io::ObjectStore& store, std::string_view event_id, std::string_view line) {
  return store.Put(std::string(kEventInboxPrefix) + std::string(event_id) + ".json", line);
}

}  // namespace

Result<std::string> JournalEvent(io::ObjectStore& store, std::string_view type,
                                 std::string_view fields_json, std::string_view id) {
  std::string event_id = id.empty() ? NewEventId() : std::string(id);
  SL_ASSIGN_OR_RETURN(std::string line, EventLine(event_id, type, fields_json, UtcNow()));
  Status s = store.Append(kEventsKey, line);
  if (s.code() == StatusCode::kNotImplemented) s = PutEventObject(store, event_id, line);
  SL_RETURN_IF_ERROR(s);
  return event_id;
}

Result<std::vector<std::string>> JournalEvents(io::ObjectStore& store, const std::vector<JournalEntry>& events) {
  std::vector<std::string> ids;
  ids.reserve(events.size());
  std::vector<size_t> ends;  // where each event's line ends in `all`
  ends.reserve(events.size());
  std::string all;
  std::string now = UtcNow();
  // Every line is made (and checked) before a byte is written: a bad entry journals nothing.
  for (const auto& e : events) {
    ids.push_back(e.id.empty() ? NewEventId() : e.id);
    SL_ASSIGN_OR_RETURN(std::string line, EventLine(ids.back(), e.type, e.fields_json, now));
    all += line;
    ends.push_back(all.size());
  }
  if (events.empty()) return ids;
  Status s = store.Append(kEventsKey, all);
  if (s.code() == StatusCode::kNotImplemented) {
    for (size_t i = 0, begin = 0; i < ids.size(); begin = ends[i++])
      SL_RETURN_IF_ERROR(PutEventObject(store, ids[i], std::string_view(all).substr(begin, ends[i] - begin)));
    return ids;
  }
  SL_RETURN_IF_ERROR(s);
  return ids;
}

namespace {

Status JournalCreated(io::ObjectStore& store, const io::ObjectInfo& info, std::string_view sha256_hex) {
  std::string fields = "{\"key\":" + JsonQuote(info.key) + ",\"size\":" + std::to_string(info.size) +
                       ",\"sha256\":" + JsonQuote(sha256_hex) + "}";
  return JournalEvent(store, "object.created", fields).status();
}

}  // namespace

Result<std::string> ContentHash(io::ObjectStore& store, const io::ObjectInfo& info) {
  auto text = store.Get(RecordKey(info.key));
  if (text.ok()) {
    nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_object() && j.value("size", uint64_t{0}) == info.size &&
        j.value("mtime_ns", int64_t{-1}) == info.mtime_ns) {
      std::string sha = j.value("sha256", std::string());
      if (IsHexSha256(sha)) return sha;
    }
  }
  SL_ASSIGN_OR_RETURN(std::string sha, HashObject(store, info.key));
  // The object may have changed while it was read: only a record of what was really hashed is
  // kept (the caller still gets the hash of the bytes it asked about).
  auto after = store.Stat(info.key);
  if (after.ok() && after->size == info.size && after->mtime_ns == info.mtime_ns) {
    Status s = RecordContentHash(store, *after, sha);
    if (!s.ok()) Log(LogLevel::kWarn, "could not record a content hash", {{"key", info.key}, {"error", s.message()}});
  } else {
    return Status::Aborted(info.key + " changed while it was being hashed; try again");
  }
  return sha;
}

Status RecordContentHash(io::ObjectStore& store, const io::ObjectInfo& info, std::string_view sha256_hex) {
  if (!IsHexSha256(sha256_hex))
    return Status::InvalidArgument("not a hex SHA-256: '" + std::string(sha256_hex) + "'");
  nlohmann::json j{{"sha256", sha256_hex}, {"size", info.size}, {"mtime_ns", info.mtime_ns}};
  return store.Put(RecordKey(info.key), j.dump());
}

struct RawObjectWriter::Impl {
  io::ObjectStore* store;
  std::string key;
  std::unique_ptr<io::OutputStream> out;
  Sha256 sha;
};

RawObjectWriter::RawObjectWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RawObjectWriter::~RawObjectWriter() = default;

Result<std::unique_ptr<RawObjectWriter>> RawObjectWriter::Open(io::ObjectStore& store, std::string_view key) {
  SL_RETURN_IF_ERROR(io::ValidateKey(key));
  auto impl = std::make_unique<Impl>();
  impl->store = &store;
  impl->key = std::string(key);
  SL_ASSIGN_OR_RETURN(impl->out, store.OpenWrite(key));
  return std::unique_ptr<RawObjectWriter>(new RawObjectWriter(std::move(impl)));
}

Status RawObjectWriter::Append(std::string_view data) {
  impl_->sha.Update(data);
  return impl_->out->Append(data);
}

uint64_t RawObjectWriter::bytes_written() const { return impl_->out->bytes_written(); }

Status RawObjectWriter::Commit() {
  SL_RETURN_IF_ERROR(impl_->out->Commit());
  sha256_ = impl_->sha.HexDigest();
  return RecordRawObject(*impl_->store, impl_->key, sha256_);
}

Status RecordRawObject(io::ObjectStore& store, std::string_view key, std::string_view sha256_hex) {
  SL_ASSIGN_OR_RETURN(io::ObjectInfo info, store.Stat(key));
  SL_RETURN_IF_ERROR(RecordContentHash(store, info, sha256_hex));
  return JournalCreated(store, info, sha256_hex);
}

}  // namespace saleslake::catalog
