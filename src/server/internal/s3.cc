#include "server/internal/s3.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>

#include <nlohmann/json.hpp>

#include "catalog/crawler.h"
#include "common/logging.h"
#include "common/types.h"
#include "server/internal/checksum.h"
#include "server/internal/util.h"

namespace saleslake::server::internal {

namespace {

constexpr std::string_view kSystem = "_system/";
constexpr std::string_view kMetaPrefix = "_system/s3/meta/";
// Objects from this size on keep their ETag (the MD5 of the content) in a sidecar even when
// it could be recomputed: hashing 1 MiB costs ~2 ms of CPU, a sidecar one small write.
constexpr uint64_t kSidecarMinBytes = 1 << 20;
constexpr std::string_view kUploadsPrefix = "_system/s3/uploads/";
// GETs of a lake that is not local read ranges up to this size on the worker (see GetObject).
constexpr uint64_t kReadOnWorkerBytes = 16ull << 20;
constexpr std::string_view kPolicyKey = "_system/s3/bucket-policy.json";
constexpr const char* kXmlns = "http://s3.amazonaws.com/doc/2006-03-01/";
constexpr uint64_t kMinPartSize = 5ull << 20;
// In an upload's folder: the stripe file, its width, and per part "part-NNNNN" (a part in a
// file of its own) and its record "part-NNNNN.md5": "<etag>" for a part in its own file,
// "<etag> <size>" for a part in the stripe at (n - 1) x width.
constexpr char kStripe[] = "stripe";
constexpr char kStripeWidth[] = "stripe.width";
std::string PartName(int n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "part-%05d", n);
  return buf;
}
constexpr const char* kEmptyMd5 = "d41d8cd98f00b204e9800998ecf8427e";

bool Hidden(std::string_view key) { return key.substr(0, kSystem.size()) == kSystem; }

ApiError NoSuchKey(const std::string& key) {
  ApiError e = MakeError(404, "NoSuchKey", "The specified key does not exist.");
  e.resource = key;
  return e;
}
ApiError NoSuchUpload() {
  return MakeError(404, "NoSuchUpload",
                   "The specified upload does not exist. The upload ID may be invalid, or the "
                   "upload may have been aborted or completed.");
}
ApiError Internal(const Status& s) { return MakeError(500, "InternalError", s.message()); }

HttpResponse Xml(std::string body, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + body;
  r.Set("Content-Type", "application/xml");
  return r;
}

std::string Quoted(const std::string& etag) { return "\"" + etag + "\""; }

bool ValidUploadId(std::string_view id) {
  if (id.size() != 32) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// "bytes=a-b" | "bytes=a-" | "bytes=-n" against `size`: nullopt = ignore the header (malformed,
// as RFC 9110 says), {-1,-1} = unsatisfiable.
std::optional<std::pair<int64_t, int64_t>> ParseRange(std::string_view h, uint64_t size) {
  if (h.substr(0, 6) != "bytes=") return std::nullopt;
  h.remove_prefix(6);
  if (h.find(',') != std::string_view::npos) return std::nullopt;  // S3 serves no multi-range
  size_t dash = h.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto num = [](std::string_view s, int64_t* v) {
    if (s.empty() || s.size() > 18) return false;
    *v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      *v = *v * 10 + (c - '0');
    }
    return true;
  };
  int64_t a = 0, b = 0;
  int64_t n = static_cast<int64_t>(size);
  if (dash == 0) {
    if (!num(h.substr(1), &b)) return std::nullopt;
    if (b == 0 || n == 0) return std::make_pair(int64_t{-1}, int64_t{-1});
    return std::make_pair(std::max<int64_t>(0, n - b), n - 1);
  }
  if (!num(h.substr(0, dash), &a)) return std::nullopt;
  if (dash + 1 == h.size()) b = INT64_MAX;
  else if (!num(h.substr(dash + 1), &b)) return std::nullopt;
  if (b < a) return std::nullopt;
  if (a >= n) return std::make_pair(int64_t{-1}, int64_t{-1});
  return std::make_pair(a, std::min(b, n - 1));
}

// Does an If-Match / If-None-Match list name this ETag?
bool EtagListMatches(std::string_view list, const std::string& etag) {
  size_t pos = 0;
  while (pos < list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view item = list.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.substr(0, 2) == "W/") item.remove_prefix(2);
    if (item == "*") return true;
    if (item.size() >= 2 && item.front() == '"' && item.back() == '"') item = item.substr(1, item.size() - 2);
    if (item == etag) return true;
    pos = comma + 1;
  }
  return false;
}

void UserMetaFromRequest(const HttpRequest& request, std::vector<std::pair<std::string, std::string>>* out) {
  for (const auto& [name, value] : request.headers) {
    if (name.rfind("x-amz-meta-", 0) == 0) out->emplace_back(name.substr(11), value);
  }
}

std::string OwnerXml() { return "<Owner><ID>saleslake</ID><DisplayName>saleslake</DisplayName></Owner>"; }

}  // namespace

S3Service::S3Service(io::ObjectStore* lake, io::LocalStore* state, std::string bucket)
    : lake_(lake), state_(state), local_lake_(dynamic_cast<io::LocalStore*>(lake)), bucket_(std::move(bucket)) {}

Status S3Service::Recover() {
  // Leftovers of writes (objects, sidecars, parts) killed long ago. Recent ones may belong to a
  // CLI writer running now; they are never listed either way.
  return lake_->RemoveTemporaries("", 3600);
}

std::string S3Service::UploadDir(const std::string& upload_id) const {
  return std::string(kUploadsPrefix) + upload_id + "/";
}

std::shared_mutex& S3Service::UploadMutex(const std::string& upload_id) {
  return upload_mu_[std::hash<std::string>()(upload_id) % upload_mu_.size()];
}

std::optional<uint64_t> S3Service::ClaimStripe(const std::string& id, int n, uint64_t size) {
  // The stripe width is the size of the first part of at least the minimum part size; a smaller
  // first arrival can only be the last part (or the only one) and fits any width.
  std::string dir = UploadDir(id);
  auto width_of = [&]() -> uint64_t {
    auto text = lake_->Get(dir + kStripeWidth);
    return text.ok() ? std::strtoull(text->c_str(), nullptr, 10) : 0;
  };
  uint64_t width = width_of();
  if (width == 0 && size >= kMinPartSize) {
    (void)lake_->PutIfAbsent(dir + kStripeWidth, std::to_string(size));  // the first one wins
    width = width_of();
  }
  if (width == 0 || size == 0 || size > width) return std::nullopt;
  std::lock_guard<std::mutex> lock(stripe_mu_);
  // A region is written once: a part number sent again (or twice at once) gets a file of its
  // own, so a record never names bytes that a later, unfinished write is changing.
  if (lake_->Exists(dir + PartName(n) + ".md5").ValueOr(true)) return std::nullopt;
  if (!stripe_claims_.emplace(id, n).second) return std::nullopt;
  return static_cast<uint64_t>(n - 1) * width;
}

void S3Service::ReleaseStripe(const std::string& id, int n) {
  std::lock_guard<std::mutex> lock(stripe_mu_);
  stripe_claims_.erase({id, n});
}

std::optional<ApiError> S3Service::CheckWritable(const std::string& key) const {
  for (std::string_view managed : {"catalog/", "processed_data/", "_system/"}) {
    if (key.rfind(managed, 0) == 0 || key + "/" == managed) {
      return MakeError(403, "AccessDenied",
                       std::string(managed) + " is managed by saleslake and read-only through S3");
    }
  }
  return std::nullopt;
}

Result<S3Service::Meta> S3Service::MetaOf(const io::ObjectInfo& info) {
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = etag_cache_.find(info.key);
    if (it != etag_cache_.end() && it->second.size == info.size && it->second.mtime_ns == info.mtime_ns) {
      return it->second;
    }
  }
  Meta meta;
  bool have = false;
  auto side = lake_->Get(std::string(kMetaPrefix) + info.key + ".json");
  if (side.ok()) {
    auto j = nlohmann::json::parse(*side, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded() && j.is_object() && j.value("size", uint64_t{0}) == info.size &&
        j.value("mtime_ns", int64_t{0}) == info.mtime_ns) {
      meta.etag = j.value("etag", "");
      meta.content_type = j.value("content_type", "");
      if (j.contains("meta") && j["meta"].is_object()) {
        for (auto& [k, v] : j["meta"].items()) {
          if (v.is_string()) meta.user.emplace_back(k, v.get<std::string>());
        }
      }
      have = !meta.etag.empty();
    }
  }
  if (!have && local_lake_ == nullptr && !info.etag.empty()) {
    // The lake is itself in S3: its server's ETag is the object's (no need to read it).
    meta.etag = info.etag;
    if (meta.etag.size() >= 2 && meta.etag.front() == '"' && meta.etag.back() == '"') meta.etag = meta.etag.substr(1, meta.etag.size() - 2);
    have = true;
  }
  if (!have) {
    // Written outside S3 (the CLI, a job): the MD5 of the content, computed once per version.
    SL_ASSIGN_OR_RETURN(auto file, lake_->OpenRead(info.key));
    Digest md5(Digest::kMd5);
    if (const uint8_t* data = file->mapped_data()) {
      md5.Update(std::string_view(reinterpret_cast<const char*>(data), file->size()));
    } else {
      std::string buf(1 << 20, '\0');
      for (uint64_t off = 0; off < file->size();) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), file->size() - off));
        SL_RETURN_IF_ERROR(file->ReadAt(off, std::span<uint8_t>(reinterpret_cast<uint8_t*>(buf.data()), n)));
        md5.Update(std::string_view(buf.data(), n));
        off += n;
      }
    }
    meta.etag = HexEncode(md5.Finish());
  }
  meta.size = info.size;
  meta.mtime_ns = info.mtime_ns;
  if (!have && info.size >= kSidecarMinBytes) {
    // Kept in a sidecar (best effort), so that a restarted server does not read the object
    // again for it: the first query after `serve` started hashed every Parquet file it touched
    // (~0.6 s of CPU for q1's 64 files of the 10M-row lake, 0.1 s the next time).
    (void)WriteMeta(info.key, meta);
  }
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (etag_cache_.size() > 100'000) etag_cache_.clear();  // a bound, not an LRU: rare
  etag_cache_[info.key] = meta;
  return meta;
}

Status S3Service::WriteMeta(const std::string& key, const Meta& meta) {
  nlohmann::json j;
  j["etag"] = meta.etag;
  j["content_type"] = meta.content_type;
  j["size"] = meta.size;
  j["mtime_ns"] = meta.mtime_ns;
  nlohmann::json user = nlohmann::json::object();
  for (const auto& [k, v] : meta.user) user[k] = v;
  j["meta"] = user;
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    etag_cache_[key] = meta;
  }
  // A small plain object (MD5 ETag, default type, no user metadata) needs no sidecar: everything
  // about it can be recomputed from the content. That saves a durable write (two fsyncs) per
  // small PUT; an older sidecar of the key no longer matches its size and mtime, so it is never
  // used. A large one keeps it (kSidecarMinBytes).
  bool plain = meta.etag.find('-') == std::string::npos && meta.user.empty() && meta.size < kSidecarMinBytes &&
               (meta.content_type.empty() || meta.content_type == "binary/octet-stream" ||
                meta.content_type == "application/octet-stream");
  if (plain) return Status::OK();
  return lake_->Put(std::string(kMetaPrefix) + key + ".json",
                    j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Result<S3Service::Meta> S3Service::StoreObject(const std::string& key, std::string_view data, Meta meta) {
  SL_RETURN_IF_ERROR(lake_->Put(key, data));
  SL_ASSIGN_OR_RETURN(io::ObjectInfo info, lake_->Stat(key));
  meta.size = info.size;
  meta.mtime_ns = info.mtime_ns;
  SL_RETURN_IF_ERROR(WriteMeta(key, meta));
  return meta;
}

// A raw object enters the lake as `saleslake upload` makes it enter: its content hash recorded
// and an object.created event journaled (catalog::RecordRawObject, issue #19).
Status S3Service::RecordRawObject(const std::string& key, const std::string& sha256_hex) {
  if (key.rfind("raw_data/", 0) != 0) return Status::OK();
  return catalog::RecordRawObject(*lake_, key, sha256_hex);
}

Outcome S3Service::Handle(const S3Request& s3, HttpRequest& request, const Principal& principal,
                          Gate& gate) {
  const std::string& op = s3.operation;
  if (op == "ListBuckets") return ListBuckets(request);
  if (s3.bucket != bucket_) {
    if (op == "CreateBucket") {
      return MakeError(403, "AccessDenied", "this server serves one bucket: " + bucket_);
    }
    ApiError e = MakeError(404, "NoSuchBucket", "The specified bucket does not exist");
    e.resource = s3.bucket;
    return e;
  }
  if (!s3.key.empty() && Hidden(s3.key)) {
    return MakeError(403, "AccessDenied", "_system/ is not accessible through S3");
  }
  if (op == "HeadBucket") {
    HttpResponse r;
    r.Set("x-amz-bucket-region", "us-east-1");
    r.head_length = 0;
    return r;
  }
  if (op == "GetBucketLocation") {
    return Xml(std::string("<LocationConstraint xmlns=\"") + kXmlns + "\"/>");
  }
  if (op == "GetBucketVersioning") {
    return Xml(std::string("<VersioningConfiguration xmlns=\"") + kXmlns + "\"/>");
  }
  if (op == "CreateBucket") {
    return MakeError(409, "BucketAlreadyOwnedByYou",
                     "Your previous request to create the named bucket succeeded and you already own it.");
  }
  if (op == "DeleteBucket") {
    return MakeError(409, "BucketNotEmpty", "The lake's bucket cannot be deleted.");
  }
  if (op == "ListObjects" || op == "ListObjectsV2") return ListObjects(s3, op == "ListObjectsV2");
  if (op == "GetObject" || op == "HeadObject") return GetObject(s3, request, op == "HeadObject");
  if (op == "PutObject") return PutObject(s3, request);
  if (op == "CopyObject") return CopyObject(s3, request, principal, gate);
  if (op == "DeleteObject") return DeleteObject(s3);
  if (op == "DeleteObjects") return DeleteObjects(s3, request, principal, gate);
  if (op == "CreateMultipartUpload") return CreateMultipart(s3, request);
  if (op == "UploadPart") return UploadPart(s3, request, principal, gate, false);
  if (op == "UploadPartCopy") return UploadPart(s3, request, principal, gate, true);
  if (op == "CompleteMultipartUpload") return CompleteMultipart(s3, request);
  if (op == "AbortMultipartUpload") return AbortMultipart(s3);
  if (op == "ListParts") return ListParts(s3);
  if (op == "ListMultipartUploads") return ListUploads(s3);
  if (op == "PutBucketPolicy" || op == "GetBucketPolicy" || op == "DeleteBucketPolicy") {
    return BucketPolicy(s3, request, gate);
  }
  return MakeError(501, "NotImplemented", op + " is not implemented");
}

Outcome S3Service::ListBuckets(const HttpRequest&) {
  struct stat st;
  int64_t created = stat(state_->root().c_str(), &st) == 0 ? static_cast<int64_t>(st.st_mtime) : 0;
  return Xml(std::string("<ListAllMyBucketsResult xmlns=\"") + kXmlns + "\">" + OwnerXml() +
             "<Buckets><Bucket><Name>" + XmlEscape(bucket_) + "</Name><CreationDate>" +
             IsoDate(created * 1000000000) + "</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>");
}

Outcome S3Service::ListObjects(const S3Request& s3, bool v2) {
  auto q = [&](const char* name) {
    auto it = s3.query.find(name);
    return it == s3.query.end() ? std::string() : it->second;
  };
  std::string prefix = q("prefix"), delimiter = q("delimiter");
  bool url = q("encoding-type") == "url";
  if (!q("encoding-type").empty() && !url) {
    return MakeError(400, "InvalidArgument", "Invalid Encoding Method specified in Request");
  }
  int max_keys = 1000;
  if (s3.query.count("max-keys")) {
    std::string mk = q("max-keys");
    if (mk.empty() || mk.size() > 9 || !std::all_of(mk.begin(), mk.end(), ::isdigit)) {
      return MakeError(400, "InvalidArgument", "Provided max-keys not an integer or within integer range");
    }
    max_keys = std::min(1000, std::stoi(mk));
  }
  std::string marker;
  std::string token = q("continuation-token");
  if (v2) {
    if (s3.query.count("continuation-token")) {
      auto t = Base64Decode(token);
      if (!t) return MakeError(400, "InvalidArgument", "The continuation token provided is incorrect");
      marker = *t;
    } else {
      marker = q("start-after");
    }
  } else {
    marker = q("marker");
  }
  // The prefix bounds what is walked; hidden prefixes are never shown.
  std::string walk = prefix;
  auto listed = lake_->List(walk);
  if (!listed.ok()) {
    if (listed.status().code() == StatusCode::kInvalidArgument) {
      return MakeError(400, "InvalidArgument", listed.status().message());
    }
    if (listed.status().code() != StatusCode::kNotFound) return Internal(listed.status());
  }
  std::vector<io::ObjectInfo> empty;
  const std::vector<io::ObjectInfo>& objects = listed.ok() ? *listed : empty;

  auto enc = [&](const std::string& s) { return XmlEscape(url ? PercentEncode(s, true) : s); };
  std::string contents, prefixes;
  int count = 0;
  bool truncated = false;
  std::string last, last_prefix;
  bool marker_is_prefix = !delimiter.empty() && !marker.empty() &&
                          marker.size() >= delimiter.size() &&
                          marker.compare(marker.size() - delimiter.size(), delimiter.size(), delimiter) == 0;
  for (const io::ObjectInfo& info : objects) {
    const std::string& key = info.key;
    if (Hidden(key) || key.compare(0, prefix.size(), prefix) != 0) continue;
    if (!marker.empty() && key <= marker) continue;
    if (marker_is_prefix && key.compare(0, marker.size(), marker) == 0) continue;
    if (!delimiter.empty()) {
      size_t d = key.find(delimiter, prefix.size());
      if (d != std::string::npos) {
        std::string cp = key.substr(0, d + delimiter.size());
        if (cp == last_prefix) continue;
        if (count >= max_keys) {
          truncated = true;
          break;
        }
        last_prefix = cp;
        last = cp;
        prefixes += "<CommonPrefixes><Prefix>" + enc(cp) + "</Prefix></CommonPrefixes>";
        ++count;
        continue;
      }
    }
    if (count >= max_keys) {
      truncated = true;
      break;
    }
    auto meta = MetaOf(info);
    if (!meta.ok()) {
      if (meta.status().code() == StatusCode::kNotFound) continue;  // deleted meanwhile
      return Internal(meta.status());
    }
    contents += "<Contents><Key>" + enc(key) + "</Key><LastModified>" + IsoDate(info.mtime_ns) +
                "</LastModified><ETag>&quot;" + meta->etag + "&quot;</ETag><Size>" +
                std::to_string(info.size) + "</Size>" + (v2 ? "" : OwnerXml()) +
                "<StorageClass>STANDARD</StorageClass></Contents>";
    last = key;
    ++count;
  }
  std::string x = std::string("<ListBucketResult xmlns=\"") + kXmlns + "\"><Name>" + XmlEscape(bucket_) +
                  "</Name><Prefix>" + enc(prefix) + "</Prefix>";
  if (v2) {
    x += "<KeyCount>" + std::to_string(count) + "</KeyCount>";
    if (s3.query.count("continuation-token")) x += "<ContinuationToken>" + XmlEscape(token) + "</ContinuationToken>";
    if (truncated) x += "<NextContinuationToken>" + XmlEscape(Base64Encode(last)) + "</NextContinuationToken>";
    if (s3.query.count("start-after")) x += "<StartAfter>" + enc(q("start-after")) + "</StartAfter>";
  } else {
    x += "<Marker>" + enc(marker) + "</Marker>";
    if (truncated && !delimiter.empty()) x += "<NextMarker>" + enc(last) + "</NextMarker>";
  }
  x += "<MaxKeys>" + std::to_string(max_keys) + "</MaxKeys>";
  if (!delimiter.empty()) x += "<Delimiter>" + enc(delimiter) + "</Delimiter>";
  if (url) x += "<EncodingType>url</EncodingType>";
  x += std::string("<IsTruncated>") + (truncated ? "true" : "false") + "</IsTruncated>";
  x += contents + prefixes + "</ListBucketResult>";
  return Xml(std::move(x));
}

Outcome S3Service::GetObject(const S3Request& s3, const HttpRequest& request, bool head) {
  if (s3.key.back() == '/') return NoSuchKey(s3.key);
  std::shared_ptr<io::RandomAccessFile> file;
  Result<io::ObjectInfo> info = Status::NotFound("");
  if (local_lake_ != nullptr) {
    // One open and one fstat: the size, time and ETag are those of the bytes sent.
    auto opened = local_lake_->OpenReadWithInfo(s3.key);
    if (!opened.ok()) {
      if (opened.status().code() == StatusCode::kNotFound) return NoSuchKey(s3.key);
      return Internal(opened.status());
    }
    file = std::move(opened->file);
    info = std::move(opened->info);
  } else {
    auto opened = lake_->OpenRead(s3.key);
    if (!opened.ok()) {
      if (opened.status().code() == StatusCode::kNotFound) return NoSuchKey(s3.key);
      auto folder = lake_->Stat(s3.key);  // a folder, or a file under a file: not an object
      if (!folder.ok()) return NoSuchKey(s3.key);
      return Internal(opened.status());
    }
    file = std::move(*opened);
    info = lake_->Stat(s3.key);
    if (!info.ok()) return NoSuchKey(s3.key);
    if (info->size != file->size()) {
      return MakeError(503, "SlowDown", "the object changed while it was opened; retry");
    }
  }
  auto meta = MetaOf(*info);
  if (!meta.ok()) return Internal(meta.status());
  int64_t mtime_s = info->mtime_ns / 1000000000;

  // Conditions, in RFC 9110's order.
  const std::string* if_match = request.Header("if-match");
  const std::string* if_none = request.Header("if-none-match");
  if (if_match && !EtagListMatches(*if_match, meta->etag)) {
    return MakeError(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
  }
  if (!if_match) {
    if (const std::string* ius = request.Header("if-unmodified-since")) {
      auto t = ParseHttpDate(*ius);
      if (t && mtime_s > *t) {
        return MakeError(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
      }
    }
  }
  HttpResponse r;
  r.Set("ETag", Quoted(meta->etag));
  r.Set("Last-Modified", HttpDate(mtime_s));
  bool not_modified = false;
  if (if_none) {
    not_modified = EtagListMatches(*if_none, meta->etag);
  } else if (const std::string* ims = request.Header("if-modified-since")) {
    auto t = ParseHttpDate(*ims);
    not_modified = t && mtime_s <= *t;
  }
  if (not_modified) {
    r.status = 304;
    return r;
  }
  auto q = [&](const char* name) -> const std::string* {
    auto it = s3.query.find(name);
    return it == s3.query.end() ? nullptr : &it->second;
  };
  const std::string* rct = q("response-content-type");
  r.Set("Content-Type", rct ? *rct : meta->content_type.empty() ? "binary/octet-stream" : meta->content_type);
  for (auto [param, header] : {std::pair{"response-content-disposition", "Content-Disposition"},
                               std::pair{"response-content-encoding", "Content-Encoding"},
                               std::pair{"response-content-language", "Content-Language"},
                               std::pair{"response-cache-control", "Cache-Control"},
                               std::pair{"response-expires", "Expires"}}) {
    if (const std::string* v = q(param)) r.Set(header, *v);
  }
  r.Set("Accept-Ranges", "bytes");
  for (const auto& [k, v] : meta->user) r.Set("x-amz-meta-" + k, v);
  if (meta->etag.find('-') != std::string::npos) {
    r.Set("x-amz-mp-parts-count", meta->etag.substr(meta->etag.find('-') + 1));
  }
  uint64_t size = file->size();
  uint64_t offset = 0, length = size;
  if (const std::string* range = request.Header("range")) {
    auto rg = ParseRange(*range, size);
    if (rg) {
      if (rg->first < 0) {
        ApiError e = MakeError(416, "InvalidRange", "The requested range is not satisfiable");
        e.resource = s3.key;
        return e;
      }
      offset = static_cast<uint64_t>(rg->first);
      length = static_cast<uint64_t>(rg->second - rg->first + 1);
      r.status = 206;
      r.Set("Content-Range", "bytes " + std::to_string(offset) + "-" +
                                 std::to_string(offset + length - 1) + "/" + std::to_string(size));
    }
  }
  if (head) {
    r.head_length = length;
  } else if (local_lake_ == nullptr && length <= kReadOnWorkerBytes) {
    // The body of a lake elsewhere (S3) is read here, on the worker: a streamed body is read on
    // the connection's I/O thread, where a network round trip per chunk would stall every other
    // connection. Larger ranges still stream (bounded memory), 4 MiB per read.
    r.body.resize(static_cast<size_t>(length));
    Status read = file->ReadAt(offset, std::span<uint8_t>(reinterpret_cast<uint8_t*>(r.body.data()), r.body.size()));
    if (!read.ok()) return Internal(read);
  } else {
    r.file = FileRange{std::move(file), offset, length};
  }
  return r;
}

Outcome S3Service::PutObject(const S3Request& s3, HttpRequest& request) {
  if (auto err = CheckWritable(s3.key)) return *err;
  if (auto err = VerifyBodyChecksums(request, request.body)) return *err;
  HttpResponse r;
  if (s3.key.back() == '/') {
    // A folder marker: the lake has folders, so it becomes one (no content allowed).
    if (!request.body.empty()) {
      return MakeError(400, "InvalidArgument", "a key ending in '/' names a folder and takes no content");
    }
    // A bucket has no folders: over a lake that is not local the marker is accepted and
    // nothing is stored (a folder appears with its first object, as in S3's listings).
    Status s = local_lake_ != nullptr ? local_lake_->MakeDir(s3.key) : Status::OK();
    if (!s.ok()) return MakeError(409, "InvalidRequest", s.message());
    r.Set("ETag", Quoted(kEmptyMd5));
    return r;
  }
  Meta meta;
  meta.etag = HexEncode(Md5(request.body));
  meta.content_type = request.HeaderOr("content-type");
  UserMetaFromRequest(request, &meta.user);
  const std::string* inm = request.Header("if-none-match");
  if (inm) {
    if (*inm != "*") return MakeError(501, "NotImplemented", "If-None-Match on PUT takes only '*'");
    Status s = lake_->PutIfAbsent(s3.key, request.body);
    if (s.code() == StatusCode::kAlreadyExists) {
      return MakeError(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
    }
    if (!s.ok()) return Internal(s);
    auto info = lake_->Stat(s3.key);
    if (!info.ok()) return Internal(info.status());
    meta.size = info->size;
    meta.mtime_ns = info->mtime_ns;
    if (Status w = WriteMeta(s3.key, meta); !w.ok()) return Internal(w);
  } else {
    auto stored = StoreObject(s3.key, request.body, meta);
    if (!stored.ok()) {
      if (stored.status().code() == StatusCode::kIOError) {
        return MakeError(409, "InvalidRequest", stored.status().message());  // e.g. a folder is in the way
      }
      return Internal(stored.status());
    }
  }
  if (Status s = RecordRawObject(s3.key, HexEncode(Sha256(request.body))); !s.ok()) return Internal(s);
  r.Set("ETag", Quoted(meta.etag));
  for (const auto& [name, value] : request.headers) {
    if (name.rfind("x-amz-checksum-", 0) == 0 && name != "x-amz-checksum-algorithm") r.Set(name, value);
  }
  return r;
}

std::variant<std::string, ApiError> S3Service::CopySource(const HttpRequest& request,
                                                          const Principal& principal, Gate& gate) {
  std::string src = request.HeaderOr("x-amz-copy-source");
  size_t q = src.find('?');
  if (q != std::string::npos) {
    std::string_view rest = std::string_view(src).substr(q + 1);
    if (rest != "versionId=null" && !rest.empty()) {
      return MakeError(400, "InvalidArgument", "versions are not supported");
    }
    src.resize(q);
  }
  auto decoded = PercentDecode(src);
  if (!decoded) return MakeError(400, "InvalidArgument", "Invalid copy source encoding");
  std::string_view s = *decoded;
  if (!s.empty() && s.front() == '/') s.remove_prefix(1);
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return MakeError(400, "InvalidArgument", "Invalid copy source");
  std::string bucket(s.substr(0, slash));
  std::string key(s.substr(slash + 1));
  if (bucket != bucket_) return MakeError(404, "NoSuchBucket", "The specified bucket does not exist");
  if (auto err = ValidateS3Key(key)) return *err;
  if (Hidden(key)) return MakeError(403, "AccessDenied", "_system/ is not accessible through S3");
  if (auto denied = gate.Authorize(principal, "s3:GetObject", "arn:aws:s3:::" + bucket_ + "/" + key,
                                   request, {})) {
    return *denied;
  }
  return key;
}

Outcome S3Service::CopyObject(const S3Request& s3, HttpRequest& request, const Principal& principal,
                              Gate& gate) {
  if (auto err = CheckWritable(s3.key)) return *err;
  auto src = CopySource(request, principal, gate);
  if (auto* e = std::get_if<ApiError>(&src)) return *e;
  const std::string& src_key = std::get<std::string>(src);
  auto info = lake_->Stat(src_key);
  if (!info.ok()) return NoSuchKey(src_key);
  auto src_meta = MetaOf(*info);
  if (!src_meta.ok()) return Internal(src_meta.status());
  bool replace = request.HeaderOr("x-amz-metadata-directive") == "REPLACE";
  if (src_key == s3.key && !replace) {
    return MakeError(400, "InvalidRequest",
                     "This copy request is illegal because it is trying to copy an object to itself "
                     "without changing the object's metadata.");
  }
  auto data = lake_->Get(src_key);
  if (!data.ok()) return NoSuchKey(src_key);
  Meta meta;
  meta.etag = HexEncode(Md5(*data));
  if (replace) {
    meta.content_type = request.HeaderOr("content-type");
    UserMetaFromRequest(request, &meta.user);
  } else {
    meta.content_type = src_meta->content_type;
    meta.user = src_meta->user;
  }
  auto stored = StoreObject(s3.key, *data, meta);
  if (!stored.ok()) return Internal(stored.status());
  if (Status s = RecordRawObject(s3.key, HexEncode(Sha256(*data))); !s.ok()) return Internal(s);
  return Xml(std::string("<CopyObjectResult xmlns=\"") + kXmlns + "\"><LastModified>" +
             IsoDate(stored->mtime_ns) + "</LastModified><ETag>&quot;" + stored->etag +
             "&quot;</ETag></CopyObjectResult>");
}

Outcome S3Service::DeleteObject(const S3Request& s3) {
  if (auto err = CheckWritable(s3.key)) return *err;
  HttpResponse r;
  r.status = 204;
  if (s3.key.back() == '/') {
    if (local_lake_ != nullptr) rmdir(local_lake_->PathOf(s3.key.substr(0, s3.key.size() - 1)).c_str());  // only when empty
    return r;
  }
  Status s = lake_->Delete(s3.key);
  if (!s.ok() && s.code() != StatusCode::kNotFound) {
    auto info = lake_->Stat(s3.key);
    if (info.ok()) return Internal(s);  // S3 deletes of absent keys (or folders) succeed
  }
  (void)lake_->Delete(std::string(kMetaPrefix) + s3.key + ".json");
  std::lock_guard<std::mutex> lock(cache_mu_);
  etag_cache_.erase(s3.key);
  return r;
}

Outcome S3Service::DeleteObjects(const S3Request& s3, HttpRequest& request, const Principal& principal,
                                 Gate& gate) {
  if (auto err = VerifyBodyChecksums(request, request.body)) return *err;
  auto parsed = ParseDeleteObjects(request.body);
  if (!parsed.ok()) {
    return MakeError(400, "MalformedXML",
                     "The XML you provided was not well-formed or did not validate against our "
                     "published schema: " + parsed.status().message());
  }
  std::string x = std::string("<DeleteResult xmlns=\"") + kXmlns + "\">";
  for (const std::string& key : parsed->keys) {
    std::optional<ApiError> err = ValidateS3Key(key);
    if (!err && Hidden(key)) err = MakeError(403, "AccessDenied", "_system/ is not accessible through S3");
    if (!err) {
      err = gate.Authorize(principal, "s3:DeleteObject", "arn:aws:s3:::" + bucket_ + "/" + key, request, {});
    }
    if (!err) {
      S3Request one{"DeleteObject", s3.bucket, key, {}};
      Outcome o = DeleteObject(one);
      if (auto* e = std::get_if<ApiError>(&o)) err = *e;
    }
    if (err) {
      x += "<Error><Key>" + XmlEscape(key) + "</Key><Code>" + err->code + "</Code><Message>" +
           XmlEscape(err->message) + "</Message></Error>";
    } else {
      gate.AuditWrite(principal, "s3:DeleteObject", "arn:aws:s3:::" + bucket_ + "/" + key, request);
      if (!parsed->quiet) x += "<Deleted><Key>" + XmlEscape(key) + "</Key></Deleted>";
    }
  }
  return Xml(x + "</DeleteResult>");
}

Outcome S3Service::CreateMultipart(const S3Request& s3, const HttpRequest& request) {
  if (auto err = CheckWritable(s3.key)) return *err;
  if (s3.key.back() == '/') return MakeError(400, "InvalidArgument", "a folder key takes no content");
  std::string id = RandomHex(16);
  nlohmann::json j;
  j["key"] = s3.key;
  j["content_type"] = request.HeaderOr("content-type");
  nlohmann::json user = nlohmann::json::object();
  std::vector<std::pair<std::string, std::string>> meta;
  UserMetaFromRequest(request, &meta);
  for (const auto& [k, v] : meta) user[k] = v;
  j["meta"] = user;
  j["initiated_ns"] = static_cast<int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count());
  Status s = lake_->Put(UploadDir(id) + "upload.json",
                        j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (!s.ok()) return Internal(s);
  return Xml(std::string("<InitiateMultipartUploadResult xmlns=\"") + kXmlns + "\"><Bucket>" +
             XmlEscape(bucket_) + "</Bucket><Key>" + XmlEscape(s3.key) + "</Key><UploadId>" + id +
             "</UploadId></InitiateMultipartUploadResult>");
}

namespace {
// The upload's record, or NoSuchUpload (also for an id that names another key).
std::variant<nlohmann::json, ApiError> LoadUpload(io::ObjectStore* lake, const std::string& dir,
                                                  const std::string& key) {
  auto text = lake->Get(dir + "upload.json");
  if (!text.ok()) return NoSuchUpload();
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("key", "") != key) return NoSuchUpload();
  return j;
}
}  // namespace

Outcome S3Service::UploadPart(const S3Request& s3, HttpRequest& request, const Principal& principal,
                              Gate& gate, bool copy) {
  auto id_it = s3.query.find("uploadId");
  auto pn_it = s3.query.find("partNumber");
  if (id_it == s3.query.end() || pn_it == s3.query.end()) {
    return MakeError(400, "InvalidRequest", "UploadPart needs uploadId and partNumber");
  }
  const std::string& id = id_it->second;
  if (!ValidUploadId(id)) return NoSuchUpload();
  const std::string& pn = pn_it->second;
  if (pn.empty() || pn.size() > 5 || !std::all_of(pn.begin(), pn.end(), ::isdigit) ||
      std::stoi(pn) < 1 || std::stoi(pn) > 10000) {
    return MakeError(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
  }
  int part = std::stoi(pn);
  std::string dir = UploadDir(id);
  auto up = LoadUpload(lake_, dir, s3.key);
  if (auto* e = std::get_if<ApiError>(&up)) return *e;

  std::string copied;
  std::string_view data = request.body;
  if (copy) {
    auto src = CopySource(request, principal, gate);
    if (auto* e = std::get_if<ApiError>(&src)) return *e;
    const std::string& src_key = std::get<std::string>(src);
    auto info = lake_->Stat(src_key);
    if (!info.ok()) return NoSuchKey(src_key);
    uint64_t off = 0, len = info->size;
    if (const std::string* range = request.Header("x-amz-copy-source-range")) {
      auto rg = ParseRange(*range, info->size);
      if (!rg || rg->first < 0) return MakeError(416, "InvalidRange", "The requested range is not satisfiable");
      off = static_cast<uint64_t>(rg->first);
      len = static_cast<uint64_t>(rg->second - rg->first + 1);
    }
    auto got = lake_->GetRange(src_key, off, len);
    if (!got.ok()) return Internal(got.status());
    copied = std::move(*got);
    data = copied;
  } else if (auto err = VerifyBodyChecksums(request, request.body)) {
    return *err;
  }
  std::string etag = HexEncode(Md5(data));
  {
    std::shared_lock<std::shared_mutex> lock(UploadMutex(id));
    // Re-check under the lock: a concurrent Complete/Abort may have removed the upload.
    if (!lake_->Exists(dir + "upload.json").ValueOr(false)) return NoSuchUpload();
    // The record goes last: it names only bytes that are already durable.
    Status s;
    if (std::optional<uint64_t> at = ClaimStripe(id, part, data.size())) {
      s = state_->WriteAt(dir + kStripe, *at, data);
      if (s.ok()) s = lake_->Put(dir + PartName(part) + ".md5", etag + " " + std::to_string(data.size()));
      ReleaseStripe(id, part);
    } else {
      s = lake_->Put(dir + PartName(part), data);
      if (s.ok()) s = lake_->Put(dir + PartName(part) + ".md5", etag);
    }
    if (!s.ok()) return Internal(s);
  }
  if (copy) {
    return Xml(std::string("<CopyPartResult xmlns=\"") + kXmlns + "\"><LastModified>" +
               IsoDate(std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count()) +
               "</LastModified><ETag>&quot;" + etag + "&quot;</ETag></CopyPartResult>");
  }
  HttpResponse r;
  r.Set("ETag", Quoted(etag));
  return r;
}

Outcome S3Service::CompleteMultipart(const S3Request& s3, HttpRequest& request) {
  const std::string& id = s3.query.at("uploadId");
  if (!ValidUploadId(id)) return NoSuchUpload();
  auto parts = ParseCompleteMultipart(request.body);
  if (!parts.ok()) {
    return MakeError(400, "MalformedXML",
                     "The XML you provided was not well-formed or did not validate against our "
                     "published schema: " + parts.status().message());
  }
  std::string dir = UploadDir(id);
  std::unique_lock<std::shared_mutex> lock(UploadMutex(id));
  auto up = LoadUpload(lake_, dir, s3.key);
  if (auto* e = std::get_if<ApiError>(&up)) return *e;
  const nlohmann::json& upload = std::get<nlohmann::json>(up);
  if (auto err = CheckWritable(s3.key)) return *err;

  // Validate every part before writing anything.
  struct Piece {
    std::shared_ptr<io::RandomAccessFile> file;
    uint64_t offset, size;
  };
  std::vector<Piece> pieces;
  std::shared_ptr<io::RandomAccessFile> stripe;
  uint64_t width = 0;
  if (auto w = lake_->Get(dir + kStripeWidth); w.ok()) width = std::strtoull(w->c_str(), nullptr, 10);
  // In place when every part lies in the stripe where the object needs it: parts 1..N, all but
  // the last exactly one stripe wide.
  bool in_place = true;
  std::string md5s;
  int prev = 0;
  auto invalid_part = [] {
    return MakeError(400, "InvalidPart", "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.");
  };
  for (size_t i = 0; i < parts->size(); ++i) {
    auto [n, etag] = (*parts)[i];
    if (n <= prev) {
      return MakeError(400, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number.");
    }
    prev = n;
    auto record = lake_->Get(dir + PartName(n) + ".md5");
    if (!record.ok()) return invalid_part();
    size_t space = record->find(' ');
    if (record->substr(0, space) != etag) return invalid_part();
    Piece piece{nullptr, 0, 0};
    if (space == std::string::npos) {
      auto file = lake_->OpenRead(dir + PartName(n));
      if (!file.ok()) return invalid_part();
      piece = {std::move(*file), 0, 0};
      piece.size = piece.file->size();
      in_place = false;
    } else {
      if (!stripe) {
        auto file = lake_->OpenRead(dir + kStripe);
        if (!file.ok() || width == 0) return invalid_part();
        stripe = std::move(*file);
      }
      piece = {stripe, static_cast<uint64_t>(n - 1) * width, std::strtoull(record->c_str() + space + 1, nullptr, 10)};
      if (piece.offset + piece.size > stripe->size()) return invalid_part();
      in_place = in_place && n == static_cast<int>(i) + 1 && (i + 1 == parts->size() || piece.size == width);
    }
    if (i + 1 < parts->size() && piece.size < kMinPartSize) {
      return MakeError(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.");
    }
    std::string raw;
    if (!HexDecode(etag, &raw)) return invalid_part();  // the record's ETag is ours: hex MD5
    md5s += raw;
    pieces.push_back(std::move(piece));
  }
  // A completed upload under raw_data/ is recorded by its content hash, as `saleslake upload` does.
  const bool raw = s3.key.rfind("raw_data/", 0) == 0;
  Digest sha(Digest::kSha256);
  auto hash_piece = [&](const Piece& p) -> Status {
    if (const uint8_t* data = p.file->mapped_data()) {
      sha.Update(std::string_view(reinterpret_cast<const char*>(data) + p.offset, p.size));
      return Status::OK();
    }
    std::string buf(static_cast<size_t>(std::min<uint64_t>(p.size, 4 << 20)), '\0');
    for (uint64_t off = 0; off < p.size;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), p.size - off));
      SL_RETURN_IF_ERROR(p.file->ReadAt(p.offset + off, std::span<uint8_t>(reinterpret_cast<uint8_t*>(buf.data()), n)));
      sha.Update(std::string_view(buf.data(), n));
      off += n;
    }
    return Status::OK();
  };
  // In place only within one local directory: into another store (S3) the object is written.
  if (in_place && !pieces.empty() && local_lake_ != nullptr) {
    // The stripe already holds the object: cut it to length and rename it into place.
    if (raw) {
      for (const Piece& p : pieces) {
        if (Status s = hash_piece(p); !s.ok()) return Internal(s);
      }
    }
    uint64_t total = pieces.back().offset + pieces.back().size;
    pieces.clear();
    stripe.reset();
    if (Status s = local_lake_->Promote(dir + kStripe, s3.key, total); !s.ok()) return Internal(s);
  } else {
    // Assemble into the object's own atomic write: nothing is visible until Commit.
    auto out = lake_->OpenWrite(s3.key);
    if (!out.ok()) return Internal(out.status());
    std::string buf;
    for (const Piece& p : pieces) {
      if (raw) {
        if (Status s = hash_piece(p); !s.ok()) return Internal(s);
      }
      if (const uint8_t* data = p.file->mapped_data()) {
        if (Status s = (*out)->Append(std::string_view(reinterpret_cast<const char*>(data) + p.offset, p.size)); !s.ok()) {
          return Internal(s);
        }
        p.file->DoneWith(p.offset, p.size);
        continue;
      }
      buf.resize(4 << 20);
      for (uint64_t off = 0; off < p.size;) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), p.size - off));
        Status s = p.file->ReadAt(p.offset + off, std::span<uint8_t>(reinterpret_cast<uint8_t*>(buf.data()), n));
        if (s.ok()) s = (*out)->Append(std::string_view(buf.data(), n));
        if (!s.ok()) return Internal(s);
        off += n;
      }
    }
    if (Status s = (*out)->Commit(); !s.ok()) return Internal(s);
  }
  Meta meta;
  meta.etag = HexEncode(Md5(md5s)) + "-" + std::to_string(parts->size());
  meta.content_type = upload.value("content_type", "");
  if (upload.contains("meta") && upload["meta"].is_object()) {
    for (auto& [k, v] : upload["meta"].items()) {
      if (v.is_string()) meta.user.emplace_back(k, v.get<std::string>());
    }
  }
  auto info = lake_->Stat(s3.key);
  if (!info.ok()) return Internal(info.status());
  meta.size = info->size;
  meta.mtime_ns = info->mtime_ns;
  if (Status s = WriteMeta(s3.key, meta); !s.ok()) return Internal(s);
  if (raw) {
    if (Status s = RecordRawObject(s3.key, HexEncode(sha.Finish())); !s.ok()) return Internal(s);
  }
  // The parts go last: a crash before this leaves an upload that can still be aborted.
  auto leftovers = lake_->List(dir);
  if (leftovers.ok()) {
    for (const auto& o : *leftovers) {
      if (o.key != dir + "upload.json") (void)lake_->Delete(o.key);
    }
  }
  (void)lake_->Delete(dir + "upload.json");
  rmdir(state_->PathOf(dir.substr(0, dir.size() - 1)).c_str());
  return Xml(std::string("<CompleteMultipartUploadResult xmlns=\"") + kXmlns + "\"><Location>/" +
             XmlEscape(bucket_) + "/" + XmlEscape(PercentEncode(s3.key, true)) + "</Location><Bucket>" +
             XmlEscape(bucket_) + "</Bucket><Key>" + XmlEscape(s3.key) + "</Key><ETag>&quot;" +
             meta.etag + "&quot;</ETag></CompleteMultipartUploadResult>");
}

Outcome S3Service::AbortMultipart(const S3Request& s3) {
  const std::string& id = s3.query.at("uploadId");
  if (!ValidUploadId(id)) return NoSuchUpload();
  std::string dir = UploadDir(id);
  std::unique_lock<std::shared_mutex> lock(UploadMutex(id));
  auto up = LoadUpload(lake_, dir, s3.key);
  if (auto* e = std::get_if<ApiError>(&up)) return *e;
  // upload.json first: from then on the upload is gone for every other request.
  (void)lake_->Delete(dir + "upload.json");
  auto leftovers = lake_->List(dir);
  if (leftovers.ok()) {
    for (const auto& o : *leftovers) (void)lake_->Delete(o.key);
  }
  rmdir(state_->PathOf(dir.substr(0, dir.size() - 1)).c_str());
  HttpResponse r;
  r.status = 204;
  return r;
}

Outcome S3Service::ListParts(const S3Request& s3) {
  const std::string& id = s3.query.at("uploadId");
  if (!ValidUploadId(id)) return NoSuchUpload();
  std::string dir = UploadDir(id);
  auto up = LoadUpload(lake_, dir, s3.key);
  if (auto* e = std::get_if<ApiError>(&up)) return *e;
  int marker = 0;
  if (auto it = s3.query.find("part-number-marker"); it != s3.query.end() && !it->second.empty()) {
    if (it->second.size() > 5 || !std::all_of(it->second.begin(), it->second.end(), ::isdigit)) {
      return MakeError(400, "InvalidArgument", "bad part-number-marker");
    }
    marker = std::stoi(it->second);
  }
  int max_parts = 1000;
  if (auto it = s3.query.find("max-parts"); it != s3.query.end()) {
    if (it->second.empty() || it->second.size() > 5 || !std::all_of(it->second.begin(), it->second.end(), ::isdigit)) {
      return MakeError(400, "InvalidArgument", "bad max-parts");
    }
    max_parts = std::min(1000, std::stoi(it->second));
  }
  auto listed = lake_->List(dir + "part-");
  if (!listed.ok()) return Internal(listed.status());
  std::string parts;
  int count = 0, last = 0;
  bool truncated = false;
  for (const auto& o : *listed) {
    // Records only ("part-NNNNN.md5"): a part without one is still being written.
    if (o.key.size() != dir.size() + 14 || o.key.compare(dir.size() + 10, 4, ".md5") != 0) continue;
    int n = std::stoi(o.key.substr(dir.size() + 5, 5));
    if (n <= marker) continue;
    if (count >= max_parts) {
      truncated = true;
      break;
    }
    auto record = lake_->Get(o.key);
    if (!record.ok()) continue;
    size_t space = record->find(' ');
    uint64_t size = 0;
    if (space != std::string::npos) {
      size = std::strtoull(record->c_str() + space + 1, nullptr, 10);
    } else if (auto info = lake_->Stat(o.key.substr(0, o.key.size() - 4)); info.ok()) {
      size = info->size;
    } else {
      continue;
    }
    parts += "<Part><PartNumber>" + std::to_string(n) + "</PartNumber><LastModified>" +
             IsoDate(o.mtime_ns) + "</LastModified><ETag>&quot;" + record->substr(0, space) +
             "&quot;</ETag><Size>" + std::to_string(size) + "</Size></Part>";
    last = n;
    ++count;
  }
  return Xml(std::string("<ListPartsResult xmlns=\"") + kXmlns + "\"><Bucket>" + XmlEscape(bucket_) +
             "</Bucket><Key>" + XmlEscape(s3.key) + "</Key><UploadId>" + id +
             "</UploadId><PartNumberMarker>" + std::to_string(marker) +
             "</PartNumberMarker><NextPartNumberMarker>" + std::to_string(last) +
             "</NextPartNumberMarker><MaxParts>" + std::to_string(max_parts) +
             "</MaxParts><IsTruncated>" + (truncated ? "true" : "false") + "</IsTruncated>" +
             OwnerXml() + "<StorageClass>STANDARD</StorageClass>" + parts + "</ListPartsResult>");
}

Outcome S3Service::ListUploads(const S3Request& s3) {
  auto q = [&](const char* name) {
    auto it = s3.query.find(name);
    return it == s3.query.end() ? std::string() : it->second;
  };
  std::string prefix = q("prefix");
  auto listed = lake_->List(std::string(kUploadsPrefix));
  std::vector<std::pair<std::string, std::string>> uploads;  // (key, id)
  std::map<std::string, int64_t> initiated;
  if (listed.ok()) {
    for (const auto& o : *listed) {
      if (o.key.size() < 12 || o.key.compare(o.key.size() - 12, 12, "/upload.json") != 0) continue;
      auto text = lake_->Get(o.key);
      if (!text.ok()) continue;
      auto j = nlohmann::json::parse(*text, nullptr, false);
      if (j.is_discarded() || !j.is_object()) continue;
      std::string key = j.value("key", "");
      if (key.compare(0, prefix.size(), prefix) != 0) continue;
      std::string id = o.key.substr(kUploadsPrefix.size(), 32);
      uploads.emplace_back(key, id);
      initiated[id] = j.value("initiated_ns", int64_t{0});
    }
  }
  std::sort(uploads.begin(), uploads.end());
  // Paging as S3 does it: after (key-marker, upload-id-marker), or after every upload of
  // key-marker when no upload-id-marker is given.
  std::string key_marker = q("key-marker"), id_marker = q("upload-id-marker");
  int max_uploads = 1000;
  if (auto it = s3.query.find("max-uploads"); it != s3.query.end()) {
    const std::string& v = it->second;
    if (v.empty() || v.size() > 5 || !std::all_of(v.begin(), v.end(), ::isdigit)) {
      return MakeError(400, "InvalidArgument", "max-uploads must be an integer between 0 and 2147483647");
    }
    max_uploads = std::min(1000, std::stoi(v));
  }
  std::string body, next_key, next_id;
  bool truncated = false;
  int count = 0;
  for (const auto& [key, id] : uploads) {
    if (!key_marker.empty() && (key < key_marker || (key == key_marker && (id_marker.empty() || id <= id_marker)))) {
      continue;
    }
    if (count == max_uploads) {
      truncated = true;
      break;
    }
    body += "<Upload><Key>" + XmlEscape(key) + "</Key><UploadId>" + id + "</UploadId>" + OwnerXml() +
            "<StorageClass>STANDARD</StorageClass><Initiated>" + IsoDate(initiated[id]) +
            "</Initiated></Upload>";
    next_key = key;
    next_id = id;
    ++count;
  }
  std::string x = std::string("<ListMultipartUploadsResult xmlns=\"") + kXmlns + "\"><Bucket>" +
                  XmlEscape(bucket_) + "</Bucket><KeyMarker>" + XmlEscape(key_marker) +
                  "</KeyMarker><UploadIdMarker>" + XmlEscape(id_marker) + "</UploadIdMarker>";
  if (truncated) {
    x += "<NextKeyMarker>" + XmlEscape(next_key) + "</NextKeyMarker><NextUploadIdMarker>" + next_id +
         "</NextUploadIdMarker>";
  }
  x += "<Prefix>" + XmlEscape(prefix) + "</Prefix><MaxUploads>" + std::to_string(max_uploads) +
       "</MaxUploads><IsTruncated>" + (truncated ? "true" : "false") + "</IsTruncated>" + body;
  return Xml(x + "</ListMultipartUploadsResult>");
}

Outcome S3Service::BucketPolicy(const S3Request& s3, HttpRequest& request, Gate& gate) {
  if (s3.operation == "GetBucketPolicy") {
    auto text = lake_->Get(std::string(kPolicyKey));
    if (!text.ok()) return MakeError(404, "NoSuchBucketPolicy", "The bucket policy does not exist");
    HttpResponse r;
    r.body = std::move(*text);
    r.Set("Content-Type", "application/json");
    return r;
  }
  if (s3.operation == "DeleteBucketPolicy") {
    (void)lake_->Delete(std::string(kPolicyKey));
    gate.BucketPolicyChanged();
    HttpResponse r;
    r.status = 204;
    return r;
  }
  auto j = nlohmann::json::parse(request.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return MakeError(400, "MalformedPolicy", "Policies must be valid JSON");
  }
  if (auto err = gate.ValidateBucketPolicy(request.body)) return *err;
  Status put = lake_->Put(std::string(kPolicyKey), request.body);
  gate.BucketPolicyChanged();
  if (!put.ok()) return Internal(put);
  HttpResponse r;
  r.status = 204;
  return r;
}

}  // namespace saleslake::server::internal
